"""Checks across keys: steps named exist, shares sum to one, places and reviews fit."""

from __future__ import annotations

import difflib
import math

from sim.errors import ScenarioError
from sim.scenario.schema import CLOSED, Exponential, Scenario

# ---------------------------------------------------------------------------
# Cross-field checks
# ---------------------------------------------------------------------------


def _shares_sum_to_one(shares: dict[str, float], file: str, key: str) -> None:
    total = sum(shares.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ScenarioError(file, key, f"shares must sum to 1 (they sum to {total:.6g})")


def _known(name: str, allowed: list[str], file: str, key: str, what: str) -> None:
    if name not in allowed:
        hint = difflib.get_close_matches(name, allowed, n=1)
        did = f" Did you mean '{hint[0]}'?" if hint else ""
        raise ScenarioError(file, key, f"unknown {what} '{name}'.{did} Allowed: {', '.join(allowed)}.")


def _check_adult(s: Scenario, file: str) -> None:
    adult = s.adult
    if not adult.cost_per_year and not adult.outcomes:
        raise ScenarioError(
            file,
            "adult",
            "gives neither cost_per_year nor outcomes: give one, or leave the [adult] table out",
        )
    costly = [k for k, o in adult.outcomes.items() if o.cost_per_year != 0]
    if costly and any(adult.cost_per_year.values()):
        raise ScenarioError(
            file,
            f"adult.outcomes.{costly[0]}.cost_per_year",
            "would count the same money twice: adult.cost_per_year (a lifetime gap in net public "
            "contribution) already holds work, benefits and pensions; cost adult life one way, "
            "and leave the outcomes' cost_per_year at 0 to count persons only",
        )
    for key, outcome in adult.outcomes.items():
        if not key.isidentifier():
            raise ScenarioError(
                file, f"adult.outcomes.{key}", "an outcome's key must be a plain name (letters, digits, _)"
            )
        for step in outcome.share:
            _known(step, s.step_ids, file, f"adult.outcomes.{key}.share.{step}", "step")


def _check_consistency(s: Scenario, file: str) -> None:
    steps = s.step_ids
    if len(steps) < 2:
        raise ScenarioError(file, "steps", "at least two steps are needed")
    if CLOSED in steps:
        raise ScenarioError(file, f"steps.{CLOSED}", f"'{CLOSED}' is reserved for case closure")
    if not any(st.placement for st in s.steps.values()):
        raise ScenarioError(file, "steps", "at least one step must have placement = true")
    last = s.start_year + s.horizon_years - 1
    if s.discounting.to_year is not None and not s.start_year <= s.discounting.to_year <= last:
        raise ScenarioError(
            file,
            "discounting.to_year",
            f"must be a simulated year, {s.start_year} to {last} (got {s.discounting.to_year})",
        )
    if s.prices is not None:
        for year in s.prices.index:
            if not (year.isdigit() and len(year) == 4):
                raise ScenarioError(file, f"prices.index.{year}", 'keys must be years, such as "2019"')
    lines = [(f"steps.{k}", st.price_year) for k, st in s.steps.items()]
    lines += [("casework", s.casework.price_year if s.casework else None)]
    lines += [("intervention", s.intervention.price_year if s.intervention else None)]
    lines += [("adult", s.adult.price_year if s.adult else None)]
    if s.adult is not None:
        _check_adult(s, file)
        for step, cost in s.adult.cost_per_year.items():
            _known(step, s.step_ids, file, f"adult.cost_per_year.{step}", "step")
            for band in cost if isinstance(cost, dict) else ():
                _known(band, s.band_labels, file, f"adult.cost_per_year.{step}.{band}", "age band")
    for where, year in lines:
        if year is None or year == s.price_year:
            continue
        have = sorted(s.prices.index) if s.prices is not None else []
        for needed in (year, s.price_year):
            if str(needed) not in have:
                given = (
                    f"prices.index has {', '.join(have)}" if have else "the scenario has no [prices] index"
                )
                raise ScenarioError(
                    file,
                    f"{where}.price_year" if needed == year else "price_year",
                    f"no price index for {needed}: {given}; add the year to prices.index, or give the "
                    f"costs in {s.price_year} prices",
                )
    tables = [(f"steps.{k}.payers", st.payers) for k, st in s.steps.items()]
    tables += [("casework.payers", s.casework.payers if s.casework else None)]
    tables += [("intervention.payers", s.intervention.payers if s.intervention else None)]
    tables += [("adult.payers", s.adult.payers if s.adult else None)]
    for key, payers in tables:
        if payers is not None:
            _shares_sum_to_one(dict(payers), file, key)
    iv = s.intervention
    if iv is not None:
        if iv.end_year is not None and iv.end_year < iv.start_year:
            raise ScenarioError(
                file,
                "intervention.end_year",
                f"must not be before start_year {iv.start_year} (got {iv.end_year})",
            )
        if (
            iv.fading is not None
            and iv.fading.after_year is not None
            and iv.fading.after_year < iv.start_year - 1
        ):
            raise ScenarioError(
                file,
                "intervention.fading.after_year",
                f"must be {iv.start_year - 1} (fade from the start) or later (got {iv.fading.after_year})",
            )
        for band in iv.reached_age_bands or ():
            _known(band, s.band_labels, file, "intervention.reached_age_bands", "age band")
        for sid in iv.reached_entry_steps or ():
            _known(sid, s.step_ids, file, "intervention.reached_entry_steps", "step")
    pop = s.population
    ages = sorted(pop.age_bands)
    if list(pop.age_bands) != ages or len(set(ages)) != len(ages) or ages[0] != 0:
        raise ScenarioError(file, "population.age_bands", "lower band edges must start at 0 and increase")
    if ages[-1] >= pop.leaving_age:
        raise ScenarioError(
            file, "population.age_bands", f"band edges must be below leaving_age ({pop.leaving_age})"
        )
    if pop.aftercare_until_age is not None and pop.aftercare_until_age <= pop.leaving_age:
        raise ScenarioError(
            file, "population.aftercare_until_age", f"must be above leaving_age ({pop.leaving_age})"
        )
    if (pop.entries_per_year is None) == (pop.entries_per_1000_children is None):
        raise ScenarioError(
            file,
            "population.entries_per_year",
            "give exactly one of entries_per_year and entries_per_1000_children",
        )
    labels = s.band_labels
    entry_labels = [lab for lab, lo in zip(labels, s.band_edges) if lo < pop.leaving_age]
    for lab in pop.entry_age_shares:
        _known(lab, entry_labels, file, f"population.entry_age_shares.{lab}", "age band")
    _shares_sum_to_one(pop.entry_age_shares, file, "population.entry_age_shares")
    for st in pop.entry_step_shares:
        _known(st, steps, file, f"population.entry_step_shares.{st}", "step")
    _shares_sum_to_one(pop.entry_step_shares, file, "population.entry_step_shares")
    aftercare = set(pop.aftercare_steps or (k for k, v in s.steps.items() if v.placement))
    for st, stock in pop.initial_stock.items():
        _known(st, steps, file, f"population.initial_stock.{st}", "step")
        allowed = labels if (pop.aftercare_until_age and st in aftercare) else entry_labels
        for lab in stock.age_shares:
            key = f"population.initial_stock.{st}.age_shares.{lab}"
            _known(lab, labels, file, key, "age band")
            if lab not in allowed and stock.age_shares[lab] > 0:
                raise ScenarioError(
                    file,
                    key,
                    f"children on '{st}' leave at {pop.leaving_age}; allowed bands: {', '.join(allowed)}",
                )
        _shares_sum_to_one(stock.age_shares, file, f"population.initial_stock.{st}.age_shares")
    for st in pop.aftercare_steps or ():
        _known(st, steps, file, "population.aftercare_steps", "step")
    destinations = {*steps, CLOSED}
    for src, row in s.transitions.items():
        _known(src, steps, file, f"transitions.{src}", "step")
        for dst, rate in row.items():
            if dst == src:
                raise ScenarioError(file, f"transitions.{src}.{dst}", "a step cannot move to itself")
            # The message's list and key are made only for an unknown destination (every validation
            # passes here, the page's at every lever move).
            if dst not in destinations:
                allowed = [*(x for x in steps if x != src), CLOSED]
                _known(dst, allowed, file, f"transitions.{src}.{dst}", "destination")
            if isinstance(rate, dict):
                key = f"transitions.{src}.{dst}"
                for lab in rate:
                    _known(lab, labels, file, f"{key}.{lab}", "age band")
                # Aftercare bands may be left out: they inherit the last child band.
                missing = [lab for lab in entry_labels if lab not in rate]
                if missing:
                    raise ScenarioError(
                        file, key, f"give a rate for every age band; missing: {', '.join(missing)}"
                    )
    for sid, step in s.steps.items():
        if not isinstance(step.duration, Exponential):
            row = s.transitions.get(sid, {})
            if not any(_max_rate(r) > 0 for r in row.values()):
                raise ScenarioError(
                    file,
                    f"steps.{sid}.duration",
                    "a step with a non-exponential duration needs transitions saying where "
                    "children go (their rates are used as proportions)",
                )
    _check_capacity_and_reviews(s, file)
    iv = s.intervention
    if iv is not None:
        if iv.start_year < s.start_year:
            raise ScenarioError(
                file, "intervention.start_year", f"must not be before start_year ({s.start_year})"
            )
        for src, row in iv.hazard_ratios.items():
            _known(src, steps, file, f"intervention.hazard_ratios.{src}", "step")
            for dst in row:
                key = f"intervention.hazard_ratios.{src}.{dst}"
                # A hazard ratio scales a move the baseline has: those are the ones to suggest.
                _known(
                    dst,
                    [*steps, CLOSED] if dst in steps else list(s.transitions.get(src, {})),
                    file,
                    key,
                    "destination",
                )
                if dst not in s.transitions.get(src, {}):
                    raise ScenarioError(
                        file, key, f"there is no transition {src} -> {dst} in the baseline to scale"
                    )
        if iv.entry.entry_step_shares is not None:
            for st in iv.entry.entry_step_shares:
                _known(st, steps, file, f"intervention.entry.entry_step_shares.{st}", "step")
            _shares_sum_to_one(iv.entry.entry_step_shares, file, "intervention.entry.entry_step_shares")
        for st in iv.reached_steps:
            _known(st, steps, file, "intervention.reached_steps", "step")
        if iv.cost_per_child_reached > 0 and not iv.reached_steps:
            # Without steps nobody is reached: the cost would be left out of every figure without a word.
            raise ScenarioError(
                file,
                "intervention.cost_per_child_reached",
                "is paid per child entering the steps in intervention.reached_steps, which names none; "
                f"name the steps (allowed: {', '.join(steps)}) or leave the cost out",
            )
        for st in iv.extra_places:
            key = f"intervention.extra_places.{st}"
            _known(st, steps, file, key, "step")
            if capped_steps(s).get(st) is None:
                raise ScenarioError(file, key, f"step '{st}' has no capacity limit to add places to")
        if iv.extra_caseworkers and s.casework is None:
            raise ScenarioError(
                file,
                "intervention.extra_caseworkers",
                "needs a [casework] table (caseworkers, cases, caseload)",
            )


def _max_rate(rate: float | dict[str, float]) -> float:
    return max(rate.values()) if isinstance(rate, dict) else rate


def stock_above_places(s: Scenario) -> list[str]:
    """Notes for steps that hold, or may come to hold, more children than places.

    Allowed: children at the start may outnumber the places (it is how a
    shortage looks on day one), and a strategy's extra places may end while
    children are in them (nobody is moved out because a place is cut). In
    both cases nobody is admitted until fewer children than places are there.
    """
    notes = []
    for sid, places in capped_steps(s).items():
        stock = s.population.initial_stock.get(sid)
        if stock is not None and stock.children > places:
            notes.append(
                f"steps.{sid}: {stock.children:,} children at the start but {places:,} places; "
                f"nobody is admitted until fewer than {places:,} are there"
            )
    iv = s.intervention
    if iv is not None and iv.end_year is not None and iv.end_year < s.start_year + s.horizon_years - 1:
        for sid, extra in iv.extra_places.items():
            if extra.places:
                notes.append(
                    f"intervention.extra_places.{sid}: the {extra.places:,} extra places end after "
                    f"{iv.end_year}; the children in them stay until they leave, so '{sid}' may hold more "
                    "children than places for a while, and nobody is admitted until fewer than its places are there"
                )
    return notes


def capped_steps(s: Scenario) -> dict[str, int]:
    """Steps with a finite number of places, and that number."""
    return {
        sid: st.capacity.places
        for sid, st in s.steps.items()
        if st.capacity is not None and st.capacity.places != "unlimited"
    }


def _check_capacity_and_reviews(s: Scenario, file: str) -> None:
    steps = s.step_ids
    capped = capped_steps(s)
    for sid, st in s.steps.items():
        cap = st.capacity
        if cap is not None:
            key = f"steps.{sid}.capacity"
            if cap.overflow_to is not None:
                _known(cap.overflow_to, steps, file, f"{key}.overflow_to", "step")
                if cap.overflow_to == sid:
                    raise ScenarioError(file, f"{key}.overflow_to", "a step cannot overflow to itself")
            elif cap.max_wait_years is not None:
                raise ScenarioError(
                    file,
                    f"{key}.max_wait_years",
                    "a maximum wait needs overflow_to: where the child goes after it",
                )
            if cap.wait_on is not None:
                _known(cap.wait_on, steps, file, f"{key}.wait_on", "step")
                if cap.wait_on in capped or cap.wait_on == sid:
                    raise ScenarioError(
                        file, f"{key}.wait_on", "children must wait on a step without a capacity limit"
                    )
        # A new case sent straight onto a full step, or a child sent on by
        # another full step, waits on a step below it.
        sent_here = any(o.capacity is not None and o.capacity.overflow_to == sid for o in s.steps.values())
        # New cases come where the baseline's shares say, and, as a strategy ramps in, where its say.
        iv = s.intervention
        shares = [s.population.entry_step_shares]
        if iv is not None and iv.entry.entry_step_shares is not None:
            shares.append(iv.entry.entry_step_shares)
        arrives = any(sh.get(sid, 0) > 0 for sh in shares) or sent_here
        if sid in capped and arrives and cap.wait_on is None:
            if cap.overflow_to is None or (cap.max_wait_years or 0) > 0:
                below = [x for x in steps[: steps.index(sid)] if x not in capped]
                if not below:
                    raise ScenarioError(
                        file,
                        f"steps.{sid}.capacity.wait_on",
                        "children arrive on this step from outside (new cases or overflow); name the "
                        "step they wait on while it is full",
                    )
        rv = st.review
        if rv is not None:
            key = f"steps.{sid}.review"
            for dst in rv.moves:
                if dst == sid:
                    raise ScenarioError(
                        file, f"{key}.moves.{dst}", "a review cannot move a child to its own step"
                    )
                _known(
                    dst, [*(x for x in steps if x != sid), CLOSED], file, f"{key}.moves.{dst}", "destination"
                )
            total = sum(rv.moves.values())
            if total > 1 + 1e-9:
                raise ScenarioError(
                    file,
                    f"{key}.moves",
                    f"probabilities per review must sum to at most 1 (they sum to {total:.6g})",
                )
    # Overflow must end somewhere: no cycles a -> b -> a.
    for sid in capped:
        chain, cur = [sid], s.steps[sid].capacity.overflow_to
        while cur is not None and cur in capped:
            if cur in chain:
                raise ScenarioError(
                    file,
                    f"steps.{sid}.capacity.overflow_to",
                    f"a cycle of overflows: {' -> '.join([*chain, cur])}; one step in it must wait instead",
                )
            chain.append(cur)
            cur = s.steps[cur].capacity.overflow_to
