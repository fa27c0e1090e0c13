"""Every table adds up, and no child is in two places or travels in time.

The property tests draw random valid scenarios across the whole schema
(:mod:`generated`) and check every invariant of :mod:`sim.engines.invariants` on a
discrete-event run of each arm. The regression tests A-E are the faults an
independent conservation check found (issue 12); each failed before its fix.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import AGES3, SCENARIOS, toy_dict
from generated import arms, scenario_dicts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from sim.engines.des import FROM_STOCK, WAITS, simulate_des
from sim.engines.expected import EngineNotApplicable, expected_measures
from sim.engines.invariants import InvariantError, Violation, check, check_measures, check_spells
from sim.engines.spells import measures_from_spells
from sim.model.staircase import compile_staircase, whole_stock
from sim.run.experiment import simulate
from sim.scenario import Scenario, load_scenario

GENERATED = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_every_leaver_has_an_adult_life(m: dict, st) -> None:
    """Every child who leaves within the horizon (case closed or aged out) is counted once in
    adult life, by the highest step it reached; its adult costs are a present value, not below 0
    unless an outcome pays (a net contribution)."""
    np.testing.assert_allclose(
        m["adult_leavers"].sum(axis=-1), (m["closed"] + m["aged_out"]).sum(axis=-1), rtol=1e-9, atol=1e-9
    )
    if (st.adult_cost >= 0).all():
        assert (m["adult_cost_pv"] >= -1e-9).all()


@pytest.mark.slow
@GENERATED
@given(data=scenario_dicts(), seed=hs.integers(0, 2**32 - 1))
def test_generated_scenarios_keep_every_invariant(data, seed):
    for scenario in arms(data):
        st = compile_staircase(scenario)
        log = simulate_des(st, seed, 0)
        found = check_spells(log, st, 0)
        assert not found, "\n".join(map(str, found))
        if st.has_adult:
            assert_every_leaver_has_an_adult_life(measures_from_spells(log, st), st)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_dicts(analytic=True))
def test_the_analytic_engines_tables_add_up_too(data):
    """The same table rules hold for the expected engine, on scenarios it applies to (every stay
    law it represents, reviews, casework, aftercare, strategies, adult life)."""
    for scenario in arms(data):
        st = compile_staircase(scenario)
        m = expected_measures(st)  # analytic=True: it must apply
        m.pop("flows")
        found = check_measures(m, st)
        assert not found, "\n".join(map(str, found))
        if st.has_adult:
            assert_every_leaver_has_an_adult_life(m, st)


def test_a_broken_table_is_named_with_its_numbers(toy):
    st = compile_staircase(toy)
    m = measures_from_spells(simulate_des(st, 1, 0), st)
    assert check_measures(m, st) == []
    m["moves_down"][3, 1] += 1  # one child too many counted leaving 'mid' in 2027
    found = check_measures(m, st, replication=7)
    assert [v.rule for v in found] == ["stock identity", "moves balance"]
    first = found[0]
    assert (first.replication, first.year, first.step) == (7, 2027, "mid")
    assert "stock_end" in first.message and "down" in first.message
    assert str(first).startswith("stock identity (replication 7, 2027, step 'mid'): stock_end")


def test_a_nan_in_a_table_is_a_violation_not_a_pass(toy):
    """A NaN passes every comparison (the stock identity, no negative count): the analytic engine's
    NaN figures of a valid file went through every check without a word."""
    st = compile_staircase(toy)
    m = measures_from_spells(simulate_des(st, 1, 0), st)
    m["child_years"][2, 1] = np.nan
    found = check_measures(m, st, replication=0)
    assert [v.rule for v in found] == ["finite numbers"]
    assert (found[0].year, found[0].step) == (2026, "mid") and "child_years = nan" in found[0].message
    m["child_years"][2, 1] = 1.0
    m["wait_mean"][:] = np.nan  # no one waited: undefined by definition, not a defect
    assert not [v for v in check_measures(m, st) if v.rule == "finite numbers"]


def test_a_psa_draw_left_unchecked_still_refuses_a_nan(toy, monkeypatch):
    """A thousand-draw PSA skips the analytic engine's table checks for speed (check=False); a NaN
    in a draw would then reach its figures without a word (found by review). That rule stays."""
    import sim.run.experiment as E

    real = E.expected_measures

    def with_a_nan(st, *args, **kwargs):
        m = real(st, *args, **kwargs)
        m["closed"][1, 0] = np.nan
        return m

    monkeypatch.setattr(E, "expected_measures", with_a_nan)
    with pytest.raises(InvariantError, match=r"finite numbers \(replication 4, 2025, step 'low'\)"):
        E.replication(compile_staircase(toy), "expected", 1, 4, check=False)


def _adult_outcome(cost: float) -> Scenario:
    """The toy with an adult outcome that costs (or, negative, pays) ``cost`` a year per person above
    its reference; 'low' is below the reference, 'placed' above it."""
    outcome = {"name_da": "i arbejde", "name_en": "in work", "share": {"low": 0.1, "placed": 0.5}}
    outcome |= {"reference_share": 0.3, "cost_per_year": cost}
    return Scenario.from_dict(toy_dict(adult={"outcomes": {"work": outcome}}))


@pytest.mark.parametrize("engine", ["des", "expected"])
def test_adult_outcomes_that_pay_pass_the_checks_and_mirror_those_that_cost(engine):
    """An outcome's cost is negative for a net contribution (or below the reference): both engines
    raised "no negative count" on such a valid file. Its present value flips sign with the cost, child
    by child (the same random numbers), and stays below zero only where the cost can be."""
    reps = {"replications": 2} if engine == "des" else {}
    runs = [simulate(_adult_outcome(c), seed=3, engine=engine, **reps) for c in (-90_000.0, 90_000.0)]
    pays, costs = (r.measures["adult_cost_pv"] for r in runs)
    np.testing.assert_allclose(pays, -costs, rtol=1e-12, atol=1e-6)
    low, placed = 0, 2
    assert (costs[..., low] < 0).any() and (costs[..., placed] > 0).any()  # both signs in one file


def test_a_negative_adult_cost_is_refused_where_no_adult_cost_can_be_negative(toy):
    d = toy_dict(adult={"cost_per_year": {"placed": 100_000}})
    st = compile_staircase(Scenario.from_dict(d))
    m = measures_from_spells(simulate_des(st, 1, 0), st)
    assert check_measures(m, st) == [] and m["adult_cost_pv"].sum() > 0
    m["adult_cost_pv"][2, 2] = -5.0
    (found,) = check_measures(m, st)
    assert (found.rule, found.year, found.step) == ("no negative cost", 2026, "placed")


def test_check_raises_on_the_first_violation(toy):
    res = simulate(toy, replications=2, seed=1)
    check(res)  # nothing to say
    res.measures["closed"][1, 0, 2] = -1.0
    with pytest.raises(InvariantError, match=r"no negative count \(replication 1, 2024, step 'placed'\)"):
        check(res)


def test_spell_checks_find_time_travel_and_broken_paths(toy):
    st = compile_staircase(toy)
    log = simulate_des(st, 2, 0)
    assert check_spells(log, st) == []
    end = log.end.copy()
    moves = (log.to_step >= 0) & (log.to_step < st.n_steps)  # a stay another follows
    i = int(np.flatnonzero(moves & (log.start > 1))[0])
    end[i] = log.start[i] - 0.5
    broken = type(log)(**{**log.__dict__, "end": end})
    rules = {v.rule for v in check_spells(broken, st)}
    assert {"time", "paths"} <= rules


def test_violation_reads_without_a_place():
    assert str(Violation("moves balance", "1 != 2")) == "moves balance: 1 != 2"


# -- A: waiting on one's own step is no move down ------------------------------


def test_a_waiting_on_ones_own_step_is_not_a_move_down():
    scenario = load_scenario(SCENARIOS / "municipality-foster-shortage.toml")
    st = compile_staircase(scenario)
    log = simulate_des(st, 20240101, 0)
    assert np.any(log.to_step == WAITS)  # children do wait on their own step here
    m = measures_from_spells(log, st)
    assert check_measures(m, st) == []
    home = scenario.step_ids.index("home")
    # Every move down from 'home' is a child leaving it for a lower step.
    down = (log.step == home) & (log.to_step >= 0) & (log.to_step < home)
    years = np.floor(log.end[down]).astype(int)
    np.testing.assert_array_equal(
        m["moves_down"][:, home], np.bincount(years, minlength=st.horizon)[: st.horizon]
    )


# -- B: the initial stock is the file's, exactly ------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.toml")))
def test_b_initial_stock_is_exactly_the_files(name):
    scenario = load_scenario(SCENARIOS / name)
    st = compile_staircase(scenario)
    want = [
        scenario.population.initial_stock[s].children if s in scenario.population.initial_stock else 0
        for s in st.step_ids
    ]
    np.testing.assert_array_equal(whole_stock(st.stock).sum(axis=1), want)


def test_b_whole_stock_shares_out_by_largest_remainder():
    # 770 children in three bands of shares 0.15/0.35/0.5: rounding each band gives 771.
    stock = np.array([[115.5, 269.5, 385.0], [0.4, 0.3, 0.3]])
    out = whole_stock(stock)
    np.testing.assert_array_equal(out, [[116, 269, 385], [1, 0, 0]])
    assert np.rint(stock).sum(axis=1)[0] == 771  # the old rounding


def test_b_the_engine_starts_with_the_files_stock():
    scenario = load_scenario(SCENARIOS / "municipality-template.toml")
    st = compile_staircase(scenario)
    log = simulate_des(st, 1, 0)
    on = np.bincount(log.step[log.from_step == FROM_STOCK].astype(int), minlength=st.n_steps)
    want = [scenario.population.initial_stock[s].children for s in st.step_ids]
    np.testing.assert_array_equal(on, want)


# -- C: a child too old for a step leaves its queue; nobody travels in time -----


def _aftercare_queue() -> Scenario:
    """Placed (13 places, leaving at 18) is wanted by teenagers in aftercare on 'inst' (to 23)."""
    d = toy_dict()
    d["steps"]["inst"] = {"name_da": "Inst", "name_en": "Inst", "placement": True, "cost_per_year": 900_000}
    d["steps"]["placed"]["capacity"] = {"places": 13}
    d["population"]["aftercare_until_age"] = 23
    d["population"]["aftercare_steps"] = ["inst"]
    d["population"]["initial_stock"]["inst"] = {"children": 60, "age_shares": {"12-17": 1.0}}
    d["population"]["initial_stock"]["placed"] = {"children": 13, "age_shares": AGES3}
    d["transitions"]["inst"] = {"placed": 2.0, "closed": 0.1}
    d["transitions"]["mid"]["inst"] = 0.2
    return Scenario.from_dict(d)


@pytest.mark.parametrize("seed", range(4))
def test_c_aftercare_queues_keep_time_and_places(seed):
    st = compile_staircase(_aftercare_queue())
    log = simulate_des(st, seed, 0)
    assert check_spells(log, st, seed) == []


def test_c_a_child_waiting_for_a_step_leaves_its_queue_at_that_steps_leaving_age():
    st = compile_staircase(_aftercare_queue())
    placed, inst = st.step_ids.index("placed"), st.step_ids.index("inst")
    log = simulate_des(st, 3, 0)
    waited = (log.wait_for == placed) & (log.step == inst) & np.isfinite(log.end)
    age_at_end = log.age_start[waited] + (log.end[waited] - log.start[waited])
    aged = log.to_step[waited] == st.n_steps + 1
    assert aged.sum() > 5  # many reach 18 in the queue
    np.testing.assert_allclose(age_at_end[aged], 18.0, atol=1e-4)  # float32 ages
    admitted = log.to_step[waited] == placed
    assert np.all(age_at_end[admitted] < 18.0)


def test_c_the_naive_reference_has_the_same_rule():
    from sim.engines.des import simulate_naive

    d = toy_dict()
    d["steps"]["placed"]["capacity"] = {"places": 40, "overflow_to": "inst", "max_wait_years": 0.5}
    d["steps"]["inst"] = {"name_da": "Inst", "name_en": "Inst", "placement": True, "cost_per_year": 900_000}
    d["population"]["aftercare_until_age"] = 23
    d["population"]["aftercare_steps"] = ["mid", "inst"]
    d["population"]["initial_stock"]["placed"] = {"children": 30, "age_shares": AGES3}
    d["population"]["initial_stock"]["mid"] = {"children": 80, "age_shares": {"12-17": 0.5, "18-22": 0.5}}
    d["transitions"]["inst"] = {"mid": 0.5, "closed": 0.2}
    st = compile_staircase(Scenario.from_dict(d))
    a, b = simulate_des(st, 5, 0), simulate_naive(st, 5, 0)
    assert check_spells(a, st) == [] and check_spells(b, st) == []
    key = lambda log: np.lexsort((log.end, log.start, log.child))  # noqa: E731
    for f in ("child", "step", "to_step", "start", "end"):
        np.testing.assert_allclose(getattr(a, f)[key(a)], getattr(b, f)[key(b)], atol=1e-9)


# -- D: places taken away: the children in them stay, nobody else comes in ----


def test_d_when_extra_places_end_children_stay_and_nobody_is_admitted_above_places():
    d = toy_dict()
    d["steps"]["placed"]["capacity"] = {"places": 20, "wait_on": "mid"}
    d["population"]["initial_stock"]["placed"] = {"children": 20, "age_shares": AGES3}
    d["intervention"] = {
        "start_year": 2025,
        "end_year": 2027,
        "extra_places": {"placed": {"places": 30, "cost_per_place_per_year": 100_000}},
    }
    st = compile_staircase(Scenario.from_dict(d))
    placed = st.step_ids.index("placed")
    assert st.capacity[2, placed] == 50 and st.capacity[4, placed] == 20
    log = simulate_des(st, 1, 0)
    assert check_spells(log, st) == []
    m = measures_from_spells(log, st)
    # The year after the places end the step holds more children than places, for a while.
    assert m["stock_end"][4, placed] > 20


# -- E: a step without places has no utilisation, not an infinite one -----------


def test_e_utilisation_of_a_step_with_no_places_is_empty_not_infinite():
    d = toy_dict()
    d["steps"]["placed"]["capacity"] = {"places": 0, "wait_on": "mid"}
    res = simulate(Scenario.from_dict(d), replications=2, seed=1)
    y = res.yearly
    placed = y[y.step == "placed"]
    assert placed["utilisation"].isna().all()
    assert np.isfinite(y["utilisation"].dropna()).all()


def test_a_strategys_new_cases_onto_a_full_step_need_a_step_to_wait_on():
    """Found by the generated scenarios: a strategy sending new cases onto a step with no places
    and no step below it to wait on was not refused, and its waiting children were counted on
    no step at all (the tables did not add up)."""
    from sim.scenario import ScenarioError

    d = toy_dict()
    d["steps"]["low"]["capacity"] = {"places": 0}
    d["population"]["entry_step_shares"] = {"mid": 0.9, "placed": 0.1}
    d["intervention"] = {"start_year": 2025, "entry": {"entry_step_shares": {"low": 1.0}}}
    with pytest.raises(
        ScenarioError, match=r"steps\.low\.capacity\.wait_on.*arrive on this step from outside"
    ):
        Scenario.from_dict(d)
    d["steps"]["low"]["capacity"]["wait_on"] = "mid"
    st = compile_staircase(Scenario.from_dict(d))
    assert check_spells(simulate_des(st, 0, 0), st) == []


def _before_start(m: dict, years: int) -> dict:
    return {k: np.asarray(v)[:years] for k, v in m.items() if k not in ("flows", "wait_mean", "wait_p90")}


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=hs.booleans().flatmap(lambda a: scenario_dicts(intervention=True, analytic=a)),
    seed=hs.integers(0, 2**32 - 1),
)
def test_a_strategy_changes_nothing_before_it_starts(data, seed):
    """Before its start year the two arms are the same children on the same paths (common random
    numbers): every table agrees, exactly in the analytic engine (to rounding where the strategy
    reaches only some children) and to rounding in the DES. A difference there would be counted as
    the strategy's effect."""
    base, plan = arms(data)
    years = plan.intervention.start_year - plan.start_year
    if years == 0:
        return
    st = [compile_staircase(a) for a in (base, plan)]
    des = [_before_start(measures_from_spells(simulate_des(s, seed, 0), s), years) for s in st]
    for name in des[0]:
        np.testing.assert_allclose(des[1][name], des[0][name], rtol=1e-9, atol=1e-9, err_msg=name)
    try:
        exact = [_before_start(expected_measures(s), years) for s in st]
    except EngineNotApplicable:
        return
    for name in exact[0]:
        if st[1].unreached is None:
            np.testing.assert_array_equal(exact[1][name], exact[0][name], err_msg=name)
        else:
            # The reached and the unreached children are solved apart and added: to rounding. The
            # half cell at the leaving age is bounded for both groups together (bounded for each on
            # its own, a one-year aftercare band differed by up to 1e-4 of a child).
            np.testing.assert_allclose(exact[1][name], exact[0][name], rtol=1e-12, atol=1e-12, err_msg=name)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_dicts(intervention=True), seed=hs.integers(0, 2**32 - 1))
def test_every_payer_and_perspective_adds_up_to_societys(data, seed):
    """Payers, price years and discounting of generated scenarios: each perspective's headline is
    that payer's own NPV, the payers' NPVs, investments and savings add up to society's, and money
    is discounted to its discount year (factor 1 there)."""
    from sim.economics.comparison import PAYERS, compare_arrays, programme_costs, step_costs

    base, plan = arms(data)
    st = [compile_staircase(a) for a in (base, plan)]
    m = [{k: v[None] for k, v in measures_from_spells(simulate_des(s, seed, 0), s).items()} for s in st]
    assert st[0].discount[base.discount_year - base.start_year] == pytest.approx(1.0)
    assert (st[0].discount > 0).all()
    for s in st:
        np.testing.assert_allclose(s.step_payers.sum(-1), 1.0, rtol=1e-9)
    out = {p: compare_arrays(m[0], m[1], st[0], st[1], perspective=p) for p in (*PAYERS, "society")}
    soc = out["society"]
    for p in PAYERS:
        np.testing.assert_allclose(out[p]["total_npv"], soc[f"total_npv_{p}"], rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(soc["total_npv"], soc["total_npv_society"], rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(
        soc["investment"], programme_costs(m[1], st[1]) - programme_costs(m[0], st[0]), rtol=1e-9, atol=1e-3
    )
    np.testing.assert_allclose(
        soc["gross_savings"],
        step_costs(m[0], st[0]).sum(-1) - step_costs(m[1], st[1]).sum(-1),
        rtol=1e-9,
        atol=1e-3,
    )
    np.testing.assert_allclose(
        sum(out[p]["adult_savings_pv"] for p in PAYERS), soc["adult_savings_pv"], rtol=1e-9, atol=1e-3
    )
