"""Stay laws: how long a child stays on a step, one class per law.

A step's stay is measured on the step's *clock*: an amount drawn from the law
is used up at the step's clock speed, which is 1 in the first age band with
any rates and changes in proportion to the total rate out of the step in
other bands and under a strategy (see :mod:`sim.model.staircase`). For the
exponential law the clock speed is the total rate itself and the amount is a
unit exponential, so the rates are hazards.

Each law knows

* how to build itself from its scenario model (:meth:`StayLaw.from_scenario`),
* how the discrete-event engine turns a uniform into an amount of clock
  (:meth:`StayLaw.sampler`, one stay; :meth:`StayLaw.sample`, an array of
  stays at once, equal to the scalar one to within an ulp or two: numpy's
  ``log``, ``exp`` and ``**`` may round the last bit differently from
  :mod:`math`'s),
* its phase-type form for the analytic engine, or that it has none
  (:meth:`StayLaw.phases`),
* its mean (:attr:`StayLaw.mean`), and the law of the remaining stay of a
  child already on the step at the start (:meth:`StayLaw.at_start`).

:data:`LAWS` maps each scenario ``dist`` name to its class, and
:func:`stay_law` builds the law of a step's ``duration``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

from sim.scenario import Exponential, Lognormal, Mixture, Weibull


class StayLaw:
    """The law of one stay on a step, in units of the step's clock.

    To add a law (say ``gamma``):

    1. add its pydantic model to :mod:`sim.scenario.schema` (``dist:
       Literal["gamma"]`` and its parameters) and to the ``Duration`` union;
    2. write one frozen dataclass here, subclassing :class:`StayLaw`, with
       ``dist = "gamma"``, ``title = "gamma"``, its parameters as fields, and

       * :meth:`from_scenario` (the scenario model to the law; compute
         anything derived once here, not per stay),
       * :meth:`sampler` (a function from one uniform ``u`` in ``[0, 1)`` to
         the amount of clock: one uniform per stay, by inversion, so that
         common random numbers keep working), and :meth:`sample`, the same
         formula over a numpy array (optional: the default calls
         :meth:`sampler` per element, correct but slow),
       * :attr:`mean` (the mean amount),
       * :meth:`phases` if it is phase-type (then the analytic engine can run
         it), and :meth:`at_start` if a child found on the step at the start
         should draw from another law (length bias);

    3. register it with ``@register``;
    4. add it to the laws in ``tests/test_stays.py`` (sampled mean, phase
       mean, registry).

    The engines, :func:`sim.model.staircase.compile_staircase` and validation
    need no change. Optional: the law's Danish and English name in
    ``_DISTS`` of :mod:`sim.outputs.language` (else the report shows its
    ``dist``), and plausible ranges of its parameters in
    :mod:`sim.scenario.plausibility`.
    """

    dist: ClassVar[str]
    """The scenario's ``duration.dist`` name for this law."""
    title: ClassVar[str]
    """The law's name in a sentence ("a Weibull duration")."""
    rates_are_hazards: ClassVar[bool] = False
    """True if the law is a unit exponential and the step's rates are hazards
    (its clock runs at the total rate out of the step). Otherwise the law gives
    the stay at clock speed 1, and the rates only say where a child goes next
    and how much faster or slower the clock runs in other bands and years."""

    @classmethod
    def from_scenario(cls, duration: Any) -> StayLaw:
        """The law of a step's ``duration`` (a model of :mod:`sim.scenario.schema`)."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        """Mean amount of clock a stay uses."""
        raise NotImplementedError

    def sampler(self) -> Callable[[float], float]:
        """A function from one uniform ``u`` in ``[0, 1)`` to an amount of clock.

        Called once per stay by the discrete-event engine: keep it a plain
        closure over Python floats.
        """
        raise NotImplementedError

    def sample(self, u: np.ndarray) -> np.ndarray:
        """:meth:`sampler` over an array of uniforms (float64), vectorised.

        Used by the discrete-event engine for stays it samples in bulk; equal
        to :meth:`sampler` element by element to within an ulp or two (numpy's
        ``log``, ``exp`` and ``**`` are not always rounded as :mod:`math`'s).
        This default calls :meth:`sampler` per element.
        """
        amount = self.sampler()
        return np.fromiter(map(amount, u.tolist()), dtype=np.float64, count=len(u))

    def as_mixture(self) -> tuple[float, float, float] | None:
        """``(short_share, short_mean, long_mean)`` if :meth:`sampler` is exactly the
        two-group mixture's formula with these parameters (the engine then samples
        all such steps in one vectorised pass), else ``None``."""
        return None

    def phases(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """Phase-type form ``(weights, means)``: a stay starts in phase ``i``
        with probability ``weights[i]`` and lasts an exponential time with
        mean ``means[i]`` (clock units). ``None`` if the law has none, and the
        analytic engine refuses steps with it."""
        return None

    def at_start(self) -> StayLaw:
        """The law of the stay of a child already on the step at the start."""
        return self


LAWS: dict[str, type[StayLaw]] = {}
"""Stay law classes by the scenario's ``dist`` name."""


def register(cls: type[StayLaw]) -> type[StayLaw]:
    """Class decorator: make ``cls`` the law of its ``dist`` name."""
    if cls.dist in LAWS:
        raise ValueError(f"two stay laws named {cls.dist!r}")
    LAWS[cls.dist] = cls
    return cls


def stay_law(duration: Any) -> StayLaw:
    """The stay law of a step's ``duration`` (a model of :mod:`sim.scenario.schema`)."""
    return LAWS[duration.dist].from_scenario(duration)


@register
@dataclass(frozen=True)
class ExponentialStay(StayLaw):
    """Exponential stay: the step's rates are hazards (the default)."""

    dist: ClassVar[str] = "exponential"
    title: ClassVar[str] = "exponential"
    rates_are_hazards: ClassVar[bool] = True

    @classmethod
    def from_scenario(cls, duration: Exponential) -> ExponentialStay:
        return cls()

    @property
    def mean(self) -> float:
        return 1.0

    def sampler(self) -> Callable[[float], float]:
        log = math.log

        def amount(u: float) -> float:
            return -log(1.0 - u)

        return amount

    def sample(self, u: np.ndarray) -> np.ndarray:
        return -np.log(1.0 - u)

    def as_mixture(self) -> tuple[float, float, float]:
        # u < 1 always picks the "short" group, and u / 1.0 and x * 1.0 are exact.
        return 1.0, 1.0, 1.0

    def phases(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return (1.0,), (1.0,)


@register
@dataclass(frozen=True)
class MixtureStay(StayLaw):
    """Two groups of exponential stays, short and long (hyperexponential)."""

    dist: ClassVar[str] = "mixture"
    title: ClassVar[str] = "mixture"
    short_share: float
    short_mean: float
    long_mean: float

    @classmethod
    def from_scenario(cls, duration: Mixture) -> MixtureStay:
        return cls(
            float(duration.short_share), float(duration.short_mean_years), float(duration.long_mean_years)
        )

    @property
    def mean(self) -> float:
        return self.short_share * self.short_mean + (1 - self.short_share) * self.long_mean

    def sampler(self) -> Callable[[float], float]:
        p, m1, m2 = self.short_share, self.short_mean, self.long_mean
        log = math.log

        def amount(u: float) -> float:
            # One uniform picks the group and, rescaled, the stay within it.
            if u < p:
                return -log(1.0 - u / p) * m1
            return -log(1.0 - (u - p) / (1.0 - p)) * m2

        return amount

    def sample(self, u: np.ndarray) -> np.ndarray:
        p, m1, m2 = self.short_share, self.short_mean, self.long_mean
        out = np.empty_like(u)
        short = u < p
        out[short] = -np.log(1.0 - u[short] / p) * m1
        long = ~short
        out[long] = -np.log(1.0 - (u[long] - p) / (1.0 - p)) * m2
        return out

    def as_mixture(self) -> tuple[float, float, float]:
        return self.short_share, self.short_mean, self.long_mean

    def phases(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        p = self.short_share
        return (p, 1 - p), (self.short_mean, self.long_mean)

    def at_start(self) -> MixtureStay:
        # Children found on the step are more often long-stayers (length bias);
        # by memorylessness within a group, their remaining stay is the group's.
        p, m1, m2 = self.short_share, self.short_mean, self.long_mean
        return MixtureStay(p * m1 / (p * m1 + (1 - p) * m2), m1, m2)


@register
@dataclass(frozen=True)
class WeibullStay(StayLaw):
    """Weibull stay with a given mean and shape (discrete-event engine only)."""

    dist: ClassVar[str] = "weibull"
    title: ClassVar[str] = "Weibull"
    scale: float
    shape: float

    @classmethod
    def from_scenario(cls, duration: Weibull) -> WeibullStay:
        return cls(duration.mean_years / math.gamma(1 + 1 / duration.shape), float(duration.shape))

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape)

    def sampler(self) -> Callable[[float], float]:
        scale, shape = self.scale, self.shape
        log = math.log

        def amount(u: float) -> float:
            return scale * (-log(1.0 - u)) ** (1.0 / shape)

        return amount

    def sample(self, u: np.ndarray) -> np.ndarray:
        return self.scale * (-np.log(1.0 - u)) ** (1.0 / self.shape)


@register
@dataclass(frozen=True)
class LognormalStay(StayLaw):
    """Lognormal stay with a given mean and log-sd (discrete-event engine only)."""

    dist: ClassVar[str] = "lognormal"
    title: ClassVar[str] = "lognormal"
    mu: float
    sigma: float

    @classmethod
    def from_scenario(cls, duration: Lognormal) -> LognormalStay:
        return cls(math.log(duration.mean_years) - duration.sigma**2 / 2, float(duration.sigma))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def sampler(self) -> Callable[[float], float]:
        mu, sigma = self.mu, self.sigma
        inv_norm = NormalDist().inv_cdf
        exp = math.exp

        def amount(u: float) -> float:
            # Clipped: the normal quantile of 0 or 1 is infinite.
            return exp(mu + sigma * inv_norm(min(max(u, 1e-12), 1 - 1e-12)))

        return amount

    def sample(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * normal_quantile(np.clip(u, 1e-12, 1 - 1e-12)))


def _poly(r: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """``((c0 * r + c1) * r + c2) ...``, Horner's rule in the order written."""
    out = coefficients[0] * r + coefficients[1]
    for c in coefficients[2:]:
        out = out * r + c
    return out


# Wichura's AS241, as statistics.NormalDist.inv_cdf evaluates it (same constants, same order).
_CENTRAL_NUM = (2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4,
                4.5921953931549871457e4, 1.3731693765509461125e4, 1.9715909503065514427e3,
                1.3314166789178437745e2, 3.3871328727963666080e0)  # fmt: skip
_CENTRAL_DEN = (5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4,
                2.1213794301586595867e4, 5.3941960214247511077e3, 6.8718700749205790830e2,
                4.2313330701600911252e1, 1.0)  # fmt: skip
_NEAR_NUM = (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
             1.27045825245236838258e0, 3.64784832476320460504e0, 5.76949722146069140550e0,
             4.63033784615654529590e0, 1.42343711074968357734e0)  # fmt: skip
_NEAR_DEN = (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
             1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e0,
             2.05319162663775882187e0, 1.0)  # fmt: skip
_FAR_NUM = (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
            2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e0,
            5.46378491116411436990e0, 6.65790464350110377720e0)  # fmt: skip
_FAR_DEN = (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
            7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
            5.99832206555887937690e-1, 1.0)  # fmt: skip


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """The standard normal quantile of each ``p`` in ``(0, 1)``: ``NormalDist().inv_cdf``, vectorised."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.425
    qc = q[central]
    r = 0.180625 - qc * qc
    out[central] = _poly(r, _CENTRAL_NUM) * qc / _poly(r, _CENTRAL_DEN)
    tail = ~central
    qt = q[tail]
    r = np.sqrt(-np.log(np.where(qt <= 0.0, p[tail], 1.0 - p[tail])))
    x = np.empty_like(r)
    near = r <= 5.0
    rn = r[near] - 1.6
    x[near] = _poly(rn, _NEAR_NUM) / _poly(rn, _NEAR_DEN)
    rf = r[~near] - 5.0
    x[~near] = _poly(rf, _FAR_NUM) / _poly(rf, _FAR_DEN)
    out[tail] = np.where(qt < 0.0, -x, x)
    return out
