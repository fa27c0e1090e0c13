"""Parameter uncertainty: distributions in scenario files, and their draws.

Any number in a scenario may be written as a distribution instead of a value,
parameterised the way analysts think::

    cost_per_year = { dist = "gamma", mean = 470_000, sd = 60_000 }
    foster = { dist = "lognormal", median = 0.85, p95 = 1.0 }     # a hazard ratio
    short_share = { dist = "beta", mean = 0.3, sd = 0.05 }
    closed = { dist = "triangular", low = 0.5, mode = 0.6, high = 0.8 }
    entry_step_shares = { dist = "dirichlet", mean = { early = 0.4, ... }, concentration = 200 }

A run uses each distribution's mean (its central value); the scenario keeps
the distributions (``Scenario.uncertain``) for probabilistic analysis.
Draws are reproducible from the seed: each uncertain key path has its own
stream of uniforms, and a value is the distribution's quantile of that
uniform, so a baseline and a strategy that share a parameter (through
``extends``) draw the same value of it.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.errors import DistributionError

UNIVARIATE = ("beta", "gamma", "lognormal", "normal", "uniform", "triangular")
DISTRIBUTIONS = (*UNIVARIATE, "dirichlet")
PSA_STREAM = 101


def __getattr__(name: str) -> Any:
    # SciPy is imported only for a scenario with uncertain numbers: a quarter of a second.
    if name == "Z95":  # the 95th percentile of the standard normal
        from scipy import stats

        return stats.norm.ppf(0.95)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


TORNADO_QUANTILES = (0.05, 0.95)
"""A number's low and high for the tornado (and Morris' grid) when it gives no ``bounds``."""


@dataclass(frozen=True)
class Uncertain:
    """One uncertain number (or set of shares) at a key path of a scenario."""

    path: str
    spec: dict

    @property
    def dist(self) -> str:
        return self.spec["dist"]

    def central(self) -> float | dict[str, float]:
        """The value a run without probabilistic analysis uses: the mean."""
        if self.dist == "dirichlet":
            return dict(self.spec["mean"])
        return float(frozen(self.spec).mean())

    def tornado_range(self) -> tuple[float, float]:
        """Low and high for one-way sensitivity: ``bounds`` if given, else the 5th and 95th percentiles."""
        if "bounds" in self.spec:
            low, high = self.spec["bounds"]
            return float(low), float(high)
        low, high = self.draw_quantiles(TORNADO_QUANTILES)
        return float(low), float(high)

    def sensitivity_quantiles(self) -> tuple[float, float]:
        """The quantiles of :meth:`tornado_range`: those of ``bounds`` if given (a bound beyond the
        distribution's support at its edge), else :data:`TORNADO_QUANTILES`. Morris' grid spans them."""
        if "bounds" not in self.spec or _is_point(self.spec):
            return TORNADO_QUANTILES
        low, high = frozen(self.spec).cdf(np.array(self.spec["bounds"], dtype=float))
        return float(low), float(high)

    def draw_quantiles(self, q: tuple[float, ...]) -> np.ndarray:
        """The distribution's quantiles (univariate only), e.g. (0.05, 0.95)."""
        if _is_point(self.spec):
            return np.full(len(q), self.central())
        return frozen(self.spec).ppf(np.array(q))

    def draw(self, seed: int, n: int) -> np.ndarray:
        """``n`` draws (``[n]``, or ``[n, k]`` for Dirichlet), reproducible by seed and path."""
        key = zlib.crc32(self.path.encode())
        rng = np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=(PSA_STREAM, key))))
        if self.dist == "dirichlet":
            mean = np.array(list(self.spec["mean"].values()), dtype=float)
            alpha = mean * float(self.spec["concentration"])
            out = np.zeros((n, len(mean)))
            pos = alpha > 0
            out[:, pos] = rng.dirichlet(alpha[pos], size=n)
            return out
        u = rng.random(n)
        return frozen(self.spec).ppf(u) if not _is_point(self.spec) else np.full(n, self.central())


def _num(spec: dict, name: str) -> float:
    if name not in spec:
        raise DistributionError(f"needs '{name}'")
    v = spec[name]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise DistributionError(f"'{name}' must be a number")
    return float(v)


def _is_point(spec: dict) -> bool:
    d = spec["dist"]
    if d in ("beta", "gamma", "normal") or (d == "lognormal" and "sd" in spec):
        return spec.get("sd") == 0
    if d == "lognormal":
        return spec.get("p95") == spec.get("median")
    if d == "uniform":
        return spec.get("low") == spec.get("high")
    if d == "triangular":
        return spec.get("low") == spec.get("high")
    return False


class _Point:
    """A distribution collapsed onto one value (sd = 0, low = high)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def mean(self) -> float:
        return self.value

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)


def frozen(spec: dict) -> Any:
    """A frozen ``scipy.stats`` distribution for a univariate spec."""
    from scipy import stats

    d = spec["dist"]
    if d == "normal":
        mean, sd = _num(spec, "mean"), _num(spec, "sd")
        _positive_sd(sd)
        return _Point(mean) if sd == 0 else stats.norm(mean, sd)
    if d == "beta":
        mean, sd = _num(spec, "mean"), _num(spec, "sd")
        _positive_sd(sd)
        if not 0 < mean < 1:
            raise DistributionError(f"a beta mean must lie between 0 and 1 (got {mean})")
        if sd == 0:
            return _Point(mean)
        if sd**2 >= mean * (1 - mean):
            raise DistributionError(
                f"sd {sd} is too large for a beta with mean {mean}: it needs sd^2 < mean(1-mean)"
            )
        k = mean * (1 - mean) / sd**2 - 1
        return stats.beta(mean * k, (1 - mean) * k)
    if d == "gamma":
        mean, sd = _num(spec, "mean"), _num(spec, "sd")
        _positive_sd(sd)
        if mean <= 0:
            raise DistributionError(f"a gamma mean must be above 0 (got {mean})")
        return _Point(mean) if sd == 0 else stats.gamma((mean / sd) ** 2, scale=sd**2 / mean)
    if d == "lognormal":
        if "median" in spec or "p95" in spec:
            median, p95 = _num(spec, "median"), _num(spec, "p95")
            if median <= 0:
                raise DistributionError(f"a lognormal median must be above 0 (got {median})")
            if p95 < median:
                raise DistributionError(
                    f"the 95th percentile ({p95}) must not be below the median ({median})"
                )
            if p95 == median:
                return _Point(median)
            sigma = math.log(p95 / median) / stats.norm.ppf(0.95)  # Z95
            return stats.lognorm(sigma, scale=median)
        mean, sd = _num(spec, "mean"), _num(spec, "sd")
        _positive_sd(sd)
        if mean <= 0:
            raise DistributionError(f"a lognormal mean must be above 0 (got {mean})")
        if sd == 0:
            return _Point(mean)
        sigma2 = math.log(1 + (sd / mean) ** 2)
        return stats.lognorm(math.sqrt(sigma2), scale=mean * math.exp(-sigma2 / 2))
    if d == "uniform":
        low, high = _num(spec, "low"), _num(spec, "high")
        if high < low:
            raise DistributionError(f"high ({high}) must not be below low ({low})")
        return _Point(low) if high == low else stats.uniform(low, high - low)
    if d == "triangular":
        low, mode, high = _num(spec, "low"), _num(spec, "mode"), _num(spec, "high")
        if not low <= mode <= high:
            raise DistributionError(f"needs low <= mode <= high (got {low}, {mode}, {high})")
        if high == low:
            return _Point(low)
        return stats.triang((mode - low) / (high - low), loc=low, scale=high - low)
    raise DistributionError(f"unknown distribution '{d}'; allowed: {', '.join(DISTRIBUTIONS)}")


def _positive_sd(sd: float) -> None:
    if sd < 0:
        raise DistributionError(f"sd must not be negative (got {sd})")


ALLOWED_KEYS = {
    "beta": {"mean", "sd"},
    "gamma": {"mean", "sd"},
    "normal": {"mean", "sd"},
    "lognormal": {"mean", "sd", "median", "p95"},
    "uniform": {"low", "high"},
    "triangular": {"low", "mode", "high"},
    "dirichlet": {"mean", "concentration"},
}


def check(spec: dict) -> None:
    """Validate a distribution spec; raises :class:`DistributionError`."""
    d = spec.get("dist")
    if d not in DISTRIBUTIONS:
        raise DistributionError(f"unknown distribution '{d}'; allowed: {', '.join(DISTRIBUTIONS)}")
    extra = set(spec) - ALLOWED_KEYS[d] - {"dist", "source", "bounds"}
    if extra:
        raise DistributionError(
            f"unknown key(s) {', '.join(sorted(extra))} for {d}; allowed: {', '.join(sorted(ALLOWED_KEYS[d]))}"
        )
    if "bounds" in spec:
        b = spec["bounds"]
        ok = (
            isinstance(b, list)
            and len(b) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in b)
        )
        if not ok or b[0] > b[1]:
            raise DistributionError("bounds must be [low, high] with low <= high (for the tornado)")
    if d == "lognormal" and ("median" in spec) == ("mean" in spec):
        raise DistributionError("a lognormal takes either mean and sd, or median and p95")
    if d == "dirichlet":
        mean = spec.get("mean")
        if not isinstance(mean, dict) or not mean:
            raise DistributionError("a dirichlet needs 'mean', a table of shares")
        if any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in mean.values()):
            raise DistributionError("dirichlet mean shares must be numbers of at least 0")
        if not math.isclose(sum(mean.values()), 1.0, abs_tol=1e-6):
            raise DistributionError(
                f"dirichlet mean shares must sum to 1 (they sum to {sum(mean.values()):.6g})"
            )
        if _num(spec, "concentration") <= 0:
            raise DistributionError("concentration must be above 0")
        return
    frozen(spec)


def apply_draw(scenario_dict: dict, path: str, value: Any) -> None:
    """Set ``value`` at a dotted key path of a scenario's plain data."""
    node = scenario_dict
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = value
