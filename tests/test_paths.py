"""Free paths sampled in bulk (sim.engines.paths) against the event engine and the naive reference."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import assert_same_spells, toy_dict
from generated import arms, scenario_dicts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from sim.engines.des import ROW, simulate_des, simulate_naive
from sim.model.staircase import compile_staircase
from sim.scenario import Scenario


def without_places(data: dict) -> dict:
    """The same scenario with no capacity limit anywhere (so every path is free)."""
    data = copy.deepcopy(data)
    for step in data["steps"].values():
        step.pop("capacity", None)
    data.get("intervention", {}).pop("extra_places", None)
    return data


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=scenario_dicts(), seed=hs.integers(0, 2**32 - 1), replication=hs.integers(0, 3))
def test_bulk_paths_equal_one_event_per_move(data, seed, replication):
    """Every stay law, age bands, aftercare, reviews and caseloads, strategies
    with extra entries, targeting and ramps: the same spells as the event engine."""
    for scenario in arms(without_places(data)):
        st = compile_staircase(scenario)
        assert_same_spells(
            simulate_des(st, seed, replication), simulate_des(st, seed, replication, eager=False)
        )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=scenario_dicts(intervention=True), seed=hs.integers(0, 2**32 - 1))
def test_bulk_paths_equal_the_naive_reference(data, seed):
    st = compile_staircase(Scenario.from_dict(without_places(data)))
    assert_same_spells(simulate_des(st, seed), simulate_naive(st, seed))


def _busy(reviews: bool = False) -> Scenario:
    """Children who move often: many have more stays than their row of uniforms covers."""
    d = toy_dict()
    d["horizon_years"] = 12
    d["transitions"]["low"] = {"mid": 3.0, "closed": 0.2}
    d["transitions"]["mid"] = {"low": 3.0, "placed": 0.5}
    d["transitions"]["placed"] = {"mid": 2.0}
    d["steps"]["placed"]["duration"] = {"dist": "weibull", "mean_years": 0.4, "shape": 1.5}
    if reviews:
        d["steps"]["mid"]["review"] = {"interval_months": 2, "moves": {"closed": 0.1, "low": 0.2}}
    d["intervention"] = {
        "start_year": 2025,
        "ramp_up_years": 3,
        "hazard_ratios": {"mid": {"placed": 0.5}},
        "entry": {"extra_entries_share": 0.3},
    }
    return Scenario.from_dict(d)


@pytest.mark.parametrize("reviews", [False, True])
def test_children_beyond_their_row_draw_from_their_own_stream(reviews):
    st = compile_staircase(_busy(reviews))
    log = simulate_des(st, 7, 1)
    stays = np.bincount(log.child)
    per_stay = 3 if reviews else 2
    assert (2 + per_stay * stays > ROW).sum() > 100  # many children use their overflow stream
    assert log.extra.sum() > 0
    assert_same_spells(log, simulate_des(st, 7, 1, eager=False))
    assert_same_spells(log, simulate_naive(st, 7, 1))


def test_bulk_paths_are_reproducible_and_in_the_event_engines_order():
    st = compile_staircase(_busy(True))
    a, b = simulate_des(st, 3), simulate_des(st, 3)
    for f in ("child", "step", "from_step", "to_step", "start", "end", "age_start", "extra", "reviews"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    # Each child's stays together, in order, children in the order they entered.
    first = np.flatnonzero(np.r_[True, a.child[1:] != a.child[:-1]])
    assert len(first) == len(np.unique(a.child)) == a.n_children
    same = a.child[1:] == a.child[:-1]
    np.testing.assert_array_equal(a.end[:-1][same], a.start[1:][same])


# --- Capacity: free stretches in bulk, the rest event by event ----------------


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=scenario_dicts(), seed=hs.integers(0, 2**32 - 1), replication=hs.integers(0, 3))
def test_paths_with_places_equal_one_event_per_move(data, seed, replication):
    """Places that bind, waiting, overflow, every queue order, extra places, reviews:
    following the bulk paths and handing refused children to the event engine
    gives the spells of scheduling every move."""
    for scenario in arms(data):
        st = compile_staircase(scenario)
        assert_same_spells(
            simulate_des(st, seed, replication), simulate_des(st, seed, replication, eager=False)
        )


def _identical_logs(a, b) -> None:
    for f in ("child", "step", "from_step", "to_step", "start", "end", "age_start", "extra", "wait_for",
              "overflowed_from", "reviews"):  # fmt: skip
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.n_children == b.n_children


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=scenario_dicts(), seed=hs.integers(0, 2**32 - 1), block=hs.integers(1, 50))
def test_paths_sampled_a_block_of_children_at_a_time_are_the_same_to_the_bit(data, seed, block):
    """A child's stays depend on its own numbers only: blocks of any size give the very spells of
    sampling every child at once (with and without places, stock, extra children, reviews, reach)."""
    import sim.engines.des as des

    was = des.PATH_BLOCK
    for scenario in arms(data):
        st = compile_staircase(scenario)
        try:
            des.PATH_BLOCK = 1 << 40
            whole = simulate_des(st, seed)
            des.PATH_BLOCK = block
            blocked = simulate_des(st, seed)
        finally:
            des.PATH_BLOCK = was
        _identical_logs(whole, blocked)


def _naive_applies(st) -> bool:
    capped = np.flatnonzero(st.capped)
    return all(
        st.queue_kind[j] == 0
        and st.capacity[0, j] > 0
        and (st.capacity[:, j] == st.capacity[0, j]).all()
        and (st.overflow_to[j] < 0 or not st.capped[st.overflow_to[j]])
        and st.stock[j].sum() <= st.capacity[0, j]
        for j in capped
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=scenario_dicts(), seed=hs.integers(0, 2**32 - 1))
def test_paths_with_places_equal_the_simpy_resource_reference(data, seed):
    st = compile_staircase(Scenario.from_dict(data))
    if _naive_applies(st):
        assert_same_spells(simulate_des(st, seed), simulate_naive(st, seed))


@pytest.mark.parametrize(
    "capacity",
    [
        {"places": 60},
        {"places": 60, "queue": "oldest_first"},
        {"places": 60, "queue": "youngest_first", "wait_on": "low"},
        {"places": 40, "overflow_to": "low", "max_wait_years": 0.1},
        {"places": 40, "overflow_to": "mid"},
    ],
)
def test_busy_children_with_places_equal_one_event_per_move(capacity):
    """Children who move often, review, run past their row and are refused often."""
    st = compile_staircase(_busy(True).with_changes({"steps.placed.capacity": capacity}))
    a = simulate_des(st, 5, 2)
    assert (a.wait_for >= 0).sum() + (a.overflowed_from >= 0).sum() > 100  # the places bind
    assert_same_spells(a, simulate_des(st, 5, 2, eager=False))


def _meeting_reviews() -> dict:
    """Found by the generated scenarios: eight children found on a step with one place and monthly
    reviews, which sent two of them for the same place at the same instant."""
    step = {"placement": False, "cost_per_year": 0, "entry_cost": 0, "duration": {"dist": "exponential"}}
    steps = {
        "s0": {
            **step,
            "capacity": {"places": 2, "wait_on": "s3"},
            "review": {"interval_months": 1, "moves": {"s1": 0.1}},
        },
        "s1": {
            **step,
            "duration": {"dist": "weibull", "mean_years": 0.5, "shape": 0.6},
            "capacity": {"places": 1, "queue": "oldest_first"},
            "review": {"interval_months": 1, "moves": {"s0": 0.1}},
        },
        "s2": {**step, "capacity": {"places": 0}, "review": {"interval_months": 1, "moves": {"s0": 0.1}}},
        "s3": {**step, "placement": True, "capacity": {"places": "unlimited"}},
    }
    for i, s in enumerate(steps.values()):
        s.update(name_da=f"Trin {i}", name_en=f"Step {i}")
    return {
        "name": "meeting",
        "start_year": 2024,
        "horizon_years": 2,
        "price_year": 2024,
        "steps": steps,
        "population": {
            "children": 5000,
            "age_bands": [0, 6, 12],
            "leaving_age": 18,
            "entries_per_year": 0.0,
            "entry_age_shares": {"0-5": 1.0},
            "entry_step_shares": {"s0": 1.0},
            "initial_stock": {"s1": {"children": 8, "age_shares": {"0-5": 1.0}}},
        },
        "transitions": {"s1": {"closed": 0.5}},
    }


def test_children_found_at_the_start_are_not_all_reviewed_at_the_same_instants():
    """Their first review comes after a random part of an interval (they have been there a while):
    before, every one was reviewed at 1, 2, ... months, children met at exactly the same moment, and
    the order of simultaneous events decided who got a place, differently in the bulk paths and in
    the event-by-event engine."""
    from sim.engines.paths import review_phase

    st = compile_staircase(Scenario.from_dict(_meeting_reviews()))
    assert_same_spells(simulate_des(st, 0, 1), simulate_des(st, 0, 1, eager=False))
    log = simulate_des(st, 0, 1)
    starts = log.start[(log.from_step >= 0) & (log.start > 0)]
    assert not np.any(np.isclose((starts * 12) % 1, 0, atol=1e-9))  # no move on the month grid
    # The phase is uniform, and independent of the number of reviews drawn from the same number.
    rng = np.random.default_rng(1)
    u, p = rng.random(200_000), 0.3
    x = np.log(1 - u) / np.log(1 - p)
    phase = review_phase(x - np.floor(x), p)
    assert abs(phase.mean() - 0.5) < 0.005 and abs(np.mean(phase < 0.25) - 0.25) < 0.005
    assert abs(np.corrcoef(phase, np.floor(x))[0, 1]) < 0.01
