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

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict, StrictBool, ValidationError

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


# ---------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Mixture(_Model):
    """Two groups of exponential stays, short and long (hyperexponential)."""

    dist: Literal["mixture"]
    short_share: Annotated[float, Strict(), Field(gt=0, lt=1)]
    short_mean_years: Pos
    long_mean_years: Pos


class Weibull(_Model):
    """Weibull stay with a given mean and shape (discrete-event engine only)."""

    dist: Literal["weibull"]
    mean_years: Pos
    shape: Pos


class Lognormal(_Model):
    """Lognormal stay with a given mean and log-sd (discrete-event engine only)."""

    dist: Literal["lognormal"]
    mean_years: Pos
    sigma: Pos


Duration = Annotated[Exponential | Mixture | Weibull | Lognormal, Field(discriminator="dist")]


class Capacity(_Model):
    """Places on a step, and what happens to a child due to move onto it when it is full.

    The child waits (first come first served, or by age) on its current step,
    or on ``wait_on``; with ``overflow_to`` it goes to that step instead, at
    once or after ``max_wait_years``.
    """

    places: Count | Literal["unlimited"]
    overflow_to: str | None = None
    max_wait_years: NonNeg | None = None
    wait_on: str | None = None
    queue: Literal["fifo", "oldest_first", "youngest_first"] = "fifo"
    source: str = ""


class Review(_Model):
    """Case reviews: some moves happen only at a review, with a probability per review."""

    interval_months: Pos
    moves: dict[str, Share]
    source: str = ""


class Step(_Model):
    """One step of the staircase."""

    name_da: str
    name_en: str
    placement: StrictBool = False
    cost_per_year: NonNeg = 0.0
    entry_cost: NonNeg = 0.0
    duration: Duration = Exponential()
    capacity: Capacity | None = None
    review: Review | None = None
    payers: Payers | None = None
    price_year: Year | None = None
    """The price year of this step's costs, if not the scenario's (needs ``prices.index``)."""
    source: str = ""


class Casework(_Model):
    """Caseworkers: their cost, and how their caseload sets the review interval.

    A step's ``review.interval_months`` holds at ``reference_caseload``; with
    ``cases / caseworkers`` cases per caseworker the interval scales in
    proportion (half the caseload, reviews twice as often).
    """

    caseworkers: Pos
    cost_per_caseworker: NonNeg = 0.0
    cases: Pos
    reference_caseload: Pos
    payers: Payers | None = None
    price_year: Year | None = None
    source: str = ""


class ExtraPlaces(_Model):
    """Places a strategy adds to a step, and what each costs a year."""

    places: Count
    cost_per_place_per_year: NonNeg = 0.0


class StockAtStart(_Model):
    """Children on a step at the start, with their ages."""

    children: Count
    age_shares: dict[str, Share]


class DiscountPeriod(_Model):
    from_year: Annotated[int, Strict(), Field(ge=0)]
    rate: Annotated[float, Strict(), Field(gt=-1, lt=1)]


class Discounting(_Model):
    """Stepped real discount rates by year from the start year."""

    periods: tuple[DiscountPeriod, ...] = tuple(DiscountPeriod(**p) for p in FM_DISCOUNTING)
    to_year: Year | None = None
    """The year money is discounted to (default: the start year); years before it are compounded forward."""
    source: str = "Finansministeriet 2021"


class Population(_Model):
    """Who comes onto the staircase, at what age, and who is there already."""

    children: Annotated[int, Strict(), Field(gt=0)]
    age_bands: tuple[Annotated[int, Strict()], ...] = (0, 6, 12)
    leaving_age: Annotated[int, Strict(), Field(ge=1, le=30)] = 18
    aftercare_until_age: Annotated[int, Strict(), Field(ge=1, le=30)] | None = None
    aftercare_steps: tuple[str, ...] | None = None
    entries_per_year: NonNeg | None = None
    entries_per_1000_children: NonNeg | None = None
    entry_age_shares: dict[str, Share]
    entry_step_shares: dict[str, Share]
    initial_stock: dict[str, StockAtStart] = {}


Rate = NonNeg | dict[str, NonNeg]
"""A rate per year: one number, or one number per age band label."""


class EntryChange(_Model):
    """Earlier detection: more entries, and on lower steps."""

    extra_entries_per_year: NonNeg = 0.0
    extra_entries_share: NonNeg = 0.0
    entry_step_shares: dict[str, Share] | None = None


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
    after_year: Year | None = None
    source: str = ""


class Intervention(_Model):
    """A strategy laid over a baseline."""

    name: str = "intervention"
    start_year: Year
    end_year: Year | None = None
    """The last year the programme runs and costs; default: to the horizon. Its effect then fades (``fading``)."""
    ramp_up_years: Annotated[int, Strict(), Field(ge=0, le=50)] = 0
    fading: Fading | None = None
    reached_age_bands: tuple[str, ...] | None = None
    """Age bands the hazard ratios apply to (the children the programme reaches); default: all."""
    reached_entry_steps: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    """Steps whose new cases the hazard ratios apply to, for as long as they are on the staircase
    (children there at the start count as entering where they stand); default: every child."""
    hazard_ratios: dict[str, dict[str, NonNeg]] = {}
    entry: EntryChange = EntryChange()
    cost_per_year: NonNeg = 0.0
    one_off_cost: NonNeg = 0.0
    cost_per_child_reached: NonNeg = 0.0
    reached_steps: tuple[str, ...] = ()
    extra_places: dict[str, ExtraPlaces] = {}
    extra_caseworkers: NonNeg = 0.0
    payers: Payers | None = None
    """Who pays the programme (its yearly, one-off and per-child costs and extra places)."""
    price_year: Year | None = None
    """The price year of the programme's costs, if not the scenario's (needs ``prices.index``)."""
    source: str = ""


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
    name_en: str
    share: dict[str, Share]
    reference_share: Share
    cost_per_year: Annotated[float, Strict(), Field(allow_inf_nan=False)] = 0.0
    source: str = ""


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
    outcomes: dict[str, AdultOutcome] = {}
    years: Annotated[int, Strict(), Field(ge=1, le=80)] = 40
    from_age: Annotated[int, Strict(), Field(ge=0, le=30)] = 18
    payers: Payers | None = None
    price_year: Year | None = None
    source: str = ""


class Prices(_Model):
    """A price index by year, to bring costs given in other price years to the scenario's."""

    index: dict[str, Pos]
    source: str = ""

    def factor(self, from_year: int, to_year: int) -> float:
        """Multiply an amount in ``from_year`` prices by this to get ``to_year`` prices."""
        return self.index[str(to_year)] / self.index[str(from_year)]


class Scenario(_Model):
    """A validated, immutable scenario.

    Build one with :func:`load_scenario` (from a TOML file) or
    :meth:`from_dict`; derive variants with :meth:`with_changes`.
    """

    name: str
    title: str = ""
    description: str = ""
    extends: str | None = None
    start_year: Year
    horizon_years: Annotated[int, Strict(), Field(ge=1, le=100)]
    price_year: Year
    currency: str = "DKK"
    language: Literal["da", "en"] = "da"
    discounting: Discounting = Discounting()
    steps: dict[str, Step]
    population: Population
    transitions: dict[str, dict[str, Rate]]
    casework: Casework | None = None
    intervention: Intervention | None = None
    adult: Adult | None = None
    prices: Prices | None = None
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

    def with_changes(self, changes: dict[str, Any]) -> Scenario:
        """Return a new scenario with dotted keys replaced.

        Parameters
        ----------
        changes : dict
            ``{"steps.institution.cost_per_year": 1.3e6, ...}``; a key may
            also add a table that does not exist yet, such as
            ``"intervention.hazard_ratios.home.foster"``.

        Examples
        --------
        >>> s = load_scenario("scenarios/denmark-baseline.toml")  # doctest: +SKIP
        >>> s.with_changes({"horizon_years": 10}).horizon_years  # doctest: +SKIP
        10
        """
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
            node[parts[-1]] = value
        return Scenario.from_dict(data, file="<changes>")

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str = "<dict>") -> Scenario:
        """Validate plain data (as read from TOML) into a Scenario."""
        # The checks read the schema: imported here, not above.
        from sim.scenario.checks import _check_consistency
        from sim.scenario.validation import _check_unknown_keys, _from_pydantic, _take_distributions

        data, uncertain = _take_distributions(copy.deepcopy(data), file)
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
        """A copy with uncertain numbers fixed at given values (one PSA draw)."""
        data = self.to_dict()
        for path, value in values.items():
            apply_draw(data, path, value)
        return Scenario.from_dict(data, file="<draw>")


def _band_edges(pop: Population) -> list[int]:
    top = pop.aftercare_until_age or pop.leaving_age
    edges = sorted(set(pop.age_bands) | ({pop.leaving_age} if top > pop.leaving_age else set()))
    return [e for e in edges if e < top] + [top]
