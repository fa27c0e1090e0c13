"""Yearly tables from a hand-made spell log, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.des import CENSORED, FROM_OUTSIDE, FROM_STOCK, WAITS, SpellLog
from sim.spells import children_in_out, measures_from_spells
from sim.staircase import compile_staircase

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
