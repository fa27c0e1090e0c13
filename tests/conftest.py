"""Shared fixtures: small scenarios built in code or written to a temporary folder."""

from __future__ import annotations

import copy
import functools
import io
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from threadpoolctl import threadpool_limits

from sim.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"

AGES3 = {"0-5": 0.3, "6-11": 0.3, "12-17": 0.4}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INTERVENTION = {
    "start_year": 2025,
    "ramp_up_years": 2,
    "cost_per_year": 1e6,
    "hazard_ratios": {"mid": {"placed": 0.7}},
}
"""A small strategy for the toy scenario: fewer placements from 'mid', at a price."""

TOY: dict = {
    "name": "toy",
    "title": "Toy staircase",
    "language": "en",  # the tests read English labels; Danish ones are tested on their own
    "start_year": 2024,
    "horizon_years": 10,
    "price_year": 2024,
    "steps": {
        "low": {"name_da": "Lav", "name_en": "Low", "cost_per_year": 10_000},
        "mid": {"name_da": "Mellem", "name_en": "Middle", "cost_per_year": 100_000, "entry_cost": 5_000},
        "placed": {"name_da": "Anbragt", "name_en": "Placed", "placement": True, "cost_per_year": 500_000},
    },
    "population": {
        "children": 20_000,
        "entries_per_year": 600,
        "entry_age_shares": AGES3,
        "entry_step_shares": {"low": 0.6, "mid": 0.3, "placed": 0.1},
        "initial_stock": {
            "low": {"children": 300, "age_shares": AGES3},
            "placed": {"children": 150, "age_shares": {"0-5": 0.2, "6-11": 0.3, "12-17": 0.5}},
        },
    },
    "transitions": {
        "low": {"mid": 0.5, "closed": 1.0},
        "mid": {"low": 0.3, "placed": {"0-5": 0.1, "6-11": 0.2, "12-17": 0.3}, "closed": 0.5},
        "placed": {"mid": 0.2, "closed": 0.1},
    },
}


def smaller(scenario: Scenario, children: int) -> dict:
    """Changes that make ``scenario`` an area of ``children`` children: new cases and the children
    on the staircase at the start scale with it; costs per child and the programme's costs do not."""
    f = children / scenario.population.children
    changes = {"population.children": children, "population.entries_per_year": scenario.entries_per_year * f}
    for step, stock in scenario.population.initial_stock.items():
        changes[f"population.initial_stock.{step}.children"] = round(stock.children * f)
    return changes


def toy_dict(**changes) -> dict:
    """A deep copy of the toy scenario with top-level keys replaced."""
    d = copy.deepcopy(TOY)
    d.update(changes)
    return d


@pytest.fixture
def toy() -> Scenario:
    return Scenario.from_dict(toy_dict())


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write a dict (or raw text) as a TOML file in a temporary folder."""

    def write(data: dict | str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_text(tomli_w.dumps(data), encoding="utf-8")
        return path

    return write


def spells(log) -> np.ndarray:
    """The spell log as a table in a fixed order (child, then start)."""
    order = np.lexsort((log.end, log.start, log.child))
    cols = (
        log.child,
        log.step,
        log.from_step,
        log.to_step,
        log.extra,
        log.wait_for,
        log.overflowed_from,
        log.start,
        log.end,
        log.age_start,
    )
    return np.column_stack(cols)[order]


def assert_same_spells(a, b) -> None:
    """Steps, codes and counts exact; times to 1e-9 years (numpy's log and exp may
    round the last bit differently from math's)."""
    x, y = spells(a), spells(b)
    assert x.shape == y.shape
    np.testing.assert_array_equal(x[:, :7], y[:, :7])
    np.testing.assert_allclose(x[:, 7:9], y[:, 7:9], rtol=0, atol=1e-9)
    np.testing.assert_allclose(x[:, 9], y[:, 9], rtol=1e-6, atol=1e-6)  # float32 ages
    np.testing.assert_array_equal(a.reviews, b.reviews)
    assert a.n_children == b.n_children and a.horizon == b.horizon


def pytest_collection_finish(session: pytest.Session) -> None:
    """One BLAS thread per test process, as the simulations' own workers have (sim.run.workers).

    pytest-xdist already runs one test process per core; OpenBLAS's threads on
    top of them fight over the cores, and the engines' small matrix products
    then take up to 50 times longer (an analytic solve of 0.1 s took 3-13 s),
    which made the property tests' times swing by a minute from run to run.
    Set once every test module is imported, so that SciPy's own OpenBLAS
    (loaded with scipy.stats) is limited too; processes the tests start are not.
    """
    threadpool_limits(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow statistical tests first: on several cores (pytest-xdist) the longest ones then
    start at once instead of last, and the short ones fill in around them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# --- Charts: drawn in every test, rendered to image files only where that is tested ---


@functools.cache
def _tiny_images() -> tuple[bytes, bytes]:
    """A real PNG and SVG of a small empty figure: what a stand-in chart file holds."""
    from matplotlib.figure import Figure

    png, svg = io.BytesIO(), io.BytesIO()
    Figure(figsize=(1, 1)).savefig(png, format="png", dpi=10)
    Figure(figsize=(1, 1)).savefig(svg, format="svg", metadata={"Date": None})
    return png.getvalue(), svg.getvalue()


def _chart_drawn_not_rendered(task: tuple) -> tuple[str, bytes]:
    """Stands in for ``writers._save_chart``: the chart's figure is built (every word, number and
    artist of ours), but the files hold a tiny image instead of its rendering."""
    from sim.outputs import writers

    i, result, lang, folder = task
    chart = writers.CHARTS[i]
    chart.draw(result, lang)
    png, svg = _tiny_images()
    (folder / f"{chart.stem}.png").write_bytes(png)
    (folder / f"{chart.stem}.svg").write_bytes(svg)
    return chart.stem, png


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Charts in results folders are rendered only for tests marked ``charts``.

    Rendering a chart to PNG and SVG takes Matplotlib about a second, and the
    results folders the tests write hold some 300 charts: 40 % of the suite's
    time. Every other test still builds each chart's figure; the rendering is
    tested by the tests marked ``charts``, by ``tests/test_plots.py`` and by
    the commands run as processes (the README's first command among them).
    Set before the test's fixtures, which may write folders too; chart worker
    processes are forked from the test's process and inherit it.
    """
    from sim.outputs import writers

    global _real_save_chart
    if _real_save_chart is None:
        _real_save_chart = writers._save_chart
    real = item.get_closest_marker("charts") is not None
    writers._save_chart = _real_save_chart if real else _chart_drawn_not_rendered


_real_save_chart = None


# --- Processes (tests of worker processes read /proc: Linux) ---------------------


def gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting to be reaped has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    state = next(x for x in status.splitlines() if x.startswith("State:"))
    return state.split()[1] in ("Z", "X")


def wait_until(condition, timeout: float, step: float = 0.02) -> float | None:
    """Seconds until ``condition()`` held, or None if it did not within ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    return None


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
