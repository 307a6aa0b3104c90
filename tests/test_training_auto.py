"""Training that reaches its limits: the scale-aware step, retries of diverged runs, the
Newton polish and the exact Hessians it uses, against sympy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import lcnfast
from lcnfast._newton import gradients, hessians, newton_polish


def _symbolic_loss(k, loss):
    """L(theta) for a stride-one architecture in sympy: the product of the layer
    polynomials, independent of lcnfast's kernels."""
    thetas = sympy.symbols(f"t0:{sum(k)}")
    x = sympy.Symbol("x")
    product = sympy.Integer(1)
    offset = 0
    for size in k:
        product *= sum(thetas[offset + i] * x**i for i in range(size))
        offset += size
    poly = sympy.Poly(sympy.expand(product), x)
    v = sympy.Matrix([poly.coeff_monomial(x**i) for i in range(sum(k) - len(k) + 1)])
    G = sympy.Matrix(loss.G.tolist())
    b = sympy.Matrix(loss.b.tolist())
    value = (v.T * G * v)[0] - 2 * (b.T * v)[0] + loss.c
    return thetas, value


def _problem(k, seed, scale=1.0):
    arch = lcnfast.Architecture(k, d0=sum(k) + 6)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, int(arch.widths()[0])))
    Y = scale * rng.standard_normal((30, int(arch.widths()[-1])))
    return arch, lcnfast.SquaredLoss.from_data(arch, X, Y), rng


def test_end_to_end_is_the_product_of_the_layer_polynomials():
    arch, _, rng = _problem([3, 2, 4], 0)
    theta = rng.standard_normal(arch.n_params)
    w = arch.split(theta)
    assert np.allclose(lcnfast.end_to_end(arch, theta), np.convolve(np.convolve(w[0], w[1]), w[2]), atol=1e-14)


@pytest.mark.parametrize(("k", "seed"), [([2, 2], 0), ([2, 3, 2], 1), ([3, 3], 2), ([2, 2, 2, 2], 3), ([4, 1, 3], 4)])
def test_hessians_and_gradients_against_sympy(k, seed):
    arch, loss, rng = _problem(k, seed)
    symbols, value = _symbolic_loss(k, loss)
    grad = sympy.lambdify(symbols, [sympy.diff(value, t) for t in symbols])
    hess = sympy.lambdify(symbols, sympy.hessian(value, symbols).tolist())
    theta = rng.standard_normal((3, arch.n_params))
    H = hessians(arch, loss, theta)
    g = gradients(arch, loss, theta)
    for i in range(3):
        ref_H = np.array(hess(*theta[i]), dtype=float)
        ref_g = np.array(grad(*theta[i]), dtype=float)
        assert np.allclose(H[i], ref_H, rtol=1e-10, atol=1e-10 * np.abs(ref_H).max())
        assert np.allclose(g[i], ref_g, rtol=1e-10, atol=1e-10 * np.abs(ref_g).max())
    assert np.allclose(lcnfast.hessian(arch, loss, theta[0]), H[0])


@pytest.mark.parametrize(("k", "seed"), [([2, 2], 5), ([2, 2, 2], 6), ([3, 2, 2], 7), ([2, 2, 2, 2], 8)])
def test_polish_reaches_critical_points_that_gd_approaches_slowly(k, seed):
    arch, loss, _ = _problem(k, seed)
    tol = lcnfast.auto_tol(loss)
    plain = lcnfast.train(arch, loss, batch=60, steps=2000, seed=seed, scale=0.5)
    polished = lcnfast.train(arch, loss, batch=60, steps=2000, seed=seed, scale=0.5, polish=True)
    assert plain.counts()["max_steps"] > 0  # GD alone does not get there in 2000 steps
    assert polished.counts()["converged"] == 60
    assert np.array_equal(polished.polished, plain.status == "max_steps")
    symbols, value = _symbolic_loss(k, loss)
    grad = sympy.lambdify(symbols, [sympy.diff(value, t) for t in symbols])
    f = sympy.lambdify(symbols, value)
    for i in range(60):
        assert np.linalg.norm(np.array(grad(*polished.theta[i]), dtype=float)) <= 1.01 * tol
        assert polished.loss[i] == pytest.approx(float(f(*polished.theta[i])), rel=1e-12)
        assert polished.loss[i] <= plain.loss[i] + 1e-12 * abs(plain.loss[i])  # polishing descends
    # the runs GD finished are untouched
    done = plain.status == "converged"
    assert np.array_equal(polished.theta[done], plain.theta[done])


def test_newton_polish_leaves_what_it_cannot_improve():
    arch, loss, rng = _problem([2, 2], 9)
    theta = rng.standard_normal((5, arch.n_params))
    x, ok, iterations = newton_polish(arch, loss, theta, tol=0.0)  # unreachable: runs until stuck
    assert not ok.any() and np.all(iterations >= 1)
    assert np.all(lcnfast.end_to_end(arch, x) is not None)
    before = np.array([loss.value(lcnfast.end_to_end(arch, t)) for t in theta])
    after = np.array([loss.value(lcnfast.end_to_end(arch, t)) for t in x])
    assert np.all(after <= before)
    empty, ok, _ = newton_polish(arch, loss, theta[:0], tol=1.0)
    assert empty.shape == (0, arch.n_params) and ok.shape == (0,)


def test_auto_step_converges_where_a_fixed_step_diverges():
    # a large teacher: the step 0.05 / lambda_max(G) that suits unit-size filters diverges
    arch, loss, _ = _problem([2, 2, 2, 2], 10, scale=100.0)
    fixed = lcnfast.train(arch, loss, batch=200, lr=0.05 / np.linalg.eigvalsh(loss.G)[-1], steps=5000, seed=1,
                          scale=0.5)
    assert fixed.counts()["diverged"] > 100
    auto = lcnfast.train(arch, loss, batch=200, steps=5000, seed=1, scale=0.5, polish=True)
    assert auto.counts()["diverged"] == 0
    assert auto.counts()["converged"] >= 190  # (all 200 at the time of writing)
    assert auto.lr.shape == (200,) and np.all(auto.lr > 0)
    assert auto.tol == pytest.approx(1e-8 * (np.linalg.norm(loss.b) + np.linalg.eigvalsh(loss.G)[-1]))


def test_diverged_runs_are_retried_with_smaller_steps():
    arch, loss, _ = _problem([2, 3], 11)
    lam = np.linalg.eigvalsh(loss.G)[-1]
    big = 40.0 / lam
    result = lcnfast.train(arch, loss, batch=50, lr=big, steps=400, seed=2, scale=2.0, retries=4)
    first = lcnfast.train(arch, loss, batch=50, lr=big, steps=400, seed=2, scale=2.0)
    assert np.any(first.status == "diverged")
    retried = result.lr < big
    assert np.array_equal(retried, first.status == "diverged")
    assert set(np.round(big / result.lr).astype(int)) <= {1, 4, 16, 64, 256}
    # a retried run is exactly the run with its final step from the same start
    start = lcnfast.train(arch, loss, batch=50, steps=0, seed=2, scale=2.0).theta
    for i in np.flatnonzero(retried)[:3]:
        alone = lcnfast.train(arch, loss, start[i], lr=float(result.lr[i]), steps=400)
        assert np.array_equal(alone.theta[0], result.theta[i])
    assert not np.any(lcnfast.train(arch, loss, batch=50, lr=big, steps=400, seed=2, scale=2.0, retries=0).lr < big)


def test_auto_lr_is_scale_aware():
    arch, loss, _ = _problem([2, 2, 2], 12)
    theta = lcnfast.train(arch, loss, batch=64, steps=0, seed=0).theta
    small = lcnfast.auto_lr(arch, loss, theta)
    big_loss = lcnfast.QuadraticLoss.from_coefficients(loss.G, 100.0 * loss.b, 1e4 * loss.c)
    assert lcnfast.auto_lr(arch, big_loss, theta) < small  # a larger target, larger curvature on the way
    H = hessians(arch, loss, theta)
    assert small <= 0.5 / np.max(np.linalg.eigvalsh(H)) * (1 + 1e-12)
    with pytest.raises(ValueError, match="theta: expected shape"):
        lcnfast.auto_lr(arch, loss, np.zeros(5))
    with pytest.raises(TypeError, match="loss: expected"):
        lcnfast.auto_tol("loss")
