"""The Excel workbook (``report.xlsx``) for budget notes, written with openpyxl.

A summary sheet a planner can paste from (key figures with intervals, the
money note, a chart), then the tables behind it: year by step, the
comparison by year, the probabilistic analysis when there is one, every
assumption with its source, and where the numbers came from. Cells hold
values, never formulas, so adding or sorting rows breaks nothing; number
formats are Excel's own, so Excel shows them with the reader's separators.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sim import language as L
from sim.experiment import Comparison, Result
from sim.language import Lang, t
from sim.report import assumptions, key_figures
from sim.uncertainty import PSAResult, Sensitivity, Tornado

SHEETS = {
    "summary": ("Summary", "Resumé"),
    "yearly": ("By year and step", "År og trin"),
    "comparison": ("Comparison by year", "Sammenligning pr. år"),
    "psa": ("PSA", "PSA"),
    "tornado": ("Tornado", "Tornado"),
    "assumptions": ("Assumptions", "Forudsætninger"),
    "provenance": ("Provenance", "Oprindelse"),
}
"""Sheet names by role, (English, Danish)."""

_FORMATS = {
    "children": "#,##0",
    "children1": "#,##0.0",
    "child_years": "#,##0",
    "child_years1": "#,##0.0",
    "persons": "+#,##0;-#,##0;0",
    "money": "#,##0",
    "ratio": "0.00",
    "year": "0",
    "share": "0%",
}
_HEADER_FILL = PatternFill("solid", fgColor="DCE3EC")
_BOLD = Font(bold=True)


def sheet_name(role: str, lang: Lang) -> str:
    """The name of a sheet in ``lang`` (see :data:`SHEETS`)."""
    en, da = SHEETS[role]
    return da if lang == "da" else en


def _cell(value: Any) -> Any:
    """Excel has no NaN or infinity: leave the cell empty."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return value


def _column_format(name: str) -> str | None:
    if name == "year":
        return "0"
    if name.startswith(("cost", "savings_", "investment", "gross_savings", "net_savings", "cum_net")):
        return "#,##0"
    if name in ("utilisation", "probability_break_even"):
        return "0.0%"
    if name == "discount_factor":
        return "0.0000"
    if name in ("step", "step_name", "arm", "placement", "metric", "unit", "parameter", "key", "source"):
        return None
    if name in ("description", "baseline", "strategy", "low", "high"):
        return None  # inputs as written: a rate of 0.035 must not show as 0.0
    return "#,##0.0"  # counts are means over replications: one decimal


def _table(ws, df: pd.DataFrame, headers: list[str], first_row: int = 1) -> None:
    """A table with a bold, frozen, filterable header row and fitted column widths."""
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=first_row, column=j, value=h)
        c.font, c.fill = _BOLD, _HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    formats = [_column_format(str(c)) for c in df.columns]
    for i, row in enumerate(df.itertuples(index=False), start=first_row + 1):
        for j, value in enumerate(row, start=1):
            c = ws.cell(row=i, column=j, value=_cell(value))
            if formats[j - 1] and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                c.number_format = formats[j - 1]
    ws.freeze_panes = ws.cell(row=first_row + 1, column=1)
    last = get_column_letter(max(1, len(headers)))
    ws.auto_filter.ref = f"A{first_row}:{last}{first_row + len(df)}"
    _fit(ws, headers, df)


def _fit(ws, headers: list[str], df: pd.DataFrame) -> None:
    for j, h in enumerate(headers, start=1):
        values = df.iloc[:200, j - 1] if j <= df.shape[1] else []
        longest = max([len(str(h)) * 0.9, *(len(_shown(v)) for v in values)], default=8)
        ws.column_dimensions[get_column_letter(j)].width = min(48, max(9, longest + 2))


def _shown(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)


def _summary(ws, result: Result | Comparison, lang: Lang, psa, pngs: dict[str, bytes]) -> None:
    cmp = isinstance(result, Comparison)
    base = result.base.scenario if cmp else result.scenario
    years = result.years
    title = (
        (result.strategy.scenario.title or result.strategy.scenario.name)
        if cmp
        else (base.title or base.name)
    )
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    if cmp:
        vs = "sammenlignet med" if lang == "da" else "compared with"
        ws["A2"] = f"{vs} {base.title or base.name}, {years[0]}-{years[-1]}"
    else:
        ws["A2"] = f"{years[0]}-{years[-1]}"
    kf = key_figures(result, lang, psa)
    headers = [L.column(c, lang) for c in ("metric", "mean", "p5", "p95", "unit")]
    first = 4
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=first, column=j, value=h)
        c.font, c.fill = _BOLD, _HEADER_FILL
    for i, r in enumerate(kf.itertuples(index=False), start=first + 1):
        ws.cell(row=i, column=1, value=r.label)
        for j, v in enumerate((r.centre, r.p5, r.p95), start=2):
            if r.kind == "year" and isinstance(v, float) and math.isnan(v) and j == 2:
                ws.cell(row=i, column=j, value=r.text)  # "not within 2043": no payback is an answer
                continue
            c = ws.cell(row=i, column=j, value=_cell(v))
            c.number_format = _FORMATS[r.kind]
        ws.cell(row=i, column=5, value=r.unit)
    below = first + len(kf) + 2
    ws.cell(row=below, column=1, value=L.money_note(base, lang)).font = Font(italic=True, size=9)
    reps = result.base.replications if cmp else result.replications
    note = (
        f"5 %- og 95 %-fraktil over {reps} simuleringskørsler (tilfældighed i børnenes forløb); "
        "rækker mærket PSA: over træk af de usikre forudsætninger."
        if lang == "da"
        else f"5th and 95th percentiles over {reps} replications (chance in children's paths); "
        "rows marked PSA: over draws of the uncertain assumptions."
    )
    ws.cell(row=below + 1, column=1, value=note).font = Font(italic=True, size=9)
    ws.column_dimensions["A"].width = max(34, max(len(x) for x in kf["label"]) + 2)
    for col in "BCD":
        ws.column_dimensions[col].width = 16
    ws.column_dimensions["E"].width = 44
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    chart = pngs.get("payback") or pngs.get("staircase")
    if chart:
        img = Image(io.BytesIO(chart))
        scale = 620 / img.width
        img.width, img.height = int(img.width * scale), int(img.height * scale)
        ws.add_image(img, f"A{below + 3}")


def write_workbook(
    result: Result | Comparison,
    path: str | Path,
    meta: dict[str, Any],
    lang: str | None = None,
    extras: list[PSAResult | Tornado | Sensitivity] = (),
    pngs: dict[str, bytes] | None = None,
) -> Path:
    """Write ``report.xlsx`` for a run or a comparison.

    Parameters
    ----------
    result : Result or Comparison
    path : path
        The workbook to write.
    meta : dict
        The results folder's manifest.
    lang : {"da", "en"}, optional
        Default: the scenario's language.
    extras : list
        Uncertainty results for the same scenarios (a PSA adds a sheet and
        the probability that NPV > 0).
    pngs : dict
        Chart PNGs by stem; the summary sheet shows the payback chart.
    """
    cmp = isinstance(result, Comparison)
    base = result.base.scenario if cmp else result.scenario
    lang = L.resolve(lang, base)
    psa = next((e for e in extras if isinstance(e, PSAResult)), None)
    tornado = next((e for e in extras if isinstance(e, Tornado)), None)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name("summary", lang)
    _summary(ws, result, lang, psa, pngs or {})

    arms = {"baseline": result.base, "strategy": result.strategy} if cmp else {"scenario": result}
    arm_names = {
        "baseline": L.column("baseline", lang),
        "strategy": L.column("strategy", lang),
        "scenario": "",
    }
    frames = []
    for role, arm in arms.items():
        df = arm.yearly.copy()
        df["step_name"] = [
            L.step_name(arm.scenario, s, lang) if s in arm.scenario.steps else t("programme_row", lang)
            for s in df["step"]
        ]
        frames.append(df.assign(arm=arm_names[role]) if cmp else df)
    yearly = pd.concat(frames, ignore_index=True)
    if cmp:
        yearly = yearly[["arm", *[c for c in yearly.columns if c != "arm"]]]
    _table(
        wb.create_sheet(sheet_name("yearly", lang)), yearly, [L.column(c, lang, base) for c in yearly.columns]
    )
    if cmp:
        y = result.yearly
        _table(
            wb.create_sheet(sheet_name("comparison", lang)), y, [L.column(c, lang, base) for c in y.columns]
        )
    if psa is not None:
        ws = wb.create_sheet(sheet_name("psa", lang))
        summary = psa.summary.drop(columns="unit")
        _table(ws, summary, [L.column(c, lang) for c in summary.columns])
        row = len(summary) + 3
        b = psa.breakeven
        for j, c in enumerate(b.columns, start=1):
            cell = ws.cell(row=row, column=j, value=L.column(c, lang))
            cell.font, cell.fill = _BOLD, _HEADER_FILL
        for i, r in enumerate(b.itertuples(index=False), start=row + 1):
            ws.cell(row=i, column=1, value=int(r.year))
            ws.cell(row=i, column=2, value=float(r.probability_break_even)).number_format = "0%"
    if tornado is not None:
        tab = tornado.table
        _table(wb.create_sheet(sheet_name("tornado", lang)), tab, [L.column(c, lang) for c in tab.columns])
    notes = {role: v.get("notes", {}) for role, v in meta.get("scenarios", {}).items()}
    notes.setdefault("baseline", notes.get("scenario", {}))
    table = assumptions(base, result.strategy.scenario if cmp else None, notes, lang)
    ws = wb.create_sheet(sheet_name("assumptions", lang))
    shown = table.drop(columns="differs").map(
        lambda v: v if isinstance(v, int | float | str) or v is None else str(v)
    )
    _table(ws, shown, [L.column(c, lang) for c in shown.columns])
    for i, differs in enumerate(table["differs"], start=2):
        if differs:
            for j in range(1, shown.shape[1] + 1):
                ws.cell(row=i, column=j).font = _BOLD
    ws = wb.create_sheet(sheet_name("provenance", lang))
    da = lang == "da"
    rows = [
        ("trappesim", meta.get("trappesim_version", "")),
        ("Kørt (UTC)" if da else "Run (UTC)", meta.get("created_utc", "")),
        ("Kommando" if da else "Command", " ".join(meta.get("command", []))),
        ("Seed", meta.get("seed", "")),
        ("Kørsler" if da else "Replications", meta.get("replications", "")),
        ("Beregning" if da else "Engine", L.engine_name(meta.get("engine", ""), lang)),
        ("Input-hash" if da else "Input hash", meta.get("input_hash", "")),
        *((f"sha256 {p}", h) for p, h in meta.get("input_files_sha256", {}).items()),
    ]
    if psa is not None:
        rows.append(
            (
                "PSA",
                f"{psa.draws} {'træk' if da else 'draws'}, seed {psa.seed}, {L.engine_name(psa.engine, lang)}",
            )
        )
    for i, (k, v) in enumerate(rows, start=1):
        ws.cell(row=i, column=1, value=k).font = _BOLD
        ws.cell(row=i, column=2, value=v)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 80
    path = Path(path)
    wb.save(path)
    return path
