"""NPV, ROI and payback against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from sim.economics import compare_arrays, payback_index, programme_costs, step_costs
from sim.expected import MEASURES, expected_measures
from sim.staircase import compile_staircase


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
