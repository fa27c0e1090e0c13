"""The outputs of a results folder, one registered writer each: charts, the workbook, the HTML report.

A writer is a name, the kinds of result it is for, and a function that
writes its files into a folder and returns their names. :func:`write_reports`
(a new results folder) and ``trappesim report`` (remaking one) run every
writer that applies, in order; a new output format is one function and one
:func:`register` call, and nothing else changes::

    def write_markdown(out: Output) -> list[str]:
        text = "\\n".join(f"- {r.label}: {r.text}" for r in key_figures(out.result, out.lang).itertuples())
        (out.folder / "summary.md").write_text(text, encoding="utf-8")
        return ["summary.md"]

    register(Writer("markdown", (Result, Comparison), write_markdown))

Charts are registered the same way (:data:`CHARTS`): a file stem, the kinds of
result, the function in :mod:`sim.outputs.plots` that draws it, and when it
applies. Writers never simulate: they read the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.analysis.calibrate import Calibration
from sim.analysis.uncertainty import PSAResult, Tornado
from sim.outputs import plots, report
from sim.run.experiment import Comparison, Result
from sim.run.workers import map_tasks


@dataclass
class Output:
    """What a writer gets: the result and where and how to write it."""

    result: Any
    folder: Path
    meta: dict[str, Any]
    lang: str | None = None
    extras: list = field(default_factory=list)
    """Uncertainty results for the same scenarios (``report --with``), shown in a comparison's reports."""
    pngs: dict[str, bytes] = field(default_factory=dict)
    """The charts written so far, as PNG bytes by stem: the reports embed them."""


@dataclass(frozen=True)
class Writer:
    """One output of a results folder."""

    name: str
    kinds: tuple[type, ...]
    write: Callable[[Output], list[str]]
    """Writes into ``Output.folder``; returns the files written, relative to it."""


@dataclass(frozen=True)
class Chart:
    """One chart: its file stem, the kinds of result it is drawn for, and how."""

    stem: str
    kinds: tuple[type, ...]
    draw: Callable[[Any, str | None], Any]
    """``draw(result, lang)`` returns a Matplotlib figure."""
    when: Callable[[Any], bool] = lambda result: True


CHARTS: list[Chart] = [
    # First: the chart a committee reads in ten seconds.
    Chart("placed_children", (Comparison,), plots.placed_children),
    Chart("staircase", (Result, Comparison), plots.staircase),
    Chart("placements_avoided", (Comparison,), plots.placements_avoided),
    Chart("payback", (Comparison,), plots.payback),
    Chart("waterfall", (Comparison,), plots.waterfall),
    Chart("waiting_list", (Result, Comparison), plots.waiting_list, lambda r: r.has_capacity),
    Chart("utilisation", (Result, Comparison), plots.utilisation, lambda r: r.has_capacity),
    Chart("breakeven", (PSAResult,), plots.breakeven),
    Chart("npv_distribution", (PSAResult,), plots.npv_distribution),
    Chart("tornado", (Tornado,), plots.tornado),
    Chart("calibration", (Calibration,), plots.calibration),
]
"""Every chart, in the order a report shows them."""


def charts(result: Any, lang: str | None = None) -> dict[str, Callable[[], Any]]:
    """The charts for a result, by file stem, each drawn when called, in ``lang``."""
    return {
        c.stem: (lambda c=c: c.draw(result, lang))
        for c in CHARTS
        if isinstance(result, c.kinds) and c.when(result)
    }


def save_charts(result: Any, folder: Path, lang: str | None) -> dict[str, bytes]:
    """Write every chart of ``result`` into ``folder`` as PNG and SVG; return the PNG bytes by stem.

    Several charts are drawn side by side on the machine's cores: Matplotlib's
    text layout makes each chart take about half a second, and a comparison has
    seven of them.
    """
    todo = [i for i, c in enumerate(CHARTS) if isinstance(result, c.kinds) and c.when(result)]
    if not todo:
        return {}
    folder.mkdir(exist_ok=True)
    tasks = [(i, result, lang, folder) for i in todo]
    workers = min(len(tasks), os.cpu_count() or 1) if CHART_WORKERS is None else CHART_WORKERS
    return dict(map_tasks(_save_chart, tasks, workers))


CHART_WORKERS: int | None = None
"""Processes that draw a result's charts (``None``: one per core, at most one per chart)."""


def _save_chart(task: tuple[int, Any, str | None, Path]) -> tuple[str, bytes]:
    """Draw chart ``CHARTS[i]`` of a result and save it: one task of :func:`save_charts`."""
    i, result, lang, folder = task
    chart = CHARTS[i]
    fig = chart.draw(result, lang)
    fig.savefig(folder / f"{chart.stem}.png", dpi=150)
    fig.savefig(folder / f"{chart.stem}.svg", metadata={"Date": None})
    return chart.stem, (folder / f"{chart.stem}.png").read_bytes()


def _write_charts(out: Output) -> list[str]:
    """The charts of the result and of the extras, in ``charts/``."""
    for result in (out.result, *out.extras):
        out.pngs.update(save_charts(result, out.folder / "charts", out.lang))
    return [f"charts/{stem}.{ext}" for stem in out.pngs for ext in ("png", "svg")]


def _write_workbook(out: Output) -> list[str]:
    from sim.outputs import workbook  # openpyxl: only to write the workbook

    workbook.write_workbook(out.result, out.folder / "report.xlsx", out.meta, out.lang, out.extras, out.pngs)
    return ["report.xlsx"]


def _write_html(out: Output) -> list[str]:
    html = report.render_html(out.result, out.meta, out.lang, out.extras, out.pngs)
    (out.folder / "report.html").write_text(html, encoding="utf-8")
    return ["report.html"]


WRITERS: list[Writer] = []
"""The registered writers, in the order they run (charts first: the reports embed them)."""


def register(writer: Writer) -> Writer:
    """Add a writer (after those registered before it); returns it."""
    if any(w.name == writer.name for w in WRITERS):
        raise ValueError(f"a writer named {writer.name!r} is registered already")
    WRITERS.append(writer)
    return writer


register(Writer("charts", (Result, Comparison, PSAResult, Tornado, Calibration), _write_charts))
register(Writer("workbook", (Result, Comparison), _write_workbook))
register(Writer("html", (Result, Comparison), _write_html))


def write_reports(
    result: Any, folder: Path, meta: dict[str, Any], lang: str | None = None, extras: list = ()
) -> list[str]:
    """Run every writer registered for this kind of result.

    Parameters
    ----------
    folder : Path
        Where to write.
    meta : dict
        The folder's manifest (provenance for the reports); its ``language``
        is set to the outputs' language.
    extras : list
        Uncertainty results for the same scenarios, shown in the reports.

    Returns
    -------
    list of str
        The files written, relative to ``folder``.
    """
    for extra in extras:
        report.check_extra(result, extra)
    meta["language"] = plots._lang(result, lang)  # the outputs', which --lang may set apart from the file's
    out = Output(result, folder, meta, lang, list(extras))
    written: list[str] = []
    for writer in WRITERS:
        if isinstance(result, writer.kinds):
            written += writer.write(out)
    return written
