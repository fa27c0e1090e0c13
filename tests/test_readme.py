"""The README's commands and examples run as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands():
    bash = _blocks("bash")
    assert (
        "trappesim compare scenarios/denmark-baseline.toml scenarios/denmark-early-detection.toml" in bash[0]
    )
    assert "python -m pytest" in bash[1]
    # The two commands come before anything else in the README.
    assert README.index(bash[1]) < README.index("## ")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _blocks("bash")[1].strip() in ci


@pytest.mark.slow
def test_readme_main_command_runs(tmp_path):
    """The first command's simulation, exactly as written, with fewer replications."""
    line = _blocks("bash")[0].strip()
    command = shlex.split(line.split("&&", 1)[1])
    assert command[0] == "trappesim"
    args = [*command[1:], "--replications", "2", "--out", str(tmp_path / "out")]
    proc = subprocess.run([sys.executable, "-m", "sim", *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Nettonutidsværdi" in proc.stdout  # the Danish scenarios report in Danish
    assert (tmp_path / "out" / "comparison.csv").is_file()


def test_readme_python_examples_run(tmp_path):
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for block in _blocks("python"):
            # Charts the examples save go to a temporary folder, not the repository.
            code = re.sub(r'"(\w+\.png)"', lambda m: repr(str(tmp_path / m.group(1))), block)
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert (tmp_path / "payback.png").stat().st_size > 10_000
    assert (tmp_path / "waterfall.png").stat().st_size > 10_000


def test_readme_toml_example_is_valid_after_filling_in(tmp_path):
    """The scenario snippet in the README uses only real keys."""
    import tomllib

    from sim.scenario import Scenario
    from sim.scenario.validation import _check_unknown_keys

    for block in _blocks("toml"):
        data = tomllib.loads(block)
        _check_unknown_keys(Scenario, data, "README.md", "")
