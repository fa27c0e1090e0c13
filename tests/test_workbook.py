"""The Excel workbook: opens with openpyxl, holds the CSV numbers, reads well."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import INTERVENTION, toy_dict
from openpyxl import load_workbook

import sim
from sim.outputs import language as L
from sim.outputs import report
from sim.outputs.results import write_results
from sim.outputs.workbook import SHEETS, TABLE_ROW, sheet_name


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A comparison's results folder, written as the CLI writes it (Danish)."""
    d = tmp_path_factory.mktemp("wb")
    base = d / "base.toml"
    base.write_text(tomli_w.dumps(toy_dict(language="da")), encoding="utf-8")
    plan = d / "plan.toml"
    plan.write_text(tomli_w.dumps({"extends": "base.toml", "name": "plan", "intervention": INTERVENTION}))
    cmp = sim.compare(sim.load_scenario(base), sim.load_scenario(plan), replications=3, seed=5)
    return write_results(cmp, d / "out", {"baseline": base, "strategy": plan}, ["trappesim", "compare"], 0.1)


def sheet_frame(ws) -> pd.DataFrame:
    """A sheet's table: from its header row (below the note of a data sheet)."""
    rows = list(ws.iter_rows(values_only=True))
    first = TABLE_ROW - 1 if ws.title in DATA_SHEETS else 0
    return pd.DataFrame(rows[first + 1 :], columns=rows[first])


DATA_SHEETS = {sheet_name(r, lang) for r in ("yearly", "comparison", "psa") for lang in ("da", "en")}


def _uncertain_pair(median: float | None = None, p95: float = 1.0):
    """The toy with an uncertain cost of placement, and a strategy (with an uncertain effect if ``median``)."""
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = sim.Scenario.from_dict(d)
    iv = dict(INTERVENTION)
    if median is not None:
        iv["hazard_ratios"] = {"mid": {"placed": {"dist": "lognormal", "median": median, "p95": p95}}}
    return base, base.with_changes({"name": "plan", "intervention": iv})


def test_workbook_has_its_sheets_in_danish(folder):
    wb = load_workbook(folder / "report.xlsx")
    assert wb.sheetnames == [
        sheet_name(r, "da") for r in ("summary", "yearly", "comparison", "assumptions", "provenance")
    ]
    assert all(len(n) <= 31 for en, da in SHEETS.values() for n in (en, da))  # Excel's limit


def test_yearly_sheet_holds_the_csv_numbers(folder):
    csv = pd.read_csv(folder / "yearly.csv")
    ws = load_workbook(folder / "report.xlsx")[sheet_name("yearly", "da")]
    xl = sheet_frame(ws)
    assert len(xl) == len(csv)
    for col in ("stock_end", "child_years", "placement_entries", "cost", "cost_discounted"):
        got = xl[L.column(col, "da")].astype(float).to_numpy()
        # openpyxl writes 16 significant digits (Excel itself keeps 15): equal to the last digit.
        np.testing.assert_allclose(got, csv[col].to_numpy(), rtol=1e-15, atol=0, err_msg=col)
    assert list(xl[L.column("year", "da")]) == list(csv["year"])
    assert set(xl[L.column("arm", "da")]) == {"Basis", "Strategi"}
    assert "Anbragt" in set(xl[L.column("step_name", "da")])  # step names from the scenario, in Danish


def test_comparison_sheet_holds_the_csv_numbers(folder):
    csv = pd.read_csv(folder / "comparison_yearly.csv")
    xl = sheet_frame(load_workbook(folder / "report.xlsx")[sheet_name("comparison", "da")])
    assert len(xl.columns) == len(csv.columns)
    for j, col in enumerate(csv.columns):
        got = pd.to_numeric(xl.iloc[:, j]).to_numpy(dtype=float)
        np.testing.assert_allclose(got, csv[col].to_numpy(dtype=float), rtol=1e-15, atol=0, err_msg=col)


def test_summary_sheet_has_the_key_figures_of_comparison_csv(folder):
    csv = pd.read_csv(folder / "comparison.csv").set_index("metric")
    ws = load_workbook(folder / "report.xlsx")[sheet_name("summary", "da")]
    rows = {r[0]: r[1:6] for r in ws.iter_rows(min_row=5, max_row=14, values_only=True) if r[0]}
    kf = sim.key_figures(sim.load_results(folder), "da")
    for r in kf.itertuples():
        mean, precision, p5, p95, unit = rows[r.label]
        want = csv.loc[r.metric, "mean"]  # the payback year too: that of the mean cash flow
        lo, hi = csv.loc[r.metric, "p5"], csv.loc[r.metric, "p95"]
        np.testing.assert_allclose(mean, want, rtol=1e-15, atol=0)
        if lo == hi:  # the same in every replication (the investment): no range to show
            assert (p5, p95) == (None, None), r.metric
        else:
            np.testing.assert_allclose([p5, p95], [lo, hi], rtol=1e-15, atol=0)
        # The toy's means are exact (the analytic engine solves it); a payback year has no precision.
        assert precision == (None if r.kind == "year" else "eksakt"), r.metric
        assert unit == r.unit
    npv_row = next(row for row in ws.iter_rows(min_row=5, max_row=14) if row[0].value == "Nettonutidsværdi")
    assert npv_row[1].number_format == "#,##0"
    note = [c.value for row in ws.iter_rows(min_row=10, max_row=20) for c in row if isinstance(c.value, str)]
    assert any("2024-priser" in n and "3,5" in n for n in note)  # price year and discount rate
    assert len(ws._images) == 2  # the placed children with and without the strategy, and the payback


def test_sheets_have_frozen_filterable_headers_and_no_formulas(folder):
    wb = load_workbook(folder / "report.xlsx")
    for role in ("yearly", "comparison", "assumptions"):
        ws = wb[sheet_name(role, "da")]
        header = TABLE_ROW if role != "assumptions" else 1
        assert ws.freeze_panes == f"A{header + 1}", role
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{header}:"), role
        assert all(ws.column_dimensions[c].width >= 9 for c in "ABC"), role
    # A data sheet says above its table what its money is: price year, discounting, what is discounted.
    for role in ("yearly", "comparison"):
        note = wb[sheet_name(role, "da")]["A1"].value
        assert "2024-priser" in note and "3,5\u00a0%" in note and "ikke tilbagediskonteret" in note, role
    assert "udfaldsrummet over kørslerne" in wb[sheet_name("comparison", "da")]["A1"].value
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and c.value.startswith("=")), (ws.title, c.coordinate)
                assert not (isinstance(c.value, float) and not math.isfinite(c.value))


def test_assumptions_sheet_has_sources_and_marks_what_the_strategy_changes(folder):
    ws = load_workbook(folder / "report.xlsx")[sheet_name("assumptions", "da")]
    xl = sheet_frame(ws)
    key, base, plan, source = (L.column(c, "da") for c in ("key", "baseline", "strategy", "source"))
    row = xl[xl[key] == "intervention.cost_per_year"].iloc[0]
    assert row[base] == "–" and row[plan] == "1.000.000\xa0kr."  # money says kr.
    bold = {
        ws.cell(row=i, column=1).value for i in range(2, ws.max_row + 1) if ws.cell(row=i, column=1).font.b
    }
    assert "intervention.cost_per_year" in bold and "steps.low.cost_per_year" not in bold
    # The fixture's files do not set the discounting: Trappesim's default, with its own source.
    assert "Finansministeriet 2021 (Trappesims standardværdi)" in set(xl[source].dropna())
    rate = xl[xl[key] == "discounting.periods[0].rate"].iloc[0]
    assert (
        rate[base] == "3,5\xa0%"
        and rate[L.column("description", "da")] == "Diskontering, periode 1: realrente"
    )
    law = xl[xl[key] == "steps.low.duration"].iloc[0]
    assert law[base] == "eksponentiel"  # not "exponential()"
    described = xl[L.column("description", "da")]
    assert not described.str.contains(r"[_\[\]]").any()  # every key in words
    assert pd.isna(xl[xl[key] == "steps.low.name_da"].iloc[0][source])  # a name cites no source


def test_no_cell_holds_float_residue_or_true_false(folder):
    """Cells hold the CSV files' stated precision, and yes/no in words (issue 12)."""
    wb = load_workbook(folder / "report.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not isinstance(c.value, bool), (ws.title, c.coordinate)
                if isinstance(c.value, float):
                    assert len(repr(c.value).split(".")[-1]) <= 6, (ws.title, c.coordinate, c.value)
    xl = sheet_frame(wb[sheet_name("yearly", "da")])
    assert set(xl[L.column("placement", "da")]) == {"ja", "nej"}
    costs = xl[L.column("cost", "da")].dropna()
    assert (costs == costs.round()).all()  # money in whole kroner


def test_provenance_sheet(folder):
    import json

    meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    ws = load_workbook(folder / "report.xlsx")[sheet_name("provenance", "da")]
    values = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
    assert values["Seed"] == 5 and values["Input-hash"] == meta["input_hash"]
    assert values["trappesim"] == meta["trappesim_version"]


def test_provenance_of_expected_values_names_no_seed_or_replications(tmp_path):
    """'Seed 20240101, replications 1' on a handed-on file read as 'simulated once'."""
    from sim.outputs.workbook import write_workbook

    base = sim.Scenario.from_dict(toy_dict())
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, engine="expected")
    meta = {"engine": "expected", "seed": 20240101, "replications": 1}
    for lang, said in (
        ("da", "forventede værdier: ingen tilfældige tal"),
        ("en", "expected values: no random numbers"),
    ):
        path = write_workbook(cmp, tmp_path / f"{lang}.xlsx", meta, lang)
        ws = load_workbook(path)[sheet_name("provenance", lang)]
        values = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
        assert values["Seed"] == f"– ({said})"
        assert values["Kørsler" if lang == "da" else "Replications"] == "–"
    des = write_workbook(cmp, tmp_path / "des.xlsx", {**meta, "engine": "des", "replications": 4}, "en")
    values = {
        r[0]: r[1] for r in load_workbook(des)[sheet_name("provenance", "en")].iter_rows(values_only=True)
    }
    assert values["Seed"] == 20240101 and values["Replications"] == 4


def test_english_workbook_of_a_single_run(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    res = sim.simulate(sim.load_scenario(base), replications=1, seed=1)
    out = write_results(res, tmp_path / "out", {"scenario": base}, [], 0.1)
    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames == ["Summary", "By year and step", "Assumptions", "Provenance"]
    labels = [r[0] for r in wb["Summary"].iter_rows(min_row=5, max_row=7, values_only=True)]
    assert labels == ["Placed children at end of 2033", "New placements 2024-2033", "Total cost (PV)"]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_psa_sheet_says_its_draws_and_money_in_the_language(tmp_path, lang):
    """Headers in words (no "mc_se"), what its spread is (parameter uncertainty) and whose prices."""
    from sim.outputs.workbook import write_workbook

    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = sim.Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, engine="expected")
    psa = sim.psa(base, plan, draws=8, seed=2)
    path = write_workbook(cmp, tmp_path / "report.xlsx", {}, lang, extras=[psa])
    ws = load_workbook(path)[sheet_name("psa", lang)]
    note = ws["A1"].value
    assert ("8 træk" if lang == "da" else "8 draws") in note and ("2024" in note)
    assert ("usikkerhed i forudsætningerne" if lang == "da" else "parameter uncertainty") in note
    headers = [c.value for c in ws[TABLE_ROW] if c.value]
    assert headers[0] == L.column("metric", lang) and len(headers) >= 7
    assert not any("_" in h or h.startswith("mc") for h in headers), headers
    values = [c.value for row in ws.iter_rows(min_row=TABLE_ROW + 1) for c in row if isinstance(c.value, str)]
    assert "draws" not in values
    # Every draw pays back here: the probability's plug-in standard error would be 0, a precision eight
    # draws do not have; its row shows Wilson's interval and no standard error.
    assert psa.summary.loc["probability_npv_positive", "mean"] == 1.0
    se = headers.index(L.column("mc_se", lang))
    prob = next(r for r in ws.iter_rows(min_row=TABLE_ROW + 1, values_only=True)
                if r[0] == report.outcome_name("probability_npv_positive", lang))  # fmt: skip
    assert prob[se] in (None, "") and prob[se + 1] < 1.0


def test_the_chance_of_a_positive_npv_shows_both_ends_of_its_interval(tmp_path):
    """Wilson's interval is not symmetric: the workbook shows it whole, as the report does (it
    showed its upper half as ± before)."""
    from sim.outputs.report import key_figures
    from sim.outputs.workbook import write_workbook

    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 200_000}
    base = sim.Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": {**INTERVENTION, "cost_per_year": 6e6}})
    cmp = sim.compare(base, plan, engine="expected")
    psa = sim.psa(base, plan, draws=20, seed=2)
    want = key_figures(cmp, "da", psa).set_index("metric").loc["probability_npv_positive"]
    assert " til " in want["precision"]
    ws = load_workbook(write_workbook(cmp, tmp_path / "r.xlsx", {}, "da", extras=[psa]))[
        sheet_name("summary", "da")
    ]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == want["label"])
    assert row[2] == want["precision"]


def test_the_workbook_has_the_global_sensitivity_the_report_shows(tmp_path):
    """report.html showed Sobol and Morris indices; report.xlsx left them out, and its provenance named
    only the PSA among the folders added."""
    from sim.analysis.uncertainty import global_sensitivity
    from sim.outputs.workbook import write_workbook

    base, plan = _uncertain_pair(0.7, 0.95)
    cmp = sim.compare(base, plan, engine="expected")
    table = global_sensitivity(base, plan, "morris", n=4)
    from sim.analysis.uncertainty import Sensitivity

    sens = Sensitivity(base, plan, "morris", "npv", table)
    tor = sim.tornado(base, plan)
    book = load_workbook(write_workbook(cmp, tmp_path / "r.xlsx", {}, "en", extras=[sens, tor]))
    ws = book[sheet_name("sensitivity", "en")]
    keys = [c.value for c in ws["A"][1 : 1 + len(table)]]
    assert keys == list(table["parameter"])
    mu = [
        row[list(table.columns).index("mu_star") + 1]
        for row in ws.iter_rows(min_row=2, max_row=1 + len(table), values_only=True)
    ]
    np.testing.assert_allclose(mu, table["mu_star"].round(0), atol=0.5)  # in kroner, as the outcome
    notes = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "Morris screening" in notes and "5th to 95th percentile" in notes and "2024" in notes
    provenance = {r[0]: r[1] for r in book[sheet_name("provenance", "en")].iter_rows(values_only=True)}
    assert "Tornado" in provenance and "Morris screening" in provenance["Sensitivity"]


def test_a_probability_near_one_keeps_its_decimal_in_the_workbook(tmp_path):
    """Excel showed 0.995 of the draws paid back as "100%" (the cell's format was 0%)."""
    from sim.outputs.workbook import _FORMATS, write_workbook

    base, plan = _uncertain_pair()
    cmp = sim.compare(base, plan, engine="expected")
    psa = sim.psa(base, plan, draws=8, seed=2)
    ws = load_workbook(write_workbook(cmp, tmp_path / "r.xlsx", {}, "en", extras=[psa]))[
        sheet_name("psa", "en")
    ]
    shares = [c for row in ws.iter_rows() for c in row if "%" in c.number_format]
    assert shares  # the chance of having paid back, year by year
    assert all(c.number_format == _FORMATS["share"] for c in shares)
    assert _FORMATS["share"].startswith("[>=0.995]0.0%")  # 99.5 % shows as such, not as 100 %


def test_a_payback_range_that_ends_beyond_the_horizon_says_so(tmp_path, monkeypatch):
    """The workbook left "to" blank where the report says "2026 – not within 2043"."""
    from sim.outputs import workbook

    base = sim.Scenario.from_dict(toy_dict())
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, replications=3, seed=5)
    real = workbook.key_figures

    def some_never(*args, **kwargs):  # some replications pay back in 2026, the slowest never
        kf = real(*args, **kwargs)
        at = kf.index[kf["metric"] == "payback_year"][0]
        kf.loc[at, ["p5", "p95"]] = [2026.0, np.nan]
        return kf

    monkeypatch.setattr(workbook, "key_figures", some_never)
    ws = load_workbook(workbook.write_workbook(cmp, tmp_path / "r.xlsx", {}, "en")).worksheets[0]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Payback year")
    assert row[3] == 2026 and row[4] == f"not by {int(cmp.years[-1])}"


def test_the_tornado_sheet_gives_the_unit_of_each_inputs_low_and_high(tmp_path):
    """Low and high stood bare (924781, 0.64) where the HTML report says "924.800 kr."."""
    from sim.outputs.workbook import write_workbook

    base, plan = _uncertain_pair(0.85)
    cmp = sim.compare(base, plan, engine="expected")
    tornado = sim.tornado(base, plan)
    ws = load_workbook(write_workbook(cmp, tmp_path / "r.xlsx", {}, "da", extras=[tornado]))[
        sheet_name("tornado", "da")
    ]
    rows = list(ws.iter_rows(values_only=True))
    unit = rows[0].index(L.column("unit", "da"))
    assert rows[0][unit - 1] == L.column("high", "da")
    by_key = {r[0]: r[unit] for r in rows[1:] if r and r[0]}
    assert by_key["steps.placed.cost_per_year"] == "kr."
    assert by_key["intervention.hazard_ratios.mid.placed"] == "forhold"
    # The cells hold tornado.csv's values (12 significant digits), not six: one rounding, the report's.
    low = rows[0].index(L.column("low", "da"))
    table = tornado.table.set_index("parameter")
    for r in rows[1:]:
        if r and r[0] in table.index:
            assert r[low] == float(L.plain_number(table.loc[r[0], "low"], "parameter"))
            assert r[low] == pytest.approx(table.loc[r[0], "low"], rel=1e-11)


def _psa_sheet(tmp_path, programme_cost: float):
    """The toy with an uncertain cost of placement against a strategy at ``programme_cost`` a year:
    the payback year over 40 draws, and the English workbook's PSA sheet with them."""
    from sim.outputs.workbook import write_workbook

    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 150_000}
    base = sim.Scenario.from_dict(d)
    plan = base.with_changes(
        {"name": "plan", "intervention": {**INTERVENTION, "cost_per_year": programme_cost}}
    )
    psa = sim.psa(base, plan, draws=40, seed=1)
    cmp = sim.compare(base, plan, engine="expected")
    ws = load_workbook(write_workbook(cmp, tmp_path / "x.xlsx", {}, "en", extras=[psa]))[
        sheet_name("psa", "en")
    ]
    return psa.summary.loc["payback_year"], ws


def test_psa_sheet_says_a_payback_percentile_beyond_the_horizon(tmp_path):
    """More than 5 % of draws never paying back left the 95th percentile's cell empty, unexplained."""
    p, ws = _psa_sheet(tmp_path, 9e6)
    assert math.isnan(p["p95"]) and not math.isnan(p["p5"])  # the case itself: some draws never pay back
    (row,) = [r for r in ws.iter_rows(values_only=True) if r[0] == "Payback year"]
    assert "not by 2033" in row and int(p["p5"]) in row


def test_psa_sheet_says_when_the_mean_cash_flow_never_pays_back(tmp_path):
    """The payback year's mean (that of the mean cash flow) was an empty cell when it never paid back."""
    p, ws = _psa_sheet(tmp_path, 15e6)
    assert math.isnan(p["mean"]) and not math.isnan(p["p5"])  # the case: the mean cash flow never pays back
    frame = sheet_frame(ws).set_index("Key figure")
    assert frame.loc["Payback year", "Mean"] == "not by 2033"
    assert frame.loc["Payback year", "5th percentile"] == int(p["p5"])


def test_psa_sheet_says_a_payer_without_a_share_has_nothing_to_pay_back(tmp_path):
    """From the region's purse (no cost line gives it a share) no draw invests or saves: its payback
    cells said "not by 2033", as if it never paid back; there is nothing to pay back."""
    from sim.outputs.workbook import write_workbook

    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 150_000}
    base = sim.Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    psa = sim.psa(base, plan, draws=20, seed=1, perspective="region")
    assert (psa.arrays["total_investment_pv"] == 0).all() and (
        psa.arrays["total_gross_savings_pv"] == 0
    ).all()
    cmp = sim.compare(base, plan, engine="expected", perspective="region")
    ws = load_workbook(write_workbook(cmp, tmp_path / "x.xlsx", {}, "en", extras=[psa]))[
        sheet_name("psa", "en")
    ]
    row = sheet_frame(ws).set_index("Key figure").loc["Payback year"]
    assert row["Mean"] == row["Median"] == "– (nothing invested or saved from this perspective)"


@pytest.mark.parametrize("perspective", ["kommune", "region"])
def test_the_summary_sheet_says_whose_money_it_counts(tmp_path, perspective):
    """A region's workbook from the what-if page showed 0 and "nothing invested or saved" without saying
    whose purse (the command line's only in its command cell)."""
    from sim.outputs.workbook import write_workbook

    base, plan = _uncertain_pair(0.85)
    cmp = sim.compare(base, plan, engine="expected", perspective=perspective)
    ws = load_workbook(write_workbook(cmp, tmp_path / "r.xlsx", {}, "da")).worksheets[0]
    whose = L.t("whose_money", "da", whose=L.t("persp_" + perspective, "da"))
    assert any(isinstance(c.value, str) and whose in c.value for row in ws.iter_rows() for c in row)
