"""The discrete-event engine (SimPy): children moving on the staircase.

Design, measured in ``benchmarks/``. A child is a small ``__slots__`` object
that SimPy can schedule directly as an event with one shared callback, rather
than a generator process per child: SimPy's cost per event grows with the
number of live processes, and most children are on the staircase for years.
New cases arrive through one event object that reschedules itself. Each stay
is written to the spell log when it starts (its end and where it leads are
known then). A move is scheduled as an event only where something could
happen in between that changes it; without capacity limits children do not
interact, so a child's next stays follow at once (``eager``), which gives the
same spells as scheduling every move (tested) at a fraction of the cost.

Common random numbers: every child owns a fixed row of uniforms (keyed by the
seed, the replication and the child's id), used in order: two for its entry,
then two per stay. The same child therefore draws the same numbers in the
baseline and in the strategy until the strategy changes its path, and results
do not depend on the order in which events happen or on the number of workers.
Children a strategy adds (earlier detection) come from their own streams.

The engine knows nothing of files, pandas or plots: it returns arrays.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.staircase import EXPONENTIAL, MIXTURE, WEIBULL, Staircase

ROW = 16
"""Uniforms pre-drawn per child: 2 for entry, 2 per stay (7 stays)."""

FROM_STOCK, FROM_OUTSIDE = -2, -1
"""``from_step`` codes: on the staircase at the start; a new case."""

CENSORED = -1
"""``to_step`` code: still on the step at the end of the horizon."""

# Stream ids under one run's seed; each is spawned per replication.
STREAM_ARRIVALS, STREAM_CHILDREN, STREAM_EXTRA_ARRIVALS, STREAM_EXTRA_CHILDREN = 1, 2, 3, 4


@dataclass(frozen=True)
class SpellLog:
    """Every stay of every child on a step, as flat arrays.

    ``to_step`` is a step index, ``S`` (case closed), ``S + 1`` (aged out) or
    ``CENSORED``; ``end`` is ``inf`` for censored stays. ``from_step`` is a
    step index, ``FROM_OUTSIDE`` (a new case) or ``FROM_STOCK``. ``extra``
    marks children a strategy added.
    """

    child: np.ndarray
    step: np.ndarray
    from_step: np.ndarray
    to_step: np.ndarray
    start: np.ndarray
    end: np.ndarray
    age_start: np.ndarray
    extra: np.ndarray
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
    """A child, and at the same time the SimPy event that ends its stay."""

    __slots__ = (
        "env",
        "callbacks",
        "_value",
        "_ok",
        "cid",
        "birth",
        "step",
        "nxt",
        "t_end",
        "k",
        "u",
        "extra",
    )


class _Run:
    """One replication of one arm, prepared: tables as Python lists, random rows,
    arrivals, and the spell log. Shared by the engine and the naive reference so
    that both run exactly the same model."""

    def __init__(self, st: Staircase, seed: int, replication: int) -> None:
        rngs = streams(seed, replication)
        self.st, self.seed, self.replication = st, seed, replication
        self.Y, self.S = st.horizon, st.n_steps
        # Spell log, appended to compact typed arrays (never a Python object per row).
        self.L = [array(c) for c in ("q", "b", "b", "b", "d", "d", "f", "b")]
        self.counts = np.rint(st.stock).astype(np.int64)  # [S, B]
        self.n_stock = int(self.counts.sum())
        base_times = _arrival_times(st.entries, rngs[STREAM_ARRIVALS])
        self.n_base = self.n_stock + len(base_times)
        self.U = rngs[STREAM_CHILDREN].random((self.n_base, ROW), dtype=np.float32)
        extra_times = _arrival_times(st.extra_entries, rngs[STREAM_EXTRA_ARRIVALS])
        self.UX = rngs[STREAM_EXTRA_CHILDREN].random((len(extra_times), ROW), dtype=np.float32)
        is_extra = np.concatenate([np.zeros(len(base_times), np.int8), np.ones(len(extra_times), np.int8)])
        all_times = np.concatenate([base_times, extra_times])
        order = np.argsort(all_times, kind="stable")
        self.arrival_t: list[float] = all_times[order].tolist()
        self.arrival_extra = is_extra[order].tobytes()
        self.n_arrivals = len(self.arrival_t)

    @staticmethod
    def _rows(matrix: np.ndarray) -> Callable[[int], list[float]]:
        """Row ``j`` of a uniform matrix as a list; rows are asked for in order,
        so converting a block at a time is much cheaper than row by row."""
        block = 4096
        cache: list = [-1, []]

        def row(j: int) -> list[float]:
            first = j - j % block
            if cache[0] != first:
                cache[0], cache[1] = first, matrix[first : first + block].tolist()
            return cache[1][j - first]

        return row

    def stock_children(self, make: Callable[[int, list[float], int], _Child]) -> Iterator[tuple[_Child, int]]:
        """The children on the staircase at the start, with their step."""
        lo, width = self.st.band_edges[:-1].tolist(), np.diff(self.st.band_edges).tolist()
        cid = 0
        row = self._rows(self.U)
        for s in range(self.S):
            for b in range(len(lo)):
                for _ in range(self.counts[s, b]):
                    c = make(cid, row(cid), 0)
                    c.birth = -(lo[b] + c.u[1] * width[b])
                    yield c, s
                    cid += 1

    def make_arrival(
        self, make: Callable[[int, list[float], int], _Child]
    ) -> Callable[[int, float], tuple[_Child, int]]:
        """A function giving the i-th new case at time t: the child and its entry step."""
        st = self.st
        step_cum = [[*row[:-1], 1.0] for row in np.cumsum(st.entry_step_prob, axis=1).tolist()]
        band_cum = np.cumsum(st.entry_band_prob).tolist()
        band_cum[-1] = 1.0
        band_lo, band_w = st.band_edges[:-1].tolist(), np.diff(st.band_edges).tolist()
        n_bands, S = len(band_lo), self.S
        extra, n_base = self.arrival_extra, self.n_base
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
            return c, min(bisect_right(step_cum[int(t)], u[0]), S - 1)

        return arrival

    def make_stay(self) -> Callable[[_Child, int, float, int, bool], tuple[float, int]]:
        """The model of one stay: when it ends and where it leads; logs the spell."""
        st, seed, replication = self.st, self.seed, self.replication
        Y, S = self.Y, self.S
        aged_out = S + 1
        edges = st.band_edges.tolist()
        inner = edges[1:-1]
        leave_age = st.leave_age.tolist()
        kind = st.dur_kind.tolist()
        par = st.dur_params.tolist()
        intensity = st.intensity.tolist()  # [y][b][s]
        dest_cum = np.cumsum(st.dest_prob, axis=3)
        dest_cum[..., -1] = np.where(dest_cum[..., -1] > 0, 1.0, 0.0)
        dest = dest_cum.tolist()  # [y][b][s][d]
        # Fast paths for steps whose clock and destinations never change.
        const_rate = [
            float(st.intensity[0, 0, s]) if np.all(st.intensity[:, :, s] == st.intensity[0, 0, s]) else None
            for s in range(S)
        ]
        const_dest = [
            dest[0][0][s] if np.all(dest_cum[:, :, s] == dest_cum[0, 0, s]) else None for s in range(S)
        ]
        # Stock children on a mixture step are more often long-stayers (length bias).
        stock_short = [
            p[0] * p[1] / (p[0] * p[1] + (1 - p[0]) * p[2]) if kind[s] == MIXTURE else 0.0
            for s, p in enumerate(par)
        ]
        inv_norm = NormalDist().inv_cdf
        log = math.log
        inf = math.inf
        extra_rows: dict[int, list[float]] = {}
        L_child, L_step, L_from, L_to, L_start, L_end, L_age, L_extra = (a.append for a in self.L)

        def more_uniforms(child: _Child) -> list[float]:
            # Rare: a child with more stays than its pre-drawn row; keyed by its id.
            key = (replication, STREAM_EXTRA_CHILDREN + 1 + child.extra, child.cid)
            g = np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=key)))
            return g.random(256).tolist()

        def stay(child: _Child, s: int, t: float, from_step: int, stock: bool) -> tuple[float, int]:
            k = child.k
            if k + 2 > ROW:
                if child.cid not in extra_rows:
                    extra_rows[child.cid] = more_uniforms(child)
                u1, u2 = extra_rows[child.cid][k - ROW : k - ROW + 2]
            else:
                u = child.u
                u1, u2 = u[k], u[k + 1]
            child.k = k + 2
            birth = child.birth
            age = t - birth
            # Amount of "step clock" this stay needs.
            kd = kind[s]
            if kd == EXPONENTIAL:
                amount = -log(1.0 - u1)
            elif kd == MIXTURE:
                p, m1, m2 = par[s]
                if stock:
                    p = stock_short[s]
                if u1 < p:
                    amount = -log(1.0 - u1 / p) * m1
                else:
                    amount = -log(1.0 - (u1 - p) / (1.0 - p)) * m2
            elif kd == WEIBULL:
                amount = par[s][0] * (-log(1.0 - u1)) ** (1.0 / par[s][1])
            else:  # LOGNORMAL
                amount = math.exp(par[s][0] + par[s][1] * inv_norm(min(max(u1, 1e-12), 1 - 1e-12)))
            leave_t = birth + leave_age[s]
            rate = const_rate[s]
            end = inf
            to = CENSORED
            y = b = -1
            if rate is not None:
                if rate > 0:
                    end = t + amount / rate
                if end >= leave_t:
                    end, to = leave_t, aged_out
            else:
                # Integrate the piecewise-constant clock over years and age bands.
                y = int(t)
                b = bisect_right(inner, age)
                cur = t
                while y < Y:
                    seg = y + 1.0
                    band_end = birth + edges[b + 1]
                    if band_end < seg:
                        seg = band_end
                    if leave_t < seg:
                        seg = leave_t
                    r = intensity[y][b][s]
                    if r > 0.0 and cur + amount / r <= seg:
                        end = cur + amount / r
                        break
                    amount -= (seg - cur) * r
                    if seg >= leave_t:
                        end, to = leave_t, aged_out
                        break
                    if seg >= y + 1.0:
                        y += 1
                    if seg >= band_end:
                        b += 1
                    cur = seg
            if end >= Y:
                end, to = inf, CENSORED
            elif to != aged_out:
                cum = const_dest[s]
                if cum is None:
                    if y < 0 or end >= y + 1.0:
                        y = int(end)
                        b = bisect_right(inner, end - birth)
                    cum = dest[y][b][s]
                to = bisect_right(cum, u2)
                if to < S and end - birth >= leave_age[to]:
                    to = aged_out
            L_child(child.cid)
            L_step(s)
            L_from(from_step)
            L_to(to)
            L_start(t)
            L_end(end)
            L_age(age)
            L_extra(child.extra)
            if to >= S or to == CENSORED:
                extra_rows.pop(child.cid, None)
            return end, to

        return stay

    def spell_log(self) -> SpellLog:
        c, s, f, to, start, end, age, extra = self.L
        return SpellLog(
            child=np.frombuffer(c, dtype=np.int64),
            step=np.frombuffer(s, dtype=np.int8),
            from_step=np.frombuffer(f, dtype=np.int8),
            to_step=np.frombuffer(to, dtype=np.int8),
            start=np.frombuffer(start, dtype=np.float64),
            end=np.frombuffer(end, dtype=np.float64),
            age_start=np.frombuffer(age, dtype=np.float32),
            extra=np.frombuffer(extra, dtype=np.int8),
            n_children=self.n_base + len(self.UX),
            horizon=self.Y,
        )


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
        Follow a child's moves at once when nothing can happen in between
        that would change them (no step has a capacity limit, so children do
        not interact). The spells are the same as with ``eager=False``, which
        schedules every move as an event; eager is faster.

    Returns
    -------
    SpellLog
    """
    run = _Run(st, seed, replication)
    S = run.S
    env = simpy.Environment()
    schedule = env.schedule
    stay = run.make_stay()
    moved = [None]  # the shared callback list; SimPy only reads it

    def enter(child: _Child, s: int, t: float, from_step: int, stock: bool) -> None:
        end, to = stay(child, s, t, from_step, stock)
        if eager:
            while 0 <= to < S:
                s, (end, to) = to, stay(child, to, end, s, False)
        elif 0 <= to < S:
            # Keep the exact end: env.now = t + (end - t) can differ in the last bit.
            child.step, child.nxt, child.t_end = s, to, end
            child.callbacks = moved
            schedule(child, NORMAL, end - t)

    def on_stay_ended(child: _Child) -> None:
        enter(child, child.nxt, child.t_end, child.step, False)

    moved[0] = on_stay_ended

    def new_child(cid: int, u: list[float], extra: int) -> _Child:
        c = _Child()
        c.env, c._ok, c._value, c.callbacks = env, True, None, None
        c.cid, c.u, c.k, c.extra = cid, u, 2, extra
        return c

    for child, s in run.stock_children(new_child):
        enter(child, s, 0.0, FROM_STOCK, True)

    # New cases: one arrival event that reschedules itself keeps the queue small.
    arrival = run.make_arrival(new_child)
    times, n = run.arrival_t, run.n_arrivals
    # One event object serves every arrival: it is rescheduled, never rebuilt.
    clock = new_child(-1, [], 0)
    clock.k = 0

    def on_arrival(ev: _Child) -> None:
        i = ev.k
        t = times[i]
        child, s = arrival(i, t)
        enter(child, s, t, FROM_OUTSIDE, False)
        ev.k = i + 1
        if i + 1 < n:
            ev.callbacks = [on_arrival]
            schedule(ev, NORMAL, times[i + 1] - t)

    if n:
        clock.callbacks = [on_arrival]
        schedule(clock, NORMAL, times[0])
    env.run(until=float(run.Y))
    return run.spell_log()


def simulate_naive(st: Staircase, seed: int, replication: int = 0) -> SpellLog:
    """The same model written the textbook SimPy way: a generator process per child.

    Slow (SimPy's cost per event grows with the number of live processes); it
    exists as the reference the engine is validated and benchmarked against.
    It draws exactly the same numbers, so it gives the same spell log.
    """
    run = _Run(st, seed, replication)
    S = run.S
    env = simpy.Environment()
    stay = run.make_stay()

    def new_child(cid: int, u: list[float], extra: int) -> _Child:
        c = _Child()
        c.cid, c.u, c.k, c.extra = cid, u, 2, extra
        return c

    def life(child: _Child, s: int, t: float, from_step: int, stock: bool):
        while True:
            end, to = stay(child, s, t, from_step, stock)
            if not 0 <= to < S:
                return
            yield env.timeout(end - env.now)
            s, t, from_step, stock = to, end, s, False

    def arrivals():
        arrival = run.make_arrival(new_child)
        for i, t in enumerate(run.arrival_t):
            yield env.timeout(t - env.now)
            child, s = arrival(i, t)
            env.process(life(child, s, t, FROM_OUTSIDE, False))

    for child, s in run.stock_children(new_child):
        env.process(life(child, s, 0.0, FROM_STOCK, True))
    env.process(arrivals())
    env.run(until=float(run.Y))
    return run.spell_log()
