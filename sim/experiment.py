"""Replications, random streams, workers; the ``simulate`` and ``compare`` API.

Each replication's random streams are keyed by ``(seed, replication)``
(see :func:`sim.des.streams`), so a replication gives the same numbers
whichever worker runs it: results are identical for any number of workers.
A comparison runs both arms of a replication with the same keys (common
random numbers), so the difference between them is mostly signal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from sim.des import simulate_des
from sim.economics import check_perspective, compare_arrays, money_label, programme_costs, step_costs
from sim.expected import ADDITIVE, MEASURES, expected_measures
from sim.scenario import PERSPECTIVES, AdultOutcome, Scenario
from sim.spells import measures_from_spells
from sim.staircase import Staircase, compile_staircase
from sim.workers import Workers
from sim.workers import map_tasks as _map

Engine = Literal["des", "expected"]
DEFAULT_SEED = 20240101
INTERVAL = (5.0, 95.0)
"""Percentiles of the reported 90 % interval over replications."""


def _one(st: Staircase, engine: str, seed: int, rep: int) -> dict[str, np.ndarray]:
    if engine == "expected":
        m = expected_measures(st)
        m.pop("flows")
        return m
    return measures_from_spells(simulate_des(st, seed, rep), st)


def _pair(args: tuple) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    st_a, st_b, engine, seed, rep = args
    return _one(st_a, engine, seed, rep), _one(st_b, engine, seed, rep)


def _single(args: tuple) -> dict[str, np.ndarray]:
    st, engine, seed, rep = args
    return _one(st, engine, seed, rep)


def _stack(runs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {m: np.stack([r[m] for r in runs]) for m in MEASURES}


def _check(engine: str, replications: int) -> int:
    if engine not in ("des", "expected"):
        raise ValueError(f"engine must be 'des' or 'expected', not {engine!r}")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    return 1 if engine == "expected" else int(replications)


def _interval(a: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if a.shape[axis] == 1:  # expected values: no interval
        mean = a.mean(axis=axis)
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    lo, hi = np.percentile(a, INTERVAL, axis=axis)
    return a.mean(axis=axis), lo, hi


@dataclass(frozen=True, eq=False)
class Result:
    """One scenario simulated: measures per replication, year and step.

    Attributes
    ----------
    measures : dict of str to numpy.ndarray
        Each measure ``[replication, year, step]``.
    """

    scenario: Scenario
    staircase: Staircase
    engine: str
    seed: int
    replications: int
    measures: dict[str, np.ndarray] = field(repr=False)

    @property
    def years(self) -> np.ndarray:
        """Calendar years of the horizon."""
        return self.staircase.start_year + np.arange(self.staircase.horizon)

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
        """Mean over replications per year and step (one row per year and step)."""
        st = self.staircase
        Y, S = st.horizon, st.n_steps
        data = {
            "year": np.repeat(self.years, S),
            "step": np.tile(st.step_ids, Y),
            "step_name": np.tile([self.scenario.steps[s].name_da for s in st.step_ids], Y),
            "placement": np.tile(st.placement, Y),
        }
        for m in ADDITIVE:
            data[m] = self.measures[m].mean(axis=0).ravel()
        with warnings.catch_warnings():  # a step nobody waited for has no wait length
            warnings.simplefilter("ignore", RuntimeWarning)
            for m in ("wait_mean", "wait_p90"):
                data[m] = np.nanmean(self.measures[m], axis=0).ravel()
        places = np.where(np.isfinite(st.capacity), st.capacity, np.nan)
        data["places"] = places.ravel()
        data["utilisation"] = (self.measures["child_years"].mean(axis=0) / places).ravel()
        cost = self.costs.mean(axis=0)
        data["cost"] = cost.ravel()
        data["cost_discounted"] = (cost * st.discount[:, None]).ravel()
        steps = pd.DataFrame(data)
        # Costs that belong to no step (programme, caseworkers, extra places),
        # so that the rows of a year add up to its total cost.
        programme = self.programme.mean(axis=0)
        if not programme.any():
            return steps
        rows = pd.DataFrame(
            {
                "year": self.years,
                "step": "programme",
                "step_name": "Programme, caseworkers and extra places",
                "placement": False,
                "cost": programme,
                "cost_discounted": programme * st.discount,
            }
        )
        return pd.concat([steps, rows], ignore_index=True).sort_values(
            ["year"], kind="stable", ignore_index=True
        )

    @cached_property
    def totals(self) -> pd.DataFrame:
        """Per replication and year: children, placements and costs in all steps."""
        st = self.staircase
        R, Y = self.replications, st.horizon
        pl = st.placement
        m = self.measures
        total_cost = self.costs.sum(-1) + self.programme
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
                "step_cost": self.costs.sum(-1).ravel(),
                "programme_cost": self.programme.ravel(),
                "casework_cost": np.tile(st.casework_cost, R),
                "total_cost": total_cost.ravel(),
                "total_cost_discounted": (total_cost * st.discount).ravel(),
            }
        )

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Key figures over the horizon: mean and 90 % interval over replications."""
        t = self.totals
        last = t[t.year == t.year.max()].set_index("replication")
        per_rep = t.groupby("replication").sum(numeric_only=True)
        rows = {
            "placed_at_end": (last["placed_year_end"], "children"),
            "children_on_staircase_at_end": (last["children_year_end"], "children"),
            "placement_entries": (per_rep["placement_entries"], "children, whole horizon"),
            "placement_child_years": (per_rep["placement_child_years"], "child-years"),
            "waiting_years": (per_rep["waiting_years"], "child-years waiting for a full step"),
            "overflows": (per_rep["overflows"], "children sent on by a full step"),
            "total_cost_discounted": (per_rep["total_cost_discounted"], money_label(self.scenario)),
        }
        return _summary_frame({k: (np.asarray(v), u) for k, (v, u) in rows.items()})


@dataclass(frozen=True, eq=False)
class Comparison:
    """A strategy against its baseline, replication by replication (CRN)."""

    base: Result
    strategy: Result
    arrays: dict[str, np.ndarray] = field(repr=False)
    perspective: str = "kommune"
    """Whose money the headline numbers count: a payer (``kommune``, ``region``, ``stat``) or ``society``."""

    @property
    def years(self) -> np.ndarray:
        return self.base.years

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
        """Placements avoided, investment, savings, NPV, ROI, payback (90 % intervals)."""
        a = self.arrays
        money = money_label(self.base.scenario) + f"; perspective: {self.perspective}"
        rows = {
            "placement_entries_avoided": (a["total_placement_entries_avoided"], "children, whole horizon"),
            "placement_child_years_avoided": (a["total_placement_child_years_avoided"], "child-years"),
            "placed_at_end_avoided": (a["total_placed_at_end_avoided"], "children placed at end"),
            "waiting_years_avoided": (
                a["total_waiting_years_avoided"],
                "child-years waiting for a full step",
            ),
            "overflows_avoided": (a["total_overflows_avoided"], "children sent on by a full step"),
            "investment_pv": (a["total_investment_pv"], money),
            "gross_savings_pv": (a["total_gross_savings_pv"], money),
            "npv": (a["total_npv"], money),
            "roi": (a["total_roi"], "net DKK back per DKK invested"),
            "payback_year": (a["total_payback_year"], "calendar year; none = not within horizon"),
        }
        if self.has_adult:
            projection = f"{money}; {PROJECTION}"
            rows["adult_consequences_avoided_pv"] = (a["total_adult_savings_pv"], projection)
            rows["npv_with_adult_consequences"] = (a["total_npv_with_adult"], projection)
            for key in self.adult_outcomes:
                rows[f"adult_{key}_change"] = (
                    a[f"total_adult_{key}_change"],
                    "persons above the reference share, among children leaving within the horizon; "
                    "projection, strategy minus baseline",
                )
        plain = money_label(self.base.scenario)
        for payer in PERSPECTIVES:
            rows[f"npv_{payer}"] = (a[f"total_npv_{payer}"], f"{plain}; paid by {payer}")
        df = _summary_frame(rows)
        pay = a["total_payback_year"]
        several = len(pay) > 1  # a share of one expected value is no probability
        share = pd.DataFrame(
            {
                "metric": ["share_paying_back", "share_npv_positive"],
                "mean": [
                    float(np.mean(~np.isnan(pay))) if several else np.nan,
                    float(np.mean(a["total_npv"] > 0)) if several else np.nan,
                ],
                "median": [np.nan, np.nan],
                "p5": [np.nan, np.nan],
                "p95": [np.nan, np.nan],
                "unit": ["share of replications"] * 2,
            }
        )
        return pd.concat([df, share], ignore_index=True)

    @cached_property
    def yearly(self) -> pd.DataFrame:
        """Per year: avoided placements, investment, savings, net (mean, p5, p95)."""
        a = self.arrays
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
            mean, lo, hi = _interval(a[key])
            data[key] = mean
            data[f"{key}_p5"] = lo
            data[f"{key}_p95"] = hi
        by_step = a["savings_by_step"].mean(axis=0)
        for i, s in enumerate(self.base.staircase.step_ids):
            data[f"savings_{s}"] = by_step[:, i]
        data["discount_factor"] = self.base.staircase.discount
        return pd.DataFrame(data)


def _summary_frame(rows: dict[str, tuple[np.ndarray, str]]) -> pd.DataFrame:
    out = []
    for name, (v, unit) in rows.items():
        v = np.asarray(v, dtype=float)
        # "No payback" counts as later than any year when ranking replications.
        ranked = np.where(np.isnan(v), np.inf, v)
        # Interpolating between "never" and a year, or between two years, means
        # nothing: payback years are order statistics.
        method = "inverted_cdf" if (np.isnan(v).any() or name == "payback_year") else "linear"
        lo, med, hi = np.percentile(ranked, [INTERVAL[0], 50, INTERVAL[1]], method=method)
        finite = v[~np.isnan(v)]
        # A mean of calendar years is not a year: payback is reported by its median.
        mean = float(finite.mean()) if len(finite) == len(v) and name != "payback_year" else np.nan
        if len(v) == 1:  # expected values: there is no interval to report
            lo = hi = np.nan
        out.append(
            {
                "metric": name,
                "mean": mean,
                "median": med if np.isfinite(med) else np.nan,
                "p5": lo if np.isfinite(lo) else np.nan,
                "p95": hi if np.isfinite(hi) else np.nan,
                "unit": unit,
            }
        )
    return pd.DataFrame(out)


def simulate(
    scenario: Scenario,
    replications: int = 20,
    seed: int = DEFAULT_SEED,
    engine: Engine = "des",
    workers: Workers = 1,
    progress: bool = False,
) -> Result:
    """Simulate one scenario (with its intervention, if it has one).

    Parameters
    ----------
    scenario : Scenario
    replications : int
        Independent replications (ignored by the expected engine, which has
        no randomness).
    seed : int
        Same scenario and seed give identical numbers.
    engine : {"des", "expected"}
        The discrete-event simulation, or the analytic expected values.
    workers : int, None, str or distributed.Client
        Processes to use (``None``: all cores), or a Dask scheduler address
        or client. Results are the same wherever they run.
    progress : bool
        Show a progress bar on the terminal (never in pipes or logs).

    Returns
    -------
    Result
    """
    R = _check(engine, replications)
    st = compile_staircase(scenario)
    runs = _map(_single, [(st, engine, seed, r) for r in range(R)], workers, progress)
    return Result(scenario, st, engine, seed, R, _stack(runs))


def expected(scenario: Scenario) -> Result:
    """Expected values from the analytic engine (milliseconds)."""
    return simulate(scenario, engine="expected")


PROJECTION = "projection of adult-life costs after the staircase, not a budget line"
"""The unit words of every adult-life money line: it is not a budget number."""


def check_pair(base: Scenario, strategy: Scenario) -> None:
    """Refuse a baseline and strategy that cannot be compared (``ValueError``, saying why)."""
    if base.step_ids != strategy.step_ids:
        raise ValueError("baseline and strategy must have the same steps in the same order")
    if (base.start_year, base.horizon_years) != (strategy.start_year, strategy.horizon_years):
        raise ValueError("baseline and strategy must have the same start year and horizon")
    if base.population.children != strategy.population.children:
        raise ValueError(
            f"baseline '{base.name}' and strategy '{strategy.name}' describe different areas "
            f"(population.children {base.population.children:,.0f} and {strategy.population.children:,.0f}); "
            "a strategy should extend the baseline it is compared with"
        )
    if base.adult != strategy.adult:
        # Otherwise the adult costs of one arm would count as avoided (or added).
        which = (
            "only one of them has" if (base.adult is None) != (strategy.adult is None) else "they differ in"
        )
        raise ValueError(
            f"baseline '{base.name}' and strategy '{strategy.name}' must count adult life alike, but "
            f"{which} an [adult] table; give both the same one (e.g. in a file both extend)"
        )


def compare(
    base: Scenario,
    strategy: Scenario,
    replications: int = 20,
    seed: int = DEFAULT_SEED,
    engine: Engine = "des",
    workers: Workers = 1,
    progress: bool = False,
    perspective: str = "kommune",
) -> Comparison:
    """Compare a strategy with its baseline using common random numbers.

    Parameters
    ----------
    base, strategy : Scenario
        Usually ``strategy`` extends ``base`` and adds an intervention.
    replications, seed, engine, workers
        As for :func:`simulate`.
    perspective : {"kommune", "region", "stat", "society"}
        Whose money the headline numbers count (default the municipality's,
        the budget a negotiation is about); the NPV of each payer and of
        society is always in the summary too.

    Returns
    -------
    Comparison
        ``.summary`` (placements avoided, NPV, ROI, payback with 90 %
        intervals) and ``.yearly``.
    """
    R = _check(engine, replications)
    check_perspective(perspective)  # before the simulation, not after
    check_pair(base, strategy)
    st_a, st_b = compile_staircase(base), compile_staircase(strategy)
    runs = _map(_pair, [(st_a, st_b, engine, seed, r) for r in range(R)], workers, progress)
    mb = _stack([r[0] for r in runs])
    ms = _stack([r[1] for r in runs])
    res_a = Result(base, st_a, engine, seed, R, mb)
    res_b = Result(strategy, st_b, engine, seed, R, ms)
    return Comparison(res_a, res_b, compare_arrays(mb, ms, st_a, st_b, perspective), perspective)
