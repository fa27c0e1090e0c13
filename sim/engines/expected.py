"""The analytic expected-value engine: Kolmogorov forward equations.

The staircase with exponential stays is a continuous-time Markov chain over
steps; a two-group mixture of stays adds a hidden short and long phase to a
step (phase-type). Ageing is deterministic and rates change at age-band edges
and calendar years, so the state is tracked on an age grid of ``1/K`` years:
within a sub-step of length ``h = 1/K`` no child crosses a band edge or a year
boundary, the generator is constant, and the forward equations with a constant
inflow of new cases are solved exactly with one matrix exponential of an
augmented generator (Van Loan), which also gives the occupancy integral from
which child-years and every flow follow. After each sub-step the age grid
shifts by one cell and children at the leaving age leave.

With an ``[adult]`` table the state also remembers the highest step a child
has reached (and, when adult costs differ by age, the band it first reached
it in), so that leavers are counted by it, as the DES does from each child's
history. The only approximation is the age grid (each child's age is known to within
``h``); ``K = 24`` puts it well inside the sampling error of any replication
count used in practice. Weibull and lognormal stays are not Markov and are
refused with a clear message: use the discrete-event engine for them.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from sim.engines.measures import MEASURES
from sim.errors import EngineNotApplicable
from sim.model.staircase import Staircase


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


class _History:
    """States that remember a child's highest step (and the band it first reached it in).

    A state is ``(phase, highest, band)``: ``move[b][s]`` maps a state to the
    states a move onto step ``s`` in age band ``b`` leads to, and ``enter[b]``
    maps a new case on step ``s`` in band ``b`` to its states. Children leaving
    (case closed, or too old) are counted by exit year and highest step, with
    the present value of their adult-life costs (as :func:`sim.engines.spells.adult_measures`).
    """

    def __init__(self, st: Staircase, owner: list[int], into: np.ndarray, cells_per_year: int) -> None:
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
        self.h = 1.0 / cells_per_year  # the age grid's cell, and the sub-step, in years
        self.leavers = np.zeros((st.horizon, S))
        self.pv = np.zeros((st.horizon, S))
        self.st = st

    def state(self, phase: int, step: int, band: int) -> int:
        """The state of a child in ``phase`` whose highest step is ``step``, first reached in ``band``."""
        return self.index[(phase, step, band if self.n_bands > 1 else 0)]

    def _weights(self, t: float, age: np.ndarray) -> np.ndarray:
        """Present value of one unit of yearly adult cost for children leaving at time ``t`` and ``age``
        (mid sub-step): adult life starts at ``from_age``, or at leaving if later."""
        begin = t + np.maximum(0.0, self.st.adult_from_age - age)
        return self.st.adult_window(np.floor(begin + 1e-9).astype(np.int64))

    def exits_in_substep(self, y, k, x, F, G, R, inflow_band, slices) -> None:
        """Children whose case closes (or who move to a step they are too old for) in sub-step ``k``."""
        S, h = self.st.n_steps, self.h
        t = y + (k + 0.5) * h  # mid sub-step; a child in cell c is then (c + 0.5) h old
        for b, sl in enumerate(slices):
            cells = np.arange(sl.start, sl.stop)
            if len(cells) == 0:
                continue
            exit_rate = R[y, b, :, S] + R[y, b, :, S + 1]
            if not exit_rate.any():
                continue
            occ = F[y, b] @ x[:, sl]  # occupancy of each state and cell over the sub-step
            g = G[y, b] @ inflow_band[b] / len(cells)  # new cases, per cell
            self._leave(y, exit_rate[:, None] * (occ + g[:, None]), self._weights(t, (cells + 0.5) * h))

    def aged_out_in_substep(self, y, k, top, gone) -> None:
        """Children reaching the leaving age (``top``: the end of the grid; ``gone``: their step's)."""
        C, h = gone.shape[1], self.h
        t = y + (k + 0.5) * h
        ages = np.r_[np.arange(C) * h, C * h] - 0.5 * h  # their ages at mid sub-step
        flow = np.concatenate([gone, top[:, None]], axis=1)
        if not flow.any():
            return
        self._leave(y, flow, self._weights(t, ages))

    def _leave(self, y: int, flow: np.ndarray, weights: np.ndarray) -> None:
        """Count children leaving (``flow``, by state and cell) by highest step, and their adult costs."""
        self.leavers[y] += flow.sum(axis=1) @ self.by_high
        self.pv[y] += (flow @ weights * self.cost) @ self.by_high


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
    a, b = (expected_measures(p, cells_per_year) for p in parts)
    return {m: a[m] + b[m] for m in a}


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
    K = int(cells_per_year)
    h = 1.0 / K
    owner, speed, split = _phases(st)
    P, S, Y = len(owner), st.n_steps, st.horizon
    D = S + 2
    owner_a = np.array(owner)
    B = len(st.band_edges) - 1
    cell_edges = np.rint(st.band_edges * K).astype(int)
    C = cell_edges[-1]
    leave_cell = np.rint(st.leave_age * K).astype(int)

    # Rate from each phase to each destination, [Y, B, P, D].
    R = np.empty((Y, B, P, D))
    for p, s in enumerate(owner):
        if st.stays[s].rates_are_hazards:  # the rates themselves (exactly, not intensity x share)
            R[:, :, p, :] = st.rates[:, :, s, :]
        else:
            R[:, :, p, :] = (st.intensity[:, :, s] * speed[p])[..., None] * st.dest_prob[:, :, s, :]
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
    for p, s in enumerate(owner):
        R[:, :, p, :] += (per_year[:, s, None] * st.review_prob[s])[:, None, :]
    into = np.zeros((S, P))  # how a child entering step s splits over phases
    for s, parts in enumerate(split):
        for p, w in parts:
            into[s, p] = w
    # With adult life the state remembers the highest step reached (and, if
    # adult costs differ by age, the band it was first reached in): a state
    # is (phase, highest, band). Without, states are the phases themselves.
    aug = _History(st, owner, into, K) if st.has_adult else None
    if aug is not None:
        R = R[:, :, aug.phase, :]
        owner = [owner[p] for p in aug.phase]
        P = len(owner)
        owner_a = np.array(owner)

    # Van Loan blocks per (year, band): E = e^{Ah}, F = int e^{As}, G = int (h-s) e^{As}.
    E = np.empty((Y, B, P, P))
    F = np.empty_like(E)
    G = np.empty_like(E)
    eye = np.eye(P)
    for y in range(Y):
        if y > 0 and np.array_equal(R[y], R[y - 1]):
            # Most years repeat the last (a strategy ramps in, then holds).
            E[y], F[y], G[y] = E[y - 1], F[y - 1], G[y - 1]
            continue
        for b in range(B):
            if aug is None:
                A = into.T @ R[y, b, :, :S].T  # A[p', p]: rate p -> p' via destination step
            else:
                A = np.einsum("ns,snm->mn", R[y, b, :, :S], aug.move[b])
            A[np.diag_indices(P)] -= R[y, b].sum(axis=1)
            M = np.zeros((3 * P, 3 * P))
            M[:P, :P] = A
            M[:P, P : 2 * P] = eye
            M[P : 2 * P, 2 * P :] = eye
            X = expm(M * h)
            E[y, b], F[y, b], G[y, b] = X[:P, :P], X[:P, P : 2 * P], X[:P, 2 * P :]

    # Initial stock on the centred age grid, split over phases by the law of
    # the stay it is found in (a mixture's is length-biased).
    x = np.zeros((P, C + 1))
    for s in range(S):
        weights, _ = st.stays[s].at_start().phases()
        parts = [(ph, w) for (ph, _), w in zip(split[s], weights)]
        for b in range(B):
            n = st.stock[s, b]
            if n == 0:
                continue
            lo, hi = cell_edges[b], cell_edges[b + 1]
            w = np.ones(hi - lo + 1)
            w[0] = w[-1] = 0.5
            w *= n / w.sum()
            if hi >= min(leave_cell[s], C):
                # The top half-cell sits at the leaving age itself: keep it just below.
                w[-2] += w[-1]
                w[-1] = 0.0
            for ph, share in parts:
                if aug is None:
                    x[ph, lo : hi + 1] += share * w
                else:  # on the staircase at the start: its step is the highest so far
                    x[aug.state(ph, s, b), lo : hi + 1] += share * w
    x = x[:, :C]
    # Stock beyond a step's leaving age cannot stay.
    for p in range(P):
        x[p, leave_cell[owner[p]] :] = 0.0

    out = {m: np.zeros((Y, S)) for m in MEASURES}
    flows = np.zeros((Y, S, D))
    band_cells = [np.arange(cell_edges[b], cell_edges[b + 1]) for b in range(B)]
    occ_step = np.zeros((P, S))  # sums phases into their steps
    occ_step[np.arange(P), owner_a] = 1.0

    band_ind = np.zeros((C, B))  # sums cells into their age bands
    for b in range(B):
        band_ind[band_cells[b], b] = 1.0
    keep = np.ones((P, C))  # cells a phase's children may still be in
    for p in range(P):
        keep[p, leave_cell[owner[p]] :] = 0.0
    gone = 1.0 - keep
    slices = [slice(int(cell_edges[b]), int(cell_edges[b + 1])) for b in range(B)]
    zero_col = np.zeros((P, 1))

    for y in range(Y):
        rate_in = (st.entries[y] + st.extra_entries[y]) * st.entry_step_prob[y]  # [S]
        # New cases within a sub-step: constant per cell of their entry band.
        if aug is None:
            inflow_phase = rate_in @ into  # [P] per year
            inflow_band = [inflow_phase * st.entry_band_prob[b] for b in range(B)]  # [P] per year, whole band
        else:
            inflow_band = [(rate_in @ aug.enter[b]) * st.entry_band_prob[b] for b in range(B)]
        add = [(F[y, b] @ inflow_band[b] / len(band_cells[b]))[:, None] for b in range(B)]
        x_sum = np.zeros((P, B))  # sum over sub-steps of the state at their start, by band
        aged = np.zeros(P)
        for k in range(K):
            x_sum += x @ band_ind
            if aug is not None:
                aug.exits_in_substep(y, k, x, F, G, R, inflow_band, slices)
            new_x = np.empty_like(x)
            for b in range(B):
                new_x[:, slices[b]] = E[y, b] @ x[:, slices[b]] + add[b]
            # Age by one cell; children reaching their step's leaving age leave.
            aged += new_x[:, -1]
            x = np.concatenate([zero_col, new_x[:, :-1]], axis=1)
            if aug is not None:
                aug.aged_out_in_substep(y, k, new_x[:, -1], x * gone)
            aged += (x * gone).sum(axis=1)
            x *= keep
        # Occupancy integrals for the year (generators are constant within it),
        # and from them child-years and every flow.
        for b in range(B):
            occ = F[y, b] @ x_sum[:, b] + K * (G[y, b] @ inflow_band[b])
            out["child_years"][y] += occ @ occ_step
            flows[y] += occ_step.T @ (occ[:, None] * R[y, b])
        out["aged_out"][y] += aged @ occ_step
        out["new_cases"][y] = rate_in
        out["stock_end"][y] = x.sum(axis=1) @ occ_step

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
        out["adult_leavers"], out["adult_cost_pv"] = aug.leavers, aug.pv
    return out
