"""The analytic expected-value engine: Kolmogorov forward equations, cohort by cohort.

The staircase with exponential stays is a continuous-time Markov chain over
steps; a two-group mixture of stays adds a hidden short and long phase to a
step (phase-type). Ageing is deterministic and rates change at age-band edges
and calendar years, so the state is tracked on an age grid of ``1/K`` years:
within a sub-step of length ``h = 1/K`` no child crosses a band edge or a year
boundary, the generator is constant, and the forward equations with a constant
inflow of new cases are solved exactly by the matrix exponential of an
augmented generator (Van Loan), which also gives the occupancy integral from
which child-years and every flow follow. After each sub-step the age grid
shifts by one cell and children at the leaving age leave.

That is the model; the computation does not step it sub-step by sub-step.
Rates change only from one calendar year to the next, so the years are
grouped into runs with the same rates, and E, F and G of every run and band
are computed at once (:mod:`sim.engines.propagators`). Children do not
interact, so each cell of the grid (a cohort) can be followed on its own: in a
year it takes ``K`` sub-steps along its diagonal, and along a stretch of cells
with the same band and the same steps still open (a *segment*) every sub-step
applies the same matrix. A cohort's year is then a product of a few powers of
those matrices, and the sum of its states over the sub-steps (from which its
occupancy follows) a matching sum of powers. The powers and their running
sums up to ``K`` are tabulated once per run; only cohorts that cross into
another segment during the year need a product of their own. A year moves a
cohort ``K`` cells on, so the state at the start of every year is found by
sweeping the grid one year-wide block at a time, each block for all the years
at once, each year with its run's matrices. Occupancy by segment and year, and
from it every measure, follows by matrix products over all years. Years are
never a dimension of a matrix product or of a sum, only stacked side by side,
so a year's numbers do not depend on how many years share its rates: two arms
with the same rates until a strategy starts agree exactly until then. The
tables are computed one run at a time (arrays that hold several runs are large
enough for the allocator to map fresh pages for each, which costs more than
the calls saved), and what the stay laws fix is cached on the laws. The segments and each
cohort's pieces depend only on the grid, the leaving ages and the adult age,
and are kept between calls. The numbers are those of the sub-step recursion,
to rounding (the tests hold them to it at 1e-11).

With an ``[adult]`` table the state also remembers the highest step a child
has reached (and, when adult costs differ by age, the band it first reached
it in), so that leavers are counted by it, as the DES does from each child's
history. The only approximation is the age grid (each child's age is known to within
``h``); ``K = 24`` puts it well inside the sampling error of any replication
count used in practice. Weibull and lognormal stays are not Markov and are
refused with a clear message: use the discrete-event engine for them.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np

from sim.engines.measures import MEASURES
from sim.engines.propagators import powers, prefix_sums, van_loan
from sim.errors import EngineNotApplicable
from sim.model.staircase import Staircase, whole_stock


def _phases(st: Staircase) -> tuple[list[int], list[float], list[list[tuple[int, float]]]]:
    """Phase-type states: owning step, clock rate, and entry split per step."""
    owner: list[int] = []
    speed: list[float] = []
    split: list[list[tuple[int, float]]] = []
    for s, law in enumerate(st.stays):
        form = law.phases()
        if form is None:
            raise EngineNotApplicable(
                f"step '{st.step_ids[s]}' has a {law.title} duration, which the "
                "expected engine cannot represent; use the discrete-event engine (--engine des, or "
                "engine='des' in Python), or a mixture duration"
            )
        weights, means = form
        split.append([(len(owner) + i, w) for i, w in enumerate(weights)])
        owner += [s] * len(weights)
        speed += [1.0 / m for m in means]
    return owner, speed, split


@functools.lru_cache(maxsize=64)
def _structure(stays: tuple, step_ids: tuple[str, ...]) -> SimpleNamespace:
    """What the stay laws alone fix (cached: arms and draws share their laws): see :func:`_phases`.

    ``into[s, p]``: how a child entering step ``s`` splits over phases;
    ``at_start``: per step, the phases' shares of a stock found on it.
    """
    owner, speed, split = _phases(SimpleNamespace(stays=stays, step_ids=step_ids))
    into = np.zeros((len(stays), len(owner)))
    for s, parts in enumerate(split):
        for p, w in parts:
            into[s, p] = w
    out = SimpleNamespace(
        owner=owner,
        owner_index=np.array(owner, dtype=int),
        speed=np.array(speed),
        split=split,
        hazards=np.array([stays[s].rates_are_hazards for s in owner])[:, None],
        into=into,
        at_start=[law.at_start().phases()[0] for law in stays],
    )
    for value in vars(out).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return out


class _History:
    """States that remember a child's highest step (and the band it first reached it in).

    A state is ``(phase, highest, band)``: ``move[b][s]`` maps a state to the
    states a move onto step ``s`` in age band ``b`` leads to, and ``enter[b]``
    maps a new case on step ``s`` in band ``b`` to its states. Children leaving
    (case closed, or too old) are counted by exit year and highest step, with
    the present value of their adult-life costs (as :func:`sim.engines.spells.adult_measures`).
    """

    def __init__(self, st: Staircase, owner: list[int], into: np.ndarray) -> None:
        S, B = st.n_steps, len(st.band_edges) - 1
        by_band = bool((st.adult_cost != st.adult_cost[:, :1]).any())  # does the age first reached matter?
        n_bands = B if by_band else 1
        states = [(p, h, a) for p, s in enumerate(owner) for h in range(s, S) for a in range(n_bands)]
        self.index = index = {state: n for n, state in enumerate(states)}
        self.n_bands = n_bands
        N = len(states)
        self.phase = np.array([p for p, _, _ in states])
        self.high = np.array([h for _, h, _ in states])
        self.cost = np.array([st.adult_cost[h, a] for _, h, a in states])  # a year of adult life
        self.move = np.zeros((B, S, N, N))  # [b, s, from, to]
        self.enter = np.zeros((B, S, N))
        for b in range(B):
            a_new = b if by_band else 0
            for s in range(S):
                for p2 in np.flatnonzero(into[s]):
                    self.enter[b, s, index[(p2, s, a_new)]] += into[s, p2]
                    for n, (_, h, a) in enumerate(states):
                        to = (p2, h, a) if s <= h else (p2, s, a_new)
                        self.move[b, s, n, index[to]] += into[s, p2]
        self.by_high = np.zeros((N, S))
        self.by_high[np.arange(N), self.high] = 1.0

    def state(self, phase: int, step: int, band: int) -> int:
        """The state of a child in ``phase`` whose highest step is ``step``, first reached in ``band``."""
        return self.index[(phase, step, band if self.n_bands > 1 else 0)]

    def leavers(self, exits, exits_w, aged, aged_w) -> tuple[np.ndarray, np.ndarray]:
        """Leavers by year and highest step, and the present value of their adult costs.

        ``exits`` and ``aged`` are the children whose case closed (or who moved
        to a step they are too old for) and who reached the leaving age, by
        year and state; the ``_w`` twins are the same weighted by the present
        value of a year of adult life, by when it starts.
        """
        count = (exits + aged) @ self.by_high
        pv = ((exits_w + aged_w) * self.cost) @ self.by_high
        return count, pv


def _by_reach(st: Staircase, cells_per_year: int) -> dict[str, np.ndarray]:
    """Children the effect reaches (by entry step) and those it does not, summed.

    Without capacity limits children do not interact, so the chain is linear
    in its inflow and starting stock: the two groups are two chains, each fed
    its own entry steps, and their expected measures add up exactly.
    """
    reach = st.entry_reach
    parts = [
        arm.with_parts(
            entry_step_prob=arm.entry_step_prob * keep, stock=arm.stock * keep[:, None], unreached=None
        )
        for arm, keep in ((st, reach.astype(float)), (st.unreached, (~reach).astype(float)))
    ]
    # The half cell at the leaving age is bounded (not below 0, not more than left in the year):
    # bounded for the two groups together, as for one chain, and shared by what each lets age out,
    # so that until a strategy starts the sum is the baseline's to rounding.
    solving = [_solve(p, cells_per_year) for p in parts]
    (edge_a, aged_a), (edge_b, aged_b) = (next(s) for s in solving)
    aged = aged_a + aged_b
    half = _bounded(edge_a + edge_b, aged)
    share = np.divide(aged_a, aged, out=np.full_like(aged, 0.5), where=aged > 0)
    a, b = (_finish(s, h) for s, h in zip(solving, (half * share, half * (1.0 - share))))
    return {m: a[m] + b[m] for m in a}


def _bounded(edge: np.ndarray, aged: np.ndarray) -> np.ndarray:
    """The half cell at the leaving age from its estimate ``edge``: not below 0, nor above ``aged``."""
    return np.minimum(np.clip(edge, 0.0, None), aged)


def _finish(solving, half: np.ndarray) -> dict[str, np.ndarray]:
    """The measures of a :func:`_solve` given its half cells at the leaving age."""
    try:
        solving.send(half)
    except StopIteration as done:
        return done.value
    raise RuntimeError("engine bug: the analytic solve asked for more than its half cells")


def _cohort_pieces(K: int, C: int, seg_of: np.ndarray, seg_end: np.ndarray) -> list[tuple]:
    """How each cohort's year splits over segments.

    Cohort ``i`` starts the year in cell ``i - (K - 1)`` (cells below 0 are
    children not yet on the staircase: they come onto cell 0 one sub-step at
    a time). It takes ``K`` sub-steps, fewer if it leaves the grid. Level
    ``m`` lists the cohorts with an ``m``-th piece, its segment and its number
    of sub-steps.
    """
    n = C + K - 1
    start = np.arange(n) - (K - 1)
    cell = np.maximum(start, 0)
    left = K - np.maximum(-start, 0)
    levels = []
    idx = np.arange(n)
    while idx.size:
        seg = seg_of[cell[idx]]
        length = np.minimum(left[idx], seg_end[seg] - cell[idx])
        levels.append((idx, seg, length))
        cell[idx] += length
        left[idx] -= length
        idx = idx[(left[idx] > 0) & (cell[idx] < C)]
    return levels


@functools.lru_cache(maxsize=64)
def _grid(
    K: int, cell_edges: tuple[int, ...], leave_cell: tuple[int, ...], adult_from: float | None
) -> SimpleNamespace:
    """The age grid's segments, each cohort's pieces of a year and their groups.

    They depend only on the grid (``K`` cells a year, band edges in cells),
    each state's leaving age in cells and, with adult life, the age it starts
    at; not on any rate. So both arms of a comparison, and every draw of an
    uncertainty analysis, share them. Arrays are read-only.
    """
    h = 1.0 / K
    C, B = cell_edges[-1], len(cell_edges) - 1
    P = len(leave_cell)
    band_width = np.diff(cell_edges)
    cells = np.arange(C)
    keep = cells[None, :] < np.array(leave_cell)[:, None]  # [P, C]: cells a state's children may be in
    # A sub-step from cell j: E of its band, new cases of the band (per cell)
    # through F, then the grid shifts and phases closed in cell j + 1 (the
    # step's leaving age; every phase past the grid) leave. Segments are runs
    # of cells where that is the same (and, with adult life, on the same side
    # of the age adult life starts at, which its discounting depends on).
    open_after = np.zeros((C, P))
    open_after[:-1] = keep[:, 1:].T
    band_of = np.repeat(np.arange(B), band_width)
    adult = (cells + 0.5) * h >= adult_from if adult_from is not None else np.zeros(C, dtype=bool)
    edge = np.r_[
        True,
        (band_of[1:] != band_of[:-1])
        | (open_after[1:] != open_after[:-1]).any(axis=1)
        | (adult[1:] != adult[:-1]),
    ]
    seg_start = np.flatnonzero(edge)
    seg_end = np.r_[seg_start[1:], C]
    seg_of = np.cumsum(edge) - 1
    seg_band, seg_open, seg_adult = band_of[seg_start], open_after[seg_start], adult[seg_start]
    seg_cells = seg_end - seg_start
    n_seg = len(seg_start)
    levels = _cohort_pieces(K, C, seg_of, seg_end)
    n_coh = C + K - 1
    piece_coh = np.concatenate([lv[0] for lv in levels])
    piece_seg = np.concatenate([lv[1] for lv in levels])
    piece_len = np.concatenate([lv[2] for lv in levels])
    # Years of delay before adult life starts, for a cohort below from_age, in
    # half years: a cohort's children are spread over its cell (half a cell
    # either side of its age), so one that reaches from_age just as a year
    # turns has half its children start adult life in each year (code 2d - 1:
    # half after d - 1 years, half after d); the others all after d (code 2d).
    start_cell = np.arange(n_coh) - (K - 1)
    if adult_from is not None:
        to_go = adult_from * K - start_cell  # cells until from_age
        tied = np.isclose(to_go / K, np.rint(to_go / K), rtol=0.0, atol=1e-9)
        delay = 2 * np.floor(to_go / K + 1e-9).astype(np.int64) - tied
    else:
        delay = 0 * start_cell
    # Pieces that start the year have matrices that depend only on their
    # segment and length: runs of cohorts with the same (and the same
    # discounting) are summed before they are multiplied. Later pieces are
    # each their own group. Groups are ordered by segment.
    seg0, len0 = levels[0][1], levels[0][2]
    key = np.stack([seg0, len0, np.where(seg_adult[seg0], 0, delay)])
    first0 = np.flatnonzero(np.r_[True, (key[:, 1:] != key[:, :-1]).any(axis=0)])
    n_rest = len(piece_coh) - n_coh  # pieces after the first (cohorts crossing segments)
    g_piece = np.r_[first0, n_coh + np.arange(n_rest)]
    g_count = np.r_[np.diff(np.r_[first0, n_coh]), np.ones(n_rest, dtype=int)]
    order = np.argsort(piece_seg[g_piece], kind="stable")
    g_piece, g_count = g_piece[order], g_count[order]
    g_seg, g_coh = piece_seg[g_piece], piece_coh[g_piece]
    many = np.flatnonzero(g_count > 1)
    # Each cohort's year in the tables (segment, sub-steps), or after them if it crosses segments.
    L = int(min(K, seg_cells.max()))
    year_of = len0 * n_seg + seg0  # entry (sub-steps, segment): the tables have sub-steps first (see _solve)
    if len(levels) > 1:
        year_of[levels[1][0]] = n_seg * (L + 1) + np.arange(len(levels[1][0]))
    # The sweep's work per year-wide block: cohorts that share their year's
    # matrix (runs of equal year_of) move together, the others one by one.
    blocks, block_parts = [(max(a * K, 1), min(a * K + K, C)) for a in range(-(-C // K))], []
    for lo, hi in blocks:
        src = np.arange(lo - 1, hi - 1)
        if lo < K or lo >= hi:  # cohorts below the grid at the start of the year: no state to move
            block_parts.append(([], src[:0]))
            continue
        cut = np.flatnonzero(np.r_[True, year_of[src][1:] != year_of[src][:-1], True])
        spans = list(zip(cut[:-1], cut[1:]))
        shared = [(int(src[a]), int(src[b - 1]) + 1) for a, b in spans if b - a > 1]
        alone = np.array([src[a] for a, b in spans if b - a == 1], dtype=int)
        block_parts.append((shared, alone))
    # The sweep needs each year's matrix only for cohorts that start it on
    # the grid's cells below the last: rows of the tables it reads.
    rows, row_of = np.unique(year_of[: max(C - 1, 0)], return_inverse=True)
    # per block: (first cell, end cell, shared spans (a, b, k), alone cohorts, their rows), k: the
    # span's row in shared_rows; alone cohorts as a slice where they are a range (a view, not a copy).
    sweep = []
    shared_rows = np.unique([row_of[a] for shared, _ in block_parts for a, _ in shared]).astype(int)
    shared_len = [0] * len(shared_rows)  # the longest span of each
    for (lo, hi), (shared, alone) in zip(blocks, block_parts):
        if lo >= hi:
            continue
        if lo < K:
            sweep.append((lo, hi, None, None, row_of[lo - 1 : hi - 1]))
            continue
        spans = [(a, b, int(np.searchsorted(shared_rows, row_of[a]))) for a, b in shared]
        for a, b, k in spans:
            shared_len[k] = max(shared_len[k], b - a)
        if len(alone) and alone[-1] - alone[0] + 1 == len(alone):
            sweep.append((lo, hi, spans, slice(int(alone[0]), int(alone[-1]) + 1), row_of[alone]))
        else:
            sweep.append((lo, hi, spans, alone, row_of[alone]))
    grid = SimpleNamespace(
        keep=keep,
        seg_band=seg_band,
        seg_open=seg_open,
        seg_adult=seg_adult,
        seg_cells=seg_cells,
        n_seg=n_seg,
        n_coh=n_coh,
        n_pieces=len(piece_coh),
        L=L,
        year_of=year_of,
        levels=levels,
        delay=delay,
        first0=first0,
        order=order,
        g_seg=g_seg,
        g_coh=g_coh,
        g_count=g_count,
        g_bounds=np.searchsorted(g_seg, np.arange(n_seg + 1)),  # groups of segment s: g_bounds[s] to [s + 1]
        ranges=[(int(g), int(g_coh[g]), int(g_coh[g] + g_count[g])) for g in many],  # group, its cohorts
        g_steps=g_count * piece_len[g_piece],  # cell sub-steps each group covers in a year
        blocks=blocks,  # year-wide, by end cell
        block_parts=block_parts,
        rows=rows,
        shared_rows=shared_rows,  # rows of the sweep's shared spans
        shared_len=shared_len,  # the longest span with each
        rows_table=rows[rows < n_seg * (L + 1)],  # rows that are entries of the tables (sorted first)
        rows_crossing=rows[rows >= n_seg * (L + 1)] - n_seg * (L + 1),  # the others: crossing cohorts
        sweep=sweep,
    )
    for value in [
        *vars(grid).values(),
        *(a for lv in levels for a in lv),
        *(a for sw in sweep for a in sw if isinstance(a, np.ndarray)),
    ]:
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return grid


class _RunCache:
    """A run's tables (every table of the sweep and occupancy), by all they depend on.

    Keyed on the bytes of the run's generator, of how new cases enter (by
    step and band), the grid's key and the arrays' shapes, so an entry is used
    only where the computation would give the same numbers. Bounded by bytes;
    entries are read-only copies, shared between threads.
    """

    def __init__(self, max_bytes: int = 16 << 20) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[tuple, tuple[SimpleNamespace, int]] = OrderedDict()  # tables, bytes
        self._bytes = 0
        self.max_bytes = max_bytes

    @staticmethod
    def keys(A: np.ndarray, enter: np.ndarray, entry_band_prob: np.ndarray, grid_key: tuple) -> list[tuple]:
        """What the tables of each run depend on: its generator ``A[t]`` (``A`` ``[run, B, P, P]``), how
        new cases enter (``enter``, ``entry_band_prob``) and the grid (:func:`_grid`'s arguments, ``K``
        among them)."""
        common = (
            enter.dtype.str,
            enter.shape,
            np.ascontiguousarray(enter).tobytes(),
            entry_band_prob.shape,
            np.ascontiguousarray(entry_band_prob, dtype=float).tobytes(),
            grid_key,
        )
        return [(a.dtype.str, a.shape, a.tobytes(), *common) for a in A]

    def get(self, key: tuple) -> SimpleNamespace | None:
        with self._lock:
            kept = self._runs.get(key)
            if kept is None:
                return None
            self._runs.move_to_end(key)
            return kept[0]

    def put(self, key: tuple, run: SimpleNamespace) -> None:
        arrays = [v for v in vars(run).values() if isinstance(v, np.ndarray)]
        size = sum(a.nbytes for a in arrays)
        if size > self.max_bytes // 4:
            return
        copied = SimpleNamespace(
            **{k: (_frozen(v) if isinstance(v, np.ndarray) else v) for k, v in vars(run).items()}
        )
        with self._lock:
            if key in self._runs:
                return
            self._runs[key] = (copied, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._bytes -= self._runs.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._bytes = 0

    def _after_fork(self) -> None:
        """A forked child starts empty, with a lock of its own (the parent's may have been held)."""
        self._lock = threading.Lock()
        self._runs = OrderedDict()
        self._bytes = 0


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a`` (what a cache keeps: no caller can change it afterwards)."""
    out = a.copy()
    out.flags.writeable = False
    return out


RUNS_AT_ONCE = False
"""Compute a stack's runs not found in the cache side by side (a few calls fewer for each; set where
freed memory is kept, as in the what-if page's workers: elsewhere the larger arrays cost more)."""

_RUNS = _RunCache()
"""Tables of runs lately solved: an arm and its strategy share their years before it starts."""
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_RUNS._after_fork)


def _by_entry(A: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``A [..., P, S]`` times each year's new cases by entry step ``r [years, S]``: ``[years, ..., P]``.

    A sum over entry steps in a fixed order, the same for any number of years.
    """
    out = np.zeros((len(r), *A.shape[:-1]))
    for s in range(A.shape[-1]):
        out += A[..., s] * r[:, s].reshape(-1, *[1] * (A.ndim - 1))
    return out


def _by_entry_runs(A: np.ndarray, r: np.ndarray, run_of: np.ndarray) -> np.ndarray:
    """As :func:`_by_entry` year by year with each year's run's ``A``, given by entry step first
    (``A [run, S, ...]``): ``[years, ...]``.

    The same sum (over entry steps, in order, from zero), with each step's term for every year in one
    product: its run's tables are taken year by year (less work than a product per run and step).
    """
    out = np.zeros((len(r), *A.shape[2:]))
    term = np.empty_like(out)
    for s in range(A.shape[1]):
        rs = r[:, s].reshape(-1, *[1] * (A.ndim - 2))
        if len(A) == 1:
            np.multiply(A[0, s], rs, out=term)
        else:
            np.take(A[:, s], run_of, axis=0, out=term, mode="clip")  # clip: indices are valid, no buffer
            term *= rs
        out += term
    return out


def _by_entry_yearly(A: np.ndarray, r: np.ndarray) -> np.ndarray:
    """As :func:`_by_entry`, with each year's own ``A`` ``[years, ..., P, S]``: ``[years, ..., P]``."""
    out = np.zeros(A.shape[:-1])
    r = r.reshape(len(r), *[1] * (A.ndim - 2), A.shape[-1])
    for s in range(A.shape[-1]):
        out += A[..., s] * r[..., s]
    return out


def _compose(levels: list[tuple], first: np.ndarray, needed: np.ndarray, Pow, Sum, SumD, Sum2D):
    """Each cohort's year, from the tables of runs (``[sub-steps, run, segment, ...]``).

    Returns ``U`` and ``V``, the state at the end of the year from the state at
    its start and from the year's new cases by entry step (``[run, cohort, P,
    P]`` and ``[run, cohort, P, S]``) for the cohorts that cross segments
    (``levels[1]``; the others' are entries of ``Pow`` and ``SumD``) that the
    sweep reads (``needed``, positions in ``levels[1]``: not those that leave
    the grid), and ``AccU``, ``AccV``, the same for the sum of its states at the
    start of its sub-steps: for the first pieces of cohorts ``first`` (the
    others' are the same as one of these), then for every later piece.
    """
    # Entries (length, segment) for every run, [run, entry, ...], are taken from the tables
    # flattened, so that they come contiguous (fancy indexing after a slice would not).
    _, n_run, n_seg = Pow.shape[:3]
    runs = np.arange(n_run)[:, None]
    Pow, Sum, SumD, Sum2D = (a.reshape(-1, *a.shape[3:]) for a in (Pow, Sum, SumD, Sum2D))

    def entries(length, seg):
        return (length * n_run + runs) * n_seg + seg  # [run, entry] into the flattened tables

    _, seg, length = levels[0]  # every cohort, from the identity
    at = entries(length[first], seg[first])
    acc_u, acc_v = [Sum.take(at, axis=0)], [Sum2D.take(at, axis=0)]
    if len(levels) == 1:
        return np.empty((n_run, 0, *Pow.shape[1:])), np.empty((n_run, 0, *SumD.shape[1:])), acc_u[0], acc_v[0]
    crossing = levels[1][0]
    at = entries(length[crossing], seg[crossing])
    U, V = Pow.take(at, axis=0), SumD.take(at, axis=0)
    for m, (idx, seg, length) in enumerate(levels[1:], start=2):
        at = entries(length, seg)
        sm = Sum.take(at, axis=0)
        if len(idx) == len(crossing):  # every crossing cohort
            u, v = U, V
        else:
            idx = np.searchsorted(crossing, idx)
            u, v = U.take(idx, axis=1), V.take(idx, axis=1)
        acc_u.append(sm @ u)
        acc_v.append(sm @ v + Sum2D.take(at, axis=0))
        if m == len(levels) and len(idx) == len(crossing):  # the last for all: only the years needed
            at = at[:, needed]
            pw = Pow.take(at, axis=0)
            return (
                pw @ u.take(needed, axis=1),
                pw @ v.take(needed, axis=1) + SumD.take(at, axis=0),
                np.concatenate(acc_u, axis=1),
                np.concatenate(acc_v, axis=1),
            )
        pw = Pow.take(at, axis=0)
        if len(idx) == len(crossing):
            U, V = pw @ u, pw @ v + SumD.take(at, axis=0)
        else:
            U[:, idx] = pw @ u
            V[:, idx] = pw @ v + SumD.take(at, axis=0)
    return (
        U.take(needed, axis=1),
        V.take(needed, axis=1),
        np.concatenate(acc_u, axis=1),
        np.concatenate(acc_v, axis=1),
    )


def expected_measures(st: Staircase, cells_per_year: int = 24) -> dict[str, np.ndarray]:
    """Expected yearly measures per step.

    Parameters
    ----------
    st : Staircase
        A compiled arm (exponential or mixture stays only).
    cells_per_year : int
        Age-grid resolution ``K``.

    Returns
    -------
    dict of str to numpy.ndarray
        Each of :data:`~sim.engines.measures.MEASURES` as a ``[year, step]`` array, plus ``"flows"``
        ``[year, step, destination]``.
    """
    if st.unreached is not None:
        return _by_reach(st, cells_per_year)
    solving = _solve(st, cells_per_year)
    edge, aged = next(solving)
    return _finish(solving, _bounded(edge, aged))


def _stock_cells(
    stock: np.ndarray, cell_edges: np.ndarray, leave_cell: np.ndarray, struct: SimpleNamespace, aug, P: int
) -> np.ndarray:
    """The initial stock on the age grid by state ``[P, C]`` (see :func:`_solve`)."""
    S, B = stock.shape[0], len(cell_edges) - 1
    C = int(cell_edges[-1])
    split = struct.split
    cells = np.arange(C + 1)
    lo, hi = cell_edges[:-1, None], cell_edges[1:, None]  # [B, 1]
    spread = ((cells >= lo) & (cells <= hi)) * np.where((cells == lo) | (cells == hi), 0.5, 1.0)  # [B, C + 1]
    spread = np.broadcast_to(spread, (S, B, C + 1)).copy()
    top = hi[:, 0][None, :] >= np.minimum(leave_cell, C)[:, None]  # [S, B]
    tops = np.nonzero(top)
    spread[tops[0], tops[1], hi[tops[1], 0] - 1] += spread[tops[0], tops[1], hi[tops[1], 0]]
    spread[tops[0], tops[1], hi[tops[1], 0]] = 0.0
    # Whole children, shared over the bands as the DES shares them: its expectation, not a
    # band's fraction of a child (7 children of whom a third are in aftercare are 5 and 2).
    spread *= (whole_stock(stock) / spread.sum(axis=2))[..., None]
    to_state = np.zeros((S, B, P))  # how the stock on step s in band b splits over states
    for s in range(S):
        for (ph, _), share in zip(split[s], struct.at_start[s]):
            for b in range(B):  # with adult life: its step is the highest so far
                to_state[s, b, ph if aug is None else aug.state(ph, s, b)] += share
    x = np.einsum("sbp,sbc->pc", to_state, spread)[:, :C]
    return x


@functools.lru_cache(maxsize=64)
def _stock_on_grid(
    dtype: str,
    shape: tuple[int, ...],
    data: bytes,
    cell_edges: tuple[int, ...],
    leave_cell: tuple[int, ...],
    stays: tuple,
    step_ids: tuple[str, ...],
    grid_key: tuple,
) -> np.ndarray:
    """:func:`_stock_cells` (without adult life) by all it depends on, kept: a strategy's every state
    starts from its baseline's stock. Read-only."""
    stock = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)
    struct = _structure(stays, step_ids)
    x = _stock_cells(stock, np.array(cell_edges), np.array(leave_cell), struct, None, len(struct.owner))
    x = x * _grid(*grid_key).keep
    x.flags.writeable = False
    return x


def _solve(st: Staircase, cells_per_year: int):
    """:func:`expected_measures` of one chain, as a generator: it yields the estimate of the half cell
    at the leaving age and the children the grid lets age out (``[Y, P]`` each), is sent the half
    cells to count, and returns the measures."""
    K = int(cells_per_year)
    h = 1.0 / K
    struct = _structure(st.stays, tuple(st.step_ids))
    owner, speed, into = struct.owner, struct.speed, struct.into
    P, S, Y = len(owner), st.n_steps, st.horizon
    B = len(st.band_edges) - 1
    cell_edges = np.rint(st.band_edges * K).astype(int)
    band_width = np.diff(cell_edges)  # cells per band
    C = int(cell_edges[-1])
    leave_cell = np.rint(st.leave_age * K).astype(int)

    # Rate from each phase to each destination, [Y, B, P, D].
    hazards, phase_of = struct.hazards, struct.owner_index  # (take with an index array: faster than a list)
    R = np.where(  # exponential stays: the rates themselves (exactly, not intensity x share)
        hazards,
        st.rates.take(phase_of, axis=2),
        (st.intensity.take(phase_of, axis=2) * speed)[..., None] * st.dest_prob.take(phase_of, axis=2),
    )
    if st.capped.any():
        names = ", ".join(st.step_ids[i] for i in np.flatnonzero(st.capped))
        raise EngineNotApplicable(
            f"steps with a capacity limit ({names}) make children wait for each other, which the "
            "expected engine cannot represent; use the discrete-event engine (--engine des, or "
            "engine='des' in Python), or places = \"unlimited\""
        )
    # Case reviews enter as rates: probability per review / interval. Exact as
    # the interval tends to zero; the DES has the reviews at their real times.
    per_year = np.where(np.isfinite(st.review_interval), 1.0 / st.review_interval, 0.0)  # [Y, S]
    R += (per_year.take(phase_of, axis=1)[..., None] * st.review_prob.take(phase_of, axis=0))[:, None]
    # With adult life the state remembers the highest step reached (and, if
    # adult costs differ by age, the band it was first reached in): a state
    # is (phase, highest, band). Without, states are the phases themselves.
    aug = _History(st, owner, into) if st.has_adult else None
    if aug is not None:
        R = R[:, :, aug.phase, :]
        owner = [owner[p] for p in aug.phase]
        P = len(owner)
    owner_a = np.array(owner, dtype=int)
    enter = np.broadcast_to(into, (B, S, P)) if aug is None else aug.enter  # a new case on step s in band b
    rate_in = (st.entries + st.extra_entries)[:, None] * st.entry_step_prob  # new cases per year [Y, S]

    # Runs of years with the same rates, and per run and band the Van Loan
    # blocks over a sub-step: E = e^{Ah}, F = int e^{As}, G = int (h-s) e^{As}.
    new_run = np.concatenate(([True], (R[1:] != R[:-1]).any(axis=(1, 2, 3))))
    run_start = np.flatnonzero(new_run)
    run_end = np.append(run_start[1:], Y)
    run_of = np.cumsum(new_run) - 1
    T = len(run_start)
    # Runs grouped for the products by run: a run of several years alone (its matrices for each of
    # them), consecutive one-year runs together (side by side with their years): the same products.
    run_groups: list[list[int]] = []  # first run, end run, first year, end year
    for t in range(T):
        y0, y1 = int(run_start[t]), int(run_end[t])
        last = run_groups[-1] if run_groups else None
        if last is not None and y1 - y0 == 1 and last[1] - last[0] == last[3] - last[2]:
            last[1], last[3] = t + 1, y1
        else:
            run_groups.append([t, t + 1, y0, y1])
    R_run = R[run_start]
    if aug is None:
        A = np.einsum("sp,tbqs->tbpq", into, R_run[..., :S])  # A[p', p]: rate p -> p' via destination step
    else:
        A = np.einsum("tbns,bsnm->tbmn", R_run[..., :S], aug.move)
    diag = np.arange(P)
    A[..., diag, diag] -= R_run.sum(axis=-1)
    E, F, G = van_loan(A, h)  # [T, B, P, P]
    # A run's tables depend only on its generator, the grid and how new cases enter: runs an arm
    # shares with another (a strategy's years before it starts, the baseline's) are computed once.
    # (Each generator's blocks do not depend on the stack around it, as two arms' first years rely on.)
    adult_from = float(st.adult_from_age) if aug is not None else None
    grid_key = (K, tuple(cell_edges.tolist()), tuple(leave_cell[owner_a].tolist()), adult_from)
    run_keys = _RUNS.keys(A, enter, st.entry_band_prob, grid_key)

    # The grid's segments, each cohort's pieces of a year and their groups (no rates: cached).
    grid = _grid(*grid_key)
    # Initial stock on the centred age grid, split over phases by the law of
    # the stay it is found in (a mixture's is length-biased).
    # A band's stock is spread evenly over its cells (half cells at its edges);
    # the top half-cell sits at the leaving age itself: keep it just below.
    if aug is None:  # the same for every arm with this stock, grid and stays: kept
        x = _stock_on_grid(
            st.stock.dtype.str,
            st.stock.shape,
            st.stock.tobytes(),
            tuple(cell_edges.tolist()),
            tuple(leave_cell.tolist()),
            st.stays,
            tuple(st.step_ids),
            grid_key,
        )
    else:
        x = _stock_cells(st.stock, cell_edges, leave_cell, struct, aug, P) * grid.keep

    seg_band, seg_open, seg_cells, n_seg, n_coh = (
        grid.seg_band,
        grid.seg_open,
        grid.seg_cells,
        grid.n_seg,
        grid.n_coh,
    )
    g_seg, g_coh, g_bounds = grid.g_seg, grid.g_coh, grid.g_bounds
    # New cases per cell and sub-step, by entry step: [T, segment, P, S].
    Din = (
        seg_open[None, :, :, None]
        * (F @ enter.transpose(0, 2, 1)).take(seg_band, axis=1)
        * (st.entry_band_prob / band_width)[seg_band][None, :, None, None]
    )

    # X[y, i]: cohort in cell i - (K - 1) at the start of year y (cells below 0 empty).
    # Years are never a dimension of a matrix product or a sum: each year's
    # numbers come from the same operations however the years are batched, so
    # arms with the same rates up to a year agree exactly up to it.
    X = np.zeros((Y + 1, n_coh, P))
    X[0, K - 1 :] = x.T
    acc = np.empty((Y, n_seg, P))  # sum over sub-steps of the state at their start, by segment
    if aug is not None:
        accw, wl = np.empty((Y, n_seg, P)), np.empty((Y, n_seg))
    # Tables of each run: the year's matrices of the
    # cohorts the sweep moves, and what occupancy needs of each group.
    rows, n_grp = grid.rows, len(g_seg)
    # Vt by entry step first ([run, S, row, P]): _by_entry_runs multiplies whole slices of it.
    Ut, Vt = np.empty((T, len(rows), P, P)), np.empty((T, S, len(rows), P))
    # Every group side by side ([run, P, group * P], groups ordered by segment), to multiply a
    # segment's states in one product: its columns g_bounds[s] * P to g_bounds[s + 1] * P.
    AccU_all = np.empty((T, P, n_grp * P))
    AccV_seg = np.empty((T, n_seg, P, S))
    AccV_all = np.empty((T, n_grp, P, S)) if aug is not None else None
    # One run at a time: batching runs saves few calls but makes arrays large
    # enough for the allocator to map fresh pages for each, which costs more
    # (unless the process keeps its freed memory: RUNS_AT_ONCE).
    missing = []
    for t0 in range(T):
        run = _RUNS.get(run_keys[t0])
        if run is None:
            missing.append(t0)
            continue
        Ut[t0], Vt[t0], AccU_all[t0], AccV_seg[t0] = run.Ut, run.Vt, run.AccU_all, run.AccV_seg
        if aug is not None:
            AccV_all[t0] = run.AccV_all
    # Runs side by side (RUNS_AT_ONCE) along the leading axis: each run's numbers come from the same
    # operations on its own matrices (tested bit for bit against one run at a time).
    batches: list[slice] = []
    for t0 in missing:
        if RUNS_AT_ONCE and batches and batches[-1].stop == t0:
            batches[-1] = slice(batches[-1].start, t0 + 1)
        else:
            batches.append(slice(t0, t0 + 1))
    for ts in batches:
        t0 = ts.start
        M = seg_open[None, :, :, None] * E[ts].take(seg_band, axis=1)  # one sub-step in each segment
        # Sub-steps first ([l, t, segment, P, P]): the running sums add whole contiguous slices.
        Pow = powers(M, grid.L, axis=0)  # l sub-steps
        Sum = prefix_sums(Pow, axis=0)  # sum of the states at the start of each
        SumD = Sum @ Din[ts]  # the same from new cases
        Sum2D = prefix_sums(SumD, axis=0)  # and their sums, for occupancy
        U, V, AccU, AccV = _compose(grid.levels, grid.first0, grid.rows_crossing, Pow, Sum, SumD, Sum2D)
        # Each cohort's year: a table entry, or its own product if it crosses segments (rows are
        # sorted: the tables' entries first, then the crossing cohorts', U and V).
        n, k = Pow.shape[1], len(grid.rows_table)
        length, seg = divmod(grid.rows_table, n_seg)
        Ut[ts, :k] = Pow[length, :, seg].swapaxes(0, 1)
        Ut[ts, k:] = U
        Vt[ts, :, :k] = SumD[length, :, seg].transpose(1, 3, 0, 2)
        Vt[ts, :, k:] = V.transpose(0, 3, 1, 2)
        AccU_all[ts].reshape(n, P, n_grp, P)[...] = AccU.take(grid.order, axis=1).transpose(0, 2, 1, 3)
        AccV = AccV.take(grid.order, axis=1) * grid.g_count[:, None, None]
        for s, (a, b) in enumerate(zip(g_bounds, g_bounds[1:])):
            AccV_seg[ts, s] = AccV[:, a:b].sum(axis=1)
        if aug is not None:
            AccV_all[ts] = AccV
        if t0 == 0:  # a strategy's years before it starts: its first run (later ones are its own)
            _RUNS.put(
                run_keys[t0],
                SimpleNamespace(
                    Ut=Ut[t0],
                    Vt=Vt[t0],
                    AccU_all=AccU_all[t0],
                    AccV_seg=AccV_seg[t0],
                    AccV_all=AccV_all[t0] if aug is not None else None,
                ),
            )

    # A year moves cohort i to cell i + 1 (index i + K): sweep the grid a
    # year-wide block at a time, all years at once, each with its run's matrices.
    one = T == 1
    VR = _by_entry_runs(Vt, rate_in, run_of)  # [Y, row, P]: from the year's new cases
    # The shared spans' matrices year by year, taken once for every span. (Products written into X
    # with out= are slower: X is both their input and output, which numpy checks and buffers.)
    shared_rows = grid.shared_rows
    Us = Ut[0].take(shared_rows, axis=0) if one else Ut[run_of[:, None], shared_rows[None, :]]
    # Their new cases repeated over the cohorts of their longest span: added to a span's products
    # element by element as one run of numbers a year, not nine at a time (the same sums).
    VRs = [np.repeat(VR[:, j, None], n, axis=1) for j, n in zip(shared_rows, grid.shared_len)]
    for lo, hi, shared, alone, arows in grid.sweep:
        if shared is None:  # cohorts below the grid at the start of the year: no state to move
            X[1:, lo + K - 1 : hi + K - 1] = VR[:, arows]
            continue
        for a, b, k in shared:  # one matrix for these cohorts
            Uj = Us[k].T if one else Us[:, k].transpose(0, 2, 1)
            X[1:, a + K : b + K] = X[:-1, a:b] @ Uj + VRs[k][:, : b - a]
        if isinstance(alone, slice):  # a range of cohorts, each its own matrix: by run (see run_groups)
            Ua, VRa = Ut[:, arows], VR[:, arows]  # taken once for every run
            to = slice(alone.start + K, alone.stop + K)
            for t0, t1, y0, y1 in run_groups:
                X[y0 + 1 : y1 + 1, to] = (Ua[t0:t1] @ X[y0:y1, alone, :, None])[..., 0] + VRa[y0:y1]
        elif len(alone):  # each its own matrix: by run (a stack by year would be large)
            for t in range(T):
                y0, y1 = run_start[t], run_end[t]
                X[y0 + 1 : y1 + 1, alone + K] = (Ut[t, arows] @ X[y0:y1, alone, :, None])[..., 0] + VR[
                    y0:y1, arows
                ]
    # Occupancy: the groups' states at the start of the year, then by segment.
    Xg = X[:-1].take(g_coh, axis=1)  # a group's first cohort; groups of many are summed below
    for g, a, b in grid.ranges:
        Xg[:, g] = (np.ones((1, b - a)) @ X[:-1, a:b])[:, 0]  # a product per year: faster than sum(axis=1)
    for t0, t1, y0, y1 in run_groups:
        for s, (a, b) in enumerate(zip(g_bounds, g_bounds[1:])):
            # (a product by year; a segment's columns of AccU_all: the same as a copy of them)
            np.matmul(
                AccU_all[t0:t1, :, a * P : b * P],
                Xg[y0:y1, a:b].reshape(y1 - y0, -1, 1),
                out=acc[y0:y1, s, :, None],
            )
    if aug is not None:
        for t in range(T):
            y0, y1 = run_start[t], run_end[t]
            ny = y1 - y0
            # Present value of a year of adult life for children leaving a
            # group: it starts at from_age (the cohort's, within the year)
            # or at leaving if older; as sim.engines.spells.adult_measures.
            years = np.arange(y0, y1)[:, None]
            code = np.where(grid.seg_adult[g_seg], 0, grid.delay[g_coh])  # half years: see _grid
            w = 0.5 * (
                st.adult_window(years + code // 2) + st.adult_window(years + (code + 1) // 2)
            )  # [years, group]
            Xw = Xg[y0:y1] * w[:, :, None]
            new_w = _by_entry(AccV_all[t], rate_in[y0:y1]) * w[:, :, None]  # [years, group, P]
            steps_w = w * grid.g_steps
            for s, (a, b) in enumerate(zip(g_bounds, g_bounds[1:])):
                accw[y0:y1, s] = (AccU_all[t, :, a * P : b * P] @ Xw[:, a:b].reshape(ny, -1, 1))[..., 0]
                accw[y0:y1, s] += new_w[:, a:b].sum(axis=1)
                wl[y0:y1, s] = steps_w[:, a:b].sum(axis=1)
    acc += _by_entry(AccV_seg[0], rate_in) if one else _by_entry_yearly(AccV_seg[run_of], rate_in)

    # Occupancy integrals (generators are constant within a year and band),
    # and from them child-years and every flow.
    occ_step = np.zeros((P, S))  # sums phases into their steps
    occ_step[np.arange(P), owner_a] = 1.0
    band_hot = (seg_band[:, None] == np.arange(B)[None, :]).astype(float)
    inflow = st.entry_band_prob[None, :, None] * np.einsum(
        "ys,bsp->ybp", rate_in, enter
    )  # [Y, B, P] per year
    E_y, F_y, G_y = E[run_of], F[run_of], G[run_of]
    occ = np.einsum("ybpq,ybq->ybp", F_y, np.einsum("ysp,sb->ybp", acc, band_hot))
    occ += K * np.einsum("ybpq,ybq->ybp", G_y, inflow)
    out = {m: np.zeros((Y, S)) for m in MEASURES}
    out["child_years"] = occ.sum(axis=1) @ occ_step
    flows = np.einsum("ps,ypd->ysd", occ_step, (occ[..., None] * R).sum(axis=1))
    # Children reaching their step's leaving age (or the grid's end) in each segment.
    add = np.einsum("ybpq,ybq->ybp", F_y, inflow) / band_width[None, :, None]  # per cell and sub-step
    E_s, add_s = E_y[:, seg_band], add[:, seg_band]
    gone = 1.0 - seg_open
    aged = gone * (np.einsum("yspq,ysq->ysp", E_s, acc) + (seg_cells * K)[None, :, None] * add_s)
    # On the grid a cell's children leave when it reaches their step's leaving age, so at 31 December
    # those within half a cell (h / 2) of it have already left, though they leave in the next h / 2
    # of a year: the stock would be short by the density at the leaving age times h / 2 (tested
    # against a closed form). Half the top cell's children, extrapolated from the cell below to the
    # leaving age, stand for them (to O(h^2)); they are counted on their step at the end of the year
    # and as leaving in the next. Never more than left that year: where a front of children has not
    # reached the leaving age yet, the top cell is not the density there (and a count would go negative).
    top = np.minimum(leave_cell[owner_a], C) + K - 2  # [P]: cohort index of each state's top cell
    states = np.arange(P)
    edge = 1.5 * X[1:, top, states] - 0.5 * X[1:, top - 1, states]
    grid_aged = aged.sum(axis=1)  # [Y, P]: as the grid has them leave
    half = yield 0.5 * edge * (top >= K - 1), grid_aged  # [Y, P]: bounded by the caller (_bounded)
    aged_p = grid_aged - half
    aged_p[1:] += half[:-1]
    out["aged_out"] = aged_p @ occ_step
    out["new_cases"] = rate_in.copy()
    out["stock_end"] = ((np.ones((1, C)) @ X[1:, K - 1 :])[:, 0] + half) @ occ_step

    steps = np.arange(S)
    moves = flows[:, :, :S].copy()
    moves[:, steps, steps] = 0.0
    out["moves_in"] = moves.sum(axis=1)
    up = steps[None, :] > steps[:, None]  # [from, to]
    out["moves_up"] = (moves * up[None]).sum(axis=2)
    out["moves_down"] = (moves * (~up & (steps[None, :] != steps[:, None]))[None]).sum(axis=2)
    out["closed"] = flows[:, :, S]
    out["aged_out"] += flows[:, :, S + 1]
    nonplaced = ~st.placement
    out["placement_entries"] = (moves[:, nonplaced, :].sum(axis=1) + out["new_cases"]) * st.placement[None, :]
    out["reviews"] = out["child_years"] * per_year
    out["wait_mean"] = np.full((Y, S), np.nan)
    out["wait_p90"] = np.full((Y, S), np.nan)
    out["flows"] = flows
    if aug is not None:
        # Leavers: case closed (or moved to a step they are too old for), and aged out.
        F_s, G_s = F_y[:, seg_band], G_y[:, seg_band]
        new_per_cell = (
            np.einsum("yspq,ysq->ysp", G_s, inflow[:, seg_band]) / band_width[seg_band][None, :, None]
        )
        exit_rate = (R[..., S] + R[..., S + 1])[:, seg_band]  # [Y, segment, P]
        occ_s = np.einsum("yspq,ysq->ysp", F_s, acc) + (seg_cells * K)[None, :, None] * new_per_cell
        occ_w = np.einsum("yspq,ysq->ysp", F_s, accw) + wl[..., None] * new_per_cell
        # Children who reach their step's leaving age start adult life then, or
        # from_age - leaving age years later: its year is that of leaving plus
        # that (exactly, for whole years; else shared by the fraction of a
        # year, as leaving is spread over it).
        later = np.maximum(st.adult_from_age - st.leave_age[owner_a], 0.0)  # [P]
        whole = np.floor(later + 1e-9).astype(np.int64)
        part = np.clip(later - whole, 0.0, 1.0)
        years = np.arange(Y)[:, None]
        aged_w = aged_p * (
            (1.0 - part) * st.adult_window(years + whole) + part * st.adult_window(years + whole + 1)
        )
        out["adult_leavers"], out["adult_cost_pv"] = aug.leavers(
            (exit_rate * occ_s).sum(axis=1), (exit_rate * occ_w).sum(axis=1), aged_p, aged_w
        )
    return out
