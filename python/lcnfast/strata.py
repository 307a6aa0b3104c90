"""Critical points of a quadratic loss on the multiple-root strata of binary forms.

The stratum ``Delta_lambda`` of a partition ``lambda`` of ``D`` is the set of forms
``c prod_j l_j^{lambda_j}`` with distinct linear forms ``l_j``. For ``l(v) = (v-u)^T G (v-u)``
its complex critical points solve a square polynomial system in ``(c, t_1, ..., t_r)``,
``l_j = (cos phi + t_j sin phi) x + (sin phi - t_j cos phi) y``: the roots ``t_j`` live in a
randomly rotated chart, so that a root at infinity of the original coordinates is an
ordinary point of the chart (with probability one). The system is solved by total-degree
homotopy continuation in C++ (``lcnfast._core.solve_total_degree``); spurious solutions
(``c = 0``, colliding roots, points at infinity, singular endpoints) are removed, and
solutions that differ only by permuting equal parts of ``lambda`` are identified through
their form ``v``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_int, as_real_array, resolve_threads

__all__ = ["StratumCriticalPoints", "ed_degree", "stratum_critical_points"]

Poly = dict[tuple[int, ...], complex]


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            out[e] = out.get(e, 0.0) + ca * cb
    return out


def _add(a: Poly, b: Poly, scale: complex = 1.0) -> Poly:
    out = dict(a)
    for e, c in b.items():
        out[e] = out.get(e, 0.0) + scale * c
    return out


def _diff(a: Poly, var: int) -> Poly:
    out: Poly = {}
    for e, c in a.items():
        if e[var]:
            f = list(e)
            f[var] -= 1
            out[tuple(f)] = out.get(tuple(f), 0.0) + c * e[var]
    return out


def _form_coefficients(lam: tuple[int, ...], phi: float) -> list[Poly]:
    """Coefficients (x^0 y^D .. x^D y^0) of c * prod_j l_j^{lambda_j} as polynomials in (c, t)."""
    n = len(lam) + 1
    unit = (0,) * n
    form: list[Poly] = [{(1,) + (0,) * (n - 1): 1.0}]  # c
    cos, sin = math.cos(phi), math.sin(phi)
    for j, power in enumerate(lam):
        t = tuple(1 if i == j + 1 else 0 for i in range(n))
        # l_j = (sin phi - t cos phi) y + (cos phi + t sin phi) x : [coef of x^0, coef of x^1]
        linear: list[Poly] = [{unit: complex(sin), t: complex(-cos)}, {unit: complex(cos), t: complex(sin)}]
        for _ in range(power):
            new: list[Poly] = [{} for _ in range(len(form) + 1)]
            for i, a in enumerate(form):
                for k, b in enumerate(linear):
                    new[i + k] = _add(new[i + k], _mul(a, b))
            form = new
    return form


@dataclass(frozen=True)
class StratumCriticalPoints:
    """Complex critical points of ``l`` restricted to the stratum ``Delta_lambda``.

    Attributes
    ----------
    v : ndarray, shape (m, D+1), complex
        The critical forms (coefficients in the original basis).
    roots : ndarray, shape (m, r), complex
        The distinct roots ``x/y`` of each form, one per part of ``lambda`` (``inf`` for a
        root at infinity), in the order of :attr:`partition`.
    partition : tuple of int
    is_real : ndarray of bool, shape (m,)
        Real critical points (``v`` real up to ``1e-8`` relative).
    loss : ndarray, shape (m,)
        ``l(v)`` (real part) at each.
    paths : int
        Paths tracked (the Bezout number of the system).
    """

    v: NDArray[np.complex128]
    roots: NDArray[np.complex128]
    partition: tuple[int, ...]
    is_real: NDArray[np.bool_]
    loss: NDArray[np.float64]
    paths: int

    @property
    def n_complex(self) -> int:
        """The number of distinct complex critical points."""
        return int(self.v.shape[0])

    @property
    def n_real(self) -> int:
        """The number of real ones."""
        return int(self.is_real.sum())

    def real_root_counts(self) -> NDArray[np.int64]:
        """For each critical form, its real roots with multiplicity (from the stratum's
        structure, so exact multiplicities rather than numerically split clusters)."""
        lam = np.array(self.partition)
        tol = 1e-8 * (1.0 + np.abs(np.where(np.isfinite(self.roots), self.roots, 0)))
        real = np.isinf(self.roots.real) | (np.abs(self.roots.imag) <= tol)
        return np.asarray((real * lam).sum(axis=1), dtype=np.int64)


def stratum_critical_points(partition: Any, G: ArrayLike, u: ArrayLike, *, seed: int = 0, runs: int = 2,
                            threads: int | None = None) -> StratumCriticalPoints:
    """All complex critical points of ``l(v) = (v-u)^T G (v-u)`` on ``Delta_lambda``.

    Parameters
    ----------
    partition : sequence of int
        ``lambda``: positive parts adding up to ``D``.
    G : array_like, shape (D+1, D+1), symmetric
    u : array_like, shape (D+1,)
    seed : int
        Seeds the random chart rotations and the homotopy's gammas.
    runs : int
        Independent homotopies (other chart, other gamma) whose solutions are merged: a
        path lost to numerical trouble in one run is found by another.
    """
    lam = tuple(sorted((as_int(p, "partition", minimum=1) for p in partition), reverse=True))
    if not lam:
        raise ValueError("partition: needs at least one part")
    D = sum(lam)
    K = D + 1
    Gm = as_real_array(G, "G")
    target = as_real_array(u, "u")
    if Gm.shape != (K, K):
        raise ValueError(f"G: expected shape ({K}, {K}) for a partition of {D}, got {Gm.shape}")
    if target.shape != (K,):
        raise ValueError(f"u: expected shape ({K},), got {target.shape}")
    rng = np.random.default_rng(seed)
    found: list[tuple[NDArray[np.complex128], NDArray[np.complex128]]] = []
    paths = 0
    for _ in range(max(1, as_int(runs, "runs", minimum=1))):
        phi = float(rng.uniform(0.1, 1.4))
        gamma = complex(np.exp(1j * rng.uniform(0, 2 * np.pi)))
        paths = _solve_stratum(lam, Gm, target, phi, gamma, resolve_threads(threads), found)
    V = np.array([v for v, _ in found], dtype=complex).reshape(-1, K)
    roots = np.array([r for _, r in found], dtype=complex).reshape(-1, len(lam))
    real = np.array([np.abs(v.imag).max() <= 1e-8 * (1 + np.abs(v).max()) for v in V], dtype=bool)
    values = np.array([float(np.real((v - target) @ Gm @ (v - target))) for v in V])
    return StratumCriticalPoints(v=V, roots=roots, partition=lam, is_real=real, loss=values, paths=paths)


def _solve_stratum(lam: tuple[int, ...], Gm: NDArray[np.float64], target: NDArray[np.float64], phi: float,
                   gamma: complex, threads: int,
                   found: list[tuple[NDArray[np.complex128], NDArray[np.complex128]]]) -> int:
    """One homotopy run in the chart rotated by phi; new critical forms are appended to found."""
    D = sum(lam)
    K = D + 1
    n = len(lam) + 1
    form = _form_coefficients(lam, phi)
    residual = [_add(f, {(0,) * n: -float(target[i])}) for i, f in enumerate(form)]
    loss: Poly = {}
    for i in range(K):
        for k in range(K):
            if Gm[i, k] != 0:
                loss = _add(loss, _mul(residual[i], residual[k]), Gm[i, k])
    equations = [_diff(loss, var) for var in range(n)]
    term_begin: list[int] = [0]
    exps: list[int] = []
    coeff: list[complex] = []
    degree: list[int] = []
    for eq in equations:
        terms = [(e, c) for e, c in eq.items() if abs(c) > 0]
        for e, c in terms:
            exps.extend(e)
            coeff.append(c)
        term_begin.append(len(coeff))
        degree.append(max(sum(e) for e, _ in terms))
    z, status, _, _ = _core.solve_total_degree(n, term_begin, exps, np.array(coeff, dtype=complex), degree, gamma,
                                               threads)
    for zi, st in zip(z, status):
        if st != 0:
            continue
        c, ts = zi[0], zi[1:]
        if abs(c) < 1e-8 * (1 + np.abs(ts).max(initial=0.0)) ** D:
            continue  # c = 0: not on the stratum
        if len(ts) > 1 and min(abs(a - b) / math.sqrt((1 + abs(a) ** 2) * (1 + abs(b) ** 2))
                               for i, a in enumerate(ts) for b in ts[i + 1:]) < 1e-7:
            continue  # colliding roots: a smaller stratum
        v = np.array([sum(coef * np.prod([zi[k] ** e[k] for k in range(n)]) for e, coef in f.items()) for f in form])
        if any(np.linalg.norm(v - w) <= 1e-7 * (1 + np.linalg.norm(v)) for w, _ in found):
            continue  # the same form: a permutation of equal parts of lambda, or another run
        # root of l_j = (cos + t sin) x + (sin - t cos) y in the original coordinates
        with np.errstate(divide="ignore", invalid="ignore"):
            denom = math.cos(phi) + ts * math.sin(phi)
            roots = np.where(np.abs(denom) > 1e-300, -(math.sin(phi) - ts * math.cos(phi)) / denom, complex(np.inf))
        found.append((v, roots))
    return int(np.prod(degree))


def ed_degree(partition: Any, G: ArrayLike, *, seed: int = 0, threads: int | None = None) -> int:
    """Number of complex critical points of ``(v-u)^T G (v-u)`` on ``Delta_lambda`` for a
    random ``u`` (the Euclidean-distance degree of the stratum for the weights ``G``)."""
    Gm = as_real_array(G, "G")
    u = np.random.default_rng(seed + 1).standard_normal(Gm.shape[0])
    return stratum_critical_points(partition, Gm, u, seed=seed, threads=threads).n_complex
