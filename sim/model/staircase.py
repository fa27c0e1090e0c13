"""The staircase compiled for the engines: arrays, no dictionaries.

A :class:`Staircase` holds, for one arm (a baseline, or a baseline with its
strategy laid over it), everything the engines need as numpy arrays indexed
by ``[year, age band, step, destination]``, in four parts: its
:class:`Dynamics` (how children move), :class:`Places` (limits and queues),
:class:`Money` (costs, payers, discounting) and :class:`AdultLife`. Destinations are the steps, then
``CLOSED_COL`` (case closed) and ``AGED_OUT_COL`` (left at the leaving age,
used where a move would go to a step the child is too old for).

Time-varying effects (a strategy ramping in) are constant within a calendar
year. A hazard ratio scales the rate of one transition; on a step with a
non-exponential duration it speeds up (or slows down) the step's clock by the
weighted mean ratio, which is the same thing for exponential stays and keeps
both engines exact for the two-group mixture. Age-banded rates on such a step
work the same way: its duration law holds in the first band, and the clock
runs faster or slower in other bands in proportion to the total rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import numpy as np

from sim.model.effects import Levers, Strategy, apply_effects, fade, ramp, running
from sim.model.stays import StayLaw, stay_law
from sim.scenario import CLOSED, PAYERS, Scenario, capped_steps

T = TypeVar("T")


class _Part(Generic[T]):
    """An attribute of one of a :class:`Staircase`'s parts, read as the staircase's own.

    The engines and the economics read ``st.rates``, ``st.capacity``, ... as
    they always did; the staircase keeps them in four parts.
    """

    def __init__(self, part: str) -> None:
        self.part = part

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]  # the class attribute, for documentation tools
        return getattr(getattr(obj, self.part), self.name)


@dataclass(frozen=True, eq=False)
class Dynamics:
    """How children enter, move, wait out reviews and leave (``S`` steps, ``B`` age bands,
    ``Y`` years, ``D = S + 2`` destinations: the steps, case closed, aged out)."""

    step_ids: tuple[str, ...]
    placement: np.ndarray  # bool[S]
    band_edges: np.ndarray  # [B+1], last is the oldest leaving age
    leave_age: np.ndarray  # [S]
    start_year: int
    rates: np.ndarray  # [Y, B, S, D] hazards per year (exponential steps)
    intensity: np.ndarray  # [Y, B, S] clock speed of each step
    dest_prob: np.ndarray  # [Y, B, S, D] where a child goes when it leaves a step
    stays: tuple[StayLaw, ...]  # [S] each step's stay law (sim.model.stays)
    close_rate: np.ndarray  # [Y, B, S] rate of case closure while waiting on a step
    review_interval: np.ndarray  # [Y, S] years between case reviews (inf: no reviews)
    review_prob: np.ndarray  # [S, D] probability per review of each move
    entries: np.ndarray  # [Y] new cases per year (baseline volume)
    extra_entries: np.ndarray  # [Y] extra new cases per year from the strategy
    entry_step_prob: np.ndarray  # [Y, S]
    entry_band_prob: np.ndarray  # [B]
    stock: np.ndarray  # [S, B] children at the start
    effect: np.ndarray  # [Y] how far the strategy has ramped in (0..1)
    entry_reach: np.ndarray | None = None  # bool[S] the effect reaches children who entered on these steps


@dataclass(frozen=True, eq=False)
class Places:
    """Places on steps with a limit, and what a child does when a step is full."""

    capacity: np.ndarray  # [Y, S] places (inf: no limit)
    overflow_to: np.ndarray  # int[S] step a refused child goes to (-1: it waits)
    max_wait: np.ndarray  # [S] years a child waits before overflowing (inf: no limit)
    wait_on: np.ndarray  # int[S] step a child waits on (-1: where it is)
    new_case_wait: np.ndarray  # int[S] step a new case waits on while the step is full
    queue_kind: np.ndarray  # int[S] 0 first come first served, 1 oldest first, 2 youngest first


@dataclass(frozen=True, eq=False)
class Money:
    """Costs, who pays them, and discounting (within the horizon)."""

    cost_per_year: np.ndarray  # [S]
    entry_cost: np.ndarray  # [S]
    active: np.ndarray  # bool[Y] the strategy's programme runs this year
    programme_cost: np.ndarray  # [Y] fixed and one-off programme costs
    cost_per_child_reached: float
    reached: np.ndarray  # bool[S]
    casework_cost: np.ndarray  # [Y] caseworkers' cost (also inside programme_cost)
    discount: np.ndarray  # [Y] discount factor per year (start year = 1)
    step_payers: np.ndarray  # [S, P] share of each step's cost by payer (PAYERS order)
    programme_payers: np.ndarray  # [P] the programme's costs (but caseworkers) by payer
    casework_payers: np.ndarray  # [P] caseworkers' cost by payer


@dataclass(frozen=True, eq=False)
class AdultLife:
    """Adult life after the staircase (``scenario.adult``; ``adult_years == 0``: not counted)."""

    adult_cost: np.ndarray  # [S, B] cost per year of adult life by highest step and band first reached
    adult_years: int
    adult_from_age: float
    adult_payers: np.ndarray  # [P]
    long_discount: np.ndarray  # discount factors far beyond the horizon, for adult life
    adult_outcomes: tuple[str, ...] = ()  # adult outcomes counted (scenario.adult.outcomes)
    # [O, S] share in each outcome above the reference, by highest step
    adult_excess: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


@dataclass(frozen=True, eq=False)
class Staircase:
    """One arm of a scenario, compiled: its :class:`Dynamics`, :class:`Places`,
    :class:`Money` and :class:`AdultLife`.

    Every attribute of the parts reads as the staircase's own (``st.rates`` is
    ``st.dynamics.rates``); :meth:`with_parts` changes some of them.
    """

    dynamics: Dynamics
    places: Places
    money: Money
    adult_life: AdultLife
    unreached: Staircase | None = None  # the same arm without the effect, for the children it does not reach

    def __repr__(self) -> str:  # its arrays would fill a notebook
        return f"Staircase(steps={self.step_ids!r}, start_year={self.start_year}, years={self.horizon})"

    # Every attribute of the parts, by the name the engines and the economics read.
    step_ids = _Part[tuple[str, ...]]("dynamics")
    placement = _Part[np.ndarray]("dynamics")
    band_edges = _Part[np.ndarray]("dynamics")
    leave_age = _Part[np.ndarray]("dynamics")
    start_year = _Part[int]("dynamics")
    rates = _Part[np.ndarray]("dynamics")
    intensity = _Part[np.ndarray]("dynamics")
    dest_prob = _Part[np.ndarray]("dynamics")
    stays = _Part[tuple[StayLaw, ...]]("dynamics")
    close_rate = _Part[np.ndarray]("dynamics")
    review_interval = _Part[np.ndarray]("dynamics")
    review_prob = _Part[np.ndarray]("dynamics")
    entries = _Part[np.ndarray]("dynamics")
    extra_entries = _Part[np.ndarray]("dynamics")
    entry_step_prob = _Part[np.ndarray]("dynamics")
    entry_band_prob = _Part[np.ndarray]("dynamics")
    stock = _Part[np.ndarray]("dynamics")
    effect = _Part[np.ndarray]("dynamics")
    entry_reach = _Part["np.ndarray | None"]("dynamics")
    capacity = _Part[np.ndarray]("places")
    overflow_to = _Part[np.ndarray]("places")
    max_wait = _Part[np.ndarray]("places")
    wait_on = _Part[np.ndarray]("places")
    new_case_wait = _Part[np.ndarray]("places")
    queue_kind = _Part[np.ndarray]("places")
    cost_per_year = _Part[np.ndarray]("money")
    entry_cost = _Part[np.ndarray]("money")
    active = _Part[np.ndarray]("money")
    programme_cost = _Part[np.ndarray]("money")
    cost_per_child_reached = _Part[float]("money")
    reached = _Part[np.ndarray]("money")
    casework_cost = _Part[np.ndarray]("money")
    discount = _Part[np.ndarray]("money")
    step_payers = _Part[np.ndarray]("money")
    programme_payers = _Part[np.ndarray]("money")
    casework_payers = _Part[np.ndarray]("money")
    adult_cost = _Part[np.ndarray]("adult_life")
    adult_years = _Part[int]("adult_life")
    adult_from_age = _Part[float]("adult_life")
    adult_payers = _Part[np.ndarray]("adult_life")
    long_discount = _Part[np.ndarray]("adult_life")
    adult_outcomes = _Part[tuple[str, ...]]("adult_life")
    adult_excess = _Part[np.ndarray]("adult_life")

    def with_parts(self, **changes: Any) -> Staircase:
        """A copy with some attributes changed, by their names (``rates=...``, ``unreached=None``)."""
        parts: dict[str, dict[str, Any]] = {}
        top = {}
        for name, value in changes.items():
            where = type(self).__dict__.get(name)
            if isinstance(where, _Part):
                parts.setdefault(where.part, {})[name] = value
            else:
                top[name] = value
        for part, values in parts.items():
            top[part] = replace(getattr(self, part), **values)
        return replace(self, **top)

    @property
    def phase_type(self) -> bool:
        """Whether every step's stay law has a phase-type form (the analytic engine can run it)."""
        return all(law.phases() is not None for law in self.stays)

    @property
    def capped(self) -> np.ndarray:
        """Steps with a capacity limit at some point of the horizon."""
        return np.isfinite(self.capacity).any(axis=0)

    def adult_window(self, k0: np.ndarray) -> np.ndarray:
        """Discount factors summed over ``adult_years`` years of adult life starting in year index ``k0``."""
        cum = np.r_[0.0, np.cumsum(self.long_discount)]
        last = len(cum) - 1
        return cum[np.minimum(k0 + self.adult_years, last)] - cum[np.minimum(k0, last)]

    @property
    def has_adult(self) -> bool:
        """Whether adult life after the staircase is counted (an ``[adult]`` table)."""
        return self.adult_years > 0

    @property
    def n_steps(self) -> int:
        return len(self.step_ids)

    @property
    def horizon(self) -> int:
        return len(self.entries)


def whole_stock(stock: np.ndarray) -> np.ndarray:
    """Children at the start per step and age band, as whole children.

    Each step's children are shared out over its age bands by largest
    remainder (Hamilton's method), so that every step's total is exactly the
    file's ``children``: rounding each band on its own can gain or lose a
    child. Ties go to the younger band.

    Parameters
    ----------
    stock : numpy.ndarray
        ``[S, B]`` children per step and band (``children x age share``).

    Returns
    -------
    numpy.ndarray
        ``int64[S, B]`` with ``out.sum(axis=1) == round(stock.sum(axis=1))``.
    """
    floor = np.floor(stock + 1e-9).astype(np.int64)
    short = np.rint(stock.sum(axis=1)).astype(np.int64) - floor.sum(axis=1)
    out = floor.copy()
    for s in np.flatnonzero(short > 0):
        rest = stock[s] - floor[s]
        out[s, np.argsort(-rest, kind="stable")[: short[s]]] += 1
    return out


def discount_factors(scenario: Scenario, years: int) -> np.ndarray:
    """Discount factor per simulated year, to the scenario's discount year.

    Parameters
    ----------
    scenario : Scenario
        Its ``discounting.periods`` give the real rate from each year on,
        counted from ``discounting.to_year`` (default: the start year).
    years : int
        Number of years, from the start year.

    Returns
    -------
    numpy.ndarray
        ``D[k]`` for calendar year ``start_year + k``: 1 in the discount
        year, ``prod 1 / (1 + r_j)`` over the years since it after it, and
        compounded forward at the first rate before it (money spent in 2018
        is worth more in 2024 terms).
    """
    periods = sorted(scenario.discounting.periods, key=lambda p: p.from_year)
    offset = scenario.discount_year - scenario.start_year  # years simulated before the discount year
    after = max(0, years - offset)
    rate = np.zeros(max(after, 1))
    for p in periods:
        rate[p.from_year :] = p.rate
    forward = np.concatenate([[1.0], np.cumprod(1.0 / (1.0 + rate[:-1]))])[:after]
    first = periods[0].rate if periods else 0.0
    back = (1.0 + first) ** np.arange(offset, 0, -1)[:years] if offset > 0 else np.zeros(0)
    return np.concatenate([back, forward])[:years]


def price_factor(scenario: Scenario, year: int | None) -> float:
    """Multiply a cost given in ``year`` prices by this for the scenario's price year."""
    if year is None or year == scenario.price_year or scenario.prices is None:
        return 1.0
    return scenario.prices.factor(year, scenario.price_year)


def _payers(shares) -> np.ndarray:
    """A cost line's shares by payer, in :data:`PAYERS` order (default: all municipal)."""
    if shares is None:
        return np.array([1.0] + [0.0] * (len(PAYERS) - 1))
    return np.array([shares.get(p, 0.0) for p in PAYERS])


def _band_value(rate: float | dict[str, float], label: str, fallback: str) -> float:
    if not isinstance(rate, dict):
        return rate
    # Aftercare bands not given inherit the last band before the leaving age.
    return rate.get(label, rate[fallback])


FASTEST_CLOCK = 1e6
"""The most a step's clock may speed up against its duration law's reference band (see :func:`_rate_tables`)."""


def _rate_tables(
    base: np.ndarray, ratio: np.ndarray, effect: np.ndarray, stays: tuple[StayLaw, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rates ``[Y, B, S, D]`` with the hazard ratios ramped in, and from them each
    step's clock speed and where a child goes when it leaves."""
    rates = base[None] * ratio[None] ** effect[:, None, None, None]

    total = rates.sum(axis=3)
    base_total = base.sum(axis=2)
    intensity = total.copy()
    for s, law in enumerate(stays):
        if law.rates_are_hazards:
            continue
        # Other stays: the duration law says how long, the rates say where to.
        # The law holds in the first age band with any rates; in other bands
        # (and under a strategy) the step's clock runs faster or slower in
        # proportion to the total rate out of the step.
        positive = np.flatnonzero(base_total[:, s] > 0)
        reference = base_total[positive[0], s] if len(positive) else 0.0
        if reference > 0:
            # A reference band with next to no rates (1e-310 against 0.3 elsewhere) would make the
            # clock overflow to inf, and the analytic engine's numbers NaN: beyond FASTEST_CLOCK a
            # stay is instant at any resolution, so the clock stops there, the same in both engines.
            with np.errstate(over="ignore"):
                intensity[:, :, s] = np.minimum(total[:, :, s] / reference, FASTEST_CLOCK)
        else:
            intensity[:, :, s] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        dest_prob = np.where(total[..., None] > 0, rates / total[..., None], 0.0)
    return rates, intensity, dest_prob


def band_clocks(scenario: Scenario) -> list[tuple[str, str, str, float]]:
    """How fast each step's clock runs in each age band, for steps with a duration law.

    A step with a duration law (mixture, Weibull, lognormal) takes the law
    as given in the first age band with any rates out of it; in another
    band its clock runs as many times faster as the band's total rate out is
    higher (see :func:`_rate_tables`).

    Returns
    -------
    list of (step, reference band, band, speed)
        One row per such step and other band; ``speed`` 2 means stays there
        last half as long as the law says, 0 that they never end (no rates
        out), and it is at most :data:`FASTEST_CLOCK`, as in the engines.
    """
    base = _base_rates(scenario, _leave_ages(scenario))
    stays = tuple(stay_law(scenario.steps[sid].duration) for sid in scenario.step_ids)
    # The clocks as the engines get them (_rate_tables), for the baseline's rates alone.
    _, intensity, _ = _rate_tables(base, np.ones_like(base), np.zeros(1), stays)
    total = base.sum(axis=2)  # [B, S]: the reference band is the first with any
    labels = scenario.band_labels
    rows = []
    for s, sid in enumerate(scenario.step_ids):
        positive = np.flatnonzero(total[:, s] > 0)
        if stays[s].rates_are_hazards or not len(positive):
            continue
        ref = int(positive[0])
        rows += [
            (sid, labels[ref], labels[b], float(intensity[0, b, s])) for b in range(ref + 1, len(labels))
        ]
    return rows


def _base_rates(scenario: Scenario, leave_age: np.ndarray) -> np.ndarray:
    """The baseline's rates ``[B, S, D]`` from the transition tables.

    A move to a step the child is too old for ends the case at the leaving age
    (``aged_out``), and a move listed in a step's review happens only at
    reviews (its rate goes).
    """
    steps = scenario.step_ids
    S = len(steps)
    labels = scenario.band_labels
    edges = np.array(scenario.band_edges, dtype=float)
    idx = {s: i for i, s in enumerate(steps)}
    closed, aged_out = S, S + 1
    last_child_band = [lab for lab, lo in zip(labels, edges) if lo < scenario.population.leaving_age][-1]
    base = np.zeros((len(labels), S, S + 2))
    for src, row in scenario.transitions.items():
        for dst, rate in row.items():
            j = closed if dst == CLOSED else idx[dst]
            if not isinstance(rate, dict):  # one rate for every band (most rates): set at once
                base[:, idx[src], j] = rate
                continue
            for b, lab in enumerate(labels):
                base[b, idx[src], j] = _band_value(rate, lab, last_child_band)
    for b in range(len(labels)):
        too_old = edges[b] >= leave_age
        base[b, :, aged_out] += base[b, :, :S][:, too_old].sum(axis=1)
        base[b, :, :S][:, too_old] = 0.0
    for sid, step in scenario.steps.items():
        if step.review is not None:
            for dst in step.review.moves:
                base[:, idx[sid], closed if dst == CLOSED else idx[dst]] = 0.0
    return base


def _leave_ages(scenario: Scenario) -> np.ndarray:
    """Each step's leaving age: the aftercare age on aftercare steps, else the leaving age."""
    pop, steps = scenario.population, scenario.step_ids
    aftercare = set(pop.aftercare_steps or (s for s in steps if scenario.steps[s].placement))
    top = pop.aftercare_until_age or pop.leaving_age
    return np.array(
        [top if (s in aftercare and pop.aftercare_until_age) else pop.leaving_age for s in steps],
        dtype=float,
    )


def strategy_of(scenario: Scenario) -> Strategy | None:
    """A scenario's intervention and when it takes effect, for the effects to read (``None``: none)."""
    iv = scenario.intervention
    if iv is None:
        return None
    # The effect on rates and entry ramps in and may fade; resources bought
    # (places, caseworkers) follow the ramp while the programme runs.
    runs = running(scenario)
    return Strategy(
        scenario,
        effect=ramp(scenario) * fade(scenario),
        resources=ramp(scenario) * runs,
        runs=runs,
        to_price_year=price_factor(scenario, iv.price_year),
    )


def baseline_levers(scenario: Scenario) -> Levers:
    """The arrays a strategy changes, as the baseline has them."""
    steps = scenario.step_ids
    S, Y, B = len(steps), scenario.horizon_years, len(scenario.band_labels)
    step_base = np.array([scenario.population.entry_step_shares.get(s, 0.0) for s in steps])
    capacity = np.full((Y, S), np.inf)
    for sid, places in capped_steps(scenario).items():
        capacity[:, steps.index(sid)] = places
    return Levers(
        ratio=np.ones((B, S, S + 2)),
        extra_entries=np.zeros(Y),
        entry_step_prob=np.repeat(step_base[None], Y, axis=0),
        capacity=capacity,
        programme_cost=np.zeros(Y),
        extra_caseworkers=np.zeros(Y),
        active=np.zeros(Y, dtype=bool),
        reached=np.zeros(S, dtype=bool),
    )


def _queues(scenario: Scenario) -> dict[str, np.ndarray]:
    """Where children go or wait when a step with a limit is full, and in what order."""
    steps = scenario.step_ids
    S = len(steps)
    idx = {s: i for i, s in enumerate(steps)}
    out = {
        "overflow_to": np.full(S, -1),
        "max_wait": np.full(S, np.inf),
        "wait_on": np.full(S, -1),
        "new_case_wait": np.full(S, -1),
        "queue_kind": np.zeros(S, dtype=np.int64),
    }
    kinds = {"fifo": 0, "oldest_first": 1, "youngest_first": 2}
    limited = capped_steps(scenario)
    for sid in limited:
        i = idx[sid]
        cap = scenario.steps[sid].capacity
        if cap.overflow_to is not None:
            out["overflow_to"][i] = idx[cap.overflow_to]
            out["max_wait"][i] = cap.max_wait_years or 0.0
        if cap.wait_on is not None:
            out["wait_on"][i] = out["new_case_wait"][i] = idx[cap.wait_on]
        else:
            below = [idx[x] for x in steps[:i] if x not in limited]
            out["new_case_wait"][i] = below[-1] if below else -1
        out["queue_kind"][i] = kinds[cap.queue]
    return out


def _reviews(scenario: Scenario, extra_caseworkers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Case reviews: interval ``[Y, S]`` (it scales with caseworkers' caseload),
    probability per review of each move ``[S, D]``, and the caseworkers' cost ``[Y]``."""
    steps = scenario.step_ids
    S, Y = len(steps), scenario.horizon_years
    idx = {s: i for i, s in enumerate(steps)}
    review_interval = np.full((Y, S), np.inf)
    review_prob = np.zeros((S, S + 2))
    cw = scenario.casework
    caseload_factor = np.ones(Y)
    casework_cost = np.zeros(Y)
    if cw is not None:
        workers = cw.caseworkers + extra_caseworkers
        caseload_factor = cw.cases / workers / cw.reference_caseload
        casework_cost = workers * cw.cost_per_caseworker * price_factor(scenario, cw.price_year)
    for sid, step in scenario.steps.items():
        if step.review is None:
            continue
        review_interval[:, idx[sid]] = step.review.interval_months / 12.0 * caseload_factor
        for dst, p in step.review.moves.items():
            review_prob[idx[sid], S if dst == CLOSED else idx[dst]] = p
    return review_interval, review_prob, casework_cost


def _adult(scenario: Scenario) -> dict:
    """Adult life's costs ``[S, B]`` by highest step and band first reached, and outcomes above the reference."""
    steps, labels = scenario.step_ids, scenario.band_labels
    S, B = len(steps), len(labels)
    idx = {s: i for i, s in enumerate(steps)}
    adult = scenario.adult
    adult_cost = np.zeros((S, B))
    if adult is not None:
        to_price_year = price_factor(scenario, adult.price_year)
        for sid, cost in adult.cost_per_year.items():
            # A band not named costs nothing (it is an age the step is first reached at).
            per_band = cost if isinstance(cost, dict) else dict.fromkeys(labels, cost)
            adult_cost[idx[sid]] = [per_band.get(lab, 0.0) * to_price_year for lab in labels]
    outcomes = adult.outcomes if adult is not None else {}
    excess = np.zeros((len(outcomes), S))
    for o, outcome in enumerate(outcomes.values()):
        excess[o] = [
            outcome.share.get(sid, outcome.reference_share) - outcome.reference_share for sid in steps
        ]
        # An outcome's cost per person-year above the reference (whatever the age first reached).
        adult_cost += (excess[o] * outcome.cost_per_year * to_price_year)[:, None]
    return {
        "adult_cost": adult_cost,
        "adult_years": adult.years if adult is not None else 0,
        "adult_outcomes": tuple(outcomes),
        "adult_excess": excess,
        "adult_from_age": float(adult.from_age) if adult is not None else 0.0,
        "adult_payers": _payers(adult.payers if adult is not None else None),
        "long_discount": (
            discount_factors(scenario, scenario.horizon_years + 130) if adult is not None else np.zeros(0)
        ),
    }


def step_prices(scenario: Scenario, key: str) -> np.ndarray:
    """Each step's ``cost_per_year`` or ``entry_cost`` ``[S]`` in the scenario's price year."""
    return np.array(
        [
            getattr(scenario.steps[s], key) * price_factor(scenario, scenario.steps[s].price_year)
            for s in scenario.step_ids
        ]
    )


def hazard_ratio_table(scenario: Scenario) -> np.ndarray:
    """The hazard ratios at full effect ``[B, S, D]`` as :func:`compile_staircase` applies them (1: none)."""
    levers = baseline_levers(scenario)
    strategy = strategy_of(scenario)
    if strategy is not None:
        levers = apply_effects(levers, strategy)
    return levers.ratio


def recompiled(
    st: Staircase, scenario: Scenario, costs: bool = False, ratio: np.ndarray | None = None
) -> Staircase:
    """``st`` compiled again from ``scenario`` in the parts a changed number reaches, and only those.

    For a scenario that differs from the one ``st`` was compiled from only in
    numbers the parts named can hold (a PSA draw): ``costs``, the steps'
    ``cost_per_year`` and ``entry_cost``; ``ratio`` (the
    :func:`hazard_ratio_table` of ``scenario``), the transitions' rates and
    the hazard ratios, which give the rate tables (``rates``,
    ``intensity``, ``dest_prob``, ``close_rate``, and the arm of the children
    the effect does not reach). The arrays are the ones
    :func:`compile_staircase` gives ``scenario``, computed the same way;
    every other part is ``st``'s own (the same objects).
    """
    changes: dict[str, Any] = {}
    if costs:
        changes["cost_per_year"] = step_prices(scenario, "cost_per_year")
        changes["entry_cost"] = step_prices(scenario, "entry_cost")
    if ratio is not None:
        S = st.n_steps
        base = _base_rates(scenario, st.leave_age)
        rates, intensity, dest_prob = _rate_tables(base, ratio, st.effect, st.stays)
        changes.update(rates=rates, intensity=intensity, dest_prob=dest_prob, close_rate=rates[..., S].copy())
    if not changes:
        return st
    out = st.with_parts(**changes)
    if st.unreached is not None:
        unreached = st.unreached.with_parts(**changes)
        if ratio is not None:
            other = _rate_tables(base, np.ones_like(ratio), st.effect, st.stays)
            unreached = unreached.with_parts(
                rates=other[0], intensity=other[1], dest_prob=other[2], close_rate=other[0][..., S].copy()
            )
        out = out.with_parts(unreached=unreached)
    return out


def compile_staircase(scenario: Scenario) -> Staircase:
    """Compile a scenario (with its intervention, if any) for the engines.

    The baseline's arrays come from the scenario's tables; a strategy's
    effects then transform the ones it changes (:mod:`sim.model.effects`),
    and the rate tables follow from the baseline's rates and the ramped-in
    hazard ratios.
    """
    steps = scenario.step_ids
    S, Y = len(steps), scenario.horizon_years
    labels = scenario.band_labels
    pop = scenario.population
    leave_age = _leave_ages(scenario)
    base = _base_rates(scenario, leave_age)
    stays = tuple(stay_law(scenario.steps[sid].duration) for sid in steps)

    # How far the effect has ramped in and not faded, year by year: the rates read it too.
    effect = ramp(scenario) * fade(scenario)
    levers = baseline_levers(scenario)
    strategy = strategy_of(scenario)
    if strategy is not None:
        levers = apply_effects(levers, strategy)
    rates, intensity, dest_prob = _rate_tables(base, levers.ratio, effect, stays)
    review_interval, review_prob, casework_cost = _reviews(scenario, levers.extra_caseworkers)

    stock = np.zeros((S, len(labels)))
    for sid, found in pop.initial_stock.items():
        stock[steps.index(sid)] = [found.children * found.age_shares.get(lab, 0.0) for lab in labels]

    st = Staircase(
        dynamics=Dynamics(
            step_ids=tuple(steps),
            placement=np.array([scenario.steps[s].placement for s in steps]),
            band_edges=np.array(scenario.band_edges, dtype=float),
            leave_age=leave_age,
            start_year=scenario.start_year,
            rates=rates,
            intensity=intensity,
            dest_prob=dest_prob,
            stays=stays,
            close_rate=rates[..., S].copy(),
            review_interval=review_interval,
            review_prob=review_prob,
            entries=np.full(Y, scenario.entries_per_year),
            extra_entries=levers.extra_entries,
            entry_step_prob=levers.entry_step_prob,
            entry_band_prob=np.array([pop.entry_age_shares.get(lab, 0.0) for lab in labels]),
            stock=stock,
            effect=effect,
        ),
        places=Places(capacity=levers.capacity, **_queues(scenario)),
        money=Money(
            cost_per_year=step_prices(scenario, "cost_per_year"),
            entry_cost=step_prices(scenario, "entry_cost"),
            active=levers.active,
            programme_cost=levers.programme_cost + casework_cost,
            cost_per_child_reached=levers.cost_per_child_reached,
            reached=levers.reached,
            casework_cost=casework_cost,
            discount=discount_factors(scenario, Y),
            step_payers=np.array([_payers(scenario.steps[sid].payers) for sid in steps]),
            programme_payers=_payers(
                scenario.intervention.payers if scenario.intervention is not None else None
            ),
            casework_payers=_payers(scenario.casework.payers if scenario.casework is not None else None),
        ),
        adult_life=AdultLife(**_adult(scenario)),
    )
    if levers.entry_reach is not None:
        # Children who entered elsewhere keep the baseline's rates: an arm of
        # their own, the same in all but the effect on rates.
        other = _rate_tables(base, np.ones_like(levers.ratio), effect, stays)
        unreached = st.with_parts(
            rates=other[0], intensity=other[1], dest_prob=other[2], close_rate=other[0][..., S].copy()
        )
        st = st.with_parts(entry_reach=levers.entry_reach, unreached=unreached)
    return st
