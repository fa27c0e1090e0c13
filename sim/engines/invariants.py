"""What every discrete-event result must satisfy, checked and named.

A planner's tables must add up, and a child must never be in two places or
travel back in time. These checks say so in numbers, and name the first
place where they fail (rule, replication, calendar year, step, the numbers):

- **finite numbers**: no count, child-year or cost is NaN or infinite (a NaN
  passes every comparison below); only the waits of a year in which no one
  waited are undefined;
- **stock identity** per year and step: ``stock_end[y] = stock_end[y-1] +
  new_cases + moves_in - moves_up - moves_down - closed - aged_out``, with
  ``stock_end[-1]`` the initial stock of the scenario file;
- **moves balance**: over all steps, moves in = moves up + moves down;
- **no negative** count, child-year or cost;
- **initial stock** exactly the file's (spells starting on the staircase);
- **time**: no stay ends before it starts, and every stay starts within the
  horizon;
- **paths**: every child has one unbroken path: it enters once (a new case
  or on the staircase at the start), each stay begins where and when the one
  before ended, and its last stay ends with the case closed, at the leaving
  age, or still on the staircase at the end (every child who entered has
  left or is present);
- **places**: nobody is admitted to a step with a limited number of places
  while it holds as many children as places or more. A step can hold more
  children than places only when it started with more (an initial stock
  above the places), or when places were taken away (a strategy's extra
  places ending): the children in them stay until they leave.

:func:`check_measures` works on the yearly tables of any engine;
:func:`check_spells` on one discrete-event replication's spell log;
:func:`check` on a :class:`~sim.run.experiment.Result` or
:class:`~sim.run.experiment.Comparison`. Every discrete-event replication is
checked against the table rules as it is made (:mod:`sim.run.experiment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.des import CENSORED, FROM_OUTSIDE, FROM_STOCK, WAITS, SpellLog
from sim.engines.measures import ADDITIVE
from sim.errors import InvariantError
from sim.model.staircase import Staircase, whole_stock

COUNTS = tuple(m for m in ADDITIVE if m != "adult_cost_pv")
"""Measures that can never be negative. Not ``adult_cost_pv``: an adult outcome's cost (per person
above its reference share) is negative for a net contribution, or for a step below the reference;
it is checked only where no adult cost is negative."""


@dataclass(frozen=True)
class Violation:
    """One broken invariant, with where it broke and the numbers."""

    rule: str
    message: str
    replication: int | None = None
    year: int | None = None
    step: str | None = None

    def __str__(self) -> str:
        where = [
            f"replication {self.replication}" if self.replication is not None else "",
            str(self.year) if self.year is not None else "",
            f"step '{self.step}'" if self.step is not None else "",
        ]
        at = ", ".join(w for w in where if w)
        return f"{self.rule}{f' ({at})' if at else ''}: {self.message}"


UNDEFINED_WHEN_EMPTY = ("wait_mean", "wait_p90")
"""Measures that are NaN by definition where no one waited (or the engine has no waits): not a defect."""

ROUNDING = 16e-9
"""Rounding allowed in a table's sums, relative to its largest number (means are not whole numbers)."""


def _tolerance(*arrays: np.ndarray, rtol: float = ROUNDING) -> float:
    """Rounding allowed in a sum of these."""
    scale = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    return rtol * max(scale, 1.0)


def nonfinite(
    measures: dict[str, np.ndarray], st: Staircase, replication: int | None = None
) -> list[Violation]:
    """The first NaN or infinite cell of each ``[year, step]`` measure (none is, but the waits where no
    one waited): the rule :func:`check_measures` starts with, and all a PSA's unchecked draws get."""
    found = []
    for name, a in measures.items():
        if name in UNDEFINED_WHEN_EMPTY or not isinstance(a, np.ndarray) or a.ndim != 2:
            continue
        finite = np.isfinite(a)
        if finite.all():  # the common case: no search for the first
            continue
        y, s = np.argwhere(~finite)[0]
        year = st.start_year + int(y)
        found.append(Violation("finite numbers", f"{name} = {a[y, s]}", replication, year, st.step_ids[s]))
    return found


def check_measures(
    measures: dict[str, np.ndarray],
    st: Staircase,
    replication: int | None = None,
    costs: bool = True,
    rtol: float = ROUNDING,
) -> list[Violation]:
    """The table rules for one replication's ``[year, step]`` measures (or ``[rep, year, step]``).

    Parameters
    ----------
    measures : dict of str to numpy.ndarray
        As produced by either engine (:data:`sim.engines.measures.MEASURES`).
    st : Staircase
        The arm they belong to.
    replication : int, optional
        Named in the violations; with 3-d measures each replication is
        checked in turn and named by its index.
    costs : bool
        Also check that step and programme costs are not negative.
    rtol : float
        Rounding allowed, relative to the largest number in a sum.

    Returns
    -------
    list of Violation
        Empty when every rule holds.
    """
    if measures["stock_end"].ndim == 3:
        out: list[Violation] = []
        for r in range(measures["stock_end"].shape[0]):
            out += check_measures({m: v[r] for m, v in measures.items()}, st, r, costs, rtol)
        return out
    from sim.economics.comparison import (  # economics imports the engines' contract
        programme_costs,
        step_costs,
    )

    years = st.start_year + np.arange(st.horizon)
    steps = st.step_ids
    found: list[Violation] = []
    m = measures

    def negative(rule: str, what: str, a: np.ndarray) -> None:
        """The first cell of ``a`` ([year] or [year, step]) below zero, if any."""
        # Nothing below 0 is below -tolerance either: the common case, without the tolerance's max.
        if rtol >= 0 and not (a < 0).any():
            return
        bad = np.argwhere(a < -_tolerance(a, rtol=rtol))
        if len(bad):
            at = tuple(bad[0])
            step = steps[at[1]] if len(at) > 1 else None
            found.append(Violation(rule, f"{what} = {a[at]:.6g}", replication, int(years[at[0]]), step))

    found += nonfinite(m, st, replication)  # a NaN passes every comparison below: said first, by itself
    for name in COUNTS:
        if name in m:
            negative("no negative count", name, m[name])
    if "adult_cost_pv" in m and (st.adult_cost >= 0).all():  # no adult cost below 0, no present value
        negative("no negative cost", "adult_cost_pv", m["adult_cost_pv"])
    if costs:
        negative("no negative cost", "step cost", step_costs(m, st))
        negative("no negative cost", "programme cost", programme_costs(m, st))
    start = st.stock.sum(axis=1)
    before = np.vstack([start[None], m["stock_end"][:-1]])
    inflow = m["new_cases"] + m["moves_in"]
    outflow = m["moves_up"] + m["moves_down"] + m["closed"] + m["aged_out"]
    expected = before + inflow - outflow
    gap = m["stock_end"] - expected
    tol = _tolerance(before, inflow, outflow, rtol=rtol)
    bad = np.argwhere(np.abs(gap) > tol)
    if len(bad):
        y, s = bad[0]
        found.append(
            Violation(
                "stock identity",
                f"stock_end {m['stock_end'][y, s]:.6g} != {before[y, s]:.6g} at the start of the year "
                f"+ {m['new_cases'][y, s]:.6g} new + {m['moves_in'][y, s]:.6g} in - {m['moves_up'][y, s]:.6g} "
                f"up - {m['moves_down'][y, s]:.6g} down - {m['closed'][y, s]:.6g} closed - "
                f"{m['aged_out'][y, s]:.6g} aged out = {expected[y, s]:.6g}",
                replication,
                int(years[y]),
                steps[s],
            )
        )
    moved_in = m["moves_in"].sum(axis=1)
    moved_out = (m["moves_up"] + m["moves_down"]).sum(axis=1)
    bad = np.flatnonzero(np.abs(moved_in - moved_out) > _tolerance(moved_in, moved_out, rtol=rtol))
    if len(bad):
        y = bad[0]
        found.append(
            Violation(
                "moves balance",
                f"moves in {moved_in[y]:.6g} != moves up + down {moved_out[y]:.6g} over all steps",
                replication,
                int(years[y]),
            )
        )
    return found


def check_spells(log: SpellLog, st: Staircase, replication: int | None = None) -> list[Violation]:
    """The child-by-child rules for one discrete-event replication.

    Time, unbroken paths (every child who entered has left or is present),
    the initial stock, and places (see the module's docstring); then the
    table rules on the measures made from the log.
    """
    from sim.engines.spells import measures_from_spells

    S, Y, steps = st.n_steps, st.horizon, st.step_ids
    years = st.start_year
    found: list[Violation] = []
    start, end = log.start, log.end

    def first(rule: str, bad: np.ndarray, text) -> None:
        idx = np.flatnonzero(bad)
        if len(idx):
            i = int(idx[0])
            s = int(log.step[i])
            found.append(Violation(rule, text(i), replication, years + int(start[i]), steps[s]))

    first(
        "time",
        ~(end >= start),
        lambda i: f"child {log.child[i]}'s stay starts at {start[i]:.9g} and ends before, at {end[i]:.9g}",
    )
    first(
        "time",
        ~((start >= 0) & (start < Y)),
        lambda i: f"child {log.child[i]}'s stay starts at {start[i]:.9g}, outside the horizon 0-{Y}",
    )
    # Paths: sorted by child, then time (a stay of no length before the one it leads to).
    order = np.lexsort((end, start, log.child))
    child, step, frm, to = log.child[order], log.step[order], log.from_step[order], log.to_step[order]
    t0, t1 = start[order], end[order]
    same = child[1:] == child[:-1]
    head = np.r_[True, ~same]
    tail = np.r_[~same, True]
    entries = (frm == FROM_OUTSIDE) | (frm == FROM_STOCK)
    exits = (to == S) | (to == S + 1) | (to == CENSORED)

    def first_sorted(rule: str, bad: np.ndarray, text) -> None:
        idx = np.flatnonzero(bad)
        if len(idx):
            i = int(idx[0])
            found.append(Violation(rule, text(i), replication, years + int(t0[i]), steps[int(step[i])]))

    first_sorted(
        "paths", head & ~entries, lambda i: f"child {child[i]}'s first stay does not start with its entry"
    )
    first_sorted("paths", ~head & entries, lambda i: f"child {child[i]} enters the staircase twice")
    first_sorted(
        "paths",
        tail & ~exits,
        lambda i: f"child {child[i]}'s last stay leads to step {to[i]}, but no stay follows",
    )
    first_sorted(
        "paths",
        ~tail & exits,
        lambda i: f"child {child[i]} has a stay after leaving the staircase (at {t1[i]:.9g})",
    )
    nxt = np.r_[same, False]  # a stay that has a next one
    i_next = np.flatnonzero(nxt)
    gap = t1[i_next] != t0[i_next + 1]
    first_sorted(
        "paths",
        np.isin(np.arange(len(child)), i_next[gap]),
        lambda i: f"child {child[i]}'s stay ends at {t1[i]:.9g} but its next starts at {t0[i + 1]:.9g}",
    )
    goes = to[i_next]
    where = np.where(goes == WAITS, step[i_next], goes)
    wrong = (step[i_next + 1] != where) | (frm[i_next + 1] != step[i_next])
    first_sorted(
        "paths",
        np.isin(np.arange(len(child)), i_next[wrong]),
        lambda i: (
            f"child {child[i]} leaves step {step[i]} for {to[i]}, but its next stay is on "
            f"{step[i + 1]} (from {frm[i + 1]})"
        ),
    )
    n_children = len(np.unique(log.child))
    if n_children != log.n_children:
        found.append(
            Violation(
                "paths",
                f"{log.n_children} children entered but {n_children} have stays",
                replication,
            )
        )
    # The initial stock, exactly the file's.
    on_stock = np.bincount(log.step[log.from_step == FROM_STOCK].astype(np.int64), minlength=S)[:S]
    want = whole_stock(st.stock).sum(axis=1)
    for s in np.flatnonzero(on_stock != want):
        found.append(
            Violation(
                "initial stock",
                f"{on_stock[s]} children on the staircase at the start, the file says {want[s]}",
                replication,
                years,
                steps[s],
            )
        )
    # Places: at every admission, no more children than places once it is in.
    for j in np.flatnonzero(st.capped):
        on = log.step == j
        s0, s1 = np.sort(start[on]), np.sort(end[on])
        admitted = on & (log.from_step != j) & (log.from_step != FROM_STOCK)
        t = start[admitted]
        if not len(t):
            continue
        present = np.searchsorted(s0, t, side="right") - np.searchsorted(s1, t, side="right")
        places = st.capacity[np.minimum(t.astype(np.int64), Y - 1), j]
        over = np.flatnonzero(present > places)
        if len(over):
            k = int(over[0])
            found.append(
                Violation(
                    "places",
                    f"a child admitted at {t[k]:.9g} makes {present[k]} children in {places[k]:.0f} places",
                    replication,
                    years + int(t[k]),
                    steps[j],
                )
            )
    return found + check_measures(measures_from_spells(log, st), st, replication)


def check(result) -> None:
    """Raise :class:`InvariantError` naming the first broken table rule of a result.

    Parameters
    ----------
    result : Result or Comparison
        Every replication of every arm is checked (:func:`check_measures`).
    """
    arms = list(result.arms.values())
    found: list[Violation] = []
    for arm in arms:
        found += check_measures(arm.measures, arm.staircase)
    if found:
        raise InvariantError(found)
