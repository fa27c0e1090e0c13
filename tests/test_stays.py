"""Stay laws (sim.model.stays): means, samplers, phase forms and the registry."""

from __future__ import annotations

import math
import typing

import numpy as np
import pytest
from conftest import toy_dict

from sim.engines.expected import expected_measures
from sim.errors import EngineNotApplicable
from sim.model.staircase import compile_staircase
from sim.model.stays import LAWS, ExponentialStay, LognormalStay, MixtureStay, StayLaw, WeibullStay, stay_law
from sim.scenario import Exponential, Lognormal, Mixture, Scenario, Weibull
from sim.scenario.schema import Duration

LAWS_UNDER_TEST = [
    Exponential(),
    Mixture(dist="mixture", short_share=0.4, short_mean_years=0.5, long_mean_years=4.0),
    Weibull(dist="weibull", mean_years=2.5, shape=0.7),
    Weibull(dist="weibull", mean_years=1.5, shape=2.0),
    Lognormal(dist="lognormal", mean_years=3.0, sigma=0.9),
]
N = 200_000
"""Uniforms drawn per law: the sampled mean is then within 1 % of the law's
mean with these laws (their coefficients of variation are at most about 1.6,
so 1 % is above 4.5 standard errors)."""


def _sampled(law: StayLaw, seed: int = 20261127) -> np.ndarray:
    u = np.random.default_rng(seed).random(N, dtype=np.float32)  # the DES's uniforms are float32
    amount = law.sampler()
    return np.array([amount(x) for x in u.tolist()])


@pytest.mark.parametrize("duration", LAWS_UNDER_TEST, ids=lambda d: d.dist)
def test_sampled_mean_matches_the_laws_mean(duration):
    law = stay_law(duration)
    assert _sampled(law).mean() == pytest.approx(law.mean, rel=0.01)


@pytest.mark.parametrize("duration", LAWS_UNDER_TEST, ids=lambda d: d.dist)
def test_the_scenario_mean_is_the_laws_mean(duration):
    # The schema gives the mean in years (at clock speed 1); exponential stays' mean is one unit of clock.
    law = stay_law(duration)
    expected = getattr(duration, "mean_years", None)
    if isinstance(duration, Mixture):
        expected = 0.4 * 0.5 + 0.6 * 4.0
    if isinstance(duration, Exponential):
        expected = 1.0
    assert law.mean == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("duration", LAWS_UNDER_TEST, ids=lambda d: d.dist)
def test_phase_form_mean_is_the_laws_mean(duration):
    law = stay_law(duration)
    for form in (law.phases(), law.at_start().phases()):
        if form is None:
            continue
        weights, means = form
        assert sum(weights) == pytest.approx(1.0, rel=1e-12)
        assert all(w >= 0 for w in weights) and all(m > 0 for m in means)
    form = law.phases()
    if form is not None:
        assert sum(w * m for w, m in zip(*form)) == pytest.approx(law.mean, rel=1e-12)


def test_mixture_stock_is_length_biased():
    law = MixtureStay(0.4, 0.5, 4.0)
    start = law.at_start()
    # The share of short stays among those in progress: p m1 / (p m1 + (1 - p) m2).
    assert start.short_share == pytest.approx(0.2 / 2.6)
    assert (start.short_mean, start.long_mean) == (0.5, 4.0)
    assert ExponentialStay().at_start() == ExponentialStay()


def test_laws_without_a_phase_form_are_weibull_and_lognormal():
    assert ExponentialStay().phases() is not None
    assert MixtureStay(0.4, 0.5, 4.0).phases() is not None
    assert WeibullStay(1.0, 2.0).phases() is None
    assert LognormalStay(0.0, 1.0).phases() is None


def test_registry_knows_every_dist_of_the_schema():
    models = typing.get_args(typing.get_args(Duration)[0])
    names = {m.model_fields["dist"].annotation.__args__[0] for m in models}
    assert names == set(LAWS)
    for name, cls in LAWS.items():
        assert cls.dist == name and issubclass(cls, StayLaw) and cls.title


def test_samplers_are_the_formulas_the_engine_always_used():
    # Byte-identical outputs rest on these exact expressions (not merely equal in law).
    u = 0.3141592741012573
    assert ExponentialStay().sampler()(u) == -math.log(1.0 - u)
    p, m1, m2 = 0.4, 0.5, 4.0
    mix = MixtureStay(p, m1, m2).sampler()
    assert mix(u) == -math.log(1.0 - u / p) * m1
    assert mix(0.9) == -math.log(1.0 - (0.9 - p) / (1.0 - p)) * m2
    w = stay_law(Weibull(dist="weibull", mean_years=2.5, shape=0.7))
    assert w.sampler()(u) == 2.5 / math.gamma(1 + 1 / 0.7) * (-math.log(1.0 - u)) ** (1.0 / 0.7)


def test_compiled_staircase_asks_each_steps_law(toy):
    data = toy_dict()
    sid = next(iter(data["steps"]))
    data["steps"][sid]["duration"] = {"dist": "weibull", "mean_years": 2.0, "shape": 1.5}
    st = compile_staircase(Scenario.from_dict(data))
    assert isinstance(st.stays[0], WeibullStay)
    assert not st.phase_type
    with pytest.raises(EngineNotApplicable, match="Weibull duration"):
        expected_measures(st)
    assert compile_staircase(toy).phase_type


# --- Vectorised samplers (the engine's bulk paths) ---------------------------


def _grid() -> np.ndarray:
    """The DES's float32 uniforms, and the edges of [0, 1)."""
    u = np.random.default_rng(5).random(50_000, dtype=np.float32).astype(np.float64)
    return np.concatenate([u, [0.0, 2.0**-24, 0.5, 0.075, 0.925, 1 - 2.0**-24]])


@pytest.mark.parametrize("duration", LAWS_UNDER_TEST, ids=lambda d: d.dist)
def test_vectorised_sampler_equals_the_scalar_one(duration):
    # Equal to the last ulp or two: numpy's log, exp and ** may round the last bit differently.
    u = _grid()
    for law in (stay_law(duration), stay_law(duration).at_start()):
        scalar = law.sampler()
        expected = np.array([scalar(x) for x in u.tolist()])
        np.testing.assert_allclose(law.sample(u), expected, rtol=4e-15, atol=0)


@pytest.mark.parametrize("duration", LAWS_UNDER_TEST, ids=lambda d: d.dist)
def test_mixture_form_is_the_samplers_formula(duration):
    law = stay_law(duration)
    form = law.as_mixture()
    if form is None:
        assert isinstance(law, (WeibullStay, LognormalStay))
        return
    p, m1, m2 = form
    u = _grid()
    short = u < p
    with np.errstate(divide="ignore", invalid="ignore"):
        via_form = -np.log(1.0 - np.where(short, u / p, (u - p) / (1.0 - p))) * np.where(short, m1, m2)
    np.testing.assert_array_equal(via_form, law.sample(u))


def test_normal_quantile_is_normaldists():
    from statistics import NormalDist

    from sim.model.stays import normal_quantile

    p = np.clip(_grid(), 1e-12, 1 - 1e-12)
    p = np.concatenate([p, [1e-300, 0.02425, 0.97575, 0.5 - 0.425, 0.5 + 0.425, np.nextafter(0.075, 1)]])
    inv = NormalDist().inv_cdf
    np.testing.assert_allclose(normal_quantile(p), [inv(x) for x in p.tolist()], rtol=4e-15, atol=4e-15)


def test_a_law_without_a_vectorised_sampler_falls_back_to_the_scalar_one():
    class Uniform(StayLaw):
        dist = "test-uniform"
        title = "uniform"

        def sampler(self):
            return lambda u: 2.0 * u

    u = _grid()
    np.testing.assert_array_equal(Uniform().sample(u), 2.0 * u)
    assert Uniform().as_mixture() is None
