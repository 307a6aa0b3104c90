"""Every factorisation ``v = mu(theta)`` of a filter through a 1D valid architecture.

The end-to-end filter is ``v(x) = w_1(x) w_2(x^{S_2}) ... w_L(x^{S_L})`` (docs/conventions.rst).
A layer with dilation ``S`` contributes the roots of ``w_l(x^S)``: for every root ``rho``
of ``w_l`` the whole *fibre* ``{z : z^S = rho}`` (``S`` distinct points; for ``rho = 0``
or infinity that point ``S`` times). So a factorisation is a way of dealing out the roots
of ``v``, with multiplicity, to the layers such that layer ``l`` receives whole
``S_l``-fibres, closed under complex conjugation (``w_l`` is real), ``k_l - 1`` of them
counted by their ``rho``; and each such way gives exactly one ``theta`` up to the scaling
symmetry. For stride one every fibre is a single root and this is the familiar rule: real
roots and conjugate pairs are distributed over the layers.

Exactness. With ``tol=None`` everything combinatorial is decided exactly for the given
float64 coefficients: the roots of ``v`` and their multiplicities by python-flint (see
:mod:`lcnfast.roots`), and which roots share a fibre by the exact polynomial whose roots
are the values ``z^S`` (see :func:`_power_classes`). The layer filters are then evaluated
from certified enclosures of the ``rho`` at 128 bits or more, rounded to float64 and
polished by Gauss-Newton on ``mu(theta) = v``.

From known roots (:func:`factorizations_from_roots`, stride one): a point certified on a
multiple-root stratum comes with its distinct roots and their multiplicities, which re-rooting
its float coefficients could not recover (a root of multiplicity m spreads by eps^(1/m)); the
landscape deals those out instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import flint
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .architecture import Architecture
from .parameterisation import end_to_end, jacobian
from .roots import ExactRoots, linked_groups, NeedPrecision, roots_at, tolerant_structure, with_precision

__all__ = ["factorizations", "factorizations_from_roots", "has_factorization"]


@dataclass(frozen=True)
class _Unit:
    """What one root ``rho`` of a layer filter (or a conjugate pair of them) takes from ``v``.

    ``degree`` is 1 (real ``rho``, infinity included) or 2 (a conjugate pair); ``uses``
    lists (slot, multiplicity) pairs of the roots of ``v`` it consumes; ``coefficients``
    is the monic factor of the layer filter, ascending (None: the root at infinity, which
    lowers the polynomial degree instead). ``kind`` marks the exact roots 0 and infinity,
    whose zero coefficients polishing must keep.
    """

    degree: int
    uses: tuple[tuple[int, int], ...]
    coefficients: tuple[flint.arb, ...] | None
    kind: str = "finite"


def _power_classes(roots: ExactRoots, S: int) -> tuple[list[int], list[flint.acb]]:
    """Which finite nonzero roots ``z`` of ``v`` have the same ``z^S``, decided exactly, and
    certified enclosures of the distinct values ``rho = z^S``.

    The number ``m`` of distinct values is the degree of the square-free part of
    ``T(y) = prod_z (y - z^S) = charpoly(C^S)`` with ``C`` the companion matrix of the radical
    of ``v`` (exact rational arithmetic). The enclosures ``box(z)^S`` contain the true values;
    when they fall into exactly ``m`` groups (connected components of "overlaps"), boxes of
    different groups are disjoint, so each group holds at least one of the ``m`` values, hence
    exactly one: its members share ``z^S``. Raises ``NeedPrecision`` when fewer groups show
    (the root boxes are too wide). No root isolation of ``T`` is needed (python-flint's takes
    seconds on the 2000-bit coefficients of filters such as ``[1, 5e-324, 1]``).
    """
    n = len(roots.boxes)
    if S == 1 or n == 0:
        return list(range(n)), list(roots.boxes)
    coefficients = [flint.fmpq(int(c)) for c in roots.radical.coeffs()]
    d = len(coefficients) - 1
    companion = flint.fmpq_mat(d, d)
    for i in range(d):
        if i:
            companion[i, i - 1] = 1
        companion[i, d - 1] = -coefficients[i] / coefficients[d]
    powers = (companion**S).charpoly().numer()
    m = (powers // powers.gcd(powers.derivative())).degree()
    with flint.ctx.workprec(roots.prec):
        boxes = [box**S for box in roots.boxes]
    # groups: connected components of the overlap graph
    classes = linked_groups(n, lambda i, j: bool(boxes[i].overlaps(boxes[j])))
    if max(classes) + 1 != m:  # fewer groups than values: the boxes are too wide to tell them apart
        raise NeedPrecision
    # the tightest member enclosure of each value (all members enclose the same number)
    values: list[flint.acb] = [flint.acb(0)] * m
    width = [math.inf] * m
    for i, c in enumerate(classes):
        radius = float(boxes[i].rad())
        if radius < width[c]:
            values[c], width[c] = boxes[i], radius
    return classes, values


def _exact_units(roots: ExactRoots, S: int) -> list[_Unit]:
    """The units a layer with dilation ``S`` can take from ``v`` (whole fibres only).

    Slots: ``0..n-1`` the distinct finite nonzero roots, ``n`` the root 0, ``n + 1`` infinity.
    """
    classes, values = _power_classes(roots, S)
    fibres: dict[int, list[int]] = {}
    for i, c in enumerate(classes):
        fibres.setdefault(c, []).append(i)
    n = len(roots.boxes)
    one = flint.arb(1)
    units = []
    with flint.ctx.workprec(roots.prec):
        for c in sorted(fibres):
            members = fibres[c]
            if len(members) != S:  # some S-th root of rho is not a root of v
                continue
            partner = classes[roots.conjugate[members[0]]]  # the class of conj(rho)
            rho = values[c]
            if partner == c:
                units.append(_Unit(1, tuple((i, 1) for i in members), (-rho.real, one)))
            elif c < partner:
                re, im = rho.real, rho.imag
                units.append(_Unit(2, tuple((i, 1) for i in members + fibres[partner]),
                                   (re * re + im * im, -2 * re, one)))
    if roots.zero >= S:
        units.append(_Unit(1, ((n, S),), (flint.arb(0), one), "zero"))
    if roots.infinity >= S:
        units.append(_Unit(1, ((n + 1, S),), None, "infinity"))
    return units


def _tolerant_units(v: NDArray[np.float64], tol: float) -> tuple[list[int], list[_Unit]]:
    """Slots and units of stride one from the tolerant root clusters of ``v``: a real
    cluster (infinity included) or a cluster in the upper half plane, standing for its pair."""
    rs = tolerant_structure(v, tol)
    return _root_units([complex(z) for z in rs.roots], [int(m) for m in rs.multiplicities],
                       [bool(r) for r in rs.is_real])


def _root_units(roots: list[complex], multiplicities: list[int], real: list[bool]) -> tuple[list[int], list[_Unit]]:
    """Slots and units of stride one from distinct roots with their multiplicities: a real
    root (infinity included) or a root in the upper half plane, standing for its pair."""
    slots: list[int] = []
    units = []
    one = flint.arb(1)
    for z, m, is_real in zip(roots, multiplicities, real):
        if not is_real and z.imag < 0:
            continue
        slot = len(slots)
        slots.append(int(m))
        if math.isinf(abs(z)):
            units.append(_Unit(1, ((slot, 1),), None, "infinity"))
        elif is_real:
            units.append(_Unit(1, ((slot, 1),), (flint.arb(-z.real), one)))
        else:
            units.append(_Unit(2, ((slot, 1),), (flint.arb(abs(z) ** 2), flint.arb(-2.0 * z.real), one)))
    return slots, units


Layer = tuple[int, list[_Unit]]  # (degree k_l - 1, the units its dilation allows)
Remaining = tuple[int, ...]


def _distributions(multiplicities: list[int], layers: list[Layer]) -> Iterator[list[tuple[int, ...]]]:
    """Every way to deal out the roots: for each layer, how often it takes each of its units.

    Depth-first over the layers; a memoised feasibility test prunes every branch that cannot
    use up the roots, so the work is proportional to the number of results. Distinct
    outputs are distinct multisets of roots per layer (a unit determines its fibres), so
    nothing is listed twice.
    """

    @lru_cache(maxsize=None)
    def choices(layer: int, remaining: Remaining) -> list[tuple[tuple[int, ...], Remaining]]:
        degree, units = layers[layer]
        out: list[tuple[tuple[int, ...], Remaining]] = []
        counts = [0] * len(units)
        left = list(remaining)

        def place(u: int, room: int) -> None:
            if room == 0:
                out.append((tuple(counts), tuple(left)))
                return
            if u == len(units):
                return
            unit = units[u]
            most = min([room // unit.degree] + [left[slot] // need for slot, need in unit.uses])
            for c in range(most, -1, -1):
                counts[u] = c
                for slot, need in unit.uses:
                    left[slot] -= c * need
                place(u + 1, room - c * unit.degree)
                for slot, need in unit.uses:
                    left[slot] += c * need
            counts[u] = 0

        place(0, degree)
        return out

    @lru_cache(maxsize=None)
    def feasible(layer: int, remaining: Remaining) -> bool:
        if layer == len(layers):
            return not any(remaining)
        return any(feasible(layer + 1, rest) for _, rest in choices(layer, remaining))

    def search(layer: int, remaining: Remaining) -> Iterator[list[tuple[int, ...]]]:
        if layer == len(layers):
            yield []
            return
        for counts, rest in choices(layer, remaining):
            if feasible(layer + 1, rest):
                for tail in search(layer + 1, rest):
                    yield [counts] + tail

    start = tuple(multiplicities)
    if feasible(0, start):
        yield from search(0, start)


def _normalise(arch: Architecture, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """Equal layer norms (same product), sign on the first layer, others' first nonzero
    coefficient positive (:func:`_normalise_rows` for one row)."""
    offsets = np.concatenate(([0], np.cumsum([int(kl) for kl in arch.k])))
    out: NDArray[np.float64] = _normalise_rows(np.asarray(theta, dtype=float)[None, :], offsets)[0]
    return out


def _polish(arch: Architecture, theta: NDArray[np.float64], v: NDArray[np.float64], free: NDArray[np.bool_],
            steps: int) -> NDArray[np.float64]:
    """Gauss-Newton on ``mu(theta) = v`` for rows ``theta`` (n, P) at once, each in its
    ``free`` coefficients (the others are the exact zeros of roots at 0 and infinity): the
    minimum-norm least-squares step of each row (its Jacobian's pseudo-inverse, the free
    columns only), which a row keeps only while it lowers its residual (quadratic
    convergence at simple roots, linear at roots shared between layers)."""
    theta = np.array(theta, dtype=float, copy=True)
    residual = v[None, :] - end_to_end(arch, theta)
    size = np.linalg.norm(residual, axis=1)
    floor = 2.0 * np.finfo(np.float64).eps * float(np.linalg.norm(v))
    active = np.flatnonzero(size > floor)
    for _ in range(steps):
        if active.size == 0:
            break
        J = jacobian(arch, theta[active]) * free[active][:, None, :]
        # (the pseudo-inverse's rows of the fixed columns are rounding, not zero: masked)
        step = np.einsum("npk,nk->np", np.linalg.pinv(J), residual[active]) * free[active]
        candidate = theta[active] + step
        candidate_residual = v[None, :] - end_to_end(arch, candidate)
        candidate_size = np.linalg.norm(candidate_residual, axis=1)
        better = candidate_size < size[active]
        kept = active[better]
        theta[kept], residual[kept], size[kept] = candidate[better], candidate_residual[better], candidate_size[better]
        active = kept[size[kept] > floor]
    return theta


def _theta(arch: Architecture, v: NDArray[np.float64], layers: list[Layer], distribution: list[tuple[int, ...]],
           prec: int, steps: int) -> NDArray[np.float64]:
    """The parameters of one distribution: each layer filter the product of its units'
    factors (ball arithmetic at ``prec`` bits, rounded to float64), the scale fitted to
    ``v``, polished, normalised."""
    filters, free = [], []
    with flint.ctx.workprec(prec):
        for (degree, units), counts in zip(layers, distribution):
            poly = flint.arb_poly([1])
            for unit, count in zip(units, counts):
                if count and unit.coefficients is not None:
                    poly = poly * flint.arb_poly(list(unit.coefficients)) ** count
            w = np.zeros(degree + 1)
            coefficients = [float(c.mid()) for c in poly.coeffs()]
            w[: len(coefficients)] = coefficients
            _, exponent = np.frexp(np.max(np.abs(w)))  # largest coefficient near 1: no overflow below
            filters.append(np.ldexp(w, -int(exponent)))
            mask = np.ones(degree + 1, dtype=bool)
            at_zero = sum(c for unit, c in zip(units, counts) if unit.kind == "zero")
            at_infinity = sum(c for unit, c in zip(units, counts) if unit.kind == "infinity")
            mask[:at_zero] = False
            mask[degree + 1 - at_infinity:] = False
            free.append(mask)
    product = end_to_end(arch, np.concatenate(filters))
    filters[0] = filters[0] * (float(v @ product) / float(product @ product))
    theta = _polish(arch, np.concatenate(filters)[None, :], v, np.concatenate(free)[None, :], steps)[0]
    return _normalise(arch, theta)


def _setup(arch: Architecture, v: NDArray[np.float64], tol: float | None) -> tuple[list[int], list[Layer], int]:
    """Slots, layers with their units, and the working precision, exact or tolerant."""
    dilations = {int(S) for kl, S in zip(arch.k, arch.dilations) if kl > 1}
    if tol is None:

        def build(prec: int) -> tuple[ExactRoots, dict[int, list[_Unit]]]:
            roots = roots_at(v, prec)
            return roots, {S: _exact_units(roots, S) for S in dilations}

        roots, by_dilation = with_precision(build)
        multiplicities = list(roots.multiplicities) + [roots.zero, roots.infinity]
        prec = roots.prec
    else:  # stride one (the caller checks): only layers of dilation 1 take roots
        multiplicities, units = _tolerant_units(v, tol)
        by_dilation = {1: units}
        prec = 64
    layers = [(int(kl) - 1, by_dilation.get(int(S), [])) for kl, S in zip(arch.k, arch.dilations)]
    return multiplicities, layers, prec


def factorizations(arch: Architecture, v: NDArray[np.float64], tol: float | None,
                   limit: int) -> list[NDArray[np.float64]]:
    """Every ``theta`` with ``mu(theta) = v`` up to scaling, for a nonzero filter ``v`` of a
    1D valid architecture (exact distribution of the roots when ``tol`` is None)."""
    multiplicities, layers, prec = _setup(arch, v, tol)
    return _deal(arch, v, multiplicities, layers, prec, 8 if tol is None else 100, limit)


def _deal(arch: Architecture, v: NDArray[np.float64], multiplicities: list[int], layers: list[Layer], prec: int,
          steps: int, limit: int) -> list[NDArray[np.float64]]:
    """The parameters of every distribution of the roots (slots with ``multiplicities``) to
    the ``layers``, at most ``limit``."""
    # the floating-point work on v scaled by a power of two to a largest coefficient near 1
    # (no overflow in norms); the roots came from elsewhere (v itself, or certified unknowns)
    _, exponent = np.frexp(np.max(np.abs(v)))
    unit = np.ldexp(v, -int(exponent))
    scale = 2.0 ** (int(exponent) / arch.L)
    out: list[NDArray[np.float64]] = []
    for distribution in _distributions(multiplicities, layers):
        if len(out) == limit:
            raise ValueError(f"limit: more than {limit} factorisations; raise limit")
        out.append(_theta(arch, unit, layers, distribution, prec, steps) * scale)
    return out


def has_factorization(arch: Architecture, v: NDArray[np.float64]) -> bool:
    """Whether the nonzero filter ``v`` factors through ``arch``, exactly (1D valid)."""
    multiplicities, layers, _ = _setup(arch, v, None)
    return next(_distributions(multiplicities, layers), None) is not None


def factorizations_from_roots(arch: Architecture, v: NDArray[np.float64], roots: ArrayLike,
                              multiplicities: Sequence[int], *, limit: int = 100000) -> list[NDArray[np.float64]]:
    """Every ``theta`` with ``mu(theta) = v`` for a nonzero real filter ``v`` of a stride-one
    1D valid architecture whose distinct roots are known: ``roots`` (complex; ``inf`` for a
    root at infinity; a root with zero imaginary part is real) with ``multiplicities``.

    For a point certified on a multiple-root stratum the roots come from the certified
    unknowns, so a root of multiplicity ``m`` is one number; re-rooting the float
    coefficients of ``v`` spreads it by about ``eps^(1/m)`` relative to its size (a sextuple
    root at 1260 over +-800), beyond any clustering tolerance. The layer filters are built
    from the roots and polished by Gauss-Newton on ``mu(theta) = v``, as in the tolerant
    mode of :func:`factorizations`.

    Raises
    ------
    ValueError
        ``roots``: a non-real root without its complex conjugate of the same multiplicity
        (``v`` real has its non-real roots in conjugate pairs), or degrees that do not add
        up to ``len(v) - 1``; ``arch``: a layer with ``k_l > 1`` at a dilation ``S_l > 1``;
        ``limit``: more factorisations than that.
    """
    z = np.asarray(roots, dtype=complex).ravel()
    m = [int(x) for x in multiplicities]
    if len(m) != z.size or any(x < 1 for x in m):
        raise ValueError("multiplicities: one positive multiplicity per root")
    if any(int(kl) > 1 and int(S) > 1 for kl, S in zip(arch.k, arch.dilations)):
        raise ValueError("arch: factorisations from roots are implemented for stride one")
    if sum(m) != int(v.size) - 1:
        raise ValueError(f"roots: multiplicities add up to {sum(m)}, the filter has degree {v.size - 1}")
    real = [bool(x.imag == 0.0 or math.isinf(abs(x))) for x in z]
    upper = [(x, k) for x, k, r in zip(z, m, real) if not r and x.imag > 0]
    lower = [(x, k) for x, k, r in zip(z, m, real) if not r and x.imag < 0]
    unmatched = list(lower)
    for x, k in upper:
        partners = [i for i, (y, j) in enumerate(unmatched) if j == k]
        if not partners:
            raise ValueError(f"roots: {x} has no complex conjugate of multiplicity {k}")
        best = min(partners, key=lambda i: abs(unmatched[i][0] - x.conjugate()))
        if abs(unmatched[best][0] - x.conjugate()) > 1e-6 * (1.0 + abs(x)):
            raise ValueError(f"roots: {x} has no complex conjugate of multiplicity {k}")
        unmatched.pop(best)
    if unmatched:
        raise ValueError(f"roots: {unmatched[0][0]} has no complex conjugate")
    slots, units = _root_units([complex(x) for x in z], m, real)
    layers = [(int(kl) - 1, units) for kl in arch.k]
    distributions: list[list[tuple[int, ...]]] = []
    for distribution in _distributions(slots, layers):
        if len(distributions) == limit:
            raise ValueError(f"limit: more than {limit} factorisations; raise limit")
        distributions.append(distribution)
    return _thetas_from_roots(arch, v, layers, distributions)


def _thetas_from_roots(arch: Architecture, v: NDArray[np.float64], layers: list[Layer],
                       distributions: list[list[tuple[int, ...]]]) -> list[NDArray[np.float64]]:
    """The parameters of the ``distributions`` of known roots, all at once: each layer filter
    the product of its units' factors in float64 (the roots are float64 numbers, so ball
    arithmetic adds nothing), largest coefficient near 1; the scale fitted to ``v``; the rows
    whose product misses ``v`` by more than rounding polished together (:func:`_polish`);
    normalised (:func:`_normalise_rows`)."""
    if not distributions:
        return []
    _, exponent = np.frexp(np.max(np.abs(v)))
    unit = np.ldexp(v, -int(exponent))
    scale = 2.0 ** (int(exponent) / arch.L)
    units = layers[0][1] if layers else []
    factors = [None if u.coefficients is None else np.array([float(c.mid()) for c in u.coefficients]) for u in units]
    zero = [u.kind == "zero" for u in units]
    n, P = len(distributions), arch.n_params
    theta = np.zeros((n, P))
    free = np.ones((n, P), dtype=bool)
    offsets = np.concatenate(([0], np.cumsum([degree + 1 for degree, _ in layers])))
    made: dict[tuple[int, ...], tuple[NDArray[np.float64], int, int]] = {}  # a layer's filter per counts

    def layer_filter(counts: tuple[int, ...]) -> tuple[NDArray[np.float64], int, int]:
        if counts not in made:
            w = np.ones(1)
            at_zero = at_infinity = 0
            for factor, count, is_zero in zip(factors, counts, zero):
                if factor is None:
                    at_infinity += count
                else:
                    at_zero += count if is_zero else 0
                    for _ in range(count):
                        w = np.convolve(w, factor)
            _, e = np.frexp(np.max(np.abs(w)))
            made[counts] = (np.ldexp(w, -int(e)), at_zero, at_infinity)
        return made[counts]

    for row, distribution in enumerate(distributions):
        for (degree, _), counts, start in zip(layers, distribution, offsets):
            w, at_zero, at_infinity = layer_filter(tuple(counts))
            theta[row, start:start + w.size] = w
            # the coefficients that roots at 0 and infinity make exactly zero stay zero
            free[row, start:start + at_zero] = False
            free[row, start + degree + 1 - at_infinity:start + degree + 1] = False
    product = end_to_end(arch, theta)
    theta[:, offsets[0]:offsets[1]] *= ((product @ unit) / np.einsum("ij,ij->i", product, product))[:, None]
    residual = np.linalg.norm(unit[None, :] - end_to_end(arch, theta), axis=1)
    floor = 2.0 * np.finfo(np.float64).eps * float(np.linalg.norm(unit))
    rows = np.flatnonzero(residual > floor)
    if rows.size:
        theta[rows] = _polish(arch, theta[rows], unit, free[rows], 100)
    return list(_normalise_rows(theta, offsets) * scale)


def _normalise_rows(theta: NDArray[np.float64], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    """Equal layer norms (same product), sign on the first layer, others' first nonzero
    coefficient positive, for a batch of rows whose layers are ``theta[:, offsets[l]:offsets[l+1]]``."""
    theta = theta.copy()
    blocks = [slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:])]
    sign = np.ones(theta.shape[0])
    for block in blocks[1:]:
        w = theta[:, block]
        nonzero = np.abs(w) > 0
        first = np.argmax(nonzero, axis=1)
        lead = w[np.arange(w.shape[0]), first]
        flip = nonzero.any(axis=1) & (lead < 0)
        theta[flip, block] = -theta[flip, block]
        sign[flip] = -sign[flip]
    theta[:, blocks[0]] *= sign[:, None]
    norms = np.stack([np.linalg.norm(theta[:, block], axis=1) for block in blocks], axis=1)
    ok = np.all(norms > 0, axis=1)
    if np.any(ok):
        target = np.exp(np.mean(np.log(np.where(ok[:, None], norms, 1.0)), axis=1))
        for j, block in enumerate(blocks):
            theta[ok, block] *= (target[ok] / norms[ok, j])[:, None]
    return theta
