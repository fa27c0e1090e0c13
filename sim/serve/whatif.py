"""What the page shows for a state of its levers: figures and charts from the expected engine.

The server is the library's client: the arms come from ``with_changes``
(:func:`sim.serve.levers.arms`), the comparison from :func:`sim.compare`
with the expected engine, the figures from :func:`sim.key_figures`, the same
as the command line's. Steps with a limit on places make children wait for
each other, which the expected engine cannot represent: the live figures then
lift the limits, and say so; "Run the simulation" counts the places.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from sim.errors import UserError
from sim.outputs import language as L
from sim.outputs.plots import npv_parts
from sim.scenario import Scenario
from sim.serve import charts
from sim.serve.levers import Lever, State, arms
from sim.serve.words import word

LIVE_ROWS = ("placement_entries_avoided", "npv", "roi", "payback_year")
"""The figures the page shows large, in this order."""


@dataclass
class View:
    """One state of the page, computed: the figures, the charts, and the messages by lever."""

    state: State
    errors: dict[str, str]
    figures: list[dict[str, Any]] = field(default_factory=list)
    headline: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    uncapped: bool = False
    through_places: bool = False
    arms: tuple[Scenario, Scenario] | None = None
    payer_note: str = ""
    computed: bool = False
    base_changed: bool = False
    last_year: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and self.computed

    def shipped(self) -> View:
        """The view without its arms, as a worker process sends it back (what the page shows)."""
        return replace(self, arms=None)


def uncapped(scenario: Scenario) -> Scenario:
    """The scenario with every limit on places lifted (for the expected engine), and so no extra places."""
    changes: dict[str, Any] = {
        f"steps.{s}.capacity.places": "unlimited"
        for s, places in _places(scenario).items()
        if places != "unlimited"
    }
    if not changes:
        return scenario
    if scenario.intervention is not None and scenario.intervention.extra_places:
        changes["intervention.extra_places"] = {}  # places added to a step without a limit mean nothing
    return scenario.with_changes(changes, warn=False)


def _places(scenario: Scenario) -> dict[str, Any]:
    """The places of each step with a capacity table (a number, or ``"unlimited"``)."""
    return {
        s: scenario.steps[s].capacity.places
        for s in scenario.step_ids
        if scenario.steps[s].capacity is not None
    }


def has_places(scenario: Scenario) -> bool:
    """Whether a step of the scenario has a limit on its places."""
    return any(places != "unlimited" for places in _places(scenario).values())


class Loaded:
    """A loaded file's object as part of a cache key: equal only to itself.

    A file read again (changed on disk) is a new object, so every figure kept
    for the old one is a miss; and the key holds the object, so its ``id``
    is never reused while a cache keeps the entry.
    """

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loaded) and other.obj is self.obj

    def __repr__(self) -> str:
        return f"Loaded({type(self.obj).__name__} at {id(self.obj):#x})"


class ArmCache:
    """The baseline's compiled arm and expected measures, by the levers that change it.

    Most lever moves change only the strategy: the baseline's arm (half the
    work of a comparison) is then taken from here.
    """

    def __init__(self, size: int = 32) -> None:
        self._lock = threading.Lock()
        self._arms: OrderedDict[Any, tuple] = OrderedDict()
        self.size = size

    def get(self, key: Any, scenario: Scenario) -> tuple:
        """The arm of ``scenario``, which ``key`` must identify (with the file it came from)."""
        with self._lock:
            hit = self._arms.get(key)
            if hit is not None:
                self._arms.move_to_end(key)
                return hit
        st, measures = _arm(scenario)
        with self._lock:
            self._arms[key] = (st, measures)
            while len(self._arms) > self.size:
                self._arms.popitem(last=False)
        return st, measures


def _arm(scenario: Scenario) -> tuple:
    from sim.model.staircase import compile_staircase
    from sim.run.experiment import DEFAULT_SEED, _stack, replication

    st = compile_staircase(scenario)
    return st, _stack([replication(st, "expected", DEFAULT_SEED, 0)])


def comparison(
    base: Scenario, strategy: Scenario, perspective: str, cache: ArmCache | None = None, key: Any = None
):
    """The expected engine's comparison of two arms (limits on places lifted), as :func:`sim.compare` makes it.

    With a cache, the baseline's arm is computed once per ``key`` (the
    levers that change it); the numbers are the same (tested against
    ``sim.compare`` on the downloaded files).
    """
    from sim.economics.comparison import check_perspective, compare_arrays
    from sim.run.experiment import DEFAULT_SEED, Comparison, Result, check_pair

    a, b = uncapped(base), uncapped(strategy)
    check_perspective(perspective)
    check_pair(a, b)
    st_a, ma = cache.get(key, a) if cache is not None and key is not None else _arm(a)
    st_b, mb = _arm(b)
    if b is not strategy and strategy.intervention is not None and strategy.intervention.extra_places:
        # The places a strategy buys are lifted with the limits, but not their cost: the page shows
        # the strategy's cost without its effect (as it says), not without the places it pays for.
        from sim.model.staircase import compile_staircase

        st_b = st_b.with_parts(programme_cost=compile_staircase(strategy).programme_cost)
    res_a = Result(a, st_a, "expected", DEFAULT_SEED, 1, ma, None, None)
    res_b = Result(b, st_b, "expected", DEFAULT_SEED, 1, mb, None, None)
    return Comparison(res_a, res_b, compare_arrays(ma, mb, st_a, st_b, perspective), perspective)


def compute(
    levers: list[Lever],
    state: State,
    base: Scenario,
    strategy: Scenario,
    lang: str,
    cache: ArmCache | None = None,
    key: Any = None,
) -> View:
    """The view of a state: its figures and charts, or the messages that stop them.

    ``cache`` and ``key`` keep the baseline's arm between states whose
    levers leave it alone (:class:`ArmCache`).
    """
    made = arms(levers, state, base, strategy, lang)  # unreadable levers at the files' values
    if state.errors or isinstance(made, dict):
        # Every message at once: what could not be read, and what validation refuses of the rest.
        return View(state, {**(made if isinstance(made, dict) else {}), **state.errors})
    a, b = made
    view = View(
        state, {}, arms=made, base_changed=a is not base, last_year=a.start_year + a.horizon_years - 1
    )
    view.uncapped = has_places(a) or has_places(b)
    # A strategy that works through places (more of them) has no effect at all once limits are lifted.
    view.through_places = view.uncapped and (
        bool(b.intervention is not None and b.intervention.extra_places) or _places(a) != _places(b)
    )
    try:
        cmp = comparison(a, b, state.perspective, cache, key)
    except UserError as err:  # said on the page, beside no field in particular; never a broken page
        return View(state, {"page": str(err)})
    fill(view, cmp, lang)
    return view


def fill(view: View, cmp, lang: str) -> None:
    """Figures, headline and charts of a comparison, into ``view``."""
    from sim.outputs.report import key_figure_records

    view.figures = key_figure_records(cmp, lang)
    by = {r["metric"]: r for r in view.figures}
    view.headline = [by[m] for m in LIVE_ROWS if m in by]
    note = L.money_note(cmp.base.scenario, lang)  # under the figures, and in two charts' titles
    view.charts = draw(cmp, lang, note)
    view.notes = [note]
    view.payer_note = payer_note(cmp, lang)
    view.computed = True


def draw(cmp, lang: str, unit: str) -> dict[str, str]:
    """The page's three charts of a comparison, as SVG; ``unit``: its money note (``money_note``)."""
    base = cmp.base.scenario
    years = [int(y) for y in cmp.years]
    placed = {}
    for key, arm in (("without", cmp.base), ("with", cmp.strategy)):
        placed[key] = (arm.mean_measures["stock_end"] * arm.staircase.placement).sum(-1)
    iv = cmp.strategy.scenario.intervention
    m = cmp.mean_arrays
    currency = base.currency
    pay = float(m["total_payback_year"][0])
    items = npv_parts(cmp, lang)
    return {
        "placed": charts.placed(
            years,
            [float(x) for x in placed["without"]],
            [float(x) for x in placed["with"]],
            iv.start_year if iv is not None else None,
            {
                "without": L.t("without", lang),
                "with": L.t("with", lang),
                "start": L.t("strategy_starts", lang, year=iv.start_year if iv else ""),
                "axis": L.t("placed_axis", lang),
                "title": L.t("placed_axis", lang),
            },
            lang,
        ),
        "jcurve": charts.jcurve(
            years,
            [float(x) for x in m["cum_net_savings_discounted"][0]],
            pay if math.isfinite(pay) else None,
            currency,
            {
                "axis": L.t("cum_net_axis", lang),  # the unit follows in brackets: no "(expected)" before it
                "payback": L.t("payback_mark", lang, year=int(pay)) if math.isfinite(pay) else "",
                "title": L.t("cum_net_expected", lang) + ". " + unit,
            },
            lang,
        ),
        "waterfall": charts.waterfall(
            items,
            # Danish compounds break between their parts, not where a vowel rule would cut them.
            L.t("kf_npv", lang).replace("Nettonutids", "Netto" + charts.SOFT_HYPHEN + "nutids"),
            currency,
            {"axis": L.t("kf_npv", lang), "title": L.t("kf_npv", lang) + ". " + unit},
            lang,
        ),
    }


class BreakEvenCache:
    """Break-even effects by the state's arms and perspective (a search takes about half a second;
    None: nothing for the effect size to scale).

    Requests for the same key while it is being solved wait for that search
    instead of starting their own.
    """

    def __init__(self, size: int = 256) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple, float | None] = OrderedDict()
        self._solving: dict[tuple, threading.Event] = {}
        self.size = size

    def get(self, key: tuple, solve) -> float | None:
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
                running = self._solving.get(key)
                if running is None:
                    done = self._solving[key] = threading.Event()
                    break
            running.wait()
        try:
            value = solve()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._solving.pop(key, None)
            done.set()


def break_even_effect(base: Scenario, strategy: Scenario, perspective: str) -> float:
    """The share of the strategy's assumed effect at which its NPV is zero (nan: none; inf: never)."""
    import sim

    try:
        return float(
            sim.break_even(uncapped(base), uncapped(strategy), on="effect", perspective=perspective).value
        )
    except ValueError:
        return math.nan


def break_even_text(theta: float, lang: str, top: float = 1.5) -> str:
    """``"pays back from 36 % of the assumed effect"`` (or why there is no such share on the lever)."""
    if theta is None or (isinstance(theta, float) and math.isnan(theta)):
        return word("be_none", lang)
    if math.isinf(theta) or theta > 64:
        return word("be_never", lang)
    if theta <= 0:
        return word("be_always", lang)
    if theta > top:  # true, but off the lever: say so; far off it, not as "from 3,828 %"
        far = FAR_BEYOND * top
        share = (
            L.percent(theta, lang) if theta <= far else word("be_more_than", lang, share=L.percent(far, lang))
        )
        return word("be_beyond", lang, top=L.percent(top, lang), share=share)
    if L.shows_as_zero_percent(theta, lang):  # "from 0 %", beside the negative NPV of no effect
        return word("be_above_zero", lang)
    return word("be_from", lang, share=L.percent(theta, lang))


FAR_BEYOND = 4
"""Break-even effects beyond this many times the lever's top are given as "more than" that."""


def payer_note(cmp, lang: str) -> str:
    """Why the chosen payer's figures look as they do, where the files make them trivial ('' if not)."""
    from sim.outputs.report import has_payers

    m = cmp.mean_arrays
    whose = L.t("persp_" + cmp.perspective, lang)
    if float(m["total_investment_pv"][0]) == 0 and float(m["total_gross_savings_pv"][0]) == 0:
        return word("zero_payer", lang, whose=whose)
    if cmp.perspective == "society" and not has_payers(cmp):
        return word("society_is_kommune", lang)
    return ""
