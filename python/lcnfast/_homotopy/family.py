"""The family contract of the critical-point engine.

A family is a cone of forms ``v = c R p(z)`` (``K`` coefficients in the user's basis) with
homogeneous unknowns ``z = (h, e_1..e_n)``: ``p`` is a vector of ``K`` integer (or dyadic)
polynomials in ``z``, all homogeneous of one degree, given by their terms (``begin``,
``exps``, ``coeff``: the form that the C++ tracker and interval certifier evaluate), and ``R``
(per chart) maps chart coefficients to the user's. For ``l(v) = (v - u)^T G (v - u)`` the
best scale is ``c = a / b`` with ``a = w . p``, ``b = p . Gc p``, ``w = R^T G u``,
``Gc = R^T G R``, and the critical equations are ``a_j b - a b_j / 2 = 0`` for every ``e_j``.
A random linear patch ``patch . z = 1`` closes the square system.

What a family must say (the hooks of :class:`Family`, with the defaults written from the
terms, which are right for any family and which a family may replace by faster code that
gives the same values):

* ``key`` and ``label``: what it is (the cache key and the name in messages);
* ``chart_matrix(chart)``: the exact ``R`` of each of ``n_charts`` charts (a second chart
  sees the points that are at infinity, or badly scaled, in the first);
* ``numeric_jets`` / ``forms`` / ``jets``: ``p`` and its derivatives, in floating point (one
  point, many points) and in any python-flint ring (balls for the certifier, rationals
  for exact checks);
* ``box_nondegenerate``: a proof, on a Krawczyk box, that its solution is a point of the
  family where the parametrisation is an immersion (not a degenerate form);
* ``numerically_degenerate``, ``rational_off_family``, ``exact_degeneracy``,
  ``trend_measures``: how endpoints that cannot be proven are judged;
* ``point_info``: what a result reports per point besides ``v`` (the roots of a stratum's
  form).

The start system (``w0``, ``G0``, ``starts``, ``patch``, the trace test's outcome) is filled
by :mod:`lcnfast._homotopy.start`.
"""

from __future__ import annotations

import copy
import enum
import math
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .. import _core

__all__ = ["Family", "PathKind", "Poly", "TIGHT_TOLERANCE", "TOLERANCE", "TRACE_TOLERANCE", "close_pairs", "distinct_rows", "same_forms", "poly_add", "poly_mul", "random_parameters"]

Poly = dict[tuple[int, ...], Any]

#: The tracker's predictor tolerance before the endgame zone (1e-6 in it): paths that fail at
#: this one are tracked again at the tighter one before anything else (trend test, detours).
TOLERANCE = 1e-5
TIGHT_TOLERANCE = 1e-6
#: The trace test passes when the second difference of the trace is below this, relative
#: (a complete set gives about 1e-13 up to D = 8, one point left out 0.05 to 0.9).
TRACE_TOLERANCE = 1e-6


class PathKind(enum.IntEnum):
    """How a homotopy path ended: the names and codes of the compiled ``_core.PathKind``
    (C++ ``EndpointKind``). The tracker gives the first four; ``DEGENERATE`` is the
    bookkeeping's verdict afterwards."""

    REGULAR = 0      #: at a nonsingular solution
    AT_INFINITY = 1  #: at h = 0 (the chart's infinity)
    SINGULAR = 2     #: at a singular solution (the endgame's winding number > 1 or a cluster)
    FAILED = 3       #: not followed to its end
    DEGENERATE = 4   #: at a form that is not a point of the family (proven, or judged by trend)


class Paths(NamedTuple):
    """The paths of :meth:`Family.track`, one entry per start point (the fields of the
    compiled ``_core.TrackedPaths``; a tuple, so ``z, kind, *_ = family.track(...)`` works)."""

    z: NDArray[np.complex128]  #: endpoints in homogeneous coordinates (paths, N); NaN when none
    kind: NDArray[np.int32]  #: :class:`PathKind` codes
    winding: NDArray[np.int32]  #: the endgame's winding number (1 for a regular endpoint)
    steps: NDArray[np.int32]  #: accepted predictor-corrector steps
    condition: NDArray[np.float64]  #: condition number of the Jacobian at the end
    accuracy: NDArray[np.float64]  #: relative change of the endpoint in its last refinement
    failure: NDArray[np.int32]  #: ``_core.PathFailure`` codes (why a path failed)


def poly_mul(a: Poly, b: Poly) -> Poly:
    """Product of two polynomials given as ``{exponents: coefficient}``."""
    out: Poly = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            out[e] = out.get(e, 0) + ca * cb
    return {e: c for e, c in out.items() if c != 0}


def poly_add(a: Poly, b: Poly) -> Poly:
    """Sum of two polynomials given as ``{exponents: coefficient}``."""
    out = dict(a)
    for e, c in b.items():
        out[e] = out.get(e, 0) + c
    return {e: c for e, c in out.items() if c != 0}


def random_parameters(rng: np.random.Generator, K: int) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """Random complex parameters ``(w, Gc)`` (``Gc`` complex symmetric) of a family with K coefficients."""
    A = rng.standard_normal((K, K)) + 1j * rng.standard_normal((K, K))
    w = rng.standard_normal(K) + 1j * rng.standard_normal(K)
    G: NDArray[np.complex128] = ((A + A.T) / 2).astype(complex)
    return w.astype(complex), G


def close_pairs(E: NDArray[np.complex128], rtol: float) -> NDArray[np.bool_]:
    """``near[a, b]``: ``max |E[b] - E[a]| <= rtol (1 + max |E[a]|)`` for the rows of ``E``
    (M, n), in blocks of rows (the differences of all pairs at once would take M^2 n
    complex numbers). The engine's one rule for "the same point"."""
    M = E.shape[0]
    near = np.zeros((M, M), dtype=bool)
    tol = rtol * (1.0 + np.max(np.abs(E), axis=1)) if M else np.zeros(0)
    for first in range(0, M, 128):
        block = E[first:first + 128]
        gaps = np.max(np.abs(E[None, :, :] - block[:, None, :]), axis=2)
        near[first:first + 128] = gaps <= tol[first:first + 128, None]
    return near


def same_forms(V: NDArray[np.complex128], W: NDArray[np.complex128], tol: float = 1e-7) -> NDArray[np.bool_]:
    """``same[a, b]``: the forms ``V[a]`` and ``W[b]`` span the same complex line to ``tol``
    (the sine of the angle between them, ``|V[a] ^ W[b]| / (|V[a]| |W[b]|)``).

    The engine's rule for "the same critical point" between results (charts, start systems,
    conjugates). A family's point is ``t p`` with the scale ``t`` fixed by the direction ``p``
    (``t = (w . p) / (p^T Gc p)``), so two points are the same exactly when their directions
    are; and the direction is as well conditioned as the chart's unknowns, whereas ``t`` is
    not where ``p^T Gc p`` nearly vanishes (near isotropic forms: Bombieri-Weyl weights and
    ``p`` close to ``(x - i)^D``), where one point seen from two charts can differ by 1e-7
    relative in ``v``."""
    if V.shape[0] == 0 or W.shape[0] == 0:
        return np.zeros((V.shape[0], W.shape[0]), dtype=bool)
    Vn = V / np.maximum(np.linalg.norm(V, axis=1), 1e-300)[:, None]
    Wn = W / np.maximum(np.linalg.norm(W, axis=1), 1e-300)[:, None]
    # <V[a], W[b]> of the unit vectors, without BLAS: OpenBLAS's threads spin for a while
    # after a call and took a third of the two cores from the tracker's threads after it
    proj = np.einsum("ak,bk->ab", np.conj(Vn), Wn)
    # sin^2 = 1 - |<,>|^2 is off by rounding (~1e-16, a sine of ~1e-8): it only picks the
    # candidate pairs; their sine is the length of the part of W[b] off the line of V[a]
    a, b = np.nonzero(1.0 - np.abs(proj) ** 2 <= (10.0 * tol) ** 2 + 1e-14)
    off = Wn[b] - proj[a, b][:, None] * Vn[a]
    same = np.zeros((V.shape[0], W.shape[0]), dtype=bool)
    same[a, b] = np.linalg.norm(off, axis=1) <= tol
    return same


def distinct_rows(Y: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """The rows of Y without repeats (to 1e-6 relative), in their order."""
    return Y[~np.triu(close_pairs(Y, 1e-6), 1).any(axis=0)] if Y.shape[0] else Y


class Family:
    """A family of critical equations over the parameters ``(w, Gc)``, with its start system.

    Parameters
    ----------
    key : tuple
        Identifies the family (cache file name, seed of its start system).
    form : list of Poly
        The ``K`` coefficient polynomials of ``p`` in the ``N = n + 1`` homogeneous unknowns,
        with exact (integer or ``Fraction``) coefficients that are exact in float64.
    groups : list of (int, int)
        The product structure the C++ tracker may use instead of the terms: ``(part,
        count)`` per factor ``q_g`` of ``p = prod_g q_g(x^S_g)^part`` (``count + 1``
        coefficients). Without ``group_map`` the factors are the strata's ``(h, e...)``.
    dilations : list of int, optional
        The ``S_g`` (with ``group_map``).
    group_map : ndarray, optional
        The coefficients of the factors as linear forms in the ``N`` unknowns: ``sum_g
        (count_g + 1)`` rows of ``N`` (exact in float64). The C++ code checks the product
        against the terms once.
    """

    #: charts (data transforms R) the solver may use; the second is tried when the first
    #: leaves paths at infinity, failed, or points uncertified
    n_charts = 2
    #: whether a lost path may be judged degenerate by the trend of ``trend_measures``
    trend_test = False

    def __init__(self, key: tuple[Any, ...], form: list[Poly], groups: list[tuple[int, int]] | None = None,
                 dilations: list[int] | None = None, group_map: NDArray[np.float64] | None = None) -> None:
        self.key = key
        self.K = len(form)
        self.n = len(next(e for f in form for e in f)) - 1
        self.groups = list(groups or [])
        self.dilations = list(dilations or [])
        self.group_map = [] if group_map is None else [float(x) for x in np.asarray(group_map, dtype=float).ravel()]
        begin: list[int] = [0]
        exps: list[int] = []
        coeff: list[float] = []
        exact: list[Fraction] = []
        for f in form:
            for e, c in sorted(f.items()):
                exps.extend(e)
                q = Fraction(c)
                if float(q) != q:
                    raise ValueError(f"family {key}: a coefficient of the form is not exact in float64")
                coeff.append(float(q))
                exact.append(q)
            begin.append(len(coeff))
        self.begin, self.exps, self.coeff = begin, exps, coeff
        self.coeff_exact = exact
        # the terms as arrays, for the default evaluations
        self._term_exps = np.array(exps, dtype=np.int64).reshape(len(coeff), self.N)
        self._term_coeff = np.array(coeff, dtype=float)
        self._term_row = np.repeat(np.arange(self.K), np.diff(begin)).astype(np.int64)
        self._jacobian_tables: list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]] | None = None
        self._system: tuple[bytes, _core.CriticalSystem] | None = None  # (patch, compiled): system()
        # the start system (lcnfast._homotopy.start)
        self.patch: NDArray[np.complex128] = np.zeros(0, dtype=complex)
        self.w0: NDArray[np.complex128] = np.zeros(0, dtype=complex)
        self.G0: NDArray[np.complex128] = np.zeros((0, 0), dtype=complex)
        self.starts: NDArray[np.complex128] = np.zeros((0, 0), dtype=complex)
        self.loops = 0
        self.trace = math.nan  # the trace test's relative second difference (nan: not run)
        self.witnesses = 0  # the trace test's points of the curve on a general hyperplane

    def blank(self) -> Family:
        """A copy without a start system (the same equations)."""
        new = copy.copy(self)
        new.patch = np.zeros(0, dtype=complex)
        new.w0 = np.zeros(0, dtype=complex)
        new.G0 = np.zeros((0, 0), dtype=complex)
        new.starts = np.zeros((0, 0), dtype=complex)
        new.loops, new.trace, new.witnesses = 0, math.nan, 0
        return new

    def copy(self) -> Family:
        """A copy with its own start solutions (the terms are shared: they are not changed)."""
        new = copy.copy(self)
        new.starts = self.starts.copy()
        return new

    # -- what a family is ------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The family's name in messages."""
        return f"family {self.key}"

    @property
    def seed_text(self) -> str:
        """Seeds the family's start system (monodromy, trace test): fixed per family."""
        return repr(("lcnfast-family",) + tuple(self.key))

    @property
    def cache_name(self) -> str:
        """The start system's file in the cache folder (relative path)."""
        return "families-v1/" + "-".join(str(k) for k in self.key).replace(" ", "") + ".npz"

    @property
    def N(self) -> int:
        """Homogeneous unknowns ``(h, e_1..e_n)``."""
        return self.n + 1

    @property
    def verified(self) -> bool:
        """The start system passed the trace test."""
        return self.trace <= TRACE_TOLERANCE

    @property
    def generic_count(self) -> int:
        """The number of complex critical points for generic data (the start system's size)."""
        return int(self.starts.shape[0])

    def chart_matrix(self, chart: int) -> tuple[tuple[Fraction, ...], ...]:
        """Exact ``R`` (K x K) of a chart: column i holds the user's coefficients of the
        chart's i-th basis form. The default is the identity."""
        return tuple(tuple(Fraction(int(i == j)) for j in range(self.K)) for i in range(self.K))

    def chart_parameters(self, chart: int, G: NDArray[np.float64], u: NDArray[np.float64]
                         ) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
        """The chart's parameters ``(w, Gc) = (R^T G u, R^T G R)`` in floating point."""
        R = np.array(self.chart_matrix(chart), dtype=float)
        return (R.T @ (G @ u)).astype(complex), (R.T @ G @ R).astype(complex)

    # -- tracking ----------------------------------------------------------------------------
    def system(self) -> _core.CriticalSystem:
        """The compiled equations (``_core.CriticalSystem``: terms, product structure and
        patch, checked once), made again only when the patch changes (a new start system)."""
        patch = self.patch if self.patch.shape == (self.N,) else np.ones(self.N, dtype=complex)
        key = patch.tobytes()
        if self._system is None or self._system[0] != key:
            self._system = (key, _core.CriticalSystem(self.N, self.K, self.begin, self.exps, self.coeff,
                                                      np.ascontiguousarray(patch, dtype=complex), self.groups,
                                                      self.dilations, self.group_map))
        return self._system[1]

    def track(self, q0: tuple[Any, Any], q1: tuple[Any, Any], starts: NDArray[np.complex128], *, endgame: bool,
              threads: int, tolerance: float = TOLERANCE) -> Paths:
        """Paths from q0 to q1 (``_core.CriticalSystem.track``); ``tolerance``: the
        predictor's, before the endgame zone."""
        options = _core.TrackerOptions(endgame=endgame, endgame_start=0.9, max_steps=20000,
                                       predictor_tolerance=tolerance, threads=threads)
        out = self.system().track(np.ascontiguousarray(q0[0], dtype=complex),
                                  np.ascontiguousarray(q0[1], dtype=complex),
                                  np.ascontiguousarray(q1[0], dtype=complex),
                                  np.ascontiguousarray(q1[1], dtype=complex),
                                  np.ascontiguousarray(starts.reshape(-1, self.N), dtype=complex), options)
        return Paths(out.z, out.kind, out.winding, out.steps, out.condition, out.accuracy, out.failure)

    def on_patch(self, e: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """Homogeneous coordinates (1, e) scaled onto the patch."""
        z = np.concatenate(([1.0 + 0j], e))
        return z / (self.patch @ z)

    # -- the form and its derivatives (defaults from the terms) -----------------------------
    def forms(self, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """``p`` (M, K) at the affine unknowns of the rows of ``E`` (M, n), ``h = 1``."""
        E = np.asarray(E, dtype=complex).reshape(-1, self.n)
        Z = np.concatenate((np.ones((E.shape[0], 1), dtype=complex), E), axis=1)
        return self._evaluate(Z, *self._jacobian_terms()[0])

    def numeric_jets(self, e: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
        """``p`` (K,) and its first derivatives in the affine unknowns (K, n), ``h = 1``."""
        A = self.jacobians(np.concatenate(([1.0 + 0j], np.asarray(e, dtype=complex)))[None, :])[0]
        return A[:, 0], A[:, 1:]

    def jets(self, e: list[Any], poly: Any, second: bool) -> tuple[Any, Any, Any]:
        """``p`` (K values), its first derivatives ``P[j]`` (lists of K) and, with ``second``,
        the second derivatives ``P2[j][k]``, at the affine unknowns ``e`` given in a
        python-flint ring (``acb`` balls or ``fmpq`` rationals; ``poly`` is the matching
        polynomial class, ``acb_poly`` or ``fmpq_poly``, which product-structured families use)."""
        import flint

        rational = poly is flint.fmpq_poly

        def const(q: Fraction) -> Any:
            return flint.fmpq(q.numerator, q.denominator) if rational else flint.acb(float(q))

        zero = const(Fraction(0))
        z = [const(Fraction(1))] + list(e)
        n, K = self.n, self.K
        p = [zero] * K
        P = [[zero] * K for _ in range(n)]
        P2: list[list[Any]] = [[[zero] * K for _ in range(n)] for _ in range(n)] if second else []

        def monomial(alpha: NDArray[np.int64]) -> Any:
            out = const(Fraction(1))
            for j, a in enumerate(alpha):
                if a:
                    out = out * z[j] ** int(a)
            return out

        for t in range(self._term_coeff.size):
            alpha = self._term_exps[t].copy()
            row = int(self._term_row[t])
            c = const(self.coeff_exact[t])
            p[row] = p[row] + c * monomial(alpha)
            for j in range(1, self.N):
                if not alpha[j]:
                    continue
                first = alpha.copy()
                first[j] -= 1
                P[j - 1][row] = P[j - 1][row] + c * int(alpha[j]) * monomial(first)
                if not second:
                    continue
                for k in range(1, self.N):
                    if not first[k]:
                        continue
                    both = first.copy()
                    both[k] -= 1
                    P2[j - 1][k - 1][row] = P2[j - 1][k - 1][row] + c * int(alpha[j]) * int(first[k]) * monomial(both)
        return p, P, P2

    # -- judging endpoints -------------------------------------------------------------------
    def point_info(self, chart: int, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """What a result reports per point besides ``v`` (M, r): nothing by default."""
        return np.zeros((np.asarray(E).reshape(-1, self.n).shape[0], 0), dtype=complex)

    def _jacobian_terms(self) -> list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]]:
        """Per column of ``[p, dp/de_1, ..., dp/de_n]``: its terms (exponents, coefficients,
        output rows)."""
        tables = self._jacobian_tables
        if tables is None:
            tables = [(self._term_exps, self._term_coeff, self._term_row)]
            for j in range(1, self.N):
                keep = self._term_exps[:, j] > 0
                exps = self._term_exps[keep].copy()
                coeff = self._term_coeff[keep] * exps[:, j].astype(float)
                exps[:, j] -= 1
                tables.append((exps, coeff, self._term_row[keep]))
            self._jacobian_tables = tables
        return tables

    def _evaluate(self, Z: NDArray[Any], exps: NDArray[np.int64], coeff: NDArray[np.float64], row: NDArray[np.int64],
                  absolute: bool = False) -> NDArray[Any]:
        """One polynomial vector given by its terms at the rows of ``Z`` (M, N): (M, K); with
        ``absolute``, its majorant (absolute values of the coefficients)."""
        out = np.zeros((Z.shape[0], self.K), dtype=float if absolute else complex)
        if coeff.size:
            monomials = np.prod(Z[:, None, :] ** exps[None, :, :], axis=2) * (np.abs(coeff) if absolute else coeff)
            np.add.at(out.T, row, monomials.T)
        return out

    def jacobians(self, Z: NDArray[Any], absolute: bool = False) -> NDArray[Any]:
        """``[p, dp/de]`` (M, K, n + 1) at the homogeneous points ``Z`` (M, N); with
        ``absolute``, the majorant (absolute values of the coefficients) at ``Z`` (real,
        non-negative), which bounds how far each entry moves over a box."""
        return np.stack([self._evaluate(Z, *terms, absolute=absolute) for terms in self._jacobian_terms()], axis=2)

    def batch_nondegenerate(self, boxes: NDArray[np.float64]) -> NDArray[np.bool_] | None:
        """Whether the parametrisation is an immersion on each box (P, n, 4), decided for all
        at once in floating point with a proven margin: at the centre ``c`` the smallest
        singular value of ``A = [p, dp/de]`` must exceed the Frobenius norm of how far ``A``
        can move over the box (the majorant at ``|c| + r`` minus at ``|c|``, for a box of
        radius ``r`` around ``c``) plus ``1e-12`` of the majorant's size for rounding. A box
        this does not decide is tried again by :meth:`box_nondegenerate` in ball arithmetic
        (after a tighter, 128-bit proof)."""
        b = np.asarray(boxes, dtype=float)
        if b.shape[0] == 0 or not np.all(np.isfinite(b)):
            return None if b.shape[0] == 0 else np.zeros(b.shape[0], dtype=bool)
        centre = (b[:, :, 0] + b[:, :, 1]) / 2 + 1j * (b[:, :, 2] + b[:, :, 3]) / 2
        radius = np.hypot(b[:, :, 1] - b[:, :, 0], b[:, :, 3] - b[:, :, 2]) / 2
        radius = radius * (1 + 1e-12) + 1e-300  # the rounding of the midpoints
        ones = np.ones((b.shape[0], 1))
        Z = np.concatenate([ones.astype(complex), centre], axis=1)
        size = np.concatenate([ones, np.abs(centre)], axis=1)
        grown = np.concatenate([ones, np.abs(centre) + radius], axis=1)
        with np.errstate(all="ignore"):
            A = self.jacobians(Z)
            low, high = self.jacobians(size, absolute=True), self.jacobians(grown, absolute=True)
            moved = np.linalg.norm((high - low).reshape(b.shape[0], -1), axis=1)
            margin = moved + 1e-12 * np.linalg.norm(high.reshape(b.shape[0], -1), axis=1)
            smallest = np.linalg.svd(A, compute_uv=False)[:, -1]
        return np.asarray(np.isfinite(margin) & (smallest > margin), dtype=bool)

    def box_nondegenerate(self, box: list[Any]) -> bool:
        """Whether every point of a box (python-flint ``acb`` balls, one per affine unknown)
        is a point where the parametrisation ``(c, e) -> c p(1, e)`` is an immersion: the
        Gram determinant of ``[p, P]`` (K x (n + 1)) excludes 0 on the box. (``a, b != 0`` are
        proven by the caller.)"""
        import flint

        p, P, _ = self.jets(box, flint.acb_poly, False)
        columns = [p] + P
        m = len(columns)
        gram = flint.acb_mat(m, m)
        for i in range(m):
            for j in range(m):
                gram[i, j] = sum((columns[i][r].conjugate() * columns[j][r] for r in range(self.K)), flint.acb(0))
        return not gram.det().contains(0)

    def numerically_degenerate(self, chart: int, e: NDArray[np.complex128], pa: complex, pb: complex,
                               q1: tuple[NDArray[np.complex128], NDArray[np.complex128]]) -> bool:
        """An unproven endpoint that is, to rounding accuracy, no point of the family:
        ``v = 0`` (``a = 0``), no finite scale (``b = 0``) or where the parametrisation is not
        an immersion (``[p, P]`` numerically rank-deficient)."""
        p, P = self.numeric_jets(e)
        size = float(np.linalg.norm(p))
        if abs(pa) <= 1e-10 * size * float(np.linalg.norm(q1[0])) or abs(pb) <= 1e-10 * size**2 * float(
                np.linalg.norm(q1[1])):
            return True
        A = np.column_stack([p, P])
        A = A / np.maximum(np.linalg.norm(A, axis=0), 1e-300)
        s = np.linalg.svd(A, compute_uv=False)
        return bool(s[-1] <= 1e-7 * s[0])

    def rational_off_family(self, v: NDArray[np.complex128]) -> bool:
        """Whether an unproven endpoint ``v`` is exactly a form of another family (a limit the
        paths reach that is not a point of this one). Default: undecided (False)."""
        return False

    def exact_degeneracy(self, certifier: Any, v: NDArray[np.complex128]) -> bool | None:
        """Decide exactly whether the unique solution in the certifier's last proven box is
        degenerate (True) or a point of the family (False); None: not decided."""
        return None

    def trend_measures(self, E: NDArray[np.complex128]) -> list[tuple[NDArray[np.float64], float]]:
        """Measures beyond ``a`` and ``b`` whose fall towards ``s = 1`` shows a degenerate limit
        (used only when :attr:`trend_test` is set), each with the level it must fall to."""
        return []
