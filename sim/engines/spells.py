"""From the spell log to yearly tables, vectorised (never a row per event).

Both engines end here in the same shape: a ``[year, step]`` array per
measure (:data:`sim.engines.measures.MEASURES`). :func:`measures_from_spells` turns a
discrete-event spell log into it; the expected engine produces it directly.
"""

from __future__ import annotations

import numpy as np

from sim.engines.des import CENSORED, FROM_OUTSIDE, FROM_STOCK, SpellLog
from sim.engines.measures import MEASURES
from sim.model.staircase import Staircase


def _count(
    Y: int, S: int, years: np.ndarray, steps: np.ndarray, weights=None, where: np.ndarray | None = None
) -> np.ndarray:
    """Sum ``weights`` (or count) into a ``[Y, S]`` table, over the rows ``where`` is true (all rows
    if ``None``); years outside are dropped."""
    return _tally(Y, S, years, steps, where, 1, weights)[0]


def _tally(
    Y: int,
    S: int,
    years: np.ndarray,
    steps: np.ndarray,
    code: np.ndarray | None,
    n: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Sum ``weights`` (or count) into ``n`` tables ``[n, Y, S]`` at once, row ``i`` into table
    ``code[i]`` (dropped where ``code`` is negative); years outside are dropped. A boolean
    ``code`` keeps its true rows in table 0; ``None`` keeps all.

    One pass over the log for several measures whose rows fall in exclusive
    classes: a spell log has millions of rows, and its passes, not the tiny
    tables, take the time. Rows left out go to one spare bin instead of being
    copied out first, and each bin still adds its own rows in the log's order,
    so every table is the same to the last bit as summing its rows alone.
    """
    # In bincount's own index type from the start: it would copy any other.
    cell = years * np.intp(S)
    cell += steps
    out = (years < 0) | (years >= Y)
    if code is not None and code.dtype == bool:
        out |= ~code
    elif code is not None:
        out |= code < 0
        cell += code * np.intp(Y * S)
    np.copyto(cell, n * Y * S, where=out)
    sums = np.bincount(cell, weights=weights, minlength=n * Y * S + 1)[: n * Y * S]
    return sums.reshape(n, Y, S).astype(float)


# Classes of a stay by its first year (a bit each, any combination): in the year-end stock from
# then, a new case, moved in from another step, first placed.
_IN_STOCK, _NEW, _MOVED_IN, _FIRST_PLACED = 1, 2, 4, 8


def _with_bit(tables: np.ndarray, bit: int) -> np.ndarray:
    """The sum of the tables of every class with ``bit`` (counts: exact in any order)."""
    return tables[[c for c in range(len(tables)) if c & bit]].sum(axis=0)


def measures_from_spells(log: SpellLog, st: Staircase) -> dict[str, np.ndarray]:
    """Yearly measures per step from a spell log.

    Parameters
    ----------
    log : SpellLog
        One replication of one arm.
    st : Staircase
        The arm it came from (step order, placement flags).

    Returns
    -------
    dict of str to numpy.ndarray
        Each measure as a ``[year, step]`` array.
    """
    Y, S = log.horizon, st.n_steps
    out: dict[str, np.ndarray] = {}
    step = log.step.astype(np.int32)
    start = log.start
    end = np.minimum(log.end, float(Y))
    ys = np.floor(start).astype(np.int32)
    ye = np.floor(end).astype(np.int32)

    # Present at the end of 31 December of year y: start < y + 1 <= end (a
    # child who moves at midnight counts where it was). A difference array
    # over years: +1 in the first such year, -1 after the last.
    hi = np.minimum(ye - 1, Y - 1)
    hi[np.isinf(log.end)] = Y - 1
    keep = hi >= ys
    # The counts by first year, in one pass: the stock's +1 and the entries.
    frm = log.from_step
    new = frm == FROM_OUTSIDE
    moved_in = (frm >= 0) & (frm != step)  # staying on to wait is no move
    placed = st.placement
    first_placed = placed[step] & (new | (moved_in & ~placed[np.maximum(frm, 0)]))
    cls = keep.astype(np.int8)
    cls |= new.view(np.int8) << 1
    cls |= moved_in.view(np.int8) << 2
    cls |= first_placed.view(np.int8) << 3
    by_start = _tally(Y + 1, S, ys, step, cls, 16)
    del new, moved_in, first_placed, cls
    diff = _with_bit(by_start, _IN_STOCK) - _count(Y + 1, S, hi + 1, step, where=keep)
    out["stock_end"] = np.cumsum(diff, axis=0)[:Y]
    out["new_cases"] = _with_bit(by_start, _NEW)[:Y]
    out["moves_in"] = _with_bit(by_start, _MOVED_IN)[:Y]
    out["placement_entries"] = _with_bit(by_start, _FIRST_PLACED)[:Y]
    del hi, keep, diff, by_start

    # Child-years: partial first and last years, whole years in between.
    same = ys == ye
    d = ~same
    # A stay within one year (class 0) and the first part of a longer one (class 1): one pass.
    part = np.where(same, end - start, (ys + 1) - start)
    first = _tally(Y, S, ys, step, d.view(np.int8), 2, part)
    del part
    cy = first[0]
    cy += first[1]
    cy += _count(Y, S, ye, step, end - ye, where=d)
    has = d & (ye > ys + 1)
    full = _count(Y + 1, S, ys + 1, step, where=has) - _count(Y + 1, S, np.minimum(ye, Y), step, where=has)
    out["child_years"] = cy + np.cumsum(full, axis=0)[:Y]
    del same, d, has, full, end, ye, ys

    to = log.to_step.astype(np.int32)
    # Ended stays by the year they end (censored ones end at inf: no year).
    ended = to != CENSORED
    ye_end = np.where(ended, np.floor(np.where(ended, log.end, 0.0)), -1).astype(np.int32)
    # Staying on to wait for a full step (WAITS) is no move: the waiting stay
    # that follows starts on the same step, and is no move in either.
    # Classes: 0 up, 1 down, 2 case closed, 3 aged out; -1 none of these.
    moves = ended & (to >= 0) & (to < S)
    how = np.full(len(to), -1, dtype=np.int8)
    how[moves & (to > step)] = 0
    how[moves & (to < step)] = 1
    how[to == S] = 2
    how[to == S + 1] = 3
    by_end = _tally(Y, S, ye_end, step, how, 4)
    out["moves_up"], out["moves_down"], out["closed"], out["aged_out"] = by_end
    out.update(_waiting(log, Y, S))
    out["reviews"] = log.reviews.astype(float)
    out.update(adult_measures(log, st))
    return {m: out[m] for m in MEASURES}


def adult_measures(log: SpellLog, st: Staircase) -> dict[str, np.ndarray]:
    """Children leaving the staircase, by exit year and highest step, and the present value of their adult costs.

    A child's highest step is the most intrusive it was ever on; its age
    then is its age when it first came onto that step. A child who leaves
    (case closed or aged out) within the horizon costs ``adult_cost[highest,
    band]`` a year for ``adult_years`` years, starting at ``adult_from_age``
    or at leaving, whichever is later, each year discounted to the discount
    year (``long_discount``). Children still on the staircase at the end are
    not counted: their adult lives start after the horizon.
    """
    Y, S = log.horizon, st.n_steps
    leavers = np.zeros((Y, S))
    pv = np.zeros((Y, S))
    if not st.has_adult or len(log.child) == 0:
        return {"adult_leavers": leavers, "adult_cost_pv": pv}
    order = np.lexsort((log.start, log.child))
    child, step = log.child[order], log.step[order].astype(np.int64)
    start, end, age, to = (
        log.start[order],
        log.end[order],
        log.age_start[order].astype(float),
        log.to_step[order],
    )
    first = np.flatnonzero(np.r_[True, child[1:] != child[:-1]])
    last = np.r_[first[1:], len(child)] - 1
    highest = np.maximum.reduceat(step, first)
    group = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(child)]))
    at_top = np.where(step == highest[group], np.arange(len(child)), len(child))
    first_top = np.minimum.reduceat(at_top, first)
    band = np.searchsorted(st.band_edges[1:-1], age[first_top], side="right")
    left = (to[last] == S) | (to[last] == S + 1)
    t_exit = end[last][left]
    birth = (start[last] - age[last])[left]
    begin = np.maximum(t_exit, birth + st.adult_from_age)  # adult life starts at from_age, or at leaving
    window = st.adult_window(np.floor(begin).astype(np.int64))
    h, b = highest[left], band[left]
    cost = st.adult_cost[h, b] * window
    ye = np.floor(t_exit).astype(np.int64)
    np.add.at(leavers, (ye, h), 1.0)
    np.add.at(pv, (ye, h), cost)
    return {"adult_leavers": leavers, "adult_cost_pv": pv}


def _waiting(log: SpellLog, Y: int, S: int) -> dict[str, np.ndarray]:
    """Queues, by the full step children wait for."""
    out: dict[str, np.ndarray] = {}
    w = log.wait_for >= 0
    j = log.wait_for[w].astype(np.int32)
    start, end = log.start[w], log.end[w]
    ys = np.floor(start).astype(np.int32)
    # Waiting at 31 December, and time spent waiting in each year.
    waiting_end = np.zeros((Y, S))
    waiting_years = np.zeros((Y, S))
    for y in range(Y):
        waiting_end[y] = np.bincount(j[(start < y + 1) & (end >= y + 1)], minlength=S)[:S]
        overlap = np.clip(np.minimum(end, y + 1) - np.maximum(start, y), 0, None)
        waiting_years[y] = np.bincount(j, weights=overlap, minlength=S)[:S]
    out["waiting_end"], out["waiting_years"] = waiting_end, waiting_years
    out["waits_started"] = _count(Y, S, ys, j)
    ovf = log.overflowed_from >= 0
    out["overflows"] = _count(
        Y, S, np.floor(log.start[ovf]).astype(np.int32), log.overflowed_from[ovf].astype(np.int32)
    )
    # Length of the waits that ended in each year.
    done = np.isfinite(end)
    length, ye, jd = (end - start)[done], np.floor(end[done]).astype(np.int32), j[done]
    mean = np.full((Y, S), np.nan)
    p90 = np.full((Y, S), np.nan)
    for y, s in set(zip(ye.tolist(), jd.tolist())):
        if 0 <= y < Y:
            these = length[(ye == y) & (jd == s)]
            mean[y, s], p90[y, s] = these.mean(), np.percentile(these, 90)
    out["wait_mean"], out["wait_p90"] = mean, p90
    return out


def children_in_out(log: SpellLog, n_steps: int) -> dict[str, int]:
    """Conservation check: children entered, left, and present at the end.

    Returns
    -------
    dict
        ``entered`` (on the staircase at the start plus new cases), ``left``
        (case closed or aged out) and ``present`` (still there at the end of
        the horizon). Every child is in exactly one of the last two.
    """
    entered = int(np.sum((log.from_step == FROM_OUTSIDE) | (log.from_step == FROM_STOCK)))
    to = log.to_step.astype(np.int64)
    left = int(np.sum(to >= n_steps))
    present = int(np.sum(to == CENSORED))
    return {"entered": entered, "left": left, "present": present}
