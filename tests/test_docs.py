"""The documentation builds without a warning, and every example in it runs as written.

- ``mkdocs build --strict`` (the generated references included);
- every ```` ```python ```` block, page by page, in order, in one namespace,
  from the repository's root, with the charts and files it saves sent to a
  temporary folder;
- every ```` ```bash ```` / ```` ```console ```` block with ``trappesim``
  commands, run by the command's entry point (``sim.cli.main``, what
  ``python -m sim`` calls) in a temporary copy of ``scenarios/``, after writing the page's
  files (blocks with ``title="path"``) there; exit code 0, or the one a
  console block shows with ``$ echo $?``, and the error and warning lines it
  shows;
- every TOML block parses and uses only real keys; a complete scenario file
  loads with ``sim.load_scenario``.

To keep this quick, run and compare commands without ``--replications`` get
``--replications 2`` (as tests/test_readme.py does), and the PSA, global
sensitivity, break-even and calibration commands fewer draws; nothing else
is changed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

from sim.scenario import Scenario
from sim.scenario.validation import _check_unknown_keys

DOCS = REPO / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.S | re.M,
)
OUTPUT_SUFFIXES = ("png", "svg", "toml", "xlsx", "csv", "html", "json")


@dataclass
class Block:
    page: Path
    lang: str
    title: str | None
    body: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        indent = m.group("indent")
        body = "".join(
            line[len(indent) :] if line.startswith(indent) else line
            for line in m.group("body").splitlines(True)
        )
        title = re.search(r'title="([^"]+)"', m.group("attrs"))
        out.append(
            Block(
                page,
                m.group("lang"),
                title.group(1) if title else None,
                body,
                text[: m.start()].count("\n") + 1,
            )
        )
    return out


def _id(page: Path) -> str:
    return str(page.relative_to(DOCS))


def _pages_with(*langs: str) -> list[Path]:
    return [p for p in PAGES if any(b.lang in langs for b in blocks(p))]


# ---------------------------------------------------------------------------
# The site builds
# ---------------------------------------------------------------------------


def test_the_docs_build_strict(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    site = tmp_path / "site"
    # The generated references are there: every command, every table of the schema.
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    from sim.cli import build_parser

    for action in build_parser()._subparsers._group_actions:
        for name in action.choices:
            assert f'id="trappesim-{name}"' in cli, name
    scenario = (site / "reference" / "scenario-file" / "index.html").read_text(encoding="utf-8")
    for key in ("cost_per_year", "hazard_ratios", "max_wait_years", "half_life_years", "reference_share"):
        assert f"<code>{key}</code>" in scenario, key
    assert "trappesim:" not in scenario  # every marker replaced
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("sim.simulate", "sim.compare", "sim.psa", "sim.plots", "sim.ScenarioError"):
        assert f'id="{name}"' in api, name


def test_docstring_examples_run(monkeypatch):
    """Every example in the package's docstrings (the API reference shows them) runs as written, from
    the project's root; ``+SKIP`` only where an example runs a simulation."""
    import doctest
    import importlib
    import io
    import pkgutil

    import sim

    monkeypatch.chdir(REPO)
    finder, out = doctest.DocTestFinder(), io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    modules = [m.name for m in pkgutil.walk_packages(sim.__path__, "sim.") if not m.name.endswith("__main__")]
    for name in ["sim", *modules]:
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 10
    assert result.failed == 0, out.getvalue()


def test_every_schema_field_has_a_meaning():
    from pydantic import BaseModel

    from sim.scenario import schema

    models = [
        m
        for m in vars(schema).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m is not schema._Model
    ]
    missing = [f"{m.__name__}.{n}" for m in models for n, f in m.model_fields.items() if not f.description]
    assert missing == []


def test_the_plausibility_tables_are_the_code_tables():
    """The checks page shows the code's tables (written by docs/hooks.py at build time)."""
    sys.path.insert(0, str(DOCS))
    try:
        import hooks
    finally:
        sys.path.remove(str(DOCS))
    from sim.scenario import plausibility as P

    page = (DOCS / "reference" / "checks.md").read_text(encoding="utf-8")
    built = hooks.on_page_markdown(page, None, None, None)
    assert P.markdown_table(P.PLAUSIBLE) in built
    assert P.markdown_table(P.LIMITS) in built


def test_no_page_points_outside_the_project():
    for page in [*PAGES, REPO / "README.md"]:
        assert "../shared" not in page.read_text(encoding="utf-8"), page


def test_every_pair_the_docs_run_is_clean():
    from sim import load_scenario
    from sim.scenario.plausibility import check_arms

    text = "\n".join(p.read_text(encoding="utf-8") for p in PAGES)
    pairs = set(
        re.findall(
            r"trappesim \w+ (scenarios/municipality\S+\.toml|scenarios/denmark\S+\.toml) (scenarios/\S+\.toml)",
            text,
        )
    )
    pairs = {(b, p) for b, p in pairs if (REPO / p).is_file()}  # not the files a page writes
    assert len(pairs) >= 4
    for base, plan in pairs:
        assert check_arms(load_scenario(REPO / base), load_scenario(REPO / plan)) == [], (base, plan)


# ---------------------------------------------------------------------------
# Python examples
# ---------------------------------------------------------------------------


def _to_tmp(code: str, tmp: Path) -> str:
    """Files an example saves under a bare name go to the temporary folder, not the repository."""
    suffixes = "|".join(OUTPUT_SUFFIXES)
    return re.sub(rf'"([\w-]+\.(?:{suffixes}))"', lambda m: repr(str(tmp / m.group(1))), code)


@pytest.mark.parametrize("doc", _pages_with("python"), ids=_id)
def test_python_examples_run(doc, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(REPO)
    namespace: dict = {"__name__": "__docs__"}
    before = set(REPO.iterdir())
    for block in blocks(doc):
        if block.lang != "python":
            continue
        code = _to_tmp(block.body, tmp_path)
        # dont_inherit: an example runs as a user runs it, without this file's __future__ imports.
        exec(compile("\n" * (block.line) + code, str(doc), "exec", dont_inherit=True), namespace)
    # Nothing was written into the repository.
    assert set(REPO.iterdir()) == before


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def _reduced(args: list[str]) -> list[str]:
    """Fewer replications and draws, as the module docstring says; nothing else changes."""
    command = args[0] if args else ""

    def cap(options: tuple[str, ...], most: int, default_added: bool) -> None:
        for i, a in enumerate(args):
            if a in options and i + 1 < len(args):
                args[i + 1] = str(min(int(args[i + 1]), most))
                return
        if default_added:
            args.extend([options[0], str(most)])

    if command in ("run", "compare") and not {"--replications", "-r"} & set(args) and "expected" not in args:
        args += ["--replications", "2"]
    if command == "psa":
        cap(("--draws", "-n"), 20, True)
    if command == "sensitivity":
        cap(("-n",), 8, True)
    if command == "breakeven":
        cap(("--draws", "-n"), 3, False)
    if command == "calibrate":
        cap(("--des-replications",), 1, True)
    return args


@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster for the commands that name one (started only if a page asks)."""
    clusters = []

    def address() -> str:
        if not clusters:
            from dask.distributed import LocalCluster

            clusters.append(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
        return clusters[0].scheduler_address

    yield address
    for c in clusters:
        c.close()


def _commands(block: Block) -> list[tuple[str, int, list[str]]]:
    """(command line, expected exit code, the error and warning lines shown) for each command in a block."""
    lines = block.body.replace("\\\n", " ").splitlines()
    found: list[tuple[str, int, list[str]]] = []
    if block.lang == "console":
        for i, line in enumerate(lines):
            if line.startswith("$ echo $?"):
                continue
            if line.startswith("$ "):
                found.append((line[2:], 0, []))
            elif found and i and lines[i - 1].startswith("$ echo $?") and re.fullmatch(r"\d+", line.strip()):
                cmd, _, shown = found[-1]
                found[-1] = (cmd, int(line), shown)
            elif found and line.startswith("trappesim: "):
                found[-1][2].append(line)
    else:
        found = [
            (line.strip(), 0, []) for line in lines if line.strip() and not line.lstrip().startswith("#")
        ]
    return found


RUNS = {"trappesim", "cp", "mkdir"}
IGNORED = (
    "python -m pip",
    "pip ",
    "code ",
    "dask ",
    "mkdocs ",
    "ruff ",
    "python -m pytest",
    "python benchmarks",
    # A server that runs until Ctrl-C: tests/test_serve.py and tests/test_serve_browser.py run the page.
    "trappesim serve",
)


def _pages_with_commands() -> list[Path]:
    return [
        p
        for p in PAGES
        if any(
            c.startswith("trappesim ")
            for b in blocks(p)
            if b.lang in ("bash", "console")
            for c, _, _ in _commands(b)
        )
    ]


@pytest.mark.parametrize("doc", _pages_with_commands(), ids=_id)
def test_commands_run(doc, tmp_path, scheduler, monkeypatch, capsys):
    from sim.cli import main

    work = tmp_path / "repo"
    shutil.copytree(REPO / "scenarios", work / "scenarios")
    monkeypatch.chdir(work)
    ran = 0
    for block in blocks(doc):
        if block.title and block.lang not in ("bash", "console"):
            target = work / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
            continue
        if block.lang not in ("bash", "console"):
            continue
        commands = _commands(block)
        if not any(c.startswith("trappesim ") for c, _, _ in commands):
            continue  # installs and developer commands: not run here
        for line, code, shown in commands:
            line = line.split("  #", 1)[0].strip()
            if line.startswith(IGNORED):
                continue
            args = shlex.split(line)
            assert args[0] in RUNS, f"{doc}:{block.line}: the test cannot run '{line}'"
            if args[0] == "cp":
                shutil.copy(work / args[1], work / args[2])
                continue
            if args[0] == "mkdir":
                (work / args[-1]).mkdir(parents=True, exist_ok=True)
                continue
            args = args[1:]
            if "--scheduler" in args:
                args[args.index("--scheduler") + 1] = scheduler()
            args = _reduced(args)
            # The command's own entry point, in this process (as tests/test_cli.py runs it):
            # the libraries are imported once, not once a command.
            returned = main(args)
            out, err = capsys.readouterr()
            where = f"{doc.relative_to(REPO)}:{block.line}: trappesim {' '.join(args)}"
            assert returned == code, f"{where}\n{out[-2000:]}\n{err[-3000:]}"
            for expected in shown:
                assert expected in err, (
                    f"{where}: the doc shows a line the command did not print:\n{expected}\n{err}"
                )
            ran += 1
    if not ran:
        pytest.skip(f"every command on {_id(doc)} awaits a subcommand this version does not have")


# ---------------------------------------------------------------------------
# TOML and JSON examples
# ---------------------------------------------------------------------------


def _failing_on_purpose(page: Path) -> set[str]:
    """Files a page writes to show an error or a warning: a console block runs them with an exit code not 0."""
    names = set()
    for block in blocks(page):
        if block.lang == "console":
            for line, code, _ in _commands(block):
                if code:
                    names |= {a for a in shlex.split(line) if a.endswith(".toml")}
    return names


@pytest.mark.parametrize("doc", _pages_with("toml", "json"), ids=_id)
def test_toml_and_json_examples_are_valid(doc, tmp_path):
    from sim import load_scenario

    work = tmp_path / "repo"
    shutil.copytree(REPO / "scenarios", work / "scenarios")
    broken = _failing_on_purpose(doc)
    for block in blocks(doc):
        if block.lang == "json":
            json.loads(block.body)
            continue
        if block.lang != "toml":
            continue
        data = tomllib.loads(block.body)  # parses
        if block.title in broken:
            continue  # shown failing: the command test checks its error
        _check_unknown_keys(Scenario, data, f"{doc}:{block.line}", "")  # only real keys
        if block.title:
            target = work / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
    for block in blocks(doc):
        if block.lang == "toml" and block.title and block.title not in broken:
            assert isinstance(load_scenario(work / block.title), Scenario)  # a whole file: it loads


def test_titled_toml_blocks_that_load_are_whole_files():
    """Only complete files carry a title (a file name); fragments have none."""
    for page in PAGES:
        for block in blocks(page):
            if block.lang == "toml" and block.title:
                data = tomllib.loads(block.body)
                assert "name" in data and ("extends" in data or "steps" in data), (page, block.line)
