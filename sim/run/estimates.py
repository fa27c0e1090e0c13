"""Monte Carlo estimates: means with their standard errors, and replications by precision.

Two intervals are reported, and they answer different questions:

- the **Monte Carlo interval of a mean** (95 %): how well the replications
  pin down the expected value. It narrows as replications are added, and it
  is what the precision rule controls;
- the **range of outcomes** (90 %): the 5th to 95th percentile over the
  replications, where the actual figure for the area may fall by chance (the
  children's paths are random). It does not narrow with more replications.

**Where the analytic engine is exact** (every step's stays exponential or a
mixture, no limited places, no case reviews), it is the control variate of
the simulation: for a measure ``Y`` of a replication, ``C = Y`` computed by
the model the analytic engine solves has the known mean ``E[C]``, and the
estimator ``mean(Y) - (mean(C) - E[C])`` is ``E[Y]`` itself, with no Monte
Carlo error (its only error is the analytic engine's age grid, below 1e-5 of
the value). The means of every table are then the analytic engine's, the
replications give the range of outcomes, and the simulation's own mean is
kept as a check that the two engines agree (:func:`agreement`).

**Elsewhere** (places, reviews, Weibull or lognormal stays) the mean is the
mean over replications, with standard error ``sd / sqrt(n)``, and the
replications run in batches until the 95 % interval's half-width of the
headline measures is at most ``precision`` of their value, or until
``max_replications``. A value near zero is measured against a reference
instead: placements avoided against 50 children (at 2 %, to within one
child), the NPV against the investment (the return per krone to within
0.02), or, with nothing invested, against 1 % of the baseline's cost.

Batches are fixed by the replications' results alone, never by the number of
workers, so the same seed gives the same numbers on any number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.staircase import Staircase

MC_LEVEL = 0.95
"""Confidence level of the Monte Carlo interval of a mean."""
RANGE = (5.0, 95.0)
"""Percentiles of the range of outcomes over replications (a 90 % range)."""
PRECISION = 0.02
"""Default target: the 95 % half-width of a headline mean at most 2 % of its value."""
CHILDREN_FLOOR = 50.0
"""Counts of children near zero are measured against 50 children (at 2 %: to within one child)."""
FLOOR = 0.01
"""Money near zero, where nothing is invested, is measured against 1 % of the baseline's total cost."""
MIN_REPLICATIONS = 10
"""Replications in the first batch: enough for a first range of outcomes and standard error."""
MAX_REPLICATIONS = 100
"""Default most replications the precision rule runs (a limit on time; the precision reached is reported)."""
BATCH = 10
"""Replications are added in multiples of this."""
AGREEMENT_P = 1e-3
"""Below this p-value (Student's t) the simulation's own mean disagrees with the analytic engine's."""


def analytic_is_exact(st: Staircase) -> bool:
    """Whether the analytic engine solves this arm exactly (to its age grid).

    True when every stay is exponential or a two-group mixture, no step has
    limited places and no step has case reviews (which the analytic engine
    counts as a rate, an approximation).
    """
    stays = st.phase_type
    arms = [st] if st.unreached is None else [st, st.unreached]
    no_reviews = all(not np.isfinite(a.review_interval).any() for a in arms)
    return stays and no_reviews and not st.capped.any()


def t_quantile(n: int) -> float:
    """The two-sided ``MC_LEVEL`` quantile of Student's t with ``n - 1`` degrees of freedom."""
    if n < 2:
        return math.inf
    # scipy.stats.t.ppf's own function: scipy.stats alone costs most of a second's start-up.
    from scipy.special import stdtrit

    return float(stdtrit(n - 1, 0.5 + MC_LEVEL / 2))


def standard_error(per_replication: np.ndarray, axis: int = 0) -> np.ndarray:
    """``sd / sqrt(n)`` of the mean over replications (nan with one replication)."""
    a = np.asarray(per_replication, dtype=float)
    n = a.shape[axis]
    if n < 2:
        return np.full(np.delete(a.shape, axis), np.nan) if a.ndim > 1 else np.float64(np.nan)
    se = a.std(axis=axis, ddof=1) / math.sqrt(n)
    # A measure the same in every replication (a programme's fixed cost) has
    # no error; the float noise of its sum is not one.
    return np.where(se <= 1e-12 * np.abs(a).max(axis=axis, initial=0.0), 0.0, se)


def ratio_standard_error(num: np.ndarray, den: np.ndarray) -> float:
    """Standard error of ``mean(num) / mean(den)`` (delta method), nan where undefined."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    n = len(num)
    if n < 2 or not np.mean(den):
        return math.nan
    r = np.mean(num) / np.mean(den)
    return float(np.std(num - r * den, ddof=1) / math.sqrt(n) / abs(np.mean(den)))


@dataclass(frozen=True)
class Target:
    """A headline measure the precision rule watches."""

    name: str
    mean: float
    se: float
    reference: float
    """The size a value near zero is measured against (children: 50; money: the investment)."""

    def tolerance(self, precision: float) -> float:
        """The half-width aimed at: ``precision`` of the value, or of ``reference`` if that is larger."""
        return precision * max(abs(self.mean), abs(self.reference))

    def half_width(self, n: int) -> float:
        """The 95 % Monte Carlo half-width of the mean (0 where the mean is exact)."""
        if self.se == 0.0:
            return 0.0
        return t_quantile(n) * self.se if np.isfinite(self.se) else math.inf

    def reached(self, n: int) -> float:
        """The precision reached: half-width as a share of the value (of the floor near zero)."""
        base = max(abs(self.mean), abs(self.reference))
        hw = self.half_width(n)
        return 0.0 if hw == 0.0 else (hw / base if base > 0 else math.inf)


def next_replications(n: int, targets: list[Target], precision: float, most: int) -> int:
    """How many replications in all after ``n``; ``n`` itself when the targets are met (or ``most`` is).

    The standard error falls as ``1/sqrt(n)``: the worst ratio of half-width
    to tolerance, squared, says how many replications are needed; one more
    batch is added at least, with 10 % to spare, rounded up to whole batches.
    """
    worst = max(
        (tg.half_width(n) / tg.tolerance(precision) if tg.tolerance(precision) > 0 else 0.0) for tg in targets
    )
    if worst <= 1.0 or n >= most:
        return n
    needed = n * worst**2 * 1.1 if math.isfinite(worst) else n + BATCH
    more = max(needed, n + BATCH)
    return int(min(most, BATCH * math.ceil(more / BATCH)))


def agreement(per_replication: np.ndarray, exact: float) -> dict[str, float]:
    """The simulation's own mean against the exact value.

    Returns its mean and standard error, the gap to the exact value (also as
    a share of it), ``z`` (the gap in standard errors) and the two-sided
    p-value of Student's t with ``n - 1`` degrees of freedom: how often chance
    alone gives a gap this large.
    """
    y = np.asarray(per_replication, dtype=float)
    mean = float(np.mean(y))
    se = float(standard_error(y))
    gap = mean - float(exact)
    if not np.isfinite(se):
        z = p = math.nan
    elif se > 0:
        from scipy.special import stdtr  # scipy.stats.t.sf's own function

        z = gap / se
        p = float(2 * stdtr(len(y) - 1, -abs(z)))
    else:
        z, p = (0.0, 1.0) if math.isclose(mean, exact, rel_tol=1e-9, abs_tol=1e-9) else (math.inf, 0.0)
    share = abs(gap) / abs(exact) if exact else (0.0 if gap == 0 else math.inf)
    return {
        "simulation_mean": mean,
        "simulation_se": se,
        "exact": float(exact),
        "gap": gap,
        "gap_share": share,
        "z": z,
        "p": p,
    }
