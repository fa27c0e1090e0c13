"""The discrete-event engine: conservation, reproducibility, common random numbers, durations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import AGES3, assert_same_spells, toy_dict
from hypothesis import given, settings
from hypothesis import strategies as hs

from sim.engines.des import CENSORED, FROM_OUTSIDE, FROM_STOCK, simulate_des, simulate_naive
from sim.engines.expected import expected_measures
from sim.engines.spells import children_in_out, measures_from_spells
from sim.model.staircase import Staircase, compile_staircase
from sim.scenario import Scenario

DURATIONS = {
    "exponential": {"dist": "exponential"},
    "mixture": {"dist": "mixture", "short_share": 0.3, "short_mean_years": 0.4, "long_mean_years": 5.0},
    "weibull": {"dist": "weibull", "mean_years": 2.0, "shape": 0.7},
    "lognormal": {"dist": "lognormal", "mean_years": 2.0, "sigma": 0.9},
}


def _with_duration(kind: str, aftercare: bool = False) -> Scenario:
    d = toy_dict()
    d["steps"]["placed"]["duration"] = DURATIONS[kind]
    if aftercare:
        d["population"]["aftercare_until_age"] = 23
    d["intervention"] = {"start_year": 2026, "ramp_up_years": 2, "hazard_ratios": {"placed": {"mid": 1.5}}}
    return Scenario.from_dict(d)


@pytest.mark.parametrize("kind", list(DURATIONS))
@pytest.mark.parametrize("aftercare", [False, True])
def test_conservation_children_in_equals_out_plus_present(kind, aftercare):
    st = compile_staircase(_with_duration(kind, aftercare))
    log = simulate_des(st, seed=3, replication=0)
    c = children_in_out(log, st.n_steps)
    assert c["entered"] == c["left"] + c["present"]
    assert c["entered"] == log.n_children
    # Every stay has a non-negative length and ends where the next begins.
    finite = np.isfinite(log.end)
    assert np.all(log.end[finite] >= log.start[finite])
    assert np.all(log.start >= 0) and np.all(log.start < st.horizon)


def test_every_child_has_one_unbroken_path(toy):
    st = compile_staircase(toy)
    log = simulate_des(st, seed=1)
    order = np.lexsort((log.start, log.child))
    child, start, end, to, step = (a[order] for a in (log.child, log.start, log.end, log.to_step, log.step))
    same = child[1:] == child[:-1]
    np.testing.assert_array_equal(end[:-1][same], start[1:][same])
    np.testing.assert_array_equal(to[:-1][same], step[1:][same])
    # The last stay of each child is an exit or censored, never a move.
    last = np.append(~same, True)
    assert np.all((to[last] >= st.n_steps) | (to[last] == CENSORED))


def test_initial_stock_counts_are_exact(toy):
    st = compile_staircase(toy)
    log = simulate_des(st, seed=2)
    stock = log.from_step == FROM_STOCK
    assert np.sum(stock & (log.step == 0)) == 300 and np.sum(stock & (log.step == 2)) == 150
    ages = log.age_start[stock & (log.step == 2)]
    assert ages.min() >= 0 and ages.max() < 18


def test_same_seed_identical_different_seed_differs(toy):
    st = compile_staircase(toy)
    a, b, c = simulate_des(st, 5, 0), simulate_des(st, 5, 0), simulate_des(st, 6, 0)
    for f in ("child", "step", "to_step", "start", "end"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert len(a.start) != len(c.start) or not np.array_equal(a.start, c.start)
    d = simulate_des(st, 5, 1)
    assert not np.array_equal(a.end[: len(d.end)], d.end[: len(a.end)])


def test_zero_effect_strategy_gives_identical_paths(toy):
    plan = toy.with_changes(
        {"intervention": {"start_year": 2025, "ramp_up_years": 2, "hazard_ratios": {"mid": {"placed": 1.0}}}}
    )
    a = simulate_des(compile_staircase(toy), 11)
    b = simulate_des(compile_staircase(plan), 11)
    for f in ("child", "step", "from_step", "to_step", "start", "end", "age_start"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_common_random_numbers_children_keep_their_draws(toy):
    # A strategy that only touches the placed step leaves every child who
    # never reaches it on exactly the same path.
    plan = toy.with_changes({"intervention": {"start_year": 2024, "hazard_ratios": {"placed": {"mid": 3.0}}}})
    a = simulate_des(compile_staircase(toy), 4)
    b = simulate_des(compile_staircase(plan), 4)
    touched = set(a.child[a.step == 2]) | set(b.child[b.step == 2])
    ka = ~np.isin(a.child, list(touched))
    kb = ~np.isin(b.child, list(touched))
    assert ka.sum() > 1000
    np.testing.assert_array_equal(a.end[ka], b.end[kb])
    np.testing.assert_array_equal(a.to_step[ka], b.to_step[kb])


def test_extra_entries_come_from_their_own_stream(toy):
    plan = toy.with_changes({"intervention": {"start_year": 2024, "entry": {"extra_entries_per_year": 100}}})
    a = simulate_des(compile_staircase(toy), 9)
    b = simulate_des(compile_staircase(plan), 9)
    base_b = b.extra == 0
    assert b.extra.sum() > 0
    np.testing.assert_array_equal(np.sort(a.end), np.sort(b.end[base_b]))


@pytest.mark.parametrize("kind", ["weibull", "lognormal", "mixture"])
def test_duration_mean_matches_parameters(kind):
    """Completed stays on a step with a given duration law have its mean (4 SE)."""
    d = {
        "name": "dur",
        "start_year": 2000,
        "horizon_years": 60,
        "price_year": 2000,
        "steps": {
            "a": {"name_da": "A", "name_en": "A", "placement": True, "duration": DURATIONS[kind]},
            "b": {"name_da": "B", "name_en": "B"},
        },
        "population": {
            "children": 1000,
            "age_bands": [0],
            "leaving_age": 30,
            "entries_per_year": 300,
            "entry_age_shares": {"0-29": 1.0},
            "entry_step_shares": {"a": 1.0},
        },
        "transitions": {"a": {"closed": 1.0}},
    }
    d["population"]["entry_age_shares"] = {"0-29": 1.0}
    s = Scenario.from_dict(d)
    st = compile_staircase(s)
    log = simulate_des(st, 1)
    # Entries in the first 30 years only, so that censoring at 60 is negligible,
    # and only children young enough not to age out within their stay.
    done = (log.start < 30) & (log.to_step == st.n_steps)
    dur = (log.end - log.start)[done]
    mean = DURATIONS[kind].get("mean_years") or (0.3 * 0.4 + 0.7 * 5.0)
    # Ageing out at 30 truncates some long stays: compare on children entering young.
    young = (log.age_start[done] < 10) & np.isfinite(dur)
    se = dur[young].std(ddof=1) / np.sqrt(young.sum())
    assert abs(dur[young].mean() - mean) < 4 * se + 0.02 * mean


@settings(max_examples=15, deadline=None)
@given(
    low_closed=hs.floats(0.05, 3.0),
    up=hs.floats(0.0, 2.0),
    placed_exit=hs.floats(0.0, 1.0),
    entries=hs.integers(0, 400),
    seed=hs.integers(0, 2**31),
)
def test_property_conservation_and_no_negative_costs(low_closed, up, placed_exit, entries, seed):
    d = toy_dict()
    d["population"]["entries_per_year"] = entries
    d["transitions"]["low"] = {"mid": up, "closed": low_closed}
    d["transitions"]["placed"] = {"mid": placed_exit, "closed": 0.1}
    d["horizon_years"] = 5
    st = compile_staircase(Scenario.from_dict(d))
    log = simulate_des(st, seed)
    c = children_in_out(log, st.n_steps)
    assert c["entered"] == c["left"] + c["present"]
    finite = np.isfinite(log.end)
    assert np.all(log.end[finite] - log.start[finite] >= 0)


@pytest.mark.parametrize("kind", ["exponential", "mixture", "lognormal"])
def test_engine_equals_naive_simpy_reference(kind):
    """Eager paths, one event per move, and one generator process per child: same spells."""
    st = compile_staircase(_with_duration(kind, aftercare=True))

    def spells(log):
        order = np.lexsort((log.start, log.child))
        return np.column_stack([log.child, log.step, log.from_step, log.to_step, log.start, log.end])[order]

    # The steps are exact; times to 1e-9 (the bulk sampler's numpy log and exp
    # may round the last bit differently from the scalar model's math.log and exp).
    bulk = spells(simulate_des(st, 21, 2))
    one_by_one = spells(simulate_des(st, 21, 2, eager=False))
    np.testing.assert_array_equal(one_by_one, spells(simulate_naive(st, 21, 2)))
    np.testing.assert_array_equal(bulk[:, :4], one_by_one[:, :4])
    np.testing.assert_allclose(bulk[:, 4:], one_by_one[:, 4:], rtol=0, atol=1e-9)


# --- Capacity, waiting lists, overflow, reviews ------------------------------


def _erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a = lambda/mu``."""
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail)


def _queue(c: int, mu: float, lam: float, horizon: int = 10, **capacity) -> Scenario:
    """One capped step fed by Poisson arrivals with exponential stays: M/M/c."""
    return Scenario.from_dict(
        {
            "name": "mmc",
            "start_year": 2000,
            "horizon_years": horizon,
            "price_year": 2000,
            "steps": {
                "home": {"name_da": "Hjemme", "name_en": "Home"},
                "placed": {
                    "name_da": "Anbragt",
                    "name_en": "Placed",
                    "placement": True,
                    "capacity": {"places": c, **capacity},
                },
            },
            "population": {
                "children": 100_000,
                "age_bands": [0],
                "leaving_age": 30,
                "entries_per_year": lam,
                "entry_age_shares": {"0-29": 1.0},
                "entry_step_shares": {"placed": 1.0},
            },
            "transitions": {"placed": {"closed": mu}},
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rho", "reps", "wait_tol"),
    # At rho = 0.95 the queue forgets its past only every ~1,500 arrivals: one
    # replication's mean wait (47,500 arrivals) spreads by ~14 % (measured over
    # 60 replications), so 16 of them give it a relative SE of ~3.5 % and 12 %
    # is ~3.5 SE. The mean wait there moves 20 % for each 1 % of load, so 12 %
    # still catches a service rate 0.6 % off. The probability of waiting is
    # far steadier (SE ~0.3 %): 5 % is many SE. 0.5 and 0.8 settle far faster.
    [(0.5, 8, 0.05), (0.8, 8, 0.05), (0.95, 16, 0.12)],
)
def test_capped_step_is_an_mmc_queue_erlang_c(rho, reps, wait_tol):
    c, mu = 5, 1000.0
    lam = rho * c * mu
    st = compile_staircase(_queue(c, mu, lam))
    arrived = waited = 0
    waiting_time = 0.0
    for r in range(reps):
        log = simulate_des(st, seed=17, replication=r)
        warm = log.start >= 0.5  # from empty: skip the first half-year
        arrived += np.sum(warm & (log.from_step == FROM_OUTSIDE) & (log.wait_for < 0)) + np.sum(
            warm & (log.wait_for >= 0)
        )
        w = warm & (log.wait_for >= 0) & np.isfinite(log.end)
        waited += w.sum()
        waiting_time += (log.end[w] - log.start[w]).sum()
    p_wait = _erlang_c(c, lam / mu)
    mean_wait = p_wait / (c * mu - lam)
    assert waited / arrived == pytest.approx(p_wait, rel=0.05)
    assert waiting_time / arrived == pytest.approx(mean_wait, rel=wait_tol)


def test_littles_law_on_every_capped_step():
    """Mean number waiting = rate of joining the queue x mean wait."""
    st = compile_staircase(_queue(3, 100.0, 270.0, horizon=30))
    log = simulate_des(st, seed=2)
    m = measures_from_spells(log, st)
    j = 1
    years = slice(2, 29)  # whole years, after the first two
    mean_waiting = m["waiting_years"][years, j].sum() / 27
    joined_per_year = m["waits_started"][years, j].sum() / 27
    w = (log.wait_for == j) & (log.start >= 2) & (log.start < 29) & np.isfinite(log.end)
    mean_wait = (log.end[w] - log.start[w]).mean()
    assert mean_waiting == pytest.approx(joined_per_year * mean_wait, rel=0.02)


def _occupancy_max(log, j: int) -> float:
    on = (log.step == j) & ~((log.wait_for >= 0) & (log.step == j))
    times = np.concatenate([log.start[on], log.end[on][np.isfinite(log.end[on])]])
    delta = np.concatenate([np.ones(on.sum()), -np.ones(np.isfinite(log.end[on]).sum())])
    order = np.lexsort((delta, times))  # at equal times, leave before arriving
    return np.cumsum(delta[order]).max()


@pytest.mark.parametrize("overflow", [False, True])
def test_places_are_never_exceeded_and_children_are_conserved(toy, overflow):
    cap = {"places": 40, "overflow_to": "low", "max_wait_years": 0.25} if overflow else {"places": 40}
    s = toy.with_changes({"steps.placed.capacity": cap, "population.initial_stock.placed.children": 30})
    st = compile_staircase(s)
    log = simulate_des(st, seed=5)
    assert _occupancy_max(log, 2) <= 40
    c = children_in_out(log, st.n_steps)
    assert c["entered"] == c["left"] + c["present"] == log.n_children
    w = (log.wait_for == 2) & np.isfinite(log.end)
    assert w.sum() > 50  # the limit binds
    if overflow:
        assert (log.end[w] - log.start[w]).max() <= 0.25 + 1e-12
        assert np.sum(log.overflowed_from == 2) > 0
    else:
        assert np.sum(log.overflowed_from >= 0) == 0


def test_overflow_at_once_means_nobody_waits(toy):
    s = toy.with_changes(
        {
            "steps.placed.capacity": {"places": 100, "overflow_to": "mid"},
            "population.initial_stock.placed.children": 80,
        }
    )
    log = simulate_des(compile_staircase(s), seed=5)
    assert np.sum(log.wait_for >= 0) == 0
    assert np.sum(log.overflowed_from == 2) > 0
    assert _occupancy_max(log, 2) <= 100


def test_unlimited_capacity_gives_exactly_the_results_of_none(toy):
    a = simulate_des(compile_staircase(toy), seed=8)
    s = toy.with_changes({"steps.placed.capacity": {"places": "unlimited"}})
    b = simulate_des(compile_staircase(s), seed=8)
    for f in ("child", "step", "from_step", "to_step", "start", "end"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_oldest_first_admits_older_children_first(toy):
    ages = {}
    for queue in ("oldest_first", "youngest_first"):
        s = toy.with_changes({"steps.placed.capacity": {"places": 60, "queue": queue}})
        log = simulate_des(compile_staircase(s), seed=3)
        admitted = (log.wait_for == 2) & (log.to_step == 2)
        ages[queue] = (log.age_start[admitted] + (log.end - log.start)[admitted]).mean()
    assert ages["oldest_first"] > ages["youngest_first"]


def test_waiting_child_whose_case_closes_leaves_the_queue(toy):
    # Waiting on 'mid' (closure rate 0.5 a year) for a step with very few places.
    s = toy.with_changes({"steps.placed.capacity": {"places": 5}})
    log = simulate_des(compile_staircase(s), seed=4)
    w = log.wait_for == 2
    assert np.sum(w & (log.to_step == 3)) > 0  # closed while waiting
    assert np.sum(w & (log.to_step == 4)) > 0  # aged out while waiting


def test_more_places_from_a_strategy_shorten_the_queue(toy):
    base = toy.with_changes({"steps.placed.capacity": {"places": 220}})
    plan = base.with_changes(
        {"intervention": {"start_year": 2026, "extra_places": {"placed": {"places": 150}}}}
    )
    st_b, st_s = compile_staircase(base), compile_staircase(plan)
    assert st_s.capacity[:3, 2].tolist() == [220, 220, 370]
    wb = measures_from_spells(simulate_des(st_b, 6), st_b)["waiting_years"][3:, 2].sum()
    ws = measures_from_spells(simulate_des(st_s, 6), st_s)["waiting_years"][3:, 2].sum()
    assert ws < 0.5 * wb


def _reviewed(interval_months: float, rate: float = 0.8) -> Scenario:
    """'mid' closes only at reviews, with the probability that matches ``rate`` a year."""
    p = rate * interval_months / 12
    d = toy_dict()
    d["transitions"]["mid"] = {"low": 0.3, "placed": 0.2}
    d["steps"]["mid"]["review"] = {"interval_months": interval_months, "moves": {"closed": p}}
    return Scenario.from_dict(d)


def test_reviews_tending_to_continuous_rate():
    """With a short interval, reviews act like the continuous rate p / interval."""
    st = compile_staircase(_reviewed(0.1))
    continuous = toy_dict()
    continuous["transitions"]["mid"] = {"low": 0.3, "placed": 0.2, "closed": 0.8}
    e = expected_measures(compile_staircase(Scenario.from_dict(continuous)))
    R = 20
    runs = [measures_from_spells(simulate_des(st, 3, r), st) for r in range(R)]
    for m in ("stock_end", "closed", "placement_entries"):
        x = np.stack([r[m] for r in runs]).sum(axis=1)  # [R, S], whole horizon
        se = x.std(axis=0, ddof=1) / np.sqrt(R)
        ref = e[m].sum(axis=0)
        ok = se > 0
        assert np.all(np.abs(x.mean(axis=0)[ok] - ref[ok]) < 4 * se[ok] + 0.01 * ref[ok]), m


def test_reviews_happen_at_their_interval_and_are_counted():
    st = compile_staircase(_reviewed(6.0))
    log = simulate_des(st, seed=1)
    closed_mid = (log.step == 1) & (log.to_step == 3)
    since = log.end[closed_mid] - log.start[closed_mid]
    # Every closure from 'mid' falls on a review: a whole number of half-years.
    np.testing.assert_allclose(since * 2, np.round(since * 2), atol=1e-9)
    m = measures_from_spells(log, st)
    # Reviews every half-year from the start of each stay on 'mid', within the horizon.
    mid = log.step == 1
    held = np.floor((np.minimum(log.end[mid], st.horizon) - log.start[mid]) * 2 + 1e-9)
    assert m["reviews"][:, 1].sum() == held.sum()
    assert m["reviews"][:, 0].sum() == 0


def test_lower_caseload_means_more_frequent_reviews():
    d = _reviewed(6.0).to_dict()
    d["casework"] = {
        "caseworkers": 10,
        "cost_per_caseworker": 500_000,
        "cases": 480,
        "reference_caseload": 48,
    }
    d["intervention"] = {"start_year": 2024, "extra_caseworkers": 10}
    st = compile_staircase(Scenario.from_dict(d))
    assert st.review_interval[0, 1] == pytest.approx(0.25)  # 24 cases each: twice as often
    assert st.programme_cost[0] == pytest.approx(20 * 500_000)


@pytest.mark.parametrize(
    "capacity",
    [
        {"places": 220},
        {"places": 220, "wait_on": "mid"},
        {"places": 200, "overflow_to": "mid", "max_wait_years": 0.25},
        {"places": 200, "overflow_to": "low"},
        # Children overflow soon and queue again: each time at the back of the line.
        {"places": 150, "overflow_to": "mid", "max_wait_years": 0.05},
    ],
)
def test_engine_with_capacity_equals_simpy_resource_reference(toy, capacity):
    """The event engine and the textbook model (a process per child, simpy.Resource): same spells."""
    st = compile_staircase(toy.with_changes({"steps.placed.capacity": capacity}))

    def spells(log):
        order = np.lexsort((log.start, log.child))
        cols = (
            log.child,
            log.step,
            log.from_step,
            log.to_step,
            log.start,
            log.end,
            log.wait_for,
            log.overflowed_from,
        )
        return np.column_stack(cols)[order]

    a = spells(simulate_des(st, 3))
    # SimPy's clock (t + (end - t)) and the engine's exact ends may differ in the last bit.
    np.testing.assert_allclose(a, spells(simulate_naive(st, 3)), rtol=0, atol=1e-9)
    assert (a[:, 6] >= 0).sum() + (a[:, 7] >= 0).sum() > 100  # the limit binds


def test_simpy_internals_the_engine_relies_on():
    """The DES schedules its own ``__slots__`` objects as SimPy events (``_Child``, ``_Timer``).
    Of an event, SimPy's loop reads only ``callbacks`` and ``_ok`` (and ``_value`` if it failed):
    ours never fail, so ``_ok`` and ``_value`` are constants of their class, and they have no
    ``env``. The engine fills ``callbacks``, puts them on ``env._queue`` as ``env.schedule``
    does (time, priority, ``next(env._eid)``, event), reads ``env._now``, and moves it on
    itself where it handles, within one callback, the feed's next item when that comes
    before SimPy's next event (the feed's callback runs after each event's own). If a SimPy release changes any of that, this fails
    before the engine does (pyproject.toml pins SimPy's minor version for the same reason)."""
    from heapq import heappush

    import simpy
    from simpy.events import NORMAL

    from sim.engines.des import _Child, _Timer

    major, minor = (int(x) for x in simpy.__version__.split(".")[:2])
    assert (major, minor) == (4, 1), f"SimPy {simpy.__version__}: check these internals, then widen the pin"
    env = simpy.Environment(initial_time=0.5)
    assert env._now == env.now == 0.5  # the engine reads _now (a plain attribute) for speed
    seen = []
    for kind, delay in ((_Child, 2.0), (_Timer, 1.0)):
        assert (kind._ok, kind._value) == (True, None) and not hasattr(kind(), "env")
        ev = kind()
        # What the engine does: the callbacks, then schedule() with a delay.
        ev.callbacks = [lambda e, k=kind: seen.append((k, env._now))]
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))
    env.run(until=10.0)
    # Processed in time order, callbacks cleared (SimPy sets them to None), no failure raised.
    assert seen == [(_Timer, 1.5), (_Child, 2.5)]
    # The same object is scheduled again with a new callback list once SimPy has processed it,
    # and it takes its turn among SimPy's own events (whose ids come from the same counter).
    ev.callbacks = [lambda e: seen.append(("again", env._now))]
    heappush(env._queue, (11.0, NORMAL, next(env._eid), ev))
    env.timeout(1.0).callbacks.append(lambda e: seen.append(("timeout", env._now)))
    env.timeout(0.5).callbacks.append(lambda e: seen.append(("timeout", env._now)))
    env.run(until=20.0)
    assert seen[-3:] == [("timeout", 10.5), ("again", 11.0), ("timeout", 11.0)]
    # A callback that moves the clock on (to a time before the queue's head) is seen by
    # every later reader of ``now``, and SimPy's next step sets it from the queue as usual.
    ev.callbacks = [lambda e: (seen.append(("moved", env._queue[0][0])), setattr(env, "_now", 21.5))]
    heappush(env._queue, (21.0, NORMAL, next(env._eid), ev))
    env.timeout(2.0).callbacks.append(lambda e: seen.append(("timeout", env._now)))
    env.run(until=30.0)
    assert env.now == 30.0 and seen[-2:] == [("moved", 22.0), ("timeout", 22.0)]
    # An event's callbacks run in the order of its list, all before SimPy takes the next
    # event (the feed's callback rides after each event's own), even when the first
    # schedules the same object again with another list.
    again = [lambda e: seen.append(("rescheduled", env._now))]

    def first(e: _Child) -> None:
        seen.append(("first", env._queue[0][0]))
        e.callbacks = again
        heappush(env._queue, (31.0, NORMAL, next(env._eid), e))

    ev.callbacks = [first, lambda e: seen.append(("second", env._now))]
    heappush(env._queue, (30.5, NORMAL, next(env._eid), ev))
    env.timeout(0.5).callbacks.append(lambda e: seen.append(("timeout", env._now)))
    env.run(until=40.0)
    assert seen[-4:] == [("first", 30.5), ("second", 30.5), ("timeout", 30.5), ("rescheduled", 31.0)]


def test_a_wait_whose_closing_rate_never_changes_ends_as_the_clock_says():
    """Waits on a step whose closing rate is the same in every year and band skip the
    step clock (a fast path): they end when, and for the reason, the clock gives."""
    from sim.engines.des import _Child, _Run

    st = compile_staircase(Scenario.from_dict(toy_dict()))
    run = _Run(st, seed=3, replication=0)
    wait, clock = run.make_wait(), run.make_clock()
    closes = st.close_rate.tolist()
    rng = np.random.default_rng(5)
    checked = 0
    for w in range(st.n_steps):
        rate = st.close_rate[:, :, w]
        assert np.all(rate == rate[0, 0]), "the toy's closing rates are constant: the fast path is taken"
        for j in range(st.n_steps):
            for _ in range(50):
                u = rng.random(3)
                child = _Child()
                child.u, child.k, child.grp, child.cid, child.extra = memoryview(u), 0, 0, 0, 0
                t = float(rng.uniform(0, st.horizon))
                child.birth = t - float(rng.uniform(0, 20))
                age = min(st.leave_age[w], st.leave_age[j])
                end, reason = wait(child, w, t, j)
                want, aged, _, _ = clock(closes, w, t, child.birth, -math.log(1.0 - u[0]), child.birth + age)
                if math.isinf(want):  # beyond the horizon: never an event
                    assert end >= st.horizon
                    continue
                assert end == pytest.approx(want, rel=1e-12, abs=1e-12)
                assert reason == (st.n_steps + 1 if aged else st.n_steps)
                checked += 1
    assert checked > 100


# ---------------------------------------------------------------------------
# A child who needs more uniforms than its row and its first overflow block
# ---------------------------------------------------------------------------


def _bouncing(capacity: bool) -> Scenario:
    """Children moving between two steps about 60 times a year for 10 years: 600 stays each."""
    placed = {"name_da": "Anbragt", "name_en": "Placed", "placement": True}
    if capacity:
        placed["capacity"] = {"places": 30, "wait_on": "home"}
    return Scenario.from_dict(
        {
            "name": "bouncing",
            "start_year": 2000,
            "horizon_years": 10,
            "price_year": 2000,
            "steps": {"home": {"name_da": "Hjemme", "name_en": "Home"}, "placed": placed},
            "population": {
                "children": 1_000,
                "age_bands": [0],
                "leaving_age": 30,
                "entries_per_year": 2,
                "entry_age_shares": {"0-29": 1.0},
                "entry_step_shares": {"home": 1.0},
            },
            "transitions": {"home": {"placed": 60.0, "closed": 0.01}, "placed": {"home": 60.0}},
        }
    )


@pytest.mark.parametrize("capacity", [False, True], ids=["free", "places"])
def test_a_child_with_hundreds_of_stays_draws_from_its_own_stream_as_far_as_it_needs(capacity):
    """Its row holds 16 uniforms and the first overflow block 256; the stream goes on (it used to
    raise IndexError), and the engine, its event form and the naive reference still agree."""
    st = compile_staircase(_bouncing(capacity))
    log = simulate_des(st, seed=3)
    assert np.bincount(log.child).max() > 300  # well past 16 + 256 uniforms for some child
    for other in (simulate_des(st, seed=3, eager=False), simulate_naive(st, seed=3)):
        assert_same_spells(log, other)


def test_an_overflow_stream_is_the_same_however_far_it_is_read():
    from sim.engines.des import _overflow_row

    a, b = _overflow_row(7, 0)(5, 0), _overflow_row(7, 0)(5, 0)
    far = a[1000]
    assert [a[j] for j in range(256)] == [b[j] for j in range(256)] and b[1000] == far


def test_two_capped_steps_in_a_row_equal_the_simpy_resource_reference(toy):
    """Places on 'mid' and on 'placed': a child on 'mid' due for a full 'placed' keeps its place on
    'mid' while it waits, and gives it back when admitted. Checked against the textbook model (a
    process per child holding simpy.Resource requests): the same spells to 1e-9 (seed 3)."""
    st = compile_staircase(
        toy.with_changes({"steps.mid.capacity": {"places": 120}, "steps.placed.capacity": {"places": 160}})
    )
    a, b = simulate_des(st, 3), simulate_naive(st, 3)

    def spells(log):
        order = np.lexsort((log.start, log.child))
        cols = (log.child, log.step, log.from_step, log.to_step, log.start, log.end, log.wait_for)
        return np.column_stack(cols)[order]

    assert len(a.child) == len(b.child)
    np.testing.assert_allclose(spells(a), spells(b), rtol=0, atol=1e-9)
    assert (a.wait_for == 2).sum() > 50  # children do wait on 'mid' for 'placed'


@pytest.mark.parametrize("kind", ["weibull", "lognormal", "mixture"])
def test_a_duration_law_holds_in_the_first_band_and_other_bands_scale_by_their_rate(kind):
    """The documented rule for non-exponential stays: the law (mean 2 years here) holds in the first
    age band with rates; in another band the step's clock runs at the ratio of the total rates out
    (3x here), so stays lived there have mean 2/3. Completed stays started well inside each band,
    seed 1, within 4 standard errors + 3 %."""
    law = {
        "weibull": {"dist": "weibull", "mean_years": 2.0, "shape": 0.7},
        "lognormal": {"dist": "lognormal", "mean_years": 2.0, "sigma": 0.9},
        "mixture": {"dist": "mixture", "short_share": 0.25, "short_mean_years": 0.5, "long_mean_years": 2.5},
    }[kind]
    d = {
        "name": "bands",
        "start_year": 2000,
        "horizon_years": 40,
        "price_year": 2000,
        "steps": {
            "a": {"name_da": "A", "name_en": "A", "placement": True, "duration": law},
            "b": {"name_da": "B", "name_en": "B"},
        },
        "population": {
            "children": 1000,
            "age_bands": [0, 15],
            "leaving_age": 30,
            "entries_per_year": 400,
            "entry_age_shares": {"0-14": 0.5, "15-29": 0.5},
            "entry_step_shares": {"a": 1.0},
        },
        "transitions": {"a": {"closed": {"0-14": 1.0, "15-29": 3.0}}},
    }
    st = compile_staircase(Scenario.from_dict(d))
    log = simulate_des(st, 1)
    done = (log.start < 25) & (log.to_step == st.n_steps) & (log.step == 0)
    dur, age = (log.end - log.start)[done], log.age_start[done]
    for lo, hi, mean in ((0.0, 3.0, 2.0), (15.0, 20.0, 2.0 / 3.0)):
        # Stays that start at these ages end in their band almost always (one from age 3 would
        # need 12 years to reach 15: rare enough for the 3 %).
        x = dur[(age >= lo) & (age < hi)]
        se = x.std(ddof=1) / np.sqrt(len(x))
        assert abs(x.mean() - mean) < 4 * se + 0.03 * mean, (lo, x.mean(), mean, se)


def test_a_child_refused_a_place_gets_one_freed_by_its_own_leaving_at_once_as_in_simpy():
    """A child on `placed` refused a move to a full `inst` leaves `placed` to wait on `low`; its
    leaving admits a child from `placed`'s queue who held a place on `inst`, so `inst` has a free
    place before the first child queues for it. SimPy's Resource grants it at once (a wait of no
    time); the engine did not look again and kept the child waiting (found by a review's random
    scenarios, 11 of 5,547)."""
    shares = {"0-5": 0.3, "6-11": 0.3, "12-17": 0.4}
    d = {
        "name": "toy", "title": "Toy staircase", "language": "en", "start_year": 2024, "price_year": 2024,
        "horizon_years": 2,
        "population": {
            "children": 20000, "entries_per_year": 20.0, "entry_age_shares": shares,
            "entry_step_shares": {"low": 0.6, "mid": 0.3, "placed": 0.1},
            "initial_stock": {
                "inst": {"age_shares": shares, "children": 0},
                "low": {"age_shares": shares, "children": 150},
                "placed": {"age_shares": {"0-5": 0.2, "6-11": 0.3, "12-17": 0.5}, "children": 1},
            },
        },
        "steps": {
            "low": {"cost_per_year": 10000, "name_da": "Lav", "name_en": "Low"},
            "mid": {"capacity": {"places": 10}, "cost_per_year": 100000, "entry_cost": 5000,
                    "name_da": "Mellem", "name_en": "Middle"},
            "placed": {"capacity": {"max_wait_years": 0.3, "overflow_to": "low", "places": 1},
                       "cost_per_year": 500000, "name_da": "Anbragt", "name_en": "Placed", "placement": True},
            "inst": {"capacity": {"places": 3, "wait_on": "low"}, "cost_per_year": 900000,
                     "name_da": "Inst", "name_en": "Inst", "placement": True},
        },
        "transitions": {
            "low": {"closed": 1.0, "mid": 5.0},
            "mid": {"closed": 0.5, "low": 0.3, "placed": 1.0},
            "placed": {"closed": 0.1, "inst": 2.0, "mid": 0.2},
            "inst": {"closed": 0.1, "mid": 1.0},
        },
    }  # fmt: skip
    st = compile_staircase(Scenario.from_dict(d))
    log = simulate_des(st, 2490607511, 2)
    assert_same_spells(log, simulate_naive(st, 2490607511, 2))
    assert_same_spells(log, simulate_des(st, 2490607511, 2, eager=False))


def _reviewed_places() -> Staircase:
    """Places on `mid` and `inst`, both with six-monthly case reviews: children who start their
    stays together (one leaves `inst`, its place admits another) are reviewed together from then
    on, so their moves fall at exactly the same time."""
    d = {
        "name": "t", "title": "t", "language": "en", "start_year": 2024, "horizon_years": 5, "price_year": 2024,
        "steps": {
            "low": {"name_da": "Lav", "name_en": "Low", "cost_per_year": 10000},
            "mid": {"name_da": "Mellem", "name_en": "Middle", "cost_per_year": 100000, "entry_cost": 5000,
                    "capacity": {"places": 200, "queue": "fifo", "wait_on": "low"},
                    "review": {"interval_months": 6, "moves": {"closed": 0.3, "low": 0.2}}},
            "placed": {"name_da": "Anbragt", "name_en": "Placed", "placement": True, "cost_per_year": 500000,
                       "capacity": {"places": 40, "wait_on": "low"}},
            "inst": {"name_da": "Inst", "name_en": "Inst", "placement": True, "cost_per_year": 900000,
                     "capacity": {"places": 3, "wait_on": "low"},
                     "review": {"interval_months": 6, "moves": {"closed": 0.3, "mid": 0.3}}},
        },
        "transitions": {"low": {"mid": 0.5, "closed": 1.0}, "mid": {"low": 0.3, "placed": 0.3, "closed": 0.5},
                        "placed": {"mid": 0.2, "closed": 0.1, "inst": 0.5}, "inst": {"mid": 0.3, "closed": 0.1}},
        "population": {
            "children": 20000, "entries_per_year": 400.0, "entry_age_shares": AGES3,
            "entry_step_shares": {"low": 0.6, "mid": 0.3, "placed": 0.1},
            "initial_stock": {"low": {"children": 30, "age_shares": AGES3},
                              "inst": {"children": 3, "age_shares": AGES3}},
        },
    }  # fmt: skip
    return compile_staircase(Scenario.from_dict(d))


def test_a_place_freed_at_the_moment_another_child_asks_goes_to_the_queue_first():
    """A child on a bulk path leaves `inst` at a review, at the very moment another child is
    reviewed onto `inst` while a third queues for it. In either order SimPy may take the two, the
    place goes to the child who queues; the engine counted it out for the asker (found by a
    review's random scenarios, 1 seed of 563)."""
    st = _reviewed_places()
    log = simulate_des(st, 83, 0)
    assert_same_spells(log, simulate_naive(st, 83, 0))
    assert_same_spells(log, simulate_des(st, 83, 0, eager=False))


def test_a_child_that_frees_a_place_schedules_its_next_move_before_the_child_it_admits():
    """In SimPy a child admitted to a freed place resumes only after the child that freed it has
    gone on (`simpy.Resource` grants the place through an event). Both then start their stays at
    the same moment and are reviewed together: the one that freed the place is reviewed first.
    The engines had the order the other way round (7 seeds of 3,720 with such ties)."""
    st = _reviewed_places()
    for seed in (1664, 1926):
        log = simulate_des(st, seed, 0)
        assert_same_spells(log, simulate_naive(st, seed, 0))
        assert_same_spells(log, simulate_des(st, seed, 0, eager=False))


def test_a_place_released_goes_to_the_queue_at_once_in_the_reference_as_in_the_engine():
    """Two places on `mid` freed at the same moment, one child queueing and a third asking. The
    stock `simpy.Resource` grants the queue only when it processes each release, and a request in
    between admits the head but never itself: the third child waited for no time. The reference's
    places (`_Places`) hand a released place to the queue at once, as the engine does."""
    import simpy

    from sim.engines.des import _Places

    for kind, granted in ((simpy.Resource, False), (_Places, True)):
        env = simpy.Environment()
        places = kind(env, capacity=2)
        held = [places.request(), places.request()]
        waiting = places.request()  # queues: both places are taken
        for r in held:
            places.release(r)  # two places freed at the same moment
        asking = places.request()  # before SimPy processes either release
        assert waiting.triggered and asking.triggered is granted
    st = _reviewed_places()
    for seed in (2544, 3480):
        log = simulate_des(st, seed, 0)
        assert_same_spells(log, simulate_naive(st, seed, 0))
        assert_same_spells(log, simulate_des(st, seed, 0, eager=False))
