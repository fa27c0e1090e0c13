"""The discrete-event engine (SimPy): children moving on the staircase.

Design, measured in ``benchmarks/``: a child is a small ``__slots__`` object
that SimPy schedules directly as an event with one shared callback, rather
than a generator process per child; SimPy's per-event cost grows with the
number of live processes, and most children here are alive for years. A
child is scheduled only when its stay on a step ends within the horizon, and
each stay is written to the spell log when it starts (its end and where it
leads are known then), so a child who never moves again costs no event.

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
        "k",
        "u",
        "extra",
    )


def simulate_des(st: Staircase, seed: int, replication: int = 0) -> SpellLog:
    """Run one replication of the discrete-event model.

    Parameters
    ----------
    st : Staircase
        A compiled arm.
    seed : int
        The run's seed.
    replication : int
        Replication number; with ``seed`` it keys every random stream.

    Returns
    -------
    SpellLog
    """
    rngs = streams(seed, replication)
    Y = st.horizon
    S = st.n_steps
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
    const_dest = [dest[0][0][s] if np.all(dest_cum[:, :, s] == dest_cum[0, 0, s]) else None for s in range(S)]
    # Stock children on a mixture step are more often long-stayers (length bias).
    stock_short = [
        p[0] * p[1] / (p[0] * p[1] + (1 - p[0]) * p[2]) if kind[s] == MIXTURE else 0.0
        for s, p in enumerate(par)
    ]
    inv_norm = NormalDist().inv_cdf

    # Spell log, appended to compact typed arrays (never a Python object per row).
    L_child, L_step, L_from, L_to = array("q"), array("b"), array("b"), array("b")
    L_start, L_end, L_age, L_extra = array("d"), array("d"), array("f"), array("b")

    env = simpy.Environment()
    schedule = env.schedule
    log = math.log
    inf = math.inf
    extra_rows: dict[int, list[float]] = {}

    def more_uniforms(child: _Child) -> list[float]:
        # Rare: a child with more stays than its pre-drawn row; keyed by its id.
        key = (replication, STREAM_EXTRA_CHILDREN + 1 + child.extra, child.cid)
        g = np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=key)))
        return g.random(256).tolist()

    def enter(child: _Child, s: int, t: float, from_step: int, stock: bool) -> None:
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
            while True:
                if y >= Y:
                    break
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
        L_child.append(child.cid)
        L_step.append(s)
        L_from.append(from_step)
        L_to.append(to)
        L_start.append(t)
        L_end.append(end)
        L_age.append(age)
        L_extra.append(child.extra)
        if to < S:
            child.step, child.nxt = s, to
            child.callbacks = [on_stay_ended]
            schedule(child, NORMAL, end - t)
        elif child.cid in extra_rows:
            del extra_rows[child.cid]

    def on_stay_ended(child: _Child) -> None:
        enter(child, child.nxt, env._now, child.step, False)

    def new_child(cid: int, u: list[float], extra: int) -> _Child:
        c = _Child()
        c.env, c._ok, c._value, c.callbacks = env, True, None, None
        c.cid, c.u, c.k, c.extra = cid, u, 2, extra
        return c

    band_lo = st.band_edges[:-1]
    band_width = np.diff(st.band_edges)

    # Children on the staircase at the start: exact counts, ages within bands.
    counts = np.rint(st.stock).astype(np.int64)  # [S, B]
    n_stock = int(counts.sum())
    base_times = _arrival_times(st.entries, rngs[STREAM_ARRIVALS])
    n_base = n_stock + len(base_times)
    U = rngs[STREAM_CHILDREN].random((n_base, ROW), dtype=np.float32)
    extra_times = _arrival_times(st.extra_entries, rngs[STREAM_EXTRA_ARRIVALS])
    UX = rngs[STREAM_EXTRA_CHILDREN].random((len(extra_times), ROW), dtype=np.float32)

    cid = 0
    for s in range(S):
        for b in range(len(band_lo)):
            for _ in range(counts[s, b]):
                u = U[cid].tolist()
                c = new_child(cid, u, 0)
                c.birth = -(band_lo[b] + u[1] * band_width[b])
                enter(c, s, 0.0, FROM_STOCK, True)
                cid += 1

    # New cases: one arrival event that reschedules itself keeps the queue small.
    step_cum = np.cumsum(st.entry_step_prob, axis=1).tolist()
    band_cum = np.cumsum(st.entry_band_prob).tolist()
    step_cum = [[*row[:-1], 1.0] for row in step_cum]
    band_cum[-1] = 1.0
    is_extra = np.concatenate([np.zeros(len(base_times), np.int8), np.ones(len(extra_times), np.int8)])
    all_times = np.concatenate([base_times, extra_times])
    order = np.argsort(all_times, kind="stable")
    arrival_t = all_times[order].tolist()
    arrival_extra = is_extra[order].tobytes()
    del all_times, is_extra, order
    counter = {"base": n_stock, "extra": 0, "i": 0}
    band_lo_l, band_w_l = band_lo.tolist(), band_width.tolist()
    n_bands = len(band_lo_l)
    n_extra_base = n_base
    n_arrivals = len(arrival_t)

    def on_arrival(ev: simpy.Event) -> None:
        t = env._now
        i = counter["i"]
        if arrival_extra[i]:
            j = counter["extra"]
            counter["extra"] = j + 1
            c = new_child(n_extra_base + j, UX[j].tolist(), 1)
        else:
            j = counter["base"]
            counter["base"] = j + 1
            c = new_child(j, U[j].tolist(), 0)
        u = c.u
        b = min(bisect_right(band_cum, u[1]), n_bands - 1)
        # Age within the band from the fractional position of u[1] in its band.
        lo = band_cum[b - 1] if b > 0 else 0.0
        frac = (u[1] - lo) / (band_cum[b] - lo) if band_cum[b] > lo else 0.5
        c.birth = t - (band_lo_l[b] + frac * band_w_l[b])
        s = min(bisect_right(step_cum[int(t)], u[0]), S - 1)
        enter(c, s, t, FROM_OUTSIDE, False)
        counter["i"] = i + 1
        if i + 1 < n_arrivals:
            nxt = env.timeout(arrival_t[i + 1] - t)
            nxt.callbacks.append(on_arrival)

    if n_arrivals:
        first = env.timeout(arrival_t[0])
        first.callbacks.append(on_arrival)
    env.run(until=float(Y))

    return SpellLog(
        child=np.frombuffer(L_child, dtype=np.int64),
        step=np.frombuffer(L_step, dtype=np.int8),
        from_step=np.frombuffer(L_from, dtype=np.int8),
        to_step=np.frombuffer(L_to, dtype=np.int8),
        start=np.frombuffer(L_start, dtype=np.float64),
        end=np.frombuffer(L_end, dtype=np.float64),
        age_start=np.frombuffer(L_age, dtype=np.float32),
        extra=np.frombuffer(L_extra, dtype=np.int8),
        n_children=n_base + len(extra_times),
        horizon=Y,
    )
