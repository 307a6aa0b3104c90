"""Critical points of a quadratic loss on the function spaces of strided LCNs.

For a 1D architecture with strides the end-to-end filter is
``v(x) = w_1(x) w_2(x^{S_2}) ... w_L(x^{S_L})`` (docs/conventions.rst). Layers with the same
dilation ``S`` multiply to one polynomial ``W_S`` in ``y = x^S`` of degree
``D_S = sum (k_l - 1)`` over those layers, and products of stride-one filters are Zariski
dense among polynomials of that degree; so the Zariski closure of the function space is

    V = { c prod_S W_S(x^S) : deg W_S <= D_S },   dim V = 1 + sum_S D_S = sum_l k_l - (L - 1)

(Kohn, Montufar, Shahverdi, Trager, *Function space and critical points of linear
convolutional networks*, SIAGA 2024). Layers of size 1 only scale ``v``.

**The family.** A *dilated product* is ``p = prod_i q_i(x^{S_i})^{a_i}``: factors ``q_i`` of
degree ``m_i`` in ``y = x^{S_i}`` raised to powers ``a_i``. The closure ``V`` is the product
of the factors ``(S, 1, D_S)``; a multiple-root stratum ``lambda_S`` of the layers of one
dilation (where several stride-one layers share roots: repeated filters) is the product of
the factors ``(S, a, m)`` for the ``m`` parts equal to ``a``. Each factor's coefficients are
homogeneous unknowns ``q_i = T_i^{-1} (h, e_i)`` with a fixed dyadic chart matrix ``T_i`` (its
first row a dense dyadic vector ``r``: the chart ``h = 1`` leaves out the factors with
``r . q_i = 0``, which no special data single out, roots at 0 and at infinity included);
``h`` is shared by the factors. The critical equations, the start system (monodromy and the
trace test), tracking, certification and the bookkeeping of every path are the engine's
(:mod:`lcnfast._homotopy`). The second chart is the data transform ``x -> -1/x``
(``v[j] = (-1)^j p[D - j]``), which maps every dilated product to one of the same shape.

**Degenerate points.** A point of the family is one where ``a = w . p`` and
``b = p . Gc p`` are non-zero and the parametrisation ``(c, e) -> c p(1, e)`` is an
immersion. For the closure ``V`` that is exactly where the factors ``W_S(x^S)`` are pairwise
coprime, which is where the Jacobian of ``mu`` has full rank ``dim V`` (the filters of one
dilation coprime too). Every certified point is proven to be such a point (the Gram
determinant of ``[p, dp/de]`` excludes 0 on its box): the sequel's theorem that, for generic
data and all strides > 1, the non-zero critical points are smooth points is *checked* on
every data set, never assumed: an endpoint where the parametrisation is not an immersion is
counted ``degenerate`` and reported (:attr:`StridedCriticalPoints.path_counts`).

Lost paths are never judged by a trend: a path the tracker cannot finish, even along
detours, is ``failed`` and the result ``complete=False`` with a warning.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _saving
from ._homotopy.family import Family, Poly, poly_add, poly_mul
from ._homotopy.solve import merge, proven_complete, solve_soundly, sorted_points, warn_about
from ._homotopy.start import family_for, warn_unverified
from ._progress import Progress, ProgressBar
from ._validation import as_int, as_real_array, as_seed, resolve_threads
from .architecture import Architecture, require_architecture
from .strata import ed_degree as stratum_ed_degree
from .strata import StratumMemo, partitions

__all__ = ["StridedCriticalPoints", "dilation_groups", "ed_degree", "strided_critical_points",
           "strided_generic_count"]

#: A factor of a dilated product: (dilation S, power a, degree m of q in y = x^S).
Factor = tuple[int, int, int]

# The chart's dense first rows r (dyadic): q_i = T^{-1} (h, e) with T = [r; I_m 0], so
# h = r . q and e_j = q[j - 1]; the last entry is 1, so T^{-1} is integral in r (exact).
_CHART_ROW = (Fraction(5, 16), Fraction(-3, 8), Fraction(7, 32), Fraction(-9, 64), Fraction(11, 128),
              Fraction(-13, 256), Fraction(15, 512), Fraction(-17, 1024), Fraction(19, 2048),
              Fraction(-21, 4096), Fraction(23, 8192), Fraction(-25, 16384), Fraction(27, 32768),
              Fraction(-29, 65536), Fraction(31, 131072), Fraction(-33, 262144))


def _factor_form(m: int, offset: int, N: int) -> list[Poly]:
    """The m + 1 coefficients (ascending in y) of one factor in the unknowns ``z`` (N of them;
    the factor's own ``e`` start at ``offset``): ``q[j] = e_(j+1)`` for ``j < m`` and
    ``q[m] = h - sum_j r_j e_(j+1)``, so that ``r . q = h`` (``r_m = 1``)."""
    def unit(k: int) -> tuple[int, ...]:
        return tuple(1 if i == k else 0 for i in range(N))

    q: list[Poly] = [{unit(offset + j): Fraction(1)} for j in range(m)]
    last: Poly = {unit(0): Fraction(1)}
    for j in range(m):
        last = poly_add(last, {unit(offset + j): -_CHART_ROW[j]})
    q.append(last)
    return q


def _factor_map(factors: tuple[Factor, ...]) -> NDArray[np.float64]:
    """The coefficients of every factor (ascending in ``y``) as linear forms in the ``N``
    homogeneous unknowns, one row per coefficient (:func:`_factor_form`'s, for the C++
    product evaluation): ``q[j] = e_(j+1)``, ``q[m] = h - sum_j r_j e_(j+1)``."""
    N = 1 + sum(m for _, _, m in factors)
    rows = []
    offset = 1
    for _, _, m in factors:
        for j in range(m):
            row = np.zeros(N)
            row[offset + j] = 1.0
            rows.append(row)
        last = np.zeros(N)
        last[0] = 1.0
        for j in range(m):
            last[offset + j] = -float(_CHART_ROW[j])
        rows.append(last)
        offset += m
    return np.array(rows, dtype=float).reshape(len(rows), N)


@functools.lru_cache(maxsize=None)
def _dilated_form(factors: tuple[Factor, ...]) -> tuple[list[Poly], int]:
    """The coefficients (ascending in x) of ``prod_i q_i(x^S_i)^a_i`` as polynomials in the
    homogeneous unknowns, and their number K."""
    n = sum(m for _, _, m in factors)
    N = n + 1
    K = 1 + sum(S * a * m for S, a, m in factors)
    unit0 = tuple([0] * N)
    form: list[Poly] = [{unit0: Fraction(1)}]
    offset = 1
    for S, a, m in factors:
        q = _factor_form(m, offset, N)
        offset += m
        dilated: list[Poly] = [{} for _ in range(S * m + 1)]
        for j, c in enumerate(q):
            dilated[S * j] = c
        for _ in range(a):
            new: list[Poly] = [{} for _ in range(len(form) + S * m)]
            for i, f in enumerate(form):
                if not f:
                    continue
                for k, g in enumerate(dilated):
                    if g:
                        new[i + k] = poly_add(new[i + k], poly_mul(f, g))
            form = new
    assert len(form) == K
    return form, K


def _dilated_jets(factors: tuple[Factor, ...], e: list[Any], poly: Any, K: int, second: bool
                  ) -> tuple[Any, Any, Any]:
    """:meth:`Family.jets` of ``prod_i Q_i^a_i``, ``Q_i(x) = q_i(x^S_i)``, from the product rule
    instead of the expanded terms (the certifier's ball arithmetic and exact checks): ``q_i``'s
    coefficients are linear in its unknowns (:func:`_factor_form`, ``h = 1``), so
    ``dQ_i/de_(i,j) = x^(S_i j) - r_j x^(S_i m_i)``, and ``dp/de_(i,j) = a_i Q_i^(a_i - 1)
    dQ_i/de_(i,j) prod_(k != i) Q_k^a_k``; second derivatives likewise (each ``Q_i`` is linear in
    its unknowns). ``poly`` is ``acb_poly`` (balls) or ``fmpq_poly`` (exact)."""
    import flint

    rational = poly is flint.fmpq_poly

    def const(q: Fraction) -> Any:
        return flint.fmpq(q.numerator, q.denominator) if rational else flint.acb(float(q))

    one, zero = const(Fraction(1)), const(Fraction(0))
    Q, dQ, offsets = [], [], []
    offset = 0
    for S, _, m in factors:
        coefficients = [zero] * (S * m + 1)
        last = one
        for j in range(m):
            coefficients[S * j] = e[offset + j]
            last = last - const(_CHART_ROW[j]) * e[offset + j]
        coefficients[S * m] = last
        Q.append(poly(coefficients))
        derivatives = []
        for j in range(m):
            d = [zero] * (S * m + 1)
            d[S * j] = one
            d[S * m] = -const(_CHART_ROW[j])
            derivatives.append(poly(d))
        dQ.append(derivatives)
        offsets.append(offset)
        offset += m
    F = len(factors)
    power = [[Q[i] ** (factors[i][1] - r) if factors[i][1] >= r else None for r in range(3)] for i in range(F)]

    def product(drop: dict[int, int]) -> Any:
        f = poly([one])
        for i in range(F):
            f = f * power[i][drop.get(i, 0)]
        return f

    def padded(f: Any, scale: int) -> list[Any]:
        c = list(f.coeffs())
        return [c[i] * scale if i < len(c) else zero for i in range(K)]

    p = padded(product({}), 1)
    P: list[Any] = [None] * offset
    for i, (_, a, m) in enumerate(factors):
        base = product({i: 1})
        for j in range(m):
            P[offsets[i] + j] = padded(base * dQ[i][j], a)
    P2: list[list[Any]] = [[None] * offset for _ in range(offset)] if second else []
    if second:
        for i, (_, a, m) in enumerate(factors):
            for k, (_, b, n) in enumerate(factors):
                if k < i:
                    continue
                if i == k and a < 2:
                    for j in range(m):
                        for l in range(m):
                            P2[offsets[i] + j][offsets[i] + l] = [zero] * K
                    continue
                f, scale = (product({i: 2}), a * (a - 1)) if i == k else (product({i: 1, k: 1}), a * b)
                for j in range(m):
                    for l in range(n):
                        value = padded(f * dQ[i][j] * dQ[k][l], scale)
                        P2[offsets[i] + j][offsets[k] + l] = value
                        P2[offsets[k] + l][offsets[i] + j] = value
    return p, P, P2


class DilatedFamily(Family):
    """The critical equations on the dilated product ``prod_i q_i(x^S_i)^a_i`` (the module
    docstring): evaluated from the product structure (C++ tracking and the certifier's
    jets), with its immersion test as the non-degeneracy proof."""

    def __init__(self, factors: tuple[Factor, ...]) -> None:
        self.factors = factors
        form, _ = _dilated_form(factors)
        super().__init__(("dilated",) + tuple(factors), form, groups=[(a, m) for _, a, m in factors],
                         dilations=[S for S, _, _ in factors], group_map=_factor_map(factors))

    @property
    def label(self) -> str:
        return "dilated product " + " * ".join(
            f"q{m}(x^{S})" + (f"^{a}" if a > 1 else "") for S, a, m in self.factors)

    @property
    def cache_name(self) -> str:
        return "dilated-v1/" + "_".join(f"{S}-{a}-{m}" for S, a, m in self.factors) + ".npz"

    def jets(self, e: list[Any], poly: Any, second: bool) -> tuple[Any, Any, Any]:
        return _dilated_jets(self.factors, e, poly, self.K, second)

    def point_info(self, chart: int, E: NDArray[np.complex128]) -> NDArray[np.complex128]:
        """The factors' coefficients (ascending in ``y = x^S``, in the user's orientation, each
        up to scale), concatenated in factor order: (M, sum (m_i + 1))."""
        E = np.asarray(E, dtype=complex).reshape(-1, self.n)
        out = []
        offset = 0
        for S, _, m in self.factors:
            e = E[:, offset:offset + m]
            offset += m
            r = np.array([float(x) for x in _CHART_ROW[:m]])
            q = np.concatenate([e, (1.0 - e @ r)[:, None]], axis=1)  # q[j] = e_(j+1), q[m] = h - r . e
            if chart == 1:  # x -> -1/x: q_user[m - j] = (-1)^(S (m + j)) q[j]
                signs = np.array([(-1.0) ** (S * (m + j)) for j in range(m + 1)])
                q = (q * signs)[:, ::-1]
            out.append(q)
        return np.concatenate(out, axis=1) if out else np.zeros((E.shape[0], 0), dtype=complex)

    def chart_matrix(self, chart: int) -> tuple[tuple[Fraction, ...], ...]:
        K = self.K
        if chart == 0:
            return tuple(tuple(Fraction(int(i == j)) for j in range(K)) for i in range(K))
        # x -> -1/x: v[j] = (-1)^j p[D - j] (a dilated product stays one of the same shape)
        D = K - 1
        return tuple(tuple(Fraction((-1) ** j) if i == D - j else Fraction(0) for i in range(K)) for j in range(K))


def _factors_key(factors: Any) -> tuple[Factor, ...]:
    out = []
    for f in factors:
        S, a, m = (int(x) for x in f)
        if S < 1 or a < 1 or m < 1:
            raise ValueError(f"factors: each (S, a, m) needs S, a, m >= 1, got {f!r}")
        out.append((S, a, m))
    if not out:
        raise ValueError("factors: needs at least one factor")
    if len(set((S, a) for S, a, _ in out)) != len(out):
        raise ValueError("factors: equal (S, a) must be one factor of higher degree")
    return tuple(sorted(out))


def dilated_family(factors: Any, threads: int | None = None) -> DilatedFamily:
    """The family of a dilated product (factors ``(S, a, m)``) with its start system
    (memory, the disk cache, or monodromy and the trace test)."""
    key = _factors_key(factors)
    n = sum(m for _, _, m in key)
    K = 1 + sum(S * a * m for S, a, m in key)
    if n + 2 > 16 or K > 16:
        raise ValueError(f"factors: at most 14 unknowns and 16 coefficients are supported, got {n} and {K}")
    family = family_for(("dilated",) + key, lambda: DilatedFamily(key), resolve_threads(threads))
    assert isinstance(family, DilatedFamily)
    return family


def dilation_groups(arch: Any) -> dict[int, list[int]]:
    """The layers of a 1D architecture by dilation: ``{S: [l, ...]}`` for the layers with
    ``k_l > 1`` (0-based), in increasing ``S`` (size-1 layers only scale ``v``).

    Examples
    --------
    >>> import lcnfast
    >>> lcnfast.dilation_groups(lcnfast.Architecture([2, 3, 2], [1, 2, 1]))
    {1: [0, 1], 2: [2]}
    """
    arch = require_architecture(arch)
    if arch.ndim != 1 or arch.is_circular:
        raise ValueError("arch: dilation groups are defined for 1D architectures with valid layers")
    groups: dict[int, list[int]] = {}
    for layer, (k, S) in enumerate(zip(arch.k, arch.dilations)):
        if k > 1:
            groups.setdefault(int(S), []).append(layer)
    return dict(sorted(groups.items()))


def _top_factors(arch: Architecture) -> tuple[Factor, ...]:
    return tuple((S, 1, sum(arch.k[layer] - 1 for layer in layers)) for S, layers in dilation_groups(arch).items())


def _stratum_factors(arch: Architecture, stratum: Any) -> tuple[Factor, ...]:
    """The factors of a tuple of partitions, one per dilation group (``lambda_S`` of ``D_S``)."""
    groups = dilation_groups(arch)
    if stratum is None:
        return _top_factors(arch)
    if isinstance(stratum, (str, bytes)) or not hasattr(stratum, "__iter__"):
        raise TypeError(f"stratum: expected one partition per dilation group, got {stratum!r}")
    parts = []
    for lam in stratum:
        if isinstance(lam, (str, bytes)) or not hasattr(lam, "__iter__"):
            raise TypeError(f"stratum: expected one partition (a sequence of positive integers) per dilation group, "
                            f"got {lam!r}")
        parts.append(tuple(as_int(x, "stratum", minimum=1) for x in lam))
    if len(parts) != len(groups):
        raise ValueError(f"stratum: expected {len(groups)} partitions (dilations {list(groups)}), got {len(parts)}")
    factors = []
    for (S, layers), lam in zip(groups.items(), parts):
        D_S = sum(arch.k[layer] - 1 for layer in layers)
        if sum(lam) != D_S or min(lam, default=0) < 1:
            raise ValueError(f"stratum: the partition for dilation {S} must have positive parts adding up to {D_S}, "
                             f"got {lam}")
        for a in sorted(set(lam), reverse=True):
            factors.append((S, a, lam.count(a)))
    return tuple(sorted(factors))


def dilated_factors(arch: Any, stratum: Any = None) -> tuple[Factor, ...]:
    """The dilated product ``prod_i q_i(x^S_i)^a_i`` whose critical points
    :func:`strided_critical_points` finds for ``arch`` and ``stratum``, as its factors ``(S_i,
    a_i, m_i)`` (dilation, power, degree of ``q_i`` in ``y = x^S_i``), sorted.

    Architectures with the same factors have the same Zariski closure (or sub-family), so the
    same critical points for the same data (:class:`lcnfast.StratumMemo` reuses them).

    Examples
    --------
    >>> import lcnfast
    >>> from lcnfast.strided import dilated_factors
    >>> dilated_factors(lcnfast.Architecture([3, 2], [2, 1]))          # q(x) r(x^2), q quadratic
    ((1, 1, 2), (2, 1, 1))
    >>> dilated_factors(lcnfast.Architecture([2, 2, 2], [1, 2, 1]), stratum=((2,), (1,)))   # q(x)^2 r(x^2)
    ((1, 2, 1), (2, 1, 1))
    """
    return _stratum_factors(require_architecture(arch), stratum)


def stratum_tuples(arch: Any) -> list[tuple[tuple[int, ...], ...]]:
    """The tuples of partitions, one per dilation group, whose dilated products hold the
    critical points of the training loss: every partition of ``D_S`` for a group of several
    layers (their shared roots are repeated filters), only ``(1, ..., 1)`` for a group of one
    layer (one filter's multiple roots do not make the Jacobian drop rank). The first tuple is
    the closure of the function space."""
    arch = require_architecture(arch)
    choices = []
    for S, layers in dilation_groups(arch).items():
        D_S = sum(arch.k[layer] - 1 for layer in layers)
        if len(layers) == 1:
            choices.append([(1,) * D_S])
        else:
            choices.append(sorted(partitions(D_S), key=lambda lam: (len(lam) != D_S, lam)))
    return [tuple(c) for c in itertools.product(*choices)]


def dilation_polynomials(factors: tuple[Factor, ...], q: NDArray[np.float64]) -> dict[int, NDArray[np.float64]]:
    """``W_S = prod q_i^a_i`` over the factors of dilation ``S`` (ascending in ``y = x^S``, unit
    max-norm), from one row of :attr:`StridedCriticalPoints.q`."""
    W: dict[int, NDArray[np.float64]] = {}
    offset = 0
    for S, a, m in factors:
        factor = np.asarray(q[offset:offset + m + 1])
        offset += m + 1
        power = np.ones(1)
        for _ in range(a):
            power = np.convolve(power, factor)
        W[S] = np.convolve(W.get(S, np.ones(1)), power)
    return {S: w / np.max(np.abs(w)) for S, w in W.items()}


@dataclass(frozen=True)
class StridedCriticalPoints:
    """Complex critical points of ``l(v) = (v-u)^T G (v-u)`` on a dilated product (by
    default the Zariski closure of a strided function space) at points where its
    parametrisation is an immersion.

    Attributes
    ----------
    v : ndarray, shape (m, K), complex
        The critical filters (the user's coefficients, ascending powers).
    factors : tuple of (int, int, int)
        The dilated product ``prod q_i(x^S_i)^a_i`` as ``(S_i, a_i, m_i)``.
    q : ndarray, shape (m, sum_i (m_i + 1)), complex
        Per point, the coefficients of its factors ``q_i`` (ascending powers of
        ``y = x^S_i``, each up to scale), concatenated in the order of :attr:`factors`:
        ``v`` is a multiple of ``prod_i q_i(x^S_i)^a_i``.
    is_real : ndarray of bool, shape (m,)
        Real critical points (proven real when certified: the box is symmetric under
        conjugation).
    loss : ndarray, shape (m,)
        ``(v-u)^T G (v-u)`` (real part) at each.
    certified : ndarray of bool, shape (m,)
        A Krawczyk test proved a box around the point holding exactly one solution of the
        critical equations, a point where ``a, b != 0`` and the parametrisation is an
        immersion (a smooth point of the family's image), real for a real point; the boxes
        are pairwise disjoint.
    multiplicity : ndarray of int, shape (m,)
        Paths that ended at each point (more than 1: a singular solution, not certified).
    paths : int
    path_counts : dict of str to int
        How the paths ended, as for :class:`lcnfast.StratumCriticalPoints`; ``degenerate``
        counts endpoints with ``v = 0``, no finite scale, or where the parametrisation is
        not an immersion (a singular point of the function space, or the Jacobian of ``mu``
        dropping rank).
    generic_count : int
        Complex critical points for generic data: the ED degree of the family's image
        for the weights' generic kind.
    complete : bool
        Every path accounted for (none failed or left a duplicate, none judged degenerate by
        the trend of its last points alone), the start system passed the trace test, and
        every non-real point came with its complex conjugate (the data are real); or as many
        certified points as :attr:`generic_count` (no data have more isolated ones).
    start : str
        ``"generic"``: tracked from the family's start system (random complex weights);
        ``"weights"``: from start systems for the data's own weights, used when the first
        left paths or points unaccounted for (special weights such as the identity send many
        generic paths to degenerate forms).
    provenance : dict or None
    """

    v: NDArray[np.complex128]
    factors: tuple[tuple[int, int, int], ...]
    q: NDArray[np.complex128]
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

    def __post_init__(self) -> None:
        # factors come back from a file as lists: keep them tuples (hashable, comparable)
        object.__setattr__(self, "factors", tuple(tuple(int(x) for x in f) for f in self.factors))

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

    @property
    def n_singular_points(self) -> int:
        """Endpoints at points where the parametrisation is not an immersion, ``v != 0``
        (the sequel predicts none for generic data when every stride is > 1): the
        ``degenerate`` paths that did not end at ``v = 0`` or at no finite scale are counted
        there too, so this is an upper bound, 0 when no path was degenerate."""
        return int(self.path_counts.get("degenerate", 0))

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.path_counts.items() if v)
        return (f"StridedCriticalPoints(factors={self.factors}, complex={self.n_complex}, real={self.n_real}, "
                f"certified={int(self.certified.sum())}, generic_count={self.generic_count}, "
                f"complete={self.complete}, paths={self.paths}: {counts})")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to one ``.npz`` file (arrays, fields and provenance; no pickle), atomically.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        pathlib.Path
        """
        return _saving.save_dataclass(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StridedCriticalPoints:
        """Load a result saved by :meth:`save`, field for field.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        StridedCriticalPoints
        """
        return _saving.load_dataclass(cls, path)


def _check_data(K: int, G: ArrayLike, u: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    Gm = as_real_array(G, "G")
    target = as_real_array(u, "u")
    if Gm.shape != (K, K):
        raise ValueError(f"G: expected shape ({K}, {K}) for filters of size {K}, got {Gm.shape}")
    if not np.array_equal(Gm, Gm.T):
        raise ValueError("G: must be symmetric")
    if target.shape != (K,):
        raise ValueError(f"u: expected shape ({K},), got {target.shape}")
    if not np.any(Gm):
        raise ValueError("G: the zero matrix makes every filter critical")
    return Gm, target


def strided_critical_points(arch: Any, G: ArrayLike, u: ArrayLike, *, stratum: Any = None, seed: Any = 0,
                            threads: int | None = None, progress: Progress = False, certify: bool = True,
                            rng: Any = None) -> StridedCriticalPoints:
    """All complex critical points of ``l(v) = (v-u)^T G (v-u)`` on the Zariski closure of the
    function space of a 1D architecture (any strides), or on one of its multiple-root
    sub-families, certified.

    Parameter homotopy from the family's cached start system (see the module docstring):
    one path per critical point of generic data; failed and jumped paths are tracked again
    along detours through random parameters (seeded by ``seed``); every returned point is
    certified (Krawczyk) and proven to be a point where the parametrisation is an immersion.
    Distinct points are distinct filters ``v`` (not distinct factorisations).

    Parameters
    ----------
    arch : Architecture
        1D, valid layers, any strides; the end-to-end filter has at most 16 coefficients and
        ``sum_l (k_l - 1) <= 14``.
    G : array_like, shape (K, K)
        Symmetric weights (need not be definite).
    u : array_like, shape (K,)
    stratum : sequence of partitions, optional
        One partition ``lambda_S`` of ``D_S`` per dilation group (:func:`dilation_groups`, in
        increasing ``S``): the filters ``prod_S P_S(x^S)`` with ``P_S`` on the stratum
        ``lambda_S``. Default: all ``(1, ..., 1)``, the closure of the function space.
    seed, rng : int or numpy.random.Generator
        Seeds the detours (the points returned do not depend on it).
    threads : int, optional
        C++ threads over the paths (results do not depend on it).
    progress : bool or callable
        A progress bar over the paths; Ctrl-C stops with ``KeyboardInterrupt``.
    certify : bool
        Run the Krawczyk tests (default).

    Returns
    -------
    StridedCriticalPoints

    Examples
    --------
    >>> import numpy as np
    >>> import lcnfast
    >>> arch = lcnfast.Architecture([2, 2], [2, 1])        # v = w1(x) w2(x^2): 2 x 2 rank-one matrices
    >>> found = lcnfast.strided_critical_points(arch, np.eye(4), [1.0, 2.0, 3.0, 4.0])
    >>> found.n_complex, found.n_real, found.all_certified, found.complete   # Eckart-Young: min(2, 2)
    (2, 2, True, True)
    """
    arch = require_architecture(arch)
    factors = _stratum_factors(arch, stratum)
    K = int(arch.filter_shape[0])
    Gm, target = _check_data(K, G, u)
    seed_value = as_seed(seed, rng=rng)
    n_threads = resolve_threads(threads)
    memo = StratumMemo.active()  # a dilated product shared by several architectures is solved once
    if memo is None:
        return _solve_factors(factors, Gm, target, seed_value, n_threads, progress, certify)
    return memo.lookup(("dilated", factors, Gm.tobytes(), target.tobytes(), seed_value, bool(certify)),
                       lambda: _solve_factors(factors, Gm, target, seed_value, n_threads, progress, certify))


def _solve_factors(factors: tuple[Factor, ...], Gm: NDArray[np.float64], target: NDArray[np.float64], seed_value: int,
                   n_threads: int, progress: Progress, certify: bool) -> StridedCriticalPoints:
    K = Gm.shape[0]
    family = dilated_family(factors, n_threads)
    if family.K != K:
        raise ValueError(f"G, u: the dilated product {factors} has {family.K} coefficients, the data {K}")
    scale = float(np.max(np.abs(Gm)))
    Gs = np.ldexp(Gm, -math.frexp(scale)[1])  # the equations are homogeneous in G: exact rescaling
    n_starts = family.generic_count
    bar = ProgressBar(n_starts, progress, unit="path", desc=f"lcnfast: {family.label}") if progress else None
    try:
        solution = solve_soundly(family, Gs, target, seed_value, n_threads, certify, bar)
        # one filter reached through several factorisations (or charts) is one point
        points = sorted_points(merge(solution.rows), Gm, target, sum(m + 1 for _, _, m in factors))
    finally:
        if bar is not None:
            bar.close()
    Q = points.info
    Q[points.real] = Q[points.real].real
    counts = dict(solution.counts)
    counts["regular"] = int(np.sum(points.multiplicity == 1))
    complete = proven_complete(solution, K) and points.unpaired == 0
    warn_unverified(family, stacklevel=4)  # generic_count comes from it, whichever start system answered
    warn_about(family.label, solution, points, certify, stacklevel=3)
    return StridedCriticalPoints(v=points.v, factors=factors, q=Q, is_real=points.real, loss=points.loss,
                                 certified=points.certified, multiplicity=points.multiplicity, paths=solution.paths,
                                 path_counts=counts, generic_count=int(n_starts), complete=bool(complete),
                                 start=solution.start)


def strided_generic_count(arch: Any, *, stratum: Any = None, threads: int | None = None) -> int:
    """The number of complex critical points of ``(v-u)^T G (v-u)`` on the closure of the
    function space of ``arch`` (or a sub-family, see :func:`strided_critical_points`) for
    generic complex data ``(G, u)``: the size of its start system, proven complete by the
    trace test (a ``RuntimeWarning`` says when it was not).

    Examples
    --------
    >>> import lcnfast
    >>> lcnfast.strided_generic_count(lcnfast.Architecture([2, 2], [2, 1]))  # a quadric surface
    6
    """
    arch = require_architecture(arch)
    family = dilated_family(_stratum_factors(arch, stratum), threads)
    warn_unverified(family)
    return family.generic_count


def ed_degree(partition: Any, G: ArrayLike, *, seed: Any = 0, threads: int | None = None, rng: Any = None) -> int:
    """Number of complex critical points of ``(v-u)^T G (v-u)`` for a random ``u`` (seeded by
    ``seed``), counted from certified points: the Euclidean-distance degree for the weights
    ``G`` of

    * ``partition`` a partition ``lambda``: the stratum ``Delta_lambda``
      (:func:`lcnfast.stratum_critical_points`);
    * ``partition`` an :class:`Architecture` (1D, any strides): the Zariski closure of its
      function space (:func:`strided_critical_points`); 1 when the space is full-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> import lcnfast
    >>> lcnfast.ed_degree((3,), np.eye(4)), lcnfast.ed_degree(lcnfast.Architecture([2, 3], [2, 1]), np.eye(6))
    (7, 2)
    """
    if not isinstance(partition, Architecture):
        return stratum_ed_degree(partition, G, seed=seed, threads=threads, rng=rng)
    arch = partition
    K = int(arch.filter_shape[0])
    Gm = as_real_array(G, "G")
    seed_value = as_seed(seed, rng=rng)
    u = np.random.default_rng(seed_value + 1).standard_normal(K)
    return strided_critical_points(arch, Gm, u, seed=seed_value, threads=threads).n_complex
