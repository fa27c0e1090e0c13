"""Replications, random streams, workers; the ``simulate`` and ``compare`` API.

Each replication's random streams are keyed by ``(seed, replication)``
(see :func:`sim.engines.des.streams`), so a replication gives the same numbers
whichever worker runs it: results are identical for any number of workers.
A comparison runs both arms of a replication with the same keys (common
random numbers), so the difference between them is mostly signal.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from sim.economics.comparison import (
    check_perspective,
    compare_arrays,
    money_label,
    payback_years,
    programme_costs,
    step_costs,
    strategy_start,
)
from sim.engines.des import simulate_des
from sim.engines.expected import expected_measures
from sim.engines.invariants import InvariantError, check_measures, nonfinite
from sim.engines.measures import ADDITIVE, MEASURES
from sim.engines.spells import measures_from_spells
from sim.errors import OptionError, PairError, PrecisionWarning
from sim.model.staircase import Staircase, compile_staircase
from sim.run.estimates import (
    CHILDREN_FLOOR,
    FLOOR,
    MAX_REPLICATIONS,
    MC_LEVEL,
    MIN_REPLICATIONS,
    PRECISION,
    RANGE,
    Target,
    agreement,
    analytic_is_exact,
    next_replications,
    ratio_standard_error,
    standard_error,
    t_quantile,
)
from sim.run.workers import Progress, Workers, kept_for
from sim.run.workers import map_tasks as _map
from sim.scenario import PERSPECTIVES, AdultOutcome, Scenario, ScenarioLike, as_scenario

Engine = Literal["des", "expected"]
DEFAULT_SEED = 20240101


def replication(st: Staircase, engine: str, seed: int, rep: int, check: bool = True) -> dict[str, np.ndarray]:
    """One replication's measures ``[year, step]`` (the expected engine: its values), checked.

    Replication ``rep`` of ``seed`` draws the same random numbers wherever it
    runs; a table that breaks an invariant stops the run as a bug. The
    simulation's tables are always checked; the expected engine's unless
    ``check`` is False (a thousand-draw PSA, where the check would cost 15 %
    of the time and each draw's arm is the same code as the checked run's).
    """
    if engine == "expected":
        return _expected(st, rep, check)
    m = measures_from_spells(simulate_des(st, seed, rep), st)
    # Every replication's tables must add up (whole children: exactly); if one
    # does not, that is a bug, and it must not reach a report.
    broken = check_measures(m, st, rep)
    if broken:
        raise InvariantError(broken)
    return m


def _expected(st: Staircase, rep: int = 0, check: bool = True) -> dict[str, np.ndarray]:
    m = expected_measures(st)
    m.pop("flows")
    if check:
        # The simulation's table rules, to a millionth of the largest count: at a rate of 1e9 a
        # year (validation's limit) the engine's chains of exponentials lose 5e-7 of it, while a
        # bug loses whole children.
        broken = check_measures(m, st, rep, rtol=1e-6)
    else:  # a NaN would pass into a PSA's figures without a word: that much is always checked
        broken = nonfinite(m, st, rep)
    if broken:
        raise InvariantError(broken)
    return m


def _pair(args: tuple) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    st_a, st_b, engine, seed, rep = args
    return replication(st_a, engine, seed, rep), replication(st_b, engine, seed, rep)


def _single(args: tuple) -> dict[str, np.ndarray]:
    st, engine, seed, rep = args
    return replication(st, engine, seed, rep)


def _stack(runs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    # The expected engine's one run (the page's every move): its arrays, viewed with the axis.
    if len(runs) == 1:
        return {m: runs[0][m][None] for m in MEASURES}
    return {m: np.stack([r[m] for r in runs]) for m in MEASURES}


def check_whole(name: str, value: Any, least: int) -> int:
    """``value`` as an int, or an :class:`OptionError` naming ``name`` if it is not a whole number >= ``least``.

    ``2.5`` replications are not silently 2, nor ``True`` 1.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise OptionError(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


def check_options(engine: str, replications: int | None, seed: int = DEFAULT_SEED) -> int | None:
    """The replications to run (None: as the precision needs), or an :class:`OptionError` naming what
    cannot be meant (an unknown engine, a seed or count that is no whole number, replications of
    expected values)."""
    if engine not in ("des", "expected"):
        raise OptionError(f"engine must be 'des' or 'expected', not {engine!r}")
    check_whole("seed", seed, 0)
    if replications is not None:
        check_whole("replications", replications, 1)
    if engine == "expected":
        if replications is not None and replications > 1:
            raise OptionError(
                f"{replications} replications with the expected engine: it computes the expected values "
                "once, with no chance to repeat; leave the replications out (--replications), or use the "
                "discrete-event simulation (--engine des, engine='des')"
            )
        return 1
    return None if replications is None else int(replications)


def _check_precision(precision: float, max_replications: int) -> None:
    if not (0 < precision < 1):
        raise OptionError(f"precision must be between 0 and 1 (a share, e.g. 0.02), not {precision!r}")
    if max_replications < MIN_REPLICATIONS:
        raise OptionError(f"max_replications must be at least {MIN_REPLICATIONS}, not {max_replications!r}")


def _interval(a: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The range of outcomes over replications (nan for expected values, which have none)."""
    if a.shape[axis] == 1:
        shape = np.delete(a.shape, axis)
        return np.full(shape, np.nan), np.full(shape, np.nan)
    lo, hi = np.percentile(a, RANGE, axis=axis)
    return lo, hi


def _exact(st: Staircase, engine: str) -> dict[str, np.ndarray] | None:
    """The analytic engine's measures of an arm it solves exactly (for the DES's means), else None."""
    if engine != "des" or not analytic_is_exact(st):
        return None
    return _expected(st)


@dataclass(frozen=True, eq=False)
class Result:
    """One scenario simulated: measures per replication, year and step.

    Attributes
    ----------
    measures : dict of str to numpy.ndarray
        Each measure ``[replication, year, step]``: the replications
        themselves (their spread is the range of outcomes).
    exact : dict of str to numpy.ndarray, optional
        ``[year, step]``: the analytic engine's values where it solves the
        arm exactly; the means are then these (see :mod:`sim.run.estimates`).
    precision : float, optional
        The precision the replications were run for (``None``: a fixed number).
    """

    kind: ClassVar[str] = "run"
    """What a results folder of it is: ``run`` (the manifest's ``kind``)."""

    scenario: Scenario
    staircase: Staircase
    engine: str
    seed: int
    replications: int
    measures: dict[str, np.ndarray] = field(repr=False)
    exact: dict[str, np.ndarray] | None = field(default=None, repr=False)
    precision: float | None = None

    @property
    def years(self) -> np.ndarray:
        """Calendar years of the horizon."""
        return self.staircase.start_year + np.arange(self.staircase.horizon)

    @property
    def arms(self) -> dict[str, Result]:
        """The runs this result holds by role: ``{"scenario": self}`` (a comparison has two)."""
        return {"scenario": self}

    @property
    def has_capacity(self) -> bool:
        """Whether any step has a limit on its places (then waiting lists and utilisation are shown)."""
        return bool(self.staircase.capped.any())

    @property
    def mean_from(self) -> str:
        """Where the means come from: ``exact``, ``replications`` or ``expected`` (the analytic engine alone)."""
        if self.engine == "expected":
            return "expected"
        return "exact" if self.exact is not None else "replications"

    @cached_property
    def mean_measures(self) -> dict[str, np.ndarray]:
        """Each measure's mean ``[year, step]``: exact where the analytic engine is, else over replications."""
        if self.exact is None and self.replications == 1:
            return {m: self.measures[m][0] for m in MEASURES}  # the mean of one run, bit for bit
        out = {}
        for m in MEASURES:
            if m in ADDITIVE:
                out[m] = self.exact[m] if self.exact is not None else self.measures[m].mean(axis=0)
            else:  # lengths of waits: a step nobody waited for has none
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    out[m] = np.nanmean(self.measures[m], axis=0)
        return out

    @property
    def means_exact(self) -> bool:
        """Whether the means have no Monte Carlo error (the analytic engine's values)."""
        return self.exact is not None or self.engine == "expected"

    def se(self, per_replication: np.ndarray) -> np.ndarray:
        """Monte Carlo standard error of the mean of a linear measure given per replication (0 if exact)."""
        if self.means_exact:
            return np.zeros(per_replication.shape[1:])
        return standard_error(per_replication)

    @cached_property
    def costs(self) -> np.ndarray:
        """Nominal step cost ``[replication, year, step]``."""
        return step_costs(self.measures, self.staircase)

    @cached_property
    def programme(self) -> np.ndarray:
        """Nominal programme cost ``[replication, year]``."""
        return programme_costs(self.measures, self.staircase)

    @cached_property
    def yearly(self) -> pd.DataFrame:
        """Means per year and step (one row per year and step), each with its Monte Carlo standard error."""
        st = self.staircase
        Y, S = st.horizon, st.n_steps
        data = {
            "year": np.repeat(self.years, S),
            "step": np.tile(st.step_ids, Y),
            "step_name": np.tile([self.scenario.steps[s].name_da for s in st.step_ids], Y),
            "placement": np.tile(st.placement, Y),
        }
        mean = self.mean_measures
        for m in ADDITIVE:
            data[m] = mean[m].ravel()
        for m in ("wait_mean", "wait_p90"):
            data[m] = mean[m].ravel()
        places = np.where(np.isfinite(st.capacity), st.capacity, np.nan)
        data["places"] = places.ravel()
        # Child-years per place; a step with no places (or none in a year) has no utilisation.
        per_place = np.where(places > 0, places, np.nan)
        data["utilisation"] = (mean["child_years"] / per_place).ravel()
        cost = step_costs(mean, st)
        data["cost"] = cost.ravel()
        data["cost_discounted"] = (cost * st.discount[:, None]).ravel()
        for m in ADDITIVE:
            data[f"{m}_mc_se"] = self.se(self.measures[m]).ravel()
        cost_se = self.se(self.costs)
        data["cost_mc_se"] = cost_se.ravel()
        data["cost_discounted_mc_se"] = (cost_se * st.discount[:, None]).ravel()
        steps = pd.DataFrame(data)
        # Costs that belong to no step (programme, caseworkers, extra places),
        # so that the rows of a year add up to its total cost.
        programme = programme_costs(mean, st)
        if not programme.any():
            return steps
        prog_se = self.se(self.programme)
        rows = pd.DataFrame(
            {
                "year": self.years,
                "step": "programme",
                "step_name": "Programme, caseworkers and extra places",
                "placement": False,
                "cost": programme,
                "cost_discounted": programme * st.discount,
                "cost_mc_se": prog_se,
                "cost_discounted_mc_se": prog_se * st.discount,
            }
        )
        return pd.concat([steps, rows], ignore_index=True).sort_values(
            ["year"], kind="stable", ignore_index=True
        )

    def _totals(self, m: dict[str, np.ndarray]) -> pd.DataFrame:
        """Per replication (first axis of ``m``) and year: children, placements and costs in all steps."""
        st = self.staircase
        R, Y = m["stock_end"].shape[0], st.horizon
        pl = st.placement
        costs = step_costs(m, st)
        programme = np.broadcast_to(programme_costs(m, st), (R, Y))
        total_cost = costs.sum(-1) + programme
        return pd.DataFrame(
            {
                "replication": np.repeat(np.arange(R), Y),
                "year": np.tile(self.years, R),
                "children_year_end": m["stock_end"].sum(-1).ravel(),
                "placed_year_end": (m["stock_end"] * pl).sum(-1).ravel(),
                "placement_entries": (m["placement_entries"] * pl).sum(-1).ravel(),
                "placement_child_years": (m["child_years"] * pl).sum(-1).ravel(),
                "new_cases": m["new_cases"].sum(-1).ravel(),
                "waiting_year_end": m["waiting_end"].sum(-1).ravel(),
                "waiting_years": m["waiting_years"].sum(-1).ravel(),
                "overflows": m["overflows"].sum(-1).ravel(),
                "reviews": m["reviews"].sum(-1).ravel(),
                "step_cost": costs.sum(-1).ravel(),
                "programme_cost": programme.ravel(),
                "casework_cost": np.tile(st.casework_cost, R),
                "total_cost": total_cost.ravel(),
                "total_cost_discounted": (total_cost * st.discount).ravel(),
            }
        )

    @cached_property
    def totals(self) -> pd.DataFrame:
        """Per replication and year: children, placements and costs in all steps."""
        return self._totals(self.measures)

    def _headline(self, t: pd.DataFrame) -> dict[str, tuple[np.ndarray, str]]:
        last = t[t.year == t.year.max()].set_index("replication")
        per_rep = t.groupby("replication").sum(numeric_only=True)
        return {
            "placed_at_end": (last["placed_year_end"], "children"),
            "children_on_staircase_at_end": (last["children_year_end"], "children"),
            "placement_entries": (per_rep["placement_entries"], PLACEMENTS_UNIT),
            "placement_child_years": (per_rep["placement_child_years"], "child-years"),
            "waiting_years": (per_rep["waiting_years"], "child-years waiting for a full step"),
            "overflows": (per_rep["overflows"], "children sent on by a full step"),
            "total_cost_discounted": (per_rep["total_cost_discounted"], money_label(self.scenario)),
        }

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Key figures over the horizon: mean with its Monte Carlo interval, and the range of outcomes."""
        return _frame(self.summary_rows)

    @cached_property
    def summary_rows(self) -> dict[str, dict]:
        """:attr:`summary`'s rows as plain dicts by metric."""
        rows = {k: (np.asarray(v, dtype=float), u) for k, (v, u) in self._headline(self.totals).items()}
        means = {
            k: float(np.asarray(v)[0])
            for k, (v, _) in self._headline(
                self._totals({m: v[None] for m, v in self.mean_measures.items()})
            ).items()
        }
        exact = self.means_exact
        est = {k: (means[k], 0.0 if exact else float(standard_error(v))) for k, (v, _) in rows.items()}
        if self.exact is not None:  # outcomes centred on the exact means (see centred)
            rows = {k: (centred(v, means[k]), u) for k, (v, u) in rows.items()}
        return summary_records(rows, est, self.mean_from)

    def precision_targets(self) -> list[Target]:
        """The headline measures the precision rule watches: placements and total cost."""
        s = self.summary
        pe, cost = s.loc["placement_entries"], s.loc["total_cost_discounted"]
        return [
            Target("placement_entries", float(pe["mean"]), float(pe["mc_se"]), CHILDREN_FLOOR),
            Target("total_cost_discounted", float(cost["mean"]), float(cost["mc_se"]), 0.0),
        ]

    @cached_property
    def agreement(self) -> pd.DataFrame:
        """Where the means are exact: the simulation's own means against them (z: in standard errors)."""
        if self.exact is None:
            return pd.DataFrame(columns=list(AGREEMENT_COLUMNS))
        s = self.summary
        rows = self._headline(self.totals)
        out = [{"metric": k, **agreement(np.asarray(rows[k][0]), s.loc[k, "mean"])} for k in AGREE_RUN]
        return pd.DataFrame(out)


def centred(per_replication: np.ndarray, exact_mean: np.ndarray | float) -> np.ndarray:
    """Replications moved so that their mean is the exact mean: ``y - mean(y) + E[y]``.

    Where the analytic engine gives the exact mean, the replications' own
    mean is off by chance; their spread around it is what the range of
    outcomes shows, so the range is taken around the exact mean (the control
    variate applied to the quantiles' location). Their spread is untouched.
    """
    y = np.asarray(per_replication, dtype=float)
    return y - y.mean(axis=0) + exact_mean


AGREEMENT_COLUMNS = ("metric", "simulation_mean", "simulation_se", "exact", "gap", "gap_share", "z", "p")
"""Columns of ``agreement``: the simulation's own means against the exact ones (:func:`sim.run.estimates.agreement`)."""
AGREE_RUN = ("placement_entries", "placement_child_years", "total_cost_discounted")
AGREE_COMPARE = ("placement_entries_avoided", "placement_child_years_avoided", "npv")


@dataclass(frozen=True, eq=False)
class Comparison:
    """A strategy against its baseline, replication by replication (CRN): :func:`compare`.

    ``summary`` has a row per outcome (placements avoided, NPV, ROI, payback,
    ...) with its ``mean`` (exact where ``mean_from`` says so), the mean's
    standard error and 95 % interval (``mc_se``, ``mc_low``, ``mc_high``),
    the range of outcomes over replications (``p5``, ``p95``: chance in
    children's paths) and ``unit`` (money with its price year and discount
    rates). ``yearly`` has the same by year (money undiscounted, with the
    discount factor beside it); ``arrays`` each replication's numbers;
    ``agreement`` how far the simulation's own means lie from exact ones.
    """

    kind: ClassVar[str] = "compare"
    """What a results folder of it is: ``compare`` (the manifest's ``kind``)."""

    base: Result
    strategy: Result
    arrays: dict[str, np.ndarray] = field(repr=False)
    """Per replication (the range of outcomes): each key ``[replication, ...]``."""
    perspective: str = "kommune"
    """Whose money the headline numbers count: a payer (``kommune``, ``region``, ``stat``) or ``society``."""

    @property
    def years(self) -> np.ndarray:
        """Calendar years of the horizon."""
        return self.base.years

    @property
    def arms(self) -> dict[str, Result]:
        """The two runs by role: ``{"baseline": ..., "strategy": ...}``."""
        return {"baseline": self.base, "strategy": self.strategy}

    @property
    def has_capacity(self) -> bool:
        """Whether any step of either arm has a limit on its places."""
        return self.base.has_capacity or self.strategy.has_capacity

    @property
    def exact(self) -> bool:
        """Whether the means are the analytic engine's, exact (both arms)."""
        return self.base.exact is not None and self.strategy.exact is not None

    @property
    def mean_from(self) -> str:
        """Where the means come from: ``exact``, ``replications`` or ``expected``."""
        if self.base.engine == "expected":
            return "expected"
        return "exact" if self.exact else "replications"

    @cached_property
    def mean_arrays(self) -> dict[str, np.ndarray]:
        """The comparison of the two arms' mean measures: each key ``[1, ...]`` (ratios and
        payback of the means, not means of ratios)."""
        b, s = self.base, self.strategy
        if b.replications == s.replications == 1 and b.exact is None and s.exact is None:
            return self.arrays  # one run each: its arrays are those of the means, bit for bit
        one = lambda r: {m: v[None] for m, v in r.mean_measures.items()}  # noqa: E731
        return compare_arrays(one(b), one(s), b.staircase, s.staircase, self.perspective)

    def outcomes(self, key: str) -> np.ndarray:
        """``arrays[key]`` per replication, for the range of outcomes.

        Where the means are exact, a linear measure's replications are centred
        on its exact mean (:func:`centred`), and ratios and payback years are
        those of the centred replications (NPV over investment; the first
        year the cumulative net stays above zero), so that every range is
        taken around the same exact means.
        """
        a = self.arrays[key]
        if not self.exact:
            return a
        if key == "total_roi":
            npv, inv = self.outcomes("total_npv"), self.outcomes("total_investment_pv")
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(inv > 0, npv / inv, np.nan)
        if key == "total_payback_year":
            return payback_years(
                self.outcomes("cum_net_savings_discounted"),
                self.outcomes("total_investment_pv"),
                strategy_start(self.strategy.staircase),
                self.base.staircase.start_year,
            )
        return centred(a, self.mean_arrays[key][0])

    def se(self, key: str) -> np.ndarray:
        """Monte Carlo standard error of the mean of ``arrays[key]`` (0 where the means are exact)."""
        if self.exact or self.base.engine == "expected":
            return np.zeros(self.arrays[key].shape[1:])
        if key == "total_roi":
            return np.float64(
                ratio_standard_error(self.arrays["total_npv"], self.arrays["total_investment_pv"])
            )
        if key == "total_payback_year":
            return np.float64(np.nan)  # an order statistic: its spread is the range of outcomes
        return standard_error(self.arrays[key])

    @property
    def adult_outcomes(self) -> dict[str, AdultOutcome]:
        """The adult outcomes counted (the baseline's ``adult.outcomes``), by key."""
        adult = self.base.scenario.adult
        return dict(adult.outcomes) if adult is not None and self.base.staircase.has_adult else {}

    @property
    def has_adult(self) -> bool:
        """Whether either arm counts adult life (``scenario.adult``)."""
        return self.base.staircase.has_adult or self.strategy.staircase.has_adult

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Placements avoided, investment, savings, NPV, ROI, payback: means with their Monte
        Carlo intervals, and the range of outcomes over replications."""
        df = _frame(self.summary_rows)
        pay = self.arrays["total_payback_year"]
        if len(pay) == 1:  # a share of one expected value is no probability
            return df
        unit = "share of replications (chance, not parameter uncertainty)"
        shares = [
            share_row(
                "share_paying_back", ~np.isnan(self.outcomes("total_payback_year")), unit, "replications"
            ),
            share_row("share_npv_positive", self.outcomes("total_npv") > 0, unit, "replications"),
        ]
        return pd.concat([df, *shares])

    @cached_property
    def summary_rows(self) -> dict[str, dict]:
        """:attr:`summary`'s rows as plain dicts by metric (without the shares of replications)."""
        money = money_label(self.base.scenario) + f"; perspective: {self.perspective}"
        rows = {
            "placement_entries_avoided": ("total_placement_entries_avoided", PLACEMENTS_UNIT),
            "placement_child_years_avoided": ("total_placement_child_years_avoided", "child-years"),
            "placed_at_end_avoided": ("total_placed_at_end_avoided", "children placed at end"),
            "waiting_years_avoided": ("total_waiting_years_avoided", "child-years waiting for a full step"),
            "overflows_avoided": ("total_overflows_avoided", "children sent on by a full step"),
            "investment_pv": ("total_investment_pv", money),
            "gross_savings_pv": ("total_gross_savings_pv", money),
            "npv": ("total_npv", money),
            "roi": ("total_roi", "net DKK back per DKK invested"),
            "payback_year": (
                "total_payback_year",
                "calendar year; empty: no payback within the horizon; mean: that of the mean cash flow",
            ),
        }
        if self.has_adult:
            projection = f"{money}; {PROJECTION}"
            rows["adult_consequences_avoided_pv"] = ("total_adult_savings_pv", projection)
            rows["npv_with_adult_consequences"] = ("total_npv_with_adult", projection)
            for key in self.adult_outcomes:
                rows[f"adult_{key}_change"] = (
                    f"total_adult_{key}_change",
                    "persons above the reference share, among children leaving within the horizon; "
                    "projection, strategy minus baseline",
                )
        plain = money_label(self.base.scenario)
        for payer in PERSPECTIVES:
            rows[f"npv_{payer}"] = (f"total_npv_{payer}", f"{plain}; paid by {payer}")
        m = self.mean_arrays
        est = {name: (float(m[key][0]), float(self.se(key))) for name, (key, _) in rows.items()}
        return summary_records(
            {name: (self.outcomes(key), unit) for name, (key, unit) in rows.items()}, est, self.mean_from
        )

    def precision_targets(self) -> list[Target]:
        """The headline measures the precision rule watches: placements avoided and NPV.

        Near zero they are measured against a reference: 50 children, and the
        investment (or, with nothing invested, 1 % of the baseline's cost).
        """
        s = self.summary
        pe, npv = s.loc["placement_entries_avoided"], s.loc["npv"]
        invest = float(s.loc["investment_pv", "mean"])
        cost = float(self.base.summary.loc["total_cost_discounted", "mean"])
        money = invest if invest > 0 else FLOOR * cost
        return [
            Target("placement_entries_avoided", float(pe["mean"]), float(pe["mc_se"]), CHILDREN_FLOOR),
            Target("npv", float(npv["mean"]), float(npv["mc_se"]), money),
        ]

    @cached_property
    def agreement(self) -> pd.DataFrame:
        """Where the means are exact: the simulation's own means against them (z: in standard errors)."""
        if not self.exact:
            return pd.DataFrame(columns=list(AGREEMENT_COLUMNS))
        m = self.mean_arrays
        out = [
            {"metric": k, **agreement(self.arrays[f"total_{k}"], float(m[f"total_{k}"][0]))}
            for k in AGREE_COMPARE
        ]
        return pd.DataFrame(out)

    @cached_property
    def yearly(self) -> pd.DataFrame:
        """Per year: avoided placements, investment, savings, net: mean, its Monte Carlo standard
        error, and the range of outcomes (p5, p95)."""
        m = self.mean_arrays
        data: dict[str, np.ndarray] = {"year": self.years}
        for key in (
            "placement_entries_avoided",
            "placement_child_years_avoided",
            "placed_at_year_end_avoided",
            "waiting_years_avoided",
            "overflows_avoided",
            "investment",
            "gross_savings",
            "net_savings",
            "cum_net_savings_discounted",
        ):
            lo, hi = _interval(self.outcomes(key))
            data[key] = m[key][0]
            data[f"{key}_mc_se"] = self.se(key)
            data[f"{key}_p5"] = lo
            data[f"{key}_p95"] = hi
        for i, s in enumerate(self.base.staircase.step_ids):
            data[f"savings_{s}"] = m["savings_by_step"][0][:, i]
        data["discount_factor"] = self.base.staircase.discount
        return pd.DataFrame(data)


PLACEMENTS_UNIT = "placements (entries onto a placement step), whole horizon"
"""The unit of placements counted or avoided: a child placed twice is two placements."""

SUMMARY_COLUMNS = ("metric", "mean", "mc_se", "mc_low", "mc_high", "median", "p5", "p95", "unit", "mean_from")
"""Columns of every summary table (the first, ``metric``, is its index: ``summary.loc["npv"]``): the
mean with its Monte Carlo standard error and 95 % interval, and the range of outcomes (median, 5th and
95th percentile over replications)."""


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """The Wilson score ``MC_LEVEL`` interval of a share of ``k`` in ``n``.

    As ``scipy.stats.binomtest(k, n).proportion_ci(MC_LEVEL, method="wilson")``,
    to the last bit (its formula, Newcombe 1998, with SciPy's normal quantile),
    without importing scipy.stats: most of a second of every command's start-up.
    """
    from scipy.special import ndtri

    p, q = k / n, 1 - k / n
    z = ndtri(0.5 + 0.5 * MC_LEVEL)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * q + z**2)
    return (0.0 if k == 0 else float(center - delta)), (1.0 if k == n else float(center + delta))


def share_row(name: str, hits: np.ndarray, unit: str, mean_from: str) -> pd.DataFrame:
    """A share of replications or draws (paying back, NPV above 0): its Monte Carlo error and
    Wilson 95 % interval. One number has no range of outcomes: ``median``, ``p5``, ``p95`` stay empty,
    as the unit says. When every replication or draw agrees the binomial standard error is left
    empty: its plug-in value would be 0, a precision the runs do not have (Wilson's interval says
    what they do)."""
    hits = np.asarray(hits, dtype=bool)
    n, k = len(hits), int(hits.sum())
    p = k / n
    lo, hi = wilson_interval(k, n)
    row = {
        "mean": p,
        "mc_se": float(np.sqrt(p * (1 - p) / n)) if 0 < k < n else np.nan,
        "mc_low": float(lo),
        "mc_high": float(hi),
        "median": np.nan,
        "p5": np.nan,
        "p95": np.nan,
        "unit": f"{unit}; one share: no range of outcomes",
        "mean_from": mean_from,
    }
    return pd.DataFrame([row], index=pd.Index([name], name="metric"), columns=list(SUMMARY_COLUMNS[1:]))


def summary_frame(
    rows: dict[str, tuple[np.ndarray, str]],
    estimates: dict[str, tuple[float, float]] | None = None,
    mean_from: str = "replications",
) -> pd.DataFrame:
    """One row per metric: its mean (``estimates``: mean and standard error, else over ``rows``),
    the Monte Carlo interval of the mean, and the range of outcomes over ``rows``."""
    return _frame(summary_records(rows, estimates, mean_from))


def _frame(records: dict[str, dict]) -> pd.DataFrame:
    return pd.DataFrame(list(records.values()), columns=list(SUMMARY_COLUMNS)).set_index("metric")


def summary_records(
    rows: dict[str, tuple[np.ndarray, str]],
    estimates: dict[str, tuple[float, float]] | None = None,
    mean_from: str = "replications",
) -> dict[str, dict]:
    """:func:`summary_frame`'s rows as plain dicts by metric (the what-if page reads them at every move)."""
    out = {}
    for name, (v, unit) in rows.items():
        v = np.asarray(v, dtype=float)
        n = len(v)
        # "No payback" counts as later than any year when ranking replications.
        ranked = np.where(np.isnan(v), np.inf, v)
        if n == 1:  # expected values: there is no range of outcomes, and the median is the value
            lo, med, hi = np.nan, ranked[0], np.nan
        else:
            # Interpolating between "never" and a year, or between two years, means
            # nothing: payback years are order statistics.
            method = "inverted_cdf" if (np.isnan(v).any() or name == "payback_year") else "linear"
            lo, med, hi = np.percentile(ranked, [RANGE[0], 50, RANGE[1]], method=method)
        if estimates is not None and name in estimates:
            mean, se = estimates[name]
        else:
            finite = v[~np.isnan(v)]
            # A mean of calendar years is not a year.
            ok = len(finite) == n and name != "payback_year"
            mean = float(finite.mean()) if ok else np.nan
            se = float(standard_error(v)) if ok else np.nan
        half = 0.0 if se == 0.0 else t_quantile(n) * se
        out[name] = {
            "metric": name,
            "mean": mean,
            "mc_se": se,
            "mc_low": mean - half if np.isfinite(half) else np.nan,
            "mc_high": mean + half if np.isfinite(half) else np.nan,
            "median": med if np.isfinite(med) else np.nan,
            "p5": lo if np.isfinite(lo) else np.nan,
            "p95": hi if np.isfinite(hi) else np.nan,
            "unit": unit,
            "mean_from": mean_from,
        }
    return out


def _run_batches(
    make_task: Callable[[int], tuple],
    fn: Callable,
    replications: int | None,
    precision: float,
    max_replications: int,
    workers: Workers,
    progress: Progress,
    exact: bool,
    targets: Callable[[list], list[Target]],
) -> list:
    """Replications 0, 1, ...: a fixed number, or batches until the precision is reached.

    Each batch's size is set by the results so far (never by the workers),
    so the same seed gives the same replications on any number of workers;
    local worker processes are started once for all batches.
    Where the means are exact, the first batch is enough: it is run for the
    range of outcomes.
    """
    n = replications or MIN_REPLICATIONS
    runs: list = []
    # The batches share their worker processes: a new process pays for its first memory again.
    with kept_for(workers, replications or max_replications) as where:
        while True:
            report = _over_batches(progress, len(runs), n) if callable(progress) else progress
            runs += _map(fn, [make_task(r) for r in range(len(runs), n)], where, report)
            if replications is not None or exact:
                return runs
            n = next_replications(len(runs), targets(runs), precision, max_replications)
            if n == len(runs):
                return runs


def _over_batches(progress: Callable[[int, int], None], start: int, goal: int) -> Callable[[int, int], None]:
    """A batch's progress as replications done of those planned so far."""
    return lambda done, _total: progress(start + done, goal)


def simulate(
    scenario: ScenarioLike,
    replications: int | None = None,
    seed: int = DEFAULT_SEED,
    engine: Engine = "des",
    workers: Workers = 1,
    progress: Progress = False,
    precision: float = PRECISION,
    max_replications: int = MAX_REPLICATIONS,
) -> Result:
    """Simulate one scenario (with its intervention, if it has one).

    Parameters
    ----------
    scenario : Scenario or path
        A scenario, or the path of a scenario file.
    replications : int, optional
        A fixed number of replications. Default: as many as the precision
        needs (see :mod:`sim.run.estimates`). The expected engine has none.
    seed : int
        Same scenario and seed give identical numbers.
    engine : {"des", "expected"}
        The discrete-event simulation, or the analytic expected values.
    workers : int, None, LocalWorkers, str or distributed.Client
        Processes to use (``None``: all cores), processes kept for several
        runs (:class:`sim.LocalWorkers`), or a Dask scheduler address or
        client. Results are the same wherever they run.
    progress : bool or callable
        Show a progress bar on the terminal (never in pipes or logs), or call
        ``progress(done, planned)`` after each replication (a callable may
        raise to stop the run).
    precision : float
        Without ``replications``: run until the 95 % Monte Carlo half-width
        of the mean placements and total cost is at most this share of
        their value (default 0.02).
    max_replications : int
        The most replications the precision rule runs (default 100).

    Returns
    -------
    Result

    Warns
    -----
    PrecisionWarning
        If ``precision`` was not reached within ``max_replications``.
    """
    scenario = as_scenario(scenario)
    R = check_options(engine, replications, seed)
    _check_precision(precision, max_replications)
    st = compile_staircase(scenario)
    exact = _exact(st, engine)

    def targets(runs: list) -> list[Target]:
        return Result(scenario, st, engine, seed, len(runs), _stack(runs), exact).precision_targets()

    runs = _run_batches(
        lambda r: (st, engine, seed, r),
        _single,
        R,
        precision,
        max_replications,
        workers,
        progress,
        exact is not None,
        targets,
    )
    return _said_if_short(
        Result(scenario, st, engine, seed, len(runs), _stack(runs), exact, precision if R is None else None)
    )


def short_targets(result: Result | Comparison) -> list[Target]:
    """The headline measures whose precision target was not reached (none without a target)."""
    res = result.base if isinstance(result, Comparison) else result
    if res.precision is None:
        return []
    return [tg for tg in result.precision_targets() if tg.reached(res.replications) > res.precision]


def _said_if_short(result: Result | Comparison) -> Result | Comparison:
    """``result``, with a :class:`PrecisionWarning` if its precision target was not reached (the command
    line says so in its own words, under the key figures)."""
    res = result.base if isinstance(result, Comparison) else result
    short = short_targets(result)
    if short:
        said = ", ".join(f"{tg.name} ± {tg.reached(res.replications):.1%}" for tg in short)
        warnings.warn(
            PrecisionWarning(
                f"precision ± {res.precision:.1%} not reached after {res.replications} replications "
                f"(max_replications): {said}; the summary's mc_low and mc_high say how precise the means are"
            ),
            stacklevel=3,
        )
    return result


def expected(scenario: ScenarioLike) -> Result:
    """Expected values from the analytic engine (milliseconds); a scenario or the path of a file."""
    return simulate(scenario, engine="expected")


PROJECTION = "projection of adult-life costs after the staircase, not a budget line"
"""The unit words of every adult-life money line: it is not a budget number."""


def check_pair(base: Scenario, strategy: Scenario) -> None:
    """Refuse a baseline and strategy that cannot be compared (``ValueError``, saying why)."""
    if base.step_ids != strategy.step_ids:
        raise PairError("baseline and strategy must have the same steps in the same order")
    if (base.start_year, base.horizon_years) != (strategy.start_year, strategy.horizon_years):
        raise PairError(
            "baseline and strategy must have the same start year and horizon (baseline "
            f"{base.start_year}-{base.start_year + base.horizon_years - 1}, strategy "
            f"{strategy.start_year}-{strategy.start_year + strategy.horizon_years - 1})"
        )
    if base.population.children != strategy.population.children:
        raise PairError(
            f"baseline '{base.name}' and strategy '{strategy.name}' describe different areas "
            f"(population.children {base.population.children:,.0f} and {strategy.population.children:,.0f}); "
            "a strategy should extend the baseline it is compared with"
        )
    differ = [sid for sid in base.step_ids if base.steps[sid].placement != strategy.steps[sid].placement]
    if differ:
        # "Placements avoided" would count a step the arms define otherwise as avoided (or added).
        raise PairError(
            f"baseline '{base.name}' and strategy '{strategy.name}' must count placements alike, but "
            f"they differ in steps.<step>.placement for {', '.join(differ)}; give both the same "
            "(e.g. in a file both extend)"
        )
    # The comparison counts both arms' money as the baseline's: in its currency and price year,
    # discounted by its rates. A strategy's own would be ignored without a word.
    money = {
        "discounting": lambda s: (
            s.discount_year,
            tuple((p.from_year, p.rate) for p in s.discounting.periods),
        ),
        "price_year": lambda s: s.price_year,
        "currency": lambda s: s.currency,
    }
    differ = [key for key, of in money.items() if of(base) != of(strategy)]
    index_a, index_b = (s.prices.index if s.prices else {} for s in (base, strategy))
    if any(index_a[y] != index_b[y] for y in index_a.keys() & index_b.keys()):
        differ.append("the [prices] index")  # shared cost lines would be converted otherwise in each arm
    if differ:
        raise PairError(
            f"baseline '{base.name}' and strategy '{strategy.name}' must count money alike (a comparison "
            f"counts both arms in the baseline's currency, price year and discount rates, and their costs "
            f"by one price index), but they differ in "
            f"{' and '.join(differ)}; give both the same (e.g. in a file both extend)"
        )
    if base.adult != strategy.adult:
        # Otherwise the adult costs of one arm would count as avoided (or added).
        which = (
            "only one of them has" if (base.adult is None) != (strategy.adult is None) else "they differ in"
        )
        raise PairError(
            f"baseline '{base.name}' and strategy '{strategy.name}' must count adult life alike, but "
            f"{which} an [adult] table; give both the same one (e.g. in a file both extend)"
        )


def compare(
    base: ScenarioLike,
    strategy: ScenarioLike,
    replications: int | None = None,
    seed: int = DEFAULT_SEED,
    engine: Engine = "des",
    workers: Workers = 1,
    progress: Progress = False,
    perspective: str = "kommune",
    precision: float = PRECISION,
    max_replications: int = MAX_REPLICATIONS,
) -> Comparison:
    """Compare a strategy with its baseline using common random numbers.

    Parameters
    ----------
    base, strategy : Scenario or path
        A scenario, or the path of a scenario file.
        Usually ``strategy`` extends ``base`` and adds an intervention.
    replications, seed, engine, workers, progress
        As for :func:`simulate`.
    perspective : {"kommune", "region", "stat", "society"}
        Whose money the headline numbers count (default the municipality's,
        the budget a negotiation is about); the NPV of each payer and of
        society is always in the summary too.
    precision, max_replications
        As for :func:`simulate`; the precision rule watches placements
        avoided and the NPV.

    Returns
    -------
    Comparison
        ``.summary`` (placements avoided, NPV, ROI, payback: means with their
        Monte Carlo intervals, and the range of outcomes) and ``.yearly``.

    Warns
    -----
    PlausibilityWarning
        For each number outside ``[intervention]`` that differs between the
        arms (:func:`~sim.scenario.plausibility.check_arms`): the comparison
        counts it as the strategy's effect.
    PrecisionWarning
        If ``precision`` was not reached within ``max_replications``.
    """
    base = as_scenario(base)
    strategy = as_scenario(strategy)
    R = check_options(engine, replications, seed)
    _check_precision(precision, max_replications)
    check_perspective(perspective)  # before the simulation, not after
    check_pair(base, strategy)
    from sim.scenario.plausibility import warn_arms

    warn_arms(base, strategy)  # a price changed in one arm only would count as the strategy's saving
    st_a, st_b = compile_staircase(base), compile_staircase(strategy)
    ex_a, ex_b = _exact(st_a, engine), _exact(st_b, engine)
    exact = ex_a is not None and ex_b is not None
    if not exact:  # both arms' means exact, or both over the same replications (CRN)
        ex_a = ex_b = None

    def build(runs: list, goal: float | None = None) -> Comparison:
        mb = _stack([r[0] for r in runs])
        ms = _stack([r[1] for r in runs])
        res_a = Result(base, st_a, engine, seed, len(runs), mb, ex_a, goal)
        res_b = Result(strategy, st_b, engine, seed, len(runs), ms, ex_b, goal)
        return Comparison(res_a, res_b, compare_arrays(mb, ms, st_a, st_b, perspective), perspective)

    runs = _run_batches(
        lambda r: (st_a, st_b, engine, seed, r),
        _pair,
        R,
        precision,
        max_replications,
        workers,
        progress,
        exact,
        lambda runs: build(runs).precision_targets(),
    )
    return _said_if_short(build(runs, precision if R is None else None))
