"""Classifying the points where training ends (critical points of ``L = l o mu``).

The training loss is ``L(theta) = l(mu(theta))`` with ``l`` quadratic (docs/conventions.rst). Its
Hessian is exact here: ``mu`` is multilinear, so

    d^2 L / dw_l[t] dw_m[u] = 2 (J^T G J)[(l,t),(m,u)] + <gbar, mu(theta; w_l = e_t, w_m = e_u)>,

with ``gbar = 2 (G v - b)`` and the second term zero when ``l = m``. Each row of the second
term is one vector-Jacobian product of the C++ kernels at ``theta`` with one filter
replaced by a unit vector, so no finite difference is involved. ``L`` is constant along the
``L - 1`` scaling directions ``(w_l, w_{l+1}) -> (a w_l, w_{l+1} / a)``, which are removed
before counting negative eigenvalues (the index).
"""

from __future__ import annotations

import itertools
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _saving
from ._validation import as_real, as_seed
from ._newton import hessians
from .architecture import Architecture, require_architecture
from .factorization import factorizations_from_roots
from .geometry import FunctionSpace, jacobian_rank, partitions, strided_points_in_space
from .roots import chordal, tolerant_structure
from .strata import stratum_critical_points
from .strided import dilation_groups, stratum_tuples, strided_critical_points
from .losses import QuadraticLoss, require_loss
from .parameterisation import end_to_end, jacobian, theta_rows, vjp
from ._progress import Progress

__all__ = ["Classification", "Landscape", "LandscapePoint", "classify", "critical_points", "hessian"]


#: A candidate critical point in function space: the real filter, the stratum it was
#: certified on (or tuple of partitions, one per dilation), its dilation polynomials W_S
#: (strided; None for stride one), and per dilation S the distinct roots of W_S (of v for
#: stride one; a real root with imaginary part 0) with their multiplicities, from the
#: certified unknowns (None: the unconstrained optimum u, rooted again).
GroupRoots = dict[int, tuple[NDArray[np.complex128], tuple[int, ...]]]
Candidate = tuple[NDArray[np.float64], tuple[Any, ...], "dict[int, NDArray[np.float64]] | None", "GroupRoots | None"]


def _check(arch: Any, loss: Any) -> None:
    require_loss(require_architecture(arch), loss)


def _hessian_one(arch: Architecture, loss: QuadraticLoss, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = hessians(arch, loss, theta.reshape(1, -1))[0]
    return out


def hessian(arch: Architecture, loss: QuadraticLoss, theta: ArrayLike) -> NDArray[np.float64]:
    """Exact Hessian of ``L = loss o mu`` at ``theta`` ``(..., P)``: ``(..., P, P)``."""
    _check(arch, loss)
    rows, lead = theta_rows(arch, theta)
    H = hessians(arch, loss, rows)
    return H.reshape(lead + H.shape[1:])


@dataclass(frozen=True)
class Classification:
    """What kind of point ``theta`` is for the training loss.

    Attributes
    ----------
    grad_norm : float
        ``||grad L(theta)||``.
    v : ndarray
        The end-to-end filter.
    partition : tuple of int
        Multiplicities of the distinct roots of ``v`` (its multiple-root stratum), or ``()``
        for ``v = 0``.
    location : str
        ``"interior"``, ``"boundary"``, ``"outside"`` (stride-one 1D, up to ``tol``), or
        ``"n/a"``.
    jacobian_rank : int
    shared_roots : list of (complex, tuple of int)
        Each root of ``v`` found in more than one filter, with the layers that contain it:
        the repeated-filter pattern.
    hessian : ndarray, shape (P, P)
    eigenvalues : ndarray
        Of the Hessian restricted to the complement of the ``L - 1`` scaling directions.
    index : int
        Number of negative eigenvalues among those.
    verdict : str
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` (zero eigenvalues
        and no sign of both kinds: the Hessian does not decide).
    """

    grad_norm: float
    v: NDArray[np.float64]
    partition: tuple[int, ...]
    location: str
    jacobian_rank: int
    shared_roots: list[tuple[complex, tuple[int, ...]]]
    hessian: NDArray[np.float64]
    eigenvalues: NDArray[np.float64]
    index: int
    verdict: str

    def __repr__(self) -> str:
        return (f"Classification(verdict={self.verdict!r}, index={self.index}, grad_norm={self.grad_norm:.3g}, "
                f"location={self.location!r}, partition={self.partition}, jacobian_rank={self.jacobian_rank}, "
                f"shared_roots={len(self.shared_roots)}, hessian={self.hessian.shape})")


def _orbit_complement(arch: Architecture, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """Orthonormal basis of the complement of the scaling directions at theta."""
    starts = np.cumsum([0] + [int(np.prod(s)) for s in arch.layer_shapes])
    directions = []
    for layer in range(arch.L - 1):
        d = np.zeros(arch.n_params)
        d[starts[layer]:starts[layer + 1]] = theta[starts[layer]:starts[layer + 1]]
        d[starts[layer + 1]:starts[layer + 2]] = -theta[starts[layer + 1]:starts[layer + 2]]
        if np.linalg.norm(d) > 0:
            directions.append(d)
    if not directions:
        return np.eye(arch.n_params)
    Q, _ = np.linalg.qr(np.column_stack(directions + [np.eye(arch.n_params)[:, i] for i in range(arch.n_params)]))
    r = np.linalg.matrix_rank(np.column_stack(directions))
    out: NDArray[np.float64] = Q[:, r:]
    return out


def root_sharing(arch: Architecture, theta: NDArray[np.float64], tol: float) -> list[tuple[complex, tuple[int, ...]]]:
    if arch.ndim != 1:
        return []
    per_layer: list[list[complex]] = []
    for w in arch.split(theta):
        if w.size < 2 or not np.any(w):
            per_layer.append([])
            continue
        rs = tolerant_structure(np.asarray(w, dtype=float), tol)
        per_layer.append([complex(r) for r in rs.roots])
    found: list[tuple[complex, tuple[int, ...]]] = []
    for layer, roots in enumerate(per_layer):
        for r in roots:
            if any(chordal(r, q) <= tol for q, _ in found):
                continue
            layers = tuple(m for m, others in enumerate(per_layer) if any(chordal(r, o) <= tol for o in others))
            if len(layers) > 1:
                found.append((r, layers))
    return found


def classify(arch: Architecture, loss: QuadraticLoss, theta: ArrayLike, tol: float = 1e-6) -> Any:
    """Classify parameters (typically where training stopped).

    Parameters
    ----------
    arch : Architecture
    loss : QuadraticLoss
    theta : array_like, shape (P,) or (B, P)
    tol : float
        Root clustering tolerance (chordal metric, see :func:`lcnfast.root_structure`), and
        the relative tolerance for zero singular values of the Jacobian and zero eigenvalues
        of the Hessian (relative to the largest one).

    Returns
    -------
    Classification, or a list of them for a batch
    """
    _check(arch, loss)
    rows, lead = theta_rows(arch, theta)
    single = lead == ()
    tolerance = as_real(tol, "tol", positive=True)
    fs = FunctionSpace(arch)
    stride_one = arch.is_stride_one_1d
    out = []
    for row in rows:
        v = end_to_end(arch, row)
        with np.errstate(all="ignore"):
            gbar = 2.0 * (loss.G @ v.ravel() - loss.b)
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(gbar))):
            raise ValueError("theta: the loss's derivatives overflow float64 at these parameters")
        grad = vjp(arch, row, gbar.reshape(arch.filter_shape))
        H, eig, negative, verdict = _morse(arch, loss, row, tolerance)
        if not np.all(np.isfinite(grad)):
            raise ValueError("theta: the loss's derivatives overflow float64 at these parameters")
        if arch.ndim == 1 and np.any(v):
            partition = tolerant_structure(v.ravel(), tolerance).partition
        else:
            partition = ()
        location = str(fs.locate(v.ravel(), tolerance)) if stride_one else "n/a"
        out.append(Classification(
            grad_norm=float(np.linalg.norm(grad)), v=v, partition=partition, location=location,
            jacobian_rank=int(jacobian_rank(arch, row, rtol=tolerance)), shared_roots=root_sharing(arch, row, tolerance),
            hessian=H, eigenvalues=eig, index=negative, verdict=verdict))
    return out[0] if single else out


def _morse(arch: Architecture, loss: QuadraticLoss, row: NDArray[np.float64], tolerance: float
           ) -> tuple[NDArray[np.float64], NDArray[np.float64], int, str]:
    """The Hessian at ``row``, its eigenvalues off the scaling orbits, the Morse index and the
    verdict (:func:`classify`)."""
    H = _hessian_one(arch, loss, row)
    if not np.all(np.isfinite(H)):
        raise ValueError("theta: the loss's derivatives overflow float64 at these parameters")
    Q = _orbit_complement(arch, row)
    eig = np.asarray(np.linalg.eigvalsh(Q.T @ H @ Q) if Q.shape[1] else np.zeros(0), dtype=np.float64)
    scale = max(float(np.abs(eig).max(initial=0.0)), 1e-300)
    negative = int(np.sum(eig < -tolerance * scale))
    positive = int(np.sum(eig > tolerance * scale))
    zero = eig.size - negative - positive
    if negative and positive:
        verdict = "saddle"
    elif zero == 0 and negative == 0:
        verdict = "minimum"
    elif zero == 0 and positive == 0:
        verdict = "maximum"
    else:
        verdict = "degenerate"
    return H, eig, negative, verdict


@dataclass(frozen=True)
class LandscapePoint:
    """One critical point of the training loss, seen in function space.

    Attributes
    ----------
    v : ndarray
        The end-to-end filter.
    lifts : list of ndarray
        Parameters ``theta`` with ``mu(theta) = v`` that are critical for ``L`` (gradient
        below the tolerance), one per factorisation up to scaling.
    loss : float
    partition : tuple of int
    location : str
    verdict : str
        Of the first lift (:func:`classify`).
    index : int or None
        Of the first lift: its Morse index (negative Hessian eigenvalues across the scaling
        orbits, :attr:`Classification.index`). None in files saved before it was recorded.
    jacobian_rank : int or None
        Of the first lift: the rank of the Jacobian of ``mu`` there
        (:attr:`Classification.jacobian_rank`); below the function space's dimension at a
        singular point. None in files saved before it was recorded.
    """

    v: NDArray[np.float64]
    lifts: list[NDArray[np.float64]]
    loss: float
    partition: tuple[int, ...]
    location: str
    verdict: str
    index: int | None = None
    jacobian_rank: int | None = None

    def __repr__(self) -> str:
        return (f"LandscapePoint(loss={self.loss:.6g}, verdict={self.verdict!r}, location={self.location!r}, "
                f"partition={self.partition}, v={self.v.shape}, lifts={len(self.lifts)})")


@dataclass(frozen=True)
class Landscape:
    """All critical points of a training loss of a 1D architecture (valid layers, any strides).

    Attributes
    ----------
    points : list of LandscapePoint
        Sorted by loss.
    counts : list of dict
        Per stratum: partition, complex and real critical points, how many lie in the
        function space, how many lift to critical parameters, and whether the stratum's
        enumeration is complete (every homotopy path accounted for).
    provenance : dict or None
        Where a landscape loaded by :meth:`load` came from (:func:`lcnfast.provenance`
        when it was first saved); None for one computed in this session. Not compared.
    """

    points: list[LandscapePoint]
    counts: list[dict[str, Any]]
    provenance: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def complete(self) -> bool:
        """Whether the enumeration of every stratum is complete."""
        return all(bool(row.get("complete", True)) for row in self.counts)

    def __repr__(self) -> str:
        verdicts = ", ".join(f"{name} {n}" for name, n in sorted(Counter(p.verdict for p in self.points).items()))
        best = f", best loss {self.points[0].loss:.6g}" if self.points else ""
        return (f"Landscape(points={len(self.points)}, strata={len(self.counts)}, complete={self.complete}"
                f"{best}; {verdicts or 'no critical points'})")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the landscape to one ``.npz`` file (arrays, fields and provenance; no pickle).

        Each point's filter and lifts are entries of the archive (``points.0.v``,
        ``points.0.lifts.0``, ...); losses, partitions, verdicts, the per-stratum counts and
        :func:`lcnfast.provenance` (kept from the file for a loaded landscape) are
        JSON metadata. The file is written atomically, exactly at ``path``.

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
        >>> arch = lcnfast.Architecture([2, 2])
        >>> landscape = lcnfast.critical_points(arch, lcnfast.QuadraticLoss(np.eye(3), [2.0, 0.5, 1.0]))
        >>> path = landscape.save(pathlib.Path(tempfile.mkdtemp()) / "landscape.npz")
        >>> [p.verdict for p in lcnfast.Landscape.load(path).points] == [p.verdict for p in landscape.points]
        True
        """
        return _saving.save_dataclass(self, path, (LandscapePoint,))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Landscape:
        """Load a landscape saved by :meth:`save`, field for field (arrays bit for bit, dtypes
        kept); :attr:`provenance` says where it came from.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        Landscape

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
        >>> arch = lcnfast.Architecture([2, 2])
        >>> landscape = lcnfast.critical_points(arch, lcnfast.QuadraticLoss(np.eye(3), [2.0, 0.5, 1.0]))
        >>> loaded = lcnfast.Landscape.load(landscape.save(pathlib.Path(tempfile.mkdtemp()) / "l.npz"))
        >>> len(loaded.points) == len(landscape.points), loaded.counts == landscape.counts
        (True, True)
        """
        return _saving.load_dataclass(cls, path, (LandscapePoint,))


def critical_points(arch: Architecture, loss: QuadraticLoss, *, tol: float = 1e-7, seed: Any = 0,
                    progress: Progress = False, rng: Any = None) -> Landscape:
    """The landscape of a 1D architecture (valid layers, any strides): every critical point of ``L``.

    In function space (docs/theory.rst), the candidates are:

    * stride one (or every layer with ``k_l > 1`` at dilation 1): the unconstrained optimum
      if it lies in the space, and on every multiple-root stratum every real critical point
      of ``l`` that lies in the space (:func:`lcnfast.stratum_critical_points`);
    * strides: on the Zariski closure of the function space and on the sub-families where
      layers of one dilation share roots (:func:`lcnfast.strided_critical_points` for every
      tuple of partitions of ``lcnfast.strided.stratum_tuples``), every real critical
      point that lies in the space (a real factorisation exists, decided exactly).

    Each candidate is lifted to parameters through all its factorisations, keeping the lifts
    where the gradient of ``L`` vanishes, and ``theta = 0`` is added when it is critical. Each
    point gets its loss, partition, location and the verdict of :func:`classify`.
    ``progress`` (bool or callable) follows the homotopy paths of each family.

    Parameters
    ----------
    arch : Architecture
        1D, valid layers.
    loss : QuadraticLoss
    tol : float
        Relative gradient tolerance for a lift to count as critical.
    seed, rng : int or numpy.random.Generator
        Seed the homotopies' detours (the points do not depend on it).
    progress : bool or callable

    Returns
    -------
    Landscape
        ``counts`` has one row per stratum (or tuple of partitions, one per dilation) with
        its complex, real, in-space and lifted critical points, whether its enumeration is
        complete, and (strides) the degenerate endpoints.

    Examples
    --------
    >>> import numpy as np
    >>> import lcnfast
    >>> arch = lcnfast.Architecture([2, 2], [2, 1])       # v = w1(x) w2(x^2)
    >>> landscape = lcnfast.critical_points(arch, lcnfast.QuadraticLoss(np.eye(4), [1.0, 2.0, 3.0, 4.0]))
    >>> landscape.complete, [p.verdict for p in landscape.points]
    (True, ['minimum', 'saddle', 'saddle'])
    """
    _check(arch, loss)
    seed = as_seed(seed, rng=rng)
    if arch.ndim != 1 or arch.is_circular:
        raise NotImplementedError("critical_points: the landscape is implemented for 1D architectures with valid layers")
    as_real(tol, "tol", positive=True)
    fs = FunctionSpace(arch)
    if set(dilation_groups(arch)) <= {1}:
        candidates, counts = _stride_one_candidates(arch, fs, loss, seed, progress)
    else:
        candidates, counts = _strided_candidates(arch, fs, loss, seed, progress)
    return _lift(arch, fs, loss, candidates, counts, as_real(tol, "tol", positive=True))


def _stride_one_candidates(arch: Architecture, fs: FunctionSpace, loss: QuadraticLoss, seed: int, progress: Progress
                           ) -> tuple[list[Candidate], list[dict[str, Any]]]:
    K = int(arch.filter_shape[0])
    D = K - 1
    # l(v) = (v - u)^T G (v - u) + const with u a least-squares minimiser
    u = loss.minimizer().ravel()
    e = fs.n_even or 0
    candidates: list[Candidate] = []
    counts: list[dict[str, Any]] = []
    for partition in partitions(D):
        if not partition or max(partition) == 1:  # distinct roots (or D = 0): the optimum itself
            inside = bool(fs.contains(u))
            rs_partition = tolerant_structure(u, 1e-9).partition if np.any(u) else ()
            if rs_partition == partition and inside:
                candidates.append((u.copy(), partition, None, None))
            counts.append({"partition": partition, "complex": 1, "real": 1, "in_space": int(inside),
                           "lifted": 0, "complete": True})
            continue
        found = stratum_critical_points(partition, loss.G, u, seed=seed, progress=progress)
        n_real_roots = found.real_root_counts()
        real_mask = found.real_root_mask()
        in_space = [i for i in range(found.n_complex) if found.is_real[i] and n_real_roots[i] >= e]
        for i in in_space:
            roots = _realified(found.roots[i], real_mask[i])
            candidates.append((np.ascontiguousarray(found.v[i].real), partition, None, {1: (roots, tuple(partition))}))
        counts.append({"partition": partition, "complex": found.n_complex, "real": found.n_real,
                       "in_space": len(in_space), "lifted": 0, "complete": bool(found.complete)})
    return candidates, counts


def _strided_candidates(arch: Architecture, fs: FunctionSpace, loss: QuadraticLoss, seed: int, progress: Progress
                        ) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """Real critical points of the dilated products of ``arch`` that lie in the function
    space (:func:`lcnfast.geometry.strided_points_in_space`)."""
    u = loss.minimizer().ravel()
    candidates: list[Candidate] = []
    counts: list[dict[str, Any]] = []
    for stratum in stratum_tuples(arch):
        found = strided_critical_points(arch, loss.G, u, stratum=stratum, seed=seed, progress=progress)
        in_space = strided_points_in_space(arch, found)
        for i, W in in_space:
            candidates.append((np.ascontiguousarray(found.v[i].real), stratum, W, _factor_roots(found, i)))
        counts.append({"partition": stratum, "complex": found.n_complex, "real": found.n_real,
                       "in_space": len(in_space), "lifted": 0, "complete": bool(found.complete),
                       "degenerate": int(found.path_counts.get("degenerate", 0))})
    return candidates, counts


def _strided_location(arch: Architecture, W: dict[int, NDArray[np.float64]]) -> str:
    """Where a real filter with real dilation polynomials lies in a strided function space,
    relative to the Zariski closure: on the boundary when the polynomial of a dilation with
    several layers is on the boundary of that stride-one space (located up to 1e-4, as for
    stride one), else in the interior (a layer alone at its dilation takes any real
    polynomial, so it adds no boundary)."""
    where = "interior"
    for S, layers in dilation_groups(arch).items():
        if len(layers) > 1:
            here = str(FunctionSpace(Architecture([arch.k[layer] for layer in layers])).locate(W[S], 1e-4))
            if here != "interior":
                where = here if where == "interior" or here == "outside" else where
    return where


def _realified(roots: NDArray[np.complex128], real: NDArray[np.bool_]) -> NDArray[np.complex128]:
    """The roots of a real certified point with those ``real`` (the rule that decided the point
    is in the space, :meth:`lcnfast.StratumCriticalPoints.real_root_mask`) made exactly real,
    infinity as ``inf + 0j``."""
    z = np.array(roots, dtype=complex)
    finite = np.isfinite(z)
    z[real & finite] = z[real & finite].real
    z[~finite] = complex(np.inf, 0.0)
    return z


def _factor_roots(found: Any, i: int) -> GroupRoots:
    """Per dilation ``S``, the distinct roots of ``W_S = prod q_j^a_j`` of point ``i`` of a
    strided enumeration, from its factors ``q_j``: each factor's roots (simple, ``inf`` where
    its degree drops), the ``r`` nearest the real line made real with ``r`` the exact count of
    :func:`lcnfast.roots.real_root_count`, each of multiplicity ``a_j``."""
    from .roots import real_root_count

    q = np.asarray(found.q[i]).real
    out: dict[int, tuple[list[complex], list[int]]] = {}
    offset = 0
    for S, a, m in found.factors:
        factor = np.ascontiguousarray(q[offset:offset + m + 1])
        offset += m + 1
        if m == 0:
            continue
        finite = np.roots(factor[::-1]) if np.any(factor[1:]) else np.zeros(0, dtype=complex)
        at_infinity = m - finite.size
        n_real = int(real_root_count(factor)) - at_infinity
        order = np.argsort(np.abs(finite.imag) / (1.0 + np.abs(finite)), kind="stable")
        z = finite.astype(complex)
        z[order[:n_real]] = z[order[:n_real]].real
        roots, mults = out.setdefault(int(S), ([], []))
        roots.extend(list(z) + [complex(np.inf, 0.0)] * at_infinity)
        mults.extend([int(a)] * m)
    return {S: (np.array(r, dtype=complex), tuple(k)) for S, (r, k) in out.items()}


def _strided_lifts(arch: Architecture, v: NDArray[np.float64], W: dict[int, NDArray[np.float64]],
                   roots: GroupRoots) -> list[NDArray[np.float64]]:
    """Parameters ``theta`` with ``mu(theta) = v`` from the dilation polynomials ``W_S``: every
    factorisation of each ``W_S`` into the layers of its dilation (stride one, from the
    roots of its certified factors, :func:`lcnfast.factorization.factorizations_from_roots`),
    combined, with the scale of ``v`` spread evenly over the layers (its sign in the first)."""
    groups = dilation_groups(arch)
    per_group = []  # per dilation: its layers' filters, one row per factorisation, unit norm
    for S, layers in groups.items():
        if len(layers) == 1:
            rows = [np.asarray(W[S], dtype=float)[None, :]]
        else:
            sub = Architecture([arch.k[layer] for layer in layers])
            z, mults = roots[S]
            found = factorizations_from_roots(sub, W[S], z, mults)
            if not found:
                return []
            rows = sub.split(np.asarray(found, dtype=float))
        per_group.append([f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-300) for f in rows])
    # every combination of one factorisation per dilation, all at once
    picks = np.array(list(itertools.product(*[range(group[0].shape[0]) for group in per_group])), dtype=np.int64)
    filters: list[NDArray[np.float64]] = [np.ones((picks.shape[0], 1))] * arch.L
    for g, (layers, group) in enumerate(zip(groups.values(), per_group)):
        for layer, f in zip(layers, group):
            filters[layer] = f[picks[:, g]]
    theta = arch.join(filters)
    mu = end_to_end(arch, theta)
    scale = (mu @ v) / np.einsum("ij,ij->i", mu, mu)
    theta *= (np.abs(scale) ** (1.0 / arch.L))[:, None]  # the scale spread evenly over the layers
    first = arch.split(theta)[0]
    first *= np.copysign(1.0, scale)[:, None]  # its sign in the first layer
    return list(arch.join([first] + arch.split(theta)[1:]))


def _root_location(fs: FunctionSpace, roots: NDArray[np.complex128], multiplicities: tuple[int, ...]) -> str:
    """``locate`` of a stride-one point from its certified roots rather than its coefficients."""
    real = [z.imag == 0.0 or not np.isfinite(z) for z in roots]
    return str(fs.location_from_root_counts(sum(m for m, r in zip(multiplicities, real) if r),
                         sum(m % 2 for m, r in zip(multiplicities, real) if r)))


def _lift(arch: Architecture, fs: FunctionSpace, loss: QuadraticLoss,
          candidates: list[Candidate], counts: list[dict[str, Any]],
          tolerance: float) -> Landscape:
    K = int(arch.filter_shape[0])
    stride_one = set(dilation_groups(arch)) <= {1}
    points: list[LandscapePoint] = []
    scale = max(float(np.linalg.norm(loss.b)), 1e-300)
    seen: list[NDArray[np.float64]] = []
    for v, partition, W, roots in candidates:
        if not stride_one and any(np.max(np.abs(v - w)) <= 1e-9 * (1.0 + np.max(np.abs(w))) for w in seen):
            continue  # the same filter found on two families
        lifts = []
        # the lifts are built from the roots the stratum certified: re-rooting v's float
        # coefficients spreads a root of multiplicity m by ~eps^(1/m) relative to its size (the
        # global minimum (x - 1260.3)^6 of a k = (2,) * 6 landscape spread over +-800 and
        # had no critical lift)
        if not stride_one:
            thetas = _strided_lifts(arch, v, W or {}, roots or {})
        elif roots is None:  # the optimum u, with distinct roots
            thetas = fs.factorizations(v, tol=1e-5, exact=False)
        else:
            thetas = factorizations_from_roots(arch, v, roots[1][0], roots[1][1])
        if thetas:
            T = np.asarray(thetas, dtype=float)
            grad = np.linalg.norm(vjp(arch, T, loss.grad(end_to_end(arch, T))), axis=1)
            bound = tolerance * scale * np.maximum(1.0, np.linalg.norm(T, axis=1) ** (2 * arch.L))
            lifts = [theta for theta, g, b in zip(thetas, grad, bound) if g <= b]
        if lifts:
            seen.append(v)
            _, _, index, verdict = _morse(arch, loss, lifts[0], 1e-6)  # as classify(lifts[0]) with tol 1e-6
            if not stride_one:
                location = _strided_location(arch, W or {})
            elif roots is None:
                location = str(fs.locate(v, 1e-4))
            else:
                location = _root_location(fs, roots[1][0], roots[1][1])
            point_partition = partition if stride_one else (tolerant_structure(v, 1e-6).partition if np.any(v) else ())
            points.append(LandscapePoint(v=v, lifts=lifts, loss=float(loss.value(v)), partition=point_partition,
                                         location=location, verdict=verdict, index=index,
                                         jacobian_rank=int(jacobian_rank(arch, lifts[0], rtol=1e-6))))
            for row in counts:
                if row["partition"] == partition:
                    row["lifted"] += 1
    if arch.L >= 2:
        zero = np.zeros(arch.n_params)
        c = classify(arch, loss, zero)
        if c.grad_norm <= tolerance * scale:
            points.append(LandscapePoint(v=np.zeros(K), lifts=[zero], loss=float(loss.value(np.zeros(K))),
                                         partition=(), location=c.location, verdict=c.verdict, index=int(c.index),
                                         jacobian_rank=int(c.jacobian_rank)))
    points.sort(key=lambda p: p.loss)
    return Landscape(points=points, counts=counts)
