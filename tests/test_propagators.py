"""Batched propagators against SciPy's matrix exponential and plain matrix powers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from sim.engines.propagators import powers, prefix_sums, van_loan


def _generators(rng, count: int, n: int, scale: float) -> np.ndarray:
    """Random generators (columns sum to zero, as the engine's), rates spread over four decades."""
    rates = rng.random((count, n, n)) * scale * 10 ** rng.uniform(-4, 0, (count, n, n))
    return rates - np.eye(n) * rates.sum(axis=1)[:, None, :]


def _reference(A: np.ndarray, h: float):
    """E, F, G from SciPy's exponential of Van Loan's 3n x 3n block matrix."""
    n = A.shape[0]
    M = np.zeros((3 * n, 3 * n))
    M[:n, :n] = A * h
    M[:n, n : 2 * n] = np.eye(n) * h
    M[n : 2 * n, 2 * n :] = np.eye(n) * h
    X = scipy.linalg.expm(M)
    return X[:n, :n], X[:n, n : 2 * n], X[:n, 2 * n :]


@pytest.mark.parametrize("n", [1, 3, 9, 27])
@pytest.mark.parametrize("scale", [0.0, 1e-9, 1e-3, 1.0, 30.0, 1e3, 1e4])
def test_van_loan_matches_scipy(n, scale):
    rng = np.random.default_rng(n + int(scale * 7))
    h = 1 / 24
    A = _generators(rng, 4, n, scale)
    E, F, G = van_loan(A, h)
    for i in range(len(A)):
        e, f, g = _reference(A[i], h)
        # Rounding grows with the norm of A h (the number of squarings).
        tol = 1e-13 * max(1.0, np.abs(A[i] * h).sum(axis=0).max())
        np.testing.assert_allclose(E[i], e, rtol=0, atol=tol)
        np.testing.assert_allclose(F[i], f, rtol=0, atol=tol * h)
        np.testing.assert_allclose(G[i], g, rtol=0, atol=tol * h * h)


def test_van_loan_stiff_generators():
    # Rates of a million a year: about 2^15 halvings; both methods lose some
    # digits to the conditioning, and agree to well under the engine's needs.
    rng = np.random.default_rng(3)
    h = 1 / 24
    A = _generators(rng, 3, 9, 1e6)
    E, F, G = van_loan(A, h)
    for i in range(len(A)):
        e, f, g = _reference(A[i], h)
        np.testing.assert_allclose(E[i], e, rtol=0, atol=1e-9)
        np.testing.assert_allclose(F[i], f, rtol=0, atol=1e-9 * h)
        np.testing.assert_allclose(G[i], g, rtol=0, atol=1e-9 * h * h)
    # A probability propagator: columns of E sum to one (nobody leaves here).
    np.testing.assert_allclose(E.sum(axis=1), 1.0, atol=1e-9)


def test_van_loan_zero_generator_and_stacks():
    h = 0.25
    E, F, G = van_loan(np.zeros((2, 3, 4, 4)), h)  # any leading shape
    assert E.shape == F.shape == G.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(E, np.broadcast_to(np.eye(4), E.shape))
    np.testing.assert_allclose(F, h * np.eye(4) + 0 * F, rtol=1e-15)
    np.testing.assert_allclose(G, h * h / 2 * np.eye(4) + 0 * G, rtol=1e-15)


def test_van_loan_mixed_stack_scales_each_matrix_on_its_own():
    # One stack with a zero, a gentle and a stiff generator: each must match
    # its own exponential (the stiff one is halved many times, the others not).
    rng = np.random.default_rng(5)
    h = 1 / 24
    A = np.stack([np.zeros((5, 5)), _generators(rng, 1, 5, 0.5)[0], _generators(rng, 1, 5, 5e3)[0]])
    E, F, G = van_loan(A, h)
    for i in range(len(A)):
        e, f, g = _reference(A[i], h)
        np.testing.assert_allclose(E[i], e, rtol=0, atol=1e-13)
        np.testing.assert_allclose(F[i], f, rtol=0, atol=1e-13 * h)
        np.testing.assert_allclose(G[i], g, rtol=0, atol=1e-13 * h * h)


def test_van_loan_solves_the_forward_equation_with_constant_inflow():
    # One state, exit rate mu, inflow g: x(h) = x0 e^{-mu h} + g (1 - e^{-mu h}) / mu.
    mu, h, x0, g = 0.7, 0.5, 3.0, 2.0
    E, F, G = van_loan(np.array([[[-mu]]]), h)
    decay = np.exp(-mu * h)
    assert E[0, 0, 0] * x0 + F[0, 0, 0] * g == pytest.approx(x0 * decay + g * (1 - decay) / mu, rel=1e-14)
    occupancy = x0 * (1 - decay) / mu + g / mu * (h - (1 - decay) / mu)
    assert F[0, 0, 0] * x0 + G[0, 0, 0] * g == pytest.approx(occupancy, rel=1e-13)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 24, 25])
def test_powers_match_matrix_power(n):
    rng = np.random.default_rng(n)
    M = rng.random((2, 3, 4, 4)) / 2
    out = powers(M, n)
    assert out.shape == (2, 3, n + 1, 4, 4)
    for i in range(n + 1):
        np.testing.assert_allclose(out[:, :, i], np.linalg.matrix_power(M, i), rtol=1e-13, atol=1e-300)


def test_prefix_sums_are_exclusive():
    X = np.arange(24.0).reshape(2, 4, 3)
    out = prefix_sums(X, axis=1)
    assert out.shape == X.shape
    np.testing.assert_array_equal(out[:, 0], 0.0)
    for i in range(1, 4):
        np.testing.assert_array_equal(out[:, i], X[:, :i].sum(axis=1))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("n", [0, 1, 2, 25])
def test_prefix_sums_add_in_cumsums_order(axis, n):
    """Bit for bit np.cumsum's running sums (the engine's arms must agree exactly), signs of zero too."""
    rng = np.random.default_rng(n + 7 * (axis % 3))
    shape = [3, 4, 5]
    shape[axis] = n
    X = rng.standard_normal(shape) * np.exp(rng.standard_normal(shape) * 20)
    X[X > 1.5] = -0.0
    out = prefix_sums(X, axis=axis)
    expected = np.zeros_like(X)
    lead = (slice(None),) * (axis % X.ndim)
    np.cumsum(X[(*lead, slice(None, -1))], axis=axis, out=expected[(*lead, slice(1, None))])
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


@pytest.mark.parametrize("axis", [0, 1, 2, -3])
def test_powers_on_any_axis_are_the_same_products(axis):
    rng = np.random.default_rng(11)
    M = rng.random((2, 3, 9, 9)) / 4
    out = powers(M, 24, axis=axis)
    np.testing.assert_array_equal(np.moveaxis(out, axis, 2), powers(M, 24))
    with pytest.raises(ValueError):
        powers(M, 3, axis=3)
