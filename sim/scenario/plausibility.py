"""Plausible ranges and hard limits for the numbers in a scenario.

Validation (:mod:`sim.scenario`) says whether a file can be read; this
module says whether its numbers look like Danish child welfare. Two tables:

- :data:`LIMITS`, hard limits: values no real scenario has and the engines
  cannot turn into finite results (``1e308`` kroner, more children than any
  country has, rates so large that the matrix exponential loses its
  accuracy). They are refused at validation as a
  :class:`~sim.scenario.ScenarioError` naming file, key, value and the
  allowed range.
- :data:`PLAUSIBLE`, plausible ranges: values that can be computed but lie
  far outside the Danish figures the shipped scenarios come from (a hazard
  ratio of 85 meant as 0.85, a yearly cost of 1.2 meant as 1.2 million).
  :func:`check_scenario` returns them as :class:`Finding` s; the command line
  prints each as a warning before anything runs (``--strict`` stops), and
  :func:`sim.load_scenario` issues each as a :class:`PlausibilityWarning`.

:func:`check_arms` finds the numbers outside ``[intervention]`` that differ
between a baseline and its strategy: a unit cost or rate changed only in the
strategy would be counted as the strategy's effect.

Each row gives the reason or source of its bounds; the documentation's table is
made from these rows (:func:`markdown_table`), and a test keeps the two equal.
"""

from __future__ import annotations

import math
import os
import sys
import tomllib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, ScenarioError, extends_chain
from sim.scenario.distributions import UNIVARIATE


class PlausibilityWarning(UserWarning):
    """A number in a scenario lies outside its plausible range (see :data:`PLAUSIBLE`)."""


# How a value is measured against its bounds. Most are taken as written;
# some only make sense against the size of the area or another number.
AS_WRITTEN = ""
PER_1000_CHILDREN = "per 1,000 children"
PER_CHILD = "per child in the area"
OF_ENTRIES = "of the baseline's new cases"
CASELOAD = "caseload"
CASELOAD_WITH_EXTRA = "caseload with the extra caseworkers"
PRICE_FACTOR = "price factor"
RATE_TIMES_RATIO = "rate x hazard ratio"
ALL_ENTRIES = "all new cases a year"
INTERVAL_AT_CASELOAD = "interval at the caseload"


@dataclass(frozen=True)
class Bound:
    """One row of a table: the keys it covers, its bounds, their unit and reason.

    Parameters
    ----------
    keys : tuple of str
        Key paths as in scenario files and error messages; ``*`` stands for
        any one part (a step, a destination, a year).
    low, high : float
        The range, inclusive, in ``unit``.
    unit : str
        What the bounds count, e.g. ``"DKK per child-year"``.
    reason : str
        The source or the reasoning behind the bounds.
    measure : str
        How the value is measured: as written (``""``), or against the area
        or another number (:data:`PER_1000_CHILDREN`, :data:`PER_CHILD`, ...).
    zero_ok : bool
        ``0`` is allowed as "none" (a cost not counted) even below ``low``.
    bands : bool
        A number given per age band is checked band by band.
    money : bool
        A money amount: its bounds are in DKK, so they apply only to
        scenarios whose currency is DKK.
    """

    keys: tuple[str, ...]
    low: float
    high: float
    unit: str
    reason: str
    measure: str = AS_WRITTEN
    zero_ok: bool = False
    bands: bool = False
    money: bool = False

    def range_text(self) -> str:
        """The range in words: ``"0.2-5"``, ``"0, or 1,000-5,000,000 DKK per child-year"``."""
        joint = " to " if self.low < 0 or self.high < 0 else "-"
        text = f"{number(self.low)}{joint}{number(self.high)}"
        if math.isinf(self.high):
            return f"{number(self.low)} {self.unit} or more" if self.unit else f"{number(self.low)} or more"
        if self.zero_ok and self.low > 0:
            text = f"0, or {text}"
        return f"{text} {self.unit}" if self.unit else text


@dataclass(frozen=True)
class Finding:
    """A number outside its plausible range, or one that differs between two arms.

    ``str(finding)`` is the line the command line prints after
    ``trappesim: warning:``.
    """

    file: str
    key: str
    value: Any
    message: str
    bound: Bound | None = None
    other_file: str = ""
    other_value: Any = None

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}key '{self.key}': {self.message}"


def number(x: float) -> str:
    """A number for a message: ``1,160,000``, ``0.85``, ``1e+308``."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e13 or abs(x) < 1e-3):
        return f"{x:.3g}"
    if float(x).is_integer():
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:.3g}"


# ---------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------

# Figures the reasons quote, from the shipped scenarios and their sources.
_STAIRCASE_COST = (
    "the whole national staircase costs about 12,000 DKK per child in Denmark a year (14.1 bn DKK for "
    "1.17 million children in 2018, national baseline)"
)
_NOTIFIED = (
    "the 85,300 children notified a year (DST 2022) are 73 per 1,000 children and 2.1 times the "
    "40,000 who come onto the staircase"
)
_CASELOAD = "caseworkers carry about 48 cases, in Herning 24 (KORA 2015)"

PLAUSIBLE: tuple[Bound, ...] = (
    Bound(
        ("population.children",),
        100,
        1_500_000,
        "children",
        "Denmark has about 1.17 million children aged 0-17 (DST FOLK1A), its smallest municipalities a "
        "few hundred",
    ),
    Bound(
        ("population.entries_per_year",),
        1,
        150,
        "new cases a year per 1,000 children",
        f"the national baseline has 34 (40,000 new cases a year); {_NOTIFIED}",
        measure=PER_1000_CHILDREN,
    ),
    Bound(
        ("population.entries_per_1000_children",),
        1,
        150,
        "new cases a year per 1,000 children",
        f"the national baseline has 34 (40,000 new cases a year); {_NOTIFIED}",
    ),
    Bound(
        (
            "population.initial_stock.*.children",
            "steps.*.capacity.places",
            "intervention.extra_places.*.places",
        ),
        0,
        100,
        "children or places per 1,000 children",
        "the fullest step of the national baseline holds 24 per 1,000 children (home-based measures, start "
        "of 2018), all placed children together 10 per 1,000 (DST)",
        measure=PER_1000_CHILDREN,
    ),
    Bound(
        ("population.aftercare_until_age",),
        0,
        23,
        "years of age",
        "Danish aftercare (efterværn) ends at 23 at the latest",
    ),
    Bound(
        ("steps.*.cost_per_year",),
        1_000,
        5_000_000,
        "DKK per child-year",
        "the shipped costs run from 10,000 (early help, assumed) to 1,160,000 (institution, "
        "Benchmarkingenheden 2020); below 1,000 is no measure, a 'thousand' or 'million' left out; above "
        "is four times the dearest placement; 0 means not costed",
        zero_ok=True,
        money=True,
    ),
    Bound(
        ("steps.*.entry_cost",),
        100,
        2_500_000,
        "DKK per entry",
        "more than two years in an institution (1,160,000 a year, Benchmarkingenheden 2020) is no "
        "one-off cost; 0 means none",
        zero_ok=True,
        money=True,
    ),
    Bound(
        (
            "steps.*.duration.mean_years",
            "steps.*.duration.short_mean_years",
            "steps.*.duration.long_mean_years",
        ),
        0.02,
        25,
        "years",
        "from a week to a whole childhood with aftercare to 23; the shipped stays are 0.5 to 11 years",
    ),
    Bound(
        ("steps.*.duration.shape",),
        0.3,
        5,
        "",
        "a Weibull shape below 0.3 makes most stays near zero and a few endless; above 5 nearly every "
        "stay is equally long",
    ),
    Bound(
        ("steps.*.duration.sigma",),
        0.1,
        2.5,
        "",
        "a lognormal sigma of 2.5 puts the 95th percentile of a stay 60 times above its median; below 0.1 "
        "nearly every stay is equally long",
    ),
    Bound(
        ("steps.*.capacity.max_wait_years",),
        0,
        3,
        "years",
        "a wait of more than three years is a stay elsewhere, not a wait; the shipped wait is 3 months",
    ),
    Bound(
        ("steps.*.review.interval_months",),
        1,
        24,
        "months",
        "a placed child's plan is followed up within 3 months and then at least every 6; reviews more "
        "often than monthly or rarer than every two years are no practice",
    ),
    Bound(
        ("transitions.*.*",),
        0,
        12,
        "moves per child-year",
        "12 is a move a month on average; the fastest shipped rate is 4 a year, cases closing from 18 in "
        "aftercare, and most are below 1",
        bands=True,
    ),
    Bound(
        ("intervention.hazard_ratios.*.*",),
        0.2,
        5,
        "",
        "the evaluations behind the shipped ratios of 0.80-1.30 (KORA 2015, 2017; Socialstyrelsen 2018) "
        "show changes of tens of percent, none five-fold",
    ),
    Bound(
        ("intervention.entry.extra_entries_share",),
        0,
        1.2,
        "",
        f"{_NOTIFIED}; the shipped strategies find 10 % more",
    ),
    Bound(
        ("intervention.entry.extra_entries_per_year",),
        0,
        1.2,
        "times the baseline's new cases",
        _NOTIFIED,
        measure=OF_ENTRIES,
    ),
    Bound(
        ("intervention.cost_per_year", "intervention.one_off_cost"),
        1,
        20_000,
        "DKK per child in the area",
        f"the shipped strategies cost about 470 DKK per child a year; {_STAIRCASE_COST}; 0 means none",
        measure=PER_CHILD,
        zero_ok=True,
        money=True,
    ),
    Bound(
        ("intervention.cost_per_child_reached",),
        100,
        500_000,
        "DKK per child reached",
        "more than a year in foster care (470,000, Benchmarkingenheden 2020) per child is no early "
        "intervention; 0 means none",
        zero_ok=True,
        money=True,
    ),
    Bound(
        ("intervention.extra_places.*.cost_per_place_per_year",),
        1_000,
        1_500_000,
        "DKK per place a year",
        "the shipped 60,000 recruits and supports a foster family; more than an institution place "
        "(1,160,000) is no extra place; 0 means none",
        zero_ok=True,
        money=True,
    ),
    Bound(
        ("casework.cost_per_caseworker",),
        200_000,
        1_500_000,
        "DKK per caseworker a year",
        "about 500,000 DKK a caseworker a year (KORA 2015); 0 means not costed",
        zero_ok=True,
        money=True,
    ),
    Bound(
        ("casework.caseworkers",),
        5,
        100,
        "cases per caseworker",
        f"the caseload, casework.cases / caseworkers: {_CASELOAD}",
        measure=CASELOAD,
    ),
    Bound(
        ("intervention.extra_caseworkers",),
        5,
        100,
        "cases per caseworker",
        f"the caseload with them, casework.cases / (caseworkers + extra_caseworkers): {_CASELOAD}",
        measure=CASELOAD_WITH_EXTRA,
    ),
    Bound(
        ("casework.reference_caseload",),
        5,
        100,
        "cases per caseworker",
        _CASELOAD,
    ),
    Bound(
        ("discounting.periods.*.rate",),
        0,
        0.07,
        "a year, real",
        "Finansministeriet (2021) prescribes a real 3.5 %, falling to 1.5 % in the long run; a negative "
        "real rate, or one twice the prescribed, is far from Danish guidance",
    ),
    Bound(
        ("steps.*.price_year", "casework.price_year", "intervention.price_year", "adult.price_year"),
        0.5,
        2,
        "",
        "consumer prices rose 17 % from 2015 to 2023 (DST PRIS113); a factor beyond halving or doubling "
        "means a wrong index or year",
        measure=PRICE_FACTOR,
    ),
    Bound(
        ("adult.cost_per_year.*",),
        1_000,
        250_000,
        "DKK per person-year",
        "Rambøll 2012 puts the whole gap in net public contribution at up to 3.2 M DKK a life, 80,000 a "
        "year over 40 years; the shipped what-if counts half; 0 means none",
        zero_ok=True,
        bands=True,
        money=True,
    ),
    Bound(
        ("adult.outcomes.*.cost_per_year",),
        -500_000,
        500_000,
        "DKK per person-year",
        "a person-year of benefits, or of an average earner's taxes, is well below 500,000 DKK",
        money=True,
    ),
)
"""Plausible ranges: a value outside gets a warning (``--strict``: an error)."""

_HUGE_MONEY = "kroner is beyond anything real; far larger values made totals overflow and crash"

LIMITS: tuple[Bound, ...] = (
    Bound(
        (
            "steps.*.cost_per_year",
            "steps.*.entry_cost",
            "intervention.cost_per_child_reached",
            "intervention.extra_places.*.cost_per_place_per_year",
            "casework.cost_per_caseworker",
        ),
        0,
        1e9,
        "per child-year, entry, child, place or caseworker",
        f"a billion {_HUGE_MONEY}",
    ),
    Bound(
        ("adult.cost_per_year.*",),
        0,
        1e9,
        "per person-year",
        f"a billion {_HUGE_MONEY}",
        bands=True,
    ),
    Bound(
        ("adult.outcomes.*.cost_per_year",),
        -1e9,
        1e9,
        "per person-year",
        f"a billion {_HUGE_MONEY}",
    ),
    Bound(
        ("intervention.cost_per_year", "intervention.one_off_cost"),
        0,
        1e15,
        "",
        "hundreds of times Denmark's public spending in a year; break-even searches up to this cost",
    ),
    Bound(
        (
            "population.children",
            "population.initial_stock.*.children",
            "steps.*.capacity.places",
            "intervention.extra_places.*.places",
        ),
        0,
        1e9,
        "children or places",
        "more children than any country has",
    ),
    Bound(
        (
            "population.entries_per_year",
            "population.entries_per_1000_children",
            "intervention.entry.extra_entries_per_year",
            "intervention.entry.extra_entries_share",
        ),
        0,
        1e9,
        "new cases a year",
        "more children than any country has; checked on all new cases with the strategy's extra ones, "
        "under the key that adds the most",
        measure=ALL_ENTRIES,
    ),
    Bound(
        ("population.entries_per_1000_children",),
        0,
        1e6,
        "",
        "a thousand new cases per child a year",
    ),
    Bound(
        ("intervention.entry.extra_entries_share",),
        0,
        1_000,
        "",
        "a thousand times the baseline's new cases",
    ),
    Bound(
        (
            "casework.caseworkers",
            "casework.cases",
            "casework.reference_caseload",
            "intervention.extra_caseworkers",
        ),
        0,
        1e9,
        "",
        "more than any country has",
    ),
    Bound(
        ("transitions.*.*",),
        0,
        1e6,
        "moves per child-year",
        "a move every 30 seconds",
        bands=True,
    ),
    Bound(
        ("intervention.hazard_ratios.*.*",),
        0,
        1e9,
        "moves per child-year",
        "the rate the ratio scales times the ratio; the analytic engine loses its accuracy beyond "
        "about 1e12 moves per child-year",
        measure=RATE_TIMES_RATIO,
    ),
    Bound(
        (
            "steps.*.duration.mean_years",
            "steps.*.duration.short_mean_years",
            "steps.*.duration.long_mean_years",
        ),
        1e-4,
        1e4,
        "years",
        "about an hour to ten thousand years; shorter stays make rates the engines cannot follow",
    ),
    Bound(
        ("steps.*.duration.shape",),
        0.05,
        math.inf,
        "",
        "the Weibull scale is the mean over gamma(1 + 1 / shape), which overflows for shapes near 0.005",
    ),
    Bound(
        ("steps.*.duration.sigma",),
        0,
        10,
        "",
        "beyond 10 most stays round to nothing: the median stay is the mean times exp(-sigma^2 / 2)",
    ),
    Bound(
        ("steps.*.capacity.max_wait_years",),
        0,
        1_000,
        "years",
        "longer than any life",
    ),
    Bound(
        ("steps.*.review.interval_months",),
        0.01,
        math.inf,
        "months",
        "reviews every 7 hours, 1,200 a year, are each a step of the discrete-event engine; with casework "
        "the interval is scaled by casework.cases / caseworkers / reference_caseload, with and without the "
        "strategy's extra caseworkers",
        measure=INTERVAL_AT_CASELOAD,
    ),
    Bound(
        ("discounting.periods.*.rate",),
        -0.1,
        1,
        "a year",
        "at -10 % a year money 200 years on (a horizon and an adult life) counts 1.4 billion times",
    ),
    Bound(
        ("steps.*.price_year", "casework.price_year", "intervention.price_year", "adult.price_year"),
        0.001,
        1_000,
        "",
        "prices a thousandfold apart mean a wrong index",
        measure=PRICE_FACTOR,
    ),
)
"""Hard limits: a value outside is refused (exit code 2)."""


# ---------------------------------------------------------------------------
# Reading the values of a scenario by key
# ---------------------------------------------------------------------------


def _flatten(node: Any, parts: tuple[str, ...], out: list, whole: bool = False) -> list:
    """Every leaf of a scenario's plain data as (key parts, value); lists of tables by index.

    With ``whole``, a distribution table is one value, and so is a list.
    """
    if isinstance(node, dict) and not (whole and "dist" in node and parts[-1] != "duration"):
        for key, value in node.items():
            _flatten(value, (*parts, str(key)), out, whole)
    elif isinstance(node, list | tuple) and node and all(isinstance(v, dict) for v in node) and not whole:
        for i, value in enumerate(node):
            _flatten(value, (*parts, str(i)), out, whole)
    else:
        out.append((parts, node))
    return out


def _matches(pattern: str, key: str, bands: bool) -> bool:
    want, have = pattern.split("."), key.split(".")
    if bands and len(have) == len(want) + 1:
        have = have[:-1]
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have))


_Index = dict[tuple[str, int], list[tuple[int, Bound, tuple[str, ...]]]]
_INDEX: dict[int, _Index] = {}
_ROWS_OF: dict[int, dict[tuple[str, ...], list[tuple[int, Bound]]]] = {}
"""By table: the rows covering a key's parts, in the table's order (see :func:`_rows`)."""


def _index(table: tuple[Bound, ...]) -> _Index:
    # The rows by the first part and length of the keys they cover (checks run at every validation).
    if id(table) not in _INDEX:
        index: _Index = {}
        for row, bound in enumerate(table):
            for i, pattern in enumerate(bound.keys):
                parts = tuple(pattern.split("."))
                lengths = (len(parts), len(parts) + 1) if bound.bands else (len(parts),)
                for n in lengths:  # in the order of the table and its keys
                    index.setdefault((parts[0], n), []).append((1000 * row + i, bound, parts))
        _INDEX[id(table)] = index
    return _INDEX[id(table)]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _values(scenario: Scenario) -> list[tuple[tuple[str, ...], Any]]:
    # The resolved numbers (an uncertain number holds its mean), by key parts.
    return _numbers(scenario.model_dump(mode="python", exclude_none=True), (), [])


def _numbers(node: dict, parts: tuple[str, ...], out: list) -> list:
    """The numbers among :func:`_flatten`'s leaves of ``node``, in the same order.

    Its walk with the type tests inlined: the limits are checked at every
    validation, and the page validates at every lever move.
    """
    for key, value in node.items():
        name = key if type(key) is str else str(key)
        kind = type(value)
        if kind is float or kind is int:
            out.append(((*parts, name), value))
        elif kind is dict:
            _numbers(value, (*parts, name), out)
        elif kind is list or kind is tuple:
            if value and all(isinstance(v, dict) for v in value):
                for i, item in enumerate(value):
                    _numbers(item, (*parts, name, str(i)), out)
        elif isinstance(value, dict):
            _numbers(value, (*parts, name), out)
        elif _is_number(value):  # a subclass of int or float (bool is not a number here)
            out.append(((*parts, name), value))
    return out


def _rate(scenario: Scenario, src: str, dst: str) -> float:
    rate = scenario.transitions.get(src, {}).get(dst, 0.0)
    return max(rate.values()) if isinstance(rate, dict) else rate


def _price_factor(scenario: Scenario, year: int) -> float | None:
    # What a line's price year multiplies its costs by (None: no index; validation says so).
    if scenario.prices is None:
        return None
    index = scenario.prices.index
    if str(year) not in index or str(scenario.price_year) not in index:
        return None
    return index[str(scenario.price_year)] / index[str(year)]


def _measured(bound: Bound, scenario: Scenario, key: str, value: float) -> tuple[float, str] | None:
    """The value as the bound measures it, and how to show that (``""``: as written).

    ``None`` when the measure does not apply (no casework, no prices).
    """
    m = bound.measure
    if m == AS_WRITTEN:
        return value, ""
    children = scenario.population.children
    if m == PER_1000_CHILDREN:
        v = value / children * 1000
        return v, f"{number(v)} per 1,000 of the {number(children)} children in population.children"
    if m == PER_CHILD:
        v = value / children
        return v, f"{number(v)} DKK per child of the {number(children)} in population.children"
    if m == OF_ENTRIES:
        base = scenario.entries_per_year
        v = value / base if base > 0 else (math.inf if value > 0 else 0.0)
        return v, f"{number(v)} times the baseline's {number(base)} new cases a year"
    cw = scenario.casework
    if m in (CASELOAD, CASELOAD_WITH_EXTRA):
        if cw is None:
            return None
        workers = cw.caseworkers
        if m == CASELOAD_WITH_EXTRA:
            if not value:
                return None  # no extra caseworkers: the caseload is checked on casework.caseworkers
            workers += value
        v = cw.cases / workers
        return v, f"a caseload of {number(v)} cases per caseworker"
    if m == PRICE_FACTOR:
        factor = _price_factor(scenario, int(value))
        if factor is None:
            return None
        return factor, f"price factor {number(factor)} to {scenario.price_year} prices"
    if m == RATE_TIMES_RATIO:
        _, _, src, dst = key.split(".")
        v = _rate(scenario, src, dst) * value
        return v, f"{number(v)} moves per child-year on a rate of {number(_rate(scenario, src, dst))}"
    if m == ALL_ENTRIES:
        iv = scenario.intervention
        v = scenario.entries_per_year
        if iv is not None:
            v += iv.entry.extra_entries_per_year + iv.entry.extra_entries_share * scenario.entries_per_year
        return v, f"{number(v)} new cases a year in all"
    if m == INTERVAL_AT_CASELOAD:
        if cw is None:
            return value, ""
        workers = cw.caseworkers + (scenario.intervention.extra_caseworkers if scenario.intervention else 0.0)
        factor = min(cw.cases / cw.caseworkers, cw.cases / workers) / cw.reference_caseload
        v = value * factor
        return v, f"{number(v)} months at the caseload"
    raise ValueError(f"unknown measure {m!r}")  # pragma: no cover - a table error


def _outside(bound: Bound, v: float) -> bool:
    if bound.zero_ok and v == 0:
        return False
    return not (bound.low <= v <= bound.high)


def _rows(table: tuple[Bound, ...], scenario: Scenario) -> Iterator[tuple[Bound, str, float]]:
    """(bound, key, value) for every number a row of ``table`` covers, in the order of the table."""
    index = _index(table)
    rows_of = _ROWS_OF.setdefault(id(table), {})
    if len(rows_of) > 100_000:  # keys are a scenario's paths: few, but a long session may see many files
        rows_of.clear()
    hits: list[tuple[int, str, Bound, float]] = []
    entries_key = None
    for parts, value in _values(scenario):
        matched = rows_of.get(parts)
        if matched is None:  # the rows whose patterns cover this key, once per key (checks run per draw)
            candidates = index.get((parts[0], len(parts)), ())
            matched = rows_of[parts] = [
                (row, bound)
                for row, bound, want in candidates
                if all(w in ("*", h) for w, h in zip(want, parts))
            ]
        if not matched:
            continue
        key = ".".join(parts)
        for row, bound in matched:
            if bound.money and table is PLAUSIBLE and scenario.currency != "DKK":
                continue  # the plausible money ranges are Danish kroner
            if bound.measure == ALL_ENTRIES:
                entries_key = entries_key or _entries_key(scenario)
                if key != entries_key:
                    continue
            hits.append((row, key, bound, value))
    for _, key, bound, value in sorted(hits, key=lambda h: h[0]):
        yield bound, key, value


def _entries_key(scenario: Scenario) -> str:
    # New cases in all are checked once, under the key that adds the most of them.
    p = scenario.population
    parts = {
        "population.entries_per_year"
        if p.entries_per_year is not None
        else "population.entries_per_1000_children": scenario.entries_per_year
    }
    iv = scenario.intervention
    if iv is not None:
        parts["intervention.entry.extra_entries_per_year"] = iv.entry.extra_entries_per_year
        parts["intervention.entry.extra_entries_share"] = (
            iv.entry.extra_entries_share * scenario.entries_per_year
        )
    return max(parts, key=lambda k: parts[k])


# ---------------------------------------------------------------------------
# Which file writes a key
# ---------------------------------------------------------------------------


def origin(path: str | Path | None, key: str) -> str:
    """The file that writes ``key``: ``path`` or the nearest file it ``extends`` that has it.

    Falls back to ``path`` (a default value, or a scenario not read from a file).
    """
    if path is None:
        return ""
    path = Path(path)
    if not path.is_file():
        return str(path)
    for file in [path, *extends_chain(path)]:
        try:
            node: Any = tomllib.loads(file.read_text(encoding="utf-8-sig"))
        except (OSError, tomllib.TOMLDecodeError):
            break
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = None
                break
        if node is not None:
            return os.path.normpath(file)  # "sub/../base.toml" as "base.toml"
    return str(path)


# ---------------------------------------------------------------------------
# Hard limits
# ---------------------------------------------------------------------------

# Draws of an uncertain number reach its 1e-9 and 1 - 1e-9 quantiles (the
# global sensitivity analysis clips its quantiles there).
_TAIL = 1e-9


def check_limits(scenario: Scenario, file: str | Path | None = None, ratios: bool = True) -> None:
    """Refuse a value beyond its hard limit (:data:`LIMITS`).

    Called by validation; an uncertain number's mean and its draws (up to its
    1 - 1e-9 quantile) must stay within the limits. With ``ratios=False``
    the hazard ratios' limit is not checked (``with_changes``: break-even
    scales the ratios far beyond it while it searches).

    Raises
    ------
    ScenarioError
        Naming the file, key, value and the allowed range.
    """
    for bound, key, value in _rows(LIMITS, scenario):
        if bound.measure == RATE_TIMES_RATIO and not ratios:
            continue
        got = _measured(bound, scenario, key, value)
        if got is None:
            continue
        v, shown = got
        if _outside(bound, v):
            said = f"value {number(value)}" + (f" ({shown})" if shown else "")
            raise ScenarioError(
                origin(file, key) if file else "",
                key,
                f"{said} is outside the allowed range {bound.range_text()}: {bound.reason}",
            )
    tails = {u.path: u for u in scenario.uncertain if u.dist in UNIVARIATE}
    if not tails:
        return
    for bound in LIMITS:
        if bound.measure not in (AS_WRITTEN, RATE_TIMES_RATIO) or (bound.measure and not ratios):
            continue
        for path, u in tails.items():
            if not any(_matches(p, path, bound.bands) for p in bound.keys):
                continue
            # The draws reach its 1 - 1e-9 quantile; the tornado uses its bounds, if given, as they are.
            top = _quantiles(u, (1 - _TAIL,))[0]
            reach = [(top, f"a draw of this {u.dist} distribution can reach", "its 1 - 1e-9 quantile")]
            reach += [(float(b), "its tornado bounds set it to", "") for b in u.spec.get("bounds", ())]
            for value, said, which in reach:
                v, shown = _measured(bound, scenario, path, value)
                if _outside(bound, v):
                    notes = "; ".join(x for x in (which, shown) if x)
                    raise ScenarioError(
                        origin(file, path) if file else "",
                        path,
                        f"{said} {number(value)}{f' ({notes})' if notes else ''}, outside the allowed range "
                        f"{bound.range_text()}: {bound.reason}",
                    )


# ---------------------------------------------------------------------------
# Plausible ranges
# ---------------------------------------------------------------------------


_QUANTILES: dict[str, tuple[float, ...]] = {}


def _quantiles(u: Any, q: tuple[float, ...]) -> tuple[float, ...]:
    # scipy builds a distribution in milliseconds, and validation runs often: remember them.
    key = repr((sorted(u.spec.items()), q))
    if key not in _QUANTILES:
        if len(_QUANTILES) > 10_000:
            _QUANTILES.clear()
        _QUANTILES[key] = tuple(float(x) for x in u.draw_quantiles(q))
    return _QUANTILES[key]


def _percentiles(scenario: Scenario) -> dict[str, tuple[float, float, str]]:
    # An uncertain number's 1st and 99th percentiles.
    out = {}
    for u in scenario.uncertain:
        if u.dist in UNIVARIATE:
            lo, hi = _quantiles(u, (0.01, 0.99))
            out[u.path] = (lo, hi, u.dist)
    return out


def check_scenario(scenario: Scenario, file: str | Path | None = None) -> list[Finding]:
    """Every number of ``scenario`` outside its plausible range (:data:`PLAUSIBLE`).

    An uncertain number is checked at its mean (the value runs use) and at
    its 1st and 99th percentiles.

    Parameters
    ----------
    scenario : Scenario
    file : str or Path, optional
        The scenario's file; each finding names the file (it or one it
        ``extends``) that writes the number.

    Returns
    -------
    list of Finding
        Empty for the shipped scenarios.

    Examples
    --------
    >>> from sim import load_scenario
    >>> plan = load_scenario("scenarios/municipality-early-detection.toml")
    >>> check_scenario(plan, "scenarios/municipality-early-detection.toml")
    []
    >>> plan = plan.with_changes({"intervention.hazard_ratios.home.foster": 0.05}, warn=False)
    >>> for finding in check_scenario(plan, "my-strategy.toml"):
    ...     print(finding)  # doctest: +ELLIPSIS
    my-strategy.toml: key 'intervention.hazard_ratios.home.foster': value 0.05 is outside the plausible range 0.2-5 ...
    """
    found: list[Finding] = []
    spread = _percentiles(scenario)
    for bound, key, value in _rows(PLAUSIBLE, scenario):
        got = _measured(bound, scenario, key, value)
        if got is None:
            continue
        v, shown = got
        candidates = [(v, value, shown, "")]
        if key in spread and bound.measure in (AS_WRITTEN, PER_1000_CHILDREN, PER_CHILD, OF_ENTRIES):
            lo, hi, dist = spread[key]
            for q, name in ((lo, "1st"), (hi, "99th")):
                got_q = _measured(bound, scenario, key, q)
                if got_q is not None:
                    candidates.append(
                        (got_q[0], q, got_q[1], f"the {name} percentile of its {dist} distribution")
                    )
        for measured, written, how, which in candidates:
            if _outside(bound, measured):
                said = f"value {number(written)}"
                notes = [x for x in (which, how) if x]
                if notes:
                    said += f" ({'; '.join(notes)})"
                message = f"{said} is outside the plausible range {bound.range_text()} ({bound.reason})"
                if not which and bound.measure == AS_WRITTEN and bound.high <= 1.5 < measured <= 100:
                    message += (
                        f"; a share or rate is written as a fraction: if {number(written)} % is meant, "
                        f"write {number(written / 100)}"
                    )
                found.append(Finding(origin(file, key), key, written, message, bound))
                break  # one finding per key: the mean if it is out, else the first percentile out
    return (
        found
        + _price_year_inherited(scenario, file)
        + _starts_after_horizon(scenario, file)
        + _costs_nothing(scenario, file)
        + _clock_speeds(scenario, file)
    )


def _costs_nothing(scenario: Scenario, file: str | Path | None) -> list[Finding]:
    """A strategy with an effect and no cost at all: its NPV is savings alone, its return per krone none."""
    iv = scenario.intervention
    if iv is None or not iv.has_effect or iv.extra_places or iv.extra_caseworkers:
        return []
    if iv.cost_per_year or iv.one_off_cost or iv.cost_per_child_reached:
        return []
    return [
        Finding(
            origin(file, "intervention.cost_per_year"),
            "intervention.cost_per_year",
            iv.cost_per_year,
            "the strategy changes how children move but costs nothing (cost_per_year, one_off_cost and "
            "cost_per_child_reached are all 0): its net present value is its savings alone and it pays back "
            "at once; give what it costs",
        )
    ]


CLOCK_SPEED = 10.0
"""How many times faster (or slower) a duration law's clock may run in another age band before a warning."""


def _clock_speeds(scenario: Scenario, file: str | Path | None) -> list[Finding]:
    """A step with a duration law whose total rate out differs a lot between age bands.

    Its law holds in the first band with rates out; elsewhere its stays are
    as many times shorter as the band's total rate is higher, which a file
    that meant the rates only to say where children go did not intend.
    """
    from sim.model.staircase import FASTEST_CLOCK, band_clocks

    found = []
    for step, ref, band, speed in band_clocks(scenario):
        if 1 / CLOCK_SPEED <= speed <= CLOCK_SPEED:
            continue
        if speed == 0:
            message = (
                f"the rates out of '{step}' total 0 in age band '{band}', where they are positive in "
                f"'{ref}' and its duration law holds: its clock stops in '{band}', so a stay there ends "
                "only when the child leaves by age; give the band its rates out"
            )
        else:
            n = number(float(f"{max(speed, 1 / speed):.3g}"))  # 900, not 899.9999999999999
            much, long = (
                (f"{n} times as much", f"1/{n} as long")
                if speed > 1
                else (f"1/{n} as much", f"{n} times as long")
            )
            if speed >= FASTEST_CLOCK:  # the engines' clocks stop speeding up there
                much = f"at least {much}"
            message = (
                f"the rates out of '{step}' total {much} in age band '{band}' as in '{ref}', where its "
                f"duration law holds: its stays in '{band}' last {long} as the law says; if the rates "
                "only say where children go, give them the same total in every band"
            )
        key = f"transitions.{step}"
        found.append(Finding(origin(file, key), key, speed, message))
    return found


def _starts_after_horizon(scenario: Scenario, file: str | Path | None) -> list[Finding]:
    """A strategy that starts after the last simulated year: every figure of it would be zero."""
    iv = scenario.intervention
    last = scenario.start_year + scenario.horizon_years - 1
    if iv is None or iv.start_year <= last:
        return []
    return [
        Finding(
            origin(file, "intervention.start_year"),
            "intervention.start_year",
            iv.start_year,
            f"{iv.start_year} is after the last simulated year, {last}: the strategy does nothing within "
            f"the horizon, so every difference is zero (start it by {last}, or lengthen horizon_years)",
        )
    ]


_MONEY_KEYS = ("cost_per_year", "entry_cost", "one_off_cost", "cost_per_child_reached", "cost_per_caseworker")


def _price_year_inherited(scenario: Scenario, file: str | Path | None) -> list[Finding]:
    """A ``price_year`` that differs from the one of the file it extends, whose money it inherits.

    The money written in the extended file is in that file's price year; under
    another ``price_year`` it is counted in that year's prices, not indexed (a
    planner writing this year's budget year relabels 2019 costs as 2024's).
    """
    if file is None or not os.path.isfile(file):
        return []
    chain = [Path(file), *extends_chain(file)]
    data = []
    for path in chain:
        try:
            data.append(tomllib.loads(path.read_text(encoding="utf-8-sig")))
        except (OSError, tomllib.TOMLDecodeError):
            return []
    setters = [i for i, d in enumerate(data) if "price_year" in d]
    if len(setters) < 2 or data[setters[0]]["price_year"] == data[setters[1]]["price_year"]:
        return []
    near, far = setters[0], setters[1]
    year, theirs = data[near]["price_year"], data[far]["price_year"]
    # Keys written in the files from the one that sets price_year on, and those they inherit.
    own = {".".join(k) for d in data[: near + 1] for k, _ in _flatten(d, (), [], whole=True)}
    inherited = [
        k
        for d in data[near + 1 :]
        for k, _ in _flatten(d, (), [], whole=True)
        if k[-1] in _MONEY_KEYS and ".".join(k) not in own and not _own_price_year(scenario, k)
    ]
    if not inherited:
        return []
    example = ".".join(inherited[0])
    return [
        Finding(
            str(chain[near]),
            "price_year",
            year,
            f"{year} differs from the price year {theirs} of {chain[far].name}, which this file extends: "
            f"the {len({tuple(k) for k in inherited})} money figure(s) written there (e.g. '{example}') are "
            f"{theirs} figures and are counted as {year} prices without indexing; write them again in "
            f"{year} prices, or give their tables price_year = {theirs} (with a [prices] index)",
        )
    ]


def _own_price_year(scenario: Scenario, key: tuple[str, ...]) -> bool:
    """Whether the table holding a money key says its own price year (it is then indexed)."""
    node: Any = scenario
    for part in key[:-1]:
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return False
    return getattr(node, "price_year", None) is not None


# Keys that may differ between arms: what a strategy is, and what it is called.
_OWN_KEYS = ("intervention", "name", "title", "title_en", "description", "extends", "language")


def _arm_values(scenario: Scenario) -> dict[str, Any]:
    data = scenario.to_dict()  # distributions as written
    leaves = _flatten({k: v for k, v in data.items() if k not in _OWN_KEYS}, (), [], whole=True)
    return {".".join(parts): value for parts, value in leaves}


def _shown(value: Any) -> str:
    if value is None:
        return "not given"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'  # as TOML writes it
    return number(value) if _is_number(value) else str(value)


def check_arms(
    base: Scenario,
    strategy: Scenario,
    base_file: str | Path | None = None,
    strategy_file: str | Path | None = None,
) -> list[Finding]:
    """Numbers outside ``[intervention]`` that differ between a baseline and its strategy.

    A comparison counts every difference between its arms as the strategy's
    effect: a unit cost, rate or price changed only in the strategy file is a
    price change presented as a saving. Numbers given as distributions
    differ when their distributions differ.

    Returns
    -------
    list of Finding
        One per key, naming both files and both values.
    """
    fa, fb = str(base_file or base.name), str(strategy_file or strategy.name)
    found = []
    # Two files given in the wrong order, or one file twice, run without a word otherwise.
    if base.intervention is not None and strategy.intervention is None:
        found.append(
            Finding(
                f"{fa} and {fb}",
                "intervention",
                None,
                f"the baseline {fa} has a strategy and the strategy {fb} has none: are the two files given "
                "in the wrong order? (baseline first, then the strategy)",
            )
        )
    elif base.input_hash() == strategy.input_hash():
        found.append(
            Finding(
                f"{fa} and {fb}",
                "intervention",
                None,
                "the baseline and the strategy are the same scenario: every difference between them is zero",
            )
        )
    a, b = _arm_values(base), _arm_values(strategy)
    for key in {**a, **b}:  # in the order of the files
        va, vb = a.get(key), b.get(key)
        numeric = any(_is_number(v) or isinstance(v, dict | list | tuple) for v in (va, vb))
        if va == vb or not numeric:
            continue
        found.append(
            Finding(
                f"{fa} and {fb}",
                key,
                vb,
                f"{_shown(va)} in {fa}, {_shown(vb)} in {fb}: a number outside [intervention] that differs "
                "between the arms is counted as the strategy's effect; give it once, in the baseline (a "
                "strategy's changes belong in [intervention])",
                None,
                fa,
                va,
            )
        )
    return found


# ---------------------------------------------------------------------------
# The documentation's table (docs/reference/checks.md)
# ---------------------------------------------------------------------------


def warnings_of(scenarios: dict[str, Scenario], files: dict[str, str | Path] | None = None) -> list[str]:
    """Every warning about a run's scenarios, once each: implausible numbers, and numbers a baseline
    and its strategy differ in outside ``[intervention]``.

    ``scenarios`` by role (``"scenario"``, or ``"baseline"`` and ``"strategy"``); ``files`` the file
    of each role, named in the warnings (default: the scenario's name). What the command line prints
    before a run, and what a results folder's manifest and reports carry after it.
    """
    files = {role: (files or {}).get(role) or scenario.name for role, scenario in scenarios.items()}
    findings = []
    for role, scenario in scenarios.items():
        findings += check_scenario(scenario, files[role])
    if "baseline" in scenarios and "strategy" in scenarios:
        base, strategy = scenarios["baseline"], scenarios["strategy"]
        findings += check_arms(base, strategy, files["baseline"], files["strategy"])
    # A number both arms inherit from one file is reported once.
    once: dict[tuple, str] = {}
    for f in findings:
        where = os.path.realpath(f.file) if os.path.isfile(f.file) else f.file
        once.setdefault((where, f.key, f.message), str(f))
    return list(once.values())


def _keys_text(bound: Bound) -> str:
    keys = ", ".join(f"`{k}`" for k in bound.keys)
    return keys + (" (and per age band)" if bound.bands else "")


def markdown_table(table: tuple[Bound, ...] = PLAUSIBLE) -> str:
    """A table for the documentation: keys, range with units, and the reason of each row."""
    lines = ["| key | range | reason |", "|---|---|---|"]
    for b in table:
        measured = f" ({b.measure})" if b.measure else ""
        lines.append(f"| {_keys_text(b)}{measured} | {b.range_text()} | {b.reason} |")
    return "\n".join(lines) + "\n"


def caller_level() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside the library's core.

    That is the user's line (``sim.compare("a.toml", ...)`` in a notebook),
    or the command line's or the page's code, which filter these warnings by
    module and say them in their own words. Counted from the function that
    calls ``warnings.warn``.
    """
    frame = sys._getframe(2)  # the caller of the function that warns
    level = 2
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not name.startswith("sim.") or name.startswith(("sim.cli", "sim.serve")):
            return level
        frame, level = frame.f_back, level + 1
    return level


def warn_changed(scenario: Scenario, changes: dict[str, Any]) -> None:
    """A :class:`PlausibilityWarning` for each finding under a key ``changes`` set (or a table it set).

    A rule measured under another key (a rate times the hazard ratio that
    scales it is said under the ratio's key) is not said for a change of
    the rate: :func:`check_scenario` gives every finding. Attributed as
    :func:`caller_level` says.
    """
    keys = tuple(changes)
    for finding in check_scenario(scenario, "<changes>"):
        if any(finding.key == k or finding.key.startswith((k + ".", k + "[")) for k in keys):
            warnings.warn(PlausibilityWarning(str(finding)), stacklevel=caller_level())


def warn_arms(base: Scenario, strategy: Scenario) -> None:
    """A :class:`PlausibilityWarning` for each number outside ``[intervention]`` the arms differ in
    (:func:`check_arms`), attributed as :func:`caller_level` says."""
    for finding in check_arms(base, strategy):
        warnings.warn(PlausibilityWarning(str(finding)), stacklevel=caller_level())
