"""The function space of an LCN: dimension, filling, membership, factorisations.

The function space ``M`` of an architecture is the image of the parameterisation map
``mu`` (docs/theory.rst). Facts implemented here:

* stride one, 1D: ``M`` is full dimensional (``dim = k``); it is *filling* (all of
  ``R^k``) iff at most one filter has even size (``e <= 1``); ``v`` is in ``M`` iff its
  binary form has at least ``e`` real roots;
* strides > 1 (sequel paper): ``dim M = sum_l k_l - (L - 1)``, full dimensional iff
  ``(k_l - 1)(S_l - 1) = 0`` for every layer, otherwise *thin*; membership and the
  factorisations come from the exact distribution of the roots of ``v`` over the layers
  (:mod:`lcnfast.factorization`);
* circular and 2D: ``dim M`` is the generic rank of the Jacobian of ``mu``, computed here
  exactly (see :meth:`FunctionSpace.dim`), never assumed.

Exact versus tolerant: every question about a given filter (membership, interior and
boundary, root structure, factorisations, discriminant) is answered exactly for its float64
coefficients; the functions that take ``tol`` (``locate(v, tol)``, ``root_structure(v, tol)``,
``factorizations(v, tol=...)``) are the tolerant versions for floating results such as the
limits of gradient descent, and only when that tolerance is passed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import flint
import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import factorization as _factorization
from ._validation import as_int, as_real, as_real_array, as_seed, check_memory
from .architecture import Architecture, require_architecture
from .losses import QuadraticLoss
from .parameterisation import end_to_end, jacobian
from .roots import RootStructure as RootStructure
from .roots import batch_result, exact_structure, filter_rows, root_counts, tolerant_structure
from .roots import discriminant as discriminant
from .roots import real_root_count as real_root_count
from .roots import root_structure as root_structure
from .strata import partitions as partitions
from .strata import stratum_critical_points
from .strided import dilation_groups, dilation_polynomials, stratum_tuples, strided_critical_points
from .training import balance, train

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


def jacobian_rank(arch: Architecture, theta: ArrayLike, rtol: float | None = None, *,
                  threads: int | None = None) -> Any:
    """Numerical rank of the Jacobian of ``mu`` at ``theta``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (..., P)
    rtol : float, optional
        Singular values below ``rtol * sigma_max`` count as zero (default
        ``max(k, P) * machine epsilon``, numpy's ``matrix_rank`` rule).

    Returns
    -------
    int, or ndarray of int with the batch shape ``(...)``
    """
    J = jacobian(arch, theta, threads=threads)
    lead = J.shape[:J.ndim - len(arch.filter_shape) - 1]
    single = lead == ()
    rows = J.reshape((-1, int(np.prod(arch.filter_shape)), arch.n_params))
    s = np.linalg.svd(rows, compute_uv=False)
    tol = (max(rows.shape[1:]) * np.finfo(np.float64).eps if rtol is None
           else as_real(rtol, "rtol", nonnegative=True))
    ranks = np.sum(s > tol * s[:, :1], axis=1)
    ranks[s[:, 0] == 0] = 0
    return int(ranks[0]) if single else ranks.reshape(lead)


def generic_jacobian_rank(arch: Architecture, *, trials: int = 3, seed: Any = 0, rng: Any = None) -> int:
    """The generic rank of the Jacobian of ``mu``, i.e. ``dim M``, computed exactly.

    The Jacobian is evaluated at random *integer* parameters, where its entries are
    integers that float64 holds exactly, and its rank over Q is computed exactly by
    python-flint (``fmpz_mat.rank``). The rank at any point is at most the generic rank
    and equals it outside a proper algebraic subset, so the maximum over a few random
    points is the generic rank with overwhelming probability (Schwartz-Zippel). ``seed``
    (or ``rng``, SPEC 7's name: an int, a Generator or None) chooses the points.
    """
    require_architecture(arch)
    rng = np.random.default_rng(as_seed(seed, rng=rng))
    n_trials = as_int(trials, "trials", minimum=1)
    if n_trials > 1000:
        raise ValueError(f"trials: at most 1000 (a handful already gives the generic rank), got {n_trials}")
    best = 0
    bound = arch.filter_size if arch.ndim == 1 else int(np.prod(arch.filter_shape))
    for _ in range(n_trials):
        theta = rng.integers(-9, 10, size=arch.n_params).astype(np.float64)
        J = jacobian(arch, theta, threads=1).reshape(-1, arch.n_params)
        # entries are sums of products of at most L-1 integers below 10 in size: exact
        # in float64 for every architecture lcnfast accepts in practice; check anyway
        if np.abs(J).max(initial=0.0) >= 2.0**52:
            raise ValueError("arch: Jacobian entries too large for an exact rank; use jacobian_rank")
        best = max(best, int(flint.fmpz_mat([[int(x) for x in row] for row in J]).rank()))
        if best == min(bound, arch.n_params):
            break
    return best


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


def _size(arch: Architecture) -> int:
    return int(np.prod(arch.filter_shape))


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

        Stride-one 1D: ``k`` (docs/theory.rst). Stride-one 2D: ``P - (L - 1)`` (the layer
        filters of a generic product are determined up to rescaling and finitely many choices,
        since bivariate polynomials factor uniquely). Everything else (strides, circular): the
        generic rank of the Jacobian of ``mu``, computed exactly (:func:`generic_jacobian_rank`);
        the tests check it against the sequel paper's ``sum_l k_l - (L-1)`` for strides.
        """
        if self._dim is None:
            a = self._arch
            if self._arch.is_stride_one_1d:
                self._dim = int(a.filter_shape[0])
            elif a.ndim == 2 and not a.is_circular and all(s == (1, 1) for s in a.s):
                # R[x, y] is a unique factorisation domain: a generic product of the layer
                # filters factors in finitely many ways up to the L - 1 rescalings, so the
                # generic fibre has dimension L - 1 (an exact rank of the 4225 x 4100
                # Jacobian of 64x64,2x2 took minutes)
                self._dim = a.n_params - (len(a.k) - 1)
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
        if self._arch.is_stride_one_1d:
            return (self.n_even or 0) <= 1
        if not self.is_thick:
            return False
        a = self._arch
        if a.ndim == 1 and not a.is_circular:
            # full dimensional strided valid: every layer with stride > 1 before it has k = 1,
            # so the filters are w_l(x^{S_l}) with S_l = 1 wherever k_l > 1: stride one
            return sum(1 for k, S in zip(a.k, a.dilations) if k % 2 == 0 and S == 1) <= 1
        raise NotImplementedError("is_filling: only known for 1D valid layers and for thin spaces")

    # -- membership (1D valid layers, exact) -------------------------------------------
    @property
    def _valid_1d(self) -> bool:
        return self._arch.ndim == 1 and not self._arch.is_circular

    @property
    def _by_root_count(self) -> bool:
        """1D valid and every layer with a dilation ``S_l > 1`` has ``k_l = 1``: then ``v`` is
        ``w_1(x) ... w_m(x)`` times scalars, a stride-one space, decided by real-root counts."""
        a = self._arch
        return self._valid_1d and all((k - 1) * (S - 1) == 0 for k, S in zip(a.k, a.dilations))

    def _require_stride_one(self, what: str) -> None:
        if not self._arch.is_stride_one_1d:
            raise NotImplementedError(
                f"{what}: implemented for stride-one 1D valid architectures "
                f"(this is {self._arch!r}); use factorize() for a numerical search")

    def _require_valid_1d(self, what: str) -> None:
        if not self._valid_1d:
            raise NotImplementedError(
                f"{what}: exact membership is implemented for 1D valid architectures (any strides; "
                f"this is {self._arch!r}); use factorize() for a numerical search")

    def _rows(self, v: ArrayLike) -> tuple[NDArray[np.float64], tuple[int, ...]]:
        rows, lead = filter_rows(v)
        if rows.shape[1] != self._arch.filter_size:
            raise ValueError(f"v: expected filters of size {self._arch.filter_size}, got {rows.shape[1]}")
        return rows, lead

    def _counts(self, v: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_],
                                             tuple[int, ...]]:
        rows, lead = self._rows(v)
        total, odd, zero = root_counts(rows)
        return total, odd, zero, lead

    def contains(self, v: ArrayLike) -> Any:
        """Whether ``v`` is in the function space, exactly (1D valid layers, any strides).

        Exact for the given float64 coefficients. ``v = 0`` is in every space. Stride one
        (and strided architectures whose layers with dilation ``S_l > 1`` all have
        ``k_l = 1``): ``v`` is in ``M`` iff its binary form has at least ``e`` real roots,
        with multiplicity, infinity included (certified counts, batched in C++). Other
        strided architectures (thin spaces): iff the roots of ``v`` can be dealt out to the
        layers in whole ``S_l``-fibres (see :meth:`factorizations`), decided exactly. A
        thin space has measure zero: a floating-point ``mu(theta)`` is, after rounding,
        usually not exactly in it (use :meth:`factorize` for such points).

        Parameters
        ----------
        v : array_like, shape (k,) or (..., k)

        Returns
        -------
        bool, or ndarray of bool with the batch shape (...)

        Raises
        ------
        NotImplementedError
            For circular and 2D architectures (use :meth:`factorize`).
        """
        self._require_valid_1d("contains")
        if self._by_root_count:
            total, _, zero, lead = self._counts(v)
            result = zero | (total >= (self.n_even or 0))
        else:
            rows, lead = self._rows(v)
            result = np.array([not np.any(row) or _factorization.has_factorization(self._arch, row)
                               for row in rows], dtype=bool)
        return batch_result(result, lead, bool)

    def is_interior(self, v: ArrayLike) -> Any:
        """Whether ``v`` is an interior point of ``M`` in ``R^k``, exactly (1D valid layers).

        A real root of multiplicity ``m`` can turn into as few as ``m mod 2`` real roots
        under perturbation, so (stride one) ``v`` is interior iff its real roots of odd
        multiplicity number at least ``e``; in a filling space every point is interior.
        A thin space (strides with ``k_l > 1`` at a dilation ``S_l > 1``) has no interior
        point: it is a lower-dimensional subset of ``R^k``, and this returns False.
        Arguments, shapes and errors as in :meth:`contains`.
        """
        self._require_valid_1d("is_interior")
        if not self._by_root_count:
            rows, lead = self._rows(v)
            result = np.zeros(rows.shape[0], dtype=bool)
        else:
            _, odd, zero, lead = self._counts(v)
            if self.is_filling:
                result = np.ones(odd.shape, dtype=bool)
            else:
                result = ~zero & (odd >= (self.n_even or 0))
        return batch_result(result, lead, bool)

    def is_boundary(self, v: ArrayLike) -> Any:
        """Whether ``v`` is in ``M`` but not interior, exactly (1D valid layers).

        Stride one: ``v`` then lies in the discriminant (it has a multiple real root). In a
        thin space every point of ``M`` is a boundary point.
        """
        inside = np.atleast_1d(self.contains(v))
        interior = np.atleast_1d(self.is_interior(v))
        result = inside & ~interior
        return bool(result.flat[0]) if np.ndim(v) == 1 else result

    def locate(self, v: ArrayLike, tol: float | None = None) -> Any:
        """``"interior"``, ``"boundary"`` or ``"outside"``: exact, or tolerant with ``tol``.

        With ``tol=None`` (default) this is :meth:`contains` and :meth:`is_interior`, exact
        for the given coefficients (1D valid layers, any strides). With a ``tol`` (stride
        one) it is the *tolerant* version for floating results such as the limits of
        gradient descent: the roots are clustered by :func:`root_structure` with ``tol``, so
        that a numerically double root counts as double.

        Returns
        -------
        str, or ndarray of str with the batch shape (...)
        """
        if tol is None:
            inside = np.atleast_1d(self.contains(v))
            interior = np.atleast_1d(self.is_interior(v))
            labels = np.where(interior, "interior", np.where(inside, "boundary", "outside"))
            return str(labels.flat[0]) if np.ndim(v) == 1 else labels
        if not self._by_root_count:
            self._require_stride_one("locate with a tolerance")
        rows, lead = self._rows(v)
        tolerance = as_real(tol, "tol", positive=True)
        out = []
        for row in rows:
            if not np.any(row):
                out.append("interior" if self.is_filling else "boundary")
                continue
            rs = tolerant_structure(row, tolerance)
            out.append(self.location_from_root_counts(rs.n_real, rs.n_odd_real))
        return batch_result(np.array(out), lead, str)

    def location_from_root_counts(self, n_real: int, n_odd_real: int) -> str:
        """Stride one: ``"interior"``, ``"boundary"`` or ``"outside"`` for a nonzero filter with
        ``n_real`` real roots (with multiplicity, infinity included) of which ``n_odd_real``
        distinct ones have odd multiplicity (the rule of :meth:`locate`, for roots already
        known, such as a certified critical point's)."""
        e = self.n_even or 0
        if n_real < e:
            return "outside"
        return "interior" if self.is_filling or n_odd_real >= e else "boundary"

    # -- factorisations --------------------------------------------------------------------
    def factorizations(self, v: ArrayLike, *, tol: float | None = None, limit: int = 100000,
                       exact: bool = True) -> list[NDArray[np.float64]]:
        """Every way to write ``v = mu(theta)``, up to the scaling symmetry (1D valid layers,
        any strides).

        A layer with dilation ``S_l`` contributes the roots of ``w_l(x^{S_l})``: for each
        root ``rho`` of ``w_l``, all ``z`` with ``z^{S_l} = rho`` (stride one: just ``rho``).
        So the factorisations are the ways to deal out the roots of ``v`` (with multiplicity,
        infinity included) to the layers, layer ``l`` taking ``k_l - 1`` such fibres closed
        under conjugation: a real root, or a conjugate pair kept together in one layer; a
        root of multiplicity ``m`` counts as ``m`` equal units. Ways that differ only by
        exchanging equal roots are listed once.

        **Exact** (``tol=None``, the default): the roots, their multiplicities, which roots
        are real and which share a fibre are decided exactly for the given float64
        coefficients (python-flint), so the number and the structure of the factorisations
        are exact. The filters are then computed from certified enclosures of the roots
        (128 bits or more), rounded and polished by Gauss-Newton on ``mu(theta) = v``: each
        maps back to ``v`` to about machine precision.

        **Tolerant** (``tol`` given, stride one): the roots are the clusters of
        :func:`root_structure` with ``tol``, for floating points that lie on a stratum only
        up to rounding (a computed double root whose float coefficients have two complex
        roots 1e-9 apart). Then ``exact=True`` (default) first checks exact membership and
        returns ``[]`` outside the space; ``exact=False`` trusts the clusters alone.

        Each ``theta`` is normalised: equal filter norms, the sign carried by the first
        layer, every other layer's first nonzero coefficient positive.

        Parameters
        ----------
        v : array_like, shape (k,)
        tol : float, optional
            None: exact. A positive float: tolerant clustering (stride one).
        limit : int
            Raise ``ValueError`` rather than list more factorisations than this.
        exact : bool
            Only with ``tol``: whether exact membership gates the tolerant answer.

        Returns
        -------
        list of ndarray, shape (P,)
            Exact mode: empty exactly when ``v`` is outside the space. For ``v = 0``: the
            single factorisation with all filters zero.

        Raises
        ------
        NotImplementedError
            For circular and 2D architectures (use :meth:`factorize`), and with ``tol`` for
            strided architectures with ``k_l > 1`` at a dilation ``S_l > 1``.
        """
        self._require_valid_1d("factorizations")
        rows, lead = self._rows(v)
        if lead != ():
            raise ValueError("v: factorizations takes one filter at a time")
        row = rows[0]
        most = as_int(limit, "limit", minimum=1)
        tolerance = None if tol is None else as_real(tol, "tol", positive=True)
        if tolerance is not None and not self._by_root_count:
            raise NotImplementedError(
                "tol: tolerant factorisations are implemented for stride one; for strides use the exact "
                "factorisations (tol=None) or factorize() for a numerical search")
        if not np.any(row):
            return [np.zeros(self._arch.n_params)]
        if tolerance is not None and exact and not self.contains(row):
            return []
        return _factorization.factorizations(self._arch, row, tolerance, most)

    def factorize(self, v: ArrayLike, *, starts: int = 64, steps: int = 3000, tol: float = 1e-9,
                  seed: Any = 0, rng: Any = None) -> Factorization:
        """Search numerically for ``theta`` with ``mu(theta) = v`` (any architecture).

        For strides, circular layers and 2D there is no root-assignment theorem to list the
        factorisations, so this runs ``starts`` gradient descents at once on
        ``||mu(theta) - v||^2`` with the training engine (``v`` scaled to unit norm), then
        polishes the best by Gauss-Newton. It is a search, not a proof: ``found=False``
        means none was found, not that none exists (:meth:`contains` decides exactly for
        stride-one 1D).
        """
        arch = self._arch
        seed = as_seed(seed, rng=rng)
        n_starts = as_int(starts, "starts", minimum=1)
        n_steps = as_int(steps, "steps", minimum=0)
        tolerance = as_real(tol, "tol", nonnegative=True)
        target = as_real_array(v, "v")
        if target.shape != arch.filter_shape:
            raise ValueError(f"v: expected shape {arch.filter_shape}, got {target.shape}")
        check_memory(64.0 * n_starts * (arch.n_params + _size(arch)), f"starts: {n_starts} descents")
        norm = float(np.linalg.norm(target))
        if norm == 0.0:
            return Factorization(theta=np.zeros(arch.n_params), residual=0.0, found=True)
        unit = target / norm
        loss = QuadraticLoss(np.eye(unit.size), unit)
        result = train(arch, loss, batch=n_starts, lr=0.02, steps=n_steps, tol=1e-12, seed=seed, init="balanced",
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
        return Factorization(theta=theta, residual=best_residual, found=best_residual <= tolerance)

    def nearest(self, u: ArrayLike, G: ArrayLike | None = None, *,
                seed: Any = 0, rng: Any = None) -> tuple[NDArray[np.float64], float]:
        """The point of the function space nearest to ``u`` in the ``G``-norm (1D valid layers,
        any strides).

        Stride one: if ``u`` is in the space it is its own nearest point. Otherwise the nearest
        point lies on the boundary, hence on a multiple-root stratum, where it is a critical
        point of the distance restricted to that stratum: every real critical point of every
        stratum (:func:`lcnfast.stratum_critical_points`, homotopy continuation) that lies
        in the space (by the stratum's multiplicities and the reality of its roots), and
        ``v = 0``, are compared. Strides: the nearest point is a critical point of the distance
        on the Zariski closure of the space or, where layers of one dilation share roots, on a
        sub-family (:func:`lcnfast.strided_critical_points` over
        ``lcnfast.strided.stratum_tuples``); the real ones whose factors lie in the space, and
        ``v = 0``, are compared. The answer is certified as far as the enumeration is: every
        candidate is a certified critical point (or a singular one, found by the endgame), and
        when every stratum's enumeration is complete (``StratumCriticalPoints.complete``) no
        critical point was missed; otherwise a ``RuntimeWarning`` says which strata were
        incomplete. ``seed`` seeds the homotopies'
        detours.

        Returns
        -------
        (v, distance) with ``distance = sqrt((v-u)^T G (v-u))``.
        """
        self._require_valid_1d("nearest")
        target = as_real_array(u, "u")
        K = int(self._arch.filter_shape[0])
        if target.shape != (K,):
            raise ValueError(f"u: expected shape ({K},), got {target.shape}")
        seed = as_seed(seed, rng=rng)
        Gm = np.eye(K) if G is None else as_real_array(G, "G")
        if Gm.shape != (K, K):
            raise ValueError(f"G: expected shape ({K}, {K}), got {Gm.shape}")

        def distance(v: NDArray[np.float64]) -> float:
            d = v - target
            return math.sqrt(max(float(d @ Gm @ d), 0.0))

        if not self._by_root_count:
            return self._nearest_strided(target, Gm, seed, distance)
        if self.contains(target):
            return target.copy(), 0.0
        best, best_distance = np.zeros(K), distance(np.zeros(K))
        D = K - 1
        incomplete = []
        for partition in partitions(D):
            if max(partition) == 1:
                continue  # the open stratum: its only critical point is u itself, outside
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # summarised below
                found = stratum_critical_points(partition, Gm, target, seed=seed)
            if not found.complete or not np.all(found.certified | (found.multiplicity > 1)):
                incomplete.append(partition)
            # membership from the stratum's exact multiplicities, not from re-rooting v
            for v, real, n_real in zip(found.v, found.is_real, found.real_root_counts()):
                if not real or n_real < (self.n_even or 0):
                    continue
                candidate = np.ascontiguousarray(v.real)
                if distance(candidate) < best_distance:
                    best, best_distance = candidate, distance(candidate)
        if incomplete:
            warnings.warn(f"nearest: the enumeration of strata {incomplete} is incomplete or not fully certified; "
                          "the point returned is the best one found", RuntimeWarning, stacklevel=2)
        return best, best_distance

    def _nearest_strided(self, target: NDArray[np.float64], Gm: NDArray[np.float64], seed: int,
                         distance: Any) -> tuple[NDArray[np.float64], float]:
        K = target.size
        best, best_distance = np.zeros(K), distance(np.zeros(K))
        incomplete = []
        for stratum in stratum_tuples(self._arch):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # summarised below
                found = strided_critical_points(self._arch, Gm, target, stratum=stratum, seed=seed)
            if not found.complete or not np.all(found.certified | (found.multiplicity > 1)):
                incomplete.append(stratum)
            for i, _ in strided_points_in_space(self._arch, found):
                candidate = np.ascontiguousarray(found.v[i].real)
                if distance(candidate) < best_distance:
                    best, best_distance = candidate, distance(candidate)
        if incomplete:
            warnings.warn(f"nearest: the enumeration of {incomplete} is incomplete or not fully certified; "
                          "the point returned is the best one found", RuntimeWarning, stacklevel=3)
        return best, best_distance

    def distance_to_boundary(self, v: ArrayLike, *, tol: float | None = None) -> tuple[float, float]:
        """Lower and upper bounds on the Euclidean distance from ``v`` to the boundary of
        ``M`` (stride-one 1D), from the roots of ``v``: the exact root structure
        (:func:`root_structure`) by default, the tolerant one with ``tol``. Which side of
        the boundary ``v`` is on is decided exactly; the bounds are floating-point numbers.

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
        rows, lead = filter_rows(v)
        if lead != ():
            raise ValueError("v: distance_to_boundary takes one filter at a time")
        row = rows[0]
        if self.is_filling:
            return (math.inf, math.inf)
        if not self.contains(row):
            return (0.0, math.nan)
        if not self.is_interior(row):
            return (0.0, 0.0)
        rs = exact_structure(row) if tol is None else tolerant_structure(row, as_real(tol, "tol", positive=True))
        return (_rouche_lower_bound(row, rs), merge_upper_bound(row, rs, self.n_even or 0))

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
        if self._by_root_count and not self.is_filling:
            lines.append(f"  membership         binary forms with at least e = {self.n_even} real roots "
                         "(with multiplicity, infinity included)")
        elif self._valid_1d and not self._by_root_count:
            lines.append("  membership         the roots of v dealt out to the layers in whole fibres of "
                         "x -> x^S_l (exact)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"FunctionSpace({self._arch!r})"


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


def merge_upper_bound(v: NDArray[np.float64], rs: RootStructure, e: int) -> float:
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


def strided_points_in_space(arch: Architecture, found: Any) -> list[tuple[int, dict[int, NDArray[np.float64]]]]:
    """The real points of a strided enumeration (:class:`lcnfast.StridedCriticalPoints` of
    ``arch``) that lie in the function space, with their dilation polynomials ``W_S``: a real
    point (its factors real, a certified real box) is in the space when the polynomial of
    every dilation with several layers has a real factorisation into those layers (stride-one
    membership, exact for its float coefficients); a layer alone at its dilation takes any real
    polynomial. (A thin space holds no float vector exactly, so membership is decided on the
    factors, not on ``v``.)

    A dilation's stride-one space holds exactly the polynomials with at least ``e`` real
    roots, with multiplicity and infinity included (:meth:`FunctionSpace.contains`); the real
    roots of ``W_S = prod q_i^a_i`` are counted from its factors, ``sum_i a_i r(q_i)`` with
    ``r`` the exact real-root count of each factor's form (its roots are simple), and never
    from the product's rounded coefficients: a double root ``q^2`` rounds to a pair of complex
    roots as often as to two real ones (seen for ``k = (2, 2, 2)``, ``s = (1, 2, 1)``: both
    minima that gradient descent reached were dropped on 7 of 100 Gaussian data sets)."""
    from .roots import real_root_count

    spaces = {S: FunctionSpace(Architecture([arch.k[layer] for layer in layers]))
              for S, layers in dilation_groups(arch).items() if len(layers) > 1}
    out = []
    for i in np.flatnonzero(found.is_real):
        q = found.q[i].real
        W = dilation_polynomials(found.factors, q)
        real_roots: dict[int, int] = {}
        offset = 0
        for S, a, m in found.factors:
            factor = np.ascontiguousarray(q[offset:offset + m + 1])
            offset += m + 1
            real_roots[S] = real_roots.get(S, 0) + (a * int(real_root_count(factor)) if m > 0 else 0)
        if all(real_roots.get(S, 0) >= (space.n_even or 0) for S, space in spaces.items()):
            out.append((int(i), W))
    return out
