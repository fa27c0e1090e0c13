"""NPV, ROI and payback against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import INTERVENTION, SCENARIOS

import sim
from sim.economics.comparison import compare_arrays, payback_index, programme_costs, step_costs
from sim.engines.expected import expected_measures
from sim.engines.measures import MEASURES
from sim.model.staircase import compile_staircase


def test_payback_index():
    cum = np.array([[-5.0, -2, 1, 3], [-1, 2, -1, 1], [-1, -2, -3, -4], [0, 0, 0, 0]])
    np.testing.assert_array_equal(payback_index(cum)[:3], [2, 3, np.nan])
    assert payback_index(cum)[3] == 0


def _measures(st, **override):
    m = {k: np.zeros((1, st.horizon, st.n_steps)) for k in MEASURES}
    m.update(override)
    return m


def test_npv_roi_payback_by_hand(toy):
    s = toy.with_changes(
        {"horizon_years": 4, "intervention": {"start_year": 2024, "cost_per_year": 100_000.0}}
    )
    st_b = compile_staircase(toy.with_changes({"horizon_years": 4}))
    st_s = compile_staircase(s)
    cy_b = np.zeros((1, 4, 3))
    cy_b[0, :, 2] = 1.0  # one child-year of placement each year in the baseline
    out = compare_arrays(_measures(st_b, child_years=cy_b), _measures(st_s), st_b, st_s)
    saving = 500_000.0 - 100_000.0
    d = np.array([1, 1 / 1.035, 1.035**-2, 1.035**-3])
    assert out["total_npv"][0] == pytest.approx(saving * d.sum())
    assert out["total_roi"][0] == pytest.approx(saving * d.sum() / (100_000 * d.sum()))
    assert out["total_payback_year"][0] == 2024
    assert out["total_placement_child_years_avoided"][0] == pytest.approx(4.0)


def test_npv_is_linear_in_programme_cost(toy):
    npvs = []
    for cost in (0.0, 1e6, 2e6):
        s = toy.with_changes({"intervention": {"start_year": 2025, "cost_per_year": cost}})
        st_b, st_s = compile_staircase(toy), compile_staircase(s)
        mb = {k: v[None] for k, v in expected_measures(st_b).items()}
        ms = {k: v[None] for k, v in expected_measures(st_s).items()}
        npvs.append(compare_arrays(mb, ms, st_b, st_s)["total_npv"][0])
    d = compile_staircase(toy).discount[1:].sum()
    assert npvs[0] == pytest.approx(0.0, abs=1e-6)
    assert npvs[1] == pytest.approx(-1e6 * d)
    assert npvs[2] - npvs[1] == pytest.approx(npvs[1] - npvs[0])


def test_costs_are_never_negative_and_include_entry_costs(toy):
    st = compile_staircase(toy)
    m = {k: v[None] for k, v in expected_measures(st).items()}
    c = step_costs(m, st)
    assert (c >= 0).all()
    mid = 1
    expected = m["child_years"][..., mid] * 100_000 + (m["new_cases"] + m["moves_in"])[..., mid] * 5_000
    np.testing.assert_allclose(c[..., mid], expected)


def test_cost_per_child_reached(toy):
    s = toy.with_changes(
        {"intervention": {"start_year": 2026, "cost_per_child_reached": 10.0, "reached_steps": ["low"]}}
    )
    st = compile_staircase(s)
    m = {k: v[None] for k, v in expected_measures(st).items()}
    p = programme_costs(m, st)[0]
    entries_low = (m["new_cases"] + m["moves_in"])[0, :, 0]
    np.testing.assert_allclose(p[:2], 0.0)
    np.testing.assert_allclose(p[2:], 10.0 * entries_low[2:])


# ---------------------------------------------------------------------------
# Payers
# ---------------------------------------------------------------------------


def _paid(toy):
    shared = toy.with_changes(
        {
            "steps.placed.payers": {"kommune": 0.8, "stat": 0.2},
            "steps.mid.payers": {"kommune": 0.5, "region": 0.5},
        }
    )
    plan = shared.with_changes(
        {"name": "plan", "intervention": {**INTERVENTION, "payers": {"kommune": 0.6, "stat": 0.4}}}
    )
    return shared, plan


def test_payer_shares_of_every_line_sum_to_the_total(toy):
    from sim.economics.comparison import programme_costs_by_payer, step_costs_by_payer

    base, plan = _paid(toy)
    res = sim.simulate(plan, replications=2, seed=1)
    m, st = res.measures, res.staircase
    np.testing.assert_allclose(programme_costs_by_payer(m, st).sum(-1), programme_costs(m, st), rtol=1e-12)
    np.testing.assert_allclose(step_costs_by_payer(m, st).sum(-1), step_costs(m, st).sum(-1), rtol=1e-12)
    cmp = sim.compare(base, plan, replications=2, seed=1)
    s = cmp.summary["mean"]
    payers = s[["npv_kommune", "npv_region", "npv_stat"]].sum()
    assert payers == pytest.approx(s["npv_society"], rel=1e-12)
    society = sim.compare(base, plan, replications=2, seed=1, perspective="society").summary["mean"]
    assert society["npv"] == pytest.approx(s["npv_society"], rel=1e-12)
    assert s["npv"] == pytest.approx(s["npv_kommune"], rel=1e-12)  # the municipal view is the default
    assert s["npv"] != pytest.approx(society["npv"])  # and here it differs from society's


def test_without_payers_everything_is_the_municipalitys(toy):
    plan = toy.with_changes({"name": "plan", "intervention": INTERVENTION})
    s = sim.compare(toy, plan, engine="expected").summary["mean"]
    assert s["npv"] == pytest.approx(s["npv_society"]) == pytest.approx(s["npv_kommune"])
    assert s["npv_region"] == 0 and s["npv_stat"] == 0


@pytest.mark.parametrize(
    "change, key, words",
    [
        ({"steps.placed.payers": {"kommune": 0.8, "stat": 0.1}}, "steps.placed.payers", "must sum to 1"),
        ({"steps.placed.payers": {"kommune": 0.5, "staten": 0.5}}, "steps.placed.payers", "staten"),
        ({"steps.placed.payers": {"kommune": 1.2, "stat": -0.2}}, "steps.placed.payers", ""),
    ],
)
def test_bad_payer_shares_are_named(toy, change, key, words):
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError) as info:
        toy.with_changes(change)
    assert info.value.key.startswith(key) and words in info.value.message


def test_a_payer_who_invests_nothing_but_saves_pays_back_from_the_start(toy):
    import sim

    shared = {"steps.placed.payers": {"kommune": 0.8, "region": 0.2}}
    base = toy.with_changes(shared)
    plan = base.with_changes(
        {
            "name": "plan",
            "intervention": {
                "start_year": 2025,
                "cost_per_year": 1e6,
                "hazard_ratios": {"mid": {"placed": 0.5}},
            },
        }
    )
    region = sim.compare(base, plan, engine="expected", perspective="region").summary
    assert region.loc["investment_pv", "mean"] == 0 and region.loc["npv", "mean"] > 0
    assert region.loc["payback_year", "median"] == 2025  # it is never behind
    assert np.isnan(region.loc["roi", "mean"])  # no return on nothing
    stat = sim.compare(base, plan, engine="expected", perspective="stat").summary
    assert np.isnan(stat.loc["payback_year", "median"])  # neither pays nor gains: nothing to pay back


def test_the_csv_discounting_label_says_what_the_english_reports_say():
    """Economics words its own unit label (it does not import the reports' words); the two agree."""
    from sim.economics import discounting_label
    from sim.outputs import language as L

    for path in sorted(SCENARIOS.glob("*.toml")):
        s = sim.load_scenario(path)
        assert discounting_label(s) == L.discounting(s, "en").replace(L.NBSP, " ")
    s = sim.load_scenario(SCENARIOS / "municipality-template.toml")
    for rate in (*np.linspace(-0.1, 0.9, 41), 0.0351, -0.00049, 0.00049, 0.0249999):
        x = s.with_changes({"discounting.periods": [{"from_year": 0, "rate": float(rate)}]})
        assert discounting_label(x) == L.discounting(x, "en").replace(L.NBSP, " "), rate


def test_caseworkers_are_paid_by_casework_payers_and_the_rest_by_the_programmes(toy):
    """Closed form: extra caseworkers cost ``extra x cost_per_caseworker`` a year, borne as
    ``casework.payers`` says; the programme's own cost as ``intervention.payers`` says. Measures
    are zero (only programme money), so every number is known exactly (rtol 1e-12)."""
    from sim.economics.comparison import PAYERS

    base = toy.with_changes(
        {
            "horizon_years": 4,
            "steps.mid.review": {"interval_months": 6, "moves": {"closed": 0.2}},
            "casework": {
                "caseworkers": 10,
                "cost_per_caseworker": 500_000,
                "cases": 480,
                "reference_caseload": 48,
                "payers": {"stat": 1.0},
            },
        }
    )
    plan = base.with_changes(
        {
            "intervention": {
                "start_year": 2024,
                "cost_per_year": 1e6,
                "extra_caseworkers": 5,
                "payers": {"kommune": 1.0},
            }
        }
    )
    st_b, st_s = compile_staircase(base), compile_staircase(plan)
    out = compare_arrays(_measures(st_b), _measures(st_s), st_b, st_s, perspective="stat")
    inv = out["investment_by_payer"][0]
    np.testing.assert_allclose(inv[:, PAYERS.index("stat")], 5 * 500_000.0, rtol=1e-12)
    np.testing.assert_allclose(inv[:, PAYERS.index("kommune")], 1e6, rtol=1e-12)
    np.testing.assert_allclose(inv[:, PAYERS.index("region")], 0.0, atol=1e-6)
    d = st_b.discount
    assert out["total_investment_pv"][0] == pytest.approx(5 * 500_000.0 * d.sum(), rel=1e-12)
    assert out["total_npv_kommune"][0] == pytest.approx(-1e6 * d.sum(), rel=1e-12)


def test_adult_savings_are_the_baselines_adult_costs_minus_the_strategys_times_the_payers_share(toy):
    """By hand: the baseline's leavers cost 1,000 (present value) of adult life, the strategy's 400;
    the saving is +600 for society and 0.3 x 600 for a payer bearing 30 % of adult costs."""
    adult = {"cost_per_year": {"placed": 1.0}, "years": 5, "payers": {"kommune": 0.7, "stat": 0.3}}
    base = toy.with_changes({"horizon_years": 4, "adult": adult})
    plan = base.with_changes({"intervention": {"start_year": 2024, "cost_per_year": 0.0}})
    st_b, st_s = compile_staircase(base), compile_staircase(plan)
    pv_b, pv_s = np.zeros((1, 4, 3)), np.zeros((1, 4, 3))
    pv_b[0, 1, 2], pv_s[0, 1, 2] = 1_000.0, 400.0
    for perspective, share in (("society", 1.0), ("stat", 0.3), ("kommune", 0.7), ("region", 0.0)):
        out = compare_arrays(
            _measures(st_b, adult_cost_pv=pv_b), _measures(st_s, adult_cost_pv=pv_s), st_b, st_s, perspective
        )
        assert out["total_adult_savings_pv"][0] == pytest.approx(600.0 * share, abs=1e-9), perspective
