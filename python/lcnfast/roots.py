"""Roots of binary forms: real-root counts, the root structure, the discriminant.

A filter ``v`` of size ``k`` is the binary form ``sum_j v[j] x^j y^(k-1-j)`` (docs/conventions.rst
2.2): trailing zero coefficients are roots at infinity. Every float64 coefficient is an
exact rational number, so questions about a given filter have exact answers:

* :func:`real_root_count` -- exact (certified C++ Sturm chains, python-flint for the rest);
* :func:`root_structure` -- exact by default: multiplicities from the square-free
  factorisation over Q, roots isolated in certified complex boxes (python-flint), real versus
  complex decided exactly; with ``tol=`` it is the *tolerant* clustering of floating roots,
  meant for floating results such as the limits of gradient descent;
* :func:`discriminant` -- exact (a ``Fraction``) by default, float64 with ``exact=False``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

import flint
import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_real, as_real_array, resolve_threads

_log = logging.getLogger(__name__)

__all__ = ["RootStructure", "discriminant", "real_root_count", "root_structure"]

#: Working precision (bits) of the certified root enclosures; doubled when two enclosures
#: are too wide to tell roots apart.
_PREC = 128
_MAX_PREC = 1 << 14

_T = TypeVar("_T")


class NeedPrecision(Exception):
    """Certified enclosures too wide to decide a question at this precision."""


def with_precision(compute: Callable[[int], _T]) -> _T:
    """``compute(prec)`` at increasing precision until its enclosures decide the question.

    Distinct algebraic numbers have disjoint enclosures at a high enough precision, so this
    terminates; the cap only guards against a bug.
    """
    prec = _PREC
    while True:
        try:
            return compute(prec)
        except NeedPrecision:
            if prec >= _MAX_PREC:  # pragma: no cover - distinct roots separate long before
                raise RuntimeError("root isolation did not separate the roots at 16384 bits") from None
            prec *= 2


def filter_rows(v: ArrayLike, name: str = "v") -> tuple[NDArray[np.float64], tuple[int, ...]]:
    """Filters as rows (B, k) and their batch shape (``()`` for one filter ``(k,)``; any
    ``(..., k)`` batch)."""
    array = as_real_array(v, name)  # at least 1D: a number is a filter of size 1
    return array.reshape(-1, array.shape[-1]), tuple(array.shape[:-1])


def batch_result(values: Any, lead: tuple[int, ...], scalar: Callable[[Any], Any]) -> Any:
    """One value per filter row, shaped like the batch: ``scalar(values[0])`` for a single
    filter, else an array of the batch shape (``(..., k)`` in, ``(...)`` out)."""
    if lead == ():
        return scalar(values[0])
    array = np.empty(len(values), dtype=object) if isinstance(values, list) else np.asarray(values)
    if isinstance(values, list):
        array[:] = values
        return array.reshape(lead).tolist() if len(lead) > 1 else values
    return array.reshape(lead)


def _integer_form(v: NDArray[np.float64]) -> list[int]:
    """The float64 coefficients as integers, exactly, after one common power-of-two scaling
    (which changes neither the roots nor, up to a positive factor, anything else here)."""
    ratios = [float(c).as_integer_ratio() for c in v]
    denominator = max(d for _, d in ratios)
    return [n * (denominator // d) for n, d in ratios]


@dataclass(frozen=True)
class ExactRoots:
    """The roots of a nonzero binary form, decided exactly.

    ``boxes`` are certified, pairwise disjoint enclosures of the distinct finite nonzero
    roots (the roots of ``radical``); a real root has an enclosure with imaginary part
    exactly zero, a non-real one an enclosure away from the real line. ``zero`` and
    ``infinity`` are the multiplicities of the roots 0 and infinity.
    """

    size: int
    zero: int
    infinity: int
    radical: flint.fmpz_poly
    boxes: tuple[flint.acb, ...]
    multiplicities: tuple[int, ...]
    is_real: tuple[bool, ...]
    conjugate: tuple[int, ...]
    prec: int

    @property
    def n_real(self) -> int:
        """Real roots with multiplicity, infinity included."""
        return self.zero + self.infinity + sum(m for m, r in zip(self.multiplicities, self.is_real) if r)

    @property
    def n_odd_real(self) -> int:
        """Distinct real roots of odd multiplicity (infinity included)."""
        return (self.zero % 2 + self.infinity % 2
                + sum(m % 2 for m, r in zip(self.multiplicities, self.is_real) if r))


def roots_at(v: NDArray[np.float64], prec: int) -> ExactRoots:
    """Exact multiplicities and certified enclosures of the roots of the binary form ``v``.

    python-flint's ``complex_roots`` factors the integer polynomial over Q (so multiplicities
    are exact) and isolates the roots of each factor with rigorous error bounds, returning
    real roots with an imaginary part exactly zero (proven real). Raises
    :class:`NeedPrecision` when the enclosures are too wide to pair conjugates.
    """
    nonzero = np.flatnonzero(v)
    if nonzero.size == 0:
        raise ValueError("v: the zero filter has no root structure (every point is a root)")
    lo, hi = int(nonzero[0]), int(nonzero[-1])
    poly = flint.fmpz_poly(_integer_form(v[lo : hi + 1]))
    boxes: list[flint.acb] = []
    multiplicities: list[int] = []
    radical = flint.fmpz_poly([1])
    if hi > lo:
        radical = poly // poly.gcd(poly.derivative())
        with flint.ctx.workprec(prec):
            # (root, multiplicity) pairs, although python-flint 0.9's stub says list[acb]
            found: list[Any] = poly.complex_roots()
            for box, multiplicity in found:
                boxes.append(box)
                multiplicities.append(int(multiplicity))
    is_real = tuple(bool(box.imag.is_zero()) for box in boxes)
    conjugate = []
    for i, box in enumerate(boxes):
        if is_real[i]:
            conjugate.append(i)
            continue
        mirror = box.conjugate()
        hits = [j for j, other in enumerate(boxes) if j != i and other.overlaps(mirror)]
        if len(hits) != 1 or box.overlaps(mirror):
            raise NeedPrecision
        conjugate.append(hits[0])
    return ExactRoots(size=int(v.size), zero=lo, infinity=int(v.size) - 1 - hi, radical=radical,
                       boxes=tuple(boxes), multiplicities=tuple(multiplicities), is_real=is_real,
                       conjugate=tuple(conjugate), prec=prec)


#: degree x coefficient bits above which the exact fallbacks run in a child process: python-flint
#: holds the GIL and polls no signal, so Ctrl-C waited for the end (25 s for the real roots and
#: 90 s for the discriminant of one degree-179 filter with subnormal coefficients)
_CHILD_WORK = 20_000


def _work(row: NDArray[np.float64]) -> int:
    """Degree times the bits of the integer coefficients of ``row`` (:func:`_integer_form`)."""
    nonzero = row[row != 0]
    if nonzero.size == 0:
        return 0
    exponents = np.frexp(np.abs(nonzero))[1]
    return int(row.size) * int(np.max(exponents) - np.min(exponents) + 53)


def _child_main(connection: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        connection.send((True, fn(*args)))
    except BaseException as exc:  # noqa: BLE001 -- handed to the parent, which raises it
        connection.send((False, exc))
    finally:
        connection.close()


def interruptible(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a child process (spawned: no fork of this process's threads), waiting
    so that Ctrl-C raises ``KeyboardInterrupt`` at once and stops the child. ``fn`` must be a
    module-level function; its arguments and result are pickled."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(send, fn, args), daemon=True)
    child.start()
    send.close()
    try:
        while not receive.poll(0.05):
            if not child.is_alive() and not receive.poll(0):
                raise RuntimeError(f"lcnfast: the child process computing {fn.__name__} ended without an answer "
                                   f"(exit code {child.exitcode})")
        ok, value = receive.recv()
    except BaseException:
        child.terminate()
        child.join()
        raise
    finally:
        receive.close()
    child.join()
    if not ok:
        raise value
    return value


def _exact_roots(v: NDArray[np.float64]) -> ExactRoots:
    """:func:`roots_at` at the first precision that decides everything."""
    return with_precision(lambda prec: roots_at(v, prec))


def _exact_counts(coefficients: NDArray[np.float64]) -> tuple[int, int]:
    """(real roots with multiplicity, distinct real roots of odd multiplicity) of the binary
    form, exactly, for the rows the C++ fast paths could not certify (python-flint)."""
    roots = _exact_roots(coefficients)
    return roots.n_real, roots.n_odd_real


_UNIT = 2.0**-53  # unit roundoff of float64
_TINIEST = 2.0**-1074  # absolute error of one operation that underflows
_CHUNK_ENTRIES = 1 << 21  # pairwise-distance entries per chunk of rows (memory bound)


def _gamma(m: int) -> float:
    """Higham's ``gamma_m = m u / (1 - m u)``, rounded up generously."""
    return 2.0 * m * _UNIT / (1.0 - m * _UNIT)


def _inclusion_counts(p: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Certified real-root counts of the polynomials ``sum_j p[b, j] x^j`` (rows of equal degree
    ``n >= 1``, nonzero end coefficients) whose roots are simple and well separated.

    Approximations ``z_i`` come from the eigenvalues of the companion matrices (LAPACK returns
    real eigenvalues with imaginary part exactly 0 and conjugate pairs exactly conjugate). By
    the Gerschgorin theorem applied to Smith's companion matrix (Smith 1970; Braess and
    Hadeler 1973), the disks ``|z - z_i| <= n |p(z_i)| / |p_n prod_{j != i} (z_i - z_j)|``
    cover the roots, and a disk disjoint from the others holds exactly one. Every quantity
    is bounded rigorously: Horner's rounding error by ``gamma_{8n} sum_j |p_j| |z|^j`` plus an
    underflow term, the product from below by ``(1 - gamma_{6n})``, the radius rounded up.
    When all disks are pairwise disjoint, a disk centred on the real line holds a real root
    (its conjugate lies in the same disk, which holds one root) and a disk missing the real
    line a non-real one; the count is then proven. Returns the counts and which rows were
    proven (the others go to exact arithmetic).
    """
    B, width = p.shape
    n = width - 1
    counts = np.zeros(B, dtype=np.int64)
    proven = np.zeros(B, dtype=bool)
    if n == 0:
        proven[:] = True
        return counts, proven
    with np.errstate(all="ignore"):
        if n == 1:
            z = (-p[:, 0] / p[:, 1]).astype(np.complex128).reshape(B, 1)
        else:
            companion = np.zeros((B, n, n))
            companion[:, np.arange(1, n), np.arange(n - 1)] = 1.0
            companion[:, :, -1] = -p[:, :-1] / p[:, -1:]
            finite = np.all(np.isfinite(companion), axis=(1, 2))
            companion[~finite] = 0.0
            try:
                z = np.asarray(np.linalg.eigvals(companion), dtype=np.complex128)
            except np.linalg.LinAlgError:  # pragma: no cover - LAPACK did not converge
                return counts, proven
            z[~finite] = np.nan
        # Horner: value and the running bound sum_j |p_j| |z|^j (all rounding errors counted)
        modulus = np.abs(z)
        value = np.broadcast_to(p[:, -1:], z.shape).astype(np.complex128)
        bound = np.broadcast_to(np.abs(p[:, -1:]), z.shape).copy()
        powers = np.ones_like(modulus)  # sum_j |z|^j, for the underflow term
        for j in range(n - 1, -1, -1):
            value = value * z + p[:, j:j + 1]
            bound = bound * modulus + np.abs(p[:, j:j + 1])
            powers = powers * modulus + 1.0
        error = _gamma(8 * n + 8) * bound + 16.0 * (n + 1) * _TINIEST * powers
        numerator = (np.abs(value) + error) * (1.0 + _gamma(4))
        # product of the distances with exact power-of-two renormalisation (no over/underflow)
        distance = np.abs(z[:, :, None] - z[:, None, :])  # (B, n, n); diagonal 0
        mantissa = np.ones((B, n))
        exponent = np.zeros((B, n), dtype=np.int64)
        for j in range(n):
            factor = np.where(np.arange(n) == j, 1.0, distance[:, :, j])
            mantissa, e = np.frexp(mantissa * factor)
            exponent += e
        # lower bound of |p_n| prod |z_i - z_j|, then the radius rounded up
        mantissa = mantissa * np.abs(p[:, -1:]) * (1.0 - _gamma(6 * n + 6))
        radius = np.ldexp(n * numerator / mantissa, -exponent) * (1.0 + _gamma(8))
        radius = np.maximum(radius, 2.0**-1022)  # an underflowed radius is not a proof of a point
        ok = np.all(np.isfinite(radius) & np.isfinite(z) & (mantissa > 0), axis=1)
        reach = (radius[:, :, None] + radius[:, None, :]) * (1.0 + _gamma(2))
        apart = distance * (1.0 - _gamma(4)) > reach
        apart[:, np.arange(n), np.arange(n)] = True
        ok &= np.all(apart, axis=(1, 2))
        real = z.imag == 0.0
        off_axis = np.abs(z.imag) * (1.0 - _gamma(1)) > radius
        ok &= np.all(real | off_axis, axis=1)
    counts[ok] = np.sum(real[ok], axis=1)
    proven[ok] = True
    return counts, proven


def _float_certified_counts(rows: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                                 NDArray[np.bool_]]:
    """(total, odd-multiplicity) real-root counts of nonzero binary forms, proven in floating
    point with rigorous error bounds where the roots are simple and separated
    (:func:`_inclusion_counts`); the mask says which rows were decided."""
    B, k = rows.shape
    total = np.zeros(B, dtype=np.int64)
    odd = np.zeros(B, dtype=np.int64)
    decided = np.zeros(B, dtype=bool)
    nonzero = rows != 0
    lo = np.argmax(nonzero, axis=1)
    hi = k - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    for a, b in sorted(set(zip(lo.tolist(), hi.tolist()))):
        members = np.flatnonzero((lo == a) & (hi == b))
        p = rows[np.ix_(members, np.arange(a, b + 1))]
        # scale each row by a power of two (exactly: refused if it would not be exact)
        _, e = np.frexp(np.max(np.abs(p), axis=1, keepdims=True))
        scaled = np.ldexp(p, -e)
        exact = np.all(np.ldexp(scaled, e) == p, axis=1) & np.all((scaled == 0) | (np.abs(scaled) >= 2.0**-1022), axis=1)
        n = b - a
        per_chunk = max(1, _CHUNK_ENTRIES // max(1, n * n))
        for start in range(0, members.size, per_chunk):
            part = slice(start, start + per_chunk)
            counts, proven = _inclusion_counts(scaled[part])
            proven &= exact[part]
            at = members[part][proven]
            ends = a + (k - 1 - b)
            total[at] = counts[proven] + ends
            odd[at] = counts[proven] + a % 2 + (k - 1 - b) % 2
            decided[at] = True
    return total, odd, decided


def root_counts(v: ArrayLike, threads: int | None = None) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                                    NDArray[np.bool_]]:
    """Exact (total, odd-multiplicity) real-root counts of filters, and the zero-form mask."""
    rows, _ = filter_rows(v)
    raw_total, raw_odd, certified, zero = _core.count_real_roots(rows, resolve_threads(threads))
    total = np.asarray(raw_total, dtype=np.int64)
    odd = np.asarray(raw_odd, dtype=np.int64)
    pending = np.flatnonzero((np.asarray(certified) == 0) & (np.asarray(zero) == 0))
    if pending.size:
        # floating inclusion disks with rigorous error bounds decide the simple, separated
        # roots; exact arithmetic (python-flint) only what is left (near-multiple roots)
        float_total, float_odd, decided = _float_certified_counts(rows[pending])
        total[pending[decided]] = float_total[decided]
        odd[pending[decided]] = float_odd[decided]
        if not decided.all():
            _log.debug("real_root_count: %d of %d filter(s) decided in exact arithmetic (python-flint: "
                       "near-multiple roots)", int((~decided).sum()), rows.shape[0])
        for i in pending[~decided]:
            big = _work(rows[i]) > _CHILD_WORK
            total[i], odd[i] = interruptible(_exact_counts, rows[i]) if big else _exact_counts(rows[i])
    return total, odd, np.asarray(zero, dtype=bool)


def real_root_count(v: ArrayLike, *, threads: int | None = None) -> Any:
    """Number of real roots of the binary form of ``v``, with multiplicity, infinity included.

    Exact for the given float64 coefficients (which are exact rationals): a certified
    floating-point Sturm chain or exact integer Sturm chains decide almost every input in
    C++ (batched, multithreaded); high degrees are then decided in floating point with
    rigorous error bounds (inclusion disks around the eigenvalues of the companion matrix,
    when the roots are simple and separated); the rest (near-multiple roots) is decided
    exactly with python-flint (square-free factorisation over Q and certified root
    isolation).

    Parameters
    ----------
    v : array_like, shape (k,) or (..., k)
        Filters; ``v[j]`` is the coefficient of ``x^j y^(k-1-j)``.

    Returns
    -------
    int, or ndarray of int with the batch shape (...)
        The zero filter vanishes everywhere; its count is reported as ``-1``.

    Examples
    --------
    >>> real_root_count([1.0, 0.0, 1.0])        # 1 + x^2
    0
    >>> real_root_count([1.0, 2.0, 1.0, 0.0])   # (1 + x)^2, and a root at infinity
    3
    """
    _, lead = filter_rows(v)
    total, _, zero = root_counts(v, threads)
    total[zero] = -1
    return batch_result(total, lead, int)


@dataclass(frozen=True)
class RootStructure:
    """The distinct roots of a binary form and their multiplicities.

    Attributes
    ----------
    roots : ndarray of complex, shape (n,)
        Distinct roots (exact: the midpoints of certified enclosures, correct to double
        precision; tolerant: cluster centres); ``complex(inf)`` stands for the point at
        infinity. A conjugate pair is listed as two roots.
    multiplicities : ndarray of int, shape (n,)
    is_real : ndarray of bool, shape (n,)
        Real roots (infinity is real).
    partition : tuple of int
        The multiplicities in decreasing order: the partition ``lambda`` of ``D = k - 1``
        naming the multiple-root stratum of the form.
    exact : bool
        True when the multiplicities and the reality of the roots are exact for the given
        coefficients (``root_structure(v)``), False for a tolerant clustering
        (``root_structure(v, tol)``).
    """

    roots: NDArray[np.complex128]
    multiplicities: NDArray[np.int64]
    is_real: NDArray[np.bool_]
    partition: tuple[int, ...]
    exact: bool = False

    @property
    def n_real(self) -> int:
        """Real roots with multiplicity (infinity included)."""
        return int(self.multiplicities[self.is_real].sum())

    @property
    def n_odd_real(self) -> int:
        """Distinct real roots of odd multiplicity."""
        return int(np.sum(self.multiplicities[self.is_real] % 2))


def _make_structure(roots: list[complex], multiplicities: list[int], real: list[bool], exact: bool) -> RootStructure:
    """Real roots first, then by decreasing multiplicity and position."""
    order = sorted(range(len(roots)),
                   key=lambda i: (not real[i], -multiplicities[i], roots[i].real, roots[i].imag))
    mults = np.array([multiplicities[i] for i in order], dtype=np.int64)
    return RootStructure(roots=np.array([roots[i] for i in order], dtype=complex), multiplicities=mults,
                         is_real=np.array([real[i] for i in order], dtype=bool),
                         partition=tuple(sorted((int(m) for m in mults), reverse=True)), exact=exact)


def exact_structure(v: NDArray[np.float64]) -> RootStructure:
    found = _exact_roots(v)
    roots = [complex(float(b.real.mid()), 0.0 if r else float(b.imag.mid())) for b, r in zip(found.boxes, found.is_real)]
    multiplicities = list(found.multiplicities)
    real = list(found.is_real)
    for point, multiplicity in ((0j, found.zero), (complex(math.inf, 0.0), found.infinity)):
        if multiplicity:
            roots.append(point)
            multiplicities.append(multiplicity)
            real.append(True)
    return _make_structure(roots, multiplicities, real, exact=True)


def linked_groups(n: int, linked: Callable[[int, int], bool]) -> list[int]:
    """Connected components of the graph on ``0..n-1`` with an edge where ``linked(i, j)``
    (``i < j``), as labels ``0, 1, ...`` in order of first appearance (union-find)."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if linked(i, j):
                parent[find(i)] = find(j)
    labels: dict[int, int] = {}
    return [labels.setdefault(find(i), len(labels)) for i in range(n)]


def chordal(a: complex, b: complex) -> float:
    """Chordal distance on the Riemann sphere (infinity allowed): invariant under the
    rotations of the sphere, so clustering does not depend on where the roots sit."""
    if math.isinf(abs(a)) and math.isinf(abs(b)):
        return 0.0
    # hypot(1, |z|) = sqrt(1 + |z|^2) without overflowing for huge roots
    if math.isinf(abs(a)):
        return 1.0 / math.hypot(1.0, abs(b))
    if math.isinf(abs(b)):
        return 1.0 / math.hypot(1.0, abs(a))
    return abs(a - b) / (math.hypot(1.0, abs(a)) * math.hypot(1.0, abs(b)))


def _floating_roots(p: NDArray[np.float64]) -> list[complex]:
    """The roots (with multiplicity) of ``sum_j p_j x^j`` with ``p_0, p_d != 0``, by
    ``numpy.roots`` in the chart where the leading coefficient is the larger end (so that
    tiny or subnormal end coefficients do not overflow the companion matrix); the exact
    roots (python-flint) when floating point still fails."""
    d = p.size - 1
    if d == 0:
        return []
    q = p / np.max(np.abs(p))
    try:
        with np.errstate(all="ignore"):
            if abs(q[-1]) >= abs(q[0]):
                roots = np.roots(q[::-1])
            else:  # in w = 1/x: the roots of sum_j p_j w^(d-j)
                w = np.roots(q)
                roots = np.where(w == 0, np.inf, 1.0 / np.where(w == 0, 1.0, w))
        if roots.size == d and np.all(np.isfinite(roots)):
            return [complex(z) for z in roots]
    except np.linalg.LinAlgError:
        pass
    exact = exact_structure(np.asarray(p, dtype=np.float64))
    return [complex(z) for z, m in zip(exact.roots, exact.multiplicities) for _ in range(int(m))]


def tolerant_structure(v: NDArray[np.float64], tol: float) -> RootStructure:
    """The tolerant root structure: ``numpy.roots`` clustered in the chordal metric."""
    k = v.size
    nonzero = np.flatnonzero(v)
    if nonzero.size == 0:
        raise ValueError("v: the zero filter has no root structure (every point is a root)")
    hi, lo = int(nonzero[-1]), int(nonzero[0])
    points = _floating_roots(v[lo: hi + 1]) + [0j] * lo + [complex(math.inf, 0.0)] * (k - 1 - hi)
    # single-linkage clustering in the chordal metric
    labels = linked_groups(len(points), lambda i, j: chordal(points[i], points[j]) <= tol)
    clusters: dict[int, list[complex]] = {}
    for point, label in zip(points, labels):
        clusters.setdefault(label, []).append(point)
    roots, mults, real = [], [], []
    for members in clusters.values():
        if any(math.isinf(abs(z)) for z in members):
            centre = complex(math.inf, 0.0)
        else:
            centre = complex(np.mean(members))
        is_real = math.isinf(abs(centre)) or chordal(centre, complex(centre.real, 0.0)) <= tol
        if is_real and not math.isinf(abs(centre)):
            centre = complex(centre.real, 0.0)
        roots.append(centre)
        mults.append(len(members))
        real.append(is_real)
    return _make_structure(roots, mults, real, exact=False)


def root_structure(v: ArrayLike, tol: float | None = None) -> Any:
    """Distinct roots, multiplicities and the partition of the binary form of ``v``.

    **Exact by default** (``tol=None``), for the given float64 coefficients: the
    multiplicities come from the square-free factorisation over Q of the integer polynomial
    the coefficients are (up to a power of two), the roots of each factor are isolated in
    certified boxes by python-flint (so real versus complex is decided exactly, and each
    root is correct to double precision), and trailing zero coefficients are the root at
    infinity with their number as multiplicity. Note that the float coefficients of, say,
    ``(x - 0.1)^2`` are not exactly a square: exactly, that form has two simple roots.

    **Tolerant** with ``tol`` (a float): for floating results such as the limits of gradient
    descent, where exact multiple roots show up as clusters: ``numpy.roots`` finds the roots
    and roots closer than ``tol`` in the chordal metric of the Riemann sphere,
    ``|a - b| / sqrt((1 + |a|^2)(1 + |b|^2))``, are merged (single linkage). The tolerance is
    dimensionless: the metric does not change when the filter is scaled, reversed
    (``x -> 1/x``) or reflected (``x -> -x``), and it treats infinity like any other point.
    A cluster is real when its centre is within ``tol`` of the real line (same metric). A
    root of multiplicity ``m`` perturbed by ``eps`` splits by about ``eps^(1/m)`` (1e-5 for
    ``m = 3`` at double precision): choose ``tol`` accordingly.

    Parameters
    ----------
    v : array_like, shape (k,) or (..., k)
        Nonzero filters.
    tol : float, optional
        None (default): exact. A positive float: tolerant clustering.

    Returns
    -------
    RootStructure, or a list of them for a batch
        ``RootStructure.exact`` says which of the two it is.

    Examples
    --------
    >>> root_structure([3.0, -8.0, 7.0, -3.0, 2.0, -1.0]).partition   # -(x-1)^3 (x^2+x+3)
    (3, 1, 1)
    >>> root_structure([16.0, -32.0, 24.0, -8.0, 1.0, 0.0]).partition  # (x-2)^4, infinity
    (4, 1)
    """
    rows, lead = filter_rows(v)
    if tol is None:
        out = [exact_structure(row) for row in rows]
    else:
        tolerance = as_real(tol, "tol", positive=True)
        out = [tolerant_structure(row, tolerance) for row in rows]
    return batch_result(out, lead, lambda x: x)


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


def _exact_discriminant(row: NDArray[np.float64]) -> Fraction:
    """The exact discriminant of one binary form (:func:`discriminant`)."""
    D = row.size - 1
    sign = -1 if (D * (D - 1) // 2) % 2 else 1
    ints = _integer_form(row)
    # coefficients of F = sum a_j x^j y^(D-j), highest x power first
    a = list(reversed(ints))
    fx = [(D - i) * a[i] for i in range(D)]              # dF/dx: degree D-1 form
    fy = [i * a[i] for i in range(1, D + 1)]              # dF/dy
    res = int(flint.fmpz_mat(_sylvester(fx, fy)).det())
    # undo the power-of-two scaling: Disc is homogeneous of degree 2D-2 in the coefficients
    denominator = max(float(c).as_integer_ratio()[1] for c in row)
    return Fraction(sign * res, D ** (D - 2) * denominator ** (2 * D - 2))


def _exact_discriminant_terms(row: NDArray[np.float64]) -> tuple[int, int]:
    """:func:`_exact_discriminant` as (numerator, denominator), for the child process: Python
    3.10 pickles a ``Fraction`` as its decimal string, which fails past 4 300 digits."""
    value = _exact_discriminant(row)
    return value.numerator, value.denominator


def discriminant(v: ArrayLike, *, exact: bool = True) -> Any:
    """Discriminant of the binary form of ``v`` (degree ``D = k - 1``).

    Computed from the Sylvester resultant of the partial derivatives,
    ``D^(D-2) Disc(F) = (-1)^(D(D-1)/2) Res(dF/dx, dF/dy)``, which also covers forms with
    roots at infinity; it equals the usual polynomial discriminant when ``v[k-1] != 0``.
    It vanishes exactly when the form has a multiple root (infinity included).

    Parameters
    ----------
    v : array_like, shape (k,) with k >= 3, or (B, k)
    exact : bool
        True (default): the exact value for the given float64 coefficients, as a
        ``fractions.Fraction`` (an integer determinant by python-flint). False: a float64
        determinant (rounding errors; its sign near zero is not reliable).

    Returns
    -------
    Fraction or float, or a list of Fractions / an array of floats for a batch
    """
    rows, lead = filter_rows(v)
    k = rows.shape[1]
    if k < 3:
        raise ValueError(f"v: the discriminant needs a form of degree >= 2 (k >= 3), got k = {k}")
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact: expected a bool, got {type(exact).__name__} ({exact!r})")
    D = k - 1
    sign = -1 if (D * (D - 1) // 2) % 2 else 1
    results: list[Any] = []
    for row in rows:
        if exact:
            results.append(Fraction(*interruptible(_exact_discriminant_terms, row))
                           if _work(row) > _CHILD_WORK else _exact_discriminant(row))
        else:
            high_first = row[::-1]
            dx = [float((D - i) * high_first[i]) for i in range(D)]
            dy = [float(i * high_first[i]) for i in range(1, D + 1)]
            S = np.array(_sylvester(dx, dy), dtype=float)
            results.append(sign * float(np.linalg.det(S)) / D ** (D - 2))
    return batch_result(results if exact else np.array(results), lead, lambda x: x if exact else float(x))
