"""Compiling a scenario: discounting, ramp-up, hazard ratios, ageing out."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, toy_dict

from sim.model.staircase import compile_staircase, discount_factors, ramp
from sim.scenario import Scenario, load_scenario


def test_stepped_discounting_matches_hand_calculation(toy):
    s = toy.with_changes({"horizon_years": 40})
    d = discount_factors(s, 40)
    assert d[0] == 1.0
    assert d[1] == pytest.approx(1 / 1.035)
    assert d[35] == pytest.approx(1.035**-35)
    assert d[36] == pytest.approx(1.035**-36)
    assert d[38] == pytest.approx(1.035**-36 * 1.025**-2)


def test_ramp_is_linear_from_start_year(toy):
    s = toy.with_changes({"intervention": {"start_year": 2026, "ramp_up_years": 4}})
    np.testing.assert_allclose(ramp(s)[:7], [0, 0, 0.25, 0.5, 0.75, 1, 1])
    s = toy.with_changes({"intervention": {"start_year": 2026, "ramp_up_years": 0}})
    np.testing.assert_allclose(ramp(s)[:4], [0, 0, 1, 1])
    assert not ramp(toy).any()


def test_hazard_ratio_ramps_in_multiplicatively(toy):
    s = toy.with_changes(
        {"intervention": {"start_year": 2025, "ramp_up_years": 2, "hazard_ratios": {"mid": {"placed": 0.25}}}}
    )
    st = compile_staircase(s)
    base = compile_staircase(toy).rates[0, 2, 1, 2]  # band 12-17, mid -> placed
    np.testing.assert_allclose(st.rates[:4, 2, 1, 2], [base, base * 0.5, base * 0.25, base * 0.25])
    # Other rates untouched.
    np.testing.assert_allclose(st.rates[3, 2, 1, 3], compile_staircase(toy).rates[3, 2, 1, 3])


def test_moves_to_steps_a_child_is_too_old_for_end_the_case():
    d = toy_dict()
    d["population"]["aftercare_until_age"] = 23
    d["population"]["aftercare_steps"] = ["placed"]
    st = compile_staircase(Scenario.from_dict(d))
    b = 3  # 18-22
    assert st.rates[0, b, 2, 1] == 0.0  # placed -> mid not possible after 18
    assert st.rates[0, b, 2, 4] == pytest.approx(0.2)  # ... it is a case ending at the leaving age
    np.testing.assert_allclose(st.leave_age, [18, 18, 23])


def test_programme_costs_by_year(toy):
    s = toy.with_changes({"intervention": {"start_year": 2026, "cost_per_year": 100.0, "one_off_cost": 50.0}})
    st = compile_staircase(s)
    np.testing.assert_allclose(st.programme_cost[:4], [0, 0, 150, 100])


def test_review_moves_replace_the_rates_to_the_same_steps(toy):
    s = toy.with_changes({"steps.mid.review": {"interval_months": 6, "moves": {"closed": 0.2}}})
    st = compile_staircase(s)
    assert (st.rates[:, :, 1, 3] == 0).all()  # mid -> closed only at reviews now
    assert (st.rates[:, :, 1, 0] == 0.3).all()  # mid -> low still at its rate
    assert st.review_prob[1, 3] == 0.2 and st.review_interval[0, 1] == 0.5


def test_money_is_discounted_to_the_chosen_year():
    from sim.scenario import ScenarioError

    s = Scenario.from_dict(toy_dict())
    later = s.with_changes({"start_year": 2020, "horizon_years": 14, "discounting.to_year": 2024})
    d, d_later = discount_factors(s, 10), discount_factors(later, 14)
    np.testing.assert_allclose(d_later[4:], d)  # from 2024 on, the same factors
    np.testing.assert_allclose(d_later[:4], 1.035 ** np.arange(4, 0, -1))  # 2020-2023 compounded forward
    assert later.discount_year == 2024 and s.discount_year == 2024
    with pytest.raises(ScenarioError, match="must be a simulated year, 2020 to 2033"):
        later.with_changes({"discounting.to_year": 2019})


# ---------------------------------------------------------------------------
# Fading effects, a programme that ends, targeting by age
# ---------------------------------------------------------------------------

PLAN = {
    "start_year": 2025,
    "ramp_up_years": 2,
    "cost_per_year": 1e6,
    "hazard_ratios": {"mid": {"placed": 0.5}},
    "entry": {"extra_entries_share": 0.1},
}


def _plan(**extra) -> Scenario:
    return Scenario.from_dict(toy_dict()).with_changes({"intervention": {**PLAN, **extra}})


def test_an_infinite_half_life_is_the_effect_that_does_not_fade():
    import sim

    lasting = _plan()
    forever = _plan(fading={"half_life_years": float("inf")})
    np.testing.assert_array_equal(compile_staircase(forever).rates, compile_staircase(lasting).rates)
    a, b = sim.expected(lasting).yearly, sim.expected(forever).yearly
    np.testing.assert_allclose(a["stock_end"], b["stock_end"], rtol=1e-12)


def test_a_zero_half_life_is_no_effect_from_the_start_but_the_cost_remains():
    import sim

    base = Scenario.from_dict(toy_dict())
    gone = _plan(fading={"half_life_years": 0.0})
    st_gone, st_base = compile_staircase(gone), compile_staircase(base)
    np.testing.assert_array_equal(st_gone.rates, st_base.rates)
    np.testing.assert_array_equal(st_gone.entries, st_base.entries)
    np.testing.assert_allclose(
        sim.expected(gone).yearly.query("step != 'programme'")["stock_end"],
        sim.expected(base).yearly["stock_end"],
    )
    cmp = sim.compare(base, gone, engine="expected").summary
    assert cmp.loc["placement_entries_avoided", "mean"] == pytest.approx(0, abs=1e-9)
    assert cmp.loc["npv", "mean"] < 0  # it still costs


def test_half_life_halves_the_effect_and_an_ended_programme_stops_costing():
    from sim.model.staircase import fade, running

    s = _plan(end_year=2027, fading={"half_life_years": 2.0})
    f = fade(s)  # years 2024-2033; full to 2027, then halving every 2 years, at mid-year
    np.testing.assert_allclose(f[:4], 1.0)
    np.testing.assert_allclose(f[4:7], 0.5 ** (np.array([0.5, 1.5, 2.5]) / 2.0))
    np.testing.assert_array_equal(running(s), [False, True, True, True] + [False] * 6)
    st = compile_staircase(s)
    np.testing.assert_allclose(st.programme_cost, [0, 1e6, 1e6, 1e6] + [0] * 6)
    # The hazard ratio applies to the power of ramp x fade: 0.5 ** (1 x 0.5 ** 0.25) in 2028.
    hr = st.rates[4, 0, 1, 2] / compile_staircase(Scenario.from_dict(toy_dict())).rates[4, 0, 1, 2]
    assert hr == pytest.approx(0.5 ** (0.5**0.25))


def test_effect_reaches_only_the_age_bands_named():
    st = compile_staircase(_plan(reached_age_bands=["12-17"]))
    base = compile_staircase(Scenario.from_dict(toy_dict()))
    y = 5  # 2029: full effect
    np.testing.assert_array_equal(st.rates[y, :2], base.rates[y, :2])  # 0-5 and 6-11 untouched
    assert st.rates[y, 2, 1, 2] == pytest.approx(0.5 * base.rates[y, 2, 1, 2])


@pytest.mark.parametrize(
    "change, key, words",
    [
        ({"fading": {"half_life_years": -1.0}}, "intervention.fading.half_life_years", "at least 0"),
        ({"end_year": 2024}, "intervention.end_year", "must not be before start_year 2025"),
        ({"reached_age_bands": ["12-18"]}, "intervention.reached_age_bands", "unknown age band '12-18'"),
        ({"reached_entry_steps": ["lov"]}, "intervention.reached_entry_steps", "unknown step 'lov'"),
        ({"reached_entry_steps": []}, "intervention.reached_entry_steps", "at least 1"),
        (
            {"fading": {"half_lfe_years": 2.0}},
            "intervention.fading.half_lfe_years",
            "Did you mean 'half_life_years'",
        ),
    ],
)
def test_bad_fading_and_targeting_are_named(change, key, words):
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError) as info:
        _plan(**change)
    assert info.value.key == key and words in info.value.message


# ---------------------------------------------------------------------------
# Price years
# ---------------------------------------------------------------------------

INDEX = {"index": {"2019": 103.0, "2023": 117.2}, "source": "DST PRIS113"}


def test_costs_in_another_price_year_are_indexed_to_the_scenarios():
    s = Scenario.from_dict(toy_dict(price_year=2019, prices=INDEX))
    moved = s.with_changes(
        {
            "steps.placed.price_year": 2023,
            "intervention": {**PLAN, "price_year": 2023, "cost_per_year": 1_172_000.0},
        }
    )
    st, st0 = compile_staircase(moved), compile_staircase(s)
    assert st.cost_per_year[2] == pytest.approx(500_000 * 103.0 / 117.2)  # 2023 kroner in 2019 prices
    assert st.cost_per_year[:2].tolist() == st0.cost_per_year[:2].tolist()  # other steps untouched
    assert st.programme_cost[-1] == pytest.approx(1_030_000.0)


@pytest.mark.parametrize(
    "changes, key, words",
    [
        ({"steps.placed.price_year": 2012}, "steps.placed.price_year", "no price index for 2012"),
        ({"steps.placed.price_year": 2023, "prices": None}, "steps.placed.price_year", "no [prices] index"),
        ({"prices": {"index": {"year2019": 1.0}}}, "prices.index.year2019", "must be years"),
    ],
)
def test_unknown_price_years_are_named(changes, key, words):
    from sim.scenario import ScenarioError

    d = toy_dict(price_year=2019, prices=INDEX)
    for k, v in changes.items():
        if k == "prices":
            d["prices"] = v
            if v is None:
                del d["prices"]
        else:
            d["steps"]["placed"]["price_year"] = v
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(d)
    assert info.value.key == key and words in info.value.message


def test_effect_reaches_only_the_children_who_entered_on_the_steps_named():
    import sim

    everyone = _plan()
    all_steps = _plan(reached_entry_steps=["low", "mid", "placed"])
    st_all = compile_staircase(all_steps)
    assert st_all.unreached is not None and st_all.entry_reach.all()
    # Reaching every entry step is no targeting at all: the same numbers in both engines.
    a, b = sim.expected(everyone).yearly, sim.expected(all_steps).yearly
    np.testing.assert_allclose(a["stock_end"], b["stock_end"], rtol=1e-12)
    np.testing.assert_allclose(a["placement_entries"], b["placement_entries"], rtol=1e-12)
    des_a = sim.simulate(everyone, replications=1, seed=4).measures
    des_b = sim.simulate(all_steps, replications=1, seed=4).measures
    for m in des_a:
        np.testing.assert_array_equal(des_a[m], des_b[m])
    # Children who did not enter on 'low' keep the baseline's rates.
    low = compile_staircase(_plan(reached_entry_steps=["low"]))
    base = compile_staircase(Scenario.from_dict(toy_dict()))
    np.testing.assert_array_equal(low.unreached.rates, base.rates)
    np.testing.assert_array_equal(low.rates, st_all.rates)
    np.testing.assert_array_equal(low.entry_reach, [True, False, False])
    # So the placements avoided lie between none and those of reaching everyone.
    new = {
        k: sim.expected(s).totals["placement_entries"].sum()
        for k, s in (
            ("base", Scenario.from_dict(toy_dict())),
            ("low", _plan(reached_entry_steps=["low"])),
            ("all", everyone),
        )
    }
    assert new["all"] < new["low"] < new["base"]


def test_a_child_who_entered_elsewhere_is_not_reached_in_the_des():
    """Reached children are never placed from 'mid'; others are, at the baseline rate."""
    from sim.engines.des import FROM_OUTSIDE, simulate_des

    plan = Scenario.from_dict(toy_dict()).with_changes(
        {
            "intervention": {
                "start_year": 2024,
                "reached_entry_steps": ["low"],
                "hazard_ratios": {"mid": {"placed": 0.0}},
            }
        }
    )
    st = compile_staircase(plan)
    log = simulate_des(st, seed=3)
    first = {}
    for c, s, f in zip(log.child.tolist(), log.step.tolist(), log.from_step.tolist()):
        first.setdefault(c, (s, f))
    entered = np.array([first[c][0] for c in log.child.tolist()])
    mid_to_placed = (log.step == 1) & (log.to_step == 2)
    assert mid_to_placed.sum() > 50
    assert not (mid_to_placed & (entered == 0)).any()  # came in on 'low': reached, never placed from 'mid'
    # Children who came in on 'mid' leave it for 'placed' at the baseline's share of its exits.
    from_mid = (log.step == 1) & (entered == 1) & np.isfinite(log.end) & (log.to_step < 4)
    assert from_mid.sum() > 500
    share = mid_to_placed[from_mid].mean()
    # Baseline rates out of 'mid': low 0.3, placed 0.1-0.3 by age, closed 0.5.
    assert 0.1 / 0.9 - 0.01 < share < 0.3 / 1.1 + 0.01
    assert (log.from_step[log.step == 1] == FROM_OUTSIDE).any()


# ---------------------------------------------------------------------------
# A strategy's effects (sim.model.effects): transforms of the baseline's arrays
# ---------------------------------------------------------------------------


def _levers_and_strategy(scenario: Scenario):
    from sim.model.staircase import baseline_levers, strategy_of

    return baseline_levers(scenario), strategy_of(scenario)


CAPPED = {
    "steps.placed.capacity": {"places": 150, "overflow_to": "mid"},
    "steps.mid.capacity": {"places": 400, "wait_on": "low"},
}


def _rich_plan() -> Scenario:
    plan = {
        **PLAN,
        "reached_age_bands": ["12-17"],
        "reached_entry_steps": ["low"],
        "entry": {"extra_entries_per_year": 20.0, "entry_step_shares": {"low": 0.9, "mid": 0.1}},
        "extra_places": {"placed": {"places": 10, "cost_per_place_per_year": 1000.0}},
        "one_off_cost": 5e5,
        "reached_steps": ["mid"],
        "cost_per_child_reached": 100.0,
    }
    return Scenario.from_dict(toy_dict()).with_changes({**CAPPED, "intervention": plan})


def test_each_effect_returns_new_arrays_and_leaves_its_input_alone():
    from dataclasses import fields

    from sim.model.effects import EFFECTS

    levers, strategy = _levers_and_strategy(_rich_plan())
    for effect in EFFECTS:
        before = {f.name: np.copy(getattr(levers, f.name)) for f in fields(levers)}
        after = effect(levers, strategy)
        for name, value in before.items():
            np.testing.assert_array_equal(
                getattr(levers, name), value, err_msg=f"{effect.__name__} changed {name}"
            )
        levers = after


def test_effects_set_what_their_keys_say():
    from sim.model.effects import (
        entry_change,
        extra_places,
        hazard_ratios,
        programme_costs,
        reached_age_bands,
    )

    levers, strategy = _levers_and_strategy(_rich_plan())
    mid, placed = 1, 2
    ratio = hazard_ratios(levers, strategy).ratio
    assert (ratio[:, mid, placed] == 0.5).all() and (
        np.delete(ratio.reshape(3, -1), mid * 5 + placed, 1) == 1
    ).all()
    banded = reached_age_bands(hazard_ratios(levers, strategy), strategy).ratio
    np.testing.assert_array_equal(banded[:, mid, placed], [1.0, 1.0, 0.5])
    entry = entry_change(levers, strategy)
    np.testing.assert_allclose(entry.extra_entries, 20.0 * strategy.effect)  # entry replaces PLAN's share
    np.testing.assert_allclose(entry.entry_step_prob[-1], [0.9, 0.1, 0.0])  # full effect
    np.testing.assert_allclose(entry.entry_step_prob[0], [0.6, 0.3, 0.1])  # before the start
    places = extra_places(levers, strategy)
    np.testing.assert_array_equal(places.capacity[:, placed], 150 + np.round(10 * strategy.resources))
    np.testing.assert_allclose(places.programme_cost, 10 * strategy.resources * 1000.0)
    cost = programme_costs(levers, strategy)
    assert (
        cost.programme_cost[1] == 1e6 + 5e5 and cost.programme_cost[0] == 0.0
    )  # the one-off in the first year
    assert cost.reached.tolist() == [False, True, False] and cost.cost_per_child_reached == 100.0


def test_an_effect_list_is_applied_in_order_and_a_new_effect_is_one_function():
    from dataclasses import replace

    from sim.model.effects import EFFECTS, apply_effects

    levers, strategy = _levers_and_strategy(_rich_plan())

    def double_entries(lv, st):  # a new kind of effect: one function of (Levers, Strategy)
        return replace(lv, extra_entries=2 * lv.extra_entries)

    once = apply_effects(levers, strategy)
    twice = apply_effects(levers, strategy, (*EFFECTS, double_entries))
    np.testing.assert_array_equal(twice.extra_entries, 2 * once.extra_entries)
    # compile_staircase lays the effects over the baseline: the arm has the levers' arrays.
    st = compile_staircase(_rich_plan())
    np.testing.assert_array_equal(st.capacity, once.capacity)
    np.testing.assert_array_equal(st.entry_step_prob, once.entry_step_prob)
    np.testing.assert_array_equal(st.entry_reach, [True, False, False])
    assert st.unreached is not None and st.unreached.unreached is None


def test_staircase_parts_read_as_its_own_attributes_and_with_parts_changes_the_right_part():
    from dataclasses import fields

    from sim.model.staircase import AdultLife, Dynamics, Money, Places, Staircase

    st = compile_staircase(_rich_plan())
    for part, kind in (
        ("dynamics", Dynamics),
        ("places", Places),
        ("money", Money),
        ("adult_life", AdultLife),
    ):
        assert isinstance(getattr(st, part), kind)
        for f in fields(kind):
            assert getattr(st, f.name) is getattr(getattr(st, part), f.name)
            assert isinstance(Staircase.__dict__[f.name], object)  # documented on the class too
    # The children the effect does not reach share everything but the rates.
    other = st.unreached
    assert other.money is st.money and other.places is st.places and other.adult_life is st.adult_life
    assert other.stock is st.stock and other.rates is not st.rates
    fewer = st.with_parts(stock=st.stock * 0, unreached=None)
    assert fewer.stock.sum() == 0 and fewer.unreached is None and fewer.rates is st.rates
    assert st.stock.sum() > 0  # the original is unchanged
    assert not hasattr(st, "closed_col")


def assert_same_staircase(a, b) -> None:
    """Two compiled arms hold the same numbers, array by array (bit for bit)."""
    from dataclasses import fields

    for part in ("dynamics", "places", "money", "adult_life"):
        pa, pb = getattr(a, part), getattr(b, part)
        for f in fields(pa):
            x, y = getattr(pa, f.name), getattr(pb, f.name)
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray), f.name
                assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f"{part}.{f.name}"
            else:
                assert x == y or repr(x) == repr(y), f"{part}.{f.name}"
    assert (a.unreached is None) == (b.unreached is None)
    if a.unreached is not None:
        assert_same_staircase(a.unreached, b.unreached)


@pytest.mark.parametrize("reach", [None, ["low"]])
def test_recompiled_gives_what_compile_gives(toy, reach):
    """Costs, rates and hazard ratios changed in the compiled arrays, as compiling the changed scenario does."""
    from sim.model.staircase import hazard_ratio_table, recompiled

    iv = {
        "start_year": 2025,
        "ramp_up_years": 2,
        "hazard_ratios": {"mid": {"placed": 0.7}, "low": {"mid": 0.9}},
        "reached_age_bands": ["0-5", "6-11"],
    }
    if reach:
        iv["reached_entry_steps"] = reach
    plan = toy.with_changes({"intervention": iv})
    st = compile_staircase(plan)
    changed = plan.with_changes(
        {
            "steps.placed.cost_per_year": 612_345.5,
            "steps.mid.entry_cost": 1_234.25,
            "transitions.mid.placed": 0.1234,
            "intervention.hazard_ratios.mid.placed": 0.55,
        }
    )
    fast = recompiled(st, changed, costs=True, ratio=hazard_ratio_table(changed))
    assert_same_staircase(fast, compile_staircase(changed))
    assert fast.places is st.places and fast.adult_life is st.adult_life  # the parts not changed are shared
    only_money = recompiled(st, changed, costs=True)
    assert only_money.dynamics is st.dynamics
    assert recompiled(st, changed) is st


def test_a_reference_band_with_next_to_no_rates_gives_finite_figures_in_both_engines():
    """A mixture step whose first band has a rate of 1e-310 made its clock elsewhere overflow to inf:
    the analytic engine returned NaN without a word (the suite's Hypothesis draws found it)."""
    import warnings

    import sim
    from sim.model.staircase import FASTEST_CLOCK

    d = toy_dict()
    d["steps"]["mid"]["duration"] = {
        "dist": "mixture",
        "short_share": 0.3,
        "short_mean_years": 0.5,
        "long_mean_years": 5,
    }
    bands = lambda first, later: {"0-5": first, "6-11": later, "12-17": later}  # noqa: E731
    d["transitions"]["mid"] = {
        "low": bands(1e-310, 0.3),
        "closed": bands(0.0, 0.5),
        "placed": bands(0.0, 0.1),
    }
    scenario = sim.Scenario.from_dict(d)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow, no NaN on the way
        st = compile_staircase(scenario)
        mid = st.step_ids.index("mid")
        assert np.isfinite(st.intensity).all() and st.intensity[..., mid].max() == FASTEST_CLOCK
        expected = sim.simulate(scenario, engine="expected").measures
        des = sim.simulate(scenario, engine="des", replications=2, seed=1).measures
    for m in (expected, des):
        assert all(np.isfinite(m[k]).all() for k in ("stock_end", "child_years", "closed"))


def test_band_clocks_are_the_clocks_the_engines_run():
    """What the plausibility warning reports (band_clocks) is each band's clock in the compiled arm."""
    from sim.model.staircase import band_clocks

    base = load_scenario(REPO / "scenarios" / "denmark-baseline-aftercare.toml")
    changed = base.with_changes(
        {"transitions.network": {"home": {"0-5": 0.05, "6-11": 0.4, "12-17": 0.2}, "closed": 0.3}}, warn=False
    )
    for scenario in (base, changed):
        st = compile_staircase(scenario)
        rows = band_clocks(scenario)
        assert rows and {r[0] for r in rows} == {
            st.step_ids[s] for s, law in enumerate(st.stays) if not law.rates_are_hazards
        }
        for step, ref, band, speed in rows:
            s, b = st.step_ids.index(step), scenario.band_labels.index(band)
            assert st.intensity[0, scenario.band_labels.index(ref), s] == pytest.approx(1.0)
            assert st.intensity[0, b, s] == pytest.approx(speed, rel=1e-12)
