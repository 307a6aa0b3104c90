"""The function space of an LCN: its dimension and whether it fills the space of filters.

The function space ``M`` of an architecture is the image of the parameterisation map
``mu`` (DESIGN.md section 3). Facts implemented here:

* stride one, 1D: ``M`` is full dimensional (``dim = k``); it is *filling* (all of
  ``R^k``) iff at most one filter has even size (``e <= 1``);
* strides > 1 (sequel paper): ``dim M = sum_l k_l - (L - 1)``, full dimensional iff
  ``(k_l - 1)(S_l - 1) = 0`` for every layer, otherwise *thin*;
* circular and 2D: ``dim M`` is the generic rank of the Jacobian of ``mu``, computed here
  exactly (see :meth:`FunctionSpace.dim`), never assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_real, as_real_array, resolve_threads
from .architecture import Architecture, require_architecture
from .parameterisation import end_to_end, jacobian

__all__ = [
    "Factorization",
    "FunctionSpace",
    "RootStructure",
    "discriminant",
    "generic_jacobian_rank",
    "jacobian_rank",
    "real_root_count",
    "root_structure",
]

# A prime near 2^61: ranks of integer matrices are computed modulo it (exact arithmetic).
_PRIME = 2305843009213693951


def jacobian_rank(arch: Architecture, theta: ArrayLike, rtol: float | None = None, *,
                  threads: int | None = None) -> Any:
    """Numerical rank of the Jacobian of ``mu`` at ``theta``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (B, P)
    rtol : float, optional
        Singular values below ``rtol * sigma_max`` count as zero (default
        ``max(k, P) * machine epsilon``, numpy's ``matrix_rank`` rule).

    Returns
    -------
    int, or ndarray of int with shape (B,)
    """
    J = jacobian(arch, theta, threads=threads)
    single = J.ndim == len(arch.filter_shape) + 1
    rows = J.reshape((1 if single else J.shape[0], -1, arch.n_params))
    s = np.linalg.svd(rows, compute_uv=False)
    tol = (max(rows.shape[1:]) * np.finfo(np.float64).eps if rtol is None
           else as_real(rtol, "rtol", nonnegative=True))
    ranks = np.sum(s > tol * s[:, :1], axis=1)
    ranks[s[:, 0] == 0] = 0
    return int(ranks[0]) if single else ranks


def _rank_mod_p(matrix: list[list[int]]) -> int:
    """Rank of an integer matrix over GF(p): a lower bound of its rank over Q, equal to it
    unless p divides every maximal nonzero minor (vanishingly unlikely for a 61-bit p)."""
    rows = [[x % _PRIME for x in row] for row in matrix]
    rank = 0
    n_cols = len(rows[0]) if rows else 0
    for col in range(n_cols):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        inverse = pow(rows[rank][col], _PRIME - 2, _PRIME)
        for r in range(len(rows)):
            if r != rank and rows[r][col]:
                factor = rows[r][col] * inverse % _PRIME
                rows[r] = [(a - factor * b) % _PRIME for a, b in zip(rows[r], rows[rank])]
        rank += 1
        if rank == len(rows):
            break
    return rank


def generic_jacobian_rank(arch: Architecture, *, trials: int = 3, seed: int = 0) -> int:
    """The generic rank of the Jacobian of ``mu``, i.e. ``dim M``, computed exactly.

    The Jacobian is evaluated at random *integer* parameters, where its entries are
    integers that float64 holds exactly, and its rank is taken in exact modular
    arithmetic. The rank at any point is at most the generic rank and equals it outside
    a proper algebraic subset, so the maximum over a few random points is the generic
    rank with overwhelming probability (Schwartz-Zippel).
    """
    require_architecture(arch)
    rng = np.random.default_rng(seed)
    best = 0
    bound = arch.filter_size if arch.ndim == 1 else int(np.prod(arch.filter_shape))
    for _ in range(max(1, int(trials))):
        theta = rng.integers(-9, 10, size=arch.n_params).astype(np.float64)
        J = jacobian(arch, theta, threads=1).reshape(-1, arch.n_params)
        # entries are sums of products of at most L-1 integers below 10 in size: exact
        # in float64 for every architecture lcnfast accepts in practice; check anyway
        if np.abs(J).max(initial=0.0) >= 2.0**52:
            raise ValueError("arch: Jacobian entries too large for an exact rank; use jacobian_rank")
        best = max(best, _rank_mod_p([[int(x) for x in row] for row in J]))
        if best == min(bound, arch.n_params):
            break
    return best


def _filter_rows(v: ArrayLike, name: str = "v") -> tuple[NDArray[np.float64], bool]:
    array = as_real_array(v, name)
    if array.ndim == 1:
        return array.reshape(1, -1), True
    if array.ndim == 2:
        return array, False
    raise ValueError(f"{name}: expected a filter (k,) or a batch (B, k), got shape {array.shape}")


def _exact_counts(coefficients: NDArray[np.float64]) -> tuple[int, int]:
    """(real roots with multiplicity, real roots of odd multiplicity) of the binary form,
    exactly, for the rows the C++ fast paths could not certify.

    The float64 coefficients are turned into the integers they are (up to a common power
    of two); python-flint splits the polynomial into square-free factors exactly, and the
    real roots of each factor (no multiple roots any more) are counted by the certified C++
    Sturm chain, or, failing that, by an exact Sturm chain in flint's rational arithmetic.
    """
    k = coefficients.size
    nonzero = np.flatnonzero(coefficients)
    lo, hi = int(nonzero[0]), int(nonzero[-1])
    total = lo + (k - 1 - hi)
    odd = lo % 2 + (k - 1 - hi) % 2
    if hi == lo:
        return total, odd
    integers = _integer_form(coefficients[lo : hi + 1])
    try:
        import flint
    except ImportError:  # pragma: no cover - python-flint is a dependency; sympy as a last resort
        import sympy  # type: ignore[import-untyped,unused-ignore]

        x = sympy.Symbol("x")
        poly = sympy.Poly(list(reversed(integers)), x)
        for factor, multiplicity in poly.sqf_list()[1]:
            n_real = factor.count_roots()  # square-free: distinct = with multiplicity
            total += multiplicity * n_real
            odd += (multiplicity % 2) * n_real
        return total, odd
    _, factors = flint.fmpz_poly(integers).factor_squarefree()
    for factor, multiplicity in factors:
        n_real = _square_free_real_roots(flint, [int(c) for c in factor.coeffs()])
        total += int(multiplicity) * n_real
        odd += (int(multiplicity) % 2) * n_real
    return total, odd


def _square_free_real_roots(flint: Any, coefficients: list[int]) -> int:
    """Real roots of a square-free integer polynomial (ascending coefficients), exactly."""
    if len(coefficients) <= 1:
        return 0
    if max(abs(c) for c in coefficients) < 2**53:  # exactly representable: try the C++ chain
        total, _, certified, _ = _core.count_real_roots(np.array([coefficients], dtype=np.float64), 1)
        if certified[0]:
            return int(total[0])
    poly: Any = flint.fmpq_poly(coefficients)
    chain = [poly, poly.derivative()]
    while chain[-1].degree() > 0:
        remainder = -(chain[-2] % chain[-1])
        if remainder == 0:
            break
        chain.append(remainder)

    def sign(p: Any, at_minus_infinity: bool) -> int:
        s = 1 if p.coeffs()[-1] > 0 else -1
        return -s if at_minus_infinity and p.degree() % 2 else s

    changes_plus = sum(sign(a, False) != sign(b, False) for a, b in zip(chain, chain[1:]))
    changes_minus = sum(sign(a, True) != sign(b, True) for a, b in zip(chain, chain[1:]))
    return int(changes_minus - changes_plus)


def _root_counts(v: ArrayLike, threads: int | None = None) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                                    NDArray[np.bool_]]:
    """Exact (total, odd-multiplicity) real-root counts of filters, and the zero-form mask."""
    rows, _ = _filter_rows(v)
    raw_total, raw_odd, certified, zero = _core.count_real_roots(rows, resolve_threads(threads))
    total = np.asarray(raw_total, dtype=np.int64)
    odd = np.asarray(raw_odd, dtype=np.int64)
    for i in np.flatnonzero((np.asarray(certified) == 0) & (np.asarray(zero) == 0)):
        total[i], odd[i] = _exact_counts(rows[i])
    return total, odd, np.asarray(zero, dtype=bool)


def real_root_count(v: ArrayLike, *, threads: int | None = None) -> Any:
    """Number of real roots of the binary form of ``v``, with multiplicity, infinity included.

    Exact for the given float64 coefficients (which are exact rationals): a certified
    floating-point Sturm chain or exact integer Sturm chains decide almost every input in
    C++; the rest (near-multiple roots) is decided exactly with python-flint.

    Parameters
    ----------
    v : array_like, shape (k,) or (B, k)
        Filters; ``v[j]`` is the coefficient of ``x^j y^(k-1-j)``.

    Returns
    -------
    int, or ndarray of int with shape (B,)
        The zero filter vanishes everywhere; its count is reported as ``-1``.

    Examples
    --------
    >>> real_root_count([1.0, 0.0, 1.0])        # 1 + x^2
    0
    >>> real_root_count([1.0, 2.0, 1.0, 0.0])   # (1 + x)^2, and a root at infinity
    3
    """
    total, _, zero = _root_counts(v, threads)
    total[zero] = -1
    return int(total[0]) if np.asarray(v).ndim == 1 else total


@dataclass(frozen=True)
class Factorization:
    """Result of the numerical search :meth:`FunctionSpace.factorize`.

    Attributes
    ----------
    theta : ndarray, shape (P,)
        The best parameters found (balanced norms).
    residual : float
        ``||mu(theta) - v|| / ||v||``.
    found : bool
        ``residual <= tol``: a factorisation was found. False does not prove that none
        exists (the search is numerical).
    """

    theta: NDArray[np.float64]
    residual: float
    found: bool


@dataclass(frozen=True)
class RootStructure:
    """The roots of a binary form as a floating-point computation sees them.

    Attributes
    ----------
    roots : ndarray of complex, shape (n,)
        Distinct roots (cluster centres); ``complex(inf)`` stands for the point at infinity.
    multiplicities : ndarray of int, shape (n,)
    is_real : ndarray of bool, shape (n,)
        Real roots (infinity is real).
    partition : tuple of int
        The multiplicities in decreasing order: the partition ``lambda`` of ``D = k - 1``
        naming the multiple-root stratum of the form.
    """

    roots: NDArray[np.complex128]
    multiplicities: NDArray[np.int64]
    is_real: NDArray[np.bool_]
    partition: tuple[int, ...]

    @property
    def n_real(self) -> int:
        """Real roots with multiplicity (infinity included)."""
        return int(self.multiplicities[self.is_real].sum())

    @property
    def n_odd_real(self) -> int:
        """Distinct real roots of odd multiplicity."""
        return int(np.sum(self.multiplicities[self.is_real] % 2))


def _chordal(a: complex, b: complex) -> float:
    """Chordal distance on the Riemann sphere (infinity allowed): invariant under the
    rotations of the sphere, so clustering does not depend on where the roots sit."""
    if math.isinf(abs(a)) and math.isinf(abs(b)):
        return 0.0
    if math.isinf(abs(a)):
        return 1.0 / math.sqrt(1.0 + abs(b) ** 2)
    if math.isinf(abs(b)):
        return 1.0 / math.sqrt(1.0 + abs(a) ** 2)
    return abs(a - b) / math.sqrt((1.0 + abs(a) ** 2) * (1.0 + abs(b) ** 2))


def _structure(v: NDArray[np.float64], tol: float) -> RootStructure:
    k = v.size
    nonzero = np.flatnonzero(v)
    if nonzero.size == 0:
        raise ValueError("v: the zero filter has no root structure (every point is a root)")
    hi = int(nonzero[-1])
    finite = np.roots(v[: hi + 1][::-1]) if hi > 0 else np.zeros(0, dtype=complex)
    points = [complex(z) for z in finite] + [complex(math.inf, 0.0)] * (k - 1 - hi)
    # single-linkage clustering in the chordal metric
    n = len(points)
    label = list(range(n))

    def find(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if _chordal(points[i], points[j]) <= tol:
                label[find(i)] = find(j)
    clusters: dict[int, list[complex]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(points[i])
    roots, mults, real = [], [], []
    for members in clusters.values():
        if any(math.isinf(abs(z)) for z in members):
            centre = complex(math.inf, 0.0)
        else:
            centre = complex(np.mean(members))
        is_real = math.isinf(abs(centre)) or _chordal(centre, complex(centre.real, 0.0)) <= tol
        if is_real and not math.isinf(abs(centre)):
            centre = complex(centre.real, 0.0)
        roots.append(centre)
        mults.append(len(members))
        real.append(is_real)
    order = sorted(range(len(roots)), key=lambda i: (not real[i], -mults[i], roots[i].real, roots[i].imag))
    multiplicities = np.array([mults[i] for i in order], dtype=np.int64)
    return RootStructure(roots=np.array([roots[i] for i in order], dtype=complex),
                         multiplicities=multiplicities,
                         is_real=np.array([real[i] for i in order], dtype=bool),
                         partition=tuple(sorted((int(m) for m in multiplicities), reverse=True)))


def root_structure(v: ArrayLike, tol: float = 1e-6) -> Any:
    """Distinct roots, multiplicities and the partition of a floating-point filter.

    For floating results such as the limits of gradient descent, where exact multiple
    roots show up as clusters: ``numpy.roots`` finds the roots of the binary form
    (trailing zero coefficients are roots at infinity), and roots closer than ``tol`` in
    the chordal metric of the Riemann sphere, ``|a - b| / sqrt((1 + |a|^2)(1 + |b|^2))``,
    are merged (single linkage). The tolerance is dimensionless: the metric does not change
    when the filter is scaled, reversed (``x -> 1/x``) or reflected (``x -> -x``), and it
    treats infinity like any other point of the sphere. A cluster is real when its centre is within
    ``tol`` of the real line (same metric). Note that a root of multiplicity ``m`` perturbed
    by ``eps`` splits by about ``eps^(1/m)``: choose ``tol`` accordingly.

    Parameters
    ----------
    v : array_like, shape (k,) or (B, k)
    tol : float

    Returns
    -------
    RootStructure, or a list of them for a batch
    """
    rows, single = _filter_rows(v)
    tolerance = as_real(tol, "tol", positive=True)
    out = [_structure(row, tolerance) for row in rows]
    return out[0] if single else out


def _integer_form(v: NDArray[np.float64]) -> list[int]:
    """The float64 coefficients as integers, exactly, after one common power-of-two scaling
    (which changes neither the roots nor, up to a positive factor, anything else here)."""
    ratios = [float(c).as_integer_ratio() for c in v]
    denominator = max(d for _, d in ratios)
    return [n * (denominator // d) for n, d in ratios]


def _bareiss_det(matrix: list[list[int]]) -> int:
    """Exact determinant of an integer matrix (fraction-free Gaussian elimination)."""
    a = [row[:] for row in matrix]
    n = len(a)
    sign, previous = 1, 1
    for i in range(n - 1):
        if a[i][i] == 0:
            swap = next((r for r in range(i + 1, n) if a[r][i] != 0), None)
            if swap is None:
                return 0
            a[i], a[swap] = a[swap], a[i]
            sign = -sign
        for r in range(i + 1, n):
            for c in range(i + 1, n):
                a[r][c] = (a[r][c] * a[i][i] - a[r][i] * a[i][c]) // previous
        previous = a[i][i]
    return sign * a[n - 1][n - 1] if n else 1


def _sylvester(f: list[Any], g: list[Any]) -> list[list[Any]]:
    """Sylvester matrix of two binary forms given by coefficient lists (highest x power first)."""
    m, n = len(f) - 1, len(g) - 1
    size = m + n
    rows = []
    for i in range(n):
        rows.append([0] * i + list(f) + [0] * (size - m - 1 - i))
    for i in range(m):
        rows.append([0] * i + list(g) + [0] * (size - n - 1 - i))
    return rows


def discriminant(v: ArrayLike, *, exact: bool = False) -> Any:
    """Discriminant of the binary form of ``v`` (degree ``D = k - 1``).

    Computed from the Sylvester resultant of the partial derivatives,
    ``D^(D-2) Disc(F) = (-1)^(D(D-1)/2) Res(dF/dx, dF/dy)``, which also covers forms with
    roots at infinity; it equals the usual polynomial discriminant when ``v[k-1] != 0``.
    It vanishes exactly when the form has a multiple root (infinity included).

    Parameters
    ----------
    v : array_like, shape (k,) with k >= 3, or (B, k)
    exact : bool
        False: a float64 determinant. True: the exact value for the given float64
        coefficients, as a ``fractions.Fraction`` (integer arithmetic throughout).

    Returns
    -------
    float or Fraction, or a list/array of them for a batch
    """
    rows, single = _filter_rows(v)
    k = rows.shape[1]
    if k < 3:
        raise ValueError(f"v: the discriminant needs a form of degree >= 2 (k >= 3), got k = {k}")
    D = k - 1
    sign = -1 if (D * (D - 1) // 2) % 2 else 1
    results: list[Any] = []
    for row in rows:
        if exact:
            ints = _integer_form(row)
            # coefficients of F = sum a_j x^j y^(D-j), highest x power first
            a = list(reversed(ints))
            fx = [(D - i) * a[i] for i in range(D)]              # dF/dx: degree D-1 form
            fy = [i * a[i] for i in range(1, D + 1)]              # dF/dy
            res = _bareiss_det(_sylvester(fx, fy))
            # undo the power-of-two scaling: Disc is homogeneous of degree 2D-2 in the coefficients
            denominator = max(float(c).as_integer_ratio()[1] for c in row)
            results.append(Fraction(sign * res, D ** (D - 2) * denominator ** (2 * D - 2)))
        else:
            high_first = row[::-1]
            dx = [float((D - i) * high_first[i]) for i in range(D)]
            dy = [float(i * high_first[i]) for i in range(1, D + 1)]
            S = np.array(_sylvester(dx, dy), dtype=float)
            results.append(sign * float(np.linalg.det(S)) / D ** (D - 2))
    if single:
        return results[0]
    return results if exact else np.array(results)


class FunctionSpace:
    """The function space ``M = mu(R^P)`` of an architecture (stride-one facts from the
    theorems, everything else from the exact generic Jacobian rank).

    Parameters
    ----------
    arch : Architecture

    Examples
    --------
    >>> FunctionSpace(Architecture([2, 2])).is_filling
    False
    >>> FunctionSpace(Architecture([2, 3])).is_filling
    True
    """

    def __init__(self, arch: Architecture) -> None:
        require_architecture(arch)
        self._arch = arch
        self._dim: int | None = None

    @property
    def arch(self) -> Architecture:
        """The architecture."""
        return self._arch

    @property
    def _stride_one_1d(self) -> bool:
        a = self._arch
        return a.ndim == 1 and not a.is_circular and all(s == 1 for s in a.s)

    @property
    def ambient_dim(self) -> int:
        """Dimension of the space of end-to-end filters: ``k`` (``K K'`` in 2D)."""
        return int(np.prod(self._arch.filter_shape))

    @property
    def n_even(self) -> int | None:
        """Number ``e`` of filters of even size (1D; None in 2D)."""
        return self._arch.n_even

    @property
    def dim(self) -> int:
        """``dim M``.

        Stride-one 1D: ``k`` (DESIGN.md 3). Everything else (strides, circular, 2D): the
        generic rank of the Jacobian of ``mu``, computed exactly (:func:`generic_jacobian_rank`);
        the tests check it against the sequel paper's ``sum_l k_l - (L-1)`` for strides.
        """
        if self._dim is None:
            a = self._arch
            if self._stride_one_1d:
                self._dim = int(a.filter_shape[0])
            else:
                self._dim = generic_jacobian_rank(a)
        return int(self._dim)

    @property
    def is_thick(self) -> bool:
        """Full dimensional: ``dim M`` equals the ambient dimension (otherwise *thin*)."""
        return self.dim == self.ambient_dim

    @property
    def is_filling(self) -> bool:
        """``M`` is all of the ambient space.

        Stride-one 1D: iff ``e <= 1``. A thin space never fills. Otherwise (thick strided,
        circular or 2D spaces) the question is open in general and ``NotImplementedError``
        is raised.
        """
        if self._stride_one_1d:
            return (self.n_even or 0) <= 1
        if not self.is_thick:
            return False
        a = self._arch
        if a.ndim == 1 and not a.is_circular:
            # full dimensional strided valid: every layer with stride > 1 before it has k = 1,
            # so the filters are w_l(x^{S_l}) with S_l = 1 wherever k_l > 1: stride one
            return sum(1 for k, S in zip(a.k, a.dilations) if k % 2 == 0 and S == 1) <= 1
        raise NotImplementedError("is_filling: only known for 1D valid layers and for thin spaces")

    # -- membership (stride-one 1D, exact) ---------------------------------------------
    def _require_stride_one(self, what: str) -> None:
        if not self._stride_one_1d:
            raise NotImplementedError(
                f"{what}: exact membership is implemented for stride-one 1D valid architectures "
                f"(this is {self._arch!r}); use factorize() for a numerical search")

    def _counts(self, v: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_], bool]:
        rows, single = _filter_rows(v)
        if rows.shape[1] != self._arch.filter_size:
            raise ValueError(f"v: expected filters of size {self._arch.filter_size}, got {rows.shape[1]}")
        total, odd, zero = _root_counts(rows)
        return total, odd, zero, single

    def contains(self, v: ArrayLike) -> Any:
        """Whether ``v`` is in the function space, exactly (stride-one 1D).

        ``v`` is in ``M`` iff ``v = 0`` or its binary form has at least ``e`` real roots
        (with multiplicity, infinity included). Batched: a bool per row.
        """
        self._require_stride_one("contains")
        total, _, zero, single = self._counts(v)
        result = zero | (total >= (self.n_even or 0))
        return bool(result[0]) if single else result

    def is_interior(self, v: ArrayLike) -> Any:
        """Whether ``v`` is an interior point of ``M``, exactly (stride-one 1D).

        A real root of multiplicity ``m`` can turn into as few as ``m mod 2`` real roots
        under perturbation, so ``v`` is interior iff its real roots of odd multiplicity
        number at least ``e``. In a filling space every point is interior.
        """
        self._require_stride_one("is_interior")
        _, odd, zero, single = self._counts(v)
        if self.is_filling:
            result = np.ones(odd.shape, dtype=bool)
        else:
            result = ~zero & (odd >= (self.n_even or 0))
        return bool(result[0]) if single else result

    def is_boundary(self, v: ArrayLike) -> Any:
        """Whether ``v`` is in ``M`` but not interior (it then lies in the discriminant)."""
        inside = np.atleast_1d(self.contains(v))
        interior = np.atleast_1d(self.is_interior(v))
        result = inside & ~interior
        return bool(result[0]) if np.asarray(v).ndim == 1 else result

    def locate(self, v: ArrayLike, tol: float = 1e-6) -> Any:
        """``"interior"``, ``"boundary"`` or ``"outside"`` for floating filters.

        Uses :func:`root_structure` with ``tol``, so that a numerically double root (say,
        the limit of gradient descent on the boundary) counts as double.
        """
        self._require_stride_one("locate")
        rows, single = _filter_rows(v)
        e = self.n_even or 0
        out = []
        for row in rows:
            if not np.any(row):
                out.append("interior" if self.is_filling else "boundary")
                continue
            rs = _structure(row, as_real(tol, "tol", positive=True))
            if rs.n_real < e:
                out.append("outside")
            elif self.is_filling or rs.n_odd_real >= e:
                out.append("interior")
            else:
                out.append("boundary")
        return out[0] if single else np.array(out)

    # -- factorisations --------------------------------------------------------------------
    def factorizations(self, v: ArrayLike, *, tol: float = 1e-6, limit: int = 100000,
                       exact: bool = True) -> list[NDArray[np.float64]]:
        """Every way to write ``v = mu(theta)``, up to the scaling symmetry (stride-one 1D).

        The roots of the form (:func:`root_structure`, clustered with ``tol``) are split
        into units, a real root (infinity included) of degree one or a conjugate pair of
        degree two, and every assignment of units to layers with the right degrees
        ``k_l - 1`` gives one factorisation; assignments that differ only by exchanging
        equal roots are listed once. Each ``theta`` is polished by Gauss-Newton on
        ``mu(theta) = v`` and normalised: equal filter norms, the sign carried by the first
        layer, every other layer's first nonzero coefficient positive.

        With ``exact=False`` the exact membership test is skipped and the clustered roots
        decide, for floating points that lie on the boundary only up to rounding (a computed
        double root whose float coefficients have two complex roots 1e-9 apart).

        Returns
        -------
        list of ndarray, shape (P,)
            Empty exactly when ``v`` is outside the space (for ``v = 0``: the single
            factorisation with all filters zero).
        """
        self._require_stride_one("factorizations")
        rows, single = _filter_rows(v)
        if not single:
            raise ValueError("v: factorizations takes one filter at a time")
        row = rows[0]
        if row.size != self._arch.filter_size:
            raise ValueError(f"v: expected a filter of size {self._arch.filter_size}, got {row.size}")
        if not np.any(row):
            return [np.zeros(self._arch.n_params)]
        if exact and not self.contains(row):
            return []
        rs = _structure(row, as_real(tol, "tol", positive=True))
        units: list[tuple[int, list[float]]] = []  # (cluster id, binary form coefficients, ascending)
        for cid, (root, m, real) in enumerate(zip(rs.roots, rs.multiplicities, rs.is_real)):
            if real:
                form = [1.0, 0.0] if math.isinf(abs(root)) else [-root.real, 1.0]
                units += [(cid, form)] * int(m)
            elif root.imag > 0:
                units += [(cid, [abs(root) ** 2, -2.0 * root.real, 1.0])] * int(m)
        degrees = [kl - 1 for kl in self._arch.k]
        seen: set[tuple[tuple[int, ...], ...]] = set()
        results: list[NDArray[np.float64]] = []
        for assignment in _assignments([len(f) - 1 for _, f in units], degrees, limit):
            key = tuple(tuple(sorted(units[u][0] for u in layer)) for layer in assignment)
            if key in seen:
                continue
            seen.add(key)
            filters = []
            for layer in assignment:
                w = np.array([1.0])
                for u in layer:
                    w = np.convolve(w, units[u][1])
                filters.append(w)
            results.append(self._finish(filters, row))
        return results

    def _finish(self, filters: list[NDArray[np.float64]], v: NDArray[np.float64]) -> NDArray[np.float64]:
        """Scale filters to v, polish by Gauss-Newton, balance norms, fix signs."""
        arch = self._arch
        product = end_to_end(arch, np.concatenate(filters))
        j = int(np.argmax(np.abs(product)))
        filters[0] = filters[0] * (v[j] / product[j])
        theta = np.concatenate(filters)
        for _ in range(60):  # quadratic convergence at simple roots, linear at multiple ones
            residual = v - end_to_end(arch, theta)
            if np.linalg.norm(residual) <= 1e-15 * np.linalg.norm(v):
                break
            J = jacobian(arch, theta)
            step, *_ = np.linalg.lstsq(J, residual, rcond=None)
            theta = theta + step
        return _normalise(arch, theta)

    def factorize(self, v: ArrayLike, *, starts: int = 64, steps: int = 3000, tol: float = 1e-9,
                  seed: int = 0) -> Factorization:
        """Search numerically for ``theta`` with ``mu(theta) = v`` (any architecture).

        For strides, circular layers and 2D there is no root-assignment theorem to list the
        factorisations, so this runs ``starts`` gradient descents at once on
        ``||mu(theta) - v||^2`` with the training engine (``v`` scaled to unit norm), then
        polishes the best by Gauss-Newton. It is a search, not a proof: ``found=False``
        means none was found, not that none exists (:meth:`contains` decides exactly for
        stride-one 1D).
        """
        from .losses import QuadraticLoss
        from .training import balance, train

        arch = self._arch
        target = as_real_array(v, "v")
        if target.shape != arch.filter_shape:
            raise ValueError(f"v: expected shape {arch.filter_shape}, got {target.shape}")
        norm = float(np.linalg.norm(target))
        if norm == 0.0:
            return Factorization(theta=np.zeros(arch.n_params), residual=0.0, found=True)
        unit = target / norm
        loss = QuadraticLoss(np.eye(unit.size), unit)
        result = train(arch, loss, batch=starts, lr=0.02, steps=steps, tol=1e-12, seed=seed, init="balanced",
                       scale=1.0)
        order = np.argsort(np.where(np.isfinite(result.loss), result.loss, np.inf))
        best_theta, best_residual = None, math.inf
        for i in order[: min(4, len(order))]:
            theta = result.theta[i].copy()
            for _ in range(50):
                residual = unit.ravel() - end_to_end(arch, theta).ravel()
                if np.linalg.norm(residual) <= 1e-15:
                    break
                J = jacobian(arch, theta).reshape(-1, arch.n_params)
                step, *_ = np.linalg.lstsq(J, residual, rcond=None)
                theta = theta + step
            r = float(np.linalg.norm(unit.ravel() - end_to_end(arch, theta).ravel()))
            if r < best_residual:
                best_theta, best_residual = theta, r
        assert best_theta is not None
        theta = balance(arch, best_theta) * norm ** (1.0 / arch.L)
        return Factorization(theta=theta, residual=best_residual, found=best_residual <= tol)

    def nearest(self, u: ArrayLike, G: ArrayLike | None = None, *,
                seed: int = 0) -> tuple[NDArray[np.float64], float]:
        """The point of the function space nearest to ``u`` in the ``G``-norm (stride-one 1D).

        If ``u`` is in the space it is its own nearest point. Otherwise the nearest point
        lies on the boundary, hence on a multiple-root stratum, where it is a critical point
        of the distance restricted to that stratum: every real critical point of every
        stratum (:func:`lcnfast.stratum_critical_points`, homotopy continuation) that lies
        in the space (by the stratum's multiplicities and the reality of its roots), and
        ``v = 0``, are compared, which certifies the global minimum as far as the homotopy
        found every critical point. ``seed`` seeds the homotopies.

        Returns
        -------
        (v, distance) with ``distance = sqrt((v-u)^T G (v-u))``.
        """
        from .strata import stratum_critical_points

        self._require_stride_one("nearest")
        target = as_real_array(u, "u")
        K = int(self._arch.filter_shape[0])
        if target.shape != (K,):
            raise ValueError(f"u: expected shape ({K},), got {target.shape}")
        Gm = np.eye(K) if G is None else as_real_array(G, "G")
        if Gm.shape != (K, K):
            raise ValueError(f"G: expected shape ({K}, {K}), got {Gm.shape}")

        def distance(v: NDArray[np.float64]) -> float:
            d = v - target
            return math.sqrt(max(float(d @ Gm @ d), 0.0))

        if self.contains(target):
            return target.copy(), 0.0
        best, best_distance = np.zeros(K), distance(np.zeros(K))
        D = K - 1
        for partition in _partitions(D):
            if max(partition) == 1:
                continue  # the open stratum: its only critical point is u itself, outside
            found = stratum_critical_points(partition, Gm, target, seed=seed)
            # membership from the stratum's exact multiplicities, not from re-rooting v
            for v, real, n_real in zip(found.v, found.is_real, found.real_root_counts()):
                if not real or n_real < (self.n_even or 0):
                    continue
                candidate = np.ascontiguousarray(v.real)
                if distance(candidate) < best_distance:
                    best, best_distance = candidate, distance(candidate)
        return best, best_distance

    def distance_to_boundary(self, v: ArrayLike, *, tol: float = 1e-6) -> tuple[float, float]:
        """Lower and upper bounds on the Euclidean distance from ``v`` to the boundary of
        ``M`` (stride-one 1D), from the numerical roots of ``v``.

        * Upper bound: the distance to an explicit boundary point, made by merging the
          closest pairs of simple real roots into double roots (each merge removes two
          roots of odd multiplicity) until fewer than ``e`` remain, with the best scale.
        * Lower bound (Rouche's theorem): around each real root of odd multiplicity ``m``,
          the disk of half the distance to the other roots keeps ``m`` roots under any
          perturbation smaller than ``min |v| / max sum_j |x|^j`` on its circle (in the
          l1 norm, hence divided by ``sqrt(k)`` in l2); those ``m`` roots are closed under
          conjugation, so one stays real and ``v`` stays interior. Roots outside the unit
          disk are treated in the chart ``x -> 1/x`` (infinity included). The circle
          minimum is sampled with a Lipschitz margin.

        Returns ``(0, 0)`` on the boundary, ``(inf, inf)`` in a filling space, and
        ``(0, nan)`` outside the space.
        """
        self._require_stride_one("distance_to_boundary")
        rows, single = _filter_rows(v)
        if not single:
            raise ValueError("v: distance_to_boundary takes one filter at a time")
        row = rows[0]
        if self.is_filling:
            return (math.inf, math.inf)
        if not self.contains(row):
            return (0.0, math.nan)
        if not self.is_interior(row):
            return (0.0, 0.0)
        rs = _structure(row, as_real(tol, "tol", positive=True))
        return (_rouche_lower_bound(row, rs), _merge_upper_bound(row, rs, self.n_even or 0))

    def describe(self) -> str:
        """A readable summary of the space."""
        a = self._arch
        kind = "thick (full dimensional)" if self.is_thick else "thin"
        lines = [f"Function space of {a!r}", f"  ambient dimension  {self.ambient_dim}",
                 f"  dimension          {self.dim} ({kind})"]
        if self.n_even is not None:
            lines.append(f"  even filters (e)   {self.n_even}")
        try:
            filling = self.is_filling
            lines.append(f"  filling            {'yes' if filling else 'no'}")
        except NotImplementedError:
            lines.append("  filling            unknown (thick circular/2D space)")
        if self._stride_one_1d and not self.is_filling:
            lines.append(f"  membership         binary forms with at least e = {self.n_even} real roots "
                         "(with multiplicity, infinity included)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"FunctionSpace({self._arch!r})"



def _assignments(unit_degrees: list[int], degrees: list[int], limit: int) -> Any:
    """All ways to put the units into layers so that each layer's degrees add up (lists of
    unit indices per layer), by depth-first search; raises beyond ``limit`` assignments."""
    count = 0
    order = sorted(range(len(unit_degrees)), key=lambda u: -unit_degrees[u])
    layers: list[list[int]] = [[] for _ in degrees]
    room = list(degrees)

    def place(i: int) -> Any:
        nonlocal count
        if i == len(order):
            count += 1
            if count > limit:
                raise ValueError(f"limit: more than {limit} factorisations; raise limit")
            yield [list(layer) for layer in layers]
            return
        u = order[i]
        for layer in range(len(degrees)):
            if room[layer] >= unit_degrees[u]:
                room[layer] -= unit_degrees[u]
                layers[layer].append(u)
                yield from place(i + 1)
                layers[layer].pop()
                room[layer] += unit_degrees[u]

    if sum(unit_degrees) != sum(degrees):
        return iter(())
    return place(0)


def _normalise(arch: Architecture, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """Equal layer norms (same product), sign on the first layer, others' first nonzero
    coefficient positive."""
    filters = [np.array(w, dtype=float) for w in arch.split(theta)]
    sign = 1.0
    for i in range(1, len(filters)):
        nz = np.flatnonzero(np.abs(filters[i]) > 0)
        if nz.size and filters[i][nz[0]] < 0:
            filters[i] = -filters[i]
            sign = -sign
    filters[0] = sign * filters[0]
    norms = np.array([np.linalg.norm(w) for w in filters])
    if np.all(norms > 0):
        target = float(np.exp(np.mean(np.log(norms))))
        filters = [w * (target / n) for w, n in zip(filters, norms)]
    return np.concatenate(filters)



def _form_from_roots(roots: list[complex], k: int) -> NDArray[np.float64]:
    """Coefficients (ascending, length k) of the monic-ish binary form with these roots."""
    w = np.array([1.0])
    for r in roots:
        if math.isinf(abs(r)):
            w = np.convolve(w, [1.0, 0.0])
        elif abs(r.imag) > 0:
            if r.imag > 0:
                w = np.convolve(w, [abs(r) ** 2, -2.0 * r.real, 1.0])
        else:
            w = np.convolve(w, [-r.real, 1.0])
    out = np.zeros(k)
    out[: w.size] = w[:k]
    return out


def _merge_upper_bound(v: NDArray[np.float64], rs: RootStructure, e: int) -> float:
    finite_odd = [(complex(r).real, i) for i, (r, m, real) in enumerate(zip(rs.roots, rs.multiplicities, rs.is_real))
                  if real and m % 2 == 1 and not math.isinf(abs(r))]
    odd = rs.n_odd_real
    merges = (odd - e) // 2 + 1
    if len(finite_odd) < 2 * merges:
        return math.nan
    finite_odd.sort()
    # greedily merge the closest neighbouring pairs
    gaps = sorted((finite_odd[j + 1][0] - finite_odd[j][0], j) for j in range(len(finite_odd) - 1))
    used: set[int] = set()
    pairs = []
    for _, j in gaps:
        if j in used or j + 1 in used:
            continue
        used.update((j, j + 1))
        pairs.append(j)
        if len(pairs) == merges:
            break
    if len(pairs) < merges:
        return math.nan
    merged_ids = {finite_odd[j][1] for j in pairs} | {finite_odd[j + 1][1] for j in pairs}
    roots: list[complex] = []
    for i, (r, m) in enumerate(zip(rs.roots, rs.multiplicities)):
        if i not in merged_ids:
            roots += [complex(r)] * int(m)
            if complex(r).imag > 0:
                roots += [complex(r).conjugate()] * int(m)
    for j in pairs:
        mid = 0.5 * (finite_odd[j][0] + finite_odd[j + 1][0])
        roots += [complex(mid, 0.0)] * 2
    f = _form_from_roots(roots, v.size)
    scale = float(v @ f) / float(f @ f)
    return float(np.linalg.norm(v - scale * f))


def _rouche_lower_bound(v: NDArray[np.float64], rs: RootStructure, samples: int = 720) -> float:
    k = v.size
    best = math.inf
    points = [complex(r) for r in rs.roots]
    for i, (r, m, real) in enumerate(zip(rs.roots, rs.multiplicities, rs.is_real)):
        if not real or m % 2 == 0:
            continue
        r = complex(r)
        # chart: x (|r| <= 1) or x -> 1/x (reversed coefficients)
        if math.isinf(abs(r)) or abs(r) > 1.0:
            coeffs = v[::-1]
            centre = 0.0 if math.isinf(abs(r)) else 1.0 / r.real
            others = [0.0 if math.isinf(abs(z)) else (1.0 / z if z != 0 else complex(math.inf))
                      for j, z in enumerate(points) if j != i]
        else:
            coeffs = v
            centre = r.real
            others = [z for j, z in enumerate(points) if j != i]
        finite_others = [complex(z) for z in others if not math.isinf(abs(complex(z)))]
        separation = min((abs(complex(z) - centre) for z in finite_others), default=1.0)
        radius = min(0.5 * separation, 1.0)
        if radius <= 0:
            return 0.0
        reach = abs(centre) + radius
        lipschitz = float(np.sum(np.abs(coeffs[1:]) * np.arange(1, k) * reach ** np.arange(0, k - 1)))
        n = samples
        for _ in range(2):  # resample once, finely enough for the margin to be small
            angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
            circle = centre + radius * np.exp(1j * angles)
            values = np.abs(np.polynomial.polynomial.polyval(circle, coeffs))
            margin = lipschitz * radius * np.pi / n  # |v| changes by at most this between samples
            low = float(values.min()) - margin
            if low > 0 or values.min() <= 0:
                break
            n = int(min(4_000_000, math.ceil(4.0 * np.pi * lipschitz * radius / values.min())))
        if low <= 0:
            return 0.0
        growth = float(np.sum(reach ** np.arange(k)))  # max over the circle of sum_j |x|^j
        best = min(best, low / growth / math.sqrt(k))
    return 0.0 if math.isinf(best) else best


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """The partitions of n, parts in decreasing order."""
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    return [(first,) + rest for first in range(min(n, largest), 0, -1) for rest in _partitions(n - first, first)]
