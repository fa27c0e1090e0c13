"""Free paths: children's stays sampled in bulk, vectorised over children.

Where no one else can change a child's path (steps without places, and
without capacity limits anywhere, a child's whole life on the staircase), its
stays depend only on its own row of uniforms. This module samples such stays
for many children at once, in *rounds*: round ``r`` gives every child still
moving its ``r``-th stay, as numpy arrays. It follows the scalar model of
:meth:`sim.engines.des._Run.make_stay` operation by operation (the same
draws in the same order, the same clock through years and age bands, the
same reviews and destinations), so the spells are those of the event engine;
times may differ from the scalar ones in the last bit or two, where numpy's
``log``, ``exp`` and ``**`` round differently from :mod:`math`'s.

It knows nothing of SimPy, files or pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sim.model.staircase import Staircase


class Draws:
    """Uniform number ``k`` of each child, vectorised over children.

    ``U`` holds the rows of the base children (ids ``0 .. n_base - 1``) and
    ``UX`` those of the children a strategy adds (ids from ``n_base``);
    uniforms beyond a row come from the child's own stream, ``overflow(cid,
    extra)`` (indexable as far as the child needs, cached here per child).
    """

    def __init__(
        self,
        U: np.ndarray,
        UX: np.ndarray,
        n_base: int,
        overflow: Callable[[int, int], Any],
        cache: dict[int, Any] | None = None,
    ) -> None:
        self.U, self.UX, self.n_base = U, UX, n_base
        self.width = U.shape[1]
        self.overflow = overflow
        self.cache: dict[int, Any] = {} if cache is None else cache

    def __call__(self, cid: np.ndarray, k: np.ndarray | int) -> np.ndarray:
        """Uniform ``k[i]`` (or ``k``) of child ``cid[i]``, as float64 (exactly the float32 value)."""
        width, n_base = self.width, self.n_base
        if np.isscalar(k):
            k = int(k)
            if k >= width:
                return self._beyond(
                    cid, np.full(len(cid), k), np.ones(len(cid), dtype=bool), np.empty(len(cid))
                )
            kk: Any = k
            inrow = None
        else:
            inrow = k < width
            kk = np.minimum(k, width - 1)
        if len(self.UX) == 0 or (len(cid) and cid.max() < n_base):
            out = self.U[cid, kk].astype(np.float64)
        else:
            out = np.empty(len(cid), dtype=np.float64)
            base = cid < n_base
            out[base] = self.U[cid[base], kk if inrow is None else kk[base]]
            x = ~base
            out[x] = self.UX[cid[x] - n_base, kk if inrow is None else kk[x]]
        if inrow is not None and not inrow.all():
            self._beyond(cid, k, ~inrow, out)
        return out

    def _beyond(self, cid: np.ndarray, k: np.ndarray, which: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` where ``which`` with uniforms beyond the row (rare: one child at a time)."""
        cache, overflow, width, n_base = self.cache, self.overflow, self.width, self.n_base
        for i in np.flatnonzero(which).tolist():
            c = int(cid[i])
            row = cache.get(c)
            if row is None:
                row = cache[c] = overflow(c, int(c >= n_base))
            out[i] = row[int(k[i]) - width]
        return out


def review_phase(frac: Any, p: Any) -> Any:
    """A uniform number from the fraction of a geometric draw (``frac``, per-review probability ``p``).

    The number of reviews until one moves a child is drawn as ``1 + floor(X)``
    with ``X`` exponential; the fraction of ``X`` is independent of its whole
    part and has the distribution ``(1 - (1 - p) ** f) / p``, so this is uniform
    and independent of the count: the same uniform gives both, and every
    child's stream of numbers stays as long as it was.
    """
    return (1.0 - (1.0 - p) ** frac) / p


class BulkStay:
    """The model of one stay (:meth:`sim.engines.des._Run.make_stay`), for arrays of children.

    ``arms`` are the staircases of the groups of children (reached by a
    strategy, or not); ``reviews`` is the ``[Y, S]`` table of case reviews
    held, added to in place.
    """

    def __init__(self, st: Staircase, arms: Sequence[Staircase], reviews: np.ndarray) -> None:
        self.st = st
        self.Y, self.S = st.horizon, st.n_steps
        S = self.S
        self.edges = st.band_edges.astype(np.float64)
        self.inner = self.edges[1:-1]
        self.B = len(self.edges) - 1
        self.leave_age = st.leave_age.astype(np.float64)
        self.laws = list(st.stays)
        self.start_laws = [law.at_start() for law in st.stays]
        # Mixture form of each step's law (NaN: another law), for the stock too.
        self.mix = self._mixture_table(self.laws)
        self.mix_start = self._mixture_table(self.start_laws)
        self.start_differs = not all(
            np.array_equal(a, b, equal_nan=True) for a, b in zip(self.mix, self.mix_start)
        )
        self.other_steps = [
            j
            for j in range(S)
            if self.laws[j].as_mixture() is None or self.start_laws[j].as_mixture() is None
        ]
        # Clock speeds [g, y, b, s], flat; the constant ones per [g, s] (NaN: not constant).
        self.intensity = np.stack([a.intensity for a in arms]).astype(np.float64)
        const = np.all(self.intensity == self.intensity[:, :1, :1, :], axis=(1, 2))
        self.const_rate = np.where(const, self.intensity[:, 0, 0, :], np.nan)
        self.is_const = const
        # Cumulative destinations [g, y, b, s, d], as the scalar engine builds them.
        cums = []
        for a in arms:
            c = np.cumsum(a.dest_prob, axis=3)
            c[..., -1] = np.where(c[..., -1] > 0, 1.0, 0.0)
            cums.append(c)
        self.dest_cum = np.stack(cums)
        self.D = self.dest_cum.shape[-1]
        # Reviews.
        self.interval = np.ascontiguousarray(st.review_interval.T, dtype=np.float64)  # [s, y]
        self.review_p = st.review_prob.sum(axis=1).astype(np.float64)
        self.review_cum = (
            np.cumsum(st.review_prob, axis=1) / np.maximum(st.review_prob.sum(axis=1), 1e-300)[:, None]
        )
        self.has_review = np.array(
            [p > 0 and np.isfinite(np.min(iv)) for p, iv in zip(self.review_p.tolist(), self.interval)],
            dtype=bool,
        )
        self.any_review = bool(self.has_review.any())
        self.draws_per_stay = 2 + self.has_review.astype(np.int64)
        self.reviews = reviews
        self.G = len(arms)

    @staticmethod
    def _mixture_table(laws: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        forms = [law.as_mixture() or (np.nan, np.nan, np.nan) for law in laws]
        return tuple(np.array(col, dtype=np.float64) for col in zip(*forms))  # type: ignore[return-value]

    def amounts(self, s: np.ndarray, u: np.ndarray, stock: np.ndarray | None) -> np.ndarray:
        """The amount of step clock each stay needs, from its step's law (the stock's own law).

        Exponential and mixture steps (:meth:`~sim.model.stays.StayLaw.as_mixture`)
        go in one pass with each stay's parameters gathered; other laws step by step.
        """
        mix = self.mix if stock is None else self.mix_start
        p, m1, m2 = mix[0][s], mix[1][s], mix[2][s]
        if stock is not None and self.start_differs:
            p = np.where(stock, p, self.mix[0][s])
            m1 = np.where(stock, m1, self.mix[1][s])
            m2 = np.where(stock, m2, self.mix[2][s])
        short = u < p
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(short, u / p, (u - p) / (1.0 - p))
        out = -np.log(1.0 - x) * np.where(short, m1, m2)
        for j in self.other_steps:
            m = s == j
            if not m.any():
                continue
            if stock is None:
                pairs = ((self.laws[j], m),)
            else:
                pairs = ((self.laws[j], m & ~stock), (self.start_laws[j], m & stock))
            for law, sel in pairs:
                if law.as_mixture() is None and sel.any():
                    out[sel] = law.sample(u[sel])
        return out

    def clock(
        self,
        g: np.ndarray,
        s: np.ndarray,
        t: np.ndarray,
        birth: np.ndarray,
        amount: np.ndarray,
        leave_t: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Run each step's clock through years and age bands until its amount is used up.

        Returns ``(end, aged_out, year, band)`` as :meth:`sim.engines.des._Run.make_clock` does.
        """
        Y, B, S = self.Y, self.B, self.S
        edges = self.edges
        flat = self.intensity.reshape(-1)
        n = len(t)
        end = np.full(n, np.inf)
        aged = np.zeros(n, dtype=bool)
        yo = np.zeros(n, dtype=np.int64)
        bo = np.zeros(n, dtype=np.int64)
        idx = np.arange(n)
        y = t.astype(np.int64)
        b = np.searchsorted(self.inner, t - birth, side="right")
        cur = t.copy()
        amount = amount.copy()
        g, s, birth, leave_t = g.copy(), s.copy(), birth.copy(), leave_t.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            while idx.size:
                live = y < Y
                if not live.all():
                    gone = ~live
                    yo[idx[gone]], bo[idx[gone]] = y[gone], b[gone]
                    idx, y, b, cur, amount, g, s, birth, leave_t = (
                        a[live] for a in (idx, y, b, cur, amount, g, s, birth, leave_t)
                    )
                    if not idx.size:
                        break
                year_end = y + 1.0
                band_end = birth + edges[b + 1]
                seg = np.where(band_end < year_end, band_end, year_end)
                seg = np.where(leave_t < seg, leave_t, seg)
                r = flat[((g * Y + y) * B + b) * S + s]
                stop = cur + amount / r
                done = (r > 0.0) & (stop <= seg)
                amount = amount - (seg - cur) * r
                out = seg >= leave_t
                out &= ~done
                fin = done | out
                if fin.any():
                    i = idx[done]
                    end[i], yo[i], bo[i] = stop[done], y[done], b[done]
                    i = idx[out]
                    end[i], aged[i], yo[i], bo[i] = leave_t[out], True, y[out], b[out]
                    keep = ~fin
                    idx, y, b, cur, amount, g, s, birth, leave_t, seg, year_end, band_end = (
                        a[keep]
                        for a in (idx, y, b, cur, amount, g, s, birth, leave_t, seg, year_end, band_end)
                    )
                y = y + (seg >= year_end)
                b = b + (seg >= band_end)
                cur = seg
        return end, aged, yo, bo

    def review(
        self, s: np.ndarray, t: np.ndarray, end: np.ndarray, u3: np.ndarray, stock: np.ndarray | None = None
    ) -> np.ndarray:
        """Case reviews during the stays on steps with reviews (all of ``s`` have them).

        Counts the reviews held in :attr:`reviews` and returns, for each stay,
        whether a review ends it (at its time, written into ``end``). A stay of
        the ``stock`` (children found on the step at the start) has its first
        review after a random part of an interval, as the scalar model has it.
        """
        Y, S = self.Y, self.S
        p = self.review_p[s]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log(1.0 - u3) / np.log(1.0 - p)
        n = np.where(p >= 1.0, 1, 1 + np.floor(ratio).astype(np.int64))
        first = None
        if stock is not None and stock.any():
            with np.errstate(invalid="ignore"):
                frac = ratio - np.floor(ratio)
                phase = np.where(p >= 1.0, u3, review_phase(frac, np.where(p >= 1.0, 0.5, p)))
            # (p >= 1: one review, and u3 is free to give the phase; the 0.5 only keeps the unused branch finite)
            first = np.where(stock, 1.0 - phase, 1.0)
        n_all = len(s)
        moved = np.zeros(n_all, dtype=bool)
        idx = np.arange(n_all)
        tr = t.copy()
        held = np.zeros(n_all, dtype=np.int64)
        lim = end.copy()
        iv = self.interval
        counts = np.zeros(Y * S, dtype=np.int64)
        ss = s.copy()
        while idx.size:
            yr = tr.astype(np.int64)
            ok = yr < Y
            if not ok.all():
                idx, tr, held, lim, ss, n, yr = (a[ok] for a in (idx, tr, held, lim, ss, n, yr))
            step = iv[ss, yr]
            if first is not None:  # the first round: every stay still here is at its first review
                step = step * first[idx]
                first = None
            tr = tr + step
            ok = (tr < lim) & (tr < Y)
            idx, tr, held, lim, ss, n = (a[ok] for a in (idx, tr, held, lim, ss, n))
            held += 1
            counts += np.bincount(tr.astype(np.int64) * S + ss, minlength=Y * S)
            reached = held == n
            if reached.any():
                i = idx[reached]
                moved[i] = True
                end[i] = tr[reached]
                keep = ~reached
                idx, tr, held, lim, ss, n = (a[keep] for a in (idx, tr, held, lim, ss, n))
        self.reviews += counts.reshape(Y, S)
        return moved

    def __call__(
        self,
        cid: np.ndarray,
        s: np.ndarray,
        t: np.ndarray,
        birth: np.ndarray,
        g: np.ndarray,
        stock: np.ndarray | None,
        k: np.ndarray | int,
        draws: Draws,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each child's stay on ``s`` from ``t``: ``(end, to)`` as the scalar model gives them.

        ``k`` is each child's next uniform (an array, or one number for all);
        the caller advances it by :attr:`draws_per_stay` ``[s]``.
        """
        Y, S, B = self.Y, self.S, self.B
        CENSORED, AGED_OUT = -1, S + 1
        u1 = draws(cid, k)
        u2 = draws(cid, k + 1)
        amount = self.amounts(s, u1, stock)
        del u1
        leave_t = birth + self.leave_age[s]
        const = self.is_const[g, s]
        n = len(t)
        y = b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if const.all():
                rate = self.const_rate[g, s]
                end = np.where(rate > 0, t + amount / rate, np.inf)
                aged = end >= leave_t
                np.copyto(end, leave_t, where=aged)
            else:
                end = np.empty(n)
                aged = np.empty(n, dtype=bool)
                y = np.full(n, -1, dtype=np.int64)
                b = np.full(n, -1, dtype=np.int64)
                if const.any():
                    i = np.flatnonzero(const)
                    rate = self.const_rate[g[i], s[i]]
                    e = np.where(rate > 0, t[i] + amount[i] / rate, np.inf)
                    lt = leave_t[i]
                    a = e >= lt
                    end[i] = np.where(a, lt, e)
                    aged[i] = a
                    i = np.flatnonzero(~const)
                    end[i], aged[i], y[i], b[i] = self.clock(
                        g[i], s[i], t[i], birth[i], amount[i], leave_t[i]
                    )
                else:
                    end, aged, y, b = self.clock(g, s, t, birth, amount, leave_t)
        del amount, leave_t
        by_review = None
        if self.any_review:
            rv = self.has_review[s]
            if rv.any():
                i = np.flatnonzero(rv)
                e = end[i]
                moved = self.review(
                    s[i],
                    t[i],
                    e,
                    draws(cid[i], k + 2 if np.isscalar(k) else k[i] + 2),
                    None if stock is None else stock[i],
                )
                end[i] = e
                by_review = i[moved]
                aged[by_review] = False
        # Where each stay leads: the destination at its end (its year and age band).
        censored = end >= Y
        e = np.where(censored, Y - 1.0, end)
        if y is None:
            yi = e.astype(np.int64)
            bi = np.searchsorted(self.inner, e - birth, side="right")
        else:
            redo = (y < 0) | (e >= y + 1.0)
            yi = np.where(redo, e.astype(np.int64), y)
            bi = np.where(redo, np.searchsorted(self.inner, e - birth, side="right"), b)
            # Censored stays (the clock ran past the horizon) need no destination.
            np.minimum(yi, Y - 1, out=yi)
            np.minimum(bi, B - 1, out=bi)
        row = (((g * Y + yi) * B + bi) * S + s) * self.D
        del yi, bi
        flat = self.dest_cum.reshape(-1)
        to = np.zeros(n, dtype=np.int64)
        for d in range(self.D):
            to += flat[row + d] <= u2
        del row
        if by_review is not None and by_review.size:
            cum = self.review_cum[s[by_review]]
            to[by_review] = np.sum(cum <= u2[by_review][:, None], axis=1)
        # A move to a step the child is too old for ends its case.
        old = (to < S) & (e - birth >= self.leave_age[np.minimum(to, S - 1)])
        old |= aged
        to[old] = AGED_OUT
        to[censored] = CENSORED
        end[censored] = np.inf
        return end, to


def entries(run: Any) -> dict[str, np.ndarray]:
    """Every child's entry, in the order the event engine takes them (the stock, then the new
    cases in time order): id, step, time, birth, group, extra and whether it is stock.

    Each column is written in place into one array (no joined parts, few temporaries):
    at national scale every fresh array of a million numbers costs page faults.
    """
    st = run.st
    S = run.S
    group = np.asarray(run.group, dtype=np.int64)
    lo = st.band_edges[:-1].astype(np.float64)
    width = np.diff(st.band_edges).astype(np.float64)
    t = run.arrival_times
    n_stock = run.n_stock
    n = n_stock + len(t)
    cid = np.empty(n, dtype=np.int64)
    step = np.empty(n, dtype=np.int64)
    birth = np.empty(n, dtype=np.float64)
    # The stock: counts[s, b] children on step s in band b, ids in that order.
    flat_counts = run.counts.reshape(-1)
    cell = np.repeat(np.arange(flat_counts.size), flat_counts)
    b_stock = cell % run.counts.shape[1]
    np.floor_divide(cell, run.counts.shape[1], out=step[:n_stock])
    cid[:n_stock] = np.arange(n_stock)
    u1 = run.U[:n_stock, 1].astype(np.float64)
    birth[:n_stock] = -(lo[b_stock] + u1 * width[b_stock])
    del cell, b_stock
    # New cases: ids n_stock, n_stock + 1, ... in time order, those a strategy adds from n_base.
    is_extra = np.frombuffer(run.arrival_extra, dtype=np.int8).view(bool)
    cid_new = cid[n_stock:]
    if is_extra.any():
        nx = np.cumsum(is_extra) - 1
        cid_new[:] = np.where(is_extra, run.n_base + nx, n_stock + np.cumsum(~is_extra) - 1)
        base = ~is_extra
        u0 = np.empty(len(t))
        u1 = np.empty(len(t))
        u0[base], u1[base] = run.U[cid_new[base], 0], run.U[cid_new[base], 1]
        u0[is_extra], u1[is_extra] = run.UX[nx[is_extra], 0], run.UX[nx[is_extra], 1]
        del nx, base
    else:  # the base children only: their rows follow the stock's
        cid_new[:] = np.arange(n_stock, n)
        u0 = run.U[n_stock:n, 0].astype(np.float64)
        u1 = run.U[n_stock:n, 1].astype(np.float64)
    band_cum = np.cumsum(st.entry_band_prob).astype(np.float64)
    band_cum[-1] = 1.0
    n_bands = len(band_cum)
    b = np.searchsorted(band_cum, u1, side="right")
    np.minimum(b, n_bands - 1, out=b)
    # Where u1 falls in its band (per band: the band's lower end, and its share of u1's range).
    below = np.concatenate([[0.0], band_cum[:-1]])
    share = band_cum - below
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (u1 - below[b]) / share[b]
    if not (share > 0).all():
        frac[share[b] <= 0] = 0.5
    # birth = t - (lo[b] + frac * width[b]), into place.
    frac *= width[b]
    frac += lo[b]
    np.subtract(t, frac, out=birth[n_stock:])
    del frac, b, u1
    step_cum = np.cumsum(st.entry_step_prob, axis=1).astype(np.float64)
    step_cum[:, -1] = 1.0
    s_new = step[n_stock:]
    cut = np.searchsorted(t, np.arange(run.Y + 1), side="left")  # the times are sorted
    for y in range(run.Y):
        a, z = cut[y], cut[y + 1]
        s_new[a:z] = np.searchsorted(step_cum[y], u0[a:z], side="right")
    np.minimum(s_new, S - 1, out=s_new)
    del u0
    extra = np.zeros(n, dtype=np.int8)
    extra[n_stock:] = is_extra
    stock = np.zeros(n, dtype=bool)
    stock[:n_stock] = True
    times = np.zeros(n)
    times[n_stock:] = t
    return {
        "cid": cid,
        "step": step,
        "t": times,
        "birth": birth,
        "group": group[step] if n else np.zeros(0, dtype=np.int64),
        "extra": extra,
        "stock": stock,
    }
