"""Distributions in scenario files: moments, validation, central values, reproducible draws."""

from __future__ import annotations

import numpy as np
import pytest
import tomli_w
from conftest import toy_dict

import sim
from sim.cli import main as cli
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.scenario.distributions import Uncertain

N = 200_000


@pytest.mark.parametrize(
    ("spec", "mean", "sd"),
    [
        ({"dist": "beta", "mean": 0.3, "sd": 0.05}, 0.3, 0.05),
        ({"dist": "gamma", "mean": 470_000, "sd": 60_000}, 470_000, 60_000),
        ({"dist": "lognormal", "mean": 2.0, "sd": 0.5}, 2.0, 0.5),
        ({"dist": "normal", "mean": -1.0, "sd": 2.0}, -1.0, 2.0),
        ({"dist": "uniform", "low": 1.0, "high": 3.0}, 2.0, 2 / np.sqrt(12)),
        (
            {"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 5.0},
            2.0,
            np.sqrt((0 + 1 + 25 - 0 - 0 - 5) / 18),
        ),
    ],
)
def test_sampled_mean_and_spread_match_the_parameters(spec, mean, sd):
    u = Uncertain("x", spec)
    x = u.draw(seed=1, n=N)
    assert u.central() == pytest.approx(mean, rel=1e-9)
    # Tolerances: 5 standard errors of the mean, and 2 % on the sd.
    assert abs(x.mean() - mean) < 5 * sd / np.sqrt(N)
    assert x.std() == pytest.approx(sd, rel=0.02)


def test_lognormal_by_median_and_95th_percentile():
    u = Uncertain("hr", {"dist": "lognormal", "median": 0.8, "p95": 1.0})
    x = u.draw(seed=2, n=N)
    assert np.median(x) == pytest.approx(0.8, rel=0.01)
    assert np.percentile(x, 95) == pytest.approx(1.0, rel=0.01)
    assert u.central() > 0.8  # the mean of a right-skewed law


def test_dirichlet_draws_sum_to_one_with_the_mean_asked_for():
    mean = {"a": 0.5, "b": 0.3, "c": 0.2, "d": 0.0}
    x = Uncertain("s", {"dist": "dirichlet", "mean": mean, "concentration": 50}).draw(seed=3, n=50_000)
    np.testing.assert_allclose(x.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(x.mean(axis=0), list(mean.values()), atol=0.003)
    assert (x[:, 3] == 0).all()


def test_draws_are_reproducible_and_keyed_by_path():
    spec = {"dist": "gamma", "mean": 10, "sd": 2}
    a, b = Uncertain("p", spec).draw(7, 100), Uncertain("p", spec).draw(7, 100)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, Uncertain("p", spec).draw(8, 100))
    assert not np.array_equal(a, Uncertain("q", spec).draw(7, 100))


def _uncertain_toy() -> dict:
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 50_000}
    d["transitions"]["mid"]["placed"] = {"dist": "lognormal", "median": 0.2, "p95": 0.3}
    d["population"]["entry_step_shares"] = {
        "dist": "dirichlet",
        "mean": {"low": 0.6, "mid": 0.3, "placed": 0.1},
        "concentration": 100,
    }
    return d


def test_a_scenario_holds_central_values_and_keeps_its_distributions():
    s = Scenario.from_dict(_uncertain_toy())
    assert s.steps["placed"].cost_per_year == 500_000
    assert s.population.entry_step_shares == {"low": 0.6, "mid": 0.3, "placed": 0.1}
    assert {u.path for u in s.uncertain} == {
        "steps.placed.cost_per_year",
        "transitions.mid.placed",
        "population.entry_step_shares",
    }
    assert s.to_dict()["steps"]["placed"]["cost_per_year"]["dist"] == "gamma"
    # One draw fixes the values; the copy is validated like a file.
    fixed = s.with_values({"steps.placed.cost_per_year": 612_345.0})
    assert fixed.steps["placed"].cost_per_year == 612_345.0


def test_check_prints_distributions_that_load_back(write_scenario, tmp_path, capsys):
    path = write_scenario(_uncertain_toy(), "uncertain.toml")
    assert cli(["check", str(path)]) == 0
    again = tmp_path / "again.toml"
    again.write_text(capsys.readouterr().out, encoding="utf-8")
    assert load_scenario(again).input_hash() == load_scenario(path).input_hash()


def test_distributions_collapsed_to_points_give_the_deterministic_results():
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = {"dist": "gamma", "mean": 500_000, "sd": 0}
    d["transitions"]["mid"]["placed"] = {"dist": "triangular", "low": 0.2, "mode": 0.2, "high": 0.2}
    d["transitions"]["low"]["mid"] = {"dist": "lognormal", "median": 0.5, "p95": 0.5}
    point = Scenario.from_dict(d)
    plain = toy_dict()
    plain["transitions"]["mid"]["placed"] = 0.2
    plain = Scenario.from_dict(plain)
    for u in point.uncertain:
        np.testing.assert_array_equal(u.draw(1, 5), u.central())
    a, b = sim.expected(point), sim.expected(plain)
    for m in ("stock_end", "child_years", "placement_entries"):
        np.testing.assert_allclose(a.measures[m], b.measures[m], rtol=1e-12)
    np.testing.assert_allclose(a.costs, b.costs, rtol=1e-12)


def test_a_strategy_draws_the_same_values_as_its_baseline(write_scenario):
    write_scenario(_uncertain_toy(), "base.toml")
    plan = write_scenario({"extends": "base.toml", "name": "plan"}, "plan.toml")
    base, strat = load_scenario(plan.parent / "base.toml"), load_scenario(plan)
    for ub, us in zip(
        sorted(base.uncertain, key=lambda u: u.path), sorted(strat.uncertain, key=lambda u: u.path)
    ):
        np.testing.assert_array_equal(ub.draw(5, 50), us.draw(5, 50))


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"dist": "gamma", "mean": 10, "sd": -1}, "sd must not be negative"),
        ({"dist": "lognormal", "median": 1.0, "p95": 0.8}, "must not be below the median"),
        ({"dist": "beta", "mean": 1.2, "sd": 0.1}, "between 0 and 1"),
        ({"dist": "beta", "mean": 0.5, "sd": 0.6}, "too large"),
        ({"dist": "triangular", "low": 1, "mode": 3, "high": 2}, "low <= mode <= high"),
        ({"dist": "weibul", "mean": 1}, "unknown distribution 'weibul'"),
        ({"dist": "gamma", "mean": 10, "sdev": 1}, "unknown key(s) sdev"),
        ({"dist": "gamma", "mean": 10}, "needs 'sd'"),
        ({"dist": "lognormal", "mean": 1, "sd": 0.1, "median": 1}, "either mean and sd"),
    ],
)
def test_invalid_distributions_name_the_key(spec, words):
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = spec
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(d, file="x.toml")
    assert info.value.key == "steps.placed.cost_per_year" and words in info.value.message


def test_invalid_distribution_exits_2_from_the_cli(tmp_path, capsys):
    d = toy_dict()
    d["transitions"]["mid"]["placed"] = {"dist": "lognormal", "median": 0.3, "p95": 0.2}
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    assert cli(["run", str(path), "-r", "1", "-w", "1", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "transitions.mid.placed" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_dirichlet_shares_must_sum_to_one():
    d = toy_dict()
    d["population"]["entry_step_shares"] = {
        "dist": "dirichlet",
        "mean": {"low": 0.6, "mid": 0.3},
        "concentration": 10,
    }
    with pytest.raises(ScenarioError, match="sum to 1"):
        Scenario.from_dict(d)
