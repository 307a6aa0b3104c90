"""Exact second-order information of the training loss ``L = l o mu`` for many runs at once,
and the Newton polish that takes a run the last way to its critical point.

Kept apart from :mod:`lcnfast.training` (first order, in C++) and :mod:`lcnfast.critical`
(classification), which both use it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .architecture import Architecture
from .losses import QuadraticLoss
from .parameterisation import end_to_end, jacobian, vjp

__all__ = ["gradients", "hessians", "losses", "newton_polish"]


def _blocks(arch: Architecture) -> NDArray[np.int64]:
    return np.cumsum([0] + [int(np.prod(s)) for s in arch.layer_shapes]).astype(np.int64)


def losses(arch: Architecture, loss: QuadraticLoss, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``L(theta)`` per row of ``theta`` (B, P)."""
    v = end_to_end(arch, theta).reshape(theta.shape[0], -1)
    out: NDArray[np.float64] = np.einsum("bi,ij,bj->b", v, loss.G, v) - 2.0 * (v @ loss.b) + loss.c
    return out


def gradients(arch: Architecture, loss: QuadraticLoss, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``grad L(theta)`` per row: (B, P)."""
    B = theta.shape[0]
    v = end_to_end(arch, theta).reshape(B, -1)
    cot = 2.0 * (v @ loss.G - loss.b)
    return vjp(arch, theta, np.ascontiguousarray(cot.reshape((B,) + arch.filter_shape)))


def hessians(arch: Architecture, loss: QuadraticLoss, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact Hessians of ``L`` per row of ``theta``: (B, P, P).

    ``H = 2 J^T G J + sum_i gbar_i d^2 mu_i`` with ``gbar = 2 (G v - b)``. ``mu`` is linear
    in each filter, so the second term has no diagonal blocks; its off-diagonal rows are
    vector-Jacobian products at ``theta`` with one filter replaced by a unit vector (all
    ``B P`` of them in one call)."""
    B, P = theta.shape
    v = end_to_end(arch, theta).reshape(B, -1)
    J = jacobian(arch, theta).reshape(B, -1, P)
    gbar = 2.0 * (v @ loss.G - loss.b)  # (B, k)
    H = 2.0 * np.einsum("bip,ij,bjq->bpq", J, loss.G, J)
    starts = _blocks(arch)
    replaced = np.repeat(theta[:, None, :], P, axis=1)  # (B, P, P): row p of run b
    for layer in range(arch.L):
        lo, hi = starts[layer], starts[layer + 1]
        replaced[:, lo:hi, lo:hi] = np.eye(hi - lo)
    cot = np.repeat(gbar[:, None, :], P, axis=1).reshape((B * P,) + arch.filter_shape)
    S = vjp(arch, replaced.reshape(B * P, P), np.ascontiguousarray(cot)).reshape(B, P, P)
    for layer in range(arch.L):
        lo, hi = starts[layer], starts[layer + 1]
        S[:, lo:hi, lo:hi] = 0.0
    total = H + S
    out: NDArray[np.float64] = 0.5 * (total + np.swapaxes(total, 1, 2))
    return out


def newton_polish(arch: Architecture, loss: QuadraticLoss, theta: NDArray[np.float64], tol: float,
                  max_iter: int = 60) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """Damped saddle-free Newton on ``L`` from each row of ``theta`` until ``||grad L|| <= tol``.

    The step is ``-V diag(1/max(|lambda|, delta)) V^T g`` from the eigen-decomposition of the
    exact Hessian (a descent direction also where the Hessian is indefinite or singular, as
    on the orbits of the rescaling symmetry), followed by a backtracking line search: the
    step is halved until the loss decreases by the Armijo amount, or, once the loss is
    flat to rounding, until the gradient norm decreases. Near a critical point where the
    Hessian is singular (the boundary points that GD approaches only polynomially fast)
    Newton still converges linearly, far faster than GD.

    Returns ``(theta, converged, iterations)``; rows that did not reach ``tol`` are returned
    at the best point found (never with a larger loss than they started)."""
    x = np.array(theta, dtype=np.float64, copy=True)
    B = x.shape[0]
    iterations = np.zeros(B, dtype=np.int64)
    converged = np.zeros(B, dtype=bool)
    if B == 0:
        return x, converged, iterations
    f = losses(arch, loss, x)
    g = gradients(arch, loss, x)
    gn = np.linalg.norm(g, axis=1)
    active = np.isfinite(f) & np.isfinite(gn)
    converged = active & (gn <= tol)
    active &= ~converged
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        H = hessians(arch, loss, x[idx])
        lam, V = np.linalg.eigh(H)
        scale = np.max(np.abs(lam), axis=1, keepdims=True)
        floor = np.maximum(1e-12 * scale, 1e-300)
        coeff = np.einsum("bpq,bp->bq", V, g[idx]) / np.maximum(np.abs(lam), floor)
        d = -np.einsum("bpq,bq->bp", V, coeff)
        slope = np.einsum("bp,bp->b", g[idx], d)
        alpha = np.ones(idx.size)
        pending = np.ones(idx.size, dtype=bool)
        for _ in range(40):
            sel = np.flatnonzero(pending)
            if sel.size == 0:
                break
            trial = x[idx[sel]] + alpha[sel, None] * d[sel]
            ft = losses(arch, loss, trial)
            gt = gradients(arch, loss, trial)
            gnt = np.linalg.norm(gt, axis=1)
            f0 = f[idx[sel]]
            flat = np.abs(ft - f0) <= 1e-13 * (1.0 + np.abs(f0))
            ok = np.isfinite(ft) & np.isfinite(gnt) & (
                (ft <= f0 + 1e-4 * alpha[sel] * slope[sel]) | (flat & (gnt < gn[idx[sel]])))
            good = sel[ok]
            rows = idx[good]
            x[rows] = trial[ok]
            f[rows] = ft[ok]
            g[rows] = gt[ok]
            gn[rows] = gnt[ok]
            pending[good] = False
            alpha[sel[~ok]] *= 0.5
        iterations[idx] += 1
        stuck = idx[pending]  # no step helped: at the best point rounding allows
        active[stuck] = False
        done = active & (gn <= tol)
        converged |= done
        active &= ~done
    return x, converged, iterations
