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

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_real, as_real_array, resolve_threads
from .architecture import Architecture
from .parameterisation import jacobian

__all__ = ["FunctionSpace", "jacobian_rank", "generic_jacobian_rank", "real_root_count"]

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
    if not isinstance(arch, Architecture):
        raise TypeError(f"arch: expected an lcnfast.Architecture, got {type(arch).__name__}")
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
    exactly: the float64 coefficients are turned into the integers they are (up to a common
    power of two) and python-flint isolates the roots of each square-free factor with
    certified ball arithmetic (real roots come back with an exactly zero imaginary part)."""
    k = coefficients.size
    nonzero = np.flatnonzero(coefficients)
    lo, hi = int(nonzero[0]), int(nonzero[-1])
    total = lo + (k - 1 - hi)
    odd = lo % 2 + (k - 1 - hi) % 2
    ratios = [float(c).as_integer_ratio() for c in coefficients[lo : hi + 1]]
    denominator = max(d for _, d in ratios)  # all powers of two
    integers = [n * (denominator // d) for n, d in ratios]
    if hi == lo:
        return total, odd
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
        roots: Any = factor.complex_roots()  # (root ball, multiplicity) pairs
        n_real = sum(int(m) for root, m in roots if root.imag.is_zero())
        total += int(multiplicity) * n_real
        odd += (int(multiplicity) % 2) * n_real
    return total, odd


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
        if not isinstance(arch, Architecture):
            raise TypeError(f"arch: expected an lcnfast.Architecture, got {type(arch).__name__}")
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

        Stride-one 1D: ``k`` (DESIGN.md 3). Valid 1D with strides: ``sum_l k_l - (L-1)``
        (the sequel paper). Circular and 2D: the exact generic Jacobian rank.
        """
        if self._dim is None:
            a = self._arch
            if self._stride_one_1d:
                self._dim = int(a.filter_shape[0])
            elif a.ndim == 1 and not a.is_circular:
                self._dim = int(sum(a.k)) - (a.L - 1)
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

