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
  (:meth:`StayLaw.sampler`),
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
         common random numbers keep working),
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
