"""The scenario file's schema: every table and key, as frozen pydantic models.

A scenario is data: these models say what each key holds and what is allowed.
Cross-field checks are in :mod:`sim.scenario.checks`; reading files and the
translation of pydantic's errors into :class:`ScenarioError` in
:mod:`sim.scenario.files` and :mod:`sim.scenario.validation`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StrictBool,
    ValidationError,
    model_validator,
)

from sim.errors import ScenarioError
from sim.scenario.distributions import Uncertain, apply_draw

CLOSED = "closed"
"""Name of the pseudo-destination "case closed" in transition tables."""

FM_DISCOUNTING = (
    {"from_year": 0, "rate": 0.035},
    {"from_year": 36, "rate": 0.025},
    {"from_year": 71, "rate": 0.015},
)
"""Finansministeriet (2021): real rate 3.5 % years 0-35, 2.5 % 36-70, then 1.5 %."""
FM_SOURCE = "Finansministeriet 2021"


def tidy(x: float) -> float:
    """``x`` without the binary noise of a product: ``0.1 * 0.7`` as 0.07, not 0.06999999999999999.

    Rounded to 15 significant digits, far below any figure's rounding, so a
    number a lever or a search sets reads in a file as it was meant.
    """
    return float(f"{x:.15g}")


def _is_fm(periods: Any) -> bool:
    """Whether discount periods (as written, or as models) are Finansministeriet's."""
    try:
        given = [
            (p["from_year"], p["rate"]) if isinstance(p, dict) else (p.from_year, p.rate) for p in periods
        ]
    except (TypeError, KeyError, AttributeError):
        return False  # not periods at all: validation says so
    return given == [(p["from_year"], p["rate"]) for p in FM_DISCOUNTING]


# ---------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars as Python numbers, tables and lists copied."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    # A NumPy scalar (np.int64 is no int; np.float64 is a float already), without importing NumPy.
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()  # a scalar; an array is left for validation to refuse
    return value


class _Model(BaseModel):
    # The docstring under each field is its description (documentation, JSON Schema).
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# Numbers are strict: a string ("850") or a boolean is refused, not converted.
NonNeg = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Pos = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=0)]
"""A number of children: a whole number."""
Year = Annotated[int, Strict(), Field(ge=1900, le=2200)]
PAYERS = ("kommune", "region", "stat")
"""Who pays, as in Socialstyrelsen's SØM: the municipality, the region, the state."""
PERSPECTIVES = (*PAYERS, "society")
"""Whose money the budget numbers count: one payer's, or everyone's."""
Payers = dict[Literal["kommune", "region", "stat"], Share]
"""Shares of a cost line by payer; they must sum to 1. Default: the municipality pays all."""


class Exponential(_Model):
    """Exponential stay: the step's rates are hazards (the default)."""

    dist: Literal["exponential"] = "exponential"
    """Always ``"exponential"``; the default, so a step without ``duration`` has exponential stays."""


class Mixture(_Model):
    """Two groups of exponential stays, short and long (hyperexponential)."""

    dist: Literal["mixture"]
    """Always ``"mixture"``."""
    short_share: Annotated[float, Strict(), Field(gt=0, lt=1)]
    """The share of stays that are short. Unit: share, strictly between 0 and 1."""
    short_mean_years: Pos
    """The mean length of a short stay. Unit: years."""
    long_mean_years: Pos
    """The mean length of a long stay. Unit: years."""


class Weibull(_Model):
    """Weibull stay with a given mean and shape (discrete-event engine only)."""

    dist: Literal["weibull"]
    """Always ``"weibull"``."""
    mean_years: Pos
    """The mean length of a stay. Unit: years."""
    shape: Pos
    """The Weibull shape: below 1 many short stays and a long tail, 1 exponential, above 1 stays of more even length. Unit: none."""


class Lognormal(_Model):
    """Lognormal stay with a given mean and log-sd (discrete-event engine only)."""

    dist: Literal["lognormal"]
    """Always ``"lognormal"``."""
    mean_years: Pos
    """The mean length of a stay. Unit: years."""
    sigma: Pos
    """The standard deviation of the logarithm of a stay's length: the larger, the more uneven the stays. Unit: none."""


Duration = Annotated[Exponential | Mixture | Weibull | Lognormal, Field(discriminator="dist")]


class Capacity(_Model):
    """Places on a step, and what happens to a child due to move onto it when it is full.

    The child waits (first come first served, or by age) on its current step,
    or on ``wait_on``; with ``overflow_to`` it goes to that step instead, at
    once or after ``max_wait_years``.
    """

    places: Count | Literal["unlimited"]
    """The number of places on the step (children it can hold at once), or ``"unlimited"``. Unit: places."""
    overflow_to: str | None = None
    """The step a child goes to instead when this step is full: at once, or after ``max_wait_years``. Default: none, the child waits."""
    max_wait_years: NonNeg | None = None
    """With ``overflow_to``: how long a child waits before it is sent on (0 or left out: at once). Unit: years."""
    wait_on: str | None = None
    """The step a child waits on (and is costed on) while this step is full. Default: the step it is on; a new case waits on the highest step below without a limit."""
    queue: Literal["fifo", "oldest_first", "youngest_first"] = "fifo"
    """The order in which waiting children are admitted: first come first served, oldest first or youngest first."""
    source: str = ""
    """Where the numbers in this table come from (quoted in the report for lines without a comment of their own)."""


class Review(_Model):
    """Case reviews: some moves happen only at a review, with a probability per review."""

    interval_months: Pos
    """The time between case reviews, from the start of a stay (at the reference caseload, with ``[casework]``); a child on the step when the simulation starts has its first review after a random part of an interval. Unit: months."""
    moves: dict[str, Share]
    """The moves that happen only at a review, and the probability of each at one review, by destination step (or ``"closed"``). Unit: probability per review, 0-1."""
    source: str = ""
    """Where the numbers in this table come from."""


class Step(_Model):
    """One step of the staircase."""

    name_da: str
    """The step's name in Danish, for charts, workbook and report."""
    name_en: str
    """The step's name in English."""
    placement: StrictBool = False
    """Whether the step is a placement (anbringelse) outside the home: it then counts in new placements and placed children."""
    cost_per_year: NonNeg = 0.0
    """What a child-year on this step costs. Unit: DKK per child-year, in the scenario's price year (or this step's ``price_year``)."""
    entry_cost: NonNeg = 0.0
    """A one-off cost each time a child enters this step. Unit: DKK per entry, in the scenario's price year (or this step's ``price_year``)."""
    duration: Duration = Exponential()
    """How long a stay lasts: a table with ``dist = "exponential"`` (the default), ``"mixture"``, ``"weibull"`` or ``"lognormal"`` and its parameters."""
    capacity: Capacity | None = None
    """Places on this step, and what happens when they are full (``[steps.<step>.capacity]``). Default: no limit."""
    review: Review | None = None
    """Case reviews on this step, at which some moves happen (``[steps.<step>.review]``). Default: none, every move has a rate."""
    payers: Payers | None = None
    """Who pays this step's costs: shares for ``kommune``, ``region`` and ``stat`` that sum to 1. Default: the municipality (kommune) pays all. Unit: shares 0-1."""
    price_year: Year | None = None
    """The price year of this step's costs, if not the scenario's (needs ``[prices]``). Unit: calendar year."""
    source: str = ""
    """Where this step's numbers come from (quoted in the report for lines without a comment of their own)."""


class Casework(_Model):
    """Caseworkers: their cost, and how their caseload sets the review interval.

    A step's ``review.interval_months`` holds at ``reference_caseload``; with
    ``cases / caseworkers`` cases per caseworker the interval scales in
    proportion (half the caseload, reviews twice as often).
    """

    caseworkers: Pos
    """The caseworkers (sagsbehandlere) who carry the cases. Unit: caseworkers (full-time)."""
    cost_per_caseworker: NonNeg = 0.0
    """What a caseworker costs a year, counted as a programme cost in both arms. Unit: DKK a year per caseworker, in the scenario's price year (or ``price_year``)."""
    cases: Pos
    """The cases the caseworkers carry. Unit: cases."""
    reference_caseload: Pos
    """The caseload (cases per caseworker) at which the steps' ``review.interval_months`` hold. Unit: cases per caseworker."""
    payers: Payers | None = None
    """Who pays the caseworkers (a strategy's extra ones included): shares for ``kommune``, ``region``, ``stat`` that sum to 1. Default: the municipality pays all. Unit: shares 0-1."""
    price_year: Year | None = None
    """The price year of the caseworker cost, if not the scenario's (needs ``[prices]``). Unit: calendar year."""
    source: str = ""
    """Where the numbers in this table come from."""


class ExtraPlaces(_Model):
    """Places a strategy adds to a step, and what each costs a year."""

    places: Count
    """The places the strategy adds to the step; they ramp in with its effect and end with ``end_year``. Unit: places."""
    cost_per_place_per_year: NonNeg = 0.0
    """What each extra place costs a year, as a programme cost. Unit: DKK a year per place, in the scenario's price year."""


class StockAtStart(_Model):
    """Children on a step at the start, with their ages."""

    children: Count
    """The children on the step on 1 January of the start year. Unit: children (a whole number)."""
    age_shares: dict[str, Share]
    """Their ages, as shares by age band label (such as ``"0-5"``) that sum to 1. Unit: shares 0-1."""


class DiscountPeriod(_Model):
    from_year: Annotated[int, Strict(), Field(ge=0)]
    """The first year this rate applies, counted from the year money is discounted to (0: that year). Unit: years."""
    rate: Annotated[float, Strict(), Field(gt=-1, lt=1)]
    """The real discount rate from that year on. Unit: per year, as a share (0.035 is 3.5 %)."""


class Discounting(_Model):
    """Stepped real discount rates by year from the start year."""

    periods: tuple[DiscountPeriod, ...] = tuple(DiscountPeriod(**p) for p in FM_DISCOUNTING)
    """Stepped real discount rates, each from its ``from_year`` on. Default: Finansministeriet (2021), 3.5 % for years 0-35, 2.5 % for years 36-70, then 1.5 %."""
    to_year: Year | None = None
    """The year money is discounted to (default: the start year); costs in years before it are compounded forward. Unit: calendar year."""
    source: str = FM_SOURCE
    """Where the rates come from. Default: Finansministeriet 2021 for its rates (the default ``periods``); none for rates of your own, so that no money figure credits them to it."""

    @model_validator(mode="before")
    @classmethod
    def _own_rates_own_source(cls, data: Any) -> Any:
        # Rates of the file's own without a source of its own: the default source is not theirs.
        if isinstance(data, dict) and "source" not in data and "periods" in data:
            if not _is_fm(data["periods"]):
                data = {**data, "source": ""}
        return data


class Population(_Model):
    """Who comes onto the staircase, at what age, and who is there already."""

    children: Annotated[int, Strict(), Field(gt=0)]
    """Children aged 0-17 in the area (municipality or country). Unit: children."""
    age_bands: tuple[Annotated[int, Strict()], ...] = (0, 6, 12)
    """The lower edges of the age bands that rates and shares may differ by: ``[0, 6, 12]`` gives bands 0-5, 6-11 and 12-17. Unit: years of age."""
    leaving_age: Annotated[int, Strict(), Field(ge=1, le=30)] = 18
    """The age at which a child leaves the staircase (its case ends). Unit: years of age."""
    aftercare_until_age: Annotated[int, Strict(), Field(ge=1, le=30)] | None = None
    """With aftercare (efterværn): the age until which a child on an aftercare step stays on. Default: no aftercare. Unit: years of age."""
    aftercare_steps: tuple[str, ...] | None = None
    """The steps on which a child stays on past ``leaving_age`` until ``aftercare_until_age``. Default: the placement steps."""
    entries_per_year: NonNeg | None = None
    """New cases a year: children who come onto the staircase. Give this or ``entries_per_1000_children``. Unit: children a year."""
    entries_per_1000_children: NonNeg | None = None
    """New cases a year per 1,000 children in the area, instead of ``entries_per_year``. Unit: children a year per 1,000 children."""
    entry_age_shares: dict[str, Share]
    """The ages of new cases, as shares by age band label that sum to 1. Unit: shares 0-1."""
    entry_step_shares: dict[str, Share]
    """The steps new cases come onto, as shares by step that sum to 1. Unit: shares 0-1."""
    initial_stock: dict[str, StockAtStart] = {}
    """The children on each step at the start, and their ages (``[population.initial_stock.<step>]``). Default: none."""


Rate = NonNeg | dict[str, NonNeg]
"""A rate per year: one number, or one number per age band label."""


class EntryChange(_Model):
    """Earlier detection: more entries, and on lower steps."""

    extra_entries_per_year: NonNeg = 0.0
    """More new cases a year with the strategy (earlier detection), at full effect. Unit: children a year."""
    extra_entries_share: NonNeg = 0.0
    """More new cases with the strategy, as a share of the baseline's (0.10: 10 % more), at full effect. Unit: share of the baseline's new cases."""
    entry_step_shares: dict[str, Share] | None = None
    """The steps new cases come onto with the strategy, shares by step that sum to 1; they shift from the baseline's as the strategy ramps in. Default: the baseline's. Unit: shares 0-1."""


class Fading(_Model):
    """How a strategy's effect declines.

    From the year after ``after_year`` (default: the year before the strategy
    starts, so it fades from its start) the effect halves every
    ``half_life_years``; a half-life of 0 (the default) ends it at once, an
    infinite one (``inf``) never fades.
    """

    # inf is allowed here (and written back as inf): "never fades".
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    half_life_years: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=True)] = 0.0
    """The time in which the effect halves; 0 (the default) ends it at once, ``inf`` never fades. Unit: years."""
    after_year: Year | None = None
    """The effect fades from the year after this one. Default: ``end_year``, else from the strategy's start. Unit: calendar year."""
    source: str = ""
    """Where the numbers in this table come from."""


class Intervention(_Model):
    """A strategy laid over a baseline."""

    name: str = "intervention"
    """The strategy's name, for reports."""
    start_year: Year
    """The first year the strategy runs and costs. Unit: calendar year."""
    end_year: Year | None = None
    """The last year the programme runs and costs; default: to the horizon. Its effect then fades (``fading``). Unit: calendar year."""
    ramp_up_years: Annotated[int, Strict(), Field(ge=0, le=50)] = 0
    """The years over which the effect grows to its full size, linearly (hazard ratios multiplicatively); 0: full at once. Unit: years."""
    fading: Fading | None = None
    """How the effect declines after the programme ends, or while it runs (``[intervention.fading]``). Default: it ends at once with the programme."""
    reached_age_bands: tuple[str, ...] | None = None
    """Age bands the hazard ratios apply to (the children the programme reaches); default: all."""
    reached_entry_steps: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    """Steps whose new cases the hazard ratios apply to, for as long as they are on the staircase (children there at the start count as entering where they stand); default: every child."""
    hazard_ratios: dict[str, dict[str, NonNeg]] = {}
    """Factors on the baseline's rates, ``hazard_ratios.<from>.<to>`` (below 1: fewer such moves), at full effect. Unit: ratio (1: no change)."""
    entry: EntryChange = EntryChange()
    """Changes to new cases: more of them, and on lower steps (``[intervention.entry]``)."""
    cost_per_year: NonNeg = 0.0
    """The programme's cost in each year it runs. Unit: DKK a year, in the scenario's price year (or ``price_year``)."""
    one_off_cost: NonNeg = 0.0
    """A one-off cost in the start year (recruitment, training, systems). Unit: DKK, in the scenario's price year (or ``price_year``)."""
    cost_per_child_reached: NonNeg = 0.0
    """A cost per entry onto ``reached_steps`` while the programme runs. Unit: DKK per child reached, in the scenario's price year (or ``price_year``)."""
    reached_steps: tuple[str, ...] = ()
    """The steps whose entries ``cost_per_child_reached`` counts. Default: none."""
    extra_places: dict[str, ExtraPlaces] = {}
    """Places the strategy adds to steps with ``capacity`` (``[intervention.extra_places.<step>]``)."""
    extra_caseworkers: NonNeg = 0.0
    """Caseworkers the strategy adds; they lower the caseload (and so the review interval) as it ramps in, and cost ``casework.cost_per_caseworker`` each. Unit: caseworkers."""
    payers: Payers | None = None
    """Who pays the programme (its yearly, one-off and per-child costs and extra places): shares for ``kommune``, ``region``, ``stat`` that sum to 1. Default: the municipality pays all. Unit: shares 0-1."""
    price_year: Year | None = None
    """The price year of the programme's costs, if not the scenario's (needs ``[prices]``). Unit: calendar year."""
    source: str = ""
    """Where the strategy's numbers come from."""

    @property
    def has_effect(self) -> bool:
        """Whether it changes anything but places and cost: a hazard ratio not 1, extra new cases,
        or entry steps of its own."""
        return (
            any(r != 1.0 for row in self.hazard_ratios.values() for r in row.values())
            or self.entry.extra_entries_per_year > 0
            or self.entry.extra_entries_share > 0
            or self.entry.entry_step_shares is not None
        )


class AdultOutcome(_Model):
    """An adult outcome (being employed at 30, on disability pension, ...) and how
    common it is by the highest step a child reached.

    ``share`` gives the share of adults in the outcome by highest step; steps
    not named have the ``reference_share`` (the share among everyone else).
    The outcome is counted as persons above (or below) the reference, and,
    with ``cost_per_year``, costs that much per person-year above the
    reference over the adult years (negative: a net contribution, such as the
    taxes of someone in work).
    """

    name_da: str
    """The outcome's name in Danish, such as ``på førtidspension som 30-årig``."""
    name_en: str
    """The outcome's name in English, such as ``on disability pension at 30``."""
    share: dict[str, Share]
    """The share of adults in the outcome by the highest step a child reached; steps not named have ``reference_share``. Unit: shares 0-1."""
    reference_share: Share
    """The share in the outcome among everyone else (and for every step not named). Unit: share 0-1."""
    cost_per_year: Annotated[float, Strict(), Field(allow_inf_nan=False)] = 0.0
    """What a person-year in the outcome above the reference costs (negative: a net contribution, such as taxes). Not together with ``adult.cost_per_year``. Unit: DKK a year per person, in the scenario's price year (or ``adult.price_year``)."""
    source: str = ""
    """Where the shares come from."""


class Adult(_Model):
    """Costs of adult life after the staircase: a projection, reported apart from the budget.

    For each child who leaves the staircase within the horizon: ``cost_per_year``
    for each of ``years`` years of adult life from age ``from_age`` (or from
    leaving, if later), by the highest step the child reached; a number per
    age band says it by the age at which the child first reached that step.
    Steps not named cost nothing. Discounted like every other cost.
    ``outcomes`` count adult outcomes by highest step (and may cost instead).
    """

    cost_per_year: dict[str, NonNeg | dict[str, NonNeg]] = {}
    """Cost of adult life per year by the highest step a child reached: one number, or one per age band (the age at which the child first reached the step). Steps not named cost nothing. Unit: DKK a year per person, in the scenario's price year (or ``price_year``)."""
    outcomes: dict[str, AdultOutcome] = {}
    """Adult outcomes counted by highest step reached (``[adult.outcomes.<outcome>]``)."""
    years: Annotated[int, Strict(), Field(ge=1, le=80)] = 40
    """The years of adult life counted. Unit: years."""
    from_age: Annotated[int, Strict(), Field(ge=0, le=30)] = 18
    """The age adult life is counted from (or from leaving the staircase, if later). Unit: years of age."""
    payers: Payers | None = None
    """Who pays the adult-life costs: shares for ``kommune``, ``region``, ``stat`` that sum to 1. Default: the municipality pays all. Unit: shares 0-1."""
    price_year: Year | None = None
    """The price year of the adult-life costs, if not the scenario's (needs ``[prices]``). Unit: calendar year."""
    source: str = ""
    """Where the adult-life numbers come from."""


class Prices(_Model):
    """A price index by year, to bring costs given in other price years to the scenario's."""

    index: dict[str, Pos]
    """A price index by calendar year, such as ``{ "2019" = 103.0, "2023" = 117.2 }``; an amount in year A's prices is multiplied by index[price year] / index[A]. Unit: index points."""
    source: str = ""
    """Where the index comes from (such as Danmarks Statistik PRIS113)."""

    def factor(self, from_year: int, to_year: int) -> float:
        """Multiply an amount in ``from_year`` prices by this to get ``to_year`` prices."""
        return self.index[str(to_year)] / self.index[str(from_year)]


class Scenario(_Model):
    """A validated, immutable scenario.

    Build one with :func:`load_scenario` (from a TOML file) or
    :meth:`from_dict`; derive variants with :meth:`with_changes`.
    """

    def __repr__(self) -> str:  # every number would fill a notebook: to_dict() gives them
        return f"Scenario(name={self.name!r}, title={self.title!r})"

    __str__ = __repr__

    name: str
    """The scenario's short name, used in results folder names and reports. Each file gives its own: it is never taken from the file it extends."""
    title: str = ""
    """A title for reports. Default: ``name``. Not taken from the file it extends."""
    title_en: str = ""
    """The title in English outputs (``--lang en``). Default: ``title``. Not taken from the file it extends."""
    description: str = ""
    """A sentence saying what the scenario is. Not taken from the file it extends."""
    extends: str | None = None
    """A scenario file this one builds on, relative to this file; tables merge key by key, lists are replaced. ``name``, ``title``, ``title_en`` and ``description`` are this file's own."""
    start_year: Year
    """The first simulated year; the initial stock is on the steps on 1 January. Unit: calendar year."""
    horizon_years: Annotated[int, Strict(), Field(ge=1, le=100)]
    """The number of years simulated. Unit: years."""
    price_year: Year
    """The price year of every money figure. Unit: calendar year."""
    currency: str = "DKK"
    """The currency of every money figure (plausibility ranges for money apply to DKK)."""
    language: Literal["da", "en"] = "da"
    """The language of charts, workbook, report and printed summary: ``da`` (Danish) or ``en`` (English)."""
    discounting: Discounting = Discounting()
    """How money is discounted (``[discounting]``). Default: Finansministeriet (2021)."""
    steps: dict[str, Step]
    """The steps of the staircase, from least to most intrusive (``[steps.<step>]``); the order in the file is the order on the staircase."""
    population: Population
    """Who comes onto the staircase, and who is on it at the start (``[population]``)."""
    transitions: dict[str, dict[str, Rate]]
    """Rates of moves, ``transitions.<from>.<to>``, to other steps and to ``"closed"`` (case closed): one number or one per age band. Unit: per child-year (a hazard)."""
    casework: Casework | None = None
    """Caseworkers, their cost and caseload (``[casework]``). Default: none."""
    intervention: Intervention | None = None
    """The strategy (``[intervention]``); a baseline has none."""
    adult: Adult | None = None
    """Costs and outcomes of adult life after the staircase (``[adult]``): a projection, reported apart from the budget."""
    prices: Prices | None = None
    """A price index for costs given in other price years (``[prices]``)."""
    _uncertain: tuple[Uncertain, ...] = PrivateAttr(default=())

    @property
    def uncertain(self) -> tuple[Uncertain, ...]:
        """The numbers given as distributions (the scenario holds their means)."""
        return self._uncertain

    # -- derived views -----------------------------------------------------
    @property
    def step_ids(self) -> list[str]:
        """Step ids in staircase order (lowest, least intrusive, first)."""
        return list(self.steps)

    @property
    def band_edges(self) -> list[int]:
        """Lower edges of the age bands, plus the oldest leaving age at the end."""
        return _band_edges(self.population)

    @property
    def band_labels(self) -> list[str]:
        """Age band labels such as ``"0-5"``."""
        e = self.band_edges
        return [f"{a}-{b - 1}" for a, b in zip(e[:-1], e[1:])]

    @property
    def discount_year(self) -> int:
        """The year money is discounted to: ``discounting.to_year``, else the start year."""
        return self.discounting.to_year or self.start_year

    @property
    def entries_per_year(self) -> float:
        """Baseline new cases per year."""
        p = self.population
        if p.entries_per_year is not None:
            return p.entries_per_year
        return p.children / 1000.0 * (p.entries_per_1000_children or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (what ``check`` prints)."""
        # ``extends`` is resolved already: the dump stands on its own.
        data = self.model_dump(mode="json", exclude_none=True, exclude={"extends"})
        for u in self._uncertain:  # distributions go back where they were written
            apply_draw(data, u.path, dict(u.spec))
        return data

    def input_hash(self) -> str:
        """SHA-256 of the resolved scenario (stable across key order)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_changes(self, changes: dict[str, Any], *, warn: bool = True) -> Scenario:
        """Return a new scenario with dotted keys replaced, validated as a file is.

        Parameters
        ----------
        changes : dict
            ``{"steps.institution.cost_per_year": 1.3e6, ...}``; a key may
            also add a table that does not exist yet, such as
            ``"intervention.hazard_ratios.home.foster"``.
        warn : bool
            Warn about each changed number outside its plausible range, as
            :func:`~sim.load_scenario` does for a file's numbers (searches
            and lever moves that set numbers themselves turn it off).

        Raises
        ------
        ScenarioError
            A key that is not in the schema, a value that is not allowed, or
            ``changes`` that are not a dict of dotted keys.

        Warns
        -----
        PlausibilityWarning
            For each changed number outside its plausible range.

        Examples
        --------
        >>> from sim import load_scenario
        >>> s = load_scenario("scenarios/denmark-baseline.toml")
        >>> s.with_changes({"horizon_years": 10}).horizon_years
        10
        """
        if not isinstance(changes, dict) or not all(isinstance(k, str) for k in changes):
            raise ScenarioError(
                "<changes>",
                "",
                "with_changes takes a dict of dotted keys and values, such as "
                f'{{"intervention.cost_per_year": 30_000_000}}, not {type(changes).__name__}',
            )
        data = self.to_dict()
        for key, value in changes.items():
            node = data
            parts = key.split(".")
            for part in parts[:-1]:
                nxt = node.get(part)
                if nxt is None:
                    nxt = node[part] = {}
                if not isinstance(nxt, dict):
                    raise ScenarioError("<changes>", key, f"'{part}' is not a table")
                node = nxt
            # Tables are copied (validation takes distributions out of them, and they are the caller's);
            # NumPy numbers (from a DataFrame, a sweep) become Python's, as a file's are.
            node[parts[-1]] = _plain(value)
        _own_rates(data, self.discounting, changes)
        if "title" in changes and "title_en" not in changes:
            data["title_en"] = ""  # the old English title was of the old title
        try:
            changed = Scenario._validated(data, "<changes>")  # the rest is this call's own: no copy
        except ScenarioError as err:
            table = next(
                (k for k, v in changes.items() if isinstance(v, dict) and err.key.startswith(k + ".")), None
            )
            if table is None or "required key is missing" not in err.message:
                raise
            raise ScenarioError(
                err.file,
                err.key,
                f"{err.message} (a table given as a value replaces the whole table '{table}': to change "
                f"one number in it, give its dotted key, such as '{err.key.rsplit('.', 1)[0]}.<key>')",
            ) from None
        if warn:
            from sim.scenario.plausibility import warn_changed

            warn_changed(changed, changes)
        return changed

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str = "<dict>") -> Scenario:
        """Validate plain data (as read from TOML) into a Scenario."""
        return cls._validated(copy.deepcopy(data), file)  # the checks take distributions out of it

    @classmethod
    def _validated(cls, data: dict[str, Any], file: str) -> Scenario:
        """:meth:`from_dict` on data it may change."""
        # The checks read the schema: imported here, not above.
        from sim.scenario.checks import _check_consistency
        from sim.scenario.validation import _check_unknown_keys, _from_pydantic, _take_distributions

        data, uncertain = _take_distributions(data, file)
        _check_unknown_keys(cls, data, file, "")
        try:
            scenario = cls.model_validate(data)
        except ValidationError as err:
            raise _from_pydantic(err, file, data) from None
        _check_consistency(scenario, file)
        scenario._uncertain = tuple(uncertain)
        from sim.scenario.plausibility import check_limits  # it reads scenarios: imported here, not above

        # Values that cannot give finite results. Break-even's search scales hazard
        # ratios far beyond theirs (r ** 64) through with_changes: it reads the results.
        check_limits(scenario, file, ratios=file != "<changes>")
        return scenario

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A copy with numbers fixed at given values by path: one PSA draw of the uncertain numbers
        (:attr:`uncertain`). Any number's path is taken (the draws of a sensitivity analysis set
        numbers a file gives as plain values too), validated but without plausibility warnings;
        to change a scenario, use :meth:`with_changes`.
        """
        data = self.to_dict()
        for path, value in values.items():
            apply_draw(data, path, value)
        return Scenario._validated(data, "<draw>")


def _own_rates(data: dict[str, Any], was: Discounting, changes: dict[str, Any]) -> None:
    """Rates changed without a source: the old source goes (it is not theirs; see :class:`Discounting`)."""
    disc = data.get("discounting")
    if not isinstance(disc, dict) or "source" not in disc:
        return
    sourced = "discounting.source" in changes or (
        isinstance(changes.get("discounting"), dict) and "source" in changes["discounting"]
    )
    if not sourced and disc.get("periods") != was.model_dump(mode="json")["periods"]:
        del disc["source"]


def _band_edges(pop: Population) -> list[int]:
    top = pop.aftercare_until_age or pop.leaving_age
    edges = sorted(set(pop.age_bands) | ({pop.leaving_age} if top > pop.leaving_age else set()))
    return [e for e in edges if e < top] + [top]
