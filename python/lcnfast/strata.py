"""Critical points of a quadratic loss on the multiple-root strata of binary forms.

The stratum ``Delta_lambda`` of a partition ``lambda`` of ``D`` is the set of forms
``v = c p`` with ``p = prod_j l_j^{lambda_j}`` a product of distinct linear forms. The roots
live in a randomly rotated chart, ``l_j = X + t_j Y`` with ``X = cos(phi) x + sin(phi) y``,
``Y = sin(phi) x - cos(phi) y``, so that a root at infinity of the original coordinates is
an ordinary point of the chart (with probability one). Equal parts of ``lambda`` are
interchangeable: each group of ``m`` equal parts is written through the elementary
symmetric functions ``e_1..e_m`` of its ``t_j``, so that the system has one solution per
critical form rather than ``prod m!``.

For ``l(v) = (v-u)^T G (v-u)`` the optimal scale is ``c = a / b`` with ``a = p^T G u`` and
``b = p^T G p``; the critical points are then the solutions of the square system
``2 a_j b - a b_j = 0`` (``_j`` the derivative in the ``j``-th unknown), whose total degree is
far below that of the system in ``(c, e)``. It is solved by total-degree homotopy
continuation in C++ (``lcnfast._core.solve_total_degree``); spurious solutions (``a = 0``,
i.e. ``v = 0``; ``b = 0``; colliding roots; points at infinity; singular endpoints) are
removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_int, as_real_array, resolve_threads
from .training import Progress, _ProgressBar

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


def _form_coefficients(lam: tuple[int, ...], phi: float) -> tuple[list[Poly], list[tuple[int, int]]]:
    """The form ``p = prod_j l_j^{lambda_j}`` as polynomials in the unknowns, with the groups of equal parts.

    Each group of ``m`` parts equal to ``a`` is ``q^a`` with ``q = prod_j (X + t_j Y) =
    sum_i e_i X^(m-i) Y^i`` (``e_0 = 1``); the unknowns are the ``e_1..e_m`` of every group.
    Returns the coefficients of ``x^0 y^D .. x^D y^0`` and the groups ``(a, m)``, largest
    part first (the order of ``lambda``).
    """
    groups = [(a, lam.count(a)) for a in sorted(set(lam), reverse=True)]
    n = sum(m for _, m in groups)
    D = sum(lam)
    # coefficients of Y^0 .. Y^deg of the form in the chart, as polynomials in e
    chart: list[Poly] = [{(0,) * n: 1.0}]
    offset = 0
    for a, m in groups:
        q: list[Poly] = [{(0,) * n: 1.0}]
        q += [{tuple(1 if k == offset + i else 0 for k in range(n)): 1.0} for i in range(m)]
        offset += m
        for _ in range(a):
            new: list[Poly] = [{} for _ in range(len(chart) + m)]
            for i, f in enumerate(chart):
                for k, g in enumerate(q):
                    new[i + k] = _add(new[i + k], _mul(f, g))
            chart = new
    # X^(D-i) Y^i in the original basis: column i of the change of coordinates
    cos, sin = math.cos(phi), math.sin(phi)
    change = np.zeros((D + 1, D + 1))
    for i in range(D + 1):
        column = np.ones(1)
        for _ in range(D - i):
            column = np.convolve(column, [sin, cos])  # X = sin y + cos x (index = power of x)
        for _ in range(i):
            column = np.convolve(column, [-cos, sin])  # Y = -cos y + sin x
        change[:, i] = column
    form: list[Poly] = []
    for row in change:
        entry: Poly = {}
        for i, f in enumerate(chart):
            if row[i] != 0:
                entry = _add(entry, f, float(row[i]))
        form.append(entry)
    return form, groups


def _linear_combination(polys: list[Poly], weights: Any) -> Poly:
    out: Poly = {}
    for f, w in zip(polys, weights):
        if w != 0:
            out = _add(out, f, complex(w))
    return out


def _evaluate(polys: list[Poly], n: int) -> Any:
    """A vectorised evaluator z -> [f(z) for f in polys]."""
    tables = []
    for f in polys:
        exps = np.array(list(f.keys()), dtype=np.int64).reshape(-1, n)
        tables.append((exps, np.array(list(f.values()), dtype=complex)))
    return lambda z: np.array([coef @ np.prod(z[None, :] ** exps, axis=1) for exps, coef in tables])


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
        Paths tracked per run (the total degree of the stratum's system; ``runs`` runs are made).
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
                            threads: int | None = None, progress: Progress = False) -> StratumCriticalPoints:
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
    threads : int, optional
        C++ threads over the paths (default: all cores); results do not depend on it.
    progress : bool or callable
        True: a progress bar over the paths (tqdm if installed); a callable gets
        ``(paths_done, paths)``. Ctrl-C stops the continuation with ``KeyboardInterrupt``.
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
    n_runs = as_int(runs, "runs", minimum=1)
    n_threads = resolve_threads(threads)
    charts = [(float(rng.uniform(0.1, 1.4)), complex(np.exp(1j * rng.uniform(0, 2 * np.pi)))) for _ in range(n_runs)]
    systems = [_stratum_system(lam, Gm, target, phi) for phi, _ in charts]
    sizes = [system.paths for system in systems]
    bar = _ProgressBar(sum(sizes), progress, unit="path", desc=f"lcnfast: stratum {lam}") if progress else None
    try:
        for run, ((phi, gamma), system) in enumerate(zip(charts, systems)):
            _solve_stratum(system, phi, gamma, n_threads, found,
                           None if bar is None else (lambda done, base=sum(sizes[:run]): bar(base + done)))
    finally:
        if bar is not None:
            bar.close()
    V = np.array([v for v, _ in found], dtype=complex).reshape(-1, K)
    roots = np.array([r for _, r in found], dtype=complex).reshape(-1, len(lam))
    real = np.array([np.abs(v.imag).max() <= 1e-8 * (1 + np.abs(v).max()) for v in V], dtype=bool)
    values = np.array([float(np.real((v - target) @ Gm @ (v - target))) for v in V])
    return StratumCriticalPoints(v=V, roots=roots, partition=lam, is_real=real, loss=values, paths=sizes[0])


@dataclass(frozen=True)
class _StratumSystem:
    """The critical equations of a stratum in one chart, in the sparse form of
    ``_core.solve_total_degree``, with what is needed to turn its solutions into forms."""

    n: int
    term_begin: list[int]
    exps: list[int]
    coeff: NDArray[np.complex128]
    degree: list[int]
    form: list[Poly]  # p's coefficients as polynomials in the unknowns
    groups: list[tuple[int, int]]  # (part, multiplicity), largest part first
    Gu: NDArray[np.float64]
    G: NDArray[np.float64]

    @property
    def paths(self) -> int:
        """The number of start solutions (the total degree)."""
        return int(np.prod(self.degree))


def _stratum_system(lam: tuple[int, ...], Gm: NDArray[np.float64], target: NDArray[np.float64],
                    phi: float) -> _StratumSystem:
    """The critical equations of the stratum in the chart rotated by phi."""
    form, groups = _form_coefficients(lam, phi)
    n = sum(m for _, m in groups)
    Gu = Gm @ target
    a = _linear_combination(form, Gu)  # p^T G u
    b: Poly = {}  # p^T G p
    for i, row in enumerate(Gm):
        b = _add(b, _mul(form[i], _linear_combination(form, row)))
    # l(c p) at the best c is u^T G u - a^2 / b; its derivatives vanish where 2 a_j b = a b_j
    equations = [_add(_mul(_diff(a, j), b), _mul(a, _diff(b, j)), -0.5) for j in range(n)]
    term_begin: list[int] = [0]
    exps: list[int] = []
    coeff: list[complex] = []
    degree: list[int] = []
    for eq in equations:
        scale = max(abs(c) for c in eq.values())
        terms = [(e, c) for e, c in eq.items() if abs(c) > 1e-14 * scale]  # cancellations leave rounding
        for e, c in terms:
            exps.extend(e)
            coeff.append(c)
        term_begin.append(len(coeff))
        degree.append(max(sum(e) for e, _ in terms))
    return _StratumSystem(n, term_begin, exps, np.array(coeff, dtype=complex), degree, form, groups, Gu, Gm)


def _solve_stratum(system: _StratumSystem, phi: float, gamma: complex, threads: int,
                   found: list[tuple[NDArray[np.complex128], NDArray[np.complex128]]],
                   report: Any = None) -> None:
    """One homotopy run in the chart rotated by phi; new critical forms are appended to found.
    The paths are tracked in slices so that ``report(paths_done)`` can follow them."""
    n, groups, Gm = system.n, system.groups, system.G
    paths = system.paths
    step = paths if report is None else max(1024, 256 * threads)
    parts = []
    for first in range(0, paths, step):
        parts.append(_core.solve_total_degree(n, system.term_begin, system.exps, system.coeff, system.degree, gamma,
                                              threads, first, step))
        if report is not None:
            report(min(first + step, paths))
    z = np.concatenate([part[0] for part in parts])
    status = np.concatenate([part[1] for part in parts])
    p_at = _evaluate(system.form, n)
    Gu = system.Gu
    norm_Gu, norm_G = float(np.linalg.norm(Gu)), float(np.linalg.norm(Gm))
    for zi, st in zip(z, status):
        if st != 0:
            continue
        p = p_at(zi)
        pa, pb = complex(p @ Gu), complex(p @ Gm @ p)
        size = float(np.linalg.norm(p))
        if abs(pa) <= 1e-10 * norm_Gu * size or abs(pb) <= 1e-12 * norm_G * size**2:
            continue  # v = 0 or no finite optimal scale: not a point of the stratum
        v = (pa / pb) * p
        # the roots t_j of each group: prod_j (z - t_j) = sum_i (-1)^i e_i z^(m-i)
        ts_parts = []
        k = 0
        for _, m in groups:
            ts_parts.append(np.roots(np.concatenate(([1.0], zi[k:k + m] * (-1.0) ** np.arange(1, m + 1)))))
            k += m
        ts = np.concatenate(ts_parts)
        if len(ts) > 1 and min(abs(x - y) / math.sqrt((1 + abs(x) ** 2) * (1 + abs(y) ** 2))
                               for i, x in enumerate(ts) for y in ts[i + 1:]) < 1e-7:
            continue  # colliding roots: a smaller stratum
        if any(np.linalg.norm(v - w) <= 1e-7 * (1 + np.linalg.norm(v)) for w, _ in found):
            continue  # the same form, found by another run
        # root of l_j = (cos + t sin) x + (sin - t cos) y in the original coordinates
        with np.errstate(divide="ignore", invalid="ignore"):
            denom = math.cos(phi) + ts * math.sin(phi)
            roots = np.where(np.abs(denom) > 1e-300, -(math.sin(phi) - ts * math.cos(phi)) / denom, complex(np.inf))
        found.append((v, roots))


def ed_degree(partition: Any, G: ArrayLike, *, seed: int = 0, threads: int | None = None) -> int:
    """Number of complex critical points of ``(v-u)^T G (v-u)`` on ``Delta_lambda`` for a
    random ``u`` (the Euclidean-distance degree of the stratum for the weights ``G``)."""
    Gm = as_real_array(G, "G")
    u = np.random.default_rng(seed + 1).standard_normal(Gm.shape[0])
    return stratum_critical_points(partition, Gm, u, seed=seed, threads=threads).n_complex
