"""Batched propagators for the analytic engine: matrix exponentials, powers and their sums.

The forward equations ``x' = A x + g`` with ``g`` constant over a step ``h``
are solved by ``x(h) = E x(0) + F g``, with occupancy ``int_0^h x = F x(0) +
G g``, where ``E = e^{Ah}``, ``F = int_0^h e^{As} ds`` and ``G = int_0^h (h -
s) e^{As} ds`` are the blocks of the exponential of Van Loan's augmented
generator ``[[A, I, 0], [0, 0, I], [0, 0, 0]] h``. :func:`van_loan` computes
them for a whole stack of generators at once, without forming that ``3n x
3n`` matrix: by scaling and squaring, with the Taylor series of ``E``, ``F``
and ``G`` on the scaled step and the doubling rules ``E(2h) = E(h)^2``,
``F(2h) = F(h) + E(h) F(h)`` and ``G(2h) = 2 G(h) + F(h)^2``. Only
matrix products of the size of ``A`` are needed (no linear solves, no SciPy).

:func:`powers` and :func:`prefix_sums` give the propagators and occupancy sums
over several identical steps.
"""

from __future__ import annotations

from math import factorial

import numpy as np

_DEGREE = 13
"""Taylor degree on the scaled step; with its 1-norm at most :data:`_THETA` the
remainder is below ``0.5^14 / 14! e^0.5``, about 1e-15 relative."""
_THETA = 0.5
_FACTORIALS = np.array([[float(factorial(k + i)) for k in range(_DEGREE + 1)] for i in range(3)])
"""``(k + i)!`` that divide the ``k``-th power in the series of ``E``, ``F`` and ``G`` (``i = 0, 1, 2``)."""


def van_loan(A: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``E``, ``F`` and ``G`` (see the module) of each generator in a stack ``A`` ``[..., n, n]`` over ``h``.

    Each generator's step is halved ``s`` times, its own ``s``, until ``||A h
    / 2^s||_1 <= 0.5``; the three series are summed to degree 13 there and the
    step is doubled back ``s`` times.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[-1]
    shape = A.shape[:-2]
    norm = np.abs(A).sum(axis=-2).max(axis=-1, initial=0.0) * h  # 1-norm of each A h
    s = np.ceil(np.log2(np.maximum(norm, _THETA) / _THETA)).astype(int)
    step = h / np.ldexp(1.0, s)  # [...]: the scaled step of each generator
    X = A * step[..., None, None]
    # Powers X^0 .. X^m, then the three series: E = sum X^k / k!,
    # F = step sum X^k / (k+1)!, G = step^2 sum X^k / (k+2)!.
    P = np.empty((_DEGREE + 1, *shape, n, n))
    P[0] = np.eye(n)
    if _DEGREE >= 1:
        P[1] = X
    for k in range(2, _DEGREE + 1):
        P[k] = P[k - 1] @ X
    # Summed term by term, in order (a sum along an outer axis): each
    # matrix's result does not depend on the stack around it.
    E, F, G = (P[None] / _FACTORIALS.reshape(3, _DEGREE + 1, *[1] * (P.ndim - 1))).sum(axis=1)
    F *= step[..., None, None]
    G *= (step * step)[..., None, None]
    for i in range(int(s.max(initial=0))):
        more = s > i
        if more.all():
            G = 2.0 * G + F @ F
            F = F + E @ F
            E = E @ E
        else:
            e, f, g = E[more], F[more], G[more]
            G[more] = 2.0 * g + f @ f
            F[more] = f + e @ f
            E[more] = e @ e
    return E, F, G


def powers(M: np.ndarray, n: int, axis: int = -3) -> np.ndarray:
    """``M^0, M^1, ..., M^n`` of each matrix in a stack ``M`` ``[..., k, k]``, as ``[..., n + 1, k, k]``.

    By doubling: ``M^(j+i) = M^i M^j`` for a block of ``i`` at a time. ``axis``: where the powers'
    axis is in the result, before the matrices' two (``axis=1``: ``[a, n + 1, b, k, k]`` for ``M``
    ``[a, b, k, k]``); the products are the same wherever it is.
    """
    M = np.asarray(M, dtype=float)
    k = M.shape[-1]
    axis = axis % (M.ndim + 1)
    if axis > M.ndim - 2:
        raise ValueError("the powers' axis must come before the matrices' two")
    result = np.empty(M.shape[:axis] + (n + 1,) + M.shape[axis:])
    out = np.moveaxis(result, axis, 0)  # a view, [n + 1, ..., k, k] (result itself for axis=0)
    out[0] = np.eye(k)
    if n >= 1:
        out[1] = M
    j = 1
    while j < n:
        i = min(j, n - j)
        out[j + 1 : j + i + 1] = out[1 : i + 1] @ out[j : j + 1]
        j += i
    return result


def prefix_sums(X: np.ndarray, axis: int) -> np.ndarray:
    """Exclusive running sums along ``axis``: entry ``l`` is the sum of entries ``0..l-1`` (the first is zero).

    Added in order, one entry after the other, as ``np.cumsum`` adds them (the same numbers, bit for
    bit), a whole slice across ``axis`` at a time: ``np.cumsum`` runs one short loop per position
    across ``axis``, several times slower on a stack of tables. Fastest with ``axis`` first (each
    slice contiguous).
    """
    X = np.asarray(X, dtype=float)
    axis = axis % X.ndim
    n = X.shape[axis]
    lead = (slice(None),) * axis
    out = np.empty_like(X)
    out[(*lead, slice(0, 1))] = 0.0
    out[(*lead, slice(1, 2))] = X[(*lead, slice(0, 1))]  # copied, as np.cumsum starts
    for i in range(1, n - 1):
        np.add(
            out[(*lead, slice(i, i + 1))], X[(*lead, slice(i, i + 1))], out=out[(*lead, slice(i + 1, i + 2))]
        )
    return out
