"""Yearly tables from a hand-made spell log, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from sim.engines.des import CENSORED, FROM_OUTSIDE, FROM_STOCK, WAITS, SpellLog
from sim.engines.spells import _tally, children_in_out, measures_from_spells
from sim.model.staircase import compile_staircase

INF = np.inf


def _log(rows, horizon=3):
    cols = list(zip(*rows))
    return SpellLog(
        child=np.array(cols[0], dtype=np.int64),
        step=np.array(cols[1], dtype=np.int8),
        from_step=np.array(cols[2], dtype=np.int8),
        to_step=np.array(cols[3], dtype=np.int8),
        start=np.array(cols[4], dtype=float),
        end=np.array(cols[5], dtype=float),
        age_start=np.zeros(len(rows), dtype=np.float32),
        extra=np.zeros(len(rows), dtype=np.int8),
        wait_for=np.array(cols[6] if len(cols) > 6 else [-1] * len(rows), dtype=np.int8),
        overflowed_from=np.array(cols[7] if len(cols) > 7 else [-1] * len(rows), dtype=np.int8),
        reviews=np.zeros((horizon, 3)),
        n_children=len(set(cols[0])),
        horizon=horizon,
    )


def test_hand_made_log(toy):
    st = compile_staircase(toy)  # steps: low (0), mid (1), placed (2); closed 3, aged out 4
    log = _log(
        [
            # child 0: on 'low' at the start, up to 'placed' at 0.5, down to 'mid' at 2.25, still there.
            (0, 0, FROM_STOCK, 2, 0.0, 0.5),
            (0, 2, 0, 1, 0.5, 2.25),
            (0, 1, 2, CENSORED, 2.25, INF),
            # child 1: new case on 'mid' at 1.5, case closed at 1.75.
            (1, 1, FROM_OUTSIDE, 3, 1.5, 1.75),
            # child 2: new case straight onto 'placed' at 0.2, ages out at 2.0.
            (2, 2, FROM_OUTSIDE, 4, 0.2, 2.0),
        ]
    )
    m = measures_from_spells(log, st)
    # Child 2 ages out at midnight 31 December of year 1: it counts where it was.
    np.testing.assert_allclose(m["stock_end"], [[0, 0, 2], [0, 0, 2], [0, 1, 0]])
    np.testing.assert_allclose(m["child_years"], [[0.5, 0, 0.5 + 0.8], [0, 0.25, 1 + 1], [0, 0.75, 0.25]])
    np.testing.assert_allclose(m["new_cases"], [[0, 0, 1], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(m["moves_in"], [[0, 0, 1], [0, 0, 0], [0, 1, 0]])
    np.testing.assert_allclose(m["moves_up"], [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(m["moves_down"], [[0, 0, 0], [0, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(m["closed"], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(m["aged_out"], [[0, 0, 0], [0, 0, 0], [0, 0, 1]])
    # New placements: child 0 from 'low' at 0.5, child 2 straight in at 0.2.
    np.testing.assert_allclose(m["placement_entries"], [[0, 0, 2], [0, 0, 0], [0, 0, 0]])
    assert children_in_out(log, st.n_steps) == {"entered": 3, "left": 2, "present": 1}


def test_child_years_sum_to_time_on_staircase(toy):
    st = compile_staircase(toy)
    log = _log([(0, 0, FROM_OUTSIDE, CENSORED, 0.3, INF), (1, 1, FROM_STOCK, 3, 0.0, 2.6)])
    m = measures_from_spells(log, st)
    assert m["child_years"].sum() == pytest.approx((3 - 0.3) + 2.6)


def test_waiting_measures_by_hand(toy):
    st = compile_staircase(toy)  # steps: low (0), mid (1), placed (2)
    log = _log(
        [
            # child 0 on 'mid' until 0.5, then waits on 'mid' for 'placed' until 1.5, admitted.
            (0, 1, FROM_STOCK, WAITS, 0.0, 0.5, -1, -1),
            (0, 1, 1, 2, 0.5, 1.5, 2, -1),
            (0, 2, 1, CENSORED, 1.5, INF, -1, -1),
            # child 1: new case waits on 'low' for 'placed' from 0.25, still waiting at the end.
            (1, 0, FROM_OUTSIDE, CENSORED, 0.25, INF, 2, -1),
            # child 2: refused by 'placed' at 2.5 and sent on to 'mid' (overflow).
            (2, 1, FROM_OUTSIDE, CENSORED, 2.5, INF, -1, 2),
        ]
    )
    m = measures_from_spells(log, st)
    np.testing.assert_allclose(m["waiting_end"][:, 2], [2, 1, 1])
    np.testing.assert_allclose(m["waiting_years"][:, 2], [0.5 + 0.75, 0.5 + 1, 1])
    np.testing.assert_allclose(m["waits_started"][:, 2], [2, 0, 0])
    np.testing.assert_allclose(m["overflows"][:, 2], [0, 0, 1])
    assert m["wait_mean"][1, 2] == pytest.approx(1.0) and np.isnan(m["wait_mean"][0, 2])
    # Waiting on 'mid' is not a move in; the time is costed on 'mid'.
    assert m["moves_in"][0, 1] == 0 and m["child_years"][0, 1] == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# Adult life after the staircase
# ---------------------------------------------------------------------------


def _adult(cost: float = 80_000.0, **extra):
    from conftest import toy_dict

    from sim.scenario import Scenario

    d = toy_dict()
    d["adult"] = {"cost_per_year": {"placed": cost}, "years": 40, "source": "test", **extra}
    return Scenario.from_dict(d)


def test_a_child_never_placed_carries_no_placement_consequence():
    import sim

    res = sim.simulate(_adult(), replications=2, seed=4)
    leavers, pv = res.measures["adult_leavers"], res.measures["adult_cost_pv"]
    assert leavers[..., :2].sum() > 100  # plenty of children left from low and middle steps ...
    assert pv[..., :2].sum() == 0  # ... and cost nothing in adult life
    assert pv[..., 2].sum() > 0 and leavers[..., 2].sum() > 0


def test_doubling_the_adult_cost_doubles_that_line_and_nothing_else():
    from conftest import INTERVENTION

    import sim

    def summary(cost: float):
        base = _adult(cost)
        plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
        return sim.compare(base, plan, replications=2, seed=5).summary["mean"]

    one, two = summary(80_000.0), summary(160_000.0)
    assert two["adult_consequences_avoided_pv"] == pytest.approx(
        2 * one["adult_consequences_avoided_pv"], rel=1e-12
    )
    others = [
        m for m in one.index if m not in ("adult_consequences_avoided_pv", "npv_with_adult_consequences")
    ]
    pd.testing.assert_series_equal(one[others], two[others])


def test_adult_costs_are_discounted_with_the_stepped_rates_by_hand():
    """One child, placed, leaves at 16.5 in year 2 of the run: adult life from 18 for 40 years."""
    from sim.engines.des import FROM_OUTSIDE, SpellLog
    from sim.engines.spells import adult_measures
    from sim.model.staircase import compile_staircase

    st = compile_staircase(_adult(1000.0))
    log = SpellLog(
        child=np.array([0, 0]),
        step=np.array([1, 2], dtype=np.int8),
        from_step=np.array([FROM_OUTSIDE, 1], dtype=np.int8),
        to_step=np.array([2, 3], dtype=np.int8),  # 3 = S: case closed
        start=np.array([0.5, 1.0]),
        end=np.array([1.0, 2.0]),
        age_start=np.array([15.5, 16.0], dtype=np.float32),  # first placed at 16: band 12-17
        extra=np.zeros(2, dtype=np.int8),
        wait_for=np.full(2, -1, dtype=np.int8),
        overflowed_from=np.full(2, -1, dtype=np.int8),
        reviews=np.zeros((10, 3)),
        n_children=1,
        horizon=10,
    )
    m = adult_measures(log, st)

    # Born at t = 0.5 - 15.5 = -15: 18 at t = 3, so adult years k = 3 ... 42 (calendar 2027-2066).
    def factor(k: int) -> float:  # Finansministeriet: 3.5 % for years 0-35, 2.5 % for 36-70
        return 1.035 ** -min(k, 36) * 1.025 ** -max(k - 36, 0)

    expected = 1000.0 * sum(factor(k) for k in range(3, 43))
    assert (
        m["adult_leavers"][2, 2] == 1 and m["adult_leavers"].sum() == 1
    )  # left in year 2, highest step 'placed'
    assert m["adult_cost_pv"][2, 2] == pytest.approx(expected, rel=1e-12)
    assert m["adult_cost_pv"].sum() == pytest.approx(expected, rel=1e-12)


def test_the_analytic_engine_counts_adult_life_as_the_des_does():
    """Leavers by highest step and their adult-life costs: DES mean within 4 standard errors."""
    import sim
    from sim.engines.des import simulate_des
    from sim.engines.expected import expected_measures
    from sim.engines.spells import measures_from_spells
    from sim.model.staircase import compile_staircase

    banded = {"placed": {"0-5": 100_000.0, "6-11": 60_000.0, "12-17": 20_000.0}, "mid": 5_000.0}
    for scenario in (_adult(), _adult(cost_per_year=banded, from_age=20, years=30)):
        st = compile_staircase(scenario)
        e = expected_measures(st)
        R = 30
        runs = [measures_from_spells(simulate_des(st, seed=8, replication=r), st) for r in range(R)]
        for m in ("adult_leavers", "adult_cost_pv"):
            x = np.stack([r[m].sum(axis=0) for r in runs])  # [R, S]: whole horizon by highest step
            se = x.std(axis=0, ddof=1) / np.sqrt(R)
            ref = e[m].sum(axis=0)
            np.testing.assert_array_equal(ref[x.max(axis=0) == 0], 0)  # never placed: nothing
            z = (x.mean(axis=0) - ref)[se > 0] / se[se > 0]
            assert np.all(np.abs(z) < 4), (m, z)
    assert sim.expected(_adult()).scenario.adult is not None


KL = {  # KL 2015: disability pension at 30, formerly placed and others
    "name_da": "på førtidspension som 30-årig",
    "name_en": "on disability pension at 30",
    "share": {"placed": 0.17},
    "reference_share": 0.02,
    "source": "KL 2015",
}


def _outcomes(**outcome):
    from conftest import toy_dict

    from sim.scenario import Scenario

    d = toy_dict()
    d["adult"] = {"outcomes": {"disability_pension": {**KL, **outcome}}, "years": 40}
    return Scenario.from_dict(d)


def test_adult_outcomes_count_persons_above_the_reference_by_highest_step():
    from conftest import INTERVENTION

    import sim

    base = _outcomes()
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, replications=3, seed=6)
    change = cmp.arrays["total_adult_disability_pension_change"]
    # Only placed leavers differ from everyone else: 15 points more of them on pension.
    placed = [(r.measures["adult_leavers"][..., 2]).sum(-1) for r in (cmp.base, cmp.strategy)]
    np.testing.assert_allclose(change, 0.15 * (placed[1] - placed[0]), rtol=1e-12)
    assert (change < 0).all()  # fewer placements, fewer on disability pension
    s = cmp.summary
    assert "projection" in s.loc["adult_disability_pension_change", "unit"]
    assert s.loc["adult_consequences_avoided_pv", "mean"] == 0  # persons only: no money


def test_an_outcome_cost_is_the_same_as_its_excess_as_a_cost_per_year():
    import sim

    by_outcome = sim.simulate(_outcomes(cost_per_year=100_000.0), replications=1, seed=2)
    direct = sim.simulate(_adult(0.15 * 100_000.0), replications=1, seed=2)
    np.testing.assert_allclose(
        by_outcome.measures["adult_cost_pv"], direct.measures["adult_cost_pv"], rtol=1e-12
    )
    assert by_outcome.measures["adult_cost_pv"].sum() > 0


def test_adult_outcomes_in_the_analytic_engine_are_the_leavers_times_their_excess():
    from conftest import INTERVENTION

    import sim

    base = _outcomes()
    plan = base.with_changes({"name": "plan", "intervention": INTERVENTION})
    cmp = sim.compare(base, plan, engine="expected")
    placed = [r.measures["adult_leavers"][..., 2].sum() for r in (cmp.base, cmp.strategy)]
    change = cmp.arrays["total_adult_disability_pension_change"]
    np.testing.assert_allclose(change, 0.15 * (placed[1] - placed[0]), rtol=1e-12)
    des = sim.compare(base, plan, replications=20, seed=3).summary
    row = des.loc["adult_disability_pension_change"]
    assert row["p5"] - 3 < change[0] < row["p95"] + 3


@settings(max_examples=200, deadline=None)
@given(
    hs.lists(
        hs.tuples(
            hs.integers(-1, 2),  # year, some outside the table
            hs.integers(0, 1),  # step
            hs.integers(-1, 1),  # class, -1: left out
        ),
        max_size=60,
    ),
    hs.integers(0, 2**32 - 1),
)
def test_tables_of_several_classes_in_one_pass_are_each_class_summed_alone(rows, seed):
    """One pass for exclusive classes gives, to the last bit, each class's table summed on its own
    (in the log's order), with years outside the table and negative classes left out."""
    Y, S, n = 2, 2, 2  # few cells: several rows each, whose order then matters to the last bit
    years, steps, code = (np.array(c) for c in zip(*rows)) if rows else (np.zeros(0, int),) * 3
    years, steps, code = years.astype(np.int32), steps.astype(np.int32), code.astype(np.int8)
    rng = np.random.default_rng(seed)  # weights of every size, as child-years and costs are
    w = rng.uniform(-1.0, 1.0, len(years)) * 10.0 ** rng.integers(-3, 7, len(years))
    for weights in (None, w):
        got = _tally(Y, S, years, steps, code, n, weights)
        for c in [*range(n), "any"]:
            want = np.zeros((Y, S))
            for i in range(len(years)):  # by hand, row by row
                if (code[i] == c or (c == "any" and code[i] >= 0)) and 0 <= years[i] < Y:
                    want[years[i], steps[i]] += 1.0 if weights is None else weights[i]
            # A boolean class keeps its true rows in one table.
            table = _tally(Y, S, years, steps, code >= 0, 1, weights)[0] if c == "any" else got[c]
            assert table.tobytes() == want.tobytes()
