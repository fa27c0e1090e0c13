"""The analytic engine against closed forms, and the DES against the analytic engine."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import toy_dict

from sim.engines.des import simulate_des
from sim.engines.expected import EngineNotApplicable, expected_measures
from sim.engines.measures import ADDITIVE
from sim.engines.spells import measures_from_spells
from sim.model.staircase import compile_staircase
from sim.scenario import Scenario


def _two_steps(entries: float, stock: float, mu: float, ages: dict, leaving_age: int = 18, bands=(0, 6, 12)):
    return Scenario.from_dict(
        {
            "name": "two",
            "start_year": 2024,
            "horizon_years": 10,
            "price_year": 2024,
            "steps": {
                "a": {"name_da": "A", "name_en": "A"},
                "b": {"name_da": "B", "name_en": "B", "placement": True},
            },
            "population": {
                "children": 1000,
                "age_bands": list(bands),
                "leaving_age": leaving_age,
                "entries_per_year": entries,
                "entry_age_shares": ages,
                "entry_step_shares": {"a": 1.0},
                "initial_stock": {"a": {"children": stock, "age_shares": ages}} if stock else {},
            },
            "transitions": {"a": {"closed": mu}} if mu else {"a": {}},
        }
    )


def test_constant_inflow_exponential_exit_matches_closed_form():
    lam, n0, mu = 500.0, 2000, 0.7
    s = _two_steps(lam, n0, mu, {"0-5": 1.0}, leaving_age=30, bands=(0, 6))
    e = expected_measures(compile_staircase(s))
    t = np.arange(1, 11)
    stock = n0 * np.exp(-mu * t) + lam / mu * (1 - np.exp(-mu * t))
    np.testing.assert_allclose(e["stock_end"][:, 0], stock, rtol=1e-9)

    def integral(t):  # of the stock from 0 to t
        return n0 * (1 - np.exp(-mu * t)) / mu + lam / mu * (t - (1 - np.exp(-mu * t)) / mu)

    cy = integral(t) - integral(t - 1)
    np.testing.assert_allclose(e["child_years"][:, 0], cy, rtol=1e-9)
    np.testing.assert_allclose(e["closed"][:, 0], mu * cy, rtol=1e-9)
    np.testing.assert_allclose(e["aged_out"], 0.0, atol=1e-9)


def test_ageing_out_matches_closed_form():
    # Entries at ages uniform on 12-18, nobody leaves before 18: the stock
    # after t years is lam * (t - t^2 / 12) up to t = 6, then 3 * lam.
    lam = 1200.0
    s = _two_steps(lam, 0, 0.0, {"12-17": 1.0})
    e = expected_measures(compile_staircase(s))
    t = np.arange(1, 11, dtype=float)
    stock = np.where(t <= 6, lam * (t - t**2 / 12), 3 * lam)
    np.testing.assert_allclose(e["stock_end"][:, 0], stock, rtol=0.01)
    # Conservation: entered = left + present.
    assert e["aged_out"].sum() + e["stock_end"][-1].sum() == pytest.approx(10 * lam, rel=1e-9)


def test_expected_engine_refuses_weibull(toy):
    s = toy.with_changes({"steps.placed.duration": {"dist": "weibull", "mean_years": 3, "shape": 0.8}})
    with pytest.raises(EngineNotApplicable, match="placed"):
        expected_measures(compile_staircase(s))


def test_expected_conserves_children(toy):
    e = expected_measures(compile_staircase(toy))
    entered = toy.population.initial_stock["low"].children + 150 + 600 * 10
    left = e["closed"].sum() + e["aged_out"].sum()
    assert left + e["stock_end"][-1].sum() == pytest.approx(entered, rel=1e-9)


# --- DES against the analytic engine -----------------------------------------

AFTERCARE = {"aftercare_until_age": 23, "aftercare_steps": ["placed"]}


def _regime(name: str) -> Scenario:
    d = toy_dict()
    if name == "light flows":
        d["population"]["entries_per_year"] = 300
        d["transitions"] = {
            "low": {"mid": 0.1, "closed": 1.5},
            "mid": {"low": 0.2, "placed": 0.05, "closed": 0.8},
            "placed": {"mid": 0.1, "closed": 0.15},
        }
    elif name == "heavy placement use":
        d["population"]["entry_step_shares"] = {"low": 0.3, "mid": 0.4, "placed": 0.3}
        d["transitions"]["mid"]["placed"] = {"0-5": 0.5, "6-11": 0.7, "12-17": 1.0}
        d["steps"]["placed"]["duration"] = {
            "dist": "mixture",
            "short_share": 0.4,
            "short_mean_years": 0.5,
            "long_mean_years": 6.0,
        }
        # Age-banded rates on a mixture step: its clock runs twice as fast for teenagers.
        d["transitions"]["placed"] = {
            "mid": {"0-5": 0.2, "6-11": 0.2, "12-17": 0.4},
            "closed": {"0-5": 0.1, "6-11": 0.1, "12-17": 0.2},
        }
        # A strategy ramping in: rates change year by year.
        d["intervention"] = {
            "start_year": 2026,
            "ramp_up_years": 3,
            "hazard_ratios": {"mid": {"placed": 0.6, "closed": 1.3}, "placed": {"mid": 1.5}},
            "entry": {
                "extra_entries_share": 0.2,
                "entry_step_shares": {"low": 0.5, "mid": 0.4, "placed": 0.1},
            },
        }
    elif name == "targeted by entry step":
        # The effect reaches only children who came in on 'low' (and those on
        # it at the start): two groups of children with their own rates.
        d["intervention"] = {
            "start_year": 2025,
            "ramp_up_years": 2,
            "reached_entry_steps": ["low"],
            "hazard_ratios": {"low": {"mid": 0.3}, "mid": {"placed": 0.2, "closed": 2.0}},
        }
    elif name == "adult life by age first placed":
        # The state remembers the highest step and the band it was first reached in.
        d["adult"] = {
            "cost_per_year": {
                "placed": {"0-5": 120_000.0, "6-11": 60_000.0, "12-17": 10_000.0},
                "mid": 8_000.0,
            },
            "years": 30,
            "from_age": 20,
        }
        d["intervention"] = {
            "start_year": 2026,
            "ramp_up_years": 2,
            "hazard_ratios": {"mid": {"placed": 0.5}},
        }
    elif name == "strong step-down":
        d["population"].update(AFTERCARE)
        d["transitions"] = {
            "low": {"mid": 0.3, "closed": 0.8},
            "mid": {"low": 1.5, "placed": 0.3, "closed": 0.3},
            "placed": {"mid": 1.2, "low": 0.4, "closed": 0.05},
        }
    return Scenario.from_dict(d)


YEAR_BANDS = [(0, 3), (3, 6), (6, 10)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "regime",
    [
        "light flows",
        "heavy placement use",
        "strong step-down",
        "targeted by entry step",
        "adult life by age first placed",
    ],
)
def test_des_agrees_with_analytic_engine(regime):
    """Mean of replications within 4 standard errors, per step and year band."""
    st = compile_staircase(_regime(regime))
    e = expected_measures(st)
    R = 40
    runs = [measures_from_spells(simulate_des(st, seed=7, replication=r), st) for r in range(R)]
    checked = 0
    for m in ADDITIVE:
        sims = np.stack([r[m] for r in runs])  # [R, Y, S]
        for lo, hi in YEAR_BANDS:
            x = sims[:, lo:hi].sum(axis=1)  # [R, S]
            ref = e[m][lo:hi].sum(axis=0)
            se = x.std(axis=0, ddof=1) / np.sqrt(R)
            for s in range(st.n_steps):
                if ref[s] < 1 and se[s] == 0:
                    assert x[:, s].max() == 0
                    continue
                # Floor the SE at a tiny absolute value: near-deterministic cells
                # (new cases) still must agree closely.
                z = (x[:, s].mean() - ref[s]) / max(se[s], 1e-3 * max(ref[s], 1.0))
                assert abs(z) < 4, f"{regime}: {m} step {st.step_ids[s]} years {lo}-{hi}: z = {z:.2f}"
                checked += 1
    assert checked >= 60
