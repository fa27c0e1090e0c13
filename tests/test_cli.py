"""The ``trappesim`` command end to end: results folders, reproducibility, and clear errors."""

from __future__ import annotations

import importlib
import json
import re
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import INTERVENTION, PNG_MAGIC, REPO, SCENARIOS, toy_dict

from sim import load_scenario
from sim.cli import main

FAST = ["--replications", "2", "--workers", "1"]

PLAN = {
    "extends": "base.toml",
    "name": "plan",
    "title": "Toy with a plan",
    "intervention": INTERVENTION,
}

MANIFEST_KEYS = {
    "trappesim_version",
    "seed",
    "replications",
    "engine",
    "input_hash",
    "wall_time_seconds",
    "scenarios",
}


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """A toy baseline and a strategy that extends it."""
    base, plan = folder / "base.toml", folder / "plan.toml"
    base.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    plan.write_text(tomli_w.dumps(PLAN), encoding="utf-8")
    return base, plan


def cli(*args: object) -> int:
    return main([str(a) for a in args])


def leftovers(folder: Path) -> list[Path]:
    """Hidden half-written folders (``.name.partial-pid`` or ``.name.old-pid``)."""
    return [p for p in folder.rglob(".*") if ".partial-" in p.name or ".old-" in p.name]


def manifest_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return write_inputs(tmp_path)


@pytest.fixture(scope="module")
def module_inputs(tmp_path_factory) -> tuple[Path, Path]:
    return write_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def ran(module_inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "results"
    assert cli("run", module_inputs[0], *FAST, "--seed", 7, "--out", out) == 0
    return out


@pytest.fixture(scope="module")
def compared(module_inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "results"
    base, plan = module_inputs
    assert cli("compare", base, plan, "-r", 3, "-w", 1, "--seed", 7, "--out", out) == 0
    return out


# ---------------------------------------------------------------------------
# Results folders
# ---------------------------------------------------------------------------


def test_run_writes_a_complete_results_folder(ran, module_inputs):
    base = module_inputs[0]
    for name in ("manifest.json", "yearly.csv", "summary.csv", "charts/staircase.png"):
        assert (ran / name).is_file(), name
    assert (ran / "charts" / "staircase.png").read_bytes().startswith(PNG_MAGIC)
    # A single run has no comparison and no comparison charts.
    assert not (ran / "comparison.csv").exists()
    assert not (ran / "charts" / "payback.png").exists()

    m = manifest_of(ran)
    assert MANIFEST_KEYS <= m.keys()
    assert m["seed"] == 7 and m["replications"] == 2 and m["engine"] == "des"
    assert re.fullmatch(r"[0-9a-f]{64}", m["input_hash"])
    assert isinstance(m["wall_time_seconds"], int | float) and m["wall_time_seconds"] >= 0
    assert m["trappesim_version"]
    assert set(m["scenarios"]) == {"scenario"}
    assert m["scenarios"]["scenario"]["resolved"] == load_scenario(base).to_dict()
    assert m["scenarios"]["scenario"]["input_hash"] == load_scenario(base).input_hash()

    yearly = pd.read_csv(ran / "yearly.csv")
    assert set(yearly["arm"]) == {"scenario"}
    assert sorted(yearly["year"].unique()) == list(range(2024, 2034))
    assert len(yearly) == 10 * 3  # years x steps
    summary = pd.read_csv(ran / "summary.csv")
    assert "placed_at_end" in set(summary["metric"])


def test_compare_writes_a_complete_results_folder(compared, module_inputs):
    base, plan = module_inputs
    for name in ("manifest.json", "yearly.csv", "summary.csv", "comparison.csv"):
        assert (compared / name).is_file(), name
    for chart in ("staircase", "placements_avoided", "payback"):
        png = compared / "charts" / f"{chart}.png"
        assert png.read_bytes().startswith(PNG_MAGIC), chart

    m = manifest_of(compared)
    assert MANIFEST_KEYS <= m.keys()
    assert m["seed"] == 7 and m["replications"] == 3 and m["engine"] == "des"
    assert set(m["scenarios"]) == {"baseline", "strategy"}
    assert m["scenarios"]["baseline"]["resolved"] == load_scenario(base).to_dict()
    resolved = m["scenarios"]["strategy"]["resolved"]
    assert resolved == load_scenario(plan).to_dict()
    assert resolved["intervention"]["hazard_ratios"] == {"mid": {"placed": 0.7}}
    assert "extends" not in resolved
    # The baseline the strategy extends is an input too.
    assert {Path(p).resolve() for p in m["input_files_sha256"]} == {base.resolve(), plan.resolve()}

    comparison = pd.read_csv(compared / "comparison.csv").set_index("metric")
    assert comparison.loc["placement_entries_avoided", "mean"] > 0
    yearly = pd.read_csv(compared / "yearly.csv")
    assert set(yearly["arm"]) == {"baseline", "strategy"}


def test_same_seed_gives_identical_tables(compared, module_inputs, tmp_path):
    base, plan = module_inputs
    again = tmp_path / "again"
    assert cli("compare", base, plan, "-r", 3, "-w", 1, "--seed", 7, "--out", again) == 0
    for name in ("yearly.csv", "summary.csv", "comparison.csv", "comparison_yearly.csv"):
        assert (again / name).read_bytes() == (compared / name).read_bytes(), name
    assert manifest_of(again)["input_hash"] == manifest_of(compared)["input_hash"]


def test_different_seed_gives_different_results(ran, module_inputs, tmp_path):
    other = tmp_path / "other"
    assert cli("run", module_inputs[0], *FAST, "--seed", 8, "--out", other) == 0
    # The means are exact here (the analytic engine solves the toy), so the yearly
    # means are the same; the replications, and so the range of outcomes, are not.
    assert (other / "yearly.csv").read_bytes() == (ran / "yearly.csv").read_bytes()
    assert (other / "summary.csv").read_bytes() != (ran / "summary.csv").read_bytes()
    # Same inputs, so the same input hash: only the seed differs.
    assert manifest_of(other)["input_hash"] == manifest_of(ran)["input_hash"]
    assert manifest_of(other)["seed"] == 8


def test_expected_engine_run_and_compare(inputs, tmp_path, capsys):
    base, plan = inputs
    run_out, cmp_out = tmp_path / "run", tmp_path / "cmp"
    # Replications mean nothing to expected values: asked for, they are refused, not silently dropped.
    assert cli("run", base, "--engine", "expected", "-r", 3, "--out", run_out) == 2
    said = capsys.readouterr()
    assert "3 replications with the expected engine" in said.err and not run_out.exists()
    assert said.out == "" and "trappesim: run:" not in said.err  # refused before its status line
    assert cli("run", base, "--engine", "expected", "--out", run_out) == 0
    assert cli("compare", base, plan, "--engine", "expected", "--out", cmp_out) == 0
    printed = capsys.readouterr().out
    assert "plan vs toy: expected values" in printed
    assert "Net present value" in printed and f"Results written to {cmp_out}" in printed
    # Whose money, as psa, tornado and breakeven say it (compare said nothing).
    assert "Counted from a municipal perspective (--perspective kommune)." in printed
    for out in (run_out, cmp_out):
        m = manifest_of(out)
        assert m["engine"] == "expected" and m["replications"] == 1
        assert (out / "charts" / "staircase.png").is_file()
    assert (cmp_out / "charts" / "payback.png").is_file()
    # Expected values have no interval, and a "share of replications" means nothing: no such row.
    table = pd.read_csv(cmp_out / "comparison.csv").set_index("metric")
    row = table.loc["placement_entries_avoided"]
    assert row["mean"] > 0 and row["median"] == pytest.approx(row["mean"])
    assert np.isnan(row["p5"]) and np.isnan(row["p95"])
    assert "share_paying_back" not in table.index and "share_npv_positive" not in table.index


def test_expected_engine_refuses_weibull_stays(write_scenario, tmp_path, capsys):
    d = toy_dict()
    d["steps"]["mid"]["duration"] = {"dist": "weibull", "mean_years": 2.0, "shape": 1.5}
    path = write_scenario(d, "weibull.toml")
    out = tmp_path / "results"
    assert cli("run", path, "--engine", "expected", "--out", out) == 2
    err = capsys.readouterr().err
    assert "mid" in err and "des" in err and "Traceback" not in err
    assert not out.exists() and not leftovers(tmp_path)


def test_default_results_folder_is_named_after_the_scenarios(inputs, tmp_path, monkeypatch):
    base, plan = inputs
    monkeypatch.chdir(tmp_path)
    assert cli("compare", base, plan, "--engine", "expected") == 0
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("plan-vs-toy-")
    assert (folder / "manifest.json").is_file()


@pytest.mark.parametrize("force", [False, True])
def test_two_runs_in_the_same_second_get_two_folders(inputs, tmp_path, monkeypatch, capsys, force):
    """The second of two runs started in the same second computed everything, then stopped: "the
    results folder exists" (a name the user never chose). Nor may --force replace the other run's."""
    import sim.cli.common

    base, plan = inputs
    monkeypatch.chdir(tmp_path)
    same = Path("results") / "plan-vs-toy-20261129-063247"
    monkeypatch.setattr(sim.cli.common, "default_out", lambda name: same)
    assert cli("compare", base, plan, "--engine", "expected") == 0
    first = (same / "manifest.json").read_bytes()
    capsys.readouterr()
    assert cli("compare", base, plan, "--engine", "expected", *(["--force"] if force else [])) == 0
    assert (same / "manifest.json").read_bytes() == first  # the first run's folder, untouched
    second = same.with_name(same.name + "-2")
    assert (second / "manifest.json").is_file()
    assert f"{second}/" in capsys.readouterr().out  # said where it went


# ---------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["base", "plan"])
def test_check_prints_toml_that_loads_back(inputs, tmp_path, capsys, which):
    path = dict(zip(("base", "plan"), inputs))[which]
    assert cli("check", path) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.err and path.name in captured.err
    assert "extends" not in captured.out  # the dump is resolved and stands on its own
    again = tmp_path / "sub" / "resolved.toml"
    again.parent.mkdir()
    again.write_text(captured.out, encoding="utf-8")
    original = load_scenario(path)
    reloaded = load_scenario(again)
    assert reloaded.input_hash() == original.input_hash()
    assert reloaded.to_dict() == original.to_dict()


def test_check_json_prints_json(inputs, capsys):
    plan = inputs[1]
    assert cli("check", plan, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data == load_scenario(plan).to_dict()
    assert data["name"] == "plan" and data["intervention"]["cost_per_year"] == 1e6


# ---------------------------------------------------------------------------
# Bad input: exit code 2, file and key named, no traceback, nothing written
# ---------------------------------------------------------------------------


def _typo(d: dict) -> dict:
    d["steps"]["placed"]["cost_per_yaer"] = d["steps"]["placed"].pop("cost_per_year")
    return d


def _negative_rate(d: dict) -> dict:
    d["transitions"]["low"]["mid"] = -0.5
    return d


def _unknown_step(d: dict) -> dict:
    d["transitions"]["medium"] = {"low": 0.1}
    return d


def _shares(d: dict) -> dict:
    d["population"]["entry_step_shares"] = {"low": 0.6, "mid": 0.3, "placed": 0.2}
    return d


def _language(d: dict) -> dict:
    d["language"] = "de"
    return d


def _price_year(d: dict) -> dict:
    d["steps"]["placed"]["price_year"] = 2012
    return d


def _payers(d: dict) -> dict:
    d["steps"]["placed"]["payers"] = {"kommune": 0.7, "stat": 0.2}
    return d


def _half_life(d: dict) -> dict:
    d["intervention"] = {"start_year": 2025, "fading": {"half_life_years": -2.0}}
    return d


def _entry_step(d: dict) -> dict:
    d["intervention"] = {"start_year": 2025, "reached_entry_steps": ["lowest"]}
    return d


def _outcome_twice(d: dict) -> dict:
    pension = {"name_da": "p", "name_en": "p", "share": {"placed": 0.17}, "reference_share": 0.02}
    d["adult"] = {
        "cost_per_year": {"placed": 40_000},
        "outcomes": {"pension": {**pension, "cost_per_year": 1.0}},
    }
    return d


BAD = {
    "entry-step": (
        _entry_step,
        ["intervention.reached_entry_steps", "unknown step 'lowest'", "Did you mean 'low'"],
    ),
    "adult-twice": (_outcome_twice, ["adult.outcomes.pension.cost_per_year", "count the same money twice"]),
    "price-year": (_price_year, ["steps.placed.price_year", "no price index for 2012"]),
    "payers": (_payers, ["steps.placed.payers", "must sum to 1"]),
    "half-life": (_half_life, ["intervention.fading.half_life_years", "at least 0"]),
    "language": (_language, ["language", "'da' or 'en'"]),
    "typo": (_typo, ["steps.placed.cost_per_yaer", "Did you mean 'cost_per_year'"]),
    "negative-rate": (_negative_rate, ["transitions.low.mid", "must be at least 0"]),
    "unknown-step": (_unknown_step, ["transitions.medium", "unknown step 'medium'"]),
    "broken-toml": ('name = "x"\nstart_year = \n[steps\n', ["not valid TOML", "line 2"]),
    "missing-file": (None, ["file not found"]),
    "shares": (_shares, ["population.entry_step_shares", "must sum to 1"]),
}


def _bad_file(case: str, write_scenario, tmp_path: Path) -> tuple[Path, list[str]]:
    make, words = BAD[case]
    name = f"bad-{case}.toml"
    if make is None:
        return tmp_path / name, words
    return write_scenario(make(toy_dict()) if callable(make) else make, name), words


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_fails_cleanly(case, write_scenario, tmp_path, capsys):
    path, words = _bad_file(case, write_scenario, tmp_path)
    out = tmp_path / "results"
    assert cli("run", path, *FAST, "--out", out) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("trappesim: error: ")
    assert str(path) in captured.err
    for w in words:
        assert w in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not out.exists()
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("case", list(BAD))
def test_check_reports_bad_input(case, write_scenario, tmp_path, capsys):
    path, words = _bad_file(case, write_scenario, tmp_path)
    assert cli("check", path) == 2
    captured = capsys.readouterr()
    assert str(path) in captured.err and all(w in captured.err for w in words)
    assert captured.out == ""


def test_bad_strategy_is_named_in_compare(inputs, write_scenario, tmp_path, capsys):
    base = inputs[0]
    bad = {**PLAN, "intervention": {**PLAN["intervention"]}}
    bad["intervention"]["hazard_ratio"] = bad["intervention"].pop("hazard_ratios")
    plan = write_scenario(bad, "bad-plan.toml")
    out = tmp_path / "results"
    assert cli("compare", base, plan, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert str(plan) in err and "intervention.hazard_ratio" in err
    assert "Did you mean 'hazard_ratios'" in err
    assert not out.exists() and not leftovers(tmp_path)


def test_different_populations_cannot_be_compared(inputs, write_scenario, tmp_path, capsys):
    base = inputs[0]
    d = toy_dict(name="elsewhere")
    d["population"]["children"] = 40_000
    other = write_scenario(d, "elsewhere.toml")
    out = tmp_path / "results"
    assert cli("compare", base, other, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert "population.children" in err and "Traceback" not in err
    assert not out.exists() and not leftovers(tmp_path)


# Every numeric option, out of range: (command and files, option, value, what the message says).
OUT_OF_RANGE = [
    (
        ["run", "missing.toml"],
        "--seed",
        "-1",
        "argument --seed/-s: must be a whole number of at least 0, not -1",
    ),
    (
        ["run", "missing.toml"],
        "-s",
        "abc",
        # No "(a random seed cannot be negative)": abc is no number at all.
        "argument --seed/-s: must be a whole number of at least 0, not abc; see",
    ),
    (
        ["run", "missing.toml"],
        "--replications",
        "0",
        "argument --replications/-r: must be a whole number of at least 1",
    ),
    (
        ["run", "missing.toml"],
        "-r",
        "2.5",
        "argument --replications/-r: must be a whole number of at least 1, not 2.5",
    ),
    (
        ["run", "missing.toml"],
        "--workers",
        "0",
        "argument --workers/-w: must be a whole number of at least 1",
    ),
    (
        ["run", "missing.toml"],
        "--precision",
        "2",
        "argument --precision: must be a share between 0 and 1, such as 0.02 (2 %), not 2",
    ),
    (["compare", "missing.toml", "b.toml"], "--precision", "0", "argument --precision"),
    (["compare", "missing.toml", "b.toml"], "--precision", "2 %", "argument --precision"),
    (
        ["compare", "missing.toml", "b.toml"],
        "--max-replications",
        "5",
        "argument --max-replications: must be a whole number of at least 10, not 5",
    ),
    (["compare", "missing.toml", "b.toml"], "--seed", "-1", "argument --seed/-s"),
    (["compare", "missing.toml", "b.toml"], "-r", "-3", "argument --replications/-r"),
    (["compare", "missing.toml", "b.toml"], "-w", "-1", "argument --workers/-w"),
    (
        ["psa", "missing.toml", "b.toml"],
        "--draws",
        "0",
        "argument --draws/-n: must be a whole number of at least 1",
    ),
    (["psa", "missing.toml", "b.toml"], "--seed", "-1", "argument --seed/-s"),
    (["psa", "missing.toml", "b.toml"], "--workers", "0", "argument --workers/-w"),
    (["tornado", "missing.toml", "b.toml"], "--seed", "-7", "argument --seed/-s"),
    (
        ["sensitivity", "missing.toml", "b.toml"],
        "-n",
        "1",
        "argument -n: must be a whole number of at least 2",
    ),
    (["sensitivity", "missing.toml", "b.toml"], "--seed", "-1", "argument --seed/-s"),
    (["sensitivity", "missing.toml", "b.toml"], "--workers", "0", "argument --workers/-w"),
    (
        ["breakeven", "missing.toml", "b.toml"],
        "--draws",
        "-1",
        "argument --draws/-n: must be a whole number of at least 0",
    ),
    (["breakeven", "missing.toml", "b.toml"], "--seed", "-1", "argument --seed/-s"),
    (
        ["calibrate", "missing.toml", "--observed", "o.csv", "--fit", "k"],
        "--des-replications",
        "-1",
        "argument --des-replications: must be a whole number of at least 0",
    ),
    (
        ["calibrate", "missing.toml", "--observed", "o.csv", "--fit", "k"],
        "--seed",
        "-1",
        "argument --seed/-s",
    ),
    (
        ["calibrate", "missing.toml", "--observed", "o.csv", "--fit", "k"],
        "--workers",
        "0",
        "argument --workers/-w",
    ),
]


@pytest.mark.parametrize(("command", "option", "value", "message"), OUT_OF_RANGE)
def test_numbers_out_of_range_are_refused_before_anything_runs(
    tmp_path, capsys, monkeypatch, command, option, value, message
):
    monkeypatch.chdir(tmp_path)  # where the default results folder would go
    assert main([*command, f"{option}={value}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trappesim: error: {message}") and len(err.strip().splitlines()) == 1, err
    assert "missing.toml" not in err  # refused before the scenario was even looked for
    assert list(tmp_path.iterdir()) == []


def test_the_smallest_allowed_numbers_are_accepted():
    from sim.cli import build_parser

    args = build_parser().parse_args(["run", "a.toml", "--seed", "0", "-r", "1", "-w", "1"])
    assert (args.seed, args.replications, args.workers) == (0, 1, 1)
    args = build_parser().parse_args(["breakeven", "a.toml", "b.toml", "--draws", "0"])
    assert args.draws == 0
    args = build_parser().parse_args(
        ["calibrate", "a.toml", "--observed", "o.csv", "--fit", "k", "--des-replications", "0"]
    )
    assert args.des_replications == 0


def test_a_seed_of_zero_runs(inputs, tmp_path):
    assert cli("run", inputs[0], "--engine", "expected", "--seed", 0, "--out", tmp_path / "r") == 0


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["simulate", "x.toml"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Existing results folders
# ---------------------------------------------------------------------------


def test_existing_folder_is_kept_without_force_and_replaced_with_force(inputs, tmp_path, capsys):
    base = inputs[0]
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("earlier results", encoding="utf-8")

    assert cli("run", base, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--force" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "earlier results"

    # --force replaces only a folder that a run wrote, never someone's files.
    assert cli("run", base, *FAST, "--out", out, "--force") == 2
    assert "not a trappesim results folder" in capsys.readouterr().err
    assert (out / "keep.txt").read_text(encoding="utf-8") == "earlier results"

    assert cli("run", base, *FAST, "--out", out / "run") == 0
    (out / "run" / "keep.txt").write_text("stale", encoding="utf-8")
    out = out / "run"
    assert cli("run", base, *FAST, "--out", out, "--force") == 0
    assert not (out / "keep.txt").exists()
    assert (out / "manifest.json").is_file() and (out / "yearly.csv").is_file()
    assert not leftovers(tmp_path)


# ---------------------------------------------------------------------------
# As a real process: exit codes and no tracebacks
# ---------------------------------------------------------------------------


def _process(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_reader_that_goes_away_is_no_traceback(tmp_path):
    """``trappesim check ... | head -1``: the pipe closes before the output is written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "check", str(SCENARIOS / "denmark-baseline.toml")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before anything is written
    try:
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code in (0, 141)


def test_process_compare_exits_zero(inputs, tmp_path):
    base, plan = inputs
    out = tmp_path / "results"
    proc = _process("compare", base, plan, *FAST, "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "plan vs toy: 2 replications" in proc.stdout
    assert "mean    precision (95 %)  range of outcomes (90 %)" in proc.stdout
    assert "Means: exact, from the analytic engine" in proc.stdout
    assert "New placements avoided" in proc.stdout and f"Results written to {out}" in proc.stdout
    assert (out / "comparison.csv").is_file()
    assert manifest_of(out)["command"][1:4] == ["compare", str(base), str(plan)]


def test_process_bad_input_exits_two_without_traceback(write_scenario, tmp_path):
    path = write_scenario(_typo(toy_dict()), "typo.toml")
    out = tmp_path / "results"
    proc = _process("run", path, *FAST, "--out", out, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "typo.toml" in proc.stderr and "Did you mean 'cost_per_year'" in proc.stderr
    assert not out.exists() and not leftovers(tmp_path)


def test_process_help_lists_the_commands(tmp_path):
    proc = _process("--help", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    for command in ("run", "compare", "check"):
        assert re.search(rf"^\s+{command}\s", proc.stdout, flags=re.M), command


@pytest.mark.parametrize(
    ("capacity", "key"),
    [
        ({"places": -1}, "steps.placed.capacity.places"),
        ({"places": 10, "overflow_to": "nowhere"}, "steps.placed.capacity.overflow_to"),
    ],
)
def test_bad_capacity_exits_2(write_scenario, tmp_path, capsys, capacity, key):
    d = toy_dict()
    d["steps"]["placed"]["capacity"] = capacity
    path = write_scenario(d, "capacity.toml")
    out = tmp_path / "out"
    assert cli("run", path, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert key in err and "capacity.toml" in err and "Traceback" not in err
    assert not out.exists()


def test_capacity_run_prints_waiting_and_draws_its_charts(write_scenario, tmp_path, capsys):
    d = toy_dict()
    d["steps"]["placed"]["capacity"] = {"places": 150, "wait_on": "mid"}
    path = write_scenario(d, "capacity.toml")
    out = tmp_path / "out"
    assert cli("run", path, *FAST, "--out", out) == 0
    assert "Child-years waiting for a place" in capsys.readouterr().out
    assert (out / "charts" / "waiting_list.png").is_file() and (out / "charts" / "utilisation.png").is_file()
    yearly = pd.read_csv(out / "yearly.csv")
    placed = yearly[yearly.step == "placed"]
    assert (placed["places"] == 150).all() and placed["waiting_end"].sum() > 0


# ---------------------------------------------------------------------------
# Reports: language, and `trappesim report` without a rerun
# ---------------------------------------------------------------------------


def test_compare_writes_workbook_and_html_report_in_the_language_asked(
    compared, module_inputs, tmp_path, capsys
):
    assert (compared / "report.xlsx").is_file() and (compared / "report.html").is_file()
    assert (compared / "charts" / "waterfall.png").read_bytes().startswith(PNG_MAGIC)
    base, plan = module_inputs
    out = tmp_path / "da"
    assert cli("compare", base, plan, *FAST, "--lang", "da", "--out", out) == 0
    printed = capsys.readouterr().out
    assert "Nye anbringelser undgået" in printed and "Nettonutidsværdi" in printed
    assert "kr., 2024-priser" in printed and "Resultater skrevet til" in printed
    assert "Svaret" in (out / "report.html").read_text(encoding="utf-8")


def test_report_remakes_charts_and_reports_without_simulating(compared, tmp_path, capsys, monkeypatch):
    import shutil

    import sim.run.experiment

    folder = tmp_path / "copy"
    shutil.copytree(compared, folder)
    csv_before = (folder / "comparison.csv").read_bytes()

    def no_simulation(*_a, **_k):
        raise AssertionError("report must not simulate")

    monkeypatch.setattr(sim.run.experiment, "_map", no_simulation)
    (folder / "charts" / "payback.png").unlink()
    assert cli("report", folder, "--lang", "da") == 0
    printed = capsys.readouterr().out
    assert "report.html" in printed
    assert "lavet igen i" in printed and "remade" not in printed  # said in the reports' language
    assert (folder / "charts" / "payback.png").read_bytes().startswith(PNG_MAGIC)
    assert "Svaret" in (folder / "report.html").read_text(encoding="utf-8")
    assert (folder / "comparison.csv").read_bytes() == csv_before


def test_report_of_a_folder_that_is_not_a_results_folder_exits_2(tmp_path, capsys):
    assert cli("report", tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("trappesim: error: ") and "no manifest.json" in err and "Traceback" not in err


def test_report_refuses_a_run_folder_as_an_extra(compared, ran, tmp_path, capsys):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(compared, folder)
    assert cli("report", folder, "--with", ran) == 2
    assert "only psa, tornado and sensitivity folders" in capsys.readouterr().err


def test_compare_refuses_a_strategy_with_its_own_discount_rate(write_scenario, tmp_path, capsys):
    d = toy_dict()
    base = write_scenario(d, "base.toml")
    own = {"periods": [{"from_year": 0, "rate": 0.06}], "source": "the plan's own"}
    plan = write_scenario(
        {**d, "name": "plan", "discounting": own, "intervention": INTERVENTION}, "plan.toml"
    )
    out = tmp_path / "results"
    assert cli("compare", base, plan, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert f"{base} and {plan}: " in err and "differ in discounting" in err and "Traceback" not in err
    assert not out.exists()


def test_compare_refuses_arms_that_count_adult_life_differently(write_scenario, tmp_path, capsys):
    d = toy_dict()
    base = write_scenario(d, "base.toml")
    plan = write_scenario(
        {**d, "name": "plan", "adult": {"cost_per_year": {"placed": 40_000}}, "intervention": INTERVENTION},
        "plan.toml",
    )
    out = tmp_path / "results"
    assert cli("compare", base, plan, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert "must count adult life alike" in err and "Traceback" not in err
    assert f"{base} and {plan}: " in err and "replication" not in err  # before anything runs
    assert not out.exists()


# ---------------------------------------------------------------------------
# Start-up: a light package, and Ctrl-C while the libraries load
# ---------------------------------------------------------------------------

NAMES = [
    "BreakEven",
    "Comparison",
    "PSAResult",
    "Result",
    "Scenario",
    "ScenarioError",
    "Tornado",
    "break_even",
    "calibrate",
    "compare",
    "des",
    "distributions",
    "economics",
    "expected",
    "experiment",
    "global_sensitivity",
    "key_figures",
    "language",
    "load_results",
    "load_scenario",
    "plots",
    "psa",
    "report",
    "results",
    "save_scenario",
    "scenario",
    "simulate",
    "spells",
    "staircase",
    "tornado",
    "uncertainty",
    "workbook",
]
"""Every name ``import sim`` offered when it imported everything at once."""


def test_import_sim_loads_no_heavy_library_until_a_name_is_used():
    code = (
        "import sys, sim\n"
        "heavy = ('numpy', 'pandas', 'scipy', 'matplotlib', 'simpy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "sim.load_scenario\n"
        "print('numpy' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[]", "True"]


def test_import_sim_offers_every_name_it_offered_before():
    import sim
    import sim.engines.expected  # the analytic engine's module must not replace the function sim.expected

    moved = set(sim._MOVED)  # modules of 0.1 now in subpackages: still there, with a warning
    assert set(NAMES) - moved <= set(dir(sim))
    added = {
        "TrappesimError",
        "UserError",
        "PrecisionWarning",
        "Sensitivity",
        "save_results",
        "LocalWorkers",
    }  # since then
    assert set(sim.__all__) <= set(NAMES) | added
    for name in NAMES:
        if name in moved:
            with pytest.warns(DeprecationWarning, match=f"sim.{name} has moved to sim[.]"):
                assert getattr(sim, name) is importlib.import_module(sim._MOVED[name])
        else:
            assert getattr(sim, name) is not None
    assert callable(sim.expected) and sim.expected is sim.run.experiment.expected
    assert isinstance(sim.calibrate, types.ModuleType) and isinstance(sim.plots, types.ModuleType)
    from sim import Scenario, compare, expected

    assert Scenario is sim.scenario.Scenario and compare is sim.run.experiment.compare and callable(expected)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        sim.nonsense  # noqa: B018


HEAVY = {
    "SALib",
    "babel",
    "dask",
    "distributed",
    "jinja2",
    "matplotlib",
    "numpy",
    "openpyxl",
    "pandas",
    "pydantic",
    "scipy",
    "simpy",
}
"""Libraries that take tens or hundreds of milliseconds to import: only a command that needs one loads it."""


def _heavy_loaded(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    heavy = json.dumps(sorted(HEAVY))
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy}))))"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def _command(*argv: str) -> str:
    """Code that runs ``trappesim ARGV`` as the console script does, in the probing interpreter."""
    return f"from sim.__main__ import main\nsys.argv = ['trappesim', *{list(argv)!r}]\nassert main() == 0"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import sim", id="import sim"),
        pytest.param("import sim.cli", id="import sim.cli"),
        pytest.param("from sim.cli import build_parser; build_parser().format_help()", id="build_parser"),
        *(
            pytest.param(_command(*argv), id=" ".join(argv))
            for argv in (
                ["--version"],
                ["--help"],
                *([command, "--help"] for command in ("run", "compare", "psa", "sensitivity", "calibrate")),
            )
        ),
    ],
)
def test_help_and_version_load_no_library(code):
    """``--version`` and ``--help`` answer in a tenth of a second: the parser imports no heavy library."""
    assert _heavy_loaded(code) == []


def test_commands_load_the_libraries_they_need_only():
    checked = _heavy_loaded(_command("check", str(SCENARIOS / "denmark-baseline.toml")))
    assert checked == ["numpy", "pydantic"]  # a scenario without uncertain numbers: no SciPy
    writing = _heavy_loaded("import sim.outputs.results, sim.outputs.plots, sim.outputs.writers")
    assert not {"matplotlib", "openpyxl", "SALib", "dask", "distributed"} & set(writing)
    drawn = _heavy_loaded("import sim.outputs.plots as p; p.step_colours(3)")
    assert "matplotlib" in drawn and "openpyxl" not in drawn


def test_the_parsers_defaults_are_those_of_the_library():
    """The parser's copies of constants it cannot import without NumPy (sim.cli.options)."""
    from sim.cli import options
    from sim.outputs import language
    from sim.run import estimates, experiment
    from sim.scenario import PERSPECTIVES

    assert options.DEFAULT_SEED == experiment.DEFAULT_SEED
    assert options.PRECISION == estimates.PRECISION
    assert (options.MIN_REPLICATIONS, options.MAX_REPLICATIONS) == (
        estimates.MIN_REPLICATIONS,
        estimates.MAX_REPLICATIONS,
    )
    assert options.PERSPECTIVES == PERSPECTIVES
    assert options.LANGUAGES == language.LANGUAGES


def _loading_libraries(pid: int) -> bool:
    """Whether the command has begun loading NumPy (the first library the command line imports)."""
    try:
        return "numpy" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see the start-up")
@pytest.mark.parametrize(
    "how", [["-m", "sim"], ["-c", "from sim.__main__ import main; raise SystemExit(main())"]]
)
def test_ctrl_c_while_starting_prints_one_line_and_no_traceback(how, tmp_path):
    """``python -m sim`` and the console script's ``sim.__main__:main``, interrupted at several moments.

    Python itself needs some milliseconds before any trappesim code runs (an
    interruption there is Python's to report); each run is interrupted once
    the command has begun loading its libraries, after a delay.
    """
    for delay in (0.0, 0.1, 0.25, 0.5, 0.8, 1.2):
        proc = subprocess.Popen(  # not --help: it loads no library (test_help_and_version_load_no_library)
            [sys.executable, *how, "check", str(SCENARIOS / "municipality-uncertain.toml")],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            start = time.monotonic()
            while not _loading_libraries(proc.pid) and proc.poll() is None and time.monotonic() - start < 60:
                time.sleep(0.005)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
            proc.wait(timeout=10)
        assert "Traceback" not in err, f"after {delay} s:\n{err}"
        # 0: the check was done before the signal came; a process ended by the
        # signal itself (after main returned) is reported by shells as 130 too.
        assert proc.returncode in (0, 130, -signal.SIGINT), (delay, proc.returncode, err)
        if proc.returncode == 130:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("trappesim: interrupted"), err


_UNRAISABLE_CTRL_C = """
import signal, sys, time, weakref
import sim.cli
from sim.__main__ import main

class Lock:
    pass

def command(argv=None):
    # As in the import system's _get_module_lock: Ctrl-C arrives while Python runs a weakref
    # callback, where an exception cannot propagate (an "unraisable" one).
    lock = Lock()
    ref = weakref.ref(lock, lambda ref: signal.raise_signal(signal.SIGINT))
    del lock
    for _ in range(500):  # the command goes on: a Ctrl-C must still stop it
        time.sleep(0.01)
    print("not interrupted")
    return 0

sim.cli.main = command
sys.exit(main())
"""


def test_ctrl_c_in_a_weakref_callback_still_interrupts_with_one_line():
    """Ctrl-C where Python cannot raise it (a weakref callback, ``__del__``) is neither a
    traceback ("Exception ignored in ...") nor lost: the command stops as after any Ctrl-C."""
    proc = subprocess.run(
        [sys.executable, "-c", _UNRAISABLE_CTRL_C], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 130, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr == "trappesim: interrupted\n" and proc.stdout == ""


def test_other_unraisable_exceptions_are_still_reported():
    code = _UNRAISABLE_CTRL_C.replace("signal.raise_signal(signal.SIGINT)", "1 / 0").replace("500", "1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "not interrupted\n", proc.stderr
    assert "Exception ignored in" in proc.stderr and "ZeroDivisionError" in proc.stderr


# ---------------------------------------------------------------------------
# Plausibility: warnings before anything runs, --strict, hard limits
# ---------------------------------------------------------------------------


def test_check_warns_about_an_implausible_number_and_strict_makes_it_an_error(write_scenario, capsys):
    d = toy_dict()
    d["transitions"]["low"]["closed"] = 33.0  # meant 0.33
    path = write_scenario(d, "closure.toml")
    assert cli("check", path) == 0
    captured = capsys.readouterr()
    warning = (
        f"trappesim: warning: {path}: key 'transitions.low.closed': value 33 is outside the plausible range "
        "0-12 moves per child-year ("
    )
    assert captured.err.startswith(warning)
    assert 'name = "toy"' in captured.out  # the resolved scenario is still printed
    assert cli("check", path, "--strict") == 2
    captured = capsys.readouterr()
    assert (
        captured.err.startswith(warning) and "trappesim: error: --strict: 1 warning(s) above" in captured.err
    )
    assert captured.out == ""  # nothing printed as if it were valid


def test_compare_warns_about_a_price_changed_in_the_strategy_only(inputs, write_scenario, tmp_path, capsys):
    base, _ = inputs
    plan = write_scenario(
        {**PLAN, "steps": {"placed": {"cost_per_year": 400_000}}, "name": "cheaper"}, "cheaper.toml"
    )
    out = tmp_path / "out"
    assert cli("compare", base, plan, *FAST, "--out", out, "--strict") == 2
    err = capsys.readouterr().err
    assert (
        f"trappesim: warning: {base} and {plan}: key 'steps.placed.cost_per_year': 500,000 in {base}, "
        f"400,000 in {plan}: a number outside [intervention] that differs between the arms is counted as "
        "the strategy's effect"
    ) in err
    assert "replication" not in err and not out.exists() and not leftovers(tmp_path)


def test_shipped_pairs_run_without_warnings(tmp_path, capsys):
    base = REPO / "scenarios" / "municipality-template.toml"
    plan = REPO / "scenarios" / "municipality-early-detection.toml"
    assert cli("compare", base, plan, "--engine", "expected", "--out", tmp_path / "o", "--strict") == 0
    assert "warning" not in capsys.readouterr().err


def test_a_number_too_large_to_give_finite_results_exits_2_before_anything_is_written(
    write_scenario, tmp_path, capsys
):
    d = toy_dict()
    d["population"]["initial_stock"]["placed"]["children"] = 10**12
    path = write_scenario(d, "huge.toml")
    out = tmp_path / "out"
    assert cli("run", path, *FAST, "--out", out) == 2
    err = capsys.readouterr().err
    assert err == (
        f"trappesim: error: {path}: key 'population.initial_stock.placed.children': value 1,000,000,000,000 "
        "is outside the allowed range 0-1,000,000,000 children or places: more children than any country has\n"
    )
    assert not out.exists() and not leftovers(tmp_path)


def test_process_prints_each_warning_once_in_its_own_words(write_scenario, tmp_path):
    d = toy_dict()
    d["transitions"]["low"]["closed"] = 33.0
    write_scenario(d, "base.toml")
    (tmp_path / "sub").mkdir()
    plan = write_scenario({**PLAN, "extends": "../base.toml"}, "sub/plan.toml")
    proc = _process("breakeven", "base.toml", plan.relative_to(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    # Not Python's own "PlausibilityWarning:" lines, and the number both arms inherit once, by its file.
    assert lines == [
        "trappesim: warning: base.toml: key 'transitions.low.closed': value 33 is outside the plausible "
        "range 0-12 moves per child-year (12 is a move a month on average; the fastest shipped rate is 4 a "
        "year, cases closing from 18 in aftercare, and most are below 1)",
        "trappesim: note: 1 warning(s) about the scenario files above the results; the run used the files as "
        "written",
    ]


# ---------------------------------------------------------------------------
# tornado, sensitivity and breakeven print in the scenario's language (issue 12)
# ---------------------------------------------------------------------------


def write_uncertain(folder: Path, language: str) -> tuple[Path, Path]:
    """A toy pair with an uncertain cost and an uncertain effect, in ``language``."""
    d = toy_dict(language=language)
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base, plan = folder / "ubase.toml", folder / "uplan.toml"
    base.write_text(tomli_w.dumps(d), encoding="utf-8")
    hr = {"dist": "lognormal", "median": 0.7, "p95": 0.95}
    iv = {**INTERVENTION, "hazard_ratios": {"mid": {"placed": hr}}}
    plan.write_text(
        tomli_w.dumps({"extends": "ubase.toml", "name": "uplan", "intervention": iv}), encoding="utf-8"
    )
    return base, plan


E_NOTATION = re.compile(r"\d(?:[.,]\d+)?[eE][+-]?\d+")


def test_tornado_prints_headings_words_and_danish_numbers(tmp_path, capsys):
    base, plan = write_uncertain(tmp_path, "da")
    assert cli("tornado", base, plan, "--out", tmp_path / "t") == 0
    out = capsys.readouterr().out
    assert "envejsfølsomhed (tornado) for nettonutidsværdi" in out  # Danish, as the scenario says
    assert "Usikkert tal" in out and "Resultat ved lav" in out and "Høj værdi" in out  # headings
    assert "Anbragt: udgift pr. barn-år" in out and "nøgle: steps.placed.cost_per_year" in out
    assert "mio. kr." in out and " kr." in out and "2024-priser" in out  # money with its unit and note
    assert not E_NOTATION.search(out), out  # was "9.248e+05"
    assert cli("tornado", base, plan, "--lang", "en", "--out", tmp_path / "t2") == 0
    out = capsys.readouterr().out
    assert "one-way sensitivity (tornado) of net present value" in out and "DKK" in out
    assert "Placed: cost per child-year" in out and "key: steps.placed.cost_per_year" in out


def test_sensitivity_prints_in_the_scenarios_language(tmp_path, capsys):
    base, plan = write_uncertain(tmp_path, "da")
    assert cli("sensitivity", base, plan, "-n", 4, "-w", 1, "--out", tmp_path / "s") == 0
    out = capsys.readouterr().out
    assert "Sobol-indeks for nettonutidsværdi, største først" in out
    assert "Totalindeks" in out and "Resultater skrevet til" in out
    assert "Kolonner i sensitivity.csv: S1, S1_conf, ST, ST_conf." in out
    assert not re.search(r"\d\.\d{3}\b", out.split("Kolonner")[0].replace("0.0", ""))  # decimal commas
    assert (
        cli(
            "sensitivity",
            base,
            plan,
            "--method",
            "morris",
            "-n",
            4,
            "-w",
            1,
            "--lang",
            "en",
            "--out",
            tmp_path / "m",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Morris screening of net present value" in out and "DKK" in out and "mu_star" in out


def test_breakeven_has_lang_and_prints_danish_for_a_danish_scenario(tmp_path, capsys):
    base, plan = write_uncertain(tmp_path, "da")
    assert cli("breakeven", base, plan, "--draws", 3) == 0
    out = capsys.readouterr().out
    assert "Tjener sig netop hjem ved" in out and "af den antagne effekt [90 % over 3 træk:" in out
    assert "Ved nulpunktet" in out and "Mellem → Anbragt" in out  # step names, not "mid -> placed"
    assert "Opgjort i et kommunalt perspektiv (--perspective kommune)." in out
    assert cli("breakeven", base, plan, "--on", "cost", "--draws", 3, "--lang", "en") == 0
    out = capsys.readouterr().out
    assert "Breaks even at a programme cost of DKK" in out and "[90 % over 3 draws: DKK" in out
    assert "(assumed: DKK 1.0 m a year)." in out
    assert not E_NOTATION.search(out) and not re.search(r"\bnan\b", out)
    # A language it does not speak: argparse's usage error, in one line.
    assert cli("breakeven", base, plan, "--lang", "de") == 2
    assert "invalid choice: 'de'" in capsys.readouterr().err


def test_printed_summary_keeps_its_columns_when_a_figure_is_words():
    """'ikke inden udgangen af 2033' is wider than a number: the columns beside it move with it."""
    import sim
    from sim.cli.common import summary_lines
    from sim.outputs import language as L
    from sim.outputs.report import key_figures
    from sim.scenario import Scenario

    toy = Scenario.from_dict(toy_dict())
    never = toy.with_changes({"name": "never", "intervention": {"start_year": 2025, "cost_per_year": 1e9}})
    cmp = sim.compare(toy, never, replications=3, seed=1)
    for lang, word in (("da", "ikke inden udgangen af 2033"), ("en", "not by 2033")):
        lines = summary_lines(cmp, lang)
        head = next(x for x in lines if L.t("col_mean", lang) in x)
        # Right-aligned: each column ends where its heading ends, on every row.
        ends = [head.index(h) + len(h) for h in (L.t("col_mean", lang), L.t("col_precision", lang))]
        labels = tuple(f"  {label} " for label in key_figures(cmp, lang)["label"])
        rows = [x for x in lines if x.startswith(labels) and ("±" in x or x.endswith(L.t("exact", lang)))]
        payback = next(x for x in lines if word in x)
        assert payback.index(word) + len(word) == ends[0], lines
        assert len(rows) >= 5, lines
        for x in rows:
            assert x[ends[0] - 1] != " " and x[ends[0]] == " ", (x, head)
            assert x[ends[1] - 1] != " ", (x, head)


def test_warnings_are_recalled_after_the_results_that_scroll_them_away(capsys, tmp_path):
    """Files given in the wrong order: one warning line, then a whole table; it is said again after it."""
    args = [
        str(SCENARIOS / "municipality-early-detection.toml"),
        str(SCENARIOS / "municipality-template.toml"),
    ]
    assert main(["compare", *args, "--engine", "expected", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("trappesim: warning:") and "wrong order" in err[0]
    assert err[-1] == (
        "trappesim: note: 1 warning(s) about the scenario files above the results; the run used the files as written"
    )
    assert main(["compare", *reversed(args), "--engine", "expected", "--out", str(tmp_path / "r")]) == 0
    assert "trappesim: note:" not in capsys.readouterr().err  # no warning, nothing to recall
