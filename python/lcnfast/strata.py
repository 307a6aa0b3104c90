"""Critical points of a quadratic loss on the multiple-root strata of binary forms.

The stratum ``Delta_lambda`` of a partition ``lambda`` of ``D`` is the set of forms
``v = c p`` with ``p = prod_j l_j^{lambda_j}`` a product of pairwise non-proportional linear
forms and ``c != 0``. For ``l(v) = (v-u)^T G (v-u)`` the critical points of ``l`` on the
stratum are found as follows.

**Coordinates.** The roots live in a fixed chart ``X = x + 5/16 y``, ``Y = -73/128 x + y``
(dyadic entries, exact in float64), so a root at infinity of the user's coordinates is an
ordinary point of the chart; a second chart finds the forms with a root at the first one's
infinity. Each group
of ``m`` equal parts ``a`` of ``lambda`` is ``q^a`` with ``q = h X^m + e_1 X^(m-1) Y + ... +
e_m Y^m``: the unknowns are the elementary symmetric functions ``e`` of the group's roots
(one solution per critical form rather than ``prod m!``), made homogeneous by ``h`` so that
paths heading for infinity stay bounded (a random linear patch fixes the scale). ``R`` maps
chart coefficients to the user's, so ``v = c R p(h, e)``; with the parameters
``w = R^T G u`` and ``Gc = R^T G R``, ``a = w . p``, ``b = p . Gc p``, the best scale is
``c = a / b`` and the critical equations are ``a_j b - a b_j / 2 = 0`` for every ``e_j``.

**Parameter homotopy.** These equations are bilinear in the parameters ``(w, Gc)``. Once
per partition, their solutions at random complex parameters ``q0`` are found by monodromy
(a seed solution is made by choosing ``w`` for a random point, then loops through random
parameters permute the solutions and reveal new ones until the set stops growing): the
*generic count* of the stratum. The set is then proven complete, numerically, by the trace
test of Leykin, Rodriguez and Sottile (see :func:`generic_count`); monodromy goes on while
the test fails. They are kept in memory and in a cache folder (:func:`start_system_cache`). A user's data ``q1`` is then solved by tracking only those
paths from ``q0`` to ``q1`` (C++, ``lcnfast._core.track_stratum_paths``: Hermite
multistep predictor with error control, contracting Newton corrector, Cauchy endgame that
classifies each endpoint as regular, singular with its winding number, or at infinity).

**Certification.** Every returned point is proven by the Krawczyk test on the exact
critical equations (the float64 data are exact rationals and the chart is integral): first
for all points at once in C++ interval arithmetic (``lcnfast._core.certify_stratum_points``:
round-to-nearest operations widened by one ulp, data enclosed in float64 intervals); a point
this does not prove is tried again in 128-bit ball arithmetic (python-flint ``acb``). A box
around the point holds exactly one solution; boxes of the returned points are checked to be
pairwise disjoint (distinct points); a real point's box is symmetric
under conjugation, so its unique solution is real; and the box is proven to avoid the
degenerate forms (``a = 0``, ``b = 0``, colliding roots), so it is a true point of the
stratum. Paths that end on the same point (path jumping) or fail are tracked again along a
detour through random parameters before anything is returned; what cannot be recovered is
reported and warned about. A path the endgame cannot finish (no closed loop, or an estimate
that does not solve the equations), whose points tracked towards the data approach the forms
with ``a = 0`` or ``b = 0`` (their measure falling over three decades of ``1 - s`` by at
least 27x, at least 1.1x in each, to ``1e-6``) or whose roots approach each other (their
smallest chordal distance falling the same way, to ``1e-2``), ends on a degenerate form and
is counted ``degenerate``: with Bombieri-Weyl weights the forms with ``b = 0`` make up a set
the endgame's loops do not close around, and data with a multiple root draw paths to forms
whose roots collide there.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import warnings
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _saving
from ._validation import as_int, as_real_array, as_seed, resolve_threads
from ._progress import Progress, ProgressBar

_log = logging.getLogger(__name__)

__all__ = ["StratumCriticalPoints", "ed_degree", "generic_count", "start_system_cache", "stratum_critical_points"]

Poly = dict[tuple[int, ...], int]

# Charts X = a x + b y, Y = c x + d y with dyadic rational entries (exact in float64 and in
# the certification's rational arithmetic). A form with a root where Y vanishes (x/y = -d/c)
# is at infinity in that chart; the second chart, with another such point, finds those.
_CHARTS: tuple[tuple[Fraction, Fraction, Fraction, Fraction], ...] = (
    (Fraction(1), Fraction(5, 16), Fraction(-73, 128), Fraction(1)),
    (Fraction(1), Fraction(-37, 64), Fraction(11, 32), Fraction(1)),
)
_FORMAT = 2  # version of the cached start systems
_MONODROMY_STABLE_LOOPS = 5
_MONODROMY_MAX_LOOPS = 200
# The trace test: a start system passes when the second difference of the trace is below
# this, relative (a complete set gives about 1e-13 up to D = 8, one point left out 0.05 to 0.9).
_TRACE_TOLERANCE = 1e-6
_TRACE_ROUNDS = 4  # monodromy rounds (each until the set stops growing) before giving up
# The tracker's predictor tolerance before the endgame zone (1e-6 in it): paths that fail at
# this one are tracked again at the tighter one before anything else (trend test, detours).
_TOLERANCE = 1e-5
_TIGHT_TOLERANCE = 1e-6


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            out[e] = out.get(e, 0) + ca * cb
    return {e: c for e, c in out.items() if c != 0}


def _add(a: Poly, b: Poly) -> Poly:
    out = dict(a)
    for e, c in b.items():
        out[e] = out.get(e, 0) + c
    return {e: c for e, c in out.items() if c != 0}


def _groups(lam: tuple[int, ...]) -> list[tuple[int, int]]:
    """(part, multiplicity) of each group of equal parts, largest part first."""
    return [(a, lam.count(a)) for a in sorted(set(lam), reverse=True)]


def _chart_form(lam: tuple[int, ...]) -> list[Poly]:
    """The chart coefficients of ``prod_g q_g^{a_g}`` (``X^D, X^(D-1) Y, ..., Y^D``) as integer
    polynomials in the homogeneous unknowns ``(h, e)``."""
    groups = _groups(lam)
    N = 1 + sum(m for _, m in groups)
    unit = tuple([0] * N)
    chart: list[Poly] = [{unit: 1}]
    offset = 1
    for a, m in groups:
        q: list[Poly] = [{tuple(1 if k == 0 else 0 for k in range(N)): 1}]
        q += [{tuple(1 if k == offset + i else 0 for k in range(N)): 1} for i in range(m)]
        offset += m
        for _ in range(a):
            new: list[Poly] = [{} for _ in range(len(chart) + m)]
            for i, f in enumerate(chart):
                for k, g in enumerate(q):
                    new[i + k] = _add(new[i + k], _mul(f, g))
            chart = new
    return chart


@functools.lru_cache(maxsize=None)
def _chart_matrix(D: int, chart: int) -> tuple[tuple[Fraction, ...], ...]:
    """Exact ``R`` (K x K): column i holds the coefficients of ``X^(D-i) Y^i`` in the user's
    basis ``x^j y^(D-j)`` (row j)."""
    a, b, c, d = _CHARTS[chart]
    R = [[Fraction(0)] * (D + 1) for _ in range(D + 1)]
    for i in range(D + 1):
        column = [Fraction(1)]  # ascending powers of x (the rest is y)
        for factor in [(b, a)] * (D - i) + [(d, c)] * i:  # X = a x + b y, Y = c x + d y
            column = [sum((column[k] * factor[j - k] for k in range(len(column)) if 0 <= j - k < 2), Fraction(0))
                      for j in range(len(column) + 1)]
        for j in range(D + 1):
            R[j][i] = column[j]
    return tuple(tuple(row) for row in R)


# -- the form and its derivatives, from the product structure ------------------------------
def _jets(groups: list[tuple[int, int]], e: list[Any], poly: Any, K: int, second: bool) -> tuple[Any, Any, Any]:
    """Chart coefficients ``p`` of ``prod_g q_g^{a_g}`` at the affine unknowns ``e`` (``h = 1``),
    their first derivatives ``P[j]`` and (``second``) second derivatives ``P2[j][k]``, each a
    list of K coefficients. ``poly`` turns a coefficient list into a polynomial object with
    ``*`` and ``**`` (``numpy.polynomial.Polynomial`` or ``flint.acb_poly``), so the same code
    runs in floating point and in ball arithmetic: the derivatives come from the product rule,
    ``d p / d e_(g,i) = Y^i a_g q_g^(a_g - 1) prod_(g' != g) q_g'^(a_g')``."""
    qs, offsets = [], []
    offset = 0
    for a, m in groups:
        qs.append(poly([1] + list(e[offset:offset + m])))
        offsets.append(offset)
        offset += m
    G = len(groups)
    power = [[qs[g] ** (groups[g][0] - r) if groups[g][0] >= r else None for r in range(3)] for g in range(G)]

    def coeffs(f: Any, shift: int, scale: int) -> list[Any]:
        c = list(f.coef if hasattr(f, "coef") else f.coeffs())
        out = [0] * K
        for i, x in enumerate(c):
            if i + shift < K:
                out[i + shift] = x * scale
        return out

    def product(drop: dict[int, int]) -> Any:
        f = poly([1])
        for g in range(G):
            f = f * power[g][drop.get(g, 0)]
        return f

    p = coeffs(product({}), 0, 1)
    P: list[Any] = [None] * offset
    P2: list[list[Any]] = [[None] * offset for _ in range(offset)]
    for g, (a, m) in enumerate(groups):
        base = product({g: 1})
        for i in range(m):
            P[offsets[g] + i] = coeffs(base, i + 1, a)
    if second:
        for g, (a, m) in enumerate(groups):
            for h, (b, n) in enumerate(groups):
                if h < g:
                    continue
                if g == h:
                    if a < 2:
                        zero = [0] * K
                        for i in range(m):
                            for j in range(m):
                                P2[offsets[g] + i][offsets[g] + j] = zero
                        continue
                    f, scale = product({g: 2}), a * (a - 1)
                else:
                    f, scale = product({g: 1, h: 1}), a * b
                for i in range(m):
                    for j in range(n):
                        value = coeffs(f, i + j + 2, scale)
                        P2[offsets[g] + i][offsets[h] + j] = value
                        P2[offsets[h] + j][offsets[g] + i] = value
    return p, P, P2


def _numeric_jets(groups: list[tuple[int, int]], e: NDArray[np.complex128], K: int
                  ) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """``p`` (K,) and its first derivatives (K, n) in floating point: ``_jets`` without the
    second derivatives, written with ``numpy.convolve`` (it runs once per endpoint)."""
    qs, offsets = [], []
    offset = 0
    for _, m in groups:
        qs.append(np.concatenate(([1.0 + 0j], np.asarray(e[offset:offset + m], dtype=complex))))
        offsets.append(offset)
        offset += m

    def power(q: NDArray[np.complex128], k: int) -> NDArray[np.complex128]:
        out = np.ones(1, dtype=complex)
        for _ in range(k):
            out = np.convolve(out, q)
        return out

    def padded(f: NDArray[np.complex128], shift: int) -> NDArray[np.complex128]:
        out = np.zeros(K, dtype=complex)
        out[shift:shift + f.size] = f[:K - shift]
        return out

    full = [power(q, a) for q, (a, _) in zip(qs, groups)]
    less = [power(q, a - 1) for q, (a, _) in zip(qs, groups)]
    p = np.ones(1, dtype=complex)
    for f in full:
        p = np.convolve(p, f)
    P = np.zeros((K, offset), dtype=complex)
    for g, (a, m) in enumerate(groups):
        base = less[g] * a
        for h, f in enumerate(full):
            if h != g:
                base = np.convolve(base, f)
        for i in range(m):
            P[:, offsets[g] + i] = padded(base, i + 1)
    return padded(p, 0), P



def _forms(groups: list[tuple[int, int]], E: NDArray[np.complex128], K: int) -> NDArray[np.complex128]:
    """The chart coefficients ``p`` (M, K) of the forms at the rows of ``E`` (M, n): the
    first output of :func:`_numeric_jets` for many points at once."""
    M = E.shape[0]
    p = np.ones((M, 1), dtype=complex)
    offset = 0
    for a, m in groups:
        q = np.concatenate((np.ones((M, 1), dtype=complex), E[:, offset:offset + m]), axis=1)
        offset += m
        for _ in range(a):
            out = np.zeros((M, p.shape[1] + m), dtype=complex)
            for j in range(m + 1):
                out[:, j:j + p.shape[1]] += p * q[:, j:j + 1]
            p = out
    return p if p.shape[1] == K else np.pad(p, ((0, 0), (0, K - p.shape[1])))

# -- the family of a partition and its start system ---------------------------------------
@dataclass
class _Family:
    """A stratum's critical equations as a family over the parameters ``(w, Gc)``, with the
    start system: generic complex parameters ``q0`` and all their solutions."""

    lam: tuple[int, ...]
    groups: list[tuple[int, int]]
    n: int
    K: int
    begin: list[int]
    exps: list[int]
    coeff: list[float]
    patch: NDArray[np.complex128] = field(default_factory=lambda: np.zeros(0, dtype=complex))
    w0: NDArray[np.complex128] = field(default_factory=lambda: np.zeros(0, dtype=complex))
    G0: NDArray[np.complex128] = field(default_factory=lambda: np.zeros((0, 0), dtype=complex))
    starts: NDArray[np.complex128] = field(default_factory=lambda: np.zeros((0, 0), dtype=complex))
    loops: int = 0
    trace: float = math.nan  # the trace test's relative second difference (nan: not run)
    witnesses: int = 0  # the trace test's points of the curve on a general hyperplane

    @property
    def verified(self) -> bool:
        """The start system passed the trace test."""
        return self.trace <= _TRACE_TOLERANCE

    @property
    def N(self) -> int:
        return self.n + 1

    def track(self, q0: tuple[Any, Any], q1: tuple[Any, Any], starts: NDArray[np.complex128], *, endgame: bool,
              threads: int, tolerance: float = _TOLERANCE) -> tuple[Any, ...]:
        """Paths from q0 to q1; ``tolerance``: the predictor's, before the endgame zone."""
        result: tuple[Any, ...] = _core.track_stratum_paths(
            self.N, self.K, self.begin, self.exps, self.coeff, self.patch,
            np.ascontiguousarray(q0[0], dtype=complex), np.ascontiguousarray(q0[1], dtype=complex),
            np.ascontiguousarray(q1[0], dtype=complex), np.ascontiguousarray(q1[1], dtype=complex),
            np.ascontiguousarray(starts.reshape(-1, self.N), dtype=complex), endgame, 0.9, 20000, threads,
            tolerance, self.groups)
        return result

    def on_patch(self, e: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """Homogeneous coordinates (1, e) scaled onto the patch."""
        z = np.concatenate(([1.0 + 0j], e))
        return z / (self.patch @ z)


def _family_seed(lam: tuple[int, ...]) -> int:
    return zlib.crc32(repr(("lcnfast-stratum", _FORMAT, lam)).encode())


def _new_family(lam: tuple[int, ...]) -> _Family:
    groups = _groups(lam)
    n = sum(m for _, m in groups)
    D = sum(lam)
    form = _chart_form(lam)
    begin: list[int] = [0]
    exps: list[int] = []
    coeff: list[float] = []
    for f in form:
        for e, c in sorted(f.items()):
            exps.extend(e)
            coeff.append(float(c))
        begin.append(len(coeff))
    return _Family(lam=lam, groups=groups, n=n, K=D + 1, begin=begin, exps=exps, coeff=coeff, )


def _random_parameters(rng: np.random.Generator, K: int) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    A = rng.standard_normal((K, K)) + 1j * rng.standard_normal((K, K))
    w = rng.standard_normal(K) + 1j * rng.standard_normal(K)
    G: NDArray[np.complex128] = ((A + A.T) / 2).astype(complex)
    return w.astype(complex), G


def _distinct_new(known: NDArray[np.complex128], candidates: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Rows of candidates (affine) that are not in known nor repeated among themselves."""
    out = known
    for c in candidates:
        if out.shape[0] == 0 or np.min(np.linalg.norm(out - c, axis=1)) > 1e-6 * (1.0 + np.linalg.norm(c)):
            out = np.vstack([out, c[None, :]])
    return out[known.shape[0]:]


def _monodromy(family: _Family, threads: int) -> None:
    """Fills the family's start system: a seed solution at parameters built for it, then
    monodromy loops until the solution set has not grown for several loops, checked by the
    trace test; while the test fails, more loops (at most ``_TRACE_ROUNDS`` rounds)."""
    rng = np.random.default_rng(_family_seed(family.lam))
    K, n = family.K, family.n
    family.patch = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
    e_star = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    _, G0 = _random_parameters(rng, K)
    p, P = _numeric_jets(family.groups, e_star, K)
    g = G0 @ p
    b = p @ g
    bk = 2.0 * (P.T @ g)
    M = P.T * b - 0.5 * np.outer(bk, p)  # row j: the coefficients of w in F_j (F is linear in w)
    _, _, vh = np.linalg.svd(M)
    null = vh[n:].conj().T
    w0 = null @ (rng.standard_normal(null.shape[1]) + 1j * rng.standard_normal(null.shape[1]))
    family.w0, family.G0 = w0, G0
    q0 = (w0, G0)
    known = e_star[None, :]
    loops = 0
    for round_ in range(_TRACE_ROUNDS):
        quiet = 0
        while quiet < _MONODROMY_STABLE_LOOPS * (round_ + 1) and loops < _MONODROMY_MAX_LOOPS * (round_ + 1):
            loops += 1
            qa, qb = _random_parameters(rng, K), _random_parameters(rng, K)
            z = np.array([family.on_patch(e) for e in known])
            for start_q, end_q in ((q0, qa), (qa, qb), (qb, q0)):
                z_end, kind, *_ = family.track(start_q, end_q, z, endgame=False, threads=threads)
                z = z_end[kind == 0]
                if z.shape[0] == 0:
                    break
            if z.shape[0] == 0:
                quiet += 1
                continue
            new = _distinct_new(known, z[:, 1:] / z[:, :1])
            if new.shape[0]:
                known = np.vstack([known, new])
                quiet = 0
            else:
                quiet += 1
        family.starts = np.array([family.on_patch(e) for e in known])
        family.loops = loops
        family.trace, family.witnesses = _trace_test(family, rng, _MONODROMY_STABLE_LOOPS * (round_ + 1), threads)
        _log.info("stratum %s: %d start solutions after %d loops, trace %.1e (%d witnesses)", family.lam,
                  known.shape[0], loops, family.trace, family.witnesses)
        if family.verified:
            return


def _warn_unverified(family: _Family) -> None:
    if not family.verified:
        warnings.warn(f"lcnfast: the start system of the stratum {family.lam} ({family.starts.shape[0]} solutions) "
                      f"failed the trace test (trace {family.trace:.1e} > {_TRACE_TOLERANCE:g}): the generic count "
                      "may be too small, and results on this stratum are reported incomplete", RuntimeWarning,
                      stacklevel=3)


def _distinct_rows(Y: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """The rows of Y without repeats (to 1e-6 relative), in their order."""
    return Y[~np.triu(_close_pairs(Y, 1e-6), 1).any(axis=0)] if Y.shape[0] else Y


def _trace_test(family: _Family, rng: np.random.Generator, stable_loops: int, threads: int) -> tuple[float, int]:
    """The trace test (Leykin, Rodriguez and Sottile) of the family's start system.

    The curve ``C = {(z, t) : F(z; w0 + t dw, G0) = 0}`` over a random line of ``w`` (``F`` is
    linear in ``w``; the curve's main component is irreducible by Bertini's theorem) meets the
    hyperplane ``t = 0`` in the start system and a general hyperplane ``c . z = 0`` in the
    *witnesses* ``W``, found by monodromy in ``c`` (seeded from the start system: one path per
    start solution from a hyperplane through it). Along the pencil ``t (c . z) = -tau gamma``,
    the sum of the points of ``C`` is an affine function of ``tau`` exactly when the start
    system and ``W`` are complete; a missing point adds its own, non-affine, trace. Returns
    the relative second difference of the sum at ``tau = -0.1, 0, 0.1`` (0 for a complete
    set up to rounding; inf when paths were lost three times) and the number of witnesses.
    """
    N, K = family.N, family.K
    if N + 1 > _core.MAX_UNKNOWNS:
        # only (1, ..., 1) at D = 15: the stratum is a linear space, with one critical point
        return (0.0 if family.groups == [(1, family.n)] else math.inf), 0
    w1 = family.w0 + (rng.standard_normal(K) + 1j * rng.standard_normal(K))

    def track(c0: NDArray[np.complex128], c1: NDArray[np.complex128], alpha: complex, beta: complex,
              gamma: complex, Y: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], NDArray[np.bool_]]:
        y, kind = _core.track_trace_paths(N, K, family.begin, family.exps, family.coeff, family.patch, family.w0,
                                          family.G0, w1, family.G0, c0, c1, alpha, beta, gamma,
                                          np.ascontiguousarray(Y, dtype=complex), threads, family.groups)
        return y, kind == 0

    fibre = np.hstack([family.starts, np.zeros((family.starts.shape[0], 1), dtype=complex)])
    c = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    # a hyperplane through each start solution, moved to c: the first witnesses
    seeds = np.zeros((0, N + 1), dtype=complex)
    for y in fibre:
        through = c - (c @ y[:N]) / (family.patch @ y[:N]) * family.patch
        end, ok = track(through, c, 0.0, 1.0, 0.0, y[None, :])
        seeds = np.vstack([seeds, end[ok]])
    W = _distinct_rows(seeds)
    quiet = 0
    while quiet < stable_loops and W.shape[0]:
        ca = rng.standard_normal(N) + 1j * rng.standard_normal(N)
        cb = rng.standard_normal(N) + 1j * rng.standard_normal(N)
        Y = W
        for c0, c1 in ((c, ca), (ca, cb), (cb, c)):
            end, ok = track(c0, c1, 0.0, 1.0, 0.0, Y)
            Y = end[ok]
        merged = _distinct_rows(np.vstack([W, Y]))
        quiet = 0 if merged.shape[0] > W.shape[0] else quiet + 1
        W = merged
    S = np.vstack([fibre, W])
    for _ in range(3):
        gamma = np.exp(2j * np.pi * rng.random())
        ends = [track(c, c, 1.0, 0.0, tau * gamma, S) for tau in (0.1, -0.1)]
        if all(ok.all() for _, ok in ends):
            s0, s1, s2 = S.sum(axis=0), ends[0][0].sum(axis=0), ends[1][0].sum(axis=0)
            second = ((s1 - s0) - (s0 - s2)) / np.maximum(np.abs(s1 - s0), 1.0)
            return float(np.linalg.norm(second)), int(W.shape[0])
    return math.inf, int(W.shape[0])


_FAMILIES: dict[tuple[int, ...], _Family] = {}


def forget_start_systems() -> None:
    """Drop the start systems kept in memory (the disk cache is untouched): the next solve of
    each stratum loads or computes its start system again (benchmarks time the one-off solve)."""
    _FAMILIES.clear()


def start_system_cache() -> Path | None:
    """The folder where start systems are kept between sessions: ``LCNFAST_CACHE_DIR``, else
    ``~/.cache/lcnfast``; ``LCNFAST_CACHE_DIR=""`` (empty) turns the disk cache off (None)."""
    value = os.environ.get("LCNFAST_CACHE_DIR")
    if value is not None:
        return Path(value) if value else None
    return Path.home() / ".cache" / "lcnfast"


def _cache_file(lam: tuple[int, ...]) -> Path | None:
    folder = start_system_cache()
    if folder is None:
        return None
    return folder / f"strata-v{_FORMAT}" / ("stratum-" + "-".join(map(str, lam)) + ".npz")


def _fingerprint(family: _Family) -> str:
    """Ties a cached start system to the equations it solves (the form's terms and chart)."""
    text = repr((family.lam, family.begin, family.exps, family.coeff, _FORMAT))
    return hashlib.sha256(text.encode()).hexdigest()


def _load(family: _Family, path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["fingerprint"]) != _fingerprint(family):
                return False
            family.patch, family.w0, family.G0 = data["patch"], data["w0"], data["G0"]
            family.starts, family.loops = data["starts"], int(data["loops"])
            family.trace, family.witnesses = float(data["trace"]), int(data["witnesses"])
    except (OSError, KeyError, ValueError):
        return False  # unreadable or of another format: recomputed and rewritten
    return family.starts.ndim == 2 and family.starts.shape[1] == family.N


def _save(family: _Family, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _saving.write_atomically(path, lambda out: np.savez(
            out, fingerprint=_fingerprint(family), patch=family.patch, w0=family.w0, G0=family.G0,
            starts=family.starts, loops=family.loops, trace=family.trace, witnesses=family.witnesses))
    except OSError as exc:  # a read-only home is no reason to fail: the start system is recomputed
        warnings.warn(f"lcnfast: could not cache the start system in {path}: {exc}", RuntimeWarning, stacklevel=3)


def _family(lam: tuple[int, ...], threads: int) -> _Family:
    family = _FAMILIES.get(lam)
    if family is not None:
        return family
    family = _new_family(lam)
    path = _cache_file(lam)
    if path is None or not path.exists() or not _load(family, path):
        _monodromy(family, threads)
        if path is not None:
            _save(family, path)
    _FAMILIES[lam] = family
    return family


def generic_count(partition: Any, *, threads: int | None = None) -> int:
    """The number of complex critical points of ``(v-u)^T G (v-u)`` on ``Delta_lambda`` for
    generic data ``(G, u)``: the size of the stratum's start system.

    The start system is found once per partition by monodromy at random complex parameters,
    then kept (see :func:`start_system_cache`). Monodromy alone only stops when loops stop
    finding new solutions; the set is then checked by the trace test of Leykin, Rodriguez and
    Sottile (*Trace test*, Arnold Math. J. 2018, in its form for curves in a product of
    projective spaces): over a random line of parameters the solutions form a curve, and the
    sum of its points along a pencil of slices is affine exactly when no point is missing. A
    complete set passes with a trace of about 1e-13; a set missing one solution gives 0.05 to
    0.9. While the test fails, monodromy goes on (four rounds of growing length).

    Parameters
    ----------
    partition : sequence of int
        The partition ``lambda`` of ``D`` (any order).
    threads : int, optional
        Threads for the one-off computation (default: all cores).

    Returns
    -------
    int

    Warns
    -----
    RuntimeWarning
        If the start system failed the trace test: the count may be too small, and
        :func:`stratum_critical_points` reports its results on this stratum incomplete.

    Examples
    --------
    >>> import lcnfast
    >>> lcnfast.generic_count((3,)), lcnfast.generic_count((3, 1, 1))  # 3D - 2 for (D,)
    (7, 17)
    """
    family = _family(_partition(partition), resolve_threads(threads))
    _warn_unverified(family)
    return int(family.starts.shape[0])


# -- certification ------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _exact_chart_data(K: int, chart: int, G_bytes: bytes, u_bytes: bytes) -> tuple[Any, ...]:
    """``(R, wq, Gcq, w, G, intervals)`` for float64 data ``G`` (K x K) and ``u`` (K,)
    given as bytes: the chart matrix, the exact chart parameters ``w = R^T G u`` and
    ``Gc = R^T G R`` (python-flint ``fmpq_mat``), the same as balls (``acb_mat``, rounded
    once, to 128 bits), and as float64 enclosures ``(w_lo, w_hi, G_lo, G_hi)`` for the Krawczyk tests in
    C++ (None beyond the float64 range, where the ball arithmetic still works)."""
    import flint

    def exact(x: Any) -> Any:
        q = Fraction(x)
        return flint.fmpq(q.numerator, q.denominator)

    G = np.frombuffer(G_bytes, dtype=float).reshape(K, K)
    u = np.frombuffer(u_bytes, dtype=float)
    R = flint.fmpq_mat(K, K, [exact(x) for row in _chart_matrix(K - 1, chart) for x in row])
    Gq = flint.fmpq_mat(K, K, [exact(float(x)) for row in G for x in row])
    uq = flint.fmpq_mat(K, 1, [exact(float(x)) for x in u])
    wq = (R.transpose() * (Gq * uq)).transpose()
    Gcq = R.transpose() * Gq * R
    intervals: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None
    try:
        w_lo, w_hi = _enclosures([wq[0, i] for i in range(K)])
        G_lo, G_hi = _enclosures([Gcq[i, j] for i in range(K) for j in range(K)])
        intervals = (w_lo, w_hi, G_lo.reshape(K, K), G_hi.reshape(K, K))
    except OverflowError:
        intervals = None
    # the balls at the precision of the ball Krawczyk test (128 bits): rounded at the default
    # 53 bits, the data alone made F's enclosure 1e-16 of its terms wide, which near b = 0
    # (Bombieri-Weyl weights, terms 1e5 times F's size) the test could not absorb
    saved = flint.ctx.prec
    flint.ctx.prec = 128
    try:
        w_balls, G_balls = flint.acb_mat(wq), flint.acb_mat(Gcq)
    finally:
        flint.ctx.prec = saved
    return R, wq, Gcq, w_balls, G_balls, intervals


class _Certifier:
    """Krawczyk tests of a stratum's critical equations in ball arithmetic, for exact data."""

    def __init__(self, family: _Family, chart: int, G: NDArray[np.float64], u: NDArray[np.float64]) -> None:
        import flint

        self.flint = flint
        self.family = family
        # the exact chart parameters depend on the data and the chart, not on the stratum:
        # shared by the strata of one data set
        data = _exact_chart_data(family.K, chart, np.ascontiguousarray(G, dtype=float).tobytes(),
                                 np.ascontiguousarray(u, dtype=float).tobytes())
        self.R, self.wq, self.Gcq, self.w, self.G = data[:5]
        self.intervals: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                              NDArray[np.float64]] | None = data[5]
        self.R_inverse: Any = None
        self.box_bounds: NDArray[np.float64] | None = None  # the last box taken from certify_many
        self.centre: NDArray[np.complex128] = np.zeros(0, dtype=complex)
        self._box: list[Any] | None = []  # the last proven box (None: build it from box_bounds)
        self.ab_nonzero = False   # whether a = w.p and b = p.Gc p exclude 0 on it
        # per proven row of the last certify_many: centre, radius, box, a and b nonzero, and
        # nondegenerate() when decided for all rows at once (None: decided per point)
        self.batch: dict[int, tuple[NDArray[np.complex128], float, NDArray[np.float64], bool, bool | None]] = {}
        self._nondegenerate: bool | None = None  # nondegenerate() of the last proven box

    def _evaluate(self, e: list[Any], second: bool) -> tuple[Any, Any, Any, Any, Any]:
        fl = self.flint
        fam = self.family
        K, n = fam.K, fam.n
        p, P, P2 = _jets(fam.groups, e, fl.acb_poly, K, second)
        pm = fl.acb_mat(K, 1, [fl.acb(x) for x in p])
        Pm = fl.acb_mat(K, n, [fl.acb(P[j][a]) for a in range(K) for j in range(n)])
        g = self.G * pm
        a = (self.w * pm)[0, 0]
        b = (pm.transpose() * g)[0, 0]
        ak = self.w * Pm  # 1 x n
        bk = (g.transpose() * Pm) * 2  # 1 x n
        F = [ak[0, j] * b - a * bk[0, j] / 2 for j in range(n)]
        J = None
        if second:
            P2m = fl.acb_mat(K, n * n, [fl.acb(P2[j][k][al]) for al in range(K) for j in range(n) for k in range(n)])
            A2 = self.w * P2m
            B2 = g.transpose() * P2m
            PtGP = Pm.transpose() * (self.G * Pm)
            J = fl.acb_mat(n, n)
            for j in range(n):
                for k in range(n):
                    bjk = (B2[0, j * n + k] + PtGP[j, k]) * 2
                    J[j, k] = A2[0, j * n + k] * b + ak[0, j] * bk[0, k] - (ak[0, k] * bk[0, j] + a * bjk) / 2
        return F, J, a, b, pm

    def certify_many(self, E: NDArray[np.complex128], real: NDArray[np.bool_], threads: int
                     ) -> NDArray[np.bool_]:
        """Krawczyk tests around every row of ``E`` at once, in C++ interval arithmetic
        (``lcnfast._core.certify_stratum_points``); which were proven. Rows not proven here
        may still be proven by :meth:`certify` (128-bit balls). A proven row's box, refined
        point and whether ``a``, ``b`` exclude 0 on the box are kept for :meth:`take` and
        :meth:`nondegenerate`."""
        self.batch = {}
        if self.intervals is None or E.shape[0] == 0:
            return np.zeros(E.shape[0], dtype=bool)
        fam = self.family
        proven, radius, centre, box, a_ok, b_ok = _core.certify_stratum_points(
            fam.N, fam.K, fam.begin, fam.exps, fam.coeff, *self.intervals,
            np.ascontiguousarray(E, dtype=complex), [bool(r) for r in real], threads)
        decided: NDArray[np.bool_] | None = None
        if all(m == 1 for _, m in fam.groups):
            # nondegenerate() for all rows at once: one root per group, X + e_g Y, so the roots
            # are distinct where the boxes of the e_g are disjoint in some coordinate (exact
            # comparisons of their float bounds: re lo, re hi, im lo, im hi)
            decided = np.asarray(a_ok, dtype=bool) & np.asarray(b_ok, dtype=bool) & _boxes_apart(box)
        for i in np.flatnonzero(proven):
            self.batch[int(i)] = (centre[i], float(radius[i]), box[i], bool(a_ok[i] and b_ok[i]),
                                  None if decided is None else bool(decided[i]))
        return np.asarray(proven, dtype=bool)

    def take(self, i: int) -> tuple[bool, float]:
        """Makes row ``i`` of the last :meth:`certify_many` the last proven point (as
        :meth:`certify` does): ``(proven, radius)``."""
        if i not in self.batch:
            return False, 0.0
        centre, radius, box, ab_ok, decided = self.batch[i]
        self.centre = centre
        self._box = None  # as balls when needed (nondegenerate, exact_degeneracy)
        self.box_bounds = np.asarray(box, dtype=float)
        self.ab_nonzero = ab_ok
        self._nondegenerate = decided
        return True, radius

    @property
    def box(self) -> list[Any]:
        """The last proven box as python-flint complex balls (one per unknown)."""
        if self._box is None:
            fl = self.flint

            def ball(lo: float, hi: float) -> Any:
                return fl.arb(lo).union(fl.arb(hi))

            assert self.box_bounds is not None
            self._box = [fl.acb(ball(b[0], b[1]), ball(b[2], b[3])) for b in self.box_bounds]
        return self._box

    def certify(self, x: NDArray[np.complex128], real: bool) -> tuple[bool, float]:
        """Krawczyk test around ``x``: (proven, radius). With ``real``, the box is centred on
        the real line, so the unique solution it holds is real.

        The centre is polished by Newton steps with residuals in 128-bit ball arithmetic
        until the step is below ``1e-10`` relative (the tracker's endpoints, refined to double
        precision, usually are at once); the box around that centre then grows from
        four times the last Newton step by epsilon-inflation (Rump) until the Krawczyk
        operator maps it into its interior. The Krawczyk operator may be taken at any point
        of the box, so the box need not be centred on the solution: it only has to hold it,
        and its size is what the test proves. The point returned (``self.centre``) is the
        centre minus the last Newton step."""
        fl = self.flint
        n = self.family.n
        saved = fl.ctx.prec
        fl.ctx.prec = 128
        try:
            centre = np.real(x).astype(complex) if real else np.asarray(x, dtype=complex)
            Y = None
            for _ in range(4):
                point = [fl.acb(complex(c)) for c in centre]
                F, J, _, _, _ = self._evaluate(point, True)
                assert J is not None
                Jmid = np.array([[complex(J[j, k].mid()) for k in range(n)] for j in range(n)])
                try:
                    Y = np.linalg.inv(Jmid)
                except np.linalg.LinAlgError:
                    return False, 0.0
                step = Y @ np.array([complex(f.mid()) for f in F])
                if real:
                    step = step.real.astype(complex)
                if not np.all(np.isfinite(step)):
                    return False, 0.0
                if np.linalg.norm(step) <= 1e-10 * (1.0 + np.linalg.norm(centre)):
                    break  # close: F and Y above belong to this centre
                centre = centre - step
            else:
                point = [fl.acb(complex(c)) for c in centre]
                F, _, _, _, _ = self._evaluate(point, False)
            assert Y is not None
            correction = Y @ np.array([complex(f.mid()) for f in F])
            if real:
                correction = correction.real.astype(complex)
            delta = np.abs(correction)
            radii = 4.0 * delta + 1e-13 * (1.0 + np.abs(centre))  # 1e-15 failed first and grew
            Ym = fl.acb_mat(n, n, [fl.acb(complex(Y[j, k])) for j in range(n) for k in range(n)])
            Fm = fl.acb_mat(n, 1, F)
            identity = fl.acb_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
            base = fl.acb_mat(n, 1, point) - Ym * Fm
            for _ in range(12):
                box = [fl.acb(fl.arb(c.real, r), fl.arb(c.imag, r)) for c, r in zip(centre, radii)]
                _, JX, a, b, _ = self._evaluate(box, True)
                assert JX is not None
                offset = fl.acb_mat(n, 1, [box[i] - point[i] for i in range(n)])
                Kx = base + (identity - Ym * JX) * offset
                if all(box[i].contains_interior(Kx[i, 0]) for i in range(n)):
                    self.centre = centre - correction if np.all(np.isfinite(correction)) else centre
                    self._box = box  # for nondegenerate()
                    self.box_bounds = None
                    self._nondegenerate = None
                    self.ab_nonzero = not (a.contains(0) or b.contains(0))
                    return True, float(np.max(radii))
                reach = np.array([float((Kx[i, 0] - point[i]).abs_upper()) for i in range(n)])
                if not np.all(np.isfinite(reach)):
                    return False, 0.0
                radii = 2.0 * np.maximum(radii, reach)
            return False, 0.0
        finally:
            fl.ctx.prec = saved

    def nondegenerate(self) -> bool:
        """Whether every point of the box of the last proven :meth:`certify` (which holds its
        unique solution) is a point of the stratum: ``a, b != 0`` there (enclosures from the
        Krawczyk test's own evaluation on the box) and the roots of the groups pairwise
        distinct (discriminants and resultants exclude 0)."""
        if self._nondegenerate is None:
            self._nondegenerate = self._decide_nondegenerate()
        return self._nondegenerate

    def _decide_nondegenerate(self) -> bool:
        fl = self.flint
        if self.box_bounds is None and not self._box:
            raise RuntimeError("nondegenerate() needs a proven certify() first")
        if not self.ab_nonzero:
            return False
        if all(m == 1 for _, m in self.family.groups) and self.box_bounds is not None:
            # one root per group, X + e_g Y: the roots are distinct where the e_g are, which
            # boxes disjoint in a coordinate prove (exact comparisons of their float bounds)
            return bool(_boxes_apart(self.box_bounds[None])[0])
        box = self.box
        monic = []
        offset = 0
        for _, m in self.family.groups:
            monic.append([fl.acb(1)] + box[offset:offset + m])  # X^m + e_1 X^(m-1) + ... (highest first)
            offset += m
        for i, f in enumerate(monic):
            if len(f) > 2:
                derivative = [c * (len(f) - 1 - k) for k, c in enumerate(f[:-1])]
                if _sylvester_det(fl, f, derivative).contains(0):
                    return False
            for g in monic[i + 1:]:
                if _sylvester_det(fl, f, g).contains(0):
                    return False
        return True

    def exact_degeneracy(self, v: NDArray[np.complex128]) -> bool | None:
        """Decides exactly, for the box of the last proven :meth:`certify` whose
        non-degeneracy the balls could not show, whether its unique solution is degenerate
        (True) or a point of the stratum (False), when that solution is a form with rational
        coefficients of small height (the typical case: data whose own filter ``u`` has a
        multiple root, met again on a stratum it does not lie on). ``v`` is the solution in
        the user's coefficients.

        The candidate is ``v`` rounded to nearby rationals (denominators up to 10^6); its
        chart form is factored over Q and the factors are dealt to the stratum's groups as
        the numerical roots say. It is accepted only if the resulting unknowns lie in the
        box and satisfy the critical equations exactly, which makes them the box's unique
        solution; then ``a, b`` and the roots of the groups are tested exactly. None when no
        such point is found (the caller then decides numerically)."""
        fl = self.flint
        fam = self.family
        centre = self.centre
        if not self.box or centre.size == 0 or not (np.all(np.isfinite(centre)) and np.all(np.isfinite(v))):
            return None
        if float(np.max(np.abs(v.imag))) > 1e-8 * (1.0 + float(np.max(np.abs(v)))):
            return None  # not a real form
        if self.R_inverse is None:
            self.R_inverse = self.R.inv()
        # each group's numerical roots (in the chart's variable t: q_g = 1 + e_1 t + ... + e_m t^m)
        group_roots, offset = [], 0
        for _, m in fam.groups:
            coefficients = np.concatenate([[1.0], centre[offset:offset + m]])
            if abs(coefficients[-1]) == 0.0:
                return None
            group_roots.append(np.roots(coefficients[::-1]))
            offset += m
        tried = set()
        for bound in (10**2, 10**4, 10**6):
            q = tuple(Fraction(float(x.real)).limit_denominator(bound) for x in v)
            if q in tried or not any(q):
                continue
            tried.add(q)
            p = self.R_inverse * fl.fmpq_mat(fam.K, 1, [fl.fmpq(x.numerator, x.denominator) for x in q])
            if p[0, 0] == 0 or p[fam.K - 1, 0] == 0:
                continue  # not in this chart's affine part, or of lower degree
            form = fl.fmpq_poly([p[i, 0] / p[0, 0] for i in range(fam.K)])
            _, factors = form.factor()
            # deal each irreducible factor's roots to the groups whose numerical roots lie nearest
            factor_roots = [np.roots([float(c) for c in reversed(f.coeffs())]) for f, _ in factors]
            every = np.concatenate(factor_roots)
            owner = np.concatenate([[i] * len(r) for i, r in enumerate(factor_roots)])
            counts = np.zeros((len(factors), len(fam.groups)), dtype=int)
            for g, roots in enumerate(group_roots):
                for z in roots:
                    counts[owner[int(np.argmin(np.abs(every - z)))], g] += 1
            degrees = np.array([f.degree() for f, _ in factors])
            if np.any(counts % degrees[:, None]):
                continue
            powers = counts // degrees[:, None]
            groups = []
            for g in range(len(fam.groups)):
                h = fl.fmpq_poly([1])
                for i, (f, _) in enumerate(factors):
                    h *= (f / f.coeffs()[0]) ** int(powers[i, g])  # constant term 1
                groups.append(h)
            product = fl.fmpq_poly([1])
            for (a_g, m), h in zip(fam.groups, groups):
                if h.degree() != m:
                    break
                product *= h ** a_g
            else:
                if product != form:
                    continue
                e = [c for h in groups for c in h.coeffs()[1:]]
                if not all(self.box[i].contains(fl.acb(e[i])) for i in range(fam.n)):
                    continue
                equations, a, b = self._exact_equations(e)
                if any(F != 0 for F in equations):
                    continue
                if a == 0 or b == 0:
                    return True
                for i, f in enumerate(groups):
                    if f.degree() > 1 and f.gcd(f.derivative()).degree() > 0:
                        return True
                    if any(f.gcd(h).degree() > 0 for h in groups[i + 1:]):
                        return True
                return False
        return None

    def _exact_equations(self, e: list[Any]) -> tuple[list[Any], Any, Any]:
        """The critical equations ``a_j b - a b_j / 2`` at rational unknowns, and ``a = w.p``,
        ``b = p.Gc p`` there, exactly."""
        fl = self.flint
        fam = self.family
        p, P, _ = _jets(fam.groups, e, fl.fmpq_poly, fam.K, False)
        pm = fl.fmpq_mat(fam.K, 1, p)
        Pm = fl.fmpq_mat(fam.K, fam.n, [P[j][k] for k in range(fam.K) for j in range(fam.n)])
        g = self.Gcq * pm
        a = (self.wq * pm)[0, 0]
        b = (pm.transpose() * g)[0, 0]
        ak = self.wq * Pm
        gk = g.transpose() * Pm
        return [ak[0, j] * b - a * gk[0, j] for j in range(fam.n)], a, b


def _boxes_apart(boxes: ArrayLike) -> NDArray[np.bool_]:
    """For boxes of shape (P, n, 4) (per unknown: re lo, re hi, im lo, im hi), whether the
    n rectangles of each box are pairwise disjoint, by exact comparisons of their bounds."""
    b = np.asarray(boxes, dtype=float)
    apart = ((b[:, :, None, 1] < b[:, None, :, 0]) | (b[:, None, :, 1] < b[:, :, None, 0])
             | (b[:, :, None, 3] < b[:, None, :, 2]) | (b[:, None, :, 3] < b[:, :, None, 2]))
    upper = np.triu(np.ones((b.shape[1], b.shape[1]), dtype=bool), 1)
    return np.asarray(np.all(apart | ~upper, axis=(1, 2)), dtype=bool)


def _enclosures(values: list[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Float64 bounds ``lo <= q <= hi`` of exact rationals (python-flint ``fmpq``), each at
    most one ulp from ``q``. Raises ``OverflowError`` beyond the float64 range."""
    lo = np.empty(len(values))
    hi = np.empty(len(values))
    for i, x in enumerate(values):
        q = Fraction(int(x.p), int(x.q))
        f = float(q)  # correctly rounded (integer true division)
        if not math.isfinite(f):
            raise OverflowError("beyond float64")
        lo[i] = f if Fraction(f) <= q else math.nextafter(f, -math.inf)
        hi[i] = f if Fraction(f) >= q else math.nextafter(f, math.inf)
    return lo, hi


def _sylvester_det(fl: Any, f: list[Any], g: list[Any]) -> Any:
    """Resultant of two univariate polynomials (coefficients highest first), in balls."""
    m, n = len(f) - 1, len(g) - 1
    size = m + n
    rows = []
    for i in range(n):
        rows.append([fl.acb(0)] * i + list(f) + [fl.acb(0)] * (size - m - 1 - i))
    for i in range(m):
        rows.append([fl.acb(0)] * i + list(g) + [fl.acb(0)] * (size - n - 1 - i))
    return fl.acb_mat(size, size, [x for row in rows for x in row]).det()


# -- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StratumCriticalPoints:
    """Complex critical points of ``l`` restricted to the stratum ``Delta_lambda``.

    Attributes
    ----------
    v : ndarray, shape (m, D+1), complex
        The critical forms (coefficients in the user's basis).
    roots : ndarray, shape (m, r), complex
        The distinct roots ``x/y`` of each form, one per part of ``lambda`` (``inf`` for a
        root at infinity), in the order of :attr:`partition`.
    partition : tuple of int
    is_real : ndarray of bool, shape (m,)
        Real critical points (proven real when :attr:`certified`).
    loss : ndarray, shape (m,)
        ``l(v)`` (real part) at each.
    certified : ndarray of bool, shape (m,)
        A Krawczyk test proved that a box around the point holds exactly one solution of the
        critical equations, that it is a point of the stratum (not a degenerate form) and,
        for a real point, that the solution is real; the boxes are pairwise disjoint.
        Singular solutions (see ``multiplicity``) cannot be certified this way.
    multiplicity : ndarray of int, shape (m,)
        The number of paths that ended at each point: 1 for a nonsingular solution, more for
        a singular (multiple) one, which is found to the accuracy of the endgame and
        returned with ``certified=False``.
    paths : int
        Paths tracked (the generic count, plus paths tracked again along detours).
    path_counts : dict of str to int
        How the paths ended: ``regular`` (at a nonsingular point of the stratum),
        ``singular`` (at a singular solution on the stratum, counted per path),
        ``degenerate`` (at a form that is not on the stratum: ``v = 0``, no finite optimal
        scale, or colliding roots; also a path the endgame cannot finish whose points,
        tracked towards the data, approach ``a = 0`` or ``b = 0``), ``at_infinity``,
        ``failed`` (could not be followed even along a detour), ``duplicate`` (ended on a
        certified nonsingular point that another path reached, even along a detour: a path
        jumped).
    generic_count : int
        The number of complex critical points for generic data (:func:`generic_count`).
    complete : bool
        Every path was accounted for (none failed, none left as a duplicate) and the start
        system passed the trace test (:func:`generic_count`): by the parameter-homotopy
        theorem every isolated critical point is then among the endpoints, so for generic
        data ``n_complex == generic_count``.
    provenance : dict or None
        Where a result loaded by :meth:`load` came from (:func:`lcnfast.provenance`
        when it was first saved); None for a result computed in this session. Not compared.
    """

    v: NDArray[np.complex128]
    roots: NDArray[np.complex128]
    partition: tuple[int, ...]
    is_real: NDArray[np.bool_]
    loss: NDArray[np.float64]
    certified: NDArray[np.bool_]
    multiplicity: NDArray[np.int64]
    paths: int
    path_counts: dict[str, int]
    generic_count: int
    complete: bool
    provenance: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def n_complex(self) -> int:
        """The number of distinct complex critical points."""
        return int(self.v.shape[0])

    @property
    def n_real(self) -> int:
        """The number of real ones."""
        return int(self.is_real.sum())

    @property
    def all_certified(self) -> bool:
        """Every returned point is certified."""
        return bool(np.all(self.certified))

    def real_root_counts(self) -> NDArray[np.int64]:
        """For each critical form, its real roots with multiplicity (from the stratum's
        structure, so exact multiplicities rather than numerically split clusters)."""
        lam = np.array(self.partition)
        tol = 1e-8 * (1.0 + np.abs(np.where(np.isfinite(self.roots), self.roots, 0)))
        real = np.isinf(self.roots.real) | (np.abs(self.roots.imag) <= tol)
        return np.asarray((real * lam).sum(axis=1), dtype=np.int64)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.path_counts.items() if v)
        return (f"StratumCriticalPoints(partition={self.partition}, complex={self.n_complex}, real={self.n_real}, "
                f"certified={int(self.certified.sum())}, generic_count={self.generic_count}, "
                f"complete={self.complete}, paths={self.paths}: {counts})")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the critical points to one ``.npz`` file (arrays, fields and provenance; no
        pickle).

        The arrays (``v``, ``roots``, ``loss``, ...) are entries of the archive; the partition,
        the path statistics and :func:`lcnfast.provenance` (kept from the file for
        a loaded result) are JSON metadata. The file is written atomically, exactly at
        ``path``.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write (the folder must exist; a file or link already there is replaced).

        Returns
        -------
        pathlib.Path
            The file written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> import lcnfast
        >>> found = lcnfast.stratum_critical_points((2,), np.eye(3), [1.0, 0.0, 2.0])
        >>> path = found.save(pathlib.Path(tempfile.mkdtemp()) / "stratum.npz")
        >>> np.array_equal(lcnfast.StratumCriticalPoints.load(path).v, found.v)
        True
        """
        return _saving.save_dataclass(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StratumCriticalPoints:
        """Load critical points saved by :meth:`save`, field for field (arrays bit for bit,
        dtypes kept); :attr:`provenance` says where they came from.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        StratumCriticalPoints

        Raises
        ------
        ValueError
            Naming ``path``: not an lcnfast file, a file of another class, or of a newer
            format version.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> import lcnfast
        >>> found = lcnfast.stratum_critical_points((2,), np.eye(3), [1.0, 0.0, 2.0])
        >>> loaded = lcnfast.StratumCriticalPoints.load(found.save(pathlib.Path(tempfile.mkdtemp()) / "s.npz"))
        >>> loaded.partition, loaded.n_complex == found.n_complex, loaded.provenance is not None
        ((2,), True, True)
        """
        return _saving.load_dataclass(cls, path)


def _partition(partition: Any) -> tuple[int, ...]:
    if isinstance(partition, (str, bytes)) or not hasattr(partition, "__iter__"):
        raise TypeError(f"partition: expected a sequence of positive integers, got {partition!r}")
    lam = tuple(sorted((as_int(p, "partition", minimum=1) for p in partition), reverse=True))
    if not lam:
        raise ValueError("partition: needs at least one part")
    if sum(lam) > 12:
        raise ValueError(f"partition: degree D = sum(partition) <= 12 is supported, got {sum(lam)}")
    return lam


def _chart_parameters(family: _Family, chart: int, G: NDArray[np.float64], u: NDArray[np.float64]
                      ) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    R = np.array(_chart_matrix(family.K - 1, chart), dtype=float)
    return (R.T @ (G @ u)).astype(complex), (R.T @ G @ R).astype(complex)


def _user_roots(family: _Family, chart: int, e: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """The distinct roots x/y in the user's coordinates, one per part of lambda."""
    roots: NDArray[np.complex128] = _user_roots_many(family, chart, np.asarray(e, dtype=complex)[None, :])[0]
    return roots


def _chart_roots_many(groups: list[tuple[int, int]], E: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """The distinct roots, one per part of lambda, of the forms at the rows of ``E`` (M, n)
    in the chart's own coordinate ``t`` (a group's factor ``X^m + e_1 X^(m-1) Y + ...``
    vanishes at ``X/Y = -t``): (M, parts)."""
    M = E.shape[0]
    parts = []
    offset = 0
    for _, m in groups:
        coeffs = E[:, offset:offset + m]
        offset += m
        if m == 1:
            parts.append(coeffs)
        else:  # the companion matrices of numpy.roots, all at once
            A = np.zeros((M, m, m), dtype=complex)
            A[:, 0, :] = -coeffs
            A[:, np.arange(1, m), np.arange(m - 1)] = 1.0
            parts.append((-np.linalg.eigvals(A)).astype(complex) if M else np.zeros((0, m), dtype=complex))
    return np.concatenate(parts, axis=1) if parts else np.zeros((M, 0), dtype=complex)


def _user_roots_many(family: _Family, chart: int, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """:func:`_user_roots` for every row of ``E`` (M, n) at once: (M, parts)."""
    a, b, c, d = (float(x) for x in _CHARTS[chart])
    ts = _chart_roots_many(family.groups, E)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = a + ts * c
        return np.where(np.abs(denom) > 1e-300, -(b + ts * d) / denom, complex(np.inf))


def _root_separation(groups: list[tuple[int, int]], E: NDArray[np.complex128]) -> NDArray[np.float64]:
    """The smallest chordal distance ``|x - y| / sqrt((1 + |x|^2)(1 + |y|^2))`` between two
    distinct roots (:func:`_chart_roots_many`) of each form at the rows of ``E``: (M,), 1
    for a form with a single root. The chart's coordinate is a real Moebius transform of the
    user's, which changes chordal distances by bounded factors only: roots that collide in
    one coordinate collide in the other, at the same rate."""
    return _min_chordal(_chart_roots_many(groups, E))


def _min_chordal(ts: NDArray[np.complex128]) -> NDArray[np.float64]:
    """The smallest chordal distance between two entries of each row of ``ts`` (M, n),
    points of the Riemann sphere (``inf`` allowed: two of them are at distance 0); 1 for
    rows of fewer than two points."""
    M, n = ts.shape
    if n < 2:
        return np.ones(M)
    small = np.abs(ts) <= 1.0  # homogeneous coordinates (t, 1) or (1, 1 / t): no overflow
    with np.errstate(divide="ignore", invalid="ignore"):
        h0 = np.where(small, ts, 1.0)
        h1 = np.where(small, 1.0, 1.0 / ts)
    norm = np.sqrt(np.abs(h0) ** 2 + np.abs(h1) ** 2)
    i, j = np.triu_indices(n, 1)
    chordal = np.abs(h0[:, i] * h1[:, j] - h1[:, i] * h0[:, j]) / (norm[:, i] * norm[:, j])
    return np.asarray(np.min(np.where(np.isfinite(chordal), chordal, 0.0), axis=1), dtype=float)


def stratum_critical_points(partition: Any, G: ArrayLike, u: ArrayLike, *, seed: Any = 0,
                            threads: int | None = None, progress: Progress = False,
                            certify: bool = True, rng: Any = None) -> StratumCriticalPoints:
    """All complex critical points of ``l(v) = (v-u)^T G (v-u)`` on ``Delta_lambda``, certified.

    Parameter homotopy from the stratum's cached start system (see the module docstring):
    one path per critical point of generic data, each ending regular, singular, at infinity
    or failed; failed paths and paths that end on a point already reached are tracked again
    along detours through random parameters (seeded by ``seed``); every returned point is
    certified by a Krawczyk test in ball arithmetic. The returned set does not depend on
    ``seed`` or ``threads`` (only the detours, needed rarely, use ``seed``).

    Parameters
    ----------
    partition : sequence of int
        ``lambda``: positive parts adding up to ``D`` (``D <= 12``).
    G : array_like, shape (D+1, D+1)
        Symmetric weights (need not be definite).
    u : array_like, shape (D+1,)
    seed : int, numpy.random.Generator or None
        Seeds the detours for lost paths (the points returned do not depend on it).
    rng : int or numpy.random.Generator, optional
        The same as ``seed``, under the name SPEC 7 recommends (give one of the two).
    threads : int, optional
        C++ threads over the paths (default: all cores); results do not depend on it.
    progress : bool or callable
        True: a progress bar over the paths (tqdm if installed); a callable gets
        ``(paths_done, paths)``. Ctrl-C stops the continuation with ``KeyboardInterrupt``.
    certify : bool
        Run the Krawczyk tests (default). False skips them (``certified`` is then all False).

    Returns
    -------
    StratumCriticalPoints
        With the path statistics (``path_counts``, ``complete``, ``generic_count``). A
        ``RuntimeWarning`` names what could not be recovered (failed paths, duplicates,
        nonsingular points that could not be certified); singular (multiple) points are
        returned with their ``multiplicity`` and ``certified=False``.
    """
    lam = _partition(partition)
    D = sum(lam)
    K = D + 1
    Gm = as_real_array(G, "G")
    target = as_real_array(u, "u")
    if Gm.shape != (K, K):
        raise ValueError(f"G: expected shape ({K}, {K}) for a partition of {D}, got {Gm.shape}")
    if not np.array_equal(Gm, Gm.T):
        raise ValueError("G: must be symmetric")
    if target.shape != (K,):
        raise ValueError(f"u: expected shape ({K},), got {target.shape}")
    if not np.any(Gm):
        raise ValueError("G: the zero matrix makes every form critical")
    seed_value = as_seed(seed, rng=rng)
    n_threads = resolve_threads(threads)
    family = _family(lam, n_threads)
    scale = float(np.max(np.abs(Gm)))
    # the equations are homogeneous in G: scale it to unit size (exact: a power of two; ldexp
    # also for subnormal G, where 2.0 ** 1074 would overflow)
    Gs = np.ldexp(Gm, -math.frexp(scale)[1])
    n_starts = family.starts.shape[0]
    bar = ProgressBar(n_starts, progress, unit="path", desc=f"lcnfast: stratum {lam}") if progress else None
    rng = np.random.default_rng(seed_value)
    try:
        rows, counts, paths = _solve_in_chart(family, 0, Gs, target, rng, n_threads, certify, bar)
        if counts["at_infinity"] or counts["failed"] or (certify and not all(r[3] or r[5] > 1 for r in rows)):
            # a point with a root where the first chart's Y vanishes is at infinity there, and
            # one with a root near it is badly scaled (its box cannot be certified): the
            # second chart sees both as ordinary points
            more, counts2, paths2 = _solve_in_chart(family, 1, Gs, target, rng, n_threads, certify, None)
            paths += paths2
            rows = _merge(rows + more)
            counts = {key: counts2[key] for key in counts}
            counts["regular"] = len(rows)
    finally:
        if bar is not None:
            bar.close()
    # real points first, then by loss, then by the coordinates (rounded, so that the order
    # does not depend on the last bits): one stable lexicographic sort
    V0 = np.array([r[0] for r in rows], dtype=complex).reshape(-1, K)
    diff = V0 - target
    row_losses = np.real(np.einsum("ij,jk,ik->i", diff, Gm, diff))
    keys = ([np.round(V0.imag[:, j], 12) for j in reversed(range(K))]
            + [np.round(V0.real[:, j], 12) for j in reversed(range(K))]
            + [row_losses, np.array([not r[2] for r in rows], dtype=bool)])
    order = np.lexsort(keys) if rows else np.zeros(0, dtype=np.int64)
    rows = [rows[i] for i in order]
    V = np.array([r[0] for r in rows], dtype=complex).reshape(-1, K)
    roots = np.array([r[1] for r in rows], dtype=complex).reshape(-1, len(lam))
    real = np.array([r[2] for r in rows], dtype=bool)
    certified = np.array([r[3] for r in rows], dtype=bool)
    multiplicity = np.array([r[5] for r in rows], dtype=np.int64)
    losses = np.asarray(row_losses[order], dtype=float)
    complete = counts["failed"] == 0 and counts["duplicate"] == 0 and family.verified
    _warn_unverified(family)
    _log.info("stratum %s: %d paths tracked; %s; %d point(s), %d real, %d certified", lam, paths,
              ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items()), len(rows),
              int(real.sum()), int(certified.sum()))
    lost = [f"{counts[k]} {k.replace('_', ' ')}" for k in ("failed", "duplicate") if counts[k]]
    if lost:
        warnings.warn(f"lcnfast: stratum {lam}: {', '.join(lost)} path(s) could not be recovered; the enumeration "
                      "may be incomplete", RuntimeWarning, stacklevel=2)
    uncertified = int(np.sum(~certified & (multiplicity == 1))) if certify else 0
    if uncertified:
        warnings.warn(f"lcnfast: stratum {lam}: {uncertified} point(s) could not be certified (returned with "
                      "certified=False)", RuntimeWarning, stacklevel=2)
    # singular (multiple) points are returned, not lost: their multiplicity and certified=False say so
    return StratumCriticalPoints(v=V, roots=roots, partition=lam, is_real=real, loss=losses, certified=certified,
                                 multiplicity=multiplicity, paths=paths, path_counts=counts, generic_count=int(n_starts), complete=complete)


_Row = tuple[NDArray[np.complex128], NDArray[np.complex128], bool, bool, float, int]


def _merge(rows: list[_Row]) -> list[_Row]:
    """Distinct forms: the same critical form found in two charts is kept once (the
    certified one first)."""
    ordered = sorted(rows, key=lambda r: not r[3])
    if not ordered:
        return []
    V = np.array([r[0] for r in ordered], dtype=complex)
    size = 1.0 + np.linalg.norm(V, axis=1)
    kept: list[int] = []
    for first in range(0, len(ordered), 128):  # the distances of all pairs, in blocks of rows
        gaps = np.linalg.norm(V[first:first + 128, None, :] - V[None, :, :], axis=2)
        for i in range(first, min(first + 128, len(ordered))):
            if not kept or not np.any(gaps[i - first, kept] <= 1e-7 * size[i]):
                kept.append(i)
    return [ordered[i] for i in kept]


def _solve_in_chart(family: _Family, chart: int, Gs: NDArray[np.float64], target: NDArray[np.float64],
                    rng: np.random.Generator, n_threads: int, certify: bool, bar: Any
                    ) -> tuple[list[_Row], dict[str, int], int]:
    """Tracks the start system to the user's data in one chart, re-tracks failed and jumped
    paths along detours, and certifies the regular endpoints."""
    K = family.K
    q0 = (family.w0, family.G0)
    q1 = _chart_parameters(family, chart, Gs, target)
    starts = family.starts
    z, kind, *_ = _track_in_slices(family, q0, q1, starts, n_threads, bar)
    paths = starts.shape[0]
    # paths that could not be finished (the endgame's loops do not close around an endpoint
    # on a positive-dimensional set of degenerate forms) but whose points, tracked towards
    # s = 1, approach the forms with a = 0 or b = 0: not lost but degenerate (kind 4 here),
    # and not worth a detour (by Morgan-Sommese every isolated solution is the end of one
    # of the straight paths, and this path's end is not one)
    lost = np.flatnonzero(kind == 3)
    if lost.size:
        # a path lost at the tracking tolerance first gets the tighter one (seen: a BW septic,
        # (4, 2, 1), data with roots at 0 and infinity, one path of 164 lost at 1e-5 only)
        zt, kt, *_ = family.track(q0, q1, starts[lost], endgame=True, threads=n_threads, tolerance=_TIGHT_TOLERANCE)
        z[lost], kind[lost] = zt, kt  # the same paths again (not detours: not counted in paths)
        lost = np.flatnonzero(kind == 3)
    if lost.size:
        heading, last = _degenerate_limits(family, q0, q1, starts[lost], n_threads)
        recovered = _recover_lost(family, chart, Gs, target, last)
        for j, e in zip(lost.tolist(), recovered):
            if e is None:
                continue
            zj = family.on_patch(e)
            if not _reached(z, kind, zj, j):  # a solution no other path ended at: this path's
                z[j], kind[j] = zj, 0
        kind[lost[heading & (kind[lost] == 3)]] = 4
    for _ in range(6):  # detours for failed and jumped paths
        redo = np.flatnonzero((kind == 3) | _jumped(z, kind))
        if redo.size == 0:
            break
        qm = _random_parameters(rng, K)
        zm, km, *_ = family.track(q0, qm, starts[redo], endgame=False, threads=n_threads, tolerance=_TIGHT_TOLERANCE)
        ok = km == 0
        if np.any(ok):
            zr, kr, *_ = family.track(qm, q1, zm[ok], endgame=True, threads=n_threads, tolerance=_TIGHT_TOLERANCE)
            for i, zi, ki in zip(redo[ok], zr, kr):
                # a failed path takes whatever the detour gives, and a path that shared its
                # regular endpoint with another only a new regular endpoint; neither takes a
                # regular endpoint that another path already has (a jump), so a detour never
                # loses the point that one of them found
                if ki == 0 and _reached(z, kind, zi, i):
                    continue  # it jumped again
                if kind[i] == 3 or ki == 0:
                    z[i], kind[i] = zi, ki
        paths += redo.size
    counts = {"regular": 0, "singular": 0, "degenerate": int(np.sum(kind == 4)), "at_infinity": int(np.sum(kind == 1)),
              "failed": int(np.sum(kind == 3)), "duplicate": 0}
    certifier = _Certifier(family, chart, Gs, target) if certify else None
    R = np.array(_chart_matrix(K - 1, chart), dtype=float)
    finite = np.flatnonzero((kind == 0) | (kind == 2))
    E = z[finite, 1:] / z[finite, :1]
    # endpoints that are one point: a certified (nonsingular) point reached twice means a
    # path jumped; an uncertifiable cluster is a singular solution reached by several paths
    # (greedy in path order: a point joins the first earlier head within 1e-5 of it, relative
    # to the head's size; the distances of all pairs at once)
    clusters: list[list[int]] = []
    heads: list[int] = []
    near = _close_pairs(E, 1e-5)
    if np.count_nonzero(near) == len(finite):  # no two endpoints close: each its own cluster
        clusters = [[i] for i in range(len(finite))]
    else:
        for i in range(len(finite)):
            joined = next((c for c, head in enumerate(heads) if near[head, i]), -1)
            if joined >= 0:
                clusters[joined].append(i)
            else:
                clusters.append([i])
                heads.append(i)
    near_real_all = np.linalg.norm(E.imag, axis=1) <= 1e-6 * (1.0 + np.linalg.norm(E, axis=1))
    # first, one Krawczyk test per cluster (its first regular endpoint) for all clusters at
    # once in C++; what that does not prove goes to the 128-bit ball arithmetic below
    heads_regular = [next((i for i in cluster if kind[finite[i]] == 0), -1) for cluster in clusters]
    batch = [c for c, i in enumerate(heads_regular) if i >= 0]
    if certifier is not None:
        Eb = np.array([E[heads_regular[c]] for c in batch], dtype=complex).reshape(len(batch), E.shape[1])
        real_b = near_real_all[[heads_regular[c] for c in batch]]
        certifier.certify_many(Eb, real_b, n_threads)
    else:
        real_b = np.zeros(0, dtype=bool)
    slot = {c: k for k, c in enumerate(batch)}

    def value(e: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], complex, complex]:
        p = _forms(family.groups, e[None, :], K)[0]
        pa, pb = complex(p @ q1[0]), complex(p @ q1[1] @ p)
        # b = 0 exactly: no finite scale (a degenerate form, which _numerically_degenerate
        # reports; seen at D = 7 with Bombieri-Weyl weights, a singular cluster of 4 paths)
        scale = pa / pb if pb != 0 else complex(math.nan, math.nan)
        return scale * (R @ p), pa, pb

    # per cluster: its point, whether proven, the box radius, whether real, its multiplicity
    kept: list[tuple[NDArray[np.complex128], bool, float, bool, int]] = []
    for c, cluster in enumerate(clusters):
        proven, radius = False, 0.0
        e = E[cluster[0]]
        near_real = bool(near_real_all[cluster[0]])
        if certifier is not None and c in slot:
            proven, radius = certifier.take(slot[c])
            if proven:
                e = certifier.centre
                near_real = bool(real_b[slot[c]])
        if certifier is not None and not proven:
            for i in cluster:
                if kind[finite[i]] != 0:
                    continue
                e = E[i]
                proven, radius = certifier.certify(e, near_real)
                if not proven and near_real:  # a complex pair very close to the real line
                    proven, radius = certifier.certify(e, False)
                    if proven:
                        near_real = False
                if proven:
                    e = certifier.centre
                    break
        if proven:
            assert certifier is not None
            counts["regular"] += 1
            counts["duplicate"] += len(cluster) - 1
            if not certifier.nondegenerate() and certifier.box_bounds is not None:
                # the float64 box may be too wide for the discriminant and resultant tests
                # of a point close to the degenerate forms (roots 1e-4 apart, seen with
                # Bombieri-Weyl weights at D = 6): the 128-bit box is some 1e6 times smaller
                tight, tight_radius = certifier.certify(e, near_real)
                if tight:
                    e, radius = certifier.centre, tight_radius
            if not certifier.nondegenerate():
                # a true solution whose box touches the degenerate forms: decided exactly
                # when it is a rational point; else degenerate if it numerically is one,
                # otherwise returned unproven
                v, pa, pb = value(e)
                exact = certifier.exact_degeneracy(v)
                if exact or (exact is None and (_numerically_degenerate(family, chart, e, pa, pb, q1)
                                                or _rational_off_stratum(v, family.lam))):
                    counts["regular"] -= 1
                    counts["degenerate"] += 1
                    continue
                proven = exact is False
        else:
            v, pa, pb = value(e)
            if _numerically_degenerate(family, chart, e, pa, pb, q1) or _rational_off_stratum(v, family.lam):
                counts["degenerate"] += len(cluster)
                continue
            if _chart_residual(family, e, q1) > 1e-6:
                # an endgame that "converged" to a point that does not solve the equations
                # (seen with Bombieri-Weyl weights: the paths head for forms with b = 0, and
                # the loops' average settles short of them): degenerate where the trend of
                # the straight paths shows it, else no answer, a failed path (the second
                # chart tracks it again)
                heading, _ = _degenerate_limits(family, q0, q1, starts[finite[cluster]], n_threads)
                counts["degenerate"] += int(np.sum(heading))
                counts["failed"] += int(np.sum(~heading))
                continue
            singular = len(cluster) > 1 or kind[finite[cluster[0]]] == 2
            counts["singular" if singular else "regular"] += len(cluster)
        kept.append((np.asarray(e, dtype=complex), proven, radius, near_real, 1 if proven else len(cluster)))
    # the forms, values and roots of all kept points at once
    Ek = np.array([k[0] for k in kept], dtype=complex).reshape(len(kept), E.shape[1])
    Pk = _forms(family.groups, Ek, K)
    scale = (Pk @ q1[0]) / np.einsum("ia,ab,ib->i", Pk, q1[1], Pk)
    Vk = scale[:, None] * (Pk @ R.T)
    roots = _user_roots_many(family, chart, Ek)
    boxes: list[tuple[int, NDArray[np.complex128], float]] = []  # row, refined point, radius
    rows: list[_Row] = []
    for (e, proven, radius, near_real, multiplicity), v, r in zip(kept, Vk, roots):
        if near_real:
            v = v.real.astype(complex)
        if proven:
            boxes.append((len(rows), e, radius))
        rows.append((v, r, near_real, proven, radius, multiplicity))
    # the proven boxes must be pairwise disjoint (distinct solutions): a box lies within
    # 2 radius of its refined point in every real coordinate (plus the ulp its bounds were
    # rounded outwards by, covered by the 1e-15 slack), so boxes further apart than that are
    # disjoint; a box that cannot be told apart from an earlier one is the same solution
    if len(boxes) > 1:
        at = np.array([b[1] for b in boxes])
        r = np.array([b[2] for b in boxes])
        size = 1.0 + np.max(np.abs(at), axis=1)
        reach = 2.0 * (r[:, None] + r[None, :]) + 1e-15 * (size[:, None] + size[None, :])
        near = np.all((np.abs(at.real[:, None, :] - at.real[None, :, :]) <= reach[:, :, None])
                      & (np.abs(at.imag[:, None, :] - at.imag[None, :, :]) <= reach[:, :, None]), axis=2)
        drop = {boxes[j][0] for j in np.flatnonzero(np.any(np.tril(near, -1), axis=1))}
        if drop:
            counts["regular"] -= len(drop)
            counts["duplicate"] += len(drop)
            rows = [row for k, row in enumerate(rows) if k not in drop]
    return rows, counts, paths


def _chart_residual(family: _Family, e: NDArray[np.complex128],
                    q1: tuple[NDArray[np.complex128], NDArray[np.complex128]]) -> float:
    """The chart's critical equations ``a_j b - a b_j / 2`` at ``e``, relative to the size of
    their terms: about machine precision at a solution, ``delta^m`` at an m-fold solution
    computed to ``delta``."""
    p, P = _numeric_jets(family.groups, e, family.K)
    w, Gc = q1
    g = Gc @ p
    a, b = p @ w, p @ g
    ak, gk = w @ P, g @ P  # b_j / 2 = (Gc p) . dp/de_j
    F = ak * b - a * gk
    size = float(np.max(np.abs(ak) * abs(b) + abs(a) * np.abs(gk)))
    return float(np.max(np.abs(F))) / size if size > 0 else math.inf


def _degenerate_limits(family: _Family, q0: tuple[Any, Any], q1: tuple[Any, Any], starts: NDArray[np.complex128],
                       threads: int) -> tuple[NDArray[np.bool_], NDArray[np.complex128]]:
    """Which of the paths from ``starts`` (at ``q0``) end, at ``s = 1``, on a degenerate form
    (no point of the stratum): one with ``a = 0`` or ``b = 0``, or one whose roots collide.
    Judged by the trend, as ``s -> 1``, of two measures:

    * ``m(s) = min(|a| / (|p| |w|), |b| / (|p|^2 |Gc|))``;
    * ``r(s)``, the smallest chordal distance between two distinct roots
      (:func:`_root_separation`).

    Each path is tracked (without endgame) to ``s = 1 - 10^-k`` for ``k = 2..12`` (a point
    the tracker reaches but cannot refine to 1e-11 counts: near degenerate forms Newton
    stalls at some 1e-9, plenty for these measures). The
    limit of a path is a point of the closure, and both measures are continuous there: they
    tend to the limit's values. A limit on the stratum has ``m > 0`` and ``r > 0``, so both
    settle at constants (a regular limit is approached like ``1 - s``, so within ``1e-4``
    from ``k = 4`` on); heading for a degenerate form, one of them falls like a positive
    power of ``1 - s``. A path counts as degenerate when, over four consecutive tracked
    decades, a measure fell by at least 27x (3x per decade on average, a rate of at least
    ``(1 - s)^(1/2)``; at least 1.1x in each decade, since a measure may pause where the path
    passes close to another degenerate form: seen with Bombieri-Weyl weights at D = 7, m =
    278e-9 then 240e-9 between two 10x decades) and ended at most ``1e-6`` (``m``) or
    ``1e-2`` (``r``). ``m`` falls 10x per decade (``b ~ 1 - s``); colliding roots give ``r``
    about ``(1 - s)^(1/2)`` (seen with Bombieri-Weyl weights at D = 7, (2,2,1,1,1), data
    with a triple root at infinity: a double and a simple root go to infinity together,
    ``r`` = 0.047, 0.015, 0.0046, 0.0015 at k = 4..7), and the tracker loses such a path
    near ``r = 5e-4``, so ``r`` cannot be asked to go as low as ``m``. Paths with no such
    trend (roots colliding at a rate below ``(1 - s)^(1/2)``, or paths the tracker loses
    early) are left undecided: ``False``.

    A true solution very close to the degenerate forms also makes ``m`` fall over several
    decades before it settles (seen with Bombieri-Weyl weights at D = 7, (4, 3): ``b`` about
    1e-5 of its terms at the solution, m = 3.9e-7, 3.1e-8, 4.7e-9, 1.2e-9), and the tracker
    may lose such a path at its end: the caller tries to prove a solution next to each
    path's last tracked point (:func:`_recover_lost`) before it believes the trend. Also
    returned: those points, the affine unknowns at the largest ``s`` each path was tracked
    to (NaN for none)."""
    ks = range(2, 13)
    m = np.full((starts.shape[0], len(ks)), np.nan)
    r = np.full((starts.shape[0], len(ks)), np.nan)
    last = np.full((starts.shape[0], family.n), complex(np.nan, np.nan))
    for col, k in enumerate(ks):
        s = 1.0 - 10.0 ** -k
        qs = (q0[0] + s * (q1[0] - q0[0]), q0[1] + s * (q1[1] - q0[1]))
        z, kind, *_, failure = family.track(q0, qs, starts, endgame=False, threads=threads, tolerance=_TIGHT_TOLERANCE)
        reached = (kind == 0) | ((kind == 3) & (failure == 4))  # 4: reached, not refined
        ok = reached & np.all(np.isfinite(z), axis=1) & (np.abs(z[:, 0]) > 1e-8 * np.max(np.abs(z), axis=1))
        if not np.any(ok):
            continue
        E = z[ok, 1:] / z[ok, :1]
        last[ok] = E
        P = _forms(family.groups, E, family.K)
        size = np.linalg.norm(P, axis=1)
        a = np.abs(P @ qs[0]) / (size * np.linalg.norm(qs[0]))
        b = np.abs(np.einsum("ia,ab,ib->i", P, qs[1], P)) / (size ** 2 * np.linalg.norm(qs[1]))
        m[ok, col] = np.minimum(a, b)
        r[ok, col] = _root_separation(family.groups, E)
    return _falling(m, 1e-6) | _falling(r, 1e-2), last


def _recover_lost(family: _Family, chart: int, Gs: NDArray[np.float64], target: NDArray[np.float64],
                  last: NDArray[np.complex128]) -> list[NDArray[np.complex128] | None]:
    """For each row of ``last`` (a lost path's last tracked point, close to ``s = 1``): the
    solution of the target system next to it when the 128-bit Krawczyk test proves one
    there and proves it a point of the stratum (``a, b != 0``, distinct roots), else None.

    A lost path may end at a true solution that the tracker cannot finish: near the forms
    with ``b = 0`` the equations cancel to 1e-5 of their terms, Newton in double precision
    stalls some 1e-9 from the solution and the endpoint test refuses it (seen with
    Bombieri-Weyl weights at D = 7, (4, 3): one path of 111, depending on the last bits of
    the start system). The proof makes the recovery safe: a point that is not such a
    solution is not recovered, and the caller counts a recovered point only when no other
    path ended there."""
    out: list[NDArray[np.complex128] | None] = [None] * last.shape[0]
    rows = [i for i in range(last.shape[0]) if np.all(np.isfinite(last[i]))]
    if not rows:
        return out
    certifier = _Certifier(family, chart, Gs, target)
    for i in rows:
        proven, _ = certifier.certify(last[i], False)
        if proven and certifier.nondegenerate():
            out[i] = np.asarray(certifier.centre, dtype=complex)
    return out


def _falling(m: NDArray[np.float64], end: float) -> NDArray[np.bool_]:
    """The rows of ``m`` (paths by decades) with four consecutive finite values that fall by
    at least 1.1x each and 27x in all, to at most ``end`` (:func:`_degenerate_limits`)."""
    w = np.lib.stride_tricks.sliding_window_view(m, 4, axis=1)  # (paths, windows, 4)
    with np.errstate(invalid="ignore"):
        good = (np.all(np.isfinite(w), axis=2) & np.all(w[:, :, 1:] <= w[:, :, :-1] / 1.1, axis=2)
                & (w[:, :, -1] <= w[:, :, 0] / 27.0) & (w[:, :, -1] <= end))
    return np.asarray(np.any(good, axis=1), dtype=bool)


def _numerically_degenerate(family: _Family, chart: int, e: NDArray[np.complex128], pa: complex, pb: complex,
                            q1: tuple[NDArray[np.complex128], NDArray[np.complex128]]) -> bool:
    """v = 0 (a = 0), no finite scale (b = 0) or colliding roots, to rounding accuracy."""
    size = float(np.linalg.norm(_forms(family.groups, e[None, :], family.K)[0]))
    if abs(pa) <= 1e-10 * size * float(np.linalg.norm(q1[0])) or abs(pb) <= 1e-10 * size**2 * float(
            np.linalg.norm(q1[1])):
        return True
    return bool(_min_chordal(_user_roots(family, chart, e)[None, :])[0] < 1e-7)


def _root_pattern(v: list[Fraction]) -> tuple[int, ...]:
    """The multiplicities of the roots of the binary form ``sum_j v[j] x^j y^(D-j)`` with
    rational coefficients (the one at infinity included), largest first, exactly (python-
    flint's factorisation over Q); ``()`` for the zero form."""
    import flint

    D = len(v) - 1
    f = flint.fmpq_poly([flint.fmpq(x.numerator, x.denominator) for x in v])
    if f.is_zero():
        return ()
    pattern = [m for g, m in f.factor()[1] for _ in range(g.degree())]
    if f.degree() < D:
        pattern.append(D - f.degree())
    return tuple(sorted(pattern, reverse=True))


def _rational_off_stratum(v: NDArray[np.complex128], lam: tuple[int, ...]) -> bool:
    """Whether ``v`` is, to 1e-8 relative, a real form with small rational coefficients (up
    to scale; denominators up to 1000) whose roots do not have the multiplicities ``lam``:
    a point of another stratum (typically the data ``u`` itself when it has a multiple
    root), which the paths of ``lam`` reach as a limit, not a point of ``lam``. Such an
    endpoint is singular or touches the degenerate forms, so neither the Krawczyk test nor
    the root-distance test decides it; the exact factorisation of the rational form does.

    A real number lies within 1e-8 of a fraction with denominator <= 1000 with probability
    about 0.02, so a point that is not such a form passes for all its coordinates at once
    with probability about 0.02^D: small denominators only, a tight tolerance."""
    if not np.all(np.isfinite(v)):
        return False
    size = float(np.max(np.abs(v)))
    if size == 0.0 or float(np.max(np.abs(v.imag))) > 1e-8 * size:
        return False
    real = v.real
    for scaled in (real, real / real[int(np.argmax(np.abs(real)))]):
        for bound in (10, 1000):
            q = [Fraction(float(x)).limit_denominator(bound) for x in scaled]
            if float(np.max(np.abs(np.array([float(x) for x in q]) - scaled))) > 1e-8 * float(np.max(np.abs(scaled))):
                continue
            return _root_pattern(q) != tuple(sorted(lam, reverse=True))
    return False


def _close_pairs(E: NDArray[np.complex128], rtol: float) -> NDArray[np.bool_]:
    """``near[a, b]``: ``max |E[b] - E[a]| <= rtol (1 + max |E[a]|)`` for the rows of ``E``
    (M, n), in blocks of rows (the differences of all pairs at once would take M^2 n
    complex numbers)."""
    M = E.shape[0]
    near = np.zeros((M, M), dtype=bool)
    tol = rtol * (1.0 + np.max(np.abs(E), axis=1)) if M else np.zeros(0)
    for first in range(0, M, 128):
        block = E[first:first + 128]
        gaps = np.max(np.abs(E[None, :, :] - block[:, None, :]), axis=2)
        near[first:first + 128] = gaps <= tol[first:first + 128, None]
    return near


def _jumped(z: NDArray[np.complex128], kind: NDArray[Any]) -> NDArray[np.bool_]:
    """Regular endpoints reached by more than one path (all of them: which one jumped is
    unknown, so all are followed again)."""
    out = np.zeros(kind.shape, dtype=bool)
    idx = np.flatnonzero(kind == 0)
    if idx.size < 2:
        return out
    close = _close_pairs(z[idx, 1:] / z[idx, :1], 1e-8)
    np.fill_diagonal(close, False)
    out[idx] = np.any(close, axis=1) | np.any(close, axis=0)
    return out


def _reached(z: NDArray[np.complex128], kind: NDArray[Any], point: NDArray[np.complex128], skip: int) -> bool:
    """Whether a path other than ``skip`` ended regular at ``point`` (affine comparison)."""
    idx = np.flatnonzero(kind == 0)
    idx = idx[idx != skip]
    if idx.size == 0:
        return False
    e = z[idx, 1:] / z[idx, :1]
    x = point[1:] / point[0]
    return bool(np.any(np.max(np.abs(e - x), axis=1) <= 1e-8 * (1.0 + np.max(np.abs(x)))))


def _track_in_slices(family: _Family, q0: Any, q1: Any, starts: NDArray[np.complex128], threads: int,
                     bar: Any) -> tuple[Any, ...]:
    if bar is None:
        return family.track(q0, q1, starts, endgame=True, threads=threads)
    step = max(64, 16 * threads)
    parts = []
    for first in range(0, starts.shape[0], step):
        parts.append(family.track(q0, q1, starts[first:first + step], endgame=True, threads=threads))
        bar(min(first + step, starts.shape[0]))
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(len(parts[0])))


def ed_degree(partition: Any, G: ArrayLike, *, seed: Any = 0, threads: int | None = None, rng: Any = None) -> int:
    """Number of complex critical points of ``(v-u)^T G (v-u)`` on ``Delta_lambda`` for a
    random ``u`` (the Euclidean-distance degree of the stratum for the weights ``G``), counted
    from certified points. ``seed`` chooses ``u``."""
    Gm = as_real_array(G, "G")
    seed_value = as_seed(seed, rng=rng)
    u = np.random.default_rng(seed_value + 1).standard_normal(Gm.shape[0])
    return stratum_critical_points(partition, Gm, u, seed=seed_value, threads=threads).n_complex
