"""Probabilistic sensitivity analysis: all uncertain numbers drawn together.

Each draw fixes every number a scenario gives as a distribution (see
:mod:`sim.scenario.distributions`), in the baseline and the strategy alike, and runs
both arms with common random numbers (one replication of the DES, keyed by
the draw, or the expected engine). The result answers "how sure are you?":
the distribution of placements avoided and NPV, the probability that the
strategy has paid back by each year, and the cost per placement avoided.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.economics.comparison import (
    check_perspective,
    compare_arrays,
    money_label,
    payback_years,
    strategy_start,
)
from sim.errors import NothingUncertain, OptionError, PairError
from sim.model.staircase import Staircase, compile_staircase, hazard_ratio_table, recompiled
from sim.run.estimates import t_quantile
from sim.run.experiment import (
    DEFAULT_SEED,
    PLACEMENTS_UNIT,
    PROJECTION,
    Engine,
    check_pair,
    check_whole,
    replication,
    share_row,
    summary_frame,
)
from sim.run.workers import Workers
from sim.run.workers import map_tasks as _map
from sim.scenario import Scenario, ScenarioLike, as_scenario
from sim.scenario.plausibility import LIMITS, _matches, _measured, _outside, warn_arms
from sim.scenario.schema import tidy

OUTCOMES = {
    "placement_entries_avoided": PLACEMENTS_UNIT,
    "placement_child_years_avoided": "child-years",
    "placed_at_end_avoided": "children placed at end",
    "investment_pv": "money",
    "gross_savings_pv": "money",
    "npv": "money",
    "roi": "net DKK back per DKK invested",
    "payback_year": "calendar year; empty: no payback within the horizon",
}


def _draw_pair(args: tuple) -> dict[str, np.ndarray]:
    """One draw of both arms the full way: a scenario validated and compiled per arm.

    The reference for :class:`_Pair`, which gives the same numbers without
    validating and compiling whole scenarios; break-even's searches use it.
    """
    base, strategy, values_b, values_s, engine, seed, d, *rest = args
    perspective = rest[0] if rest else "kommune"
    base = base.with_values(values_b) if values_b else base
    strategy = strategy.with_values(values_s) if values_s else strategy
    st_a, st_b = compile_staircase(base), compile_staircase(strategy)
    ma = {k: v[None] for k, v in replication(st_a, engine, seed, d, check=False).items()}
    mb = {k: v[None] for k, v in replication(st_b, engine, seed, d, check=False).items()}
    return compare_arrays(ma, mb, st_a, st_b, perspective)


# ---------------------------------------------------------------------------
# Draws without validating and compiling whole scenarios
# ---------------------------------------------------------------------------

COMPILED_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("steps.*.cost_per_year", "costs"),
    ("steps.*.entry_cost", "costs"),
    ("transitions.*.*", "rates"),
    ("transitions.*.*.*", "rates"),  # one age band's rate
    ("intervention.hazard_ratios.*.*", "ratios"),
    ("intervention.cost_per_year", "compile"),
    ("intervention.one_off_cost", "compile"),
)
"""The compiled-parameter map: uncertain numbers a draw changes in the compiled arm, not in the file.

``costs``: the steps' costs (:class:`~sim.model.staircase.Money` only: the
engines' measures of the arm do not change); ``rates`` and ``ratios``: the
rate tables (:func:`~sim.model.staircase.recompiled`); ``compile``: the
drawn scenario is compiled again, but not validated again. Each of these is
a number at least 0 whose hard limits (:data:`~sim.scenario.plausibility.LIMITS`)
are checked on the draw as validation checks them. Any other number (one
that changes the structure, shares that must sum to 1, a whole number, a
number other checks read) is fixed the full way: ``Scenario.with_values``,
then ``compile_staircase``.
"""


@cache
def _kind(path: str) -> str | None:
    """What a draw of ``path`` changes (:data:`COMPILED_PARAMETERS`), ``None``: fixed the full way."""
    for pattern, kind in COMPILED_PARAMETERS:
        if _matches(pattern, path, bands=False):
            return kind
    return None


@cache
def _limits(key: str) -> tuple:
    """The hard limits that cover ``key``."""
    return tuple(b for b in LIMITS if any(_matches(p, key, b.bands) for p in b.keys))


def _set(node: Any, parts: list[str], value: Any) -> Any:
    """A copy of ``node`` with ``value`` at ``parts``, sharing everything else (nothing validated)."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(node, BaseModel):
        return node.model_copy(update={head: _set(getattr(node, head), rest, value)})
    return {**node, head: _set(node[head], rest, value)}


def _same_motion(a: Staircase, b: Staircase) -> bool:
    """Whether two compiled arms share every part the engines read (all but :class:`Money`)."""
    if a.dynamics is not b.dynamics or a.places is not b.places or a.adult_life is not b.adult_life:
        return False
    if a.unreached is None or b.unreached is None:
        return a.unreached is b.unreached
    return _same_motion(a.unreached, b.unreached)


_COMPILED: dict[str, tuple] = {}
"""Arms compiled in this process, by their token: a worker compiles an arm once, not once per chunk."""

RECENT_ARMS = 16
"""Draws of an arm a process keeps on the analytic engine, by their values (:meth:`_Arm.arm`)."""


class _Arm:
    """One arm of a PSA, validated and compiled once; a draw changes the compiled arrays.

    :meth:`fix` gives the compiled arm of a draw: the same arrays as
    ``compile_staircase(scenario.with_values(values))``, without validating
    and compiling the whole scenario where the numbers drawn allow it
    (:data:`COMPILED_PARAMETERS`). A drawn value that validation might
    refuse (a negative rate drawn from a normal, a value beyond its hard
    limit) goes the full way, which refuses it as it always did.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.uncertain = {u.path for u in scenario.uncertain}
        self.token = uuid.uuid4().hex
        self._compiled: tuple[Staircase | None, np.ndarray | None] | None = None
        self._measures: dict | None = None
        self._recent: dict[tuple, tuple[Staircase, dict]] = {}

    def __getstate__(self) -> dict:
        # A worker compiles the arm itself, once (_COMPILED): the scenario is a tenth of
        # the size of its compiled arrays (a Dask cluster gets one per task).
        return {**self.__dict__, "_compiled": None, "_measures": None, "_recent": {}}

    def _compile(self) -> tuple[Staircase | None, np.ndarray | None]:
        if self._compiled is None:
            self._compiled = _COMPILED.get(self.token)
        if self._compiled is None:
            try:
                # What a draw leaves as it is must pass a draw's validation (which checks
                # hazard ratios, as with_changes does not): then only what it changes is checked.
                self.scenario.with_values({})
                self._compiled = (compile_staircase(self.scenario), hazard_ratio_table(self.scenario))
            except Exception:  # every draw goes the full way, and says what is wrong as it always did
                self._compiled = (None, None)
            if len(_COMPILED) >= 8:
                _COMPILED.clear()
            _COMPILED[self.token] = self._compiled
        return self._compiled

    @property
    def staircase(self) -> Staircase | None:
        """The arm compiled with every uncertain number at its mean (``None``: draws go the full way)."""
        return self._compile()[0]

    @property
    def ratio(self) -> np.ndarray | None:
        """The hazard ratios at full effect ``[B, S, D]`` of :attr:`staircase`."""
        return self._compile()[1]

    def fix(self, values: dict[str, Any]) -> Staircase:
        """The compiled arm with ``values`` (``{path: value}``) in place of its uncertain numbers."""
        if not values:
            return self.staircase if self.staircase is not None else compile_staircase(self.scenario)
        kinds = {_kind(p) for p in values}
        if self.staircase is not None and None not in kinds:
            drawn = self.scenario
            for path, value in values.items():
                drawn = _set(drawn, path.split("."), value)
            if self._valid(drawn, values):
                if "compile" in kinds:
                    return compile_staircase(drawn)
                ratio = None
                if "ratios" in kinds:
                    ratio = hazard_ratio_table(drawn)
                elif "rates" in kinds:
                    ratio = self.ratio
                return recompiled(self.staircase, drawn, costs="costs" in kinds, ratio=ratio)
        return compile_staircase(self.scenario.with_values(values))

    def _valid(self, drawn: Scenario, values: dict[str, Any]) -> bool:
        """Whether validation surely accepts the drawn values (``False``: it may not; go the full way)."""
        for path, value in values.items():
            # A number at least 0 (strict: a float, finite).
            if type(value) is not float or not math.isfinite(value) or value < 0:
                return False
            parts = path.split(".")
            checks = [(path, value)]
            if parts[0] == "transitions":
                if value == 0:
                    return False  # a step's way out drawn to 0: the checks of the whole scenario read it
                iv = drawn.intervention
                ratio = iv.hazard_ratios.get(parts[1], {}).get(parts[2]) if iv is not None else None
                if ratio is not None:
                    # Its hard limit is on the rate times the ratio.
                    key = f"intervention.hazard_ratios.{parts[1]}.{parts[2]}"
                    if key in self.uncertain and key not in values:
                        return False  # its draws' reach is checked against this rate
                    checks.append((key, ratio))
            for key, v in checks:
                for bound in _limits(key):
                    got = _measured(bound, drawn, key, v)
                    if got is not None and _outside(bound, got[0]):
                        return False
        return True

    def arm(self, values: dict[str, Any], engine: str, seed: int, d: int) -> tuple[Staircase, dict]:
        """The compiled arm of a draw and its measures (:meth:`fix`, :meth:`measures`).

        On the analytic engine the measures depend on the values alone, and
        a sensitivity sample asks for the same values of an arm again and
        again (Saltelli's runs that move a number of the other arm only, a
        Morris step along one): the last few are kept and given again, the
        same arrays.
        """
        key = None
        if engine == "expected" and all(type(v) is float for v in values.values()):
            key = tuple(sorted(values.items()))
            hit = self._recent.get(key)
            if hit is not None:
                return hit
        st = self.fix(values)
        made = st, self.measures(st, engine, seed, d)
        if key is not None:
            # The oldest goes first (the same values come back within a few runs); no step here
            # fails if threads of one process (a Dask worker's) share the arm.
            self._recent[key] = made
            if len(self._recent) > RECENT_ARMS:
                self._recent.pop(next(iter(self._recent), None), None)
        return made

    def measures(self, st: Staircase, engine: str, seed: int, d: int) -> dict[str, np.ndarray]:
        """A draw's measures of the arm: the central arm's, computed once, where the draw changed only money."""
        if engine == "expected" and self.staircase is not None and _same_motion(st, self.staircase):
            if self._measures is None:
                self._measures = replication(self.staircase, engine, seed, 0, check=False)
            return self._measures
        return replication(st, engine, seed, d, check=False)


class _Pair:
    """A baseline and a strategy, each validated and compiled once, for many draws."""

    def __init__(self, base: Scenario, strategy: Scenario, engine: str, seed: int, perspective: str) -> None:
        self.base, self.strategy = _Arm(base), _Arm(strategy)
        self.engine, self.seed, self.perspective = engine, seed, perspective

    def run(self, values_b: dict, values_s: dict, d: int) -> dict[str, np.ndarray]:
        """Draw ``d`` of both arms, with common random numbers (as :func:`_draw_pair`)."""
        st_a, ma = self.base.arm(values_b, self.engine, self.seed, d)
        st_b, mb = self.strategy.arm(values_s, self.engine, self.seed, d)
        ma, mb = {k: v[None] for k, v in ma.items()}, {k: v[None] for k, v in mb.items()}
        return compare_arrays(ma, mb, st_a, st_b, self.perspective)


def _pair_draw(args: tuple) -> dict[str, np.ndarray]:
    pair, values_b, values_s, d = args
    return pair.run(values_b, values_s, d)


def _draws(scenario: Scenario, seed: int, n: int) -> tuple[dict, list[dict]]:
    """A scenario's uncertain numbers, their raw draws by path, and the values of each draw."""
    raw = {u.path: u.draw(seed, n) for u in scenario.uncertain}
    by_path = {u.path: u for u in scenario.uncertain}
    return raw, [{p: _values(by_path[p], v, d) for p, v in raw.items()} for d in range(n)]


def _unknown_outcome(outcome: str, totals: dict) -> OptionError:
    """The error for an outcome a comparison has no total of, naming the ones it has."""
    have = sorted(k.removeprefix("total_") for k in totals if k.startswith("total_"))
    return OptionError(f"unknown outcome '{outcome}'; choose one of: {', '.join(have)}")


def _values(u, draws: np.ndarray, d: int):
    if u.dist == "dirichlet":
        return dict(zip(u.spec["mean"], draws[d].tolist(), strict=True))
    return float(draws[d])


@dataclass(frozen=True, eq=False)
class PSAResult:
    """Outcomes of every draw, with the parameter values that produced them (:func:`psa`).

    ``summary`` gives each outcome's mean and its 5th and 95th percentiles
    *over the draws* (parameter uncertainty; on the DES, chance too), with
    ``mean_from`` ``draws``; ``table`` every draw's outcomes, ``parameters``
    every draw's values, and ``breakeven`` the probability of having paid
    back by each year.
    """

    kind: ClassVar[str] = "psa"
    """What a results folder of it is: ``psa`` (the manifest's ``kind``)."""

    base: Scenario
    strategy: Scenario
    engine: str
    seed: int
    parameters: pd.DataFrame = field(repr=False)
    arrays: dict[str, np.ndarray] = field(repr=False)
    perspective: str = "kommune"

    @property
    def draws(self) -> int:
        return len(self.parameters)

    @property
    def years(self) -> np.ndarray:
        return self.base.start_year + np.arange(self.base.horizon_years)

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per draw: parameter values and outcomes (for researchers)."""
        out = self.parameters.copy()
        for key in OUTCOMES:
            out[key] = self.arrays[f"total_{key}"]
        return out

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Mean, median and 90 % interval over draws; probability of NPV > 0; cost per placement avoided."""
        money = money_label(self.base) + f"; perspective: {self.perspective}"
        rows = {
            k: (self.arrays[f"total_{k}"], money if unit == "money" else unit) for k, unit in OUTCOMES.items()
        }
        if self.base.adult is not None:
            projection = f"{money}; {PROJECTION}"
            rows["adult_consequences_avoided_pv"] = (self.arrays["total_adult_savings_pv"], projection)
            rows["npv_with_adult_consequences"] = (self.arrays["total_npv_with_adult"], projection)
        # The payback year's mean, as for a comparison: the year the mean cash flows pay back
        # (a mean of calendar years is not a year), counted from the strategy's first year.
        pay = payback_years(
            self.arrays["cum_net_savings_discounted"].mean(axis=0)[None],
            self.arrays["total_investment_pv"].mean(axis=0)[None],
            strategy_start(compile_staircase(self.strategy)),
            self.base.start_year,
        )
        estimates = {"payback_year": (float(pay[0]), np.nan)}
        rows["payback_year"] = (
            rows["payback_year"][0],
            f"{rows['payback_year'][1]}; mean: that of the mean cash flow (no Monte Carlo interval)",
        )
        df = summary_frame(rows, estimates, mean_from="draws")  # over parameter draws, not replications
        npv = self.arrays["total_npv"]
        parts = [
            df,
            share_row("probability_npv_positive", npv > 0, "share of draws", "draws"),
            self._cost_per_placement_avoided(money),
        ]
        if self.base.adult is not None:
            parts.append(
                share_row(
                    "probability_npv_with_adult_positive",
                    self.arrays["total_npv_with_adult"] > 0,
                    "share of draws; with the projected adult-life costs",
                    "draws",
                )
            )
        return pd.concat(parts)

    def _cost_per_placement_avoided(self, money: str) -> pd.DataFrame:
        """Mean investment over mean placements avoided, with its Monte Carlo error (delta method)."""
        inv = self.arrays["total_investment_pv"]
        avoided = self.arrays["total_placement_entries_avoided"]
        n = len(inv)
        ratio, se = np.nan, np.nan
        if avoided.mean() > 0:
            ratio = inv.mean() / avoided.mean()
            if n > 1:
                cov = np.cov(inv, avoided)
                var = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (n * avoided.mean() ** 2)
                se = float(np.sqrt(max(var, 0.0)))
        half = t_quantile(n) * se
        unit = (
            f"{money}; ratio of mean investment to mean placements avoided; one ratio: no range of outcomes"
        )
        row = {"mean": ratio, "mc_se": se, "mc_low": ratio - half, "mc_high": ratio + half}
        row.update({"median": np.nan, "p5": np.nan, "p95": np.nan, "unit": unit, "mean_from": "draws"})
        return pd.DataFrame([row], index=pd.Index(["cost_per_placement_avoided"], name="metric"))

    @cached_property
    def breakeven(self) -> pd.DataFrame:
        """Probability of having paid back by each year: that a draw's payback year (from which its
        cumulative discounted net savings stay >= 0 to the horizon) is that year or earlier.

        A draw in surplus for a while and behind again later has not paid back in those years, as
        its payback year says; so the probability only grows, and its quantiles are the payback
        year's percentiles.
        """
        pay = self.arrays["total_payback_year"]  # nan: never
        paid = pay[:, None] <= self.years[None, :]
        return pd.DataFrame({"year": self.years, "probability_break_even": paid.mean(axis=0)})


def psa(
    base: ScenarioLike,
    strategy: ScenarioLike,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    engine: Engine = "expected",
    workers: Workers = 1,
    progress: bool = False,
    perspective: str = "kommune",
) -> PSAResult:
    """Probabilistic sensitivity analysis of a strategy against its baseline.

    Parameters
    ----------
    base, strategy : Scenario or path
        A scenario, or the path of a scenario file.
        Numbers given as distributions in either are drawn; a distribution
        both share (through ``extends``) gets the same value in both.
    draws : int
        Parameter draws.
    seed : int
        Same seed, same draws and results, for any number of workers.
    engine : {"expected", "des"}
        The analytic engine (default, fast) or one DES replication per draw.
    workers : int, None, LocalWorkers, str or distributed.Client
        Processes (``None``: all cores), kept processes, or a Dask scheduler address or
        client, as in :func:`sim.compare`; the draws are the same wherever they run.
    perspective : {"kommune", "region", "stat", "society"}
        Whose money the outcomes count (as in :func:`sim.compare`).

    Returns
    -------
    PSAResult
    """
    base = as_scenario(base)
    strategy = as_scenario(strategy)
    check_whole("draws", draws, 1)
    check_whole("seed", seed, 0)
    check_pair(base, strategy)
    warn_arms(base, strategy)
    if engine not in ("des", "expected"):
        raise OptionError(f"engine must be 'des' or 'expected', not {engine!r}")
    if not base.uncertain and not strategy.uncertain:
        raise NothingUncertain(NothingUncertain.advice("psa"))
    ub = {u.path: u for u in base.uncertain}
    us = {u.path: u for u in strategy.uncertain}
    paths = sorted(set(ub) | set(us))
    vb, values_b = _draws(base, seed, draws)
    vs, values_s = _draws(strategy, seed, draws)
    pair = _Pair(base, strategy, engine, seed, perspective)
    # Sent to a worker once per chunk of tasks (pickle keeps one copy of what they share).
    tasks = [(pair, values_b[d], values_s[d], d) for d in range(draws)]
    results = _map(_pair_draw, tasks, workers, progress)
    arrays = {k: np.concatenate([r[k] for r in results]) for k in results[0]}
    columns: dict[str, np.ndarray] = {"draw": np.arange(draws)}
    for p in paths:
        u, v = (us[p], vs[p]) if p in us else (ub[p], vb[p])
        if u.dist == "dirichlet":
            for i, key in enumerate(u.spec["mean"]):
                columns[f"{p}.{key}"] = v[:, i]
        else:
            columns[p] = v
    return PSAResult(base, strategy, engine, seed, pd.DataFrame(columns), arrays, perspective)


@dataclass(frozen=True)
class BreakEven:
    """What a strategy must achieve, or may cost, for its NPV to be zero (:func:`break_even`).

    Attributes
    ----------
    on : {"cost", "effect"}
    value : float
        The programme's cost per year (in the scenario's currency and price
        year) at which the NPV is zero, or the share of the assumed effect
        (1 = as assumed), both at the uncertain numbers' means. ``nan`` on
        cost: no cost makes it break even (even free its NPV is not
        positive). On effect: ``inf`` if no effect breaks even (not even
        many times the assumed one), ``0.0`` if the NPV is not negative even
        with no effect (the payer pays nothing it does not get back).
    npv_as_given : float
        The NPV of the files as given, discounted as every money figure.
    hazard_ratios : dict
        At the break-even effect (``on="effect"`` only).
    draws : numpy.ndarray
        The break-even value in each PSA draw (empty without ``draws``).
    perspective : str
        Whose money the NPV counts.
    """

    on: str  # "cost" or "effect"
    value: float  # cost per year, or the share of the assumed effect (1 = as assumed)
    npv_as_given: float
    hazard_ratios: dict[str, dict[str, float]]  # at the break-even effect ("effect" only)
    draws: np.ndarray = field(repr=False)  # the break-even value in each PSA draw (empty without draws)
    perspective: str = "kommune"  # whose money the NPV counts

    @property
    def never(self) -> int:
        """How many of the PSA's draws never break even (their value is not finite)."""
        return int((~np.isfinite(self.draws)).sum())

    @property
    def interval(self) -> tuple[float, float]:
        """The 5th and 95th percentiles of the break-even value over the PSA's draws (parameter
        uncertainty; nan without draws), over the draws that break even at all: ``never`` says how
        many do not."""
        if len(self.draws) == 0:
            return (np.nan, np.nan)
        finite = self.draws[np.isfinite(self.draws)]
        if len(finite) == 0:
            return (np.nan, np.nan)
        lo, hi = np.percentile(finite, [5, 95])
        return float(lo), float(hi)


def _npv(base: Scenario, strategy: Scenario, engine: str, seed: int, perspective: str = "kommune") -> float:
    return float(_draw_pair((base, strategy, {}, {}, engine, seed, 0, perspective))["total_npv"][0])


def has_effect_to_scale(strategy: Scenario) -> bool:
    """Whether :func:`scaled_effect` changes anything: a hazard ratio not 1, extra
    new cases, or entry steps of its own (a strategy of places alone has none)."""
    return strategy.intervention is not None and strategy.intervention.has_effect


def scaled_effect(strategy: Scenario, theta: float) -> Scenario:
    """The strategy with ``theta`` times its effect: every hazard ratio r becomes
    r ** theta, extra entries scale by theta, and entry shares move theta of
    the way from the baseline's to the strategy's (kept >= 0, summing to 1)."""
    iv = strategy.intervention
    changes: dict = {
        "intervention.hazard_ratios": {
            src: {dst: r**theta for dst, r in row.items()} for src, row in iv.hazard_ratios.items()
        },
        "intervention.entry.extra_entries_per_year": tidy(iv.entry.extra_entries_per_year * theta),
        "intervention.entry.extra_entries_share": tidy(iv.entry.extra_entries_share * theta),
    }
    if iv.entry.entry_step_shares is not None:
        old = strategy.population.entry_step_shares
        new = iv.entry.entry_step_shares
        # In the steps' order, not a set's (which changes with the process's hash seed): the same
        # shares, summed in the same order, in every process and every file written from them.
        steps = [k for k in strategy.step_ids if k in old or k in new]
        mixed = {k: max(0.0, old.get(k, 0.0) + theta * (new.get(k, 0.0) - old.get(k, 0.0))) for k in steps}
        total = sum(mixed.values())
        changes["intervention.entry.entry_step_shares"] = {k: tidy(v / total) for k, v in mixed.items()}
    return strategy.with_changes(changes, warn=False)


def _solve_draw(args: tuple) -> float:
    """:func:`_solve_one` for one PSA draw's values of both arms (a task for :func:`map_tasks`)."""
    base, strategy, values_b, values_s, on, engine, seed, perspective = args
    return _solve_one(
        base.with_values(values_b), strategy.with_values(values_s), on, engine, seed, perspective
    )


def _solve_one(
    base: Scenario, strategy: Scenario, on: str, engine: str, seed: int, perspective: str
) -> float:
    from scipy.optimize import brentq

    iv = strategy.intervention
    if on == "cost":
        c0 = iv.cost_per_year

        def f(c: float) -> float:
            return _npv(
                base,
                strategy.with_changes({"intervention.cost_per_year": c}, warn=False),
                engine,
                seed,
                perspective,
            )

        lo, hi = 0.0, max(c0, 1.0)
        f_lo = f(lo)
        if f_lo <= 0:
            return np.nan  # no positive programme cost pays back
        while f(hi) > 0:  # widen until NPV turns negative
            hi *= 2
            if hi > 1e15:
                return np.inf
        return brentq(f, lo, hi, xtol=1.0, rtol=1e-9)

    def g(theta: float) -> float:
        return _npv(base, scaled_effect(strategy, theta), engine, seed, perspective)

    hi = 1.0
    while g(hi) < 0:  # widen until the effect pays back
        hi *= 2
        if hi > 64:
            return np.inf
    if g(0.0) >= 0:
        return 0.0
    # Without any effect the NPV is negative, so the break-even lies above 0 even where the search
    # closes in on 0 (a hazard ratio of 0 stays 0 at any positive share): not 0, "pays with no effect".
    return max(brentq(g, 0.0, hi, xtol=1e-6), 1e-6)


def break_even(
    base: ScenarioLike,
    strategy: ScenarioLike,
    on: str = "effect",
    draws: int = 0,
    seed: int = DEFAULT_SEED,
    engine: Engine = "expected",
    perspective: str = "kommune",
    workers: Workers = 1,
) -> BreakEven:
    """Solve for NPV = 0 over the horizon (scipy root finding).

    Parameters
    ----------
    on : {"effect", "cost"}
        ``"effect"``: the share ``theta`` of the assumed effect at which the
        strategy breaks even (1: as assumed); every hazard ratio ``r`` becomes
        ``r ** theta``, and the changes in entry scale with ``theta``.
        ``"cost"``: the programme cost per year at which it breaks even.
    draws : int
        With draws, the solution is found again for each PSA draw, giving
        an interval.
    perspective : {"kommune", "region", "stat", "society"}
        Whose money the NPV counts (default: the municipality's). Under the
        municipal view a cost paid by the state does not count against it.
    workers : int, None, LocalWorkers, str or distributed.Client
        Where the draws are solved, as in :func:`psa`; the answers are the
        same wherever they run.
    """
    base = as_scenario(base)
    strategy = as_scenario(strategy)
    check_perspective(perspective)
    if strategy.intervention is None:
        raise PairError(f"'{strategy.name}' has no [intervention] to solve for")
    if on not in ("effect", "cost"):
        raise OptionError(f"on must be 'effect' or 'cost', not {on!r}")
    check_whole("draws", draws, 0)
    check_whole("seed", seed, 0)
    check_pair(base, strategy)
    warn_arms(base, strategy)  # a price changed in one arm only would count as the strategy's effect
    payers = strategy.intervention.payers
    if on == "cost" and perspective != "society" and payers is not None and not payers.get(perspective):
        raise OptionError(
            f"the programme's cost is paid by {', '.join(p for p, v in payers.items() if v)}, none of it by "
            f"{perspective}: no programme cost makes {perspective}'s NPV zero; solve --on effect, or choose "
            "another --perspective"
        )
    value = _solve_one(base, strategy, on, engine, seed, perspective)
    hrs: dict[str, dict[str, float]] = {}
    if on == "effect" and np.isfinite(value):
        hrs = scaled_effect(strategy, value).intervention.hazard_ratios
    solved = np.zeros(0)
    if draws:
        _, values_b = _draws(base, seed, draws)
        _, values_s = _draws(strategy, seed, draws)
        tasks = [
            (base, strategy, vb, vs, on, engine, seed, perspective) for vb, vs in zip(values_b, values_s)
        ]
        solved = np.array(_map(_solve_draw, tasks, workers), dtype=float)
    npv = _npv(base, strategy, engine, seed, perspective)
    return BreakEven(on, float(value), npv, hrs, solved, perspective)


@dataclass(frozen=True, eq=False)
class Tornado:
    """One-way sensitivity: each uncertain number at its low and high value (its ``bounds`` if its
    distribution gives them, else its 5th and 95th percentile)."""

    kind: ClassVar[str] = "tornado"
    """What a results folder of it is: ``tornado`` (the manifest's ``kind``)."""

    base: Scenario
    strategy: Scenario
    outcome: str
    central: float
    table: pd.DataFrame  # parameter, low, high, outcome_low, outcome_high, swing (sorted, widest first)
    engine: str = "expected"
    seed: int = DEFAULT_SEED
    perspective: str = "kommune"


def tornado(
    base: ScenarioLike,
    strategy: ScenarioLike,
    outcome: str = "npv",
    seed: int = DEFAULT_SEED,
    engine: Engine = "expected",
    perspective: str = "kommune",
    workers: Workers = 1,
) -> Tornado:
    """Each uncertain number at its low and high value, all others at their means.

    Low and high are the distribution's ``bounds = [low, high]`` if it gives
    them, else its 5th and 95th percentiles.

    Parameters
    ----------
    outcome : str
        One of the comparison totals: ``npv``, ``placement_entries_avoided``,
        ``placement_child_years_avoided``, ``gross_savings_pv``, ``roi``, ...
        A number both files share is moved in both arms at once; sets of
        shares (Dirichlet) are left at their means.
    workers : int, None, LocalWorkers, str or distributed.Client
        Where the runs go, as in :func:`psa`; every run uses the same random
        numbers, so the table is the same wherever they run.
    """
    base = as_scenario(base)
    strategy = as_scenario(strategy)
    check_whole("seed", seed, 0)
    check_pair(base, strategy)
    warn_arms(base, strategy)
    key = f"total_{outcome}"
    ub = {u.path: u for u in base.uncertain}
    us = {u.path: u for u in strategy.uncertain}
    if all(u.dist == "dirichlet" for u in [*ub.values(), *us.values()]):  # sets of shares stay at their means
        raise NothingUncertain(NothingUncertain.advice("tornado"))

    pair = _Pair(base, strategy, engine, seed, perspective)
    central_res = pair.run({}, {}, 0)
    if key not in central_res:
        raise _unknown_outcome(outcome, central_res)
    central = float(central_res[key][0])
    numbers = [(path, us.get(path) or ub[path]) for path in sorted(set(ub) | set(us))]
    varied = [(path, u.tornado_range()) for path, u in numbers if u.dist != "dirichlet"]
    # Every run is draw 0 (common random numbers): the same table on any number of workers.
    tasks = [
        (pair, {path: v} if path in ub else {}, {path: v} if path in us else {}, 0)
        for path, (lo, hi) in varied
        for v in (lo, hi)
    ]
    outs = [float(r[key][0]) for r in _map(_pair_draw, tasks, workers)]
    rows = []
    for i, (path, (lo, hi)) in enumerate(varied):
        out_lo, out_hi = outs[2 * i], outs[2 * i + 1]
        rows.append(
            {
                "parameter": path,
                "low": lo,
                "high": hi,
                "outcome_low": out_lo,
                "outcome_high": out_hi,
                "swing": abs(out_hi - out_lo),
            }
        )
    table = pd.DataFrame(rows, columns=["parameter", "low", "high", "outcome_low", "outcome_high", "swing"])
    table = table.sort_values("swing", ascending=False, ignore_index=True)
    return Tornado(base, strategy, outcome, central, table, engine, seed, perspective)


def sobol_indices(func, names: list[str], n: int = 256, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Sobol first-order and total indices of ``func`` over independent inputs in [0, 1].

    A thin wrapper on SALib (Saltelli sampling, then its analysis): ``func``
    takes an ``[n_samples, n_inputs]`` array of quantiles and returns the
    outputs. Returns one row per input: ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    x = sample.sample(problem, n, seed=seed)
    si = analyze.analyze(problem, np.asarray(func(x), dtype=float), seed=seed)
    return pd.DataFrame({"parameter": names, **{k: si[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}})


def morris_indices(func, names: list[str], n: int = 20, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Morris elementary effects of ``func`` over inputs in [0, 1] (SALib): ``mu_star``, its CI, ``sigma``."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    x = sample.sample(problem, n, seed=seed)
    si = analyze.analyze(problem, x, np.asarray(func(x), dtype=float), seed=seed)
    return pd.DataFrame({"parameter": names, **{k: si[k] for k in ("mu_star", "mu_star_conf", "sigma")}})


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """Global sensitivity indices for a results folder."""

    kind: ClassVar[str] = "sensitivity"
    """What a results folder of it is: ``sensitivity`` (the manifest's ``kind``)."""

    base: Scenario
    strategy: Scenario
    method: str
    outcome: str
    table: pd.DataFrame
    engine: str = "expected"
    seed: int = DEFAULT_SEED
    perspective: str = "kommune"


def global_sensitivity(
    base: ScenarioLike,
    strategy: ScenarioLike,
    method: str = "sobol",
    outcome: str = "npv",
    n: int = 256,
    seed: int = DEFAULT_SEED,
    engine: Engine = "expected",
    workers: Workers = 1,
    progress: bool = False,
    perspective: str = "kommune",
) -> pd.DataFrame:
    """Which uncertain number matters most: Sobol or Morris indices (SALib).

    The model is run on the analytic engine by default (the DES is an
    option) at SALib's sample of quantiles of every univariate uncertain
    number; a number both files share moves in both arms. Sorted by total
    index (Sobol) or ``mu_star`` (Morris), largest first. ``perspective``
    says whose money a money outcome counts (default: the municipality's).

    Sobol samples each number's whole distribution. Morris' grid (levels 0,
    1/3, 2/3, 1) spans each number's tornado range, in quantiles: its
    ``bounds`` if given, else its 5th to 95th percentile
    (:data:`~sim.scenario.distributions.TORNADO_QUANTILES`): on the whole distribution every move would
    end in a tail (a 1-in-a-billion quantile).
    ``mu_star`` and ``sigma`` are then changes of the outcome per move across
    that whole range, in the outcome's unit, comparable to a tornado's swing.
    """
    base = as_scenario(base)
    strategy = as_scenario(strategy)
    check_perspective(perspective)
    if method not in ("sobol", "morris"):
        raise OptionError(f"method must be 'sobol' or 'morris', not {method!r}")
    # Checked before the first run, not after the whole sample.
    check_whole("n", n, 2)
    check_whole("seed", seed, 0)
    check_pair(base, strategy)
    warn_arms(base, strategy)
    ub = {u.path: u for u in base.uncertain if u.dist != "dirichlet"}
    us = {u.path: u for u in strategy.uncertain if u.dist != "dirichlet"}
    names = sorted(set(ub) | set(us))
    if not names:
        raise NothingUncertain(NothingUncertain.advice("sensitivity"))
    if len(names) < 2:
        raise NothingUncertain("global sensitivity needs at least two numbers given as distributions")
    key = f"total_{outcome}"
    pair = _Pair(base, strategy, engine, seed, perspective)
    # A misspelt outcome, before the whole sample: one run at the files' values (the DES's is checked
    # on the sample's first runs instead, which cost no more than it would).
    if engine == "expected" and key not in (first := pair.run({}, {}, 0)):
        raise _unknown_outcome(outcome, first)

    def func(q: np.ndarray) -> np.ndarray:
        q = np.clip(q, 1e-9, 1 - 1e-9)
        # Each number's values at all the sample's quantiles at once (scipy builds a distribution once,
        # not once a run); the same values as one at a time.
        cols_b = {
            path: ub[path].draw_quantiles(q[:, j]).tolist() for j, path in enumerate(names) if path in ub
        }
        cols_s = {
            path: us[path].draw_quantiles(q[:, j]).tolist() for j, path in enumerate(names) if path in us
        }
        tasks = [
            (pair, {p: c[i] for p, c in cols_b.items()}, {p: c[i] for p, c in cols_s.items()}, i)
            for i in range(len(q))
        ]
        results = _map(_pair_draw, tasks, workers, progress)
        if key not in results[0]:
            raise _unknown_outcome(outcome, results[0])
        return np.array([r[key][0] for r in results])

    if method == "sobol":
        return sobol_indices(func, names, n, seed).sort_values("ST", ascending=False, ignore_index=True)
    # The grid's 0 and 1 at each number's tornado low and high: its bounds, or the 5th and 95th percentiles.
    lo, hi = np.array([(us.get(path) or ub[path]).sensitivity_quantiles() for path in names]).T

    def central(x: np.ndarray) -> np.ndarray:
        return func(lo + (hi - lo) * x)

    return morris_indices(central, names, n, seed).sort_values("mu_star", ascending=False, ignore_index=True)
