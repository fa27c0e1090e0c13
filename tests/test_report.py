"""Key figures, assumptions and the HTML report: one source of numbers, self-contained HTML."""

from __future__ import annotations

import re
from html import escape as html_escape
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import INTERVENTION, toy_dict
from conftest import SCENARIOS as REPO_SCENARIOS

import sim
from sim.outputs import language as L
from sim.outputs.report import assumptions, format_value, key_figures
from sim.outputs.results import write_results
from sim.run.experiment import wilson_interval
from sim.scenario import Scenario


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("html")
    base = d / "base.toml"
    base.write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    plan = d / "plan.toml"
    plan.write_text(tomli_w.dumps({"extends": "base.toml", "name": "plan", "intervention": INTERVENTION}))
    b, p = sim.load_scenario(base), sim.load_scenario(plan)
    inputs = {"baseline": base, "strategy": plan}
    out = {}
    for lang in ("en", "da"):
        cmp = sim.compare(b, p, replications=3, seed=2)
        out[lang] = write_results(cmp, d / f"cmp-{lang}", inputs, ["trappesim", "compare"], 0.1, lang=lang)
    out["run"] = write_results(sim.simulate(b, replications=2), d / "run", {"scenario": base}, [], 0.1)
    return out


def _uncertain_pair() -> tuple[sim.Scenario, sim.Scenario]:
    """The toy with an uncertain cost of a placement, and a plan."""
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = sim.Scenario.from_dict(d)
    return base, base.with_changes({"name": "plan", "intervention": INTERVENTION})


class _Rows(HTMLParser):
    """Cells of the key-figure table, by data-metric."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._metric: str | None = None
        self._cell: list[str] | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-metric" in a:
            self._metric = a["data-metric"]
            self.rows[self._metric] = []
        if tag == "td" and self._metric:
            self._cell = []
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith(("data:", "#")):
                self.external.append(a[key])
        if tag in ("link", "script"):
            self.external.append(tag)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._metric:
            self.rows[self._metric].append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr":
            self._metric = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> _Rows:
    p = _Rows()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.mark.parametrize("lang", ["en", "da"])
def test_html_key_figures_equal_comparison_csv(folders, lang):
    folder = folders[lang]
    csv = pd.read_csv(folder / "comparison.csv").set_index("metric")
    rows = parse(folder / "report.html").rows
    kinds = {"placement_entries_avoided": "children", "npv": "money", "roi": "ratio", "payback_year": "year"}
    for metric, kind in kinds.items():
        centre = csv.loc[metric, "mean"]  # the payback year too: that of the mean cash flow
        label, text, precision, interval, _unit = rows[metric]
        assert text == format_value(centre, kind, lang), metric
        # The toy's means are exact (the analytic engine solves it); payback years have no precision.
        assert precision == ("" if kind == "year" else L.t("exact", lang)), metric
        lo, hi = (format_value(csv.loc[metric, q], kind, lang) for q in ("p5", "p95"))
        assert interval == ("" if lo == hi else L.span(lo, hi, lang)), metric
    assert set(rows) == set(key_figures(sim.load_results(folder), lang)["metric"])


def test_html_is_one_self_contained_file(folders):
    for folder in (folders["en"], folders["run"]):
        p = parse(folder / "report.html")
        assert p.external == []  # no link, script or file outside the page
        html = (folder / "report.html").read_text(encoding="utf-8")
        assert html.count('src="data:image/png;base64,') == len(list((folder / "charts").glob("*.png")))


def test_html_states_the_answer_provenance_and_money_terms(folders):
    html = (folders["en"] / "report.html").read_text(encoding="utf-8")
    meta = sim.load_results(folders["en"])
    assert "The answer" in html and "Provenance" in html and "Method" in html and "Assumptions" in html
    import json

    m = json.loads((folders["en"] / "manifest.json").read_text(encoding="utf-8"))
    assert m["input_hash"] in html and str(m["seed"]) in html and m["trappesim_version"] in html
    assert "2024 prices" in html.replace(L.NBSP, " ") and "3.5 % years 0-35" in html.replace(L.NBSP, " ")
    assert "Not estimated" in html  # no PSA given: the probability of break-even is not invented
    # Both halves of what "avoided" means: delayed within the years is not, delayed beyond them is.
    assert L.t("delayed_note", "en", y0=2024, y1=2033) in html
    assert isinstance(meta, sim.Comparison)


def test_html_provenance_of_expected_values_names_no_seed_or_replications(tmp_path):
    base = sim.Scenario.from_dict(toy_dict())
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, engine="expected")
    for lang, said in (
        ("da", "forventede værdier: ingen tilfældige tal"),
        ("en", "expected values: no random numbers"),
    ):
        out = write_results(cmp, tmp_path / lang, {}, ["trappesim", "compare"], 0.1, lang=lang)
        html = (out / "report.html").read_text(encoding="utf-8")
        section = html[html.index('<section id="provenance">') :]
        assert f"<tr><th>Seed</th><td>– ({said})</td></tr>" in section
        assert "<td>1</td>" not in section and "20240101" not in section


def test_english_outputs_use_the_english_titles(tmp_path):
    from openpyxl import load_workbook

    base = sim.Scenario.from_dict(toy_dict(title="Basis", title_en="Baseline"))
    plan = base.with_changes(
        {"name": "plan", "title": "Plan", "title_en": "The plan", "intervention": INTERVENTION}
    )
    cmp = sim.compare(base, plan, engine="expected")
    for lang, (a, b) in (("en", ("The plan", "Baseline")), ("da", ("Plan", "Basis"))):
        out = write_results(cmp, tmp_path / lang, {}, ["trappesim", "compare"], 0.1, lang=lang)
        html = (out / "report.html").read_text(encoding="utf-8")
        assert f"<h1>{a}</h1>" in html and b in html
        # Titles name the arms; they are not among what the strategy changes.
        changes = html.split("Hvad strategien ændrer" if lang == "da" else "What the strategy changes")[1]
        assert '<code class="key">title' not in changes.split("</table>")[0]
        ws = load_workbook(out / "report.xlsx").worksheets[0]
        assert ws["A1"].value == a and b in ws["A2"].value


def test_a_psa_on_the_simulation_says_its_spread_holds_chance_too(toy, tmp_path):
    """One simulation run per draw: the spread over draws is parameter uncertainty and chance, and the
    report, the workbook and the key figures say so (they called it the assumptions' alone)."""
    import json

    from openpyxl import load_workbook

    from sim.outputs.report import key_figure_records, render_html
    from sim.outputs.results import manifest
    from sim.outputs.workbook import write_workbook

    uncertain = toy.with_changes({"steps.placed.cost_per_year": {"dist": "gamma", "mean": 5e5, "sd": 8e4}})
    plan = uncertain.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(uncertain, plan, replications=3, seed=1)  # the PSA's files (key_figures checks)
    meta = json.loads(json.dumps(manifest(cmp, {}, ["trappesim", "compare"], 0.1)))
    for engine in ("des", "expected"):
        psa = sim.psa(uncertain, plan, draws=3, seed=1, engine=engine)
        groups = {r["group"] for r in key_figure_records(cmp, "en", psa=psa)}
        assert ("psa_des" in groups) == (engine == "des") and ("psa" in groups) == (engine == "expected")
        text = render_html(cmp, meta, "en", extras=[psa]).replace(L.NBSP, " ")
        assert ("assumptions together with chance (one run" in text) == (engine == "des")
        assert ("the uncertainty in the assumptions and chance together" in text) == (engine == "des")
        book = load_workbook(write_workbook(cmp, tmp_path / f"{engine}.xlsx", meta, "da", extras=[psa]))
        cells = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value)
        assert ("tilfældigheden tilsammen" in cells) == (engine == "des")
        assert ("ikke tilfældighedens udfaldsrum" in cells) == (engine == "expected")
        assert "den gennemsnitlige pengestrøms" in cells  # not "det gennemsnitlige pengestrøms"


def test_a_psa_note_says_where_the_other_rows_means_come_from(toy):
    """The toy's means are exact: the note must not say they come from the simulation."""
    from sim.outputs.report import render_html

    uncertain = toy.with_changes({"steps.placed.cost_per_year": {"dist": "gamma", "mean": 5e5, "sd": 8e4}})
    plan = uncertain.with_changes({"name": "plan", "intervention": INTERVENTION})
    psa = sim.psa(uncertain, plan, draws=4, seed=1)
    cmp = sim.compare(uncertain, plan, replications=3, seed=1)  # the PSA's files (key_figures checks)
    from sim.outputs.results import manifest

    meta = manifest(cmp, {}, ["trappesim", "compare"], 0.1)
    text = render_html(cmp, meta, "en", extras=[psa]).replace(L.NBSP, " ")
    assert L.t("headline_exact", "en") in text
    assert "90 % of the draws, the uncertainty in the assumptions" in text


def test_danish_html(folders):
    html = (folders["da"] / "report.html").read_text(encoding="utf-8")
    assert '<html lang="da">' in html
    assert "Svaret" in html and "Nye anbringelser undgået" in html and "Ikke beregnet" in html
    assert "kr., 2024-priser" in html.replace(L.NBSP, " ")


def test_html_of_a_single_run_has_key_figures_but_no_answer_cards(folders):
    html = (folders["run"] / "report.html").read_text(encoding="utf-8")
    assert "Key figures" in html and 'class="cards"' not in html
    assert 'data-metric="placed_at_end"' in html


def test_key_figures_of_one_replication_have_no_interval(toy):
    plan = toy.with_changes({"name": "plan", "intervention": INTERVENTION})
    kf = key_figures(sim.compare(toy, plan, replications=1, seed=1))
    assert (kf["interval"] == "").all() and kf["p5"].isna().all()
    assert kf.set_index("metric").loc["payback_year", "label"] == "Payback year"


def test_key_figures_say_when_a_strategy_never_pays_back(toy):
    never = toy.with_changes({"name": "never", "intervention": {"start_year": 2025, "cost_per_year": 1e9}})
    kf = key_figures(sim.compare(toy, never, engine="expected")).set_index("metric")
    assert np.isnan(kf.loc["payback_year", "centre"])
    assert kf.loc["payback_year", "text"] == "not by 2033"
    da = key_figures(sim.compare(toy, never, engine="expected"), "da").set_index("metric")
    assert da.loc["payback_year", "text"] == "ikke inden udgangen af 2033"


def test_a_payback_that_does_not_last_says_when_it_was_ahead():
    """Ahead 2031-2040, behind again by 2043: "not by 2043" alone told a room it never paid."""
    base = sim.load_scenario(REPO_SCENARIOS / "municipality-template.toml")
    plan = sim.load_scenario(REPO_SCENARIOS / "municipality-early-detection.toml")
    fading = plan.with_changes({"intervention.fading": {"half_life_years": 4}})
    cmp = sim.compare(base, fading, engine="expected")
    cum = cmp.mean_arrays["cum_net_savings_discounted"][0]
    ahead = cmp.years[cum > 0]
    assert cum[-1] < 0 and len(ahead) > 0  # the case itself
    span = f"{ahead[0]}-{ahead[-1]}"
    assert (np.diff(ahead) == 1).all()
    kf = {lang: key_figures(cmp, lang).set_index("metric") for lang in ("en", "da")}
    assert kf["en"].loc["payback_year", "text"] == f"not for good by 2043 (in surplus {span})"
    assert kf["da"].loc["payback_year", "text"] == f"ikke varigt inden udgangen af 2043 (i plus {span})"
    fig = sim.plots.payback(cmp, lang="en")
    assert fig.get_suptitle() == f"No lasting payback by 2043 (in surplus {span})"
    # A payer with no money in it at all gets no verdict, not "not by 2043".
    region_cmp = sim.compare(base, plan, engine="expected", perspective="region")
    region = key_figures(region_cmp, "en")
    assert (
        region.set_index("metric").loc["payback_year", "text"]
        == "– (nothing invested or saved from this perspective)"
    )
    chart = sim.plots.payback(region_cmp, lang="en")  # and its chart gives no verdict either
    assert chart.get_suptitle() == "Nothing invested or saved from this perspective"
    assert chart.axes[0].get_legend().get_title().get_text() == ""


def test_key_figures_say_what_each_interval_is_over_and_money_its_rates(toy):
    """A table copied out of a notebook keeps what the CLI's headings and money note say."""
    base, plan = _uncertain_pair()
    cmp = sim.compare(base, plan, replications=3, seed=1)
    kf = key_figures(cmp, "en", psa=sim.psa(base, plan, draws=6, seed=2)).set_index("metric")
    # Three replications: rough ends, as the printed notes say.
    assert (
        kf.loc["npv", "interval_kind"]
        == "range of outcomes: 90 % of replications (chance; rough: 3 replications)"
    )
    assert kf.loc["psa_npv", "interval_kind"] == "90 % of parameter draws (uncertain assumptions)"
    assert kf.loc["investment_pv", "interval_kind"] == ""  # the same in every replication: no range
    unit = kf.loc["npv", "unit"].replace(L.NBSP, " ")
    assert (
        unit
        == "DKK, 2024 prices, discounted to 2024 at 3.5 % years 0-35, 2.5 % years 36-70, 1.5 % from year 71"
    )
    da = key_figures(cmp, "da").set_index("metric")
    assert (
        da.loc["npv", "interval_kind"] == "udfaldsrum: 90 % af kørslerne (tilfældighed; usikkert: 3 kørsler)"
    )
    many = key_figures(sim.compare(base, plan, replications=40, seed=1), "en").set_index("metric")
    assert many.loc["npv", "interval_kind"] == "range of outcomes: 90 % of replications (chance)"
    assert "med 3,5 % år 0-35" in da.loc["npv", "unit"].replace(L.NBSP, " ")
    assert (key_figures(sim.compare(base, plan, engine="expected"), "en")["interval_kind"] == "").all()


def test_years_in_surplus_are_given_as_runs():
    from sim.outputs.report import years_in_surplus

    years = np.arange(2024, 2034)
    assert (
        years_in_surplus(np.array([-1, 1, 2, -1, -1, 3, 3, 3, -2, 1.0]), years)
        == "2025-2026, 2029-2031, 2033"
    )
    assert years_in_surplus(-np.ones(10), years) == ""


def test_key_figures_with_a_psa_add_the_probability_of_break_even(toy):
    base, plan = _uncertain_pair()
    psa = sim.psa(base, plan, draws=30, seed=1)
    kf = key_figures(sim.compare(base, plan, engine="expected"), "en", psa).set_index("metric")
    p = kf.loc["probability_npv_positive"]
    assert p["centre"] == pytest.approx(np.mean(psa.arrays["total_npv"] > 0))
    assert p["text"] == L.probability(p["centre"], "en")
    # How many draws, and the share's precision (Wilson's 95 % interval: not "exact" at 100 %).
    assert p["label"] == "Probability that NPV > 0 (30 draws)"
    lo, hi = wilson_interval(int(np.sum(psa.arrays["total_npv"] > 0)), 30)
    assert p["precision"] == f"{L.probability(lo, 'en')} to {L.probability(hi, 'en')}" and lo < hi
    assert kf.loc["psa_npv", "p5"] == pytest.approx(np.percentile(psa.arrays["total_npv"], 5))
    # The payback year shown is the central values'; how likely it is over the draws stands beside it
    # (a combined report said 2028 while its PSA chart said "more likely than not from 2029").
    year = int(kf.loc["payback_year", "centre"])
    b = psa.breakeven.set_index("year")["probability_break_even"]
    paid = kf.loc["probability_paid_back"]
    assert paid["centre"] == pytest.approx(b[year])
    assert paid["label"] == f"Probability of being paid back in {year}, the payback year above (30 draws)"
    lo, hi = wilson_interval(round(b[year] * 30), 30)
    assert paid["precision"] == f"{L.probability(lo, 'en')} to {L.probability(hi, 'en')}"


def test_report_cards_call_a_probabilitys_interval_the_shares_not_a_means(tmp_path):
    """Beside a probability over draws the card said "Precision of the mean": it is Wilson's interval of a share."""
    from sim.outputs.report import render_html

    base, plan = _uncertain_pair()
    cmp = sim.compare(base, plan, engine="expected")
    meta = {"input_files_sha256": {}, "command": [], "engine": "expected"}
    html = render_html(cmp, meta, "en", extras=[sim.psa(base, plan, draws=10, seed=1)])
    card = html[html.index('data-metric="probability_npv_positive"') :]
    card = card[: card.index("</div>\n  </div>") if "</div>\n  </div>" in card else 800]
    assert "Precision of the share (95 %, Wilson):" in card and "Precision of the mean" not in card
    npv = html[html.index('data-metric="npv"') :]
    assert "Wilson" not in npv[: npv.index('data-metric="payback_year"')]


def test_assumptions_carry_the_nearest_source_and_mark_changes(toy):
    s = toy.with_changes({"steps.placed.source": "Benchmarkingenheden 2020"})
    plan = s.with_changes({"name": "plan", "intervention": {**INTERVENTION, "source": "own guess"}})
    notes = {"baseline": {"steps.placed.cost_per_year": "BE 2020 (M), 2019 prices"}, "strategy": {}}
    table = assumptions(s, plan, notes).set_index("key")
    whole = " (source given for the whole table)"
    assert (
        table.loc["steps.placed.cost_per_year", "source"] == "BE 2020 (M), 2019 prices"
    )  # the line's own note
    assert table.loc["steps.placed.entry_cost", "source"] == "Benchmarkingenheden 2020" + whole
    assert table.loc["intervention.cost_per_year", "source"] == "own guess" + whole
    assert table.loc["discounting.periods[0].rate", "source"] == "Finansministeriet 2021" + whole
    assert table.loc["transitions.mid.low", "description"] == "Rate: Middle → Low"
    assert table.loc["intervention.cost_per_year", "differs"]
    assert not table.loc["steps.placed.cost_per_year", "differs"]
    assert "steps.placed.source" not in table.index  # sources are a column, not a row


def test_assumptions_say_which_values_no_file_set_and_which_language_was_asked_for(toy):
    # The report gave defaults (written in no file) the source of the table they sit in, and said
    # "Language of the outputs: Danish" on a report written in English.
    plan = toy.with_changes({"name": "plan", "intervention": {**INTERVENTION, "source": "own guess"}})
    written = {"baseline": {"steps", "steps.placed", "steps.placed.cost_per_year"}, "strategy": set()}
    written["strategy"] = {"intervention", "intervention.cost_per_year", "intervention.source", "language"}
    table = assumptions(toy, plan, {}, "en", written).set_index("key")
    default = "not set in the scenario files: Trappesim's default"
    assert table.loc["steps.placed.entry_cost", "source"] == default
    assert table.loc["intervention.one_off_cost", "source"] == default
    assert table.loc["intervention.cost_per_year", "source"] == "own guess (source given for the whole table)"
    assert table.loc["steps.placed.cost_per_year", "source"] != default
    # A default table with a source of its own keeps it, marked as the default.
    fm = "Finansministeriet 2021 (Trappesim's default)"
    assert table.loc["discounting.periods[0].rate", "source"] == fm
    da = assumptions(toy.with_changes({"language": "da"}), None, {}, "en").set_index("key")
    assert da.loc["language", "baseline"] == "English"
    assert da.loc["language", "source"] == "chosen for these outputs (--lang); the scenario files say Danish"
    # No file set it: it is the default that was not used, not "the files".
    unset = assumptions(toy.with_changes({"language": "da"}), None, {}, "en", {"baseline": {"steps"}})
    unset = unset.set_index("key")
    assert unset.loc["language", "source"] == (
        "chosen for these outputs (--lang); the scenario files do not set it, and Trappesim's default is Danish"
    )
    same = assumptions(toy.with_changes({"language": "en"}), None, {}, "en").set_index("key")
    assert same.loc["language", "source"] == ""


def test_assumptions_show_values_in_words_with_units(toy):
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    d["steps"]["placed"]["duration"] = {
        "dist": "mixture",
        "short_share": 0.3,
        "short_mean_years": 0.5,
        "long_mean_years": 11.0,
    }
    base = sim.Scenario.from_dict(d)
    hr = {"dist": "lognormal", "median": 0.85, "p95": 1.0}
    plan = base.with_changes(
        {"name": "plan", "intervention": {**INTERVENTION, "hazard_ratios": {"mid": {"placed": hr}}}}
    )
    da = assumptions(base, plan, lang="da").set_index("key")
    en = assumptions(base, plan, lang="en").set_index("key")
    plain = lambda v: v.replace(L.NBSP, " ")  # noqa: E731
    row = "steps.placed.cost_per_year"
    assert plain(da.loc[row, "baseline"]) == "gamma: middelværdi 500.000 kr., spredning 80.000 kr."
    assert plain(en.loc[row, "baseline"]) == "gamma: mean DKK 500,000, sd DKK 80,000"
    assert plain(da.loc["steps.placed.duration", "baseline"]) == (
        "blanding: 30 % korte ophold på 0,5 år, lange ophold på 11 år i gennemsnit"
    )
    assert plain(en.loc["steps.low.duration", "baseline"]) == "exponential"
    assert plain(da.loc["intervention.hazard_ratios.mid.placed", "strategy"]) == (
        "lognormal: median 0,85, 95. percentil 1"
    )
    assert da.loc["intervention.hazard_ratios.mid.placed", "baseline"] == "–"  # not in the baseline
    assert plain(da.loc["intervention.cost_per_year", "strategy"]) == "1.000.000 kr."  # money says kr.
    assert plain(en.loc["discounting.periods[0].rate", "baseline"]) == "3.5 %"
    assert da.loc["discounting.periods[0].rate", "description"] == "Diskontering, periode 1: realrente"
    assert da.loc["discounting.periods[1].from_year", "description"] == "Diskontering, periode 2: fra år"
    assert plain(da.loc["transitions.low.mid", "baseline"]) == "0,5 pr. barn-år"
    assert plain(en.loc["population.entry_step_shares.low", "baseline"]) == "60 %"
    assert (
        da.loc["steps.placed.placement", "baseline"] == "ja"
        and en.loc["steps.low.placement", "baseline"] == "no"
    )
    assert da.loc["horizon_years", "baseline"] == "10 år" and en.loc["start_year", "baseline"] == "2024"
    # The values as the scenario holds them stay in the table for programs.
    assert en.loc[row, "baseline_value"] == {"dist": "gamma", "mean": 500_000, "sd": 80_000}


def _kitchen_sink() -> tuple[Scenario, Scenario]:
    """A baseline and strategy that use every kind of key a scenario file can hold."""
    d = toy_dict()
    d["discounting"] = {
        "periods": [{"from_year": 0, "rate": 0.035}, {"from_year": 36, "rate": 0.025}],
        "to_year": 2025,
    }
    d["prices"] = {"index": {"2023": 117.2, "2024": 120.0}, "source": "DST PRIS113"}
    d["steps"]["placed"].update(
        {
            "duration": {"dist": "weibull", "mean_years": 2.0, "shape": 1.5},
            "capacity": {
                "places": 120,
                "wait_on": "mid",
                "overflow_to": "mid",
                "max_wait_years": 0.25,
                "queue": "oldest_first",
            },
            "payers": {"kommune": 0.75, "stat": 0.25},
            "price_year": 2023,
        }
    )
    d["steps"]["mid"]["review"] = {"interval_months": 6, "moves": {"low": 0.15}}
    d["steps"]["mid"]["duration"] = {"dist": "lognormal", "mean_years": 1.5, "sigma": 0.5}
    d["population"].update(
        {"aftercare_until_age": 21, "aftercare_steps": ["placed"], "age_bands": [0, 6, 12]}
    )
    d["population"]["entry_age_shares"] = {"dist": "dirichlet", "mean": AGES, "concentration": 200}
    d["transitions"]["low"]["closed"] = {"dist": "triangular", "low": 0.8, "mode": 1.0, "high": 1.2}
    d["casework"] = {
        "caseworkers": 40,
        "cost_per_caseworker": 500_000,
        "cases": 1_000,
        "reference_caseload": 25,
    }
    d["adult"] = {
        "cost_per_year": {"placed": {"0-5": 30_000, "6-11": 40_000, "12-17": 50_000}},
        "outcomes": {
            "work": {
                "name_da": "i arbejde",
                "name_en": "in work",
                "share": {"placed": 0.4},
                "reference_share": 0.7,
            }
        },
        "years": 40,
        "from_age": 18,
        "payers": {"kommune": 0.5, "stat": 0.5},
    }
    base = Scenario.from_dict(d)
    plan = base.with_changes(
        {
            "name": "plan",
            "intervention": {
                **INTERVENTION,
                "end_year": 2030,
                "fading": {"half_life_years": float("inf")},
                "reached_age_bands": ["0-5", "6-11"],
                "reached_entry_steps": ["low"],
                "reached_steps": ["mid"],
                "cost_per_child_reached": 1_000,
                "one_off_cost": 2e6,
                "extra_caseworkers": 5,
                "extra_places": {"placed": {"places": 10, "cost_per_place_per_year": 60_000}},
                "entry": {
                    "extra_entries_per_year": 20,
                    "entry_step_shares": {"low": 0.7, "mid": 0.25, "placed": 0.05},
                },
                "payers": {"kommune": 0.5, "stat": 0.5},
                "hazard_ratios": {"mid": {"placed": {"dist": "lognormal", "median": 0.8, "p95": 1.0}}},
            },
        }
    )
    return base, plan


AGES = {"0-5": 0.3, "6-11": 0.3, "12-17": 0.4}
_RAW = re.compile(r"_|\[|\]|\(\)|[{}]|\bNone\b|\bTrue\b|\bFalse\b|\bnan\b|\binf\b|\d[eE][+-]?\d")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_key_of_a_scenario_is_described_in_words(lang):
    base, plan = _kitchen_sink()
    table = assumptions(base, plan, lang=lang)
    shipped = [
        assumptions(sim.load_scenario(REPO_SCENARIOS / f"{name}.toml"), lang=lang)
        for name in ("denmark-baseline-aftercare", "municipality-uncertain", "municipality-foster-shortage")
    ]
    bad = []
    for df in (table, *shipped):
        for r in df.itertuples():
            if r.description == r.key or _RAW.search(r.description):
                bad.append(f"{r.key}: description {r.description!r}")
            for value in (r.baseline, getattr(r, "strategy", "")):
                if _RAW.search(value.replace("-", " ")):
                    bad.append(f"{r.key}: value {value!r}")
    assert not bad, "\n".join(bad)
    t = table.set_index("key")
    money = t.loc["casework.cost_per_caseworker", "baseline"]
    assert ("kr." in money) if lang == "da" else money.startswith("DKK")
    assert t.loc["intervention.fading.half_life_years", "strategy"] == (
        "uendelig" if lang == "da" else "infinite"
    )
    assert "Weibull" in t.loc["steps.placed.duration", "baseline"]


def test_names_take_no_table_source(toy):
    s = toy.with_changes({"steps.placed.source": "Benchmarkingenheden 2020"})
    table = assumptions(s, lang="da").set_index("key")
    assert table.loc["steps.placed.name_da", "source"] == ""  # a name is not a citation's claim
    assert table.loc["steps.placed.placement", "source"] == ""
    assert (
        table.loc["steps.placed.cost_per_year", "source"]
        == "Benchmarkingenheden 2020 (kilde for hele tabellen)"
    )


@pytest.mark.parametrize("lang", ["da", "en"])
def test_method_says_the_year_money_is_discounted_to_and_how_it_was_computed(lang, tmp_path):
    """The national baseline starts in 2018 but discounts to 2024: the method section said 2018."""
    from sim.outputs.report import render_html
    from sim.outputs.results import manifest

    base = sim.load_scenario(REPO_SCENARIOS / "denmark-baseline.toml").with_changes({"horizon_years": 8})
    plan = sim.load_scenario(REPO_SCENARIOS / "denmark-early-detection.toml").with_changes(
        {"horizon_years": 8}
    )
    cmp = sim.compare(base, plan, engine="expected")
    page = render_html(cmp, manifest(cmp, {}, [], 0.1), lang)
    method = page[page.index('<section id="method">') : page.index('<section id="provenance">')]
    assert ("tilbagediskonteret til 2024" if lang == "da" else "discounted to 2024") in method
    assert "2018 " not in method.replace("2018–", "")  # the start year is not the discount year
    assert ("analytisk" if lang == "da" else "analytically") in method
    # The return per krone is net (NPV / costs): "1.86" would otherwise read as gross to some.
    assert (
        "nettonutidsværdien delt med strategiens tilbagediskonterede udgifter: et nettoafkast"
        if lang == "da"
        else "net present value divided by the strategy's discounted costs: a net return"
    ) in method
    assert "SimPy" not in method  # the expected engine did not simulate children one at a time
    answer = page[page.index('<section id="answer">') : page.index('<section id="charts">')]
    assert "simuleringskørsler" not in answer and "replications" not in answer  # no interval over one run
    assert ("forventede værdier" if lang == "da" else "expected values") in answer


def test_key_figures_show_each_payer_when_the_costs_are_shared(toy):
    shared = toy.with_changes({"steps.placed.payers": {"kommune": 0.8, "stat": 0.2}})
    plan = shared.with_changes({"name": "plan", "intervention": INTERVENTION})
    kf = key_figures(sim.compare(shared, plan, engine="expected"), "da").set_index("metric")
    assert kf.loc["npv", "label"] == "Nettonutidsværdi (kommunalt perspektiv)"
    assert {"npv_kommune", "npv_region", "npv_stat", "npv_society"} <= set(kf.index)
    assert kf.loc["npv_society", "centre"] == pytest.approx(
        kf.loc[["npv_kommune", "npv_region", "npv_stat"], "centre"].sum()
    )
    plain = key_figures(
        sim.compare(toy, toy.with_changes({"name": "p", "intervention": INTERVENTION}), engine="expected")
    )
    assert "npv_society" not in set(plain["metric"])  # all municipal: one NPV says it all


def test_cli_compare_from_societys_perspective(tmp_path, capsys):
    from sim.cli import main

    base = tmp_path / "base.toml"
    d = toy_dict()
    d["steps"]["placed"]["payers"] = {"kommune": 0.8, "stat": 0.2}
    base.write_text(tomli_w.dumps(d), encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(tomli_w.dumps({"extends": "base.toml", "name": "plan", "intervention": INTERVENTION}))
    out = tmp_path / "out"
    assert (
        main(
            [
                "compare",
                str(base),
                str(plan),
                "--engine",
                "expected",
                "--perspective",
                "society",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Net present value (public-sector perspective)" in printed
    back = sim.load_results(out)
    assert back.perspective == "society"
    csv = pd.read_csv(out / "comparison.csv").set_index("metric")
    assert csv.loc["npv", "mean"] == pytest.approx(csv.loc["npv_society", "mean"])


def test_adult_costs_are_reported_apart_and_say_whose_they_are(tmp_path):
    base = sim.load_scenario(REPO_SCENARIOS / "municipality-lifetime.toml")
    plan = sim.load_scenario(REPO_SCENARIOS / "municipality-early-detection-lifetime.toml")
    base, plan = (s.with_changes({"horizon_years": 6}) for s in (base, plan))
    cmp = sim.compare(base, plan, replications=2, seed=1)
    kf = key_figures(cmp, "en").set_index("metric")
    assert kf.loc["adult_consequences_avoided_pv", "label"].startswith(
        "Adult-life costs avoided, projected beyond"
    )
    assert "(municipal perspective)" in kf.loc["adult_consequences_avoided_pv", "label"]
    assert kf.loc["adult_consequences_avoided_pv", "group"] == "projection"  # shown apart from the budget
    assert kf.loc["npv", "group"] == "budget"
    assert "npv_stat" not in kf.index  # the budget lines are all municipal: no payer block
    s = cmp.summary
    assert s.loc["npv_with_adult_consequences", "mean"] == pytest.approx(
        s.loc["npv", "mean"] + s.loc["adult_consequences_avoided_pv", "mean"]
    )
    assert "not a budget line" in s.loc["adult_consequences_avoided_pv", "unit"]
    # KL 2015's adult outcomes, counted as persons, stand with the projection.
    pension = kf.loc["adult_disability_pension_at_30_change"]
    assert pension["label"] == "Change in adults: on disability pension at 30"
    assert pension["group"] == "projection" and pension["kind"] == "persons"
    assert pension["centre"] < 0 < kf.loc["adult_employed_at_30_change", "centre"]
    da = key_figures(cmp, "da").set_index("metric").loc["adult_disability_pension_at_30_change"]
    assert da["label"] == "Ændring i antal voksne: på førtidspension som 30-årig"
    assert format_value(-53.2, "persons", "da") == "-53" and format_value(112.4, "persons", "en") == "+112"


def test_the_step_table_shows_costs_in_the_scenarios_price_year(tmp_path):
    from sim.outputs.report import render_html
    from sim.outputs.results import manifest

    d = toy_dict()
    d["prices"] = {"index": {"2023": 117.2, "2024": 120.0}}
    d["steps"]["placed"]["price_year"] = 2023  # 500,000 in 2023 prices
    base = Scenario.from_dict(d)
    res = sim.simulate(base, replications=1)
    html = render_html(res, manifest(res, {}, [], 0.1), "en")
    from sim.outputs import language as L

    steps = html[html.index("The steps") : html.index("All assumptions")]
    assert L.money(500_000 * 120.0 / 117.2, "en", "DKK", scale="units") in steps  # 511,945 in 2024 prices
    assert L.money(500_000, "en", "DKK", scale="units") not in steps
    assert (
        L.money(1_000_000, "en", "DKK", scale="units") not in steps
    )  # a unit cost in full, never "DKK 1.0 m"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (572850.29, "572.900 kr."),
        (572850.0, "572.900 kr."),  # half up, not half to even
        (572849.6, "572.800 kr."),  # rounded once: at six digits first it was 572850, then 572.900
        (924780.69556, "924.800 kr."),
        (572849.2, "572.800 kr."),
        (-1234.5, "-1.235 kr."),
        (0.85**2 * 1e6, "722.500 kr."),  # 722499.9999999999: computed residue, not a value below the half
    ],
)
def test_a_tornado_value_reads_the_same_from_memory_and_from_its_folder(value, shown):
    from sim.outputs.report import parameter_value

    base = Scenario.from_dict(toy_dict())
    shown = shown.replace(" ", "\u00a0")  # kroner stay on the line of their number
    assert parameter_value(base, "steps.placed.cost_per_year", value, "da") == shown
    kept = float(L.plain_number(value, "parameter"))  # as tornado.csv keeps it
    assert parameter_value(base, "steps.placed.cost_per_year", kept, "da") == shown


def test_every_chart_is_described_in_words_in_both_languages(folders):
    """The report's images say what they show, in its language (they said "placed children")."""
    from sim.outputs.writers import CHARTS

    for chart in CHARTS:
        en, da = L.TEXT["chart_" + chart.stem]
        assert en.startswith("Chart: ") and da.startswith("Diagram: ")
    html = (folders["da"] / "report.html").read_text(encoding="utf-8")
    assert 'alt="Diagram: anbragte børn med og uden strategien"' in html
    assert 'alt="placed children"' not in html


def _cheap_plan(toy):
    """A cheap strategy that pays back in its first year in each of 3 replications."""
    plan = toy.with_changes(
        {
            "name": "plan",
            "intervention": {
                "start_year": 2026,
                "cost_per_year": 1e5,
                "hazard_ratios": {"mid": {"placed": 0.5}},
            },
        }
    )
    return sim.compare(toy, plan, replications=3, seed=1)


def test_a_payback_year_the_same_in_every_replication_says_so(toy):
    """An empty range read as "not computed"; one year in every replication is a finding."""
    from sim.outputs.report import key_figure_records

    cmp = _cheap_plan(toy)
    assert set(cmp.outcomes("total_payback_year")) == {2026.0}
    rows = {r["metric"]: r for r in key_figure_records(cmp, "da")}
    assert rows["payback_year"]["interval"] == "2026 i alle kørsler"
    assert rows["investment_pv"]["interval"] == ""  # the same in every replication by construction


def test_equal_percentiles_of_payback_are_not_called_every_replication(toy, monkeypatch):
    """With 100 replications, 96 paying back in 2027 and 4 never give p5 = p95 = 2027: not "in every
    replication" (found by review)."""
    from sim.outputs.report import key_figure_records

    cmp = _cheap_plan(toy)
    years = np.r_[np.full(96, 2027.0), np.full(4, np.nan)]
    outcomes = cmp.outcomes
    monkeypatch.setattr(
        type(cmp), "outcomes", lambda self, key: years if key == "total_payback_year" else outcomes(key)
    )
    assert np.nanpercentile(years, 5) == np.nanpercentile(years, 95) == 2027
    rows = {r["metric"]: r for r in key_figure_records(cmp, "en")}
    assert rows["payback_year"]["interval"] == "2027 to 2027"  # the 90 % range, said as one


def test_the_step_table_quotes_the_costs_own_source():
    """The comment beside a step's cost is its source ("Benchmarkingenheden 2020 (M), 2019 prices"); the
    step table showed the step's table source instead, unmarked. Without a comment: the table's,
    marked as given for the whole table."""
    from sim.outputs.report import render_html
    from sim.outputs.results import manifest

    path = REPO_SCENARIOS / "municipality-template.toml"
    base = sim.load_scenario(path)
    res = sim.simulate(base, replications=1, engine="expected")
    html = render_html(res, manifest(res, {"scenario": path}, [], 0.1), "en").replace(L.NBSP, " ")
    steps = html[html.index("The steps") : html.index("All assumptions")]
    notes = sim.scenario.scenario_notes(path)
    for s in base.step_ids:
        note = notes.get(f"steps.{s}.cost_per_year")
        want = note if note else f"{base.steps[s].source} (source given for the whole table)"
        assert html_escape(want) in steps, (s, want)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_method_says_how_the_simulation_follows_children(toy, lang):
    """It said "one at a time (SimPy)", though paths no other child can change are drawn in bulk."""
    from sim.outputs.report import render_html
    from sim.outputs.results import manifest

    plan = toy.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(toy, plan, replications=2, seed=1)
    page = render_html(cmp, manifest(cmp, {}, [], 0.1), lang)
    method = page[page.index('<section id="method">') : page.index('<section id="provenance">')]
    assert ("hvert barn for sig" if lang == "da" else "each child individually") in method
    assert "one at a time" not in method and "ét ad gangen" not in method
    assert ("SimPys hændelseskø" if lang == "da" else "SimPy's event queue") in method


@pytest.mark.parametrize("lang", ["da", "en"])
def test_sensitivity_tables_say_what_their_interval_money_and_purse_are(lang):
    """The report's tornado and sensitivity tables stood without the money note, whose purse, or
    what the indices' "± (95 %)" is (the note at the top is about the comparison's figures)."""
    from sim.analysis.uncertainty import Sensitivity, global_sensitivity
    from sim.outputs.report import render_html

    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = sim.Scenario.from_dict(d)
    iv = {
        **INTERVENTION,
        "hazard_ratios": {"mid": {"placed": {"dist": "lognormal", "median": 0.85, "p95": 1.0}}},
    }
    plan = base.with_changes({"name": "plan", "intervention": iv})
    cmp = sim.compare(base, plan, engine="expected")
    tornado = sim.tornado(base, plan)
    sobol = Sensitivity(base, plan, "sobol", "npv", global_sensitivity(base, plan, "sobol", n=16))
    from sim.outputs.results import manifest

    html = render_html(cmp, manifest(cmp, {}, [], 0.0), lang, extras=[tornado, sobol])
    section = unescape(html.split('<section id="sensitivity">')[1].split("</section>")[0])
    tornado_part, sobol_part = section.split("<h3>")
    whose = L.t("whose_money", lang, whose=L.t("persp_kommune", lang))
    money = L.money_note(base, lang)
    assert money in tornado_part and whose in tornado_part
    assert L.t("sensitivity_conf_note", lang) in sobol_part and whose in sobol_part
    assert money not in sobol_part  # indices are shares of a variance: no money


def test_key_figures_refuse_a_psa_of_other_files_or_another_payer():
    """A national comparison printed a municipal PSA's rows beneath its headline, and a municipal one a
    state PSA's "probability that NPV > 0: 0 %": the command line refuses both (report --with)."""
    from sim.errors import PairError

    base, plan = (
        REPO_SCENARIOS / "municipality-uncertain.toml",
        REPO_SCENARIOS / "municipality-early-detection-uncertain.toml",
    )
    cmp = sim.compare(base, plan, engine="expected")
    psa = sim.psa(base, plan, draws=8, seed=1)
    assert "probability_npv_positive" in set(sim.key_figures(cmp, psa=psa)["metric"])
    national = sim.compare(
        REPO_SCENARIOS / "denmark-baseline.toml",
        REPO_SCENARIOS / "denmark-early-detection.toml",
        engine="expected",
    )
    with pytest.raises(PairError, match="other scenarios"):
        sim.key_figures(national, psa=psa)
    with pytest.raises(PairError, match="state perspective"):
        sim.key_figures(cmp, psa=sim.psa(base, plan, draws=8, seed=1, perspective="stat"))
    with pytest.raises(sim.UserError, match="psa must be a PSAResult .*not a Tornado"):
        sim.key_figures(cmp, psa=sim.tornado(base, plan))


def test_a_figure_that_rounds_to_zero_keeps_its_usual_words():
    """At no effect the page's first card read "New placements added: 0" (a -1e-10 flipped the words)."""
    from sim.analysis.uncertainty import scaled_effect

    base = REPO_SCENARIOS / "denmark-baseline.toml"
    plan = scaled_effect(sim.load_scenario(REPO_SCENARIOS / "denmark-early-detection.toml"), 0.0)
    cmp = sim.compare(base, plan, engine="expected")
    rows = {k: dict(v) for k, v in cmp.summary_rows.items()}
    rows["placement_entries_avoided"]["mean"] = -4.5e-13  # as the arms' sums differ in the last bit
    cmp.__dict__["summary_rows"] = rows
    kf = sim.key_figures(cmp, lang="en").set_index("metric")
    assert kf.loc["placement_entries_avoided", "text"] == "0"
    assert kf.loc["placement_entries_avoided", "label"] == L.t("kf_entries_avoided", "en")


@pytest.mark.parametrize("lang, want", [("en", "2027 to after 2033"), ("da", "2027 til efter 2033")])
def test_a_payback_range_beyond_the_horizon_says_after_it(toy, monkeypatch, lang, want):
    """With a fifth of the replications never paying back, the range read "2027 to not by 2033" once
    ranges were joined by a word (found by review): its later end is "after 2033"."""
    from sim.outputs.report import key_figure_records

    cmp = _cheap_plan(toy)
    years = np.r_[np.full(80, 2027.0), np.full(20, np.nan)]
    outcomes = cmp.outcomes
    monkeypatch.setattr(
        type(cmp), "outcomes", lambda self, key: years if key == "total_payback_year" else outcomes(key)
    )
    rows = {r["metric"]: r for r in key_figure_records(cmp, lang)}
    assert int(cmp.years[-1]) == 2033
    assert rows["payback_year"]["interval"] == want
