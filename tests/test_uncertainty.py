"""Probabilistic sensitivity analysis: draws, common values, reproducibility, outputs."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
from conftest import INTERVENTION, SCENARIOS, toy_dict
from generated import scenario_dicts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from test_staircase import assert_same_staircase

import sim
from sim.analysis.uncertainty import NothingUncertain, psa
from sim.cli import main as cli
from sim.errors import ScenarioError
from sim.run.experiment import DEFAULT_SEED
from sim.scenario import Scenario

PLAN = {
    "start_year": 2025,
    "ramp_up_years": 2,
    "cost_per_year": 2e6,
    "hazard_ratios": {"mid": {"placed": 0.7}},
}


def _pair(uncertain: bool = True, point: bool = False) -> tuple[Scenario, Scenario]:
    d = toy_dict()
    if uncertain:
        sd = 0 if point else 80_000
        d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": sd}
    base = Scenario.from_dict(d)
    hr = {"dist": "lognormal", "median": 0.7, "p95": 0.7 if point else 0.95}
    plan = base.with_changes({"intervention": {**PLAN, "hazard_ratios": {"mid": {"placed": hr}}}})
    return base, plan


def test_point_distributions_give_the_deterministic_comparison():
    base, plan = _pair(point=True)
    result = psa(base, plan, draws=3, engine="expected")
    det = sim.compare(base, plan, engine="expected").summary
    np.testing.assert_allclose(result.arrays["total_npv"], det.loc["npv", "mean"], rtol=1e-12)
    np.testing.assert_allclose(
        result.arrays["total_placement_entries_avoided"],
        det.loc["placement_entries_avoided", "mean"],
        rtol=1e-12,
    )


def test_shared_numbers_take_the_same_value_in_both_arms():
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 80_000}
    base = Scenario.from_dict(d)
    same = base.with_changes({"name": "same", "intervention": {"start_year": 2025}})  # no effect, no cost
    result = psa(base, same, draws=5, engine="expected")
    assert np.all(result.arrays["total_npv"] == 0)
    assert result.table["steps.placed.cost_per_year"].std() > 0  # the price did vary between draws


def test_psa_is_reproducible_and_independent_of_workers():
    base, plan = _pair()
    a = psa(base, plan, draws=6, seed=3, engine="des", workers=1)
    b = psa(base, plan, draws=6, seed=3, engine="des", workers=2)
    pd.testing.assert_frame_equal(a.table, b.table)
    c = psa(base, plan, draws=6, seed=4, engine="des", workers=1)
    assert not a.table.equals(c.table)


def test_outputs_probability_of_break_even_and_cost_per_placement():
    base, plan = _pair()
    result = psa(base, plan, draws=40, engine="expected")
    s = result.summary
    assert s.loc["probability_npv_positive", "mean"] == pytest.approx(np.mean(result.arrays["total_npv"] > 0))
    be = result.breakeven
    assert list(be.year) == list(range(2024, 2034))
    assert be.probability_break_even.iloc[0] == 0  # nothing happens before the strategy starts
    inv, avoided = result.arrays["total_investment_pv"], result.arrays["total_placement_entries_avoided"]
    assert s.loc["cost_per_placement_avoided", "mean"] == pytest.approx(inv.mean() / avoided.mean())
    assert {"draw", "steps.placed.cost_per_year", "intervention.hazard_ratios.mid.placed", "npv"} <= set(
        result.table
    )
    assert s.loc["npv", "p5"] < s.loc["npv", "mean"] < s.loc["npv", "p95"]


def test_the_mean_payback_year_is_counted_from_the_strategys_start():
    """The mean cash flow's payback, as a comparison counts it: never a year before the strategy.

    Before, a PSA counted from the first year of the horizon, where both arms
    are the same and the balance is zero: "payback 2024" for a strategy
    starting in 2025 (in the workbook's PSA sheet, beside a median of 2025).
    """
    base, plan = _pair()
    # Nothing to invest: the mean cash flow never dips, and the old count from the horizon's first
    # year (a zero balance, both arms alike) said 2024 (a pair that dips first hid it).
    plan = plan.with_changes({"intervention.cost_per_year": 0.0})
    result = psa(base, plan, draws=8, seed=2, engine="expected")
    pay = result.summary.loc["payback_year"]
    assert pay["mean"] == PLAN["start_year"]
    assert pay["mean"] >= PLAN["start_year"]
    cum = result.arrays["cum_net_savings_discounted"].mean(axis=0)
    years = result.years
    at = int(np.flatnonzero(years == pay["mean"])[0])
    assert (cum[at:] >= 0).all() and (at == 0 or cum[at - 1] < 0 or years[at - 1] < PLAN["start_year"])
    assert pay["p5"] <= pay["mean"] <= pay["p95"]


def test_cli_psa_writes_its_folder(write_scenario, tmp_path, capsys):
    base, plan = _pair()
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    out = tmp_path / "psa"
    assert cli(["psa", str(bpath), str(ppath), "--draws", "8", "-w", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(
        r"Probability that NPV > 0 \(8 draws\) +\d+ % +\[precision \(95 %\): \d+ % to \d+ %\]", printed
    )
    assert "Counted from a municipal perspective (--perspective kommune)." in printed  # the default too
    for name in ("psa_draws.csv", "psa_summary.csv", "psa_breakeven.csv", "manifest.json"):
        assert (out / name).is_file(), name
    assert (out / "charts" / "breakeven.png").is_file() and (
        out / "charts" / "npv_distribution.png"
    ).is_file()
    assert len(pd.read_csv(out / "psa_draws.csv")) == 8
    assert cli(["psa", str(bpath), str(ppath), "--draws", "0", "--out", str(tmp_path / "x")]) == 2


def test_break_even_cost_matches_the_closed_form():
    """NPV is linear in the programme cost: NPV(c) = NPV(c0) - (c - c0) x sum of discount factors."""
    from sim.analysis.uncertainty import break_even
    from sim.model.staircase import compile_staircase

    base, plan = _pair(uncertain=False)
    r = break_even(base, plan, on="cost")
    st = compile_staircase(plan)
    closed_form = PLAN["cost_per_year"] + r.npv_as_given / st.discount[st.active].sum()
    assert r.value == pytest.approx(closed_form, rel=1e-6)


def test_break_even_effect_gives_zero_npv_and_an_interval():
    from sim.analysis.uncertainty import _npv, break_even, scaled_effect

    base, plan = _pair()
    plan = plan.with_changes({"intervention.cost_per_year": 8e6})  # dear enough to need most of the effect
    r = break_even(base, plan, on="effect", draws=5)
    assert 0 < r.value < 5
    npv = _npv(base, scaled_effect(plan, r.value), "expected", 1)
    assert abs(npv) < 1e-4 * abs(r.npv_as_given) + 1e3
    median_hr = plan.intervention.hazard_ratios["mid"]["placed"]
    assert r.hazard_ratios["mid"]["placed"] == pytest.approx(median_hr**r.value, rel=1e-9)
    lo, hi = r.interval
    assert lo <= hi and len(r.draws) == 5


def test_cli_breakeven(write_scenario, capsys):
    base, plan = _pair(uncertain=False)
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    assert cli(["breakeven", str(bpath), str(ppath), "--on", "cost"]) == 0
    assert "Breaks even at a programme cost" in capsys.readouterr().out
    assert cli(["breakeven", str(bpath), str(bpath)]) == 2  # the baseline has no intervention
    assert "no [intervention]" in capsys.readouterr().err


def test_tornado_ranks_the_numbers_by_their_swing(write_scenario, tmp_path, capsys):
    from sim.analysis.uncertainty import tornado

    base, plan = _pair()
    d = base.to_dict()
    d["steps"]["low"]["entry_cost"] = {"dist": "uniform", "low": 0, "high": 0}  # a point: no swing
    base = Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": plan.to_dict()["intervention"]})
    t = tornado(base, plan)
    assert list(t.table.swing) == sorted(t.table.swing, reverse=True)
    assert t.table.set_index("parameter").loc["steps.low.entry_cost", "swing"] == 0
    cost = t.table.set_index("parameter").loc["steps.placed.cost_per_year"]
    assert (
        cost.outcome_high > t.central > cost.outcome_low
    )  # dearer placements: more saved per placement avoided
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    out = tmp_path / "t"
    assert cli(["tornado", str(bpath), str(ppath), "--out", str(out)]) == 0
    assert (out / "tornado.csv").is_file() and (out / "charts" / "tornado.png").is_file()
    assert "steps.placed.cost_per_year" in capsys.readouterr().out
    assert (
        cli(["tornado", str(bpath), str(ppath), "--outcome", "happiness", "--out", str(tmp_path / "u")]) == 2
    )


def test_tornado_and_break_even_give_the_same_answers_on_two_workers(write_scenario, tmp_path):
    """A researcher's tornado on the DES ran its runs one after another, and break-even draws too:
    both take ``workers`` now (and the commands ``--workers``), with the same numbers on any number."""
    from sim.analysis.uncertainty import break_even, tornado

    base, plan = _pair()
    one, two = (tornado(base, plan, engine="des", workers=w) for w in (1, 2))
    assert len(one.table) == 2 and one.central == two.central
    pd.testing.assert_frame_equal(one.table, two.table)
    solved = [break_even(base, plan, on="cost", draws=3, workers=w).draws for w in (1, 2)]
    assert len(solved[0]) == 3 and np.unique(solved[0]).size == 3
    np.testing.assert_array_equal(solved[0], solved[1])
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    assert cli(["tornado", str(bpath), str(ppath), "-w", "2", "--out", str(tmp_path / "t")]) == 0
    assert cli(["breakeven", str(bpath), str(ppath), "-n", "2", "-w", "1"]) == 0


def test_sobol_wrapper_reproduces_salib_on_the_ishigami_function():
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample
    from SALib.test_functions import Ishigami

    from sim.analysis.uncertainty import sobol_indices

    def ishigami(q):  # quantiles in [0, 1] -> inputs in [-pi, pi]
        return Ishigami.evaluate(-np.pi + 2 * np.pi * q)

    ours = sobol_indices(ishigami, ["x1", "x2", "x3"], n=1024, seed=5)
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sample.sample(problem, 1024, seed=5)
    theirs = analyze.analyze(problem, Ishigami.evaluate(x), seed=5)
    np.testing.assert_allclose(ours["S1"], theirs["S1"], rtol=1e-9)
    np.testing.assert_allclose(ours["ST"], theirs["ST"], rtol=1e-9)
    # And both near the Ishigami function's known indices.
    np.testing.assert_allclose(ours["S1"], [0.314, 0.442, 0.0], atol=0.05)


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_only_the_parameter_that_matters_gets_the_index(method):
    from sim.analysis.uncertainty import global_sensitivity

    d = toy_dict()
    d["transitions"]["placed"]["low"] = 0.0  # a move that never happens
    base = Scenario.from_dict(d)
    plan = base.with_changes(
        {
            "name": "plan",
            "intervention": {
                "start_year": 2025,
                "cost_per_year": 1e6,
                "hazard_ratios": {
                    "mid": {"placed": {"dist": "lognormal", "median": 0.7, "p95": 0.95}},
                    # Scales a rate of zero, so it cannot matter.
                    "placed": {"low": {"dist": "uniform", "low": 0.5, "high": 2.0}},
                },
            },
        }
    )
    idx = global_sensitivity(base, plan, method=method, n=64 if method == "sobol" else 10).set_index(
        "parameter"
    )
    hr, other = "intervention.hazard_ratios.mid.placed", "intervention.hazard_ratios.placed.low"
    if method == "sobol":
        assert idx.loc[hr, "ST"] == pytest.approx(1.0, abs=0.1)
        assert abs(idx.loc[other, "ST"]) < 0.01
    else:
        assert idx.loc[hr, "mu_star"] > 0 and idx.loc[other, "mu_star"] == 0


def test_cli_sensitivity(write_scenario, tmp_path, capsys):
    base, plan = _pair()
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    out = tmp_path / "s"
    assert (
        cli(
            [
                "sensitivity",
                str(bpath),
                str(ppath),
                "--method",
                "morris",
                "-n",
                "4",
                "-w",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table.parameter) == {"steps.placed.cost_per_year", "intervention.hazard_ratios.mid.placed"}
    assert "mu_star" in capsys.readouterr().out
    # Its folder has nothing to remake: said so, with where it belongs (it printed an empty list).
    assert cli(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "has no charts or reports to remake" in printed and f"--with {out}" in printed
    plain_base, plain_plan = _pair(uncertain=False, point=True)  # one point distribution only
    one = write_scenario(plain_base.to_dict(), "plain.toml")
    two = write_scenario(plain_plan.to_dict(), "plain-plan.toml")
    assert cli(["sensitivity", str(one), str(two), "--out", str(tmp_path / "t")]) == 2
    assert "at least two numbers" in capsys.readouterr().err


def test_tornado_uses_explicit_bounds_when_given():
    from sim.analysis.uncertainty import tornado

    base, plan = _pair()
    hr = {"dist": "lognormal", "median": 0.7, "p95": 0.95, "bounds": [0.5, 1.0]}
    plan = plan.with_changes({"intervention.hazard_ratios.mid.placed": hr})
    row = tornado(base, plan).table.set_index("parameter").loc["intervention.hazard_ratios.mid.placed"]
    assert (row.low, row.high) == (0.5, 1.0)
    bad = {**hr, "bounds": [1.0, 0.5]}
    with pytest.raises(Exception, match="bounds must be"):
        plan.with_changes({"intervention.hazard_ratios.mid.placed": bad})


def test_psa_counts_the_perspective_asked_for():
    base, plan = _pair()
    base = base.with_changes({"steps.placed.payers": {"kommune": 0.5, "stat": 0.5}})
    plan = plan.with_changes({"steps.placed.payers": {"kommune": 0.5, "stat": 0.5}})
    kommune = psa(base, plan, draws=4, seed=1)
    society = psa(base, plan, draws=4, seed=1, perspective="society")
    assert kommune.perspective == "kommune" and "perspective: society" in society.summary.loc["npv", "unit"]
    np.testing.assert_allclose(society.arrays["total_npv"], kommune.arrays["total_npv_society"], rtol=1e-12)
    assert (society.arrays["total_npv"] > kommune.arrays["total_npv"]).all()  # the state's savings count too


def _shared_pair() -> tuple[Scenario, Scenario]:
    """The pair with placements paid half by the state: the municipality saves half."""
    base, plan = _pair()
    shared = {"steps.placed.payers": {"kommune": 0.5, "stat": 0.5}}
    return base.with_changes(shared), plan.with_changes(shared)


def test_morris_moves_each_number_over_the_tornados_range():
    """Morris' grid spans the 5th to 95th percentile: a cost (NPV is linear in it) then has a mu_star
    of about its tornado swing. On the whole distribution every move ended in a 1-in-a-billion tail
    and the institution's cost had a mu_star of 638 mio. kr. against a swing of 207 mio. kr."""
    from sim.analysis.uncertainty import global_sensitivity, tornado

    pair = [SCENARIOS / f for f in ("municipality-uncertain.toml",
                                             "municipality-early-detection-uncertain.toml")]  # fmt: skip
    morris = global_sensitivity(*pair, "morris", n=6).set_index("parameter")["mu_star"]
    swing = tornado(*pair).table.set_index("parameter")["swing"]
    for cost in ("steps.institution.cost_per_year", "steps.home.cost_per_year", "steps.foster.cost_per_year"):
        assert morris[cost] == pytest.approx(swing[cost], rel=0.15), cost


def test_morris_moves_a_number_with_bounds_between_its_bounds():
    """A number given ``bounds`` has the tornado's low and high there: Morris' grid spans the same."""
    from sim.analysis.uncertainty import global_sensitivity, tornado

    files = [
        SCENARIOS / f for f in ("municipality-uncertain.toml", "municipality-early-detection-uncertain.toml")
    ]
    key = "steps.institution.cost_per_year"
    wide = tornado(*files).table.set_index("parameter")["swing"][key]
    base, plan = (sim.load_scenario(f) for f in files)
    u = next(u for u in base.uncertain if u.path == key)
    narrow = {key: {**u.spec, "bounds": [0.97 * u.central(), 1.03 * u.central()]}}
    base, plan = base.with_changes(narrow), plan.with_changes(narrow)
    swing = tornado(base, plan).table.set_index("parameter")["swing"][key]
    assert swing < 0.5 * wide  # the bounds are narrower than the 5th-95th percentiles
    morris = global_sensitivity(base, plan, "morris", n=6).set_index("parameter")["mu_star"][key]
    assert morris == pytest.approx(swing, rel=0.15)


def test_breakeven_sensitivity_and_tornado_count_the_perspective_asked_for():
    from sim.analysis.uncertainty import break_even, global_sensitivity, tornado

    base, plan = _shared_pair()
    kommune = break_even(base, plan, on="cost")
    society = break_even(base, plan, on="cost", perspective="society")
    # The state's half of the savings counts for society: a dearer programme still pays.
    assert (kommune.perspective, society.perspective) == ("kommune", "society")
    assert society.value > kommune.value and society.npv_as_given > kommune.npv_as_given
    t_k, t_s = tornado(base, plan), tornado(base, plan, perspective="society")
    assert t_s.perspective == "society" and t_s.central > t_k.central
    s = global_sensitivity(base, plan, "morris", n=4, perspective="society")
    assert len(s) == 2
    with pytest.raises(ValueError, match="perspective"):
        break_even(base, plan, perspective="borgerne")


def test_cli_breakeven_and_tornado_say_whose_money(write_scenario, tmp_path, capsys):
    base, plan = _shared_pair()
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    assert cli(["breakeven", str(bpath), str(ppath), "--on", "cost", "--perspective", "society"]) == 0
    assert "public-sector perspective (--perspective society)" in capsys.readouterr().out
    out = tmp_path / "torn"
    assert cli(["tornado", str(bpath), str(ppath), "--perspective", "stat", "--out", str(out)]) == 0
    assert "state perspective (--perspective stat)" in capsys.readouterr().out
    import json

    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["perspective"] == "stat"


def test_psa_with_adult_life_runs_on_the_analytic_engine_and_reports_it_apart():
    base, plan = _pair()
    adult = {"adult": {"cost_per_year": {"placed": 60_000.0}, "years": 40}}
    base, plan = base.with_changes(adult), plan.with_changes(adult)
    result = psa(base, plan, draws=5, seed=2)  # the analytic engine, the default
    s = result.summary
    np.testing.assert_allclose(
        result.arrays["total_npv_with_adult"],
        result.arrays["total_npv"] + result.arrays["total_adult_savings_pv"],
        rtol=1e-12,
    )
    assert (result.arrays["total_adult_savings_pv"] > 0).all()  # fewer placed, lower adult costs
    assert "not a budget line" in s.loc["npv_with_adult_consequences", "unit"]
    assert 0 <= s.loc["probability_npv_with_adult_positive", "mean"] <= 1
    assert "npv_with_adult_consequences" not in psa(*_pair(), draws=2).summary.index


def test_cli_psa_with_adult_life_gives_its_probability_with_draws_and_interval(
    write_scenario, tmp_path, capsys
):
    """It printed "Probability NPV > 0 with adult life 100 %" (Danish: "gevinst"), with no draws or interval."""
    adult = {"adult": {"cost_per_year": {"placed": 60_000.0}, "years": 40}}
    base, plan = (s.with_changes(adult) for s in _pair())
    args = [
        str(write_scenario(base.to_dict(), "base.toml")),
        str(write_scenario(plan.to_dict(), "plan.toml")),
    ]
    assert cli(["psa", *args, "--draws", "8", "-w", "1", "--out", str(tmp_path / "en"), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert re.search(
        r"Probability that NPV > 0 with adult life \(8 draws\) +\d+ % +\[precision \(95 %\): ", printed
    )
    assert cli(["psa", *args, "--draws", "8", "-w", "1", "--out", str(tmp_path / "da"), "--lang", "da"]) == 0
    printed = capsys.readouterr().out
    assert "Sandsynlighed for positiv nettonutidsværdi med voksenlivet (8 træk)" in printed
    assert "gevinst" not in printed
    # The long labels and amounts keep the columns in line: every mean ends where the others do.
    rows = [
        x
        for x in printed.splitlines()
        if x.startswith("  ") and ("[" in x or " kr." in x) and ":" not in x[:4]
    ]
    rows = [x for x in rows if not x.strip().startswith(("Beløb", "Opgjort"))]
    ends = {x.index("  [") if "  [" in x else len(x.rstrip()) for x in rows}
    assert len(rows) >= 5 and len(ends) == 1, rows


def test_breakeven_for_a_payer_who_pays_nothing_towards_the_programme(write_scenario, capsys):
    from sim.analysis.uncertainty import break_even

    base, plan = _shared_pair()
    plan = plan.with_changes({"intervention.payers": {"kommune": 1.0}})
    with pytest.raises(ValueError, match="none of it by stat"):
        break_even(base, plan, on="cost", perspective="stat")
    assert break_even(base, plan, perspective="stat").value == 0.0  # it only gains
    bpath = write_scenario(base.to_dict(), "base.toml")
    ppath = write_scenario(plan.to_dict(), "plan.toml")
    assert cli(["breakeven", str(bpath), str(ppath), "--perspective", "stat"]) == 0
    assert "From a state perspective, the NPV is not negative even with no effect" in capsys.readouterr().out
    assert cli(["breakeven", str(bpath), str(ppath), "--on", "cost", "--perspective", "stat"]) == 2
    assert "none of it by stat" in capsys.readouterr().err


def test_the_library_refuses_nothing_uncertain_before_running_anything(toy, monkeypatch):
    import sim.analysis.uncertainty as U

    def boom(*a, **k):
        raise AssertionError("a simulation ran")

    monkeypatch.setattr(U, "_draw_pair", boom)
    monkeypatch.setattr(U, "_map", boom)
    plan = toy.with_changes({"name": "plan", "intervention": {**PLAN}})
    for run in (U.psa, U.tornado, U.global_sensitivity):
        with pytest.raises(NothingUncertain, match="no number in either file is given as a distribution"):
            run(toy, plan)
    shares = {"dist": "dirichlet", "mean": {"low": 0.6, "mid": 0.3, "placed": 0.1}, "concentration": 100}
    with_shares = toy.with_changes({"population.entry_step_shares": shares})
    with pytest.raises(NothingUncertain, match="dirichlet, is not varied on its own"):
        U.tornado(with_shares, with_shares.with_changes({"name": "plan", "intervention": {**PLAN}}))


# ---------------------------------------------------------------------------
# Draws without validating and compiling whole scenarios: the same numbers
# ---------------------------------------------------------------------------


def _full(scenario: Scenario, values: dict):
    """The full path: validate the drawn scenario, compile it (or the error it raises)."""
    from sim.model.staircase import compile_staircase

    try:
        return compile_staircase(scenario.with_values(values))
    except ScenarioError as err:
        return err


def _fast(scenario: Scenario, values: dict):
    from sim.analysis.uncertainty import _Arm

    try:
        return _Arm(scenario).fix(values)
    except ScenarioError as err:
        return err


def _assert_same_fix(scenario: Scenario, values: dict) -> None:
    full, fast = _full(scenario, values), _fast(scenario, values)
    if isinstance(full, ScenarioError) or isinstance(fast, ScenarioError):
        assert type(full) is type(fast) and str(full) == str(fast), (values, full, fast)
    else:
        assert_same_staircase(fast, full)


def _national_pair() -> tuple[Scenario, Scenario]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_psa import uncertain_pair

    return uncertain_pair()


def test_the_compiled_parameter_map_covers_what_it_says():
    from sim.analysis.uncertainty import _kind

    assert _kind("steps.foster.cost_per_year") == "costs"
    assert _kind("transitions.home.closed") == _kind("transitions.home.closed.0-5") == "rates"
    assert _kind("intervention.hazard_ratios.home.foster") == "ratios"
    assert _kind("intervention.cost_per_year") == "compile"
    for path in (
        "population.entry_step_shares",  # shares that must sum to 1
        "population.entries_per_year",  # read by other checks
        "steps.foster.duration.long_mean_years",
        "steps.foster.capacity.places",  # a whole number
        "intervention.entry.extra_entries_share",
    ):
        assert _kind(path) is None, path


@pytest.mark.parametrize("which", ["toy", "national", "shipped"])
def test_a_draw_compiles_to_the_arrays_of_the_full_path(which):
    """Every uncertain number at many values, one at a time and all together, in each arm."""
    from sim.scenario import load_scenario

    if which == "toy":
        arms = _pair()
    elif which == "national":
        arms = _national_pair()
    else:
        root = __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios"
        arms = tuple(
            load_scenario(root / f)
            for f in ("municipality-uncertain.toml", "municipality-early-detection-uncertain.toml")
        )
    for scenario in arms:
        uncertain = [u for u in scenario.uncertain if u.dist != "dirichlet"]
        assert uncertain
        for q in (0.001, 0.05, 0.5, 0.95, 0.999):
            values = {u.path: float(u.draw_quantiles((q,))[0]) for u in uncertain}
            _assert_same_fix(scenario, values)
            for path, value in values.items():
                _assert_same_fix(scenario, {path: value})
        _assert_same_fix(scenario, {})


@pytest.mark.parametrize(
    "value",
    [-1.0, 0.0, 1e-300, 2e9, 2e15, float("nan"), float("inf"), 3, True],
    ids=["negative", "zero", "tiny", "2e9", "2e15", "nan", "inf", "int", "bool"],
)
def test_a_draw_validation_would_refuse_is_refused_as_it_always_was(value):
    base, plan = _national_pair()
    for scenario in (base, plan):
        for u in scenario.uncertain:
            _assert_same_fix(scenario, {u.path: value})
    # A rate times its hazard ratio beyond the hard limit.
    _assert_same_fix(plan, {"transitions.home.closed": 1e5, "intervention.hazard_ratios.home.foster": 1e5})
    _assert_same_fix(plan, {"intervention.hazard_ratios.home.foster": 1e8})


def test_a_negative_draw_stops_the_psa_with_the_full_paths_error():
    from sim.analysis.uncertainty import _draw_pair, _draws

    d = toy_dict()
    d["transitions"]["mid"]["placed"] = {"dist": "normal", "mean": 0.05, "sd": 0.2}
    base = Scenario.from_dict(d)
    plan = base.with_changes({"name": "plan", "intervention": PLAN})
    _, vb = _draws(base, 1, 20)
    _, vs = _draws(plan, 1, 20)
    first = next(i for i in range(20) if vb[i]["transitions.mid.placed"] < 0)
    with pytest.raises(ScenarioError) as full:
        for i in range(first + 1):
            _draw_pair((base, plan, vb[i], vs[i], "expected", 1, i, "kommune"))
    with pytest.raises(ScenarioError) as fast:
        psa(base, plan, draws=20, seed=1, engine="expected")
    assert str(fast.value) == str(full.value) and "must be at least 0" in str(fast.value)


@pytest.mark.parametrize("engine", ["expected", "des"])
def test_psa_and_tornado_give_the_numbers_of_the_full_path(engine):
    """The same draws, in the same order, give the same numbers, bit for bit, as validating and
    compiling each drawn scenario (the DES: its common random numbers too)."""
    from sim.analysis.uncertainty import _draw_pair, _draws, tornado

    base, plan = _pair()
    n = 12 if engine == "expected" else 3
    result = psa(base, plan, draws=n, seed=7, engine=engine)
    _, vb = _draws(base, 7, n)
    _, vs = _draws(plan, 7, n)
    full = [_draw_pair((base, plan, vb[d], vs[d], engine, 7, d, "kommune")) for d in range(n)]
    for key in full[0]:
        np.testing.assert_array_equal(result.arrays[key], np.concatenate([r[key] for r in full]), err_msg=key)
    t = tornado(base, plan, engine=engine)
    for _, row in t.table.iterrows():
        path = row.parameter
        for side in ("low", "high"):
            vb = {path: row[side]} if path in {u.path for u in base.uncertain} else {}
            vs = {path: row[side]} if path in {u.path for u in plan.uncertain} else {}
            want = _draw_pair((base, plan, vb, vs, engine, DEFAULT_SEED, 0, "kommune"))["total_npv"][0]
            assert row[f"outcome_{side}"] == want


def test_national_psa_gives_the_numbers_of_the_full_path_on_two_workers():
    from sim.analysis.uncertainty import _draw_pair, _draws

    base, plan = _national_pair()
    n = 6
    result = psa(base, plan, draws=n, seed=5, engine="expected", workers=2)
    _, vb = _draws(base, 5, n)
    _, vs = _draws(plan, 5, n)
    full = [_draw_pair((base, plan, vb[d], vs[d], "expected", 5, d, "kommune")) for d in range(n)]
    for key in full[0]:
        np.testing.assert_array_equal(result.arrays[key], np.concatenate([r[key] for r in full]), err_msg=key)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_dicts(), picks=hs.data())
def test_generated_draws_compile_to_the_arrays_of_the_full_path(data, picks):
    """Random scenarios across the schema, random numbers of the compiled-parameter map, random values."""
    from sim.analysis.uncertainty import _kind

    plan = Scenario.from_dict(data)
    base = copy.deepcopy(data)
    base.pop("intervention", None)
    for scenario in (Scenario.from_dict(base), plan):
        flat = []
        for sid in scenario.steps:
            flat += [f"steps.{sid}.cost_per_year", f"steps.{sid}.entry_cost"]
        for src, row in scenario.transitions.items():
            for dst, rate in row.items():
                flat += (
                    [f"transitions.{src}.{dst}.{b}" for b in rate]
                    if isinstance(rate, dict)
                    else [f"transitions.{src}.{dst}"]
                )
        if scenario.intervention is not None:
            iv = scenario.intervention
            flat += [
                f"intervention.hazard_ratios.{s}.{d}" for s, row in iv.hazard_ratios.items() for d in row
            ]
            flat += ["intervention.cost_per_year", "intervention.one_off_cost"]
        assert all(_kind(p) for p in flat)
        paths = picks.draw(hs.lists(hs.sampled_from(flat), min_size=1, max_size=4, unique=True))
        value = hs.one_of(
            hs.floats(0, 5),
            hs.floats(0, 2e6),
            hs.sampled_from([0.0, -0.5, 1e7, 2e9, 2e15, 7]),
        )
        values = {p: picks.draw(value) for p in paths}
        _assert_same_fix(scenario, values)


def test_salib_is_imported_only_when_global_sensitivity_runs():
    import subprocess
    import sys

    code = (
        "import sys; import sim.analysis.uncertainty as u; import sim.cli.main; "
        "assert 'SALib' not in sys.modules, 'imported'; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "gamma", "mean": 470_000, "sd": 60_000},
        {"dist": "beta", "mean": 0.3, "sd": 0.05},
        {"dist": "lognormal", "median": 0.85, "p95": 1.0},
        {"dist": "lognormal", "mean": 2.0, "sd": 0.5},
        {"dist": "normal", "mean": 1.0, "sd": 0.2},
        {"dist": "uniform", "low": 0.1, "high": 0.4},
        {"dist": "triangular", "low": 0.25, "mode": 0.33, "high": 0.45},
        {"dist": "gamma", "mean": 5.0, "sd": 0},
    ],
)
def test_quantiles_of_a_whole_sample_are_those_one_at_a_time(spec):
    """Global sensitivity takes each number's quantiles for the whole sample at once."""
    from sim.scenario.distributions import Uncertain

    u = Uncertain("x", spec)
    q = np.clip(np.random.default_rng(3).random(300), 1e-9, 1 - 1e-9)
    one = [float(u.draw_quantiles((x,))[0]) for x in q]
    assert u.draw_quantiles(q).tolist() == one


def test_sobol_indices_are_those_of_the_full_path():
    """The quantiles per run and the full path per run (as before) give the same indices."""
    from sim.analysis.uncertainty import _draw_pair, global_sensitivity, sobol_indices

    base, plan = _pair()
    ub, us = {u.path: u for u in base.uncertain}, {u.path: u for u in plan.uncertain}
    names = sorted(set(ub) | set(us))

    def func(q: np.ndarray) -> np.ndarray:
        out = []
        for i, row in enumerate(np.clip(q, 1e-9, 1 - 1e-9)):
            vb, vs = {}, {}
            for j, path in enumerate(names):
                if path in ub:
                    vb[path] = float(ub[path].draw_quantiles((row[j],))[0])
                if path in us:
                    vs[path] = float(us[path].draw_quantiles((row[j],))[0])
            out.append(_draw_pair((base, plan, vb, vs, "expected", 2, i, "kommune"))["total_npv"][0])
        return np.array(out)

    want = sobol_indices(func, names, 8, 2).sort_values("ST", ascending=False, ignore_index=True)
    got = global_sensitivity(base, plan, n=8, seed=2, engine="expected")
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_runs_each_arm_once_per_values_and_gives_the_full_paths_numbers(method, monkeypatch):
    """A run that moves only the strategy's own number leaves the baseline's values as they were
    (Saltelli's A with B's column of that number, a Morris step along it): the baseline's arm is
    not solved again, and every outcome is still the full path's, bit for bit."""
    import sim.analysis.uncertainty as U
    import sim.run.experiment as X

    d = toy_dict()
    d["transitions"]["low"]["mid"] = {"dist": "triangular", "low": 0.3, "mode": 0.5, "high": 0.7}
    base = Scenario.from_dict(d)
    hr = {"dist": "lognormal", "median": 0.7, "p95": 0.95}
    plan = base.with_changes({"intervention": {**PLAN, "hazard_ratios": {"mid": {"placed": hr}}}})
    names = ["intervention.hazard_ratios.mid.placed", "transitions.low.mid"]
    asked: list[tuple] = []
    answered: list[dict] = []
    runs = []
    real_map, real_run = U._map, X.expected_measures

    def recording_map(fn, tasks, workers, progress):
        asked.extend((tuple(sorted(vb.items())), tuple(sorted(vs.items()))) for _, vb, vs, _ in tasks)
        answered.extend(real_map(fn, tasks, workers, progress))
        return answered[-len(tasks) :]

    monkeypatch.setattr(U, "_map", recording_map)
    monkeypatch.setattr(X, "expected_measures", lambda st, *a: runs.append(st) or real_run(st, *a))
    got = U.global_sensitivity(base, plan, method=method, n=4, seed=3, engine="expected")
    assert set(got.parameter) == set(names)
    # One solve of each arm per distinct set of its values (the first run at the files' values too).
    assert len(runs) == 2 + len({b for b, _ in asked}) + len({s for _, s in asked}) < 2 + 2 * len(asked)
    for i, ((vb, vs), got_i) in enumerate(zip(asked, answered, strict=True)):
        want = U._draw_pair((base, plan, dict(vb), dict(vs), "expected", 3, i, "kommune"))
        for key in want:
            np.testing.assert_array_equal(got_i[key], want[key], err_msg=key)


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"n": 1}, "n must be a whole number of at least 2, not 1"),
        ({"n": -3}, "n must be a whole number of at least 2, not -3"),
        ({"method": "morris", "n": 2.5}, "n must be a whole number of at least 2, not 2.5"),
        ({"outcome": "nvp"}, "unknown outcome 'nvp'; choose one of: adult_savings_pv, gross_savings_pv"),
    ],
)
def test_global_sensitivity_refuses_what_it_cannot_run_before_it_runs(kwargs, said, monkeypatch):
    """Not SALib's or SciPy's traceback, and a misspelt outcome before the sample, not after it."""
    import sim.analysis.uncertainty as U
    from sim.errors import OptionError

    ran = []
    monkeypatch.setattr(U, "_map", lambda *a, **k: ran.append(a) or [])  # the sample's runs
    base = sim.load_scenario(SCENARIOS / "municipality-uncertain.toml")
    plan = sim.load_scenario(SCENARIOS / "municipality-early-detection-uncertain.toml")
    with pytest.raises(OptionError, match=re.escape(said)):
        U.global_sensitivity(base, plan, **kwargs)
    assert ran == []


def test_a_hazard_ratio_of_zero_breaks_even_just_above_zero_not_at_zero(tmp_path, capsys):
    """0 ** theta is 0 for any theta > 0 and 1 at 0: the NPV jumps there, and the search closed in on 0,
    which the CLI printed as "not negative even with no effect at all" beside an NPV of no effect < 0."""
    import tomli_w

    from sim.analysis.uncertainty import _npv, scaled_effect

    (tmp_path / "base.toml").write_text(tomli_w.dumps(toy_dict()), encoding="utf-8")
    iv = {**INTERVENTION, "hazard_ratios": {"mid": {"placed": 0.0}}}
    plan = {"extends": "base.toml", "name": "plan", "intervention": iv}
    (tmp_path / "plan.toml").write_text(tomli_w.dumps(plan), encoding="utf-8")
    base, strategy = (sim.load_scenario(tmp_path / f) for f in ("base.toml", "plan.toml"))
    assert _npv(base, scaled_effect(strategy, 0.0), "expected", 1) < 0  # no effect: the cost, not repaid
    r = sim.break_even(base, strategy, on="effect")
    assert 0 < r.value <= 1e-6
    assert cli(["breakeven", str(tmp_path / "base.toml"), str(tmp_path / "plan.toml"), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Breaks even at just above 0 % of its assumed effect" in out and "no effect at all" not in out


def test_searches_and_draws_set_numbers_without_warning_about_them():
    """Break-even scales ratios far out (r ** 64), PSA and tornado set drawn values, the what-if page
    moves levers: none of them is the user's number, so none warns (with_changes(warn=False))."""
    import warnings

    from sim.scenario.plausibility import PlausibilityWarning
    from sim.serve.app import Context, Page, _view
    from sim.serve.library import Library

    base = sim.load_scenario(SCENARIOS / "municipality-uncertain.toml")
    plan = sim.load_scenario(SCENARIOS / "municipality-early-detection-uncertain.toml")
    pair = ("municipality-template.toml", "municipality-early-detection.toml")
    page = Page(Library(SCENARIOS), pair)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlausibilityWarning)
        sim.psa(base, plan, draws=3)
        sim.tornado(base, plan)
        sim.break_even(base, plan, on="effect")
        sim.break_even(base, plan, on="cost", draws=2)
        for levers in ({"effect": "20"}, {"effect": "150", "cost": "900", "half_life": "2"}):
            assert _view(page, Context(page, {**levers, "\x00typed": "1"}, [])).ok


def test_the_probability_of_having_paid_back_follows_the_payback_year():
    """A strategy whose effect fades is in surplus for some years, then behind again: those years are
    not "paid back" in any draw whose payback year says otherwise (they were counted, and the curve
    fell). The probability grows with the year and equals the share of draws paid back by then."""
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 100_000}
    base = sim.Scenario.from_dict(d)
    fading = {**INTERVENTION, "ramp_up_years": 0, "cost_per_year": 3e6, "fading": {"half_life_years": 0.5}}
    plan = base.with_changes({"name": "fading", "intervention": fading})
    result = psa(base, plan, draws=60, seed=2)
    cum = result.arrays["cum_net_savings_discounted"]
    assert ((cum > 0).any(axis=1) & ~(cum[:, -1] >= 0)).any()  # the case: in surplus, then behind
    p = result.breakeven.set_index("year")["probability_break_even"]
    assert (np.diff(p.to_numpy()) >= 0).all()
    pay = result.arrays["total_payback_year"]
    for year, share in p.items():
        assert share == pytest.approx(np.mean(np.nan_to_num(pay, nan=np.inf) <= year))
    assert p.iloc[-1] < (cum > 0).any(axis=1).mean()  # surplus in some year is not payback


def test_a_scaled_effects_entry_shares_are_in_the_steps_order_in_every_process():
    """The shares between the baseline's and the strategy's entry steps were made in a set's order,
    which changes with the process's hash seed: the page's downloaded file listed them in another
    order at each start, and their sum (which normalises them) could differ in its last bit."""
    from sim.analysis.uncertainty import scaled_effect

    plan = sim.load_scenario(SCENARIOS / "denmark-early-detection.toml")
    for theta in (0.0, 0.37, 1.5):
        shares = scaled_effect(plan, theta).intervention.entry.entry_step_shares
        assert list(shares) == [s for s in plan.step_ids if s in shares]
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
