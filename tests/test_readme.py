"""The README's two commands run as written, and it points into the documentation."""

from __future__ import annotations

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


def test_readme_is_short_and_points_into_the_docs():
    """The README says what Trappesim is and how to start; the rest is in docs/ (tests/test_docs.py)."""
    assert len(README.splitlines()) <= 150
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    assert any(link.startswith("docs/tutorials/") for link in links)
    for link in links:
        assert not link.startswith("http"), link
        assert (REPO / link).is_file(), link  # every link and picture is there
    assert "docs/images/placed-children.png" in links
