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
paths from ``q0`` to ``q1`` (C++, ``lcnfast._core.CriticalSystem.track``: Hermite
multistep predictor with error control, contracting Newton corrector, Cauchy endgame that
classifies each endpoint as regular, singular with its winding number, or at infinity).

**Certification.** Every returned point is proven by the Krawczyk test on the exact
critical equations (the float64 data are exact rationals and the chart is integral): first
for all points at once in C++ interval arithmetic (``lcnfast._core.CriticalSystem.certify``:
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

import contextvars
import copy
import functools
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _saving
from ._homotopy.certify import boxes_apart
from ._homotopy.family import Family, Poly, poly_add, poly_mul
from ._homotopy.solve import proven_complete, solve_soundly, sorted_points, warn_about
from ._homotopy.start import family_for, start_system_cache, warn_unverified
from ._validation import as_int, as_real_array, as_seed, resolve_threads
from ._progress import Progress, ProgressBar

_log = logging.getLogger(__name__)

__all__ = ["StratumCriticalPoints", "StratumMemo", "ed_degree", "generic_count", "start_system_cache", "stratum_critical_points"]

# the start systems' format (part of the seed of every stratum's start system: keep it, or the
# start systems, and the order of their solutions, change)
_FORMAT = 2

CHARTS: tuple[tuple[Fraction, Fraction, Fraction, Fraction], ...] = (
    (Fraction(1), Fraction(5, 16), Fraction(-73, 128), Fraction(1)),
    (Fraction(1), Fraction(-37, 64), Fraction(11, 32), Fraction(1)),
)

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
                    new[i + k] = poly_add(new[i + k], poly_mul(f, g))
            chart = new
    return chart


@functools.lru_cache(maxsize=None)
def _chart_matrix(D: int, chart: int) -> tuple[tuple[Fraction, ...], ...]:
    """Exact ``R`` (K x K): column i holds the coefficients of ``X^(D-i) Y^i`` in the user's
    basis ``x^j y^(D-j)`` (row j)."""
    a, b, c, d = CHARTS[chart]
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



# -- the family of a partition ------------------------------------------------------------
class StratumFamily(Family):
    """The critical equations of the stratum ``Delta_lambda`` (the module docstring): the
    chart coefficients of ``prod_g q_g^{a_g}`` in the unknowns ``(h, e)``, two Moebius
    charts, the product structure for the tracker, and the stratum's own degeneracies
    (colliding roots) and exact checks."""

    trend_test = True

    def __init__(self, lam: tuple[int, ...]) -> None:
        self.lam = lam
        super().__init__(lam, _chart_form(lam), _groups(lam))

    @property
    def label(self) -> str:
        return f"stratum {self.lam}"

    @property
    def seed_text(self) -> str:
        return repr(("lcnfast-stratum", _FORMAT, self.lam))

    @property
    def cache_name(self) -> str:
        return "strata-v3/stratum-" + "-".join(map(str, self.lam)) + ".npz"

    def chart_matrix(self, chart: int) -> tuple[tuple[Fraction, ...], ...]:
        return _chart_matrix(self.K - 1, chart)

    def forms(self, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
        return _forms(self.groups, np.asarray(E, dtype=complex).reshape(-1, self.n), self.K)

    def numeric_jets(self, e: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
        return _numeric_jets(self.groups, e, self.K)

    def jets(self, e: list[Any], poly: Any, second: bool) -> tuple[Any, Any, Any]:
        return _jets(self.groups, e, poly, self.K, second)

    def point_info(self, chart: int, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """The distinct roots ``x/y`` of each form, one per part of lambda."""
        return _user_roots_many(self, chart, np.asarray(E, dtype=complex).reshape(-1, self.n))

    def batch_nondegenerate(self, boxes: NDArray[np.float64]) -> NDArray[np.bool_] | None:
        if all(m == 1 for _, m in self.groups):
            # one root per group, X + e_g Y, so the roots are distinct where the boxes of the
            # e_g are disjoint in some coordinate (exact comparisons of their float bounds:
            # re lo, re hi, im lo, im hi)
            return boxes_apart(boxes)
        return None

    def box_nondegenerate(self, box: list[Any]) -> bool:
        """The roots of the groups pairwise distinct on the box (discriminants and resultants
        exclude 0)."""
        import flint as fl

        monic = []
        offset = 0
        for _, m in self.groups:
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

    def numerically_degenerate(self, chart: int, e: NDArray[np.complex128], pa: complex, pb: complex,
                               q1: tuple[NDArray[np.complex128], NDArray[np.complex128]]) -> bool:
        return _numerically_degenerate(self, chart, e, pa, pb, q1)

    def rational_off_family(self, v: NDArray[np.complex128]) -> bool:
        return _rational_off_stratum(v, self.lam)

    def trend_measures(self, E: NDArray[np.complex128]) -> list[tuple[NDArray[np.float64], float]]:
        return [(root_separation(self.groups, E), 1e-2)]

    def exact_degeneracy(self, certifier: Any, v: NDArray[np.complex128]) -> bool | None:
        """Decides exactly, for the box of the certifier's last proven box whose
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
        import flint as fl

        fam = self
        centre = certifier.centre
        if not certifier.box or centre.size == 0 or not (np.all(np.isfinite(centre)) and np.all(np.isfinite(v))):
            return None
        if float(np.max(np.abs(v.imag))) > 1e-8 * (1.0 + float(np.max(np.abs(v)))):
            return None  # not a real form
        if certifier.R_inverse is None:
            certifier.R_inverse = certifier.R.inv()
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
            p = certifier.R_inverse * fl.fmpq_mat(fam.K, 1, [fl.fmpq(x.numerator, x.denominator) for x in q])
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
                if not all(certifier.box[i].contains(fl.acb(e[i])) for i in range(fam.n)):
                    continue
                equations, a, b = certifier.exact_equations(e)
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

def stratum_family(lam: tuple[int, ...], threads: int) -> StratumFamily:
    """The stratum's family with its start system (memory, disk cache, or monodromy)."""
    family = family_for(("stratum",) + lam, lambda: StratumFamily(lam), threads)
    assert isinstance(family, StratumFamily)
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
    family = stratum_family(_partition(partition), resolve_threads(threads))
    warn_unverified(family)
    return int(family.starts.shape[0])


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
        Every path was accounted for (none failed, none left as a duplicate, none judged
        degenerate by the trend of its last points alone), the start system passed the trace
        test (:func:`generic_count`), and the non-real points come in conjugate pairs (the
        data are real): by the parameter-homotopy theorem every isolated critical point is
        then among the endpoints, so for generic data ``n_complex == generic_count``.
    start : str
        ``"generic"``: the paths started from the stratum's start system (random complex
        weights); ``"weights"``: from start systems for the data's own weights (only ``u``
        moves along the paths), used when the first left paths unaccounted for or judged by
        their trend alone (special weights such as Bombieri-Weyl's, the identity and weights
        near them send many generic paths to degenerate forms).
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
    start: str = "generic"
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

    def real_root_mask(self) -> NDArray[np.bool_]:
        """Which of :attr:`roots` are real, shape (m, parts): within ``1e-8 (1 + |z|)`` of the
        real line, or infinity (distinct roots of a certified point are far further apart)."""
        tol = 1e-8 * (1.0 + np.abs(np.where(np.isfinite(self.roots), self.roots, 0)))
        return np.asarray(np.isinf(self.roots.real) | (np.abs(self.roots.imag) <= tol), dtype=bool)

    def real_root_counts(self) -> NDArray[np.int64]:
        """For each critical form, its real roots with multiplicity (from the stratum's
        structure, so exact multiplicities rather than numerically split clusters)."""
        lam = np.array(self.partition)
        return np.asarray((self.real_root_mask() * lam).sum(axis=1), dtype=np.int64)

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


def partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """The partitions of n, parts in decreasing order."""
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    return [(first,) + rest for first in range(min(n, largest), 0, -1) for rest in partitions(n - first, first)]


def _partition(partition: Any) -> tuple[int, ...]:
    if isinstance(partition, (str, bytes)) or not hasattr(partition, "__iter__"):
        raise TypeError(f"partition: expected a sequence of positive integers, got {partition!r}")
    lam = tuple(sorted((as_int(p, "partition", minimum=1) for p in partition), reverse=True))
    if not lam:
        raise ValueError("partition: needs at least one part")
    if sum(lam) > 12:
        raise ValueError(f"partition: degree D = sum(partition) <= 12 is supported, got {sum(lam)}")
    return lam


def _user_roots(family: StratumFamily, chart: int, e: NDArray[np.complex128]) -> NDArray[np.complex128]:
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


def _user_roots_many(family: StratumFamily, chart: int, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """:func:`_user_roots` for every row of ``E`` (M, n) at once: (M, parts)."""
    a, b, c, d = (float(x) for x in CHARTS[chart])
    ts = _chart_roots_many(family.groups, E)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = a + ts * c
        return np.where(np.abs(denom) > 1e-300, -(b + ts * d) / denom, complex(np.inf))


def root_separation(groups: list[tuple[int, int]], E: NDArray[np.complex128]) -> NDArray[np.float64]:
    """The smallest chordal distance ``|x - y| / sqrt((1 + |x|^2)(1 + |y|^2))`` between two
    distinct roots (:func:`_chart_roots_many`) of each form at the rows of ``E``: (M,), 1
    for a form with a single root. The chart's coordinate is a real Moebius transform of the
    user's, which changes chordal distances by bounded factors only: roots that collide in
    one coordinate collide in the other, at the same rate."""
    return min_chordal(_chart_roots_many(groups, E))


def min_chordal(ts: NDArray[np.complex128]) -> NDArray[np.float64]:
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
    memo = _MEMO.get()
    if memo is None:
        return _solve_stratum(lam, Gm, target, seed_value, n_threads, progress, certify)
    return memo.lookup((lam, Gm.tobytes(), target.tobytes(), seed_value, bool(certify)),
                       lambda: _solve_stratum(lam, Gm, target, seed_value, n_threads, progress, certify))


def _solve_stratum(lam: tuple[int, ...], Gm: NDArray[np.float64], target: NDArray[np.float64], seed_value: int,
                   n_threads: int, progress: Progress, certify: bool) -> StratumCriticalPoints:
    """:func:`stratum_critical_points` on checked arguments."""
    K = sum(lam) + 1
    family = stratum_family(lam, n_threads)
    scale = float(np.max(np.abs(Gm)))
    # the equations are homogeneous in G: scale it to unit size (exact: a power of two; ldexp
    # also for subnormal G, where 2.0 ** 1074 would overflow)
    Gs = np.ldexp(Gm, -math.frexp(scale)[1])
    n_starts = family.starts.shape[0]
    bar = ProgressBar(n_starts, progress, unit="path", desc=f"lcnfast: stratum {lam}") if progress else None
    try:
        solution = solve_soundly(family, Gs, target, seed_value, n_threads, certify, bar)
    finally:
        if bar is not None:
            bar.close()
    counts, paths = solution.counts, solution.paths
    points = sorted_points(solution.rows, Gm, target, len(lam))
    complete = proven_complete(solution, K) and points.unpaired == 0
    warn_unverified(family, stacklevel=4)  # generic_count comes from it, whichever start system answered
    _log.info("stratum %s: %d paths tracked; %s; %d point(s), %d real, %d certified", lam, paths,
              ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items()), len(points.v),
              int(points.real.sum()), int(points.certified.sum()))
    warn_about(f"stratum {lam}", solution, points, certify, stacklevel=3)
    # singular (multiple) points are returned, not lost: their multiplicity and certified=False say so
    return StratumCriticalPoints(v=points.v, roots=points.info, partition=lam, is_real=points.real, loss=points.loss,
                                 certified=points.certified, multiplicity=points.multiplicity, paths=paths,
                                 path_counts=counts, generic_count=int(n_starts), complete=complete,
                                 start=solution.start)


_Result = TypeVar("_Result")


class StratumMemo:
    """Reuse of enumerations within a block: inside ``with memo:``, a call of
    :func:`stratum_critical_points` repeated with the same partition, ``G``, ``u`` (bit for
    bit), seed and ``certify`` returns a copy of the first call's result and issues its
    warnings again; so does a call of :func:`lcnfast.strided_critical_points` whose dilated
    product (its factors: dilation, multiplicity and degree of each, in order) was solved
    before for the same ``G``, ``u``, seed and ``certify``, whichever architecture it came
    from. The result depends on nothing else (not on ``threads`` or ``progress``), so reuse
    changes no answer, only the time.

    Made for sweeps over architectures that share their data: every stride-one architecture of
    degree ``D`` enumerates every stratum of ``D`` for its loss (:func:`lcnfast.critical_points`),
    strided architectures of one degree and stride product share most of their dilated
    products (at ``D = 8`` the 29 strided architectures of the atlas solve 198 products, 29
    of them distinct), and architectures whose losses come from the same samples have the
    same ``G`` and ``u`` (the atlas, :func:`lcnfast.experiments.atlas`, keeps one memo per
    process).

    Parameters
    ----------
    maxsize : int
        Results kept (the least recently used are dropped first).

    Attributes
    ----------
    hits, misses : int
        Calls answered from the memo, and calls computed.

    Examples
    --------
    >>> import numpy as np, lcnfast
    >>> memo = lcnfast.StratumMemo()
    >>> G, u = np.eye(4), np.array([1.0, -2.0, 0.5, 3.0])
    >>> with memo:
    ...     first = lcnfast.stratum_critical_points((2, 1), G, u)
    ...     again = lcnfast.stratum_critical_points((2, 1), G, u)
    >>> (memo.hits, memo.misses, again.n_complex == first.n_complex)
    (1, 1, True)
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = as_int(maxsize, "maxsize", minimum=1)
        self.hits = 0
        self.misses = 0
        self._store: dict[Any, tuple[Any, list[Any]]] = {}
        self._tokens: list[contextvars.Token[StratumMemo | None]] = []

    def __enter__(self) -> StratumMemo:
        self._tokens.append(_MEMO.set(self))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        _MEMO.reset(self._tokens.pop())

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Forget every stored result."""
        self._store.clear()

    @staticmethod
    def active() -> StratumMemo | None:
        """The memo whose ``with`` block the caller is in (the innermost), or None."""
        return _MEMO.get()

    def lookup(self, key: Any, compute: Callable[[], _Result]) -> _Result:
        """The stored result for ``key`` (a copy; its warnings issued again), else
        ``compute()``'s, stored with the warnings it issued."""
        import warnings

        if key in self._store:
            self.hits += 1
            result, caught = self._store.pop(key)
            self._store[key] = (result, caught)  # the most recently used last
        else:
            self.misses += 1
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("always")
                result = compute()
            caught = [(w.message, w.category) for w in recorded]
            self._store[key] = (result, caught)
            while len(self._store) > self.maxsize:
                del self._store[next(iter(self._store))]
        for message, category in caught:
            warnings.warn(message if isinstance(message, Warning) else category(message), stacklevel=3)
        kept: _Result = copy.deepcopy(result)
        return kept

    def __repr__(self) -> str:
        return f"StratumMemo(maxsize={self.maxsize}, stored={len(self)}, hits={self.hits}, misses={self.misses})"


_MEMO: contextvars.ContextVar[StratumMemo | None] = contextvars.ContextVar("lcnfast_stratum_memo", default=None)


def _numerically_degenerate(family: StratumFamily, chart: int, e: NDArray[np.complex128], pa: complex, pb: complex,
                            q1: tuple[NDArray[np.complex128], NDArray[np.complex128]]) -> bool:
    """v = 0 (a = 0), no finite scale (b = 0) or colliding roots, to rounding accuracy."""
    size = float(np.linalg.norm(family.forms(e[None, :])[0]))
    if abs(pa) <= 1e-10 * size * float(np.linalg.norm(q1[0])) or abs(pb) <= 1e-10 * size**2 * float(
            np.linalg.norm(q1[1])):
        return True
    return bool(min_chordal(_user_roots(family, chart, e)[None, :])[0] < 1e-7)


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


def ed_degree(partition: Any, G: ArrayLike, *, seed: Any = 0, threads: int | None = None, rng: Any = None) -> int:
    """Number of complex critical points of ``(v-u)^T G (v-u)`` on ``Delta_lambda`` for a
    random ``u`` (the Euclidean-distance degree of the stratum for the weights ``G``), counted
    from certified points. ``seed`` chooses ``u``."""
    Gm = as_real_array(G, "G")
    seed_value = as_seed(seed, rng=rng)
    u = np.random.default_rng(seed_value + 1).standard_normal(Gm.shape[0])
    return stratum_critical_points(partition, Gm, u, seed=seed_value, threads=threads).n_complex
