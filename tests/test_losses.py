"""The exact reduction of the squared loss, and quadratic losses in function space."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lcnfast
from lcnfast import QuadraticLoss, SquaredLoss

from . import reference as ref
from .strategies import architectures


def _raw_loss(v, arch, d0, X, Y):
    """Mean squared error of the end-to-end convolution with filter v, by its explicit matrix."""
    T = ref.layer_matrix(v, d0, arch.stride, arch.is_circular)
    N = X.shape[0]
    R = X.reshape(N, -1) @ T.T - Y.reshape(N, -1)
    return float(np.sum(R * R) / N)


@given(spec=architectures(max_layers=3, max_k=4), seed=st.integers(0, 2**32 - 1))
def test_squared_loss_equals_raw_data_loss(spec, seed):
    k, s, kind, d0 = spec
    arch = lcnfast.Architecture(k, s, kind=kind, d0=d0)
    rng = np.random.default_rng(seed)
    widths = arch.widths()
    shape_in = widths[0] if arch.ndim == 2 else (widths[0],)
    shape_out = widths[-1] if arch.ndim == 2 else (widths[-1],)
    N = int(rng.integers(1, 12))
    X = rng.standard_normal((N,) + tuple(shape_in))
    Y = rng.standard_normal((N,) + tuple(shape_out))
    loss = SquaredLoss.from_data(arch, X, Y)
    for _ in range(3):
        v = rng.standard_normal(arch.filter_shape)
        raw = _raw_loss(v, arch, d0, X, Y)
        assert loss.value(v) == pytest.approx(raw, rel=1e-10, abs=1e-12)
        # a quadratic's central difference is its exact directional derivative
        g = loss.grad(v)
        for i in range(min(v.size, 4)):
            e = np.zeros(v.size)
            e[i] = 1.0
            e = e.reshape(v.shape)
            exact = (_raw_loss(v + e, arch, d0, X, Y) - _raw_loss(v - e, arch, d0, X, Y)) / 2
            assert g.ravel()[i] == pytest.approx(exact, rel=1e-8, abs=1e-9)
    # c is the mean squared norm of the targets; G is symmetric positive semidefinite
    assert loss.c == pytest.approx(float(np.mean(np.sum(Y.reshape(N, -1) ** 2, axis=1))))
    np.testing.assert_array_equal(loss.G, loss.G.T)
    assert np.linalg.eigvalsh(loss.G)[0] > -1e-10


def test_batched_value_and_grad(rng):
    arch = lcnfast.Architecture([3, 2], d0=10)
    X, Y = lcnfast.teacher_data(arch, rng.standard_normal(4), 50, noise=0.1, seed=1)
    loss = SquaredLoss.from_data(arch, X, Y)
    vs = rng.standard_normal((7, 4))
    values = loss.value(vs)
    grads = loss.grad(vs)
    assert values.shape == (7,) and grads.shape == (7, 4)
    for b in range(7):
        assert values[b] == pytest.approx(loss.value(vs[b]), rel=1e-13)
        np.testing.assert_allclose(grads[b], loss.grad(vs[b]), rtol=1e-13)


def test_teacher_data_noise_free_targets_and_minimizer():
    arch = lcnfast.Architecture([3, 3, 2], [1, 2, 1], d0=30)
    v_star = np.arange(1.0, arch.filter_size + 1)
    X, Y = lcnfast.teacher_data(arch, v_star, 40, seed=3)
    T = ref.layer_matrix(v_star, 30, arch.stride, False)
    np.testing.assert_allclose(Y, X @ T.T, rtol=1e-13, atol=1e-12)
    loss = SquaredLoss.from_data(arch, X, Y)
    np.testing.assert_allclose(loss.minimizer(), v_star, rtol=1e-9)
    assert loss.value(v_star) == pytest.approx(0.0, abs=1e-10)
    # same seed, same data; another seed, other data
    X2, _ = lcnfast.teacher_data(arch, v_star, 40, seed=3)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, lcnfast.teacher_data(arch, v_star, 40, seed=4)[0])


def test_teacher_data_2d_circular():
    arch = lcnfast.Architecture([(2, 2), (2, 3)], kind="circular", d0=(4, 5))
    v_star = np.random.default_rng(0).standard_normal(arch.filter_shape)
    X, Y = lcnfast.teacher_data(arch, v_star, 6, noise=0.0, seed=0)
    assert X.shape == (6, 4, 5) and Y.shape == (6, 4, 5)
    T = ref.layer_matrix(v_star, (4, 5), (1, 1), True)
    np.testing.assert_allclose(Y.reshape(6, -1), X.reshape(6, -1) @ T.T, rtol=1e-13, atol=1e-12)


def test_quadratic_loss_in_function_space(rng):
    A = rng.standard_normal((5, 5))
    G = A @ A.T + np.eye(5)
    u = rng.standard_normal(5)
    loss = QuadraticLoss(G, u)
    v = rng.standard_normal(5)
    assert loss.value(v) == pytest.approx(float((v - u) @ G @ (v - u)), rel=1e-13)
    np.testing.assert_allclose(loss.grad(v), 2 * G @ (v - u), rtol=1e-12)
    np.testing.assert_allclose(loss.minimizer(), u, rtol=1e-10)
    euclid = QuadraticLoss(np.eye(5), u)
    assert euclid.value(v) == pytest.approx(float(np.sum((v - u) ** 2)))


def test_minimizer_is_least_squares_when_singular():
    G = np.diag([1.0, 2.0, 0.0])
    loss = QuadraticLoss.from_coefficients(G, np.array([1.0, 4.0, 0.0]), 3.0)
    np.testing.assert_allclose(loss.minimizer(), [1.0, 2.0, 0.0], atol=1e-14)


@pytest.mark.parametrize(
    ("make", "exc", "words"),
    [
        (lambda: QuadraticLoss(np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2)), ValueError, "G: must be symmetric"),
        (lambda: QuadraticLoss(-np.eye(2), np.zeros(2)), ValueError, "G: must be positive semidefinite"),
        (lambda: QuadraticLoss(np.eye(3), np.zeros(2)), ValueError, "G: expected shape (2, 2)"),
        (lambda: QuadraticLoss(np.eye(2), np.array([np.nan, 0])), ValueError, "u: contains NaN"),
        (lambda: QuadraticLoss(np.eye(2) * 1j, np.zeros(2)), TypeError, "G: expected real numbers"),
        (lambda: QuadraticLoss(np.eye(2), np.zeros(2)).value(np.zeros(3)), ValueError, "v: expected shape (2,)"),
        (lambda: SquaredLoss.from_data(lcnfast.Architecture([3, 2]), np.zeros((4, 3)), np.zeros((4, 1))),
         ValueError, "d0: too small"),
        (lambda: SquaredLoss.from_data(lcnfast.Architecture([3, 2]), np.zeros((4, 8)), np.zeros((4, 3))),
         ValueError, "Y: expected shape (4, 5)"),
        (lambda: SquaredLoss.from_data(lcnfast.Architecture([3, 2], d0=9), np.zeros((4, 8)), np.zeros((4, 5))),
         ValueError, "X: its width 8 differs"),
        (lambda: SquaredLoss.from_data(lcnfast.Architecture([3, 2]), np.zeros(8), np.zeros(5)),
         ValueError, "X: expected shape (N, d0)"),
        (lambda: SquaredLoss.from_data(lcnfast.Architecture([3, 2]), np.zeros((0, 8)), np.zeros((0, 5))),
         ValueError, "X: is empty"),
        (lambda: lcnfast.teacher_data(lcnfast.Architecture([3, 2]), np.zeros(4), 5), ValueError, "d0: the architecture"),
        (lambda: lcnfast.teacher_data(lcnfast.Architecture([3, 2], d0=8), np.zeros(5), 5), ValueError, "v_star"),
        (lambda: lcnfast.teacher_data(lcnfast.Architecture([3, 2], d0=8), np.zeros(4), 0), ValueError, "N: must be"),
        (lambda: lcnfast.teacher_data(lcnfast.Architecture([3, 2], d0=8), np.zeros(4), 5, noise=-1),
         ValueError, "noise: must be >= 0"),
    ],
)
def test_bad_loss_input(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    assert words in str(info.value)
