"""Random valid scenarios across the whole schema, for property-based tests (Hypothesis).

:func:`scenario_dicts` draws small populations (so that a run takes
milliseconds) with every feature the schema has: 2-6 steps, every stay law,
age-banded rates, aftercare, initial stock, places that bind (0 to a few),
waiting on a step, overflow at once or after a maximum wait, every queue
order, case reviews and caseloads, and strategies with hazard ratios, earlier
detection, extra places, extra caseworkers, ramp-up, an end year, fading and
targeting by age band and by entry step. Every dict it draws is a valid
scenario (checked by :func:`sim.scenario.Scenario.from_dict`).
"""

from __future__ import annotations

import math

from hypothesis import strategies as hs

from sim.scenario import Scenario

BANDS = [(0,), (0, 12), (0, 6, 12), (0, 3, 10, 15)]
LEAVING_AGES = [18, 15, 21]
PAYER_KEYS = ["kommune", "region", "stat"]

# The strategies of constant choices are built once here, not inline in every draw: a
# strategy written inline is built and validated anew at every call (choices given as a
# tuple instead of a list made no difference, measured), which took about half the time
# a scenario takes to draw. The same choices are drawn in the same order either way. The
# choices that depend on earlier draws (steps, age bands) are built at each draw.
_BOOL = hs.booleans()
_UP_TO = {k: hs.integers(0, k) for k in (2, 3, 4, 6, 12)}
_TWO_TO_SIX = hs.integers(2, 6)
_LAW = hs.sampled_from(("exponential", "mixture", "weibull", "lognormal"))
_ANALYTIC_LAW = hs.sampled_from(("exponential", "mixture"))
_WEIGHT = hs.sampled_from((0.0, 0.0, 0.5, 1.0, 2.0, 5.0))
_BANDED_RATE = hs.sampled_from((0.0, 0.1, 0.5, 1.5))
_RATE = hs.sampled_from((0.05, 0.2, 0.5, 1.0, 2.5))
_SHORT_SHARE = hs.sampled_from((0.2, 0.5, 0.8))
_SHORT_MEAN = hs.sampled_from((0.2, 0.5))
_LONG_MEAN = hs.sampled_from((1.5, 4.0))
_WEIBULL_SHAPE = hs.sampled_from((0.6, 1.0, 2.5))
_MEAN_YEARS = hs.sampled_from((0.5, 2.0))
_LEAVING_AGE = hs.sampled_from(LEAVING_AGES)
_BANDS = hs.sampled_from(BANDS)
_COST_PER_YEAR = hs.sampled_from((0, 10_000, 200_000, 900_000))
_ENTRY_COST = hs.sampled_from((0, 0, 5_000))
_QUEUE = hs.sampled_from(("fifo", "oldest_first", "youngest_first"))
_MAX_WAIT = hs.sampled_from((0.0, 0.1, 0.5, 2.0))
_REVIEW_MONTHS = hs.sampled_from((1, 3, 6, 12))
_REVIEW_MOVE = hs.sampled_from((0.1, 0.3, 0.5))
_CHILDREN = hs.sampled_from((5_000, 2_000))
_ENTRIES_PER_1000 = hs.sampled_from((0, 1, 4, 12))
_ENTRIES_PER_YEAR = hs.sampled_from((0, 5, 20, 60))
_DISCOUNT_RATE = hs.sampled_from((-0.05, 0.0, 0.035, 0.5))
_CASEWORKERS = hs.sampled_from((5, 20))
_CASEWORKER_COST = hs.sampled_from((500_000.0, 0.0))
_CASES = hs.sampled_from((100, 400))
_REFERENCE_CASELOAD = hs.sampled_from((20.0, 7.5))
_ADULT_YEARS = hs.sampled_from((40, 1, 10))
_ADULT_FROM_AGE = hs.sampled_from((18, 0, 25))
_ADULT_BANDED_COST = hs.sampled_from((0.0, 50_000.0, 200_000.0))
_ADULT_COST = hs.sampled_from((0.0, 80_000.0))
_OUTCOME_SHARE = hs.sampled_from((0.0, 0.2, 0.6))
_REFERENCE_SHARE = hs.sampled_from((0.05, 0.3))
_OUTCOME_COST = hs.sampled_from((0.0, -150_000.0, 90_000.0))
_IV_COST_PER_YEAR = hs.sampled_from((0, 1e6))
_IV_ONE_OFF = hs.sampled_from((0, 2e6))
_IV_COST_PER_CHILD = hs.sampled_from((0, 20_000))
_HAZARD_RATIO = hs.sampled_from((0.0, 0.5, 0.9, 1.5, 3.0))
_EXTRA_SHARE = hs.sampled_from((0.1, 0.5))
_EXTRA_ENTRIES = hs.sampled_from((2, 10))
_HALF_LIFE = hs.sampled_from((0.0, 1.0, math.inf))


def _shares(draw, keys: list[str]) -> dict[str, float]:
    """Shares over ``keys`` that sum to one (some may be 0, at least one is not)."""
    weights = [draw(_WEIGHT) for _ in keys]
    if not any(weights):
        weights[draw(hs.integers(0, len(keys) - 1))] = 1.0
    total = sum(weights)
    shares = {k: w / total for k, w in zip(keys, weights) if w}
    # Whatever rounding does, the shares must sum to 1 within the schema's tolerance.
    last = next(reversed(shares))
    shares[last] = 1.0 - sum(v for k, v in shares.items() if k != last)
    return shares


def _rate(draw, labels: list[str]) -> float | dict[str, float]:
    if draw(_UP_TO[4]) == 0 and len(labels) > 1:
        return {lab: draw(_BANDED_RATE) for lab in labels}
    return draw(_RATE)


def _payers(draw) -> dict[str, float] | None:
    """Sometimes a payers table (shares of kommune, region, stat that sum to 1)."""
    return _shares(draw, PAYER_KEYS) if draw(_UP_TO[3]) == 0 else None


def _duration(draw, analytic: bool = False) -> dict:
    kind = draw(_ANALYTIC_LAW if analytic else _LAW)
    if kind == "exponential":
        return {"dist": "exponential"}
    if kind == "mixture":
        return {
            "dist": "mixture",
            "short_share": draw(_SHORT_SHARE),
            "short_mean_years": draw(_SHORT_MEAN),
            "long_mean_years": draw(_LONG_MEAN),
        }
    if kind == "weibull":
        return {
            "dist": "weibull",
            "mean_years": draw(_MEAN_YEARS),
            "shape": draw(_WEIBULL_SHAPE),
        }
    return {"dist": "lognormal", "mean_years": draw(_MEAN_YEARS), "sigma": 0.8}


def _acyclic(overflow: dict[str, str]) -> bool:
    for start in overflow:
        seen, cur = {start}, overflow.get(start)
        while cur is not None and cur in overflow:
            if cur in seen:
                return False
            seen.add(cur)
            cur = overflow[cur]
    return True


@hs.composite
def scenario_dicts(draw, intervention: bool | None = None, analytic: bool = False) -> dict:
    """A random valid scenario as plain data (with an ``[intervention]`` unless told otherwise).

    ``analytic``: only stays and places the expected engine can represent (exponential and
    mixture stays, no finite places), so that it applies to every arm.
    """
    n = draw(_TWO_TO_SIX)
    ids = [f"s{i}" for i in range(n)]
    placement = [draw(_BOOL) for _ in ids]
    if not any(placement):
        placement[-1] = True
    leaving = draw(_LEAVING_AGE)
    bands = [e for e in draw(_BANDS) if e < leaving]
    aftercare = draw(_BOOL)
    aftercare_age = draw(hs.integers(leaving + 1, min(30, leaving + 5))) if aftercare else None
    edges = sorted(set(bands) | ({leaving} if aftercare else set()))
    top = aftercare_age or leaving
    edges = [*edges, top]
    labels = [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:])]
    child_labels = [lab for lab, lo in zip(labels, edges) if lo < leaving]
    aftercare_steps = [s for s in ids if draw(_BOOL)] or [ids[-1]] if aftercare and draw(_BOOL) else None
    in_aftercare = set(aftercare_steps or [s for s, p in zip(ids, placement) if p]) if aftercare else set()

    steps: dict = {}
    for i, sid in enumerate(ids):
        steps[sid] = {
            "name_da": f"Trin {i}",
            "name_en": f"Step {i}",
            "placement": placement[i],
            "cost_per_year": draw(_COST_PER_YEAR),
            "entry_cost": draw(_ENTRY_COST),
            "duration": _duration(draw, analytic),
        }
        if (payers := _payers(draw)) is not None:
            steps[sid]["payers"] = payers
    transitions: dict = {}
    for sid in ids:
        row = {}
        for dst in [*ids, "closed"]:
            if dst != sid and draw(_UP_TO[2]) > 0:
                row[dst] = _rate(draw, child_labels)
        if steps[sid]["duration"]["dist"] != "exponential" and not any(
            (max(r.values()) if isinstance(r, dict) else r) > 0 for r in row.values()
        ):
            row["closed"] = 0.5
        if row:
            transitions[sid] = row

    # Places: a few steps (never all) with 0 to a few places, so that they bind.
    capped = [] if analytic else [s for s in ids if draw(_UP_TO[2]) == 0]
    if len(capped) == n:
        capped = capped[:-1]
    uncapped = [s for s in ids if s not in capped]
    overflow: dict[str, str] = {}
    for sid in capped:
        cap: dict = {
            "places": draw(_UP_TO[6]),
            "queue": draw(_QUEUE),
        }
        if draw(_BOOL):
            target = draw(hs.sampled_from([s for s in ids if s != sid]))
            overflow[sid] = target
            if _acyclic(overflow):
                cap["overflow_to"] = target
                if draw(_BOOL):
                    cap["max_wait_years"] = draw(_MAX_WAIT)
            else:
                del overflow[sid]
        if draw(_BOOL):
            cap["wait_on"] = draw(hs.sampled_from(uncapped))
        steps[sid]["capacity"] = cap
    if draw(_UP_TO[3]) == 0:
        steps[uncapped[0]]["capacity"] = {"places": "unlimited"}

    entry_steps = _shares(draw, ids)

    for sid in ids:
        if draw(_UP_TO[4]) == 0:
            dests = [d for d in [*ids, "closed"] if d != sid]
            chosen = draw(hs.lists(hs.sampled_from(dests), min_size=1, max_size=2, unique=True))
            steps[sid]["review"] = {
                "interval_months": draw(_REVIEW_MONTHS),
                "moves": {d: draw(_REVIEW_MOVE) for d in chosen},
            }

    stock: dict = {}
    for sid in ids:
        if draw(_BOOL):
            allowed = labels if sid in in_aftercare else child_labels
            stock[sid] = {"children": draw(_UP_TO[12]), "age_shares": _shares(draw, allowed)}
    population = {
        "children": draw(_CHILDREN),
        "age_bands": bands,
        "leaving_age": leaving,
        "entry_age_shares": _shares(draw, child_labels),
        "entry_step_shares": entry_steps,
        "initial_stock": stock,
    }
    if draw(_UP_TO[3]) == 0:  # new cases per 1,000 children instead of a number a year
        population["entries_per_1000_children"] = float(draw(_ENTRIES_PER_1000))
    else:
        population["entries_per_year"] = float(draw(_ENTRIES_PER_YEAR))
    if aftercare:
        population["aftercare_until_age"] = aftercare_age
        if aftercare_steps is not None:
            population["aftercare_steps"] = aftercare_steps

    horizon = draw(_TWO_TO_SIX)
    start = 2024
    data: dict = {
        "name": "generated",
        "start_year": start,
        "horizon_years": horizon,
        "price_year": start,
        "steps": steps,
        "population": population,
        "transitions": transitions,
    }
    # Money: price years with an index, discount rates of the file's own.
    priced = draw(_UP_TO[3]) == 0
    if priced:
        data["prices"] = {"index": {"2020": 100.0, str(start): 112.5}}
        for st in steps.values():
            if draw(_BOOL):
                st["price_year"] = 2020
    if draw(_UP_TO[3]) == 0:
        rates = _DISCOUNT_RATE
        periods = [{"from_year": 0, "rate": draw(rates)}]
        if draw(_BOOL):
            periods.append({"from_year": draw(hs.integers(1, 3)), "rate": draw(rates)})
        data["discounting"] = {"periods": periods}
        if draw(_BOOL):
            data["discounting"]["to_year"] = start + draw(hs.integers(0, horizon - 1))
    casework = draw(_BOOL) and any("review" in st for st in steps.values())
    if casework:
        data["casework"] = {
            "caseworkers": float(draw(_CASEWORKERS)),
            "cost_per_caseworker": draw(_CASEWORKER_COST),
            "cases": float(draw(_CASES)),
            "reference_caseload": draw(_REFERENCE_CASELOAD),
        }
        if (payers := _payers(draw)) is not None:
            data["casework"]["payers"] = payers
        if priced and draw(_BOOL):
            data["casework"]["price_year"] = 2020
    # Adult life: costs by highest step (one number or one per band first reached), outcomes.
    if draw(_UP_TO[2]) == 0:
        adult: dict = {
            "years": draw(_ADULT_YEARS),
            "from_age": draw(_ADULT_FROM_AGE),
        }
        costed = draw(hs.lists(hs.sampled_from(ids), max_size=3, unique=True))
        adult["cost_per_year"] = {
            sid: ({lab: draw(_ADULT_BANDED_COST) for lab in labels} if draw(_BOOL) else draw(_ADULT_COST))
            for sid in costed
        }
        if not costed or draw(_BOOL):
            adult["outcomes"] = {
                "pension": {
                    "name_da": "på førtidspension",
                    "name_en": "on disability pension",
                    "share": {
                        sid: draw(_OUTCOME_SHARE)
                        for sid in draw(hs.lists(hs.sampled_from(ids), max_size=3, unique=True))
                    },
                    "reference_share": draw(_REFERENCE_SHARE),
                    # Outcomes may cost only when adult.cost_per_year costs nothing (no double count).
                    "cost_per_year": 0.0 if any(adult["cost_per_year"].values()) else draw(_OUTCOME_COST),
                }
            }
        if (payers := _payers(draw)) is not None:
            adult["payers"] = payers
        if priced and draw(_BOOL):
            adult["price_year"] = 2020
        data["adult"] = adult
    if intervention is None:
        intervention = draw(_BOOL)
    if intervention:
        iv: dict = {
            "start_year": start + draw(hs.integers(0, horizon - 1)),
            "ramp_up_years": draw(_UP_TO[3]),
            "cost_per_year": float(draw(_IV_COST_PER_YEAR)),
            "one_off_cost": float(draw(_IV_ONE_OFF)),
            "cost_per_child_reached": float(draw(_IV_COST_PER_CHILD)),
        }
        moves = [(s, d) for s, row in transitions.items() for d in row]
        if moves:
            chosen = draw(hs.lists(hs.sampled_from(moves), max_size=4, unique=True))
            hr: dict = {}
            for s, d in chosen:
                hr.setdefault(s, {})[d] = draw(_HAZARD_RATIO)
            iv["hazard_ratios"] = hr
        if draw(_BOOL):
            iv["entry"] = {"extra_entries_share": draw(_EXTRA_SHARE)}
            if draw(_BOOL):
                iv["entry"]["extra_entries_per_year"] = float(draw(_EXTRA_ENTRIES))
            if draw(_BOOL):
                iv["entry"]["entry_step_shares"] = _shares(draw, ids)
        if capped and draw(_BOOL):
            sid = draw(hs.sampled_from(capped))
            iv["extra_places"] = {sid: {"places": draw(hs.integers(1, 5)), "cost_per_place_per_year": 1e5}}
        if casework and draw(_BOOL):
            iv["extra_caseworkers"] = float(draw(_CASEWORKERS))
        if draw(_BOOL):
            iv["end_year"] = iv["start_year"] + draw(_UP_TO[3])
        if draw(_BOOL):
            iv["fading"] = {"half_life_years": draw(_HALF_LIFE)}
            if draw(_BOOL):  # fade from a year of its own: from the start on, or later
                iv["fading"]["after_year"] = iv["start_year"] - 1 + draw(_UP_TO[3])
        if (payers := _payers(draw)) is not None:
            iv["payers"] = payers
        if priced and draw(_BOOL):
            iv["price_year"] = 2020
        if draw(_UP_TO[3]) == 0:
            iv["reached_age_bands"] = draw(hs.lists(hs.sampled_from(labels), min_size=1, unique=True))
        if draw(_UP_TO[3]) == 0:
            iv["reached_entry_steps"] = draw(hs.lists(hs.sampled_from(ids), min_size=1, unique=True))
        if draw(_BOOL):
            iv["reached_steps"] = draw(hs.lists(hs.sampled_from(ids), max_size=2, unique=True))
        if not iv.get("reached_steps"):
            iv["cost_per_child_reached"] = 0.0  # a cost per child reached needs steps to reach (validation)
        data["intervention"] = iv
    # A step children reach from outside (new cases, the strategy's too, or
    # overflow) and that may be full needs a step below it without places to
    # wait on, or a wait_on.
    strategy_entry = data.get("intervention", {}).get("entry", {}).get("entry_step_shares", {})
    for sid in capped:
        cap = steps[sid]["capacity"]
        arrives = entry_steps.get(sid, 0) > 0 or strategy_entry.get(sid, 0) > 0 or sid in overflow.values()
        sends_at_once = "overflow_to" in cap and not cap.get("max_wait_years")
        below = [x for x in ids[: ids.index(sid)] if x not in capped]
        if arrives and "wait_on" not in cap and not sends_at_once and not below:
            cap["wait_on"] = draw(hs.sampled_from(uncapped))
    return data


def arms(data: dict) -> list[Scenario]:
    """The scenario of a generated dict and, if it has a strategy, its baseline (the same without it)."""
    plan = Scenario.from_dict(data)
    if "intervention" not in data:
        return [plan]
    # A shallow copy is enough: from_dict copies what it is given deeply before it reads it.
    base = {key: value for key, value in data.items() if key != "intervention"}
    return [Scenario.from_dict(base), plan]
