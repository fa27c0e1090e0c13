"""One error family: the user's mistakes are one line and exit 2; anything else is a bug and shows as one."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import SCENARIOS

import sim
import sim.cli.check
from sim import errors
from sim.cli import main

USER_ERRORS = [
    errors.OptionError,
    errors.ScenarioError,
    errors.DistributionError,
    errors.DataFileError,
    errors.EngineNotApplicable,
    errors.NothingUncertain,
    errors.PairError,
    errors.ResultsFolderError,
    errors.OutputExistsError,
]


@pytest.mark.parametrize("cls", USER_ERRORS, ids=lambda c: c.__name__)
def test_every_user_error_is_in_the_family(cls):
    assert issubclass(cls, errors.UserError) and issubclass(cls, errors.TrappesimError)


def test_a_bug_is_in_the_family_but_not_the_users():
    assert issubclass(errors.InvariantError, errors.TrappesimError)
    assert not issubclass(errors.InvariantError, errors.UserError)


def test_errors_are_offered_by_import_sim():
    assert sim.TrappesimError is errors.TrappesimError and sim.UserError is errors.UserError
    assert sim.ScenarioError is errors.ScenarioError


def test_the_library_raises_user_errors_for_wrong_options():
    base = sim.load_scenario(SCENARIOS / "municipality-template.toml")
    with pytest.raises(errors.OptionError, match="engine must be"):
        sim.simulate(base, engine="nonsense")
    with pytest.raises(errors.OptionError, match="replications must be a whole number of at least 1, not 0"):
        sim.simulate(base, replications=0)
    national = sim.load_scenario(SCENARIOS / "denmark-baseline.toml")
    with pytest.raises(errors.PairError, match="must have the same"):
        sim.compare(base, national, engine="expected")


@pytest.mark.parametrize(
    "bug",
    [ValueError("a programming slip"), KeyError("steps"), ZeroDivisionError("division by zero")],
    ids=lambda e: type(e).__name__,
)
def test_a_bug_is_not_reported_as_the_users_mistake(bug, monkeypatch, capsys):
    """A ValueError from inside the library used to read as 'error: ...' with exit 2; now it is a bug."""

    def broken(args):
        raise bug

    monkeypatch.setattr(sim.cli.check, "_check", broken)
    with pytest.raises(type(bug)):
        main(["check", str(SCENARIOS / "municipality-template.toml")])


def _check_raising(error: str, path) -> subprocess.CompletedProcess:
    """``trappesim check path`` in a process of its own, its command raising ``error`` (Python source)."""
    script = (
        "import sys, sim.cli.check as c\n"
        "from concurrent.futures.process import BrokenProcessPool\n"
        f"def broken(args): raise {error}\n"
        "c._check = broken\n"
        "from sim.__main__ import main\n"
        f"sys.argv = ['trappesim', 'check', {str(path)!r}]\n"
        "raise SystemExit(main())\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)


def test_a_bug_exits_1_with_a_traceback_and_a_mistake_exits_2_with_one_line(tmp_path):
    typo = tmp_path / "typo.toml"
    typo.write_text('extends = "{}"\nhorizon_yaers = 5\n'.format(SCENARIOS / "municipality-template.toml"))
    proc = subprocess.run([sys.executable, "-m", "sim", "check", str(typo)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "horizon_yaers" in proc.stderr and "Traceback" not in proc.stderr
    proc = _check_raising("ValueError('a programming slip')", typo)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "a programming slip" in proc.stderr
    assert "a bug in Trappesim" in proc.stderr


def test_errors_survive_pickling():
    """An error raised in a worker process (the what-if page's, a run's) comes back whole."""
    import pickle

    from sim.analysis.calibrate import CalibrationError
    from sim.errors import DataFileError, InvariantError, ScenarioError

    for err in (
        ScenarioError("a.toml", "steps.foster", "must be positive"),
        DataFileError("d.csv", "year", "not a year"),
        CalibrationError("c.toml", "observed", "too few"),
        InvariantError(["children in != out + present", "another"]),
    ):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err) and vars(back) == vars(err)


def test_a_worker_stopped_from_outside_is_said_as_such_not_as_a_bug(tmp_path):
    """A worker killed from outside (or by the out-of-memory killer) gave a traceback and "a bug"."""
    plan = tmp_path / "plan.toml"
    plan.write_text('extends = "{}"\nname = "p"\n'.format(SCENARIOS / "municipality-template.toml"))
    proc = _check_raising("BrokenProcessPool('a child process terminated abruptly')", plan)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and "a bug" not in proc.stderr
    assert (
        "a worker process stopped before it finished" in proc.stderr and "nothing was written" in proc.stderr
    )
