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

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sim.analysis.uncertainty import PSAResult, Sensitivity, Tornado
from sim.outputs import language as L
from sim.outputs import report
from sim.outputs.language import Lang, t
from sim.outputs.report import assumptions, file_sources, interval_notes, key_figures
from sim.run.experiment import Comparison, Result

SHEETS = {
    "summary": ("Summary", "Resumé"),
    "yearly": ("By year and step", "År og trin"),
    "comparison": ("Comparison by year", "Sammenligning pr. år"),
    "psa": ("PSA", "PSA"),
    "tornado": ("Tornado", "Tornado"),
    "sensitivity": ("Sensitivity", "Følsomhed"),
    "assumptions": ("Assumptions", "Forudsætninger"),
    "provenance": ("Provenance", "Oprindelse"),
}
"""Sheet names by role, (English, Danish)."""

_FORMATS = {
    "children": "#,##0",
    "placements": "#,##0",
    "children1": "#,##0.0",
    "child_years": "#,##0",
    "child_years1": "#,##0.0",
    "persons": "+#,##0;-#,##0;0",
    "money": "#,##0",
    "ratio": "0.00",
    "year": "0",
    "share": "[>=0.995]0.0%;[<0.005]0.0%;0%",  # 99.6 % of draws is not "100 %"
}
_KIND_FORMATS = {
    "money": "#,##0",
    "count": "#,##0.0",
    "wait": "0.00",
    "share": "0.000",
    "year": "0",
    "value": "General",
    "parameter": "General",  # an input's value as written: a rate of 0.035 must not show as 0.0
}
"""Excel number formats by kind of number (:data:`sim.outputs.language.PRECISION`)."""
_HEADER_FILL = PatternFill("solid", fgColor="DCE3EC")
_BOLD = Font(bold=True)


def sheet_name(role: str, lang: Lang) -> str:
    """The name of a sheet in ``lang`` (see :data:`SHEETS`)."""
    en, da = SHEETS[role]
    return da if lang == "da" else en


def _cell(value: Any, kind: str | None = None, lang: Lang = "en") -> Any:
    """A value as a cell holds it.

    Excel has no NaN or infinity: the cell stays empty. A number keeps the
    stated precision of its ``kind`` (as the CSV files), and a yes/no is a
    word in ``lang``, not TRUE or FALSE.
    """
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return ("ja" if value else "nej") if lang == "da" else ("yes" if value else "no")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float) and kind is not None:
        return L.rounded(value, kind)
    return value


def _column_format(name: str) -> str | None:
    """Excel's number format for a column of numbers, by the kind of number it holds."""
    if name in ("step", "step_name", "arm", "placement", "metric", "unit", "parameter", "key", "source"):
        return None
    if name in ("description", "baseline", "strategy", "low", "high"):
        return None  # inputs as written: a rate of 0.035 must not show as 0.0
    if name in ("utilisation", "probability_break_even"):
        return "0.0%"
    if name == "discount_factor":
        return "0.0000"
    kind = L.measure_kind(name)
    if kind == "value":
        return "#,##0.0"  # other counts are means over replications: one decimal
    return {"share": "0.00"}.get(kind, _KIND_FORMATS[kind])


def _table(
    ws,
    df: pd.DataFrame,
    headers: list[str],
    first_row: int = 1,
    lang: Lang = "en",
    kinds: dict[str, str] | None = None,
    row_kinds: list[str] | None = None,
) -> None:
    """A table with a bold, frozen, filterable header row and fitted column widths.

    Numbers keep the stated precision of their kind, as in the CSV files:
    by column name, or as ``kinds`` says for a column, or per row
    (``row_kinds``, a table of metrics).
    """
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=first_row, column=j, value=h)
        c.font, c.fill = _BOLD, _HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    kinds = kinds or {}
    formats = [
        _KIND_FORMATS[kinds[str(c)]] if str(c) in kinds else _column_format(str(c)) for c in df.columns
    ]
    column_kinds = [kinds.get(str(c), L.measure_kind(str(c))) for c in df.columns]
    for i, row in enumerate(df.itertuples(index=False), start=first_row + 1):
        for j, value in enumerate(row, start=1):
            kind = row_kinds[i - first_row - 1] if row_kinds else column_kinds[j - 1]
            c = ws.cell(row=i, column=j, value=_cell(value, kind, lang))
            fmt = _KIND_FORMATS[kind] if row_kinds else formats[j - 1]
            if fmt and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                c.number_format = fmt
    ws.freeze_panes = ws.cell(row=first_row + 1, column=1)
    last = get_column_letter(max(1, len(headers)))
    ws.auto_filter.ref = f"A{first_row}:{last}{first_row + len(df)}"
    _fit(ws, headers, df)


TABLE_ROW = 3
"""The header row of a data sheet's table: row 1 says what its money is (price year, discounting)."""


def _note(ws, text: str) -> None:
    """A data sheet's first row: what its numbers are, above the table (the header is frozen below it)."""
    ws.cell(row=1, column=1, value=text).font = Font(italic=True, size=9)


def _fit(ws, headers: list[str], df: pd.DataFrame) -> None:
    for j, h in enumerate(headers, start=1):
        values = df.iloc[:200, j - 1] if j <= df.shape[1] else []
        longest = max([len(str(h)) * 0.9, *(len(_shown(v)) for v in values)], default=8)
        ws.column_dimensions[get_column_letter(j)].width = min(48, max(9, longest + 2))


def _shown(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)


def _summary(
    ws, result: Result | Comparison, lang: Lang, psa, pngs: dict[str, bytes], warnings: list[str] = ()
) -> None:
    cmp = isinstance(result, Comparison)
    base = result.base.scenario if cmp else result.scenario
    years = result.years
    title = L.title_of(result.strategy.scenario if cmp else base, lang)
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    if cmp:
        vs = "sammenlignet med" if lang == "da" else "compared with"
        ws["A2"] = f"{vs} {L.title_of(base, lang)}, {years[0]}-{years[-1]}"
    else:
        ws["A2"] = f"{years[0]}-{years[-1]}"
    kf = key_figures(result, lang, psa)
    headers = [L.column(c, lang) for c in ("metric", "mean", "precision", "range_low", "range_high", "unit")]
    first = 4
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=first, column=j, value=h)
        c.font, c.fill = _BOLD, _HEADER_FILL
    for i, r in enumerate(kf.itertuples(index=False), start=first + 1):
        ws.cell(row=i, column=1, value=r.label)
        kind = L.measure_kind(r.metric.removeprefix("psa_"))
        half = r.mc_high - r.centre if np.isfinite(r.mc_high) else np.nan
        for j, v in ((2, r.centre), (3, half), (4, r.p5), (5, r.p95)):
            if j in (2, 4, 5) and r.kind == "year" and isinstance(v, float) and math.isnan(v):
                if j == 2:  # "not within 2043": no payback is an answer
                    ws.cell(row=i, column=j, value=r.text)
                elif np.isfinite(r.p5) or np.isfinite(r.p95):  # "2026 – not within 2043", both ends said
                    ws.cell(
                        row=i, column=j, value=report.format_value(v, "year", lang, last_year=int(years[-1]))
                    )
                continue
            if j == 3 and (not (isinstance(v, float) and v > 0) or r.metric in report.PROBABILITIES):
                # "exact", nothing to say, or Wilson's interval of a share ("64 % – 95 %": not symmetric)
                ws.cell(row=i, column=j, value=r.precision or None)
                continue
            if j in (4, 5) and r.p5 == r.p95:
                continue  # the same in every replication (the investment): no range to show
            c = ws.cell(row=i, column=j, value=_cell(v, kind, lang))
            c.number_format = _FORMATS[r.kind]
        ws.cell(row=i, column=6, value=r.unit)
    below = first + len(kf) + 2
    ws.cell(row=below, column=1, value=report.figures_money_note(result, lang)).font = Font(
        italic=True, size=9
    )
    notes = interval_notes(result, lang)
    arm = result.base if cmp else result
    if arm.engine == "expected":
        notes = [t("expected_note", lang)]
    if cmp:
        notes.append(t("delayed_note", lang, y0=int(years[0]), y1=int(years[-1])))
    if psa is not None:
        notes.append(t("wb_psa_rows_des" if psa.engine == "des" else "wb_psa_rows", lang))
    for k, note in enumerate(notes, start=1):
        ws.cell(row=below + k, column=1, value=note).font = Font(italic=True, size=9)
    below += len(notes) - 1
    if warnings:  # the command's warnings about the inputs travel with the figures: above them, and listed
        warned = t("inputs_warned", lang, n=len(warnings))
        ws["A3"] = warned
        ws["A3"].font = Font(bold=True, color="8A3A00")
        ws.cell(row=below + 2, column=1, value=warned).font = Font(bold=True, color="8A3A00")
        for k, w in enumerate(warnings, start=3):
            ws.cell(row=below + k, column=1, value=w)
        below += len(warnings) + 2
    ws.column_dimensions["A"].width = max(34, max(len(x) for x in kf["label"]) + 2)
    for col in "BCDE":
        ws.column_dimensions[col].width = 17
    ws.column_dimensions["F"].width = 44
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    row = below + 3
    # The placed children with and without the strategy (what a committee reads first), then the payback.
    for stem in ("placed_children", "payback") if cmp else ("staircase",):
        chart = pngs.get(stem)
        if not chart:
            continue
        img = Image(io.BytesIO(chart))
        scale = 620 / img.width
        img.width, img.height = int(img.width * scale), int(img.height * scale)
        ws.add_image(img, f"A{row}")
        row += int(img.height / 20) + 2  # rows are 20 pixels high


def _by_parameter(wb, role: str, result, in_outcome: tuple[str, ...], note: str, base, lang: Lang) -> None:
    """A sheet of a table by uncertain number (tornado, sensitivity): each number in words beside its
    key, the ``in_outcome`` columns in the outcome's unit, and ``note`` below (money: with its note)."""
    tab = result.table.rename(columns={"parameter": "key"})
    tab.insert(1, "description", [L.describe(base, k, lang) for k in tab["key"]])
    if "high" in tab:  # the inputs' low and high values are bare numbers: their unit beside them
        units = [L.input_unit(k, lang, base.currency) for k in tab["key"]]
        tab.insert(list(tab.columns).index("high") + 1, "unit", units)
    outcome = L.measure_kind(result.outcome)
    ws = wb.create_sheet(sheet_name(role, lang))
    kinds = dict.fromkeys(in_outcome, outcome)
    if "swing" in tab:  # a tornado's parameter values: as tornado.csv keeps them (12 significant digits)
        kinds.update(dict.fromkeys(("low", "high"), "parameter"))
    _table(ws, tab, [L.column(c, lang) for c in tab.columns], lang=lang, kinds=kinds)
    if outcome == "money":
        note += (" " if note.endswith(".") else ": ") + L.money_note(base, lang)
    ws.cell(row=len(tab) + 3, column=1, value=note).font = Font(italic=True, size=9)


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
    sensitivity = next((e for e in extras if isinstance(e, Sensitivity)), None)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name("summary", lang)
    _summary(ws, result, lang, psa, pngs or {}, meta.get("warnings", []))

    arms = result.arms
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
    money = L.money_note(base, lang)
    ws = wb.create_sheet(sheet_name("yearly", lang))
    _note(ws, f"{money} {t('wb_yearly_money', lang)}")
    _table(ws, yearly, [L.column(c, lang, base) for c in yearly.columns], first_row=TABLE_ROW, lang=lang)
    if cmp:
        y = result.yearly
        ws = wb.create_sheet(sheet_name("comparison", lang))
        _note(ws, f"{money} {t('wb_yearly_money', lang)} {t('wb_comparison_ranges', lang)}")
        _table(ws, y, [L.column(c, lang, base) for c in y.columns], first_row=TABLE_ROW, lang=lang)
    if psa is not None:
        ws = wb.create_sheet(sheet_name("psa", lang))
        what = t("wb_psa_des" if psa.engine == "des" else "wb_psa_expected", lang)
        _note(
            ws, f"{t('wb_psa', lang, n=L.number(psa.draws, lang), what=what)} {L.money_note(psa.base, lang)}"
        )
        # Every row's mean is over the draws (the note says so): no column for it.
        summary = psa.summary.reset_index().drop(columns=["unit", "mean_from"])
        row_kinds = [L.measure_kind(m) for m in summary["metric"]]
        # A probability's interval is Wilson's; its plug-in standard error is 0 when every draw agrees,
        # which would claim a precision 200 draws do not have.
        summary.loc[summary["metric"].str.startswith("probability"), "mc_se"] = np.nan
        # A payback year beyond the horizon is a finding ("not by 2043"), not an empty cell: a
        # percentile's, and the mean's (that of the mean cash flow, as the note says).
        last = int(psa.years[-1])
        at_stake = (psa.arrays["total_investment_pv"] != 0) | (psa.arrays["total_gross_savings_pv"] != 0)
        no_year = (  # a payer no draw gives a share: nothing to pay back, not "never"
            report.format_value(np.nan, "year", lang, last_year=last)
            if at_stake.any()
            else report.no_money_text(lang)
        )
        for col in ("mean", "p5", "p95", "median"):
            if col in summary:
                summary[col] = summary[col].astype(object)
                never = (summary["metric"] == "payback_year") & summary[col].isna()
                summary.loc[never, col] = no_year
        summary = summary.assign(metric=[report.outcome_name(m, lang) for m in summary["metric"]])
        _table(
            ws,
            summary,
            [L.column(c, lang) for c in summary.columns],
            first_row=TABLE_ROW,
            lang=lang,
            row_kinds=row_kinds,
        )
        row = TABLE_ROW + len(summary) + 2
        b = psa.breakeven
        for j, c in enumerate(b.columns, start=1):
            cell = ws.cell(row=row, column=j, value=L.column(c, lang))
            cell.font, cell.fill = _BOLD, _HEADER_FILL
        for i, r in enumerate(b.itertuples(index=False), start=row + 1):
            ws.cell(row=i, column=1, value=int(r.year))
            share = _cell(float(r.probability_break_even), "share", lang)
            ws.cell(row=i, column=2, value=share).number_format = _FORMATS["share"]
    if tornado is not None:
        note = report.outcome_name(tornado.outcome, lang)
        _by_parameter(wb, "tornado", tornado, ("outcome_low", "outcome_high", "swing"), note, base, lang)
    if sensitivity is not None:  # as the HTML report shows it; Sobol's indices are shares
        note = f"{L.t('method_' + sensitivity.method, lang)}, {report.outcome_name(sensitivity.outcome, lang, True)}"
        if sensitivity.method == "morris":
            note += ". " + t(
                "morris_measures", lang, outcome=report.outcome_name(sensitivity.outcome, lang, True)
            )
        columns = ("mu_star", "mu_star_conf", "mu", "sigma")
        _by_parameter(wb, "sensitivity", sensitivity, columns, note, base, lang)
    table = assumptions(base, result.strategy.scenario if cmp else None, lang=lang, **file_sources(meta))
    ws = wb.create_sheet(sheet_name("assumptions", lang))
    # Values in words and the language's number format, with units, as in the HTML report.
    shown = table[[c for c in ("key", "description", "baseline", "strategy", "source") if c in table]]
    _table(ws, shown, [L.column(c, lang) for c in shown.columns], lang=lang)
    for i, differs in enumerate(table["differs"], start=2):
        if differs:
            for j in range(1, shown.shape[1] + 1):
                ws.cell(row=i, column=j).font = _BOLD
    note = t(
        "assumptions_note", lang, currency=L.currency_symbol(base.currency, lang), price_year=base.price_year
    )
    ws.cell(row=len(shown) + 3, column=1, value=note).font = Font(italic=True, size=9)
    ws = wb.create_sheet(sheet_name("provenance", lang))
    da = lang == "da"
    rows = [
        ("trappesim", meta.get("trappesim_version", "")),
        ("Kørt (UTC)" if da else "Run (UTC)", meta.get("created_utc", "")),
        ("Kommando" if da else "Command", " ".join(meta.get("command", []))),
        *(
            # Expected values: nothing was drawn or repeated ("1 replication" would say it ran once).
            [
                (
                    "Seed",
                    "– (forventede værdier: ingen tilfældige tal)"
                    if da
                    else "– (expected values: no random numbers)",
                ),
                ("Kørsler" if da else "Replications", "–"),
            ]
            if meta.get("engine") == "expected"
            else [
                ("Seed", meta.get("seed", "")),
                ("Kørsler" if da else "Replications", meta.get("replications", "")),
            ]
        ),
        ("Beregning" if da else "Engine", L.engine_name(meta.get("engine", ""), lang)),
        ("Input-hash" if da else "Input hash", meta.get("input_hash", "")),
        *((f"sha256 {p}", h) for p, h in meta.get("input_files_sha256", {}).items()),
    ]
    if psa is not None:
        rows.append(
            (
                "PSA",
                f"{L.number(psa.draws, lang)} {'træk' if da else 'draws'}, seed {psa.seed}, "
                f"{L.engine_name(psa.engine, lang)}",
            )
        )
    if tornado is not None:
        rows.append(
            (
                "Tornado",
                f"{report.outcome_name(tornado.outcome, lang)}, {L.engine_name(tornado.engine, lang)}",
            )
        )
    if sensitivity is not None:
        rows.append(
            (
                "Følsomhed" if da else "Sensitivity",
                f"{L.t('method_' + sensitivity.method, lang)}, {report.outcome_name(sensitivity.outcome, lang)}, "
                f"seed {sensitivity.seed}, {L.engine_name(sensitivity.engine, lang)}",
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
