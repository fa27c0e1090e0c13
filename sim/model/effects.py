"""A strategy's effects, as transforms of the arrays it changes.

:func:`sim.model.staircase.compile_staircase` builds the baseline's arrays
(:class:`Levers`: hazard ratios of 1, no extra entries, the baseline's entry
steps and places, no programme cost) and, when the scenario has an
``[intervention]``, passes them through each function of :data:`EFFECTS` in
turn. Each effect reads its keys of the intervention from a :class:`Strategy`
and returns new arrays (it never changes the ones it is given).

When the effect applies is set once for all of them: :func:`ramp` (growing in
over ``ramp_up_years``) times :func:`fade` (declining after the programme
ends) is ``Strategy.effect``; resources bought (places, caseworkers) follow
:func:`ramp` while the programme runs (:func:`running`), ``Strategy.resources``.

To add a kind of effect: add its key to ``Intervention`` in
:mod:`sim.scenario.schema`, write one function ``(Levers, Strategy) ->
Levers`` here (a field of :class:`Levers` if it changes something no effect
changed yet, read by ``compile_staircase``), put it in :data:`EFFECTS`, and
test it in ``tests/test_staircase.py``. Order matters only where two effects
add to the same array (floating-point sums are kept in the order they always
had, so that outputs stay byte-identical).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from sim.scenario import CLOSED, Intervention, Scenario, capped_steps


@dataclass(frozen=True, eq=False)
class Levers:
    """The arrays a strategy changes (``Y`` years, ``B`` age bands, ``S`` steps, ``D = S + 2``)."""

    ratio: np.ndarray  # [B, S, D] hazard ratio at the full effect (1: none)
    extra_entries: np.ndarray  # [Y] extra new cases per year
    entry_step_prob: np.ndarray  # [Y, S] where new cases enter
    capacity: np.ndarray  # [Y, S] places (inf: no limit)
    programme_cost: np.ndarray  # [Y] the programme's costs (caseworkers are added later)
    extra_caseworkers: np.ndarray  # [Y] caseworkers the strategy adds
    active: np.ndarray  # bool[Y] the programme runs
    reached: np.ndarray  # bool[S] steps whose children cost ``cost_per_child_reached``
    cost_per_child_reached: float = 0.0
    entry_reach: np.ndarray | None = None  # bool[S] the effect on rates reaches only new cases on these steps


@dataclass(frozen=True, eq=False)
class Strategy:
    """A scenario's intervention and when it takes effect, for the effects to read."""

    scenario: Scenario
    effect: np.ndarray  # [Y] how far the effect has ramped in and not faded (0..1)
    resources: np.ndarray  # [Y] how far resources bought have ramped in, while the programme runs
    runs: np.ndarray  # bool[Y] the programme runs (and costs)
    to_price_year: float  # the programme's prices to the scenario's price year

    @property
    def iv(self) -> Intervention:
        return self.scenario.intervention

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Step id to step index (made once: the effects ask for it step by step)."""
        return {s: i for i, s in enumerate(self.scenario.step_ids)}

    def column(self, dst: str) -> int:
        """The destination column of a step id, or of ``closed``."""
        return len(self.scenario.step_ids) if dst == CLOSED else self.index[dst]


Effect = Callable[[Levers, Strategy], Levers]


def ramp(scenario: Scenario) -> np.ndarray:
    """How far the strategy has ramped in, per year (0 before it starts).

    The effect grows linearly over ``ramp_up_years``: in its first year it is
    ``1 / ramp_up_years`` of the full effect, full from year ``ramp_up_years``.
    """
    years = scenario.horizon_years
    iv = scenario.intervention
    out = np.zeros(years)
    if iv is None:
        return out
    k = scenario.start_year + np.arange(years) - iv.start_year
    if iv.ramp_up_years == 0:
        out[k >= 0] = 1.0
    else:
        out = np.clip((k + 1) / iv.ramp_up_years, 0.0, 1.0)
    return out


def running(scenario: Scenario) -> np.ndarray:
    """Whether the programme runs (and costs) in each year."""
    iv = scenario.intervention
    years = scenario.start_year + np.arange(scenario.horizon_years)
    if iv is None:
        return np.zeros(len(years), dtype=bool)
    end = iv.end_year if iv.end_year is not None else years[-1]
    return (years >= iv.start_year) & (years <= end)


def fade(scenario: Scenario) -> np.ndarray:
    """How much of the (ramped) effect is left in each year (1: all of it).

    Without ``fading`` and ``end_year`` the effect lasts. Otherwise it starts
    to decline after ``fading.after_year`` (default: ``end_year``, else the
    year before the start), halving every ``half_life_years``, measured at
    mid-year: a half-life of 0 ends it at once, ``inf`` never.
    """
    iv = scenario.intervention
    years = scenario.start_year + np.arange(scenario.horizon_years)
    out = np.ones(len(years))
    if iv is None or (iv.fading is None and iv.end_year is None):
        return out
    f = iv.fading
    after = f.after_year if f is not None and f.after_year is not None else iv.end_year
    if after is None:
        after = iv.start_year - 1
    half = f.half_life_years if f is not None else 0.0
    t = years - after - 0.5  # years since the decline began, at mid-year
    late = t > 0
    if half == 0:
        out[late] = 0.0
    elif np.isfinite(half):
        out[late] = 0.5 ** (t[late] / half)
    return out


def hazard_ratios(levers: Levers, strategy: Strategy) -> Levers:
    """``hazard_ratios``: the full effect's ratio on the rate of each move (ramped in later)."""
    ratio = levers.ratio.copy()
    for src, row in strategy.iv.hazard_ratios.items():
        for dst, hr in row.items():
            ratio[:, strategy.index[src], strategy.column(dst)] = hr
    return replace(levers, ratio=ratio)


def reached_age_bands(levers: Levers, strategy: Strategy) -> Levers:
    """``reached_age_bands``: the ratios apply only to children of these ages."""
    bands = strategy.iv.reached_age_bands
    if bands is None:
        return levers
    ratio = levers.ratio.copy()
    ratio[[b for b, lab in enumerate(strategy.scenario.band_labels) if lab not in bands]] = 1.0
    return replace(levers, ratio=ratio)


def reached_entry_steps(levers: Levers, strategy: Strategy) -> Levers:
    """``reached_entry_steps``: the ratios apply only to new cases on these steps
    (``compile_staircase`` gives the others an arm of their own)."""
    steps = strategy.iv.reached_entry_steps
    if steps is None:
        return levers
    return replace(levers, entry_reach=np.array([s in steps for s in strategy.scenario.step_ids]))


def entry_change(levers: Levers, strategy: Strategy) -> Levers:
    """``entry``: more new cases (a number and a share of the baseline's), and on other steps."""
    entry, effect = strategy.iv.entry, strategy.effect
    more = (
        entry.extra_entries_per_year + entry.extra_entries_share * strategy.scenario.entries_per_year
    ) * effect
    old = levers.entry_step_prob
    new = old
    if entry.entry_step_shares is not None:
        new = np.array([entry.entry_step_shares.get(s, 0.0) for s in strategy.scenario.step_ids])[None]
    return replace(
        levers,
        extra_entries=levers.extra_entries + more,
        entry_step_prob=(1 - effect)[:, None] * old + effect[:, None] * new,
    )


def programme_costs(levers: Levers, strategy: Strategy) -> Levers:
    """``cost_per_year`` while it runs, ``one_off_cost`` in its first year, and
    ``cost_per_child_reached`` for children on ``reached_steps``."""
    iv, f = strategy.iv, strategy.to_price_year
    k = strategy.scenario.start_year + np.arange(len(strategy.runs)) - iv.start_year
    programme = levers.programme_cost.copy()
    programme[strategy.runs] += iv.cost_per_year * f
    programme[k == 0] += iv.one_off_cost * f
    reached = levers.reached.copy()
    reached[[strategy.index[s] for s in iv.reached_steps]] = True
    return replace(
        levers,
        programme_cost=programme,
        active=levers.active | strategy.runs,
        reached=reached,
        cost_per_child_reached=iv.cost_per_child_reached * f,
    )


def extra_places(levers: Levers, strategy: Strategy) -> Levers:
    """``extra_places``: places on steps with a limit, ramping in with the resources, and their cost."""
    iv, resources = strategy.iv, strategy.resources
    capacity, programme = levers.capacity.copy(), levers.programme_cost.copy()
    for sid in capped_steps(strategy.scenario):  # in this order: the costs add up as they always did
        if sid not in iv.extra_places:
            continue
        extra = iv.extra_places[sid]
        capacity[:, strategy.index[sid]] += np.round(extra.places * resources)
        programme += extra.places * resources * extra.cost_per_place_per_year * strategy.to_price_year
    return replace(levers, capacity=capacity, programme_cost=programme)


def extra_caseworkers(levers: Levers, strategy: Strategy) -> Levers:
    """``extra_caseworkers``: caseworkers ramping in with the resources (they shorten review intervals)."""
    return replace(
        levers,
        extra_caseworkers=levers.extra_caseworkers + strategy.iv.extra_caseworkers * strategy.resources,
    )


EFFECTS: tuple[Effect, ...] = (
    hazard_ratios,
    reached_age_bands,
    reached_entry_steps,
    entry_change,
    programme_costs,
    extra_places,
    extra_caseworkers,
)
"""The effects, applied in this order by :func:`apply_effects`."""


def apply_effects(levers: Levers, strategy: Strategy, effects: tuple[Effect, ...] = EFFECTS) -> Levers:
    """The baseline's ``levers`` with each of ``effects`` applied in turn."""
    for effect in effects:
        levers = effect(levers, strategy)
    return levers
