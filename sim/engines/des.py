"""The discrete-event engine (SimPy): children moving on the staircase.

Design, measured in ``benchmarks/bench_engine.py``.

*Free paths in bulk.* Where a child's path cannot be changed by anyone else,
its stays depend only on its own row of uniforms, so they are sampled for all
children at once with numpy (:mod:`sim.engines.paths`), in rounds: round
``i`` draws every still-moving child's ``i``-th stay (amount from the stay
law, the step's clock through calendar years and age bands, case reviews,
the destination, ageing out, censoring at the horizon). Without capacity
limits that is the whole run: no events at all.

*Events where children meet.* With capacity limits, every child's path is
still sampled in bulk first, as if no step were ever full. The SimPy loop
then visits only the moments where another child could matter: a new case
arriving on a step with places, and a child due to move onto one (these
come from one feed, sorted by time, with no SimPy event of its own after the
first: its next item keeps the place in SimPy's order that rescheduling the
feed's event would give it, and is handled at the end of the callback of
whichever event comes before it, once it comes before SimPy's next event,
as SimPy would take it next anyway). A place
freed on a bulk path needs no event while no one queues for the step (the
ends wait in a heap per step, counted out when someone asks for a place, with
one alarm at the earliest while there is a queue). While each such moment
finds a place, the sampled stays stand (:class:`_PathFollower`) and go to the
log in bulk at the end. The first time a child is refused (or sent on), the
scalar event engine takes it over from that state, with its next uniform:
waits, queues (first come first served, oldest or youngest first), overflow,
admissions and everything after them are SimPy events, one per move. There a
child is a small ``__slots__`` object that SimPy schedules directly as an
event with one shared callback (not a generator process per child: SimPy's
cost per event grows with the number of live processes), the ends of waits
that matter to others share one alarm (a wait that just ends with the case
needs none), and each stay is written to the spell log when it starts.

``eager=False`` skips the bulk paths and schedules every move as an event;
:func:`simulate_naive` is the textbook SimPy model (a generator process per
child, ``simpy.Resource`` for places). Both give the same spells (tested):
steps exact, times to within about 1e-15 years, since numpy's ``log``,
``exp`` and ``**`` may round the last bit differently from :mod:`math`'s.
Events at exactly the same time (children reviewed together) are taken in
SimPy's order; the reference's places hand a released place to the queue at
once (:class:`_Places`; see "Simultaneous events" in the docs' model page).

Common random numbers: every child owns a fixed row of uniforms (keyed by the
seed, the replication and the child's id), used in order: two for its entry,
then two per stay (three on a step with case reviews), one per wait; beyond
the row, its own stream keyed by its id. The same child therefore draws the
same numbers in the baseline and in the strategy until the strategy changes
its path, and results do not depend on the number of workers. Children a
strategy adds (earlier detection) come from their own streams.

The engine knows nothing of files, pandas or plots: it returns arrays.
"""

from __future__ import annotations

import gc
import math
import struct
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from heapq import heappop, heappush
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.engines.paths import BulkStay, Draws, entries, review_phase
from sim.model.staircase import Staircase, whole_stock
from sim.model.stays import ExponentialStay

ROW = 16
"""Uniforms pre-drawn per child: 2 for entry, 2 per stay (7 stays)."""

FROM_STOCK, FROM_OUTSIDE = -2, -1
"""``from_step`` codes: on the staircase at the start; a new case."""

CENSORED = -1
"""``to_step`` code: still on the step at the end of the horizon."""

WAITS = -2
"""``to_step`` code: the child stays on the step, from now waiting for a full one."""

# Stream ids under one run's seed; each is spawned per replication.
STREAM_ARRIVALS, STREAM_CHILDREN, STREAM_EXTRA_ARRIVALS, STREAM_EXTRA_CHILDREN = 1, 2, 3, 4


@dataclass(frozen=True)
class SpellLog:
    """Every stay of every child on a step, as flat arrays.

    ``to_step`` is a step index, ``S`` (case closed), ``S + 1`` (aged out) or
    ``CENSORED``, or ``WAITS`` (the child stays on, now waiting for a full
    step); ``end`` is ``inf`` for censored stays. ``from_step`` is a step
    index, ``FROM_OUTSIDE`` (a new case) or ``FROM_STOCK``. ``extra`` marks
    children a strategy added. ``wait_for`` is the full step a waiting spell
    waits for (-1: not waiting); ``overflowed_from`` the full step that sent
    the child here (-1: none). ``reviews`` counts case reviews held, ``[year,
    step]``.
    """

    child: np.ndarray
    step: np.ndarray
    from_step: np.ndarray
    to_step: np.ndarray
    start: np.ndarray
    end: np.ndarray
    age_start: np.ndarray
    extra: np.ndarray
    wait_for: np.ndarray
    overflowed_from: np.ndarray
    reviews: np.ndarray
    n_children: int
    horizon: int


def streams(seed: int, replication: int) -> dict[int, np.random.Generator]:
    """Independent generators for one replication, one per purpose."""
    return {
        sid: np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=(replication, sid))))
        for sid in (STREAM_ARRIVALS, STREAM_CHILDREN, STREAM_EXTRA_ARRIVALS, STREAM_EXTRA_CHILDREN)
    }


def _arrival_times(rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals, constant rate within each year, sorted."""
    counts = rng.poisson(rate)
    times = [y + np.sort(rng.random(n)) for y, n in enumerate(counts)]
    return np.concatenate(times) if times else np.zeros(0)


class _Child:
    """A child, and at the same time the SimPy event that ends its stay.

    Of an event, SimPy's loop reads only ``callbacks`` and ``_ok`` (and
    ``_value`` if it failed). These events never fail: ``_ok`` and ``_value``
    are constants of the class, not set per child."""

    _ok, _value = True, None
    __slots__ = (
        "callbacks",
        "cid",
        "birth",
        "step",
        "t_end",
        "k",
        "u",
        "extra",
        "pending",
        "wait",
        "grp",
        "key",
        "i",
    )


class _Run:
    """One replication of one arm, prepared: tables as Python lists, random rows,
    arrivals, and the spell log. Shared by the engine and the naive reference so
    that both run exactly the same model."""

    def __init__(self, st: Staircase, seed: int, replication: int) -> None:
        rngs = streams(seed, replication)
        self.st, self.seed, self.replication = st, seed, replication
        self.Y, self.S = st.horizon, st.n_steps
        # Spell log, packed into one growing buffer (never a Python object per row):
        # a row is one call of ``_SPELL_ROW.pack``, see there.
        self.L = bytearray()
        self.reviews = [[0] * st.n_steps for _ in range(st.horizon)]
        self.draw = self.make_draw()
        self.counts = whole_stock(st.stock)  # [S, B], each step's total exactly the file's
        self.n_stock = int(self.counts.sum())
        base_times = _arrival_times(st.entries, rngs[STREAM_ARRIVALS])
        self.n_base = self.n_stock + len(base_times)
        self.U = rngs[STREAM_CHILDREN].random((self.n_base, ROW), dtype=np.float32)
        extra_times = _arrival_times(st.extra_entries, rngs[STREAM_EXTRA_ARRIVALS])
        self.UX = rngs[STREAM_EXTRA_CHILDREN].random((len(extra_times), ROW), dtype=np.float32)
        is_extra = np.concatenate([np.zeros(len(base_times), np.int8), np.ones(len(extra_times), np.int8)])
        all_times = np.concatenate([base_times, extra_times])
        # The base times are sorted already: only the strategy's need merging in.
        order = np.argsort(all_times, kind="stable") if len(extra_times) else np.arange(len(all_times))
        self.arrival_times = all_times[order]
        self.arrival_extra = is_extra[order].tobytes()
        self.n_arrivals = len(self.arrival_times)
        # A strategy that reaches children by entry step: group 0 is reached
        # (the arm's own tables), group 1 is not (st.unreached's).
        reach = st.entry_reach
        self.group = [0] * self.S if reach is None else [0 if r else 1 for r in reach.tolist()]
        self.arms = (st, st.unreached if st.unreached is not None else st)

    @property
    def arrival_t(self) -> list[float]:
        """The arrival times as Python floats (for the event loops)."""
        return self.arrival_times.tolist()

    def per_group(self, make: Callable[[Staircase], Any]) -> tuple:
        """``make(arm)`` for each group of children, computed once per distinct arm."""
        a, b = self.arms
        first = make(a)
        return (first, first if b is a else make(b))

    @staticmethod
    def _rows(matrix: np.ndarray) -> Callable[[int], memoryview]:
        """Row ``j`` of a uniform matrix, as a memoryview: indexing it gives a
        Python float at once, with no list built and no numpy scalar."""
        flat = memoryview(np.ascontiguousarray(matrix).reshape(-1))
        width = matrix.shape[1] if matrix.ndim == 2 else ROW

        def row(j: int) -> memoryview:
            return flat[j * width : (j + 1) * width]

        return row

    def stock_children(self, make: Callable[[int, memoryview, int], _Child]) -> Iterator[tuple[_Child, int]]:
        """The children on the staircase at the start, with their step."""
        lo, width = self.st.band_edges[:-1].tolist(), np.diff(self.st.band_edges).tolist()
        cid = 0
        row = self._rows(self.U)
        for s in range(self.S):
            for b in range(len(lo)):
                for _ in range(self.counts[s, b]):
                    c = make(cid, row(cid), 0)
                    c.grp = self.group[s]  # as if it entered where it stands
                    c.birth = -(lo[b] + c.u[1] * width[b])
                    yield c, s
                    cid += 1

    def make_arrival(
        self, make: Callable[[int, memoryview, int], _Child]
    ) -> Callable[[int, float], tuple[_Child, int]]:
        """A function giving the i-th new case at time t: the child and its entry step."""
        st = self.st
        step_cum = [[*row[:-1], 1.0] for row in np.cumsum(st.entry_step_prob, axis=1).tolist()]
        band_cum = np.cumsum(st.entry_band_prob).tolist()
        band_cum[-1] = 1.0
        band_lo, band_w = st.band_edges[:-1].tolist(), np.diff(st.band_edges).tolist()
        n_bands, S = len(band_lo), self.S
        extra, n_base, group = self.arrival_extra, self.n_base, self.group
        row, row_x = self._rows(self.U), self._rows(self.UX)
        nxt = [self.n_stock, 0]  # next base child id, next extra child index

        def arrival(i: int, t: float) -> tuple[_Child, int]:
            if extra[i]:
                j = nxt[1]
                nxt[1] = j + 1
                c = make(n_base + j, row_x(j), 1)
            else:
                j = nxt[0]
                nxt[0] = j + 1
                c = make(j, row(j), 0)
            u = c.u
            # Age band from u[1], and the age within the band from where u[1] falls in it.
            b = min(bisect_right(band_cum, u[1]), n_bands - 1)
            lo = band_cum[b - 1] if b > 0 else 0.0
            frac = (u[1] - lo) / (band_cum[b] - lo) if band_cum[b] > lo else 0.5
            c.birth = t - (band_lo[b] + frac * band_w[b])
            s = min(bisect_right(step_cum[int(t)], u[0]), S - 1)
            c.grp = group[s]
            return c, s

        return arrival

    def make_draw(self) -> Callable[[_Child], float]:
        """The child's next uniform: from its pre-drawn row, then from its own stream."""
        overflow = _overflow_row(self.seed, self.replication)
        extra_rows: dict[int, _Overflow] = {}
        self._extra_rows = extra_rows

        def draw(child: _Child) -> float:
            k = child.k
            child.k = k + 1
            if k < ROW:
                return child.u[k]
            row = extra_rows.get(child.cid)
            if row is None:
                # Rare: a child with more stays than its row; keyed by its id.
                row = extra_rows[child.cid] = overflow(child.cid, child.extra)
            return row[k - ROW]

        return draw

    def make_clock(self) -> Callable[[list, int, float, float, float, float], tuple[float, bool, int, int]]:
        """Run a step's clock through years and age bands until ``amount`` is used up."""
        Y = self.Y
        edges = self.st.band_edges.tolist()
        inner = edges[1:-1]
        inf = math.inf

        def clock(table: list, s: int, t: float, birth: float, amount: float, leave_t: float):
            # Returns (end, aged_out, year, band); end is inf beyond the horizon.
            y = int(t)
            b = bisect_right(inner, t - birth)
            cur = t
            while y < Y:
                seg = y + 1.0
                band_end = birth + edges[b + 1]
                if band_end < seg:
                    seg = band_end
                if leave_t < seg:
                    seg = leave_t
                r = table[y][b][s]
                if r > 0.0 and cur + amount / r <= seg:
                    return cur + amount / r, False, y, b
                amount -= (seg - cur) * r
                if seg >= leave_t:
                    return leave_t, True, y, b
                if seg >= y + 1.0:
                    y += 1
                if seg >= band_end:
                    b += 1
                cur = seg
            return inf, False, y, b

        return clock

    def make_stay(self) -> Callable[[_Child, int, float, bool], tuple[float, int]]:
        """The model of one stay: when it ends and where it leads (not yet logged)."""
        st = self.st
        Y, S = self.Y, self.S
        aged_out = S + 1
        edges = st.band_edges.tolist()
        inner = edges[1:-1]
        leave_age = st.leave_age.tolist()
        # Each step's stay law turns one uniform into an amount of step clock
        # (None: exponential, -log(1 - u), computed inline); children on the
        # staircase at the start draw from the law of the stay they are found
        # in (a mixture's is length-biased).
        amount_of = tuple(
            [None if isinstance(law, ExponentialStay) else law.sampler() for law in laws]
            for laws in (st.stays, [law.at_start() for law in st.stays])
        )
        # Clock and destination tables per group of children (reached or not).
        tables = self.per_group(self._stay_tables)
        g_intensity, g_dest, g_const_rate, g_const_dest = (tuple(t[i] for t in tables) for i in range(4))
        # Case reviews: interval per year, and where a review sends a child.
        interval = st.review_interval.T.tolist()  # [s][y]
        review_p = st.review_prob.sum(axis=1).tolist()
        review_cum = (
            np.cumsum(st.review_prob, axis=1) / np.maximum(st.review_prob.sum(axis=1), 1e-300)[:, None]
        ).tolist()
        has_review = [p > 0 and math.isfinite(min(iv)) for p, iv in zip(review_p, interval)]
        reviews = self.reviews  # [y][s] reviews held
        log = math.log
        inf = math.inf
        draw = self.draw
        clock = self.make_clock()
        # The tables of a stay without case reviews, for the engine's copy of this
        # sampler inline in its ``enter`` (see there).
        self.plain_stay = (amount_of[0], g_intensity, g_dest, g_const_rate, g_const_dest, has_review, clock)

        def stay(child: _Child, s: int, t: float, stock: bool) -> tuple[float, int]:
            g = child.grp
            k = child.k
            if k + 1 < ROW:  # both in the child's row (nearly always): no call per uniform
                u = child.u
                u1, u2 = u[k], u[k + 1]
                child.k = k + 2
            else:
                u1 = draw(child)
                u2 = draw(child)
            birth = child.birth
            # Amount of "step clock" this stay needs (exponential laws inline: no call).
            sample = amount_of[stock][s]
            amount = -log(1.0 - u1) if sample is None else sample(u1)
            leave_t = birth + leave_age[s]
            rate = g_const_rate[g][s]
            y = b = -1
            if rate is not None:
                end = t + amount / rate if rate > 0 else inf
                aged = end >= leave_t
                if aged:
                    end = leave_t
            else:
                end, aged, y, b = clock(g_intensity[g], s, t, birth, amount, leave_t)
            review_cum_s = None
            if has_review[s]:
                # The number of reviews until one moves the child is geometric;
                # each review comes one interval (of its year) after the last.
                p = review_p[s]
                u3 = draw(child)
                if p >= 1.0:
                    n, phase = 1, u3
                else:
                    x = log(1.0 - u3) / log(1.0 - p)
                    n = 1 + int(x)
                    phase = review_phase(x - int(x), p)
                tr, held, iv_s = t, 0, interval[s]
                # A child found on the step at the start has waited an unknown part of its
                # interval already: its first review comes after 1 - phase of one.
                first = (1.0 - phase) if stock else 1.0
                while held < n:
                    yr = int(tr)
                    if yr >= Y:
                        break
                    tr += iv_s[yr] * first if held == 0 else iv_s[yr]
                    if tr >= end or tr >= Y:
                        break
                    held += 1
                    reviews[int(tr)][s] += 1
                if held == n and tr < end:
                    end, aged, review_cum_s = tr, False, review_cum[s]
            if end >= Y:
                return inf, CENSORED
            if aged:
                return end, aged_out
            if review_cum_s is not None:
                to = bisect_right(review_cum_s, u2)
            else:
                cum = g_const_dest[g][s]
                if cum is None:
                    if y < 0 or end >= y + 1.0:
                        y = int(end)
                        b = bisect_right(inner, end - birth)
                    cum = g_dest[g][y][b][s]
                to = bisect_right(cum, u2)
            if to < S and end - birth >= leave_age[to]:
                to = aged_out
            return end, to

        return stay

    @staticmethod
    def _stay_tables(arm: Staircase) -> tuple[list, list, list, list]:
        """One arm's step clocks ``[y][b][s]``, cumulative destinations
        ``[y][b][s][d]``, and the constant ones (fast paths; ``None`` where they change)."""
        S = arm.n_steps
        dest_cum = np.cumsum(arm.dest_prob, axis=3)
        dest_cum[..., -1] = np.where(dest_cum[..., -1] > 0, 1.0, 0.0)
        dest = dest_cum.tolist()
        const_rate = _constant_per_step(arm.intensity)
        const_dest = [
            dest[0][0][s] if np.all(dest_cum[:, :, s] == dest_cum[0, 0, s]) else None for s in range(S)
        ]
        return arm.intensity.tolist(), dest, const_rate, const_dest

    def wait_tables(self) -> tuple[tuple, tuple, Callable]:
        """What a wait is drawn from (:meth:`make_wait`, and the engine's copy of it
        inline in its ``start_wait``): each group's closing rates ``[y][b][s]``, the
        rates that are the same in every year and age band (None elsewhere), and a clock."""
        closes = self.per_group(lambda arm: arm.close_rate.tolist())
        # A rate that is the same in every year and age band needs no clock (a fast path).
        const = self.per_group(lambda arm: _constant_per_step(arm.close_rate))
        return closes, const, self.make_clock()

    def make_wait(self) -> Callable[[_Child, int, float, int], tuple[float, int]]:
        """While a child waits on step ``w`` for step ``j``: when its case closes or it ages out.

        It ages out at the leaving age of the step it waits on, or of the step
        it waits for if that is lower (an aftercare step's child waiting for a
        place it is too old for at 18): a move to a step the child is too old
        for ends the case, as it does for moves without a queue.
        """
        S = self.S
        closes, const, clock = self.wait_tables()
        leave_age = self.st.leave_age.tolist()
        draw = self.draw
        inf, log = math.inf, math.log

        def wait(child: _Child, w: int, t: float, j: int) -> tuple[float, int]:
            k = child.k
            if k < ROW:
                child.k = k + 1
                u = child.u[k]
            else:
                u = draw(child)
            amount = -log(1.0 - u)
            age = leave_age[w] if leave_age[w] <= leave_age[j] else leave_age[j]
            rate = const[child.grp][w]
            if rate is None:
                end, aged, _, _ = clock(closes[child.grp], w, t, child.birth, amount, child.birth + age)
            else:
                end = t + amount / rate if rate > 0.0 else inf
                aged = end >= child.birth + age
                if aged:
                    end = child.birth + age
            return end, (S + 1 if aged else S)

        return wait

    def too_old(self) -> Callable[[_Child, int, float], bool]:
        """Whether a child is at or past step ``k``'s leaving age at time ``t``."""
        leave_age = self.st.leave_age.tolist()

        def too_old(child: _Child, k: int, t: float) -> bool:
            return t - child.birth >= leave_age[k]

        return too_old

    def make_record(self) -> Callable[..., None]:
        """Append one spell to the log."""
        append, pack = self.L.extend, _SPELL_ROW.pack
        extra_rows, S = self._extra_rows, self.S

        def record(
            child: _Child,
            s: int,
            t: float,
            end: float,
            to: int,
            from_step: int,
            wait_for: int = -1,
            ovf: int = -1,
        ) -> None:
            append(pack(child.cid, s, from_step, to, child.extra, wait_for, ovf, t, end, t - child.birth))
            if extra_rows and (to >= S or to == CENSORED):
                extra_rows.pop(child.cid, None)  # the child has left: its extra draws are done

        return record

    def spell_log(self) -> SpellLog:
        rows = np.frombuffer(self.L, dtype=_SPELL_DTYPE)
        # Each column on its own (the packed rows leave the numbers unaligned).
        col = {name: np.ascontiguousarray(rows[name]) for name in _SPELL_DTYPE.names}
        return SpellLog(
            child=col["child"],
            step=col["step"],
            from_step=col["from_step"],
            to_step=col["to_step"],
            start=col["start"],
            end=col["end"],
            age_start=col["age"].astype(np.float32),
            extra=col["extra"],
            wait_for=col["wait_for"],
            overflowed_from=col["overflowed_from"],
            reviews=np.array(self.reviews, dtype=np.float64),
            n_children=self.n_base + len(self.UX),
            horizon=self.Y,
        )


_SPELL_FIELDS = (
    ("child", "<i8"),
    ("step", "i1"),
    ("from_step", "i1"),
    ("to_step", "i1"),
    ("extra", "i1"),
    ("wait_for", "i1"),
    ("overflowed_from", "i1"),
    ("start", "<f8"),
    ("end", "<f8"),
    ("age", "<f8"),
)
_SPELL_ROW = struct.Struct("<q6b3d")
"""One row of the scalar engines' spell log, packed (no padding): the child's id,
its six small codes (step, from, to, extra, waits for, overflowed from), then
start, end and age. Packing a row is one call, several times cheaper than
appending the numbers to typed arrays one by one."""
_SPELL_DTYPE = np.dtype(list(_SPELL_FIELDS))
assert _SPELL_DTYPE.itemsize == _SPELL_ROW.size


def _constant_per_step(rate: np.ndarray) -> list[float | None]:
    """Each step's rate of a ``[year, band, step]`` table where it is the same in
    every year and band (a fast path needs no clock), else ``None``."""
    return [
        float(rate[0, 0, s]) if np.all(rate[:, :, s] == rate[0, 0, s]) else None for s in range(rate.shape[2])
    ]


class _Timer:
    """The alarm event that ends waits (case closed, aged out, or waited too long);
    an event as :class:`_Child` is."""

    _ok, _value = True, None
    __slots__ = ("callbacks", "reason", "step")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: it would walk every live child again
    and again (a cost that grows with the children on the staircase), and a
    run makes no garbage cycles it needs to find before it ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def simulate_des(st: Staircase, seed: int, replication: int = 0, eager: bool = True) -> SpellLog:
    """Run one replication of the discrete-event model.

    Parameters
    ----------
    st : Staircase
        A compiled arm.
    seed : int
        The run's seed.
    replication : int
        Replication number; with ``seed`` it keys every random stream.
    eager : bool
        Sample children's paths in bulk where no one else can change them,
        and use events only where children meet (places). The spells are the
        same as with ``eager=False``, which schedules every move as an event
        (times to within an ulp or two); eager is much faster.

    Returns
    -------
    SpellLog
    """
    with _collector_paused():
        if eager and not st.capped.any():
            return _simulate_free(st, seed, replication)
        return _simulate(st, seed, replication, eager)


class _Overflow:
    """A child's uniforms beyond its row: its own stream, as long as the child needs.

    It grows 256 numbers at a time; a stream's numbers are the same however it
    is cut, so a longer run never changes the numbers drawn before.
    """

    __slots__ = ("generator", "values")

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        self.values: list[float] = generator.random(256).tolist()

    def __getitem__(self, j: int) -> float:
        while j >= len(self.values):
            self.values += self.generator.random(256).tolist()
        return self.values[j]


def _overflow_row(seed: int, replication: int) -> Callable[[int, int], _Overflow]:
    """A child's uniforms beyond its row: its own stream, keyed by its id."""

    def row(cid: int, extra: int) -> _Overflow:
        key = (replication, STREAM_EXTRA_CHILDREN + 1 + extra, cid)
        return _Overflow(np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=key))))

    return row


@dataclass
class _Paths:
    """Every child's stays as if no step were ever full, child by child in entry
    order: child ``c`` (in entry order) has stays ``first[c] .. first[c] + n[c] - 1``."""

    first: np.ndarray
    n: np.ndarray
    step: np.ndarray
    from_step: np.ndarray
    to_step: np.ndarray
    start: np.ndarray
    end: np.ndarray
    age: np.ndarray
    k: np.ndarray  # the index of the stay's first uniform in the child's row
    total: int


PATH_BLOCK = 1 << 17
"""Children whose paths are sampled together (:func:`_free_paths`): a block's arrays
stay in the processor's cache, and two workers queue less for the memory bus."""


def _free_paths(run: _Run, e: dict[str, np.ndarray], stay: BulkStay, draws: Draws) -> _Paths:
    """Sample every stay of every child in bulk, a block of children at a time, and
    lay them out child by child in entry order.

    A child's stays depend only on its own numbers, so the blocks give the very
    stays of sampling all children at once (tested), with less memory traffic.
    """
    n_all = len(e["cid"])
    if n_all <= PATH_BLOCK:
        return _block_paths(run, e, stay, draws)
    blocks = []
    for lo in range(0, n_all, PATH_BLOCK):
        part = {k: v[lo : lo + PATH_BLOCK] for k, v in e.items() if k in _PATH_KEYS}
        blocks.append(_block_paths(run, part, stay, draws))
    offset = np.cumsum([0] + [b.total for b in blocks[:-1]])
    first = np.concatenate([b.first + o for b, o in zip(blocks, offset)])
    cols = {}
    for f in fields(_Paths):
        if f.name not in ("first", "total"):
            cols[f.name] = np.concatenate([getattr(b, f.name) for b in blocks])
            for b in blocks:  # each column's pieces go as it is joined: the peak stays that of one column
                setattr(b, f.name, None)
    return _Paths(first=first, total=int(sum(b.total for b in blocks)), **cols)


_PATH_KEYS = ("cid", "step", "t", "birth", "group", "stock")
"""The entries a block of paths reads."""


def _block_paths(run: _Run, e: dict[str, np.ndarray], stay: BulkStay, draws: Draws) -> _Paths:
    """Sample every stay of the children in ``e`` in bulk, round by round (round ``i``:
    each child's ``i``-th stay), and lay them out child by child."""
    S = run.S
    n_all = len(e["cid"])
    cid, s, t, birth, g = e["cid"], e["step"], e["t"], e["birth"], e["group"]
    stock: np.ndarray | None = e["stock"]
    frm = np.where(e["stock"], FROM_STOCK, FROM_OUTSIDE).astype(np.int8)
    key = np.arange(n_all, dtype=np.int32 if n_all < 2**31 else np.int64)
    k: np.ndarray | int = 2
    rounds: list[list] = []
    while len(cid):
        end, to = stay(cid, s, t, birth, g, stock, k, draws)
        stock = None
        kk = np.full(len(cid), k, dtype=np.int32) if np.isscalar(k) else k.astype(np.int32)
        rounds.append(
            [key, s.astype(np.int8), frm, to.astype(np.int8), t, end, (t - birth).astype(np.float32), kk]
        )
        k = kk + stay.draws_per_stay[s]
        mv = (to >= 0) & (to < S)
        frm = s[mv].astype(np.int8)
        cid, key, birth, g, k, s, t = cid[mv], key[mv], birth[mv], g[mv], k[mv], to[mv], end[mv]
    del cid, birth, g, k, s, t, frm
    # Round i holds each moving child's i-th stay: it goes to the child's first row plus i.
    n_spells = np.zeros(n_all, dtype=np.int64)
    for r in rounds:
        n_spells[r[0]] += 1
    first = np.cumsum(n_spells) - n_spells
    total = int(n_spells.sum())
    pos = [first[r[0]] + i if i else first for i, r in enumerate(rounds)]
    cols = []
    types = (np.int8, np.int8, np.int8, np.float64, np.float64, np.float32, np.int32)
    for j, dtype in enumerate(types, start=1):
        out = np.empty(total, dtype=dtype)
        for p, r in zip(pos, rounds):
            out[p] = r[j]
            r[j] = None
        cols.append(out)
    del rounds, pos
    return _Paths(first, n_spells, *cols, total=total)


def _simulate_free(st: Staircase, seed: int, replication: int) -> SpellLog:
    """Without capacity limits no child can change another's path: every stay of
    every child is sampled in bulk (:mod:`sim.engines.paths`), round by round."""
    run = _Run(st, seed, replication)
    e = entries(run)
    reviews = np.zeros((run.Y, run.S), dtype=np.int64)
    stay = BulkStay(st, run.arms, reviews)
    draws = Draws(run.U, run.UX, run.n_base, _overflow_row(seed, replication))
    p = _free_paths(run, e, stay, draws)
    child = np.repeat(e["cid"], p.n)
    extra = np.repeat(e["extra"], p.n)
    none = np.full(p.total, -1, dtype=np.int8)
    return SpellLog(
        child=child,
        step=p.step,
        from_step=p.from_step,
        to_step=p.to_step,
        start=p.start,
        end=p.end,
        age_start=p.age,
        extra=extra,
        wait_for=none,
        overflowed_from=none.copy(),
        reviews=reviews.astype(np.float64),
        n_children=run.n_base + len(run.UX),
        horizon=run.Y,
    )


class _PathFollower:
    """Children on their free paths, through a run with capacity limits.

    Every child's stays are first sampled in bulk as if no step were ever full
    (:func:`_free_paths`). The event loop then only visits the moments where
    another child could matter: a new case arriving on a step with places, a
    child due to move onto one, a child leaving one (its place frees: into the
    engine's heap of later ends for the step, an event only while the step has
    a queue). While
    every such moment finds a place, the child's sampled stays are exactly the
    ones the event engine would draw (the same uniforms, in the same order), so
    they stand and are written to the log in bulk at the end. The first time a
    child is refused (or sent on), it *diverges*: from there its stays after
    that moment are dropped and the scalar event engine takes the child over,
    from the same state and the same next uniform.
    """

    def __init__(
        self,
        run: _Run,
        seed: int,
        replication: int,
        take: Callable,
        move: Callable,
        refused: Callable,
        route: Callable,
        settle: Callable,
        new_child: Callable,
        at: Callable,
        lazy: tuple[list, list, list, Callable],
        places: tuple[Callable, list, Callable, list, list, list, Callable],
        feed_at: list[float],
        env: simpy.Environment,
    ) -> None:
        st, S = run.st, run.S
        self.run = run
        e = self.e = entries(run)
        self.bulk_reviews = np.zeros((run.Y, S), dtype=np.int64)
        stay = BulkStay(st, run.arms, self.bulk_reviews)
        self.draws = Draws(run.U, run.UX, run.n_base, _overflow_row(seed, replication))
        self.stay = stay
        P = self.P = _free_paths(run, e, stay, self.draws)
        n_keys = len(e["cid"])
        capped_np = st.capped
        # The stock takes its places at the start (it may exceed them).
        for j in np.flatnonzero(capped_np).tolist():
            for _ in range(int(run.counts[j].sum())):
                take(j)
        # New cases too old for their entry step never enter (route()).
        arrival = ~e["stock"]
        gone = arrival & (e["t"] - e["birth"] >= st.leave_age[e["step"]])
        # Moments that need an event: the end of a stay on a step with places
        # (its place frees), or of a stay that moves onto one. One small table,
        # by step and destination (``to_step`` + 1: from CENSORED to aged out),
        # says which: 0 none, 1 a place freed only ("pure"), 2 a move onto a step
        # with places. (One lookup per stay: at national scale every temporary
        # array of a million stays costs time.)
        need_of = np.zeros((S, S + 3), dtype=np.int8)
        need_of[capped_np, 1:] = 1  # ends on a step with places free the place, unless censored (column 0)
        need_of[:, 1 : S + 1][:, capped_np] = 2
        index = P.step.astype(np.int32)
        index *= S + 3
        index += P.to_step
        index += 1
        need = need_of.reshape(-1)[index]
        del index
        # Each stay's next such moment (or -1: none until the child's path ends),
        # as positions in the stays (int32: half the memory of int64).
        pos_t = np.int32 if P.total < 2**31 - 1 else np.int64
        nxt = np.arange(P.total, dtype=pos_t)
        nxt[need == 0] = P.total
        np.minimum.accumulate(nxt[::-1], out=nxt[::-1])
        nxt[nxt >= np.repeat((P.first + P.n).astype(pos_t), P.n)] = -1
        # Each child's first such moment: its arrival on a step with places, or
        # the end of its first stay that needs an event.
        at_capped = arrival & capped_np[e["step"]] & ~gone
        has = (P.n > 0) & ~gone & ~at_capped
        first_cp = np.full(n_keys, -1, dtype=pos_t)
        first_cp[has] = nxt[P.first[has]]
        # Children whose first such moment only frees a place (the stock on steps
        # with places) are followed from the start; the others when it comes.
        starts_pure = np.flatnonzero(first_cp >= 0)
        starts_pure = starts_pure[need[first_cp[starts_pure]] == 1]
        first_cp[starts_pure] = -1
        feed_arrival = np.flatnonzero(at_capped)
        feed_stay = np.flatnonzero(first_cp >= 0)
        times = np.concatenate([e["t"][feed_arrival], P.end[first_cp[feed_stay]]])
        # An item's child, and its kind in the sign: ``c`` a new case, ``~c`` a first move.
        keys = np.concatenate([feed_arrival, ~feed_stay])
        order = np.argsort(times, kind="stable")
        # Per child: how many of its sampled stays stand (in the log; for the count of reviews).
        self.valid = np.where(gone, 0, P.n)
        self.rev_valid = self.valid.copy()
        # Written through memoryviews: a Python int goes in without numpy's indexing.
        valid, rev_valid = memoryview(self.valid), memoryview(self.rev_valid)

        # Scalar access for the event loop: memoryviews give Python numbers at once.
        # The feed's times end with infinity: the item after the last never comes first.
        feed_t = memoryview(np.append(times[order], math.inf))
        feed_key = memoryview(keys[order])
        first_cp_v = memoryview(first_cp)
        P_end, P_start = memoryview(P.end), memoryview(P.start)
        P_step, P_to, P_from = memoryview(P.step), memoryview(P.to_step), memoryview(P.from_step)
        P_k = memoryview(P.k)
        first = memoryview(P.first)
        nxt_v = memoryview(nxt)
        need_v = memoryview(need)
        self._nxt = nxt
        cid_v, birth_v = memoryview(e["cid"]), memoryview(e["birth"])
        group_v, extra_v, step0 = memoryview(e["group"]), memoryview(e["extra"]), memoryview(e["step"])
        n_base = run.n_base
        # Every row of uniforms, flat: a child's row is a slice (no call per child).
        flat = memoryview(np.ascontiguousarray(run.U).reshape(-1))
        flat_x = memoryview(np.ascontiguousarray(run.UX).reshape(-1))
        dps = stay.draws_per_stay.tolist()
        path_cb: list = [None]
        n_feed = len(order)
        # The feed reschedules itself straight onto SimPy's queue (as ``at``
        # would; its times are sorted, so never in the past).
        queue, eid = env._queue, env._eid
        # The engine's heaps of places freed later, per step, with their alarms
        # (see ``_simulate``): ``follow`` pushes onto them itself, as it does for
        # nearly every stay that ends on a step with places.
        lazy_ends, queues, lazy_alarm, arm = lazy
        # The places taken on each step, and the rule for whether one is free
        # (the feed takes and frees them itself, as ``move`` does).
        # ``limit[j]``: step j's places where the same every year (else None, and
        # ``cap[y][j]``); ``wait_to[j]``: where a new case found j full waits
        # (see ``new_case_to``).
        has_place, occupied, admit, limit, cap, wait_to, start_wait = places
        capped = capped_np.tolist()
        leave_age = run.st.leave_age.tolist()

        def make(c: int) -> _Child:
            # new_child(), inline (one call per child the event engine takes over, not two).
            # (No ``callbacks`` or ``wait`` yet: they are set before SimPy or a queue reads them.)
            child = _Child()
            cid = child.cid = cid_v[c]
            if extra_v[c]:
                j = (cid - n_base) * ROW
                child.u, child.extra = flat_x[j : j + ROW], 1
            else:
                j = cid * ROW
                child.u, child.extra = flat[j : j + ROW], 0
            child.k = 2
            child.birth, child.grp, child.key = birth_v[c], group_v[c], c
            return child

        def follow(c: int, j: int, child: _Child | None) -> None:
            """Follow child ``c`` (in entry order) from its stay ``j``: places it frees
            go to the heap of later ends of their step (an alarm if the step has a
            queue, to admit from it then); its next move onto a step with places is
            an event. (``on_feed`` has a copy of this loop inline.)"""
            m = nxt_v[j]
            while m >= 0 and need_v[m] == 1:
                s, t = P_step[m], P_end[m]
                heappush(lazy_ends[s], t)
                if queues[s] and t < lazy_alarm[s][0]:
                    arm(s)
                to = P_to[m]
                if not 0 <= to < S:
                    return
                m = nxt_v[m + 1]
            if m >= 0:
                if child is None:
                    child = make(c)
                child.i = m
                child.callbacks = path_cb
                at(child, P_end[m])

        def on_path(child: _Child) -> None:
            # Due to move onto a step with places (perhaps from one).
            i = child.i
            s, t = P_step[i], P_end[i]
            if move(s, P_to[i], t):
                follow(child.key, i + 1, child)
                if queues[s]:  # after the child's own next event is set (see ``move``)
                    admit(s, t)
            else:
                diverge(child, i)
            if feed_at[0] <= queue[0][0]:  # the feed's callback, inline
                on_feed(child)

        def diverge(child: _Child, i: int) -> None:
            # Refused the move that ends stay i: the event engine takes the child over.
            c, s = child.key, P_step[i]
            valid[c] = kept = i - first[c]
            rev_valid[c] = kept + 1
            child.k = P_k[i] + dps[s]
            refused(child, s, P_start[i], P_end[i], P_to[i], P_from[i], -1)

        def on_feed(_ev: Any) -> None:
            # Called at the end of every event's callback (inline in the most common
            # ones, a second callback of the others), and as the only callback of the
            # feed's first event. The feed's next item waits, with no event of
            # its own, at the place in SimPy's order where the feed's event would be:
            # its time, and the id the event would have got when the feed last yielded.
            # It is handled when that comes before SimPy's next event, which is when
            # SimPy would take the feed's event next.
            t = feed_at[0]
            head = queue[0]
            if t > head[0] or t == head[0] and (NORMAL, pending[1]) > (head[1], head[2]):
                return
            n = pending[0]
            env._now = t
            while True:
                # Item n, at time t.
                c = feed_key[n]
                if c < 0:
                    # The first move onto a step with places (its time is that stay's
                    # end): the child (for the event engine) is made only when it is needed.
                    c = ~c
                    i = first_cp_v[c]
                    s, j = P_step[i], P_to[i]
                    nxt_i = i + 1
                else:
                    # A new case on a step with places; never too old for it (see ``gone``).
                    j = step0[c]
                    i = -1
                    nxt_i = first[c]
                # has_place(j, t), inline where no place on j was freed by t: one call
                # fewer per item (the heap's head is all it needs to look at then).
                lz = lazy_ends[j]
                if lz and lz[0] <= t:
                    free = has_place(j, t)
                elif capped[j]:
                    lim = limit[j]
                    free = occupied[j] < (cap[int(t)][j] if lim is None else lim)
                else:
                    free = True
                if free:
                    if i >= 0:
                        # move(), inline: a place on j taken and the one on s (if any)
                        # freed; s's queue admitted once the child's own next event
                        # is set (see ``move``).
                        occupied[j] += 1
                        if capped[s]:
                            occupied[s] -= 1
                    else:
                        occupied[j] += 1  # its place taken
                    # follow(c, nxt_i, None), inline (one call fewer per item; a copy
                    # of ``follow``'s loop, which must stay the same as it: places
                    # freed on bulk paths go on their heaps, with an alarm if the step
                    # has a queue, in the same order).
                    m = nxt_v[nxt_i]
                    while m >= 0 and need_v[m] == 1:
                        s2, t2 = P_step[m], P_end[m]
                        heappush(lazy_ends[s2], t2)
                        if queues[s2] and t2 < lazy_alarm[s2][0]:
                            arm(s2)
                        to2 = P_to[m]
                        if not 0 <= to2 < S:
                            m = -1
                            break
                        m = nxt_v[m + 1]
                    if m >= 0:
                        child = make(c)
                        child.i = m
                        child.callbacks = path_cb
                        at(child, P_end[m])
                    if i >= 0 and queues[s]:
                        admit(s, t)
                else:
                    # make(c), inline (one call fewer per child the feed finds a step full for).
                    child = _Child()
                    cid = child.cid = cid_v[c]
                    if extra_v[c]:
                        k = (cid - n_base) * ROW
                        child.u, child.extra = flat_x[k : k + ROW], 1
                    else:
                        k = cid * ROW
                        child.u, child.extra = flat[k : k + ROW], 0
                    child.k = 2
                    child.birth, child.grp, child.key = birth_v[c], group_v[c], c
                    if i >= 0:
                        diverge(child, i)
                    else:
                        valid[c] = rev_valid[c] = 0
                        w = wait_to[j]
                        if w >= 0:
                            # settle(route(...)), inline for a full step whose new cases
                            # wait on another (two calls fewer); too old to wait there
                            # ends the case (nothing to do).
                            if t - child.birth < leave_age[w]:
                                start_wait(child, w, t, j, FROM_OUTSIDE, -1)
                        else:
                            settle(child, route(child, j, t, -1, True), t, FROM_OUTSIDE)  # found full
                n += 1
                t = feed_t[n]
                if t < queue[0][0]:
                    # The next item comes strictly before every event on SimPy's
                    # queue (there is always one: the end of the run), so it is
                    # the event SimPy would take next: it is handled now, with
                    # SimPy's clock moved on as its step would. A tie goes back
                    # to the queue, behind the events already there, as SimPy
                    # orders them.
                    env._now = t
                    continue
                # The feed yields: its next item takes the id that rescheduling the
                # feed's event would take now (so every later event's id is as it was).
                pending[0] = n
                feed_at[0] = t
                if n < n_feed:
                    pending[1] = next(eid)
                return

        # The feed's next item and its id in SimPy's order (see ``on_feed``).
        pending = [0, -1]
        path_cb[0] = on_path
        self.on_feed = on_feed
        for c in starts_pure.tolist():
            follow(c, first[c], None)
        if n_feed:
            # The feed's one event, for its first item; after it, the feed's items
            # are handled in the callbacks of other events (``on_feed``).
            ev = new_child(-1, memoryview(b""), 0)
            ev.callbacks = [on_feed]
            pending[1] = next(eid)
            feed_at[0] = feed_t[0]
            heappush(queue, (feed_t[0], NORMAL, pending[1], ev))

    def spell_log(self) -> SpellLog:
        """The stays that stand from the bulk paths, then those the event engine wrote."""
        run, P, e = self.run, self.P, self.e
        reviews = self.bulk_reviews
        if self.stay.any_review:
            # Reviews held in stays the event engine never drew: taken back out.
            key = np.repeat(np.arange(len(e["cid"]), dtype=np.int64), P.n)
            local = np.arange(P.total, dtype=np.int64) - P.first[key]
            gone = local >= self.rev_valid[key]
            if gone.any():
                counted = np.zeros_like(reviews)
                recount = BulkStay(run.st, run.arms, counted)
                kg = key[gone]
                first_stock = e["stock"][kg] & (local[gone] == 0)  # as drawn: the stock's own first stays
                recount(e["cid"][kg], P.step[gone].astype(np.int64), P.start[gone], e["birth"][kg],
                        e["group"][kg], first_stock, P.k[gone].astype(np.int64), self.draws)  # fmt: skip
                reviews = reviews - counted
            del key, local, gone
        # A child's first ``valid`` stays stand: a mask from one comparison per stay,
        # and the children's ids and marks repeated as often (no per-stay index array).
        pos_t = np.int32 if P.total < 2**31 - 1 else np.int64
        keep = np.arange(P.total, dtype=pos_t) < np.repeat((P.first + self.valid).astype(pos_t), P.n)
        n_bulk = int(self.valid.sum())
        scalar = run.spell_log()

        def joined(bulk: np.ndarray, events: np.ndarray, kept: bool = False) -> np.ndarray:
            # The bulk stays that stand, then the event engine's, written into one array.
            out = np.empty(n_bulk + len(events), dtype=np.result_type(bulk, events))
            if kept:
                out[:n_bulk] = bulk
            else:
                np.compress(keep, bulk, out=out[:n_bulk])
            out[n_bulk:] = events
            return out

        none = np.full(n_bulk, -1, dtype=np.int8)
        return SpellLog(
            child=joined(np.repeat(e["cid"], self.valid), scalar.child, kept=True),
            step=joined(P.step, scalar.step),
            from_step=joined(P.from_step, scalar.from_step),
            to_step=joined(P.to_step, scalar.to_step),
            start=joined(P.start, scalar.start),
            end=joined(P.end, scalar.end),
            age_start=joined(P.age, scalar.age_start),
            extra=joined(np.repeat(e["extra"], self.valid), scalar.extra, kept=True),
            wait_for=joined(none, scalar.wait_for, kept=True),
            overflowed_from=joined(none, scalar.overflowed_from, kept=True),
            reviews=reviews.astype(np.float64) + scalar.reviews,
            n_children=scalar.n_children,
            horizon=run.Y,
        )


def _simulate(st: Staircase, seed: int, replication: int, eager: bool) -> SpellLog:
    run = _Run(st, seed, replication)
    S, Y = run.S, run.Y
    AGED_OUT = S + 1
    env = simpy.Environment()
    # Events go straight onto SimPy's queue at their exact time, as
    # ``env.schedule`` would put them at ``now + delay`` (saves a call, and
    # ``now + (t - now)`` can miss ``t`` in the last bit).
    queue, eid = env._queue, env._eid
    stay, record = run.make_stay(), run.make_record()
    capped = st.capped.tolist()
    any_capped = any(capped)
    cap = st.capacity.tolist()  # [y][s]
    cap.append(cap[-1])  # so that cap[int(t)] holds up to and including the horizon
    # Each step's places where they are the same every year (no lookup by year), else None.
    places = [cap[0][j] if all(row[j] == cap[0][j] for row in cap) else None for j in range(S)]
    leave_age = st.leave_age.tolist()
    overflow_to, max_wait = st.overflow_to.tolist(), st.max_wait.tolist()
    wait_on, new_case_wait = st.wait_on.tolist(), st.new_case_wait.tolist()
    queue_kind = st.queue_kind.tolist()
    occupied = [0] * S
    # Each step's queue: first come first served is a plain line (a deque: its
    # entries leave in the order they came), the others heaps by age.
    fifo = [kind == 0 for kind in queue_kind]
    queues: list = [deque() if fifo[j] else [] for j in range(S)]
    pops = [queues[j].popleft if fifo[j] else None for j in range(S)]  # None: heappop
    seq = [0]
    # The spell log's row, written inline where a call per spell shows (``record``).
    append, pack, extra_rows = run.L.extend, _SPELL_ROW.pack, run._extra_rows
    due = [None]  # the shared callback lists; SimPy only reads them
    left = [None]
    timer_cb = [None]

    def at(event: Any, t: float) -> None:
        """Schedule ``event`` at time ``t``, which must not be in the past."""
        if t < env._now:
            raise RuntimeError(f"engine bug: an event at {t!r} scheduled at {env._now!r}, in the past")
        heappush(queue, (t, NORMAL, next(eid), event))

    # Places freed by children on their bulk paths (:class:`_PathFollower`)
    # need no event while no one queues for the step: their ends wait in a
    # heap per step, counted out when someone asks for a place, and get one
    # alarm (at the earliest) while the step has a queue.
    lazy: list[list[float]] = [[] for _ in range(S)]
    lazy_alarm = [[math.inf, 0] for _ in range(S)]  # time of the live alarm, its generation
    lazy_cb: list = [None]
    # The time of the feed's next item (:class:`_PathFollower`), which waits outside
    # SimPy's queue: events handled within a callback must come before it too.
    feed_at = [math.inf]
    # The feed's callback after each event: the follower's ``on_feed`` (called inline at the end
    # of the two most common events' callbacks, a second callback of the others).
    feed: list = [None]

    def has_place(j: int, t: float) -> bool:
        if not capped[j]:
            return True
        lz = lazy[j]
        while lz and lz[0] <= t:
            heappop(lz)
            occupied[j] -= 1
            if queues[j]:
                # Freed at ``t`` itself while children queue (an earlier end had its alarm):
                # the place is theirs before the asker's, in either order SimPy may take
                # the two (the asker would queue behind them).
                admit(j, t)
        limit = places[j]
        return occupied[j] < (cap[int(t)][j] if limit is None else limit)

    def move(s: int, j: int, t: float) -> bool:
        """A child on ``s`` moves onto ``j`` at ``t`` if ``j`` has a place: it takes one
        on ``j`` and frees the one on ``s`` (if any). The caller admits from ``s``'s
        queue once the child's own next event is set: in SimPy the child a freed
        place admits resumes only after the one that freed it went on, and when
        both start their stays at the same moment (and are reviewed together from
        then on) that order decides who moves first. Nothing changes if ``j`` is
        full."""
        if not has_place(j, t):
            return False
        if capped[j]:
            occupied[j] += 1
        if capped[s]:
            occupied[s] -= 1
        return True

    def arm(j: int) -> None:
        alarm_j = lazy_alarm[j]
        t = lazy[j][0]
        if t < env._now:  # cannot happen: asking for a place counts out the past ends
            raise RuntimeError(f"engine bug: a place on step {j} freed at {t!r} was not counted out")
        alarm_j[0], alarm_j[1] = t, alarm_j[1] + 1
        ev = _Timer()
        ev.callbacks = lazy_cb
        ev.reason, ev.step = alarm_j[1], j
        at(ev, t)

    def on_lazy(ev: _Timer) -> None:
        j = ev.step
        if ev.reason != lazy_alarm[j][1]:
            return  # replaced by an earlier alarm
        alarm_j = lazy_alarm[j]
        alarm_j[0] = math.inf
        t = env._now
        lz = lazy[j]
        while True:
            while lz and lz[0] <= t:
                heappop(lz)
                occupied[j] -= 1
                admit(j, t)
            if not (lz and queues[j]):
                return
            t = lz[0]
            if t < queue[0][0] and t < feed_at[0] and alarm_j[0] == math.inf:
                # The next place frees strictly before every event on SimPy's queue:
                # the alarm SimPy would take next, handled now (as the feed does).
                env._now = t
                continue
            arm(j)
            return

    # What the end of a stay on ``s`` that leads to ``to`` needs, ``after_stay[s][to]``
    # (``to`` from 0 to S + 1, and CENSORED, -1, the last): an event that decides the
    # move (onto or off a step with places), an event that frees the place (a child
    # leaving the staircase from a step with places), nothing (leaving it from
    # another step, or still there at the horizon), or the next stay at once.
    MOVE_EVENT, FREE_EVENT, GONE, NEXT = range(4)
    after_stay = [
        [
            MOVE_EVENT
            if 0 <= to < S and (capped[to] or capped[s])
            else FREE_EVENT
            if capped[s] and to != CENSORED
            else NEXT
            if 0 <= to < S
            else GONE
            for to in [*range(S + 2), CENSORED]
        ]
        for s in range(S)
    ]

    # For the samplers inline in ``enter`` and ``start_wait``.
    amount_of, g_intensity, g_dest, g_const_rate, g_const_dest, has_review, stay_clock = run.plain_stay
    closes, close_const, wait_clock = run.wait_tables()
    inner = st.band_edges.tolist()[1:-1]
    draw, log, inf = run.draw, math.log, math.inf

    def enter(child: _Child, s: int, t: float, from_step: int, stock: bool, ovf: int = -1) -> None:
        """The child starts a stay on ``s`` at ``t`` (its place, if any, is taken)."""
        while True:
            if stock or has_review[s]:
                end, to = stay(child, s, t, stock)
            else:
                # stay(), inline for a stay without case reviews (one call and one
                # tuple fewer per stay the event engine draws); the same arithmetic
                # in the same order, so the same spells as the reference's ``stay``.
                g = child.grp
                k = child.k
                if k + 1 < ROW:
                    u = child.u
                    u1, u2 = u[k], u[k + 1]
                    child.k = k + 2
                else:
                    u1 = draw(child)
                    u2 = draw(child)
                birth = child.birth
                sample = amount_of[s]
                amount = -log(1.0 - u1) if sample is None else sample(u1)
                leave_t = birth + leave_age[s]
                rate = g_const_rate[g][s]
                y = b = -1
                if rate is not None:
                    end = t + amount / rate if rate > 0 else inf
                    aged = end >= leave_t
                    if aged:
                        end = leave_t
                else:
                    end, aged, y, b = stay_clock(g_intensity[g], s, t, birth, amount, leave_t)
                if end >= Y:
                    end, to = inf, CENSORED
                elif aged:
                    to = AGED_OUT
                else:
                    cum = g_const_dest[g][s]
                    if cum is None:
                        if y < 0 or end >= y + 1.0:
                            y = int(end)
                            b = bisect_right(inner, end - birth)
                        cum = g_dest[g][y][b][s]
                    to = bisect_right(cum, u2)
                    if to < S and end - birth >= leave_age[to]:
                        to = AGED_OUT
            then = after_stay[s][to]
            if then == MOVE_EVENT:
                # Whether it can move is decided when the stay ends.
                child.pending = (s, t, to, from_step, ovf)
                child.t_end = end
                child.callbacks = due
                heappush(queue, (end, NORMAL, next(eid), child))  # at(), inline: a stay never ends before now
                return
            # record(), inline
            append(pack(child.cid, s, from_step, to, child.extra, -1, ovf, t, end, t - child.birth))
            if extra_rows and (to >= S or to == CENSORED):
                extra_rows.pop(child.cid, None)  # the child has left: its extra draws are done
            if then == FREE_EVENT:
                child.step, child.t_end = s, end  # frees its place when it leaves
                child.callbacks = left
                heappush(queue, (end, NORMAL, next(eid), child))
                return
            if then == GONE:
                return
            if not eager:
                child.pending = (to, end, s)
                child.t_end = end
                child.callbacks = due
                at(child, end)
                return
            s, t, from_step, stock, ovf = to, end, s, False, -1

    def leave(s: int, t: float) -> None:
        if capped[s]:
            occupied[s] -= 1
            if queues[s]:
                admit(s, t)

    def take(j: int) -> None:
        if capped[j]:
            occupied[j] += 1

    def on_due(child: _Child) -> None:
        t = child.t_end
        if len(child.pending) == 3:  # a plain move (eager=False)
            to, _, s = child.pending
            enter(child, to, t, s, False)
            return
        s, t0, to, from_step, ovf = child.pending
        if move(s, to, t):
            append(
                pack(child.cid, s, from_step, to, child.extra, -1, ovf, t0, t, t0 - child.birth)
            )  # record()
            enter(child, to, t, s, False)
            if queues[s]:
                admit(s, t)
        else:
            refused(child, s, t0, t, to, from_step, ovf)
        if feed_at[0] <= queue[0][0]:  # the feed's callback, inline (see ``_PathFollower``)
            feed[0](child)

    def on_left(child: _Child) -> None:
        s = child.step  # leave(), inline: one event per place a child on the event engine frees
        occupied[s] -= 1
        if queues[s]:
            admit(s, child.t_end)
        if feed_at[0] <= queue[0][0]:  # the feed's callback, inline
            feed[0](child)

    def route(child: _Child, j: int, t: float, ovf: int, found_full: bool = False) -> tuple[int, int, int]:
        """Where a child arriving at ``j`` at ``t`` (not on any step) goes.

        Returns ``(step, waits_for, overflowed_from)``: onto ``step`` (with a
        place, ``waits_for = -1``), waiting on ``step`` for ``waits_for``, or
        ``step = AGED_OUT`` when it is too old for where it would go (a move
        to a step a child is too old for ends its case). It changes nothing for the
        child; counting out places freed at ``t`` may admit others queueing (``has_place``).
        ``found_full``: the caller found the child not too old for ``j`` and
        ``j`` full at ``t`` already.
        """
        age = t - child.birth  # too_old(), inline
        while True:
            if found_full:
                found_full = False
            elif age >= leave_age[j]:
                return AGED_OUT, -1, ovf
            elif has_place(j, t):
                return j, -1, ovf
            k = overflow_to[j]
            if k >= 0 and max_wait[j] <= 0.0:
                j, ovf = k, j
                continue
            w = new_case_wait[j]
            if w < 0:  # validation names a step to wait on for every step children arrive at
                raise RuntimeError(f"engine bug: no step to wait on for full step {j}")
            return (AGED_OUT, -1, ovf) if age >= leave_age[w] else (w, j, ovf)

    # Where a new case that finds step j full waits, when that needs no more than
    # ``route`` with ``found_full`` works out (no overflow at once): -1 otherwise.
    new_case_to = [
        new_case_wait[j] if not (overflow_to[j] >= 0 and max_wait[j] <= 0.0) else -1 for j in range(S)
    ]

    def settle(child: _Child, where: tuple[int, int, int], t: float, from_step: int) -> None:
        """Carry out a :func:`route`; the stay the child comes from is recorded already."""
        step, waits_for, ovf = where
        if step == AGED_OUT:
            return
        if waits_for < 0:
            if capped[step]:  # take(), inline
                occupied[step] += 1
            enter(child, step, t, from_step, False, ovf)
        else:
            start_wait(child, step, t, waits_for, from_step, ovf)

    def refused(child: _Child, s: int, t0: float, t: float, j: int, from_step: int, ovf: int) -> None:
        """A child on ``s`` (since ``t0``) is due to move onto ``j``, which is full."""
        k = overflow_to[j]
        if k >= 0 and max_wait[j] <= 0.0:
            leave(s, t)
            where = route(child, k, t, j)
            record(child, s, t0, t, where[0], from_step, -1, ovf)  # where it really goes
            settle(child, where, t, s)
            return
        w = wait_on[j]
        if w < 0 or w == s:
            # Stays on, keeps any place it has (record(), inline: it stays on the staircase).
            append(pack(child.cid, s, from_step, WAITS, child.extra, -1, ovf, t0, t, t0 - child.birth))
            start_wait(child, s, t, j, s, -1)
        elif t - child.birth >= leave_age[w]:  # too_old(), inline
            record(child, s, t0, t, AGED_OUT, from_step, -1, ovf)
            leave(s, t)
        else:
            append(
                pack(child.cid, s, from_step, w, child.extra, -1, ovf, t0, t, t0 - child.birth)
            )  # record()
            leave(s, t)
            start_wait(child, w, t, j, s, -1)
            # Leaving s can admit a child from s's queue who then frees a place on j
            # before this child queues for it: the place is this child's at once (a
            # wait of no time), as SimPy's Resource would grant its request.
            if has_place(j, t):
                admit(j, t)

    # Ends of waits that change something for others (waited long enough and
    # sent on; or a wait on a step with places, which frees one) sit in one
    # heap with one SimPy alarm at the earliest: no event per waiting child,
    # and an admitted child's entry simply goes stale (its wait is no longer
    # current; stale entries at the top are dropped before an alarm is set).
    # Other waits end silently: their end rides in the queue entry.
    ends: list = []
    alarm = [math.inf, 0]  # time of the live alarm, its generation

    def start_wait(child: _Child, w: int, t: float, j: int, from_step: int, ovf: int) -> None:
        current = child.wait = (w, t, j, from_step, ovf)
        kind = queue_kind[j]
        n = seq[0]
        key = n if kind == 0 else (child.birth if kind == 1 else -child.birth)
        seq[0] = n = n + 1
        # wait(), inline (one call and one tuple fewer per wait); the same arithmetic
        # in the same order as the reference's ``wait``.
        k = child.k
        if k < ROW:
            child.k = k + 1
            u = child.u[k]
        else:
            u = draw(child)
        amount = -log(1.0 - u)
        age = leave_age[w] if leave_age[w] <= leave_age[j] else leave_age[j]
        rate = close_const[child.grp][w]
        if rate is None:
            end, aged, _, _ = wait_clock(closes[child.grp], w, t, child.birth, amount, child.birth + age)
        else:
            end = t + amount / rate if rate > 0.0 else inf
            aged = end >= child.birth + age
            if aged:
                end = child.birth + age
        reason = S + 1 if aged else S
        if overflow_to[j] >= 0 and t + max_wait[j] < end:
            end, reason = t + max_wait[j], -1  # waited long enough: overflow
        # A wait on a step without places that ends with the case (closed, or
        # aged out) changes nothing for anyone else: it needs no alarm, and
        # is found over when the child's turn comes (or at the horizon).
        silent = not capped[w] and reason >= 0
        # The entry carries the wait it belongs to: a child who overflowed and
        # queues again must not keep its old place in line.
        entry = (key, n, child, current, end if silent else math.inf, reason)
        if kind == 0:
            queues[j].append(entry)
        else:
            heappush(queues[j], entry)
        lz = lazy[j]
        if lz and lz[0] < lazy_alarm[j][0]:
            arm(j)
        if end < Y and not silent:
            heappush(ends, (end, n, child, current, reason))
            if end < alarm[0]:
                set_alarm(end)

    def set_alarm(t: float) -> None:
        alarm[0], alarm[1] = t, alarm[1] + 1
        ev = _Timer()
        ev.callbacks = timer_cb
        ev.reason = alarm[1]
        at(ev, t)

    def end_wait(child: _Child, t: float, to: int) -> int:
        """End the child's wait at ``t``, leading to ``to``; returns the step it waited on."""
        w, t0, j, from_step, ovf = child.wait
        child.wait = None
        record(child, w, t0, t, to, from_step, j, ovf)
        return w

    def on_timer(ev: _Timer) -> None:
        if ev.reason != alarm[1]:
            return  # an earlier alarm replaced this one
        t = env._now
        alarm[0] = math.inf
        while ends and ends[0][0] <= t:
            _, _, child, current, reason = heappop(ends)
            if child.wait is not current:
                continue  # admitted meanwhile
            if reason == -1:  # waited long enough: sent on
                w, t0, j, from_step, ovf = current
                child.wait = None  # out of the queue before anyone is admitted
                leave(w, t)
                where = route(child, overflow_to[j], t, j)
                record(child, w, t0, t, where[0], from_step, j, ovf)
                settle(child, where, t, w)
            else:
                leave(end_wait(child, t, reason), t)
        # Ends of children admitted meanwhile are dropped now, so that no alarm is set for them.
        while ends and ends[0][2].wait is not ends[0][3]:
            heappop(ends)
        if ends and ends[0][0] < alarm[0]:
            set_alarm(ends[0][0])

    def admit(j: int, t: float) -> None:
        q = queues[j]
        limit = places[j]
        if limit is None:
            limit = cap[int(t)][j]
        pop = pops[j]
        while q and occupied[j] < limit:
            _, _, child, current, end, reason = pop() if pop else heappop(q)
            if child.wait is not current:
                continue  # left the queue already (or queued again, further back)
            if end <= t:  # a silent wait (start_wait), over before this place came
                end_wait(child, end, reason)
                continue
            if t - child.birth >= leave_age[j]:  # reached the step's leaving age as a place came
                leave(end_wait(child, t, AGED_OUT), t)
                continue
            # end_wait() and record(), inline: two calls fewer per admission (the
            # child stays on the staircase: its extra draws, if any, go on).
            w, t0, _, from_step, ovf = current
            child.wait = None
            append(pack(child.cid, w, from_step, j, child.extra, j, ovf, t0, t, t0 - child.birth))
            occupied[j] += 1
            # Its next event before that of whoever the place it frees admits (as ``move``).
            enter(child, j, t, w, False)
            if capped[w]:
                leave(w, t)

    due[0], left[0], timer_cb[0], lazy_cb[0] = on_due, on_left, on_timer, on_lazy

    def new_child(cid: int, u: memoryview, extra: int) -> _Child:
        c = _Child()
        c.callbacks = None
        c.cid, c.u, c.k, c.extra, c.wait = cid, u, 2, extra, None
        return c

    follow = None
    if eager:
        follow = _PathFollower(
            run,
            seed,
            replication,
            take,
            move,
            refused,
            route,
            settle,
            new_child,
            at,
            (lazy, queues, lazy_alarm, arm),
            (has_place, occupied, admit, places, cap, new_case_to, start_wait),
            feed_at,
            env,
        )
        # The feed's next item is handled after whichever event comes before it.
        feed[0] = follow.on_feed
        for callbacks in (timer_cb, lazy_cb):
            callbacks.append(follow.on_feed)
    else:
        for child, s in run.stock_children(new_child):
            take(s)  # the stock may exceed the places: no one is admitted until there is room
            enter(child, s, 0.0, FROM_STOCK, True)

        # New cases: one arrival event that reschedules itself keeps the queue small.
        arrival = run.make_arrival(new_child)
        times, n = run.arrival_t, run.n_arrivals
        # One event object serves every arrival: it is rescheduled, never rebuilt.
        clock = new_child(-1, memoryview(b""), 0)
        clock.k = 0

        def on_arrival(ev: _Child) -> None:
            i = ev.k
            t = times[i]
            child, s = arrival(i, t)
            if any_capped:
                settle(child, route(child, s, t, -1), t, FROM_OUTSIDE)
            else:
                enter(child, s, t, FROM_OUTSIDE, False)
            ev.k = i + 1
            if i + 1 < n:
                ev.callbacks = [on_arrival]
                at(ev, times[i + 1])

        if n:
            clock.callbacks = [on_arrival]
            at(clock, times[0])

    # More places from a strategy: admit from the queue when they come.
    for y in range(1, Y):
        grown = [j for j in range(S) if capped[j] and cap[y][j] > cap[y - 1][j]]
        if grown:
            ev = env.timeout(float(y))
            ev.callbacks.append(lambda _ev, y=y, grown=grown: [admit(j, float(y)) for j in grown])
            if follow is not None:
                ev.callbacks.append(follow.on_feed)
    env.run(until=float(Y))
    # Children still waiting at the end: their waiting spells are censored.
    for j in range(S):
        for _, _, child, current, end, reason in queues[j]:
            if child.wait is current:
                if end < Y:  # a silent wait that ended before the horizon
                    end_wait(child, end, reason)
                else:
                    end_wait(child, math.inf, CENSORED)
    return run.spell_log() if follow is None else follow.spell_log()


class _Places(simpy.Resource):
    """``simpy.Resource`` whose released place goes to the head of its queue at once.

    The stock Resource grants it only when it processes the release event; a
    request made in between grants the head of the queue but never itself, so
    with two places freed at the same moment a child asking then was made to
    wait for no time, or sent to overflow while a place was free.
    """

    def release(self, request: simpy.resources.resource.Request) -> simpy.resources.resource.Release:
        event = super().release(request)
        self._trigger_put(None)
        return event


def simulate_naive(st: Staircase, seed: int, replication: int = 0) -> SpellLog:
    """The same model written the textbook SimPy way: a generator process per child.

    Slow (SimPy's cost per event grows with the number of live processes, and
    ``simpy.Resource`` searches a list of all holders on release); it exists
    as the reference the engine is validated and benchmarked against. It
    draws exactly the same numbers, so it gives the same spell log. With
    capacity limits it covers first-come-first-served queues that wait on the
    child's step or a named one and may overflow to a step without a limit,
    with places that do not change over time and an initial stock that fits.
    """
    run = _Run(st, seed, replication)
    S = run.S
    env = simpy.Environment()
    stay, wait, record, too_old = run.make_stay(), run.make_wait(), run.make_record(), run.too_old()
    aged_out = S + 1
    capped = st.capped.tolist()
    overflow_to, max_wait = st.overflow_to.tolist(), st.max_wait.tolist()
    wait_on, new_case_wait = st.wait_on.tolist(), st.new_case_wait.tolist()
    places = st.capacity[0].tolist()
    for j in np.flatnonzero(st.capped):
        k = int(overflow_to[j])
        if st.queue_kind[j] != 0 or (st.capacity[:, j] != places[j]).any() or (k >= 0 and capped[k]):
            raise ValueError("the naive reference covers fixed places, fifo queues and uncapped overflow")
        if st.stock[j].sum() > places[j]:
            raise ValueError("the naive reference needs the initial stock to fit the places")
    res = [_Places(env, capacity=int(places[j])) if capped[j] else None for j in range(S)]
    waiting: dict[int, tuple] = {}

    def new_child(cid: int, u: memoryview, extra: int) -> _Child:
        c = _Child()
        c.cid, c.u, c.k, c.extra = cid, u, 2, extra
        return c

    def wait_for(child: _Child, j: int, w: int, t: float, from_step: int):
        """Wait on ``w`` for a place on ``j``; returns (request or None, where it went)."""
        req = res[j].request()
        end, reason = wait(child, w, t, j)
        if overflow_to[j] >= 0 and t + max_wait[j] < end:
            end, reason = t + max_wait[j], overflow_to[j]
        delay = end - env.now if end < run.Y else run.Y - env.now + 1.0
        waiting[child.cid] = (child, w, t, from_step, j)
        yield req | env.timeout(delay)
        del waiting[child.cid]
        if req.triggered:
            record(child, w, t, env.now, j, from_step, j, -1)
            return req, j
        req.cancel()
        if env.now >= run.Y:
            return None, CENSORED
        if reason < S and too_old(child, reason, env.now):
            reason = aged_out  # sent on to a step it is too old for: its case ends
        record(child, w, t, env.now, reason, from_step, j, -1)
        return None, reason

    def life(child: _Child, s: int, t: float, from_step: int, stock: bool, held, ovf: int = -1):
        while True:
            end, to = stay(child, s, t, stock)
            if to == CENSORED or to >= S:
                record(child, s, t, end, to, from_step, -1, ovf)
                if held is not None and to != CENSORED:
                    yield env.timeout(end - env.now)
                    res[s].release(held)
                return
            yield env.timeout(end - env.now)
            req = res[to].request() if capped[to] else None
            if req is None or req.triggered:
                record(child, s, t, end, to, from_step, -1, ovf)
                if held is not None:
                    res[s].release(held)
                s, t, from_step, stock, held, ovf = to, end, s, False, req, -1
                continue
            req.cancel()
            j = to
            k = overflow_to[j]
            if k >= 0 and max_wait[j] <= 0.0:
                old = too_old(child, k, end)
                record(child, s, t, end, aged_out if old else k, from_step, -1, ovf)
                if held is not None:
                    res[s].release(held)
                if old:
                    return
                s, t, from_step, stock, held, ovf = k, end, s, False, None, j
                continue
            w = wait_on[j]
            if w < 0 or w == s:
                record(child, s, t, end, WAITS, from_step, -1, ovf)
                w = s
            elif too_old(child, w, end):
                record(child, s, t, end, aged_out, from_step, -1, ovf)
                if held is not None:
                    res[s].release(held)
                return
            else:
                record(child, s, t, end, w, from_step, -1, ovf)
                if held is not None:
                    res[s].release(held)
                    held = None
            got, went = yield from wait_for(child, j, w, end, s)
            if held is not None:
                res[s].release(held)
            if went == CENSORED or went >= S:
                return
            s, t, from_step, stock, held, ovf = went, env.now, w, False, got, (j if got is None else -1)

    def arrive(child: _Child, j: int, t: float):
        if capped[j]:
            req = res[j].request()
            if not req.triggered:
                req.cancel()
                k = overflow_to[j]
                if k >= 0 and max_wait[j] <= 0.0:
                    yield from life(child, k, t, FROM_OUTSIDE, False, None, j)
                    return
                w = new_case_wait[j]
                got, went = yield from wait_for(child, j, w, t, FROM_OUTSIDE)
                if went == CENSORED or went >= S:
                    return
                yield from life(child, went, env.now, w, False, got, j if got is None else -1)
                return
            yield from life(child, j, t, FROM_OUTSIDE, False, req)
            return
        yield from life(child, j, t, FROM_OUTSIDE, False, None)

    def arrivals():
        arrival = run.make_arrival(new_child)
        for i, t in enumerate(run.arrival_t):
            yield env.timeout(t - env.now)
            child, s = arrival(i, t)
            env.process(arrive(child, s, t))

    for child, s in run.stock_children(new_child):
        held = res[s].request() if capped[s] else None
        env.process(life(child, s, 0.0, FROM_STOCK, True, held))
    env.process(arrivals())
    env.run(until=float(run.Y))
    for child, w, t, from_step, j in sorted(waiting.values(), key=lambda v: v[4]):
        record(child, w, t, math.inf, CENSORED, from_step, j, -1)
    return run.spell_log()
