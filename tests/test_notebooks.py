"""Notebooks: each runs top to bottom and draws its charts, is stored clean, and only calls ``sim``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = REPO / "notebooks"
FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
SHIPPED = {"01-quick-start.ipynb", "02-exploring-a-strategy.ipynb", "03-your-municipality.ipynb"}
SMALL = {
    "TRAPPESIM_REPLICATIONS": "2",
    "TRAPPESIM_DRAWS": "20",
    "MPLBACKEND": "Agg",
    # One BLAS thread: the analytic engine runs in the kernel's own process, and
    # OpenBLAS threads on a busy machine made the PSA cells about 4 times slower.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}
"""Few replications and draws, so every notebook runs in seconds; no GUI backend."""

each_notebook = pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _python(source: str) -> ast.Module:
    """A code cell as Python, with IPython magics and shell lines (``%matplotlib inline``) blanked."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _dotted(node: ast.AST) -> list[str]:
    """``sim.plots.staircase`` as ``["sim", "plots", "staircase"]`` (empty if not a plain name chain)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else []


def test_the_notebooks_are_there():
    assert SHIPPED <= {p.name for p in FILES}


@each_notebook
def test_notebook_is_stored_clean(path):
    """Valid nbformat 4, Python 3 kernel, no outputs: a diff shows only what a person wrote."""
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == "python3"
    for cell in _code_cells(nb):
        assert cell.outputs == [], f"{path.name}: stored with outputs:\n{cell.source}"
        assert cell.execution_count is None, f"{path.name}: stored with an execution count:\n{cell.source}"
    assert nb.cells[0].cell_type == "markdown", f"{path.name}: should open by saying what it shows"


@each_notebook
def test_notebook_reads_its_size_from_the_environment(path):
    """The first code cell takes the replications from the environment, so the tests can run it small."""
    first = _code_cells(_read(path))[0].source
    assert 'os.environ.get("TRAPPESIM_REPLICATIONS"' in first


@each_notebook
def test_notebook_has_no_model_logic(path):
    """No functions or classes, and ``sim`` only through ``import sim``, never its private parts."""
    imports_sim = False
    for cell in _code_cells(_read(path)):
        source = cell.source
        assert not re.search(r"^(def|class) ", source, flags=re.M), f"{path.name}: defines:\n{source}"
        for node in ast.walk(_python(source)):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda), (
                f"{path.name}: defines a function or class (model logic belongs in sim):\n{source}"
            )
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "sim":
                        assert alias.name == "sim", f"{path.name}: 'import {alias.name}'; use 'import sim'"
                        imports_sim = True
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "sim", (
                    f"{path.name}: 'from {node.module} import ...'; use 'import sim'"
                )
            if isinstance(node, ast.Attribute):
                chain = _dotted(node)
                assert not (chain[:1] == ["sim"] and any(p.startswith("_") for p in chain)), (
                    f"{path.name}: uses a private part of sim: {'.'.join(chain)}"
                )
    assert imports_sim, f"{path.name}: never runs 'import sim'"


@pytest.mark.slow
@each_notebook
def test_notebook_runs_and_draws(path, monkeypatch):
    """Executed in a fresh kernel with few replications: no cell raises, and the charts render as PNG."""
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)  # the kernel inherits the environment
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    nb = _read(path)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell raised:\n{err}")
    outputs = [o for cell in _code_cells(nb) for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o.get("data", {}) for o in outputs]
    assert any("image/png" in d for d in shown), f"{path.name}: no chart rendered"
    # A Figure shown as text ("<Figure size 800x500 with 1 Axes>") is a chart that did not render.
    unrendered = [d for d in shown if d.get("text/plain", "").startswith("<Figure") and "image/png" not in d]
    assert not unrendered, f"{path.name}: {len(unrendered)} figure(s) shown as text, not drawn"
    # The notebook writes nothing into the repository (notebook 03 saves into a temporary folder).
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before
