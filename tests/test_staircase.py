"""Compiling a scenario: discounting, ramp-up, hazard ratios, ageing out."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import toy_dict

from sim.scenario import Scenario
from sim.staircase import compile_staircase, discount_factors, ramp


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
