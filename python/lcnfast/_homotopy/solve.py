"""Solving a family at a user's data: tracking, detours, clusters, certification, bookkeeping.

The start system of a family (:mod:`lcnfast._homotopy.start`) is tracked to the user's
parameters in the family's first chart (C++ ``CriticalSystem.track``: Hermite multistep
predictor with error control, contracting Newton corrector, Cauchy endgame that classifies
each endpoint as regular, singular with its winding number, or at infinity). Paths that end
on the same point (path jumping) or fail are tracked again along a detour through random
parameters; endpoints reached by several paths that cannot be certified form one singular
point; every nonsingular endpoint is certified (:mod:`lcnfast._homotopy.certify`) and the
proven boxes are checked to be pairwise disjoint. When the first chart leaves paths at
infinity or failed, or points uncertified, the second chart solves again and the two are
merged by the engine's one "same point" rule (:func:`merge`). How every path ended is
counted by :class:`PathKind` name in :attr:`Solution.counts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .certify import Certifier
from .family import TIGHT_TOLERANCE, Family, PathKind, Paths, close_pairs, random_parameters, same_forms
from .start import weights_family

__all__ = ["COUNT_NAMES", "Row", "Solution", "chart_residual", "Points", "solve_soundly", "sorted_points", "sound", "unpaired_conjugates", "unpaired_in", "warn_about", "degenerate_limits", "merge", "recover_lost", "solve", "solve_in_chart"]

COUNT_NAMES = ("regular", "singular", "degenerate", "at_infinity", "failed", "duplicate")


@dataclass
class Solution:
    """The critical points of a family at one data set, as found by :func:`solve`.

    Attributes
    ----------
    rows : list of Row
        Per distinct point: ``(v, info, real, proven, radius, multiplicity)`` (``v`` in the
        user's coefficients, ``info`` from the family's ``point_info``).
    counts : dict of str to int
        How the paths ended (:data:`COUNT_NAMES`).
    paths : int
        Paths tracked (the generic count per chart used, plus detours).
    trend_judged : int
        Paths counted degenerate by the trend of their last points, without a proof (in the
        last chart solved).
    verified : bool
        The start system used passed the trace test.
    generic_count : int
        The number of critical points for generic data of the start system used (the
        family's; or, from start systems for the data's weights, the number for those weights
        and generic ``u``): no data have more isolated ones (:attr:`saturated`).
    generic_verified : bool
        That start system passed the trace test (so ``generic_count`` is that number).
    start : str
        ``"generic"`` (the family's start system at random complex weights), ``"weights"``
        (start systems at the data's own weights) or ``"both"`` (the points of both merged,
        when neither accounted for itself: :func:`solve_soundly`).
    """

    rows: list[Row]
    counts: dict[str, int]
    paths: int
    trend_judged: int = 0
    verified: bool = True
    generic_count: int = 0
    generic_verified: bool = False
    start: str = "generic"

    @property
    def accounted(self) -> bool:
        """No path failed and none was left as a duplicate, from one start system (the start
        system's trace test is :attr:`verified`; paths judged degenerate by their trend
        alone are :attr:`trend_judged`)."""
        return self.counts["failed"] == 0 and self.counts["duplicate"] == 0 and self.start != "both"

    @property
    def saturated(self) -> bool:
        """As many certified nonsingular points as the (verified) generic count.

        No data have more isolated critical points than generic data (parameter homotopy:
        every isolated solution at any parameter is the end of a path from generic
        parameters, distinct solutions of distinct paths; the families' equations are square,
        so a component of solutions that does not reach generic parameters has no isolated
        points). Certified points are distinct isolated solutions, so this proves the
        enumeration complete whatever happened to the other paths."""
        certified = sum(1 for r in self.rows if r[3] and r[5] == 1)
        return self.generic_verified and 0 < self.generic_count <= certified


def solve(family: Family, Gs: NDArray[np.float64], target: NDArray[np.float64], rng: np.random.Generator,
          threads: int, certify: bool, bar: Any = None, weights: bool = False, trend: bool = True) -> Solution:
    """All critical points of ``(v - u)^T G (v - u)`` on the family (``Gs``: ``G`` scaled to
    unit size), in its first chart and, when that leaves paths at infinity or failed or
    points uncertified, in its second chart too (merged).

    With ``weights``, each chart starts from a start system for the chart's own weights
    (:func:`lcnfast._homotopy.start.weights_family`: only ``w`` moves along the paths), and no
    path is judged degenerate by its trend."""
    def start(chart: int) -> Family:
        if not weights:
            return family
        return weights_family(family, chart, family.chart_parameters(chart, Gs, target)[1], threads)

    first = start(0)
    rows, counts, paths, judged = solve_in_chart(first, 0, Gs, target, rng, threads, certify, bar, trend and not weights)
    verified = first.verified
    if family.n_charts > 1 and (counts["at_infinity"] or counts["failed"]
                                or (certify and not all(r[3] or r[5] > 1 for r in rows))):
        # a point with a root where the first chart's Y vanishes is at infinity there, and
        # one with a root near it is badly scaled (its box cannot be certified): the
        # second chart sees both as ordinary points
        second = start(1)
        more, counts2, paths2, judged = solve_in_chart(second, 1, Gs, target, rng, threads, certify, None,
                                                        trend and not weights)
        verified = verified and second.verified
        paths += paths2
        rows = merge(rows + more)
        counts = {key: counts2[key] for key in counts}
        counts["regular"] = len(rows)
    # the count that bounds the isolated critical points: the family's for generic data, or
    # the start system's for these weights (only w moves from it)
    return Solution(rows=rows, counts=counts, paths=paths, trend_judged=judged, verified=verified,
                    generic_count=first.generic_count, generic_verified=first.verified,
                    start="weights" if weights else "generic")


Row = tuple[NDArray[np.complex128], NDArray[np.complex128], bool, bool, float, int]


def unpaired_conjugates(V: NDArray[np.complex128], real: NDArray[np.bool_]) -> int:
    """The non-real rows of ``V`` whose complex conjugate is not a row (the same form by
    :func:`~lcnfast._homotopy.family.same_forms`): for real data the critical points are
    closed under conjugation, so each one proves a point lost."""
    idx = np.flatnonzero(~np.asarray(real, dtype=bool))
    if idx.size == 0:
        return 0
    W = V[idx]
    return int(np.sum(~np.any(same_forms(W, np.conj(W)), axis=1)))


def sound(solution: Solution, K: int) -> bool:
    """Whether a solution accounts for itself: every path (none failed, none a duplicate, none
    judged degenerate by its trend alone), a verified start system, and its non-real points
    closed under conjugation."""
    V = np.array([r[0] for r in solution.rows], dtype=complex).reshape(-1, K)
    real = np.array([r[2] for r in solution.rows], dtype=bool)
    return (solution.accounted and solution.verified and solution.trend_judged == 0
            and unpaired_conjugates(V, real) == 0)


def proven_complete(solution: Solution, K: int) -> bool:
    """The ``complete`` of a result: the solution accounts for itself (:func:`sound`) or it
    has as many certified points as generic data have critical points
    (:attr:`Solution.saturated`). A path judged degenerate by its trend alone proves
    nothing: near special weights (within 2^-25 of Bombieri-Weyl's) such paths end at true
    critical points far out on the cone (``p^T G p`` close to 0), which a trend cannot tell
    from the degenerate forms."""
    return solution.saturated or sound(solution, K)


@dataclass
class Points:
    """The points of a solution's rows as arrays, sorted: real points first, then by loss,
    then by their coefficients (rounded, so that the order does not depend on the last bits).

    Attributes
    ----------
    v : ndarray (m, K) complex
    info : ndarray (m, r) complex
        The family's ``point_info`` per point.
    real, certified : ndarray of bool (m,)
    multiplicity : ndarray of int (m,)
    loss : ndarray (m,)
        ``(v-u)^T G (v-u)`` (real part).
    unpaired : int
        Non-real points whose complex conjugate is missing (:func:`unpaired_conjugates`).
    """

    v: NDArray[np.complex128]
    info: NDArray[np.complex128]
    real: NDArray[np.bool_]
    certified: NDArray[np.bool_]
    multiplicity: NDArray[np.int64]
    loss: NDArray[np.float64]
    unpaired: int


def sorted_points(rows: list[Row], G: NDArray[np.float64], u: NDArray[np.float64], width: int) -> Points:
    """:class:`Points` of ``rows`` for data ``(G, u)``; ``width``: columns of the family's info."""
    K = G.shape[0]
    V0 = np.array([r[0] for r in rows], dtype=complex).reshape(-1, K)
    diff = V0 - u
    losses = np.real(np.einsum("ij,jk,ik->i", diff, G, diff))
    keys = ([np.round(V0.imag[:, j], 12) for j in reversed(range(K))]
            + [np.round(V0.real[:, j], 12) for j in reversed(range(K))]
            + [losses, np.array([not r[2] for r in rows], dtype=bool)])
    order = np.lexsort(keys) if rows else np.zeros(0, dtype=np.int64)
    rows = [rows[i] for i in order]
    V = np.array([r[0] for r in rows], dtype=complex).reshape(-1, K)
    real = np.array([r[2] for r in rows], dtype=bool)
    return Points(v=V, info=np.array([r[1] for r in rows], dtype=complex).reshape(-1, width), real=real,
                  certified=np.array([r[3] for r in rows], dtype=bool),
                  multiplicity=np.array([r[5] for r in rows], dtype=np.int64),
                  loss=np.asarray(losses[order], dtype=float), unpaired=unpaired_conjugates(V, real))


def warn_about(label: str, solution: Solution, points: Points, certify: bool, stacklevel: int) -> None:
    """The warnings of a result: both start systems needed and neither enough, paths that could
    not be recovered, unpaired conjugates, nonsingular points left uncertified."""
    import warnings

    counts = solution.counts
    if solution.saturated:  # proven complete whatever became of the other paths
        lost = []
    else:
        lost = [f"{counts[k]} {k.replace('_', ' ')}" for k in ("failed", "duplicate") if counts[k]]
        if solution.start == "both":
            judged = (f" ({solution.trend_judged} path(s) were judged degenerate only by the trend of their last "
                      "points, which proves nothing)" if solution.trend_judged else "")
            warnings.warn(f"lcnfast: {label}: neither the generic start system nor the one for these weights "
                          f"accounted for every path{judged}; the certified points of both are returned, and the "
                          "enumeration may be incomplete", RuntimeWarning, stacklevel=stacklevel + 1)
    if lost:
        warnings.warn(f"lcnfast: {label}: {', '.join(lost)} path(s) could not be recovered; the enumeration "
                      "may be incomplete", RuntimeWarning, stacklevel=stacklevel + 1)
    if points.unpaired:
        warnings.warn(f"lcnfast: {label}: {points.unpaired} non-real point(s) without their complex conjugate: the "
                      "enumeration is incomplete", RuntimeWarning, stacklevel=stacklevel + 1)
    uncertified = int(np.sum(~points.certified & (points.multiplicity == 1))) if certify else 0
    if uncertified:
        warnings.warn(f"lcnfast: {label}: {uncertified} point(s) could not be certified (returned with "
                      "certified=False)", RuntimeWarning, stacklevel=stacklevel + 1)


def unpaired_in(solution: Solution, K: int) -> int:
    """:func:`unpaired_conjugates` of a solution's rows (K coefficients)."""
    V = np.array([r[0] for r in solution.rows], dtype=complex).reshape(-1, K)
    real = np.array([r[2] for r in solution.rows], dtype=bool)
    return unpaired_conjugates(V, real)


def solve_soundly(family: Family, Gs: NDArray[np.float64], target: NDArray[np.float64], seed: int, threads: int,
                  certify: bool, bar: Any = None) -> Solution:
    """:func:`solve` from the family's start system and, unless that result accounts for
    itself (:func:`sound`), again from start systems for the data's own weights:

    * the first result, when sound;
    * else the weights' result, when sound (special weights such as Bombieri-Weyl's, the
      identity or weights close to them send many generic paths to degenerate forms, where
      paths are lost or judged by their trend; from the weights' own start system only ``w``
      moves and no path is judged by its trend);
    * else the certified and singular points of both, merged (every certified point is a
      true critical point), with the path counts of the first: complete only when saturated
      (:attr:`Solution.saturated`). A first result that only its trend judgements keep from
      being sound is no exception: its trend may be wrong (:func:`proven_complete`).

    A result with as many certified points as the generic count is returned at once
    (:attr:`Solution.saturated`).
    """
    first = solve(family, Gs, target, np.random.default_rng(seed), threads, certify, bar)
    if sound(first, family.K) or first.saturated:
        return first
    again = solve(family, Gs, target, np.random.default_rng(seed), threads, certify, None, weights=True)
    if again.verified and (sound(again, family.K) or again.saturated):
        # a point the first solve proved and this one could not (a box around a point near
        # the degenerate forms can fail from one endpoint and pass from another) keeps its proof
        proven = [r for r in first.rows if r[3]]
        if proven and not all(r[3] or r[5] > 1 for r in again.rows):
            again.rows = merge(again.rows + proven)
            again.counts["regular"] = sum(1 for r in again.rows if r[5] == 1)
        return again
    rows = merge(first.rows + again.rows)
    counts = dict(first.counts)
    counts["regular"] = sum(1 for r in rows if r[5] == 1)
    return Solution(rows=rows, counts=counts, paths=first.paths + again.paths, trend_judged=first.trend_judged,
                    verified=first.verified and again.verified, generic_count=first.generic_count,
                    generic_verified=first.generic_verified, start="both")


def merge(rows: list[Row]) -> list[Row]:
    """Distinct forms: the same critical form found in two charts or from two start systems
    is kept once (the certified one first; "the same": :func:`~lcnfast._homotopy.family.same_forms`)."""
    ordered = sorted(rows, key=lambda r: not r[3])
    if not ordered:
        return []
    V = np.array([r[0] for r in ordered], dtype=complex)
    kept: list[int] = []
    for first in range(0, len(ordered), 128):  # the pairs, in blocks of rows
        same = same_forms(V[first:first + 128], V)
        for i in range(first, min(first + 128, len(ordered))):
            if not kept or not np.any(same[i - first, kept]):
                kept.append(i)
    return [ordered[i] for i in kept]


def solve_in_chart(family: Family, chart: int, Gs: NDArray[np.float64], target: NDArray[np.float64],
                    rng: np.random.Generator, n_threads: int, certify: bool, bar: Any, trend: bool = True
                    ) -> tuple[list[Row], dict[str, int], int, int]:
    """Tracks the start system to the user's data in one chart, re-tracks failed and jumped
    paths along detours, and certifies the regular endpoints: the rows, the path counts, the
    paths tracked and how many paths were judged degenerate by their trend alone (only when
    ``trend`` and the family's ``trend_test`` allow it)."""
    trend = trend and family.trend_test
    trend_judged = 0
    K = family.K
    q0 = (family.w0, family.G0)
    q1 = family.chart_parameters(chart, Gs, target)
    starts = family.starts
    z, kind, *_ = _track_in_slices(family, q0, q1, starts, n_threads, bar)
    paths = starts.shape[0]
    # paths that could not be finished (the endgame's loops do not close around an endpoint
    # on a positive-dimensional set of degenerate forms) but whose points, tracked towards
    # s = 1, approach the forms with a = 0 or b = 0: not lost but degenerate (kind 4 here),
    # and not worth a detour (by Morgan-Sommese every isolated solution is the end of one
    # of the straight paths, and this path's end is not one)
    lost = np.flatnonzero(kind == PathKind.FAILED)
    if lost.size:
        # a path lost at the tracking tolerance first gets the tighter one (seen: a BW septic,
        # (4, 2, 1), data with roots at 0 and infinity, one path of 164 lost at 1e-5 only)
        zt, kt, *_ = family.track(q0, q1, starts[lost], endgame=True, threads=n_threads, tolerance=TIGHT_TOLERANCE)
        z[lost], kind[lost] = zt, kt  # the same paths again (not detours: not counted in paths)
        lost = np.flatnonzero(kind == PathKind.FAILED)
    if lost.size:
        heading, last = degenerate_limits(family, q0, q1, starts[lost], n_threads, trend)
        recovered = recover_lost(family, chart, Gs, target, last)
        for j, e in zip(lost.tolist(), recovered):
            if e is None:
                continue
            zj = family.on_patch(e)
            if not _reached(z, kind, zj, j):  # a solution no other path ended at: this path's
                z[j], kind[j] = zj, PathKind.REGULAR
        judged = lost[heading & (kind[lost] == PathKind.FAILED)]
        kind[judged] = PathKind.DEGENERATE
        trend_judged += judged.size
    for _ in range(6):  # detours for failed and jumped paths
        redo = np.flatnonzero((kind == PathKind.FAILED) | _jumped(z, kind))
        if redo.size == 0:
            break
        qm = random_parameters(rng, K)
        zm, km, *_ = family.track(q0, qm, starts[redo], endgame=False, threads=n_threads, tolerance=TIGHT_TOLERANCE)
        ok = km == PathKind.REGULAR
        if np.any(ok):
            zr, kr, *_ = family.track(qm, q1, zm[ok], endgame=True, threads=n_threads, tolerance=TIGHT_TOLERANCE)
            for i, zi, ki in zip(redo[ok], zr, kr):
                # a failed path takes whatever the detour gives, and a path that shared its
                # regular endpoint with another only a new regular endpoint; neither takes a
                # regular endpoint that another path already has (a jump), so a detour never
                # loses the point that one of them found
                if ki == PathKind.REGULAR and _reached(z, kind, zi, i):
                    continue  # it jumped again
                if kind[i] == PathKind.FAILED or ki == PathKind.REGULAR:
                    z[i], kind[i] = zi, ki
        paths += redo.size
    counts = {"regular": 0, "singular": 0, "degenerate": int(np.sum(kind == PathKind.DEGENERATE)), "at_infinity": int(np.sum(kind == PathKind.AT_INFINITY)),
              "failed": int(np.sum(kind == PathKind.FAILED)), "duplicate": 0}
    certifier = Certifier(family, chart, Gs, target) if certify else None
    R = np.array(family.chart_matrix(chart), dtype=float)
    finite = np.flatnonzero((kind == PathKind.REGULAR) | (kind == PathKind.SINGULAR))
    E = z[finite, 1:] / z[finite, :1]
    # endpoints that are one point: a certified (nonsingular) point reached twice means a
    # path jumped; an uncertifiable cluster is a singular solution reached by several paths
    # (greedy in path order: a point joins the first earlier head within 1e-5 of it, relative
    # to the head's size; the distances of all pairs at once)
    clusters: list[list[int]] = []
    heads: list[int] = []
    near = close_pairs(E, 1e-5)
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
    heads_regular = [next((i for i in cluster if kind[finite[i]] == PathKind.REGULAR), -1) for cluster in clusters]
    batch = [c for c, i in enumerate(heads_regular) if i >= 0]
    if certifier is not None:
        Eb = np.array([E[heads_regular[c]] for c in batch], dtype=complex).reshape(len(batch), E.shape[1])
        real_b = near_real_all[[heads_regular[c] for c in batch]]
        certifier.certify_many(Eb, real_b, n_threads)
    else:
        real_b = np.zeros(0, dtype=bool)
    slot = {c: k for k, c in enumerate(batch)}

    def value(e: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], complex, complex]:
        p = family.forms(e[None, :])[0]
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
                if kind[finite[i]] != PathKind.REGULAR:
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
        if proven and certifier is not None and not near_real and _nearly_real(e):
            # certified as a non-real point although its refined centre is real to 1e-6: the
            # endpoint's imaginary part was tracking error (seen at D = 6, a real critical
            # point with a triple root whose endpoint left the real line by more than 1e-6,
            # returned non-real, so the landscape lost a minimum that gradient descent found).
            # A box symmetric under conjugation proves it real; a complex pair that close to
            # the real line fails that test (two solutions in the box) and stays non-real
            centre, kept_radius = certifier.centre, radius
            real_proof, real_radius = certifier.certify(centre, True)
            if real_proof:
                e, radius, near_real = certifier.centre, real_radius, True
            else:
                e, radius = centre, kept_radius
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
                exact = family.exact_degeneracy(certifier, v)
                if exact or (exact is None and (family.numerically_degenerate(chart, e, pa, pb, q1)
                                                or family.rational_off_family(v))):
                    counts["regular"] -= 1
                    counts["degenerate"] += 1
                    continue
                proven = exact is False
        else:
            v, pa, pb = value(e)
            if family.numerically_degenerate(chart, e, pa, pb, q1) or family.rational_off_family(v):
                counts["degenerate"] += len(cluster)
                continue
            if chart_residual(family, e, q1) > 1e-6:
                # an endgame that "converged" to a point that does not solve the equations
                # (seen with Bombieri-Weyl weights: the paths head for forms with b = 0, and
                # the loops' average settles short of them): degenerate where the trend of
                # the straight paths shows it, else no answer, a failed path (the second
                # chart tracks it again)
                heading, _ = degenerate_limits(family, q0, q1, starts[finite[cluster]], n_threads, trend)
                counts["degenerate"] += int(np.sum(heading))
                trend_judged += int(np.sum(heading))
                counts["failed"] += int(np.sum(~heading))
                continue
            singular = len(cluster) > 1 or kind[finite[cluster[0]]] == PathKind.SINGULAR
            counts["singular" if singular else "regular"] += len(cluster)
        kept.append((np.asarray(e, dtype=complex), proven, radius, near_real, 1 if proven else len(cluster)))
    if certifier is not None:
        kept += _missing_conjugates(kept, certifier, counts)
    # the forms, values and roots of all kept points at once
    Ek = np.array([k[0] for k in kept], dtype=complex).reshape(len(kept), E.shape[1])
    Pk = family.forms(Ek)
    scale = (Pk @ q1[0]) / np.einsum("ia,ab,ib->i", Pk, q1[1], Pk)
    Vk = scale[:, None] * (Pk @ R.T)
    roots = family.point_info(chart, Ek)
    boxes: list[tuple[int, NDArray[np.complex128], float]] = []  # row, refined point, radius
    rows: list[Row] = []
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
    return rows, counts, paths, trend_judged


def _nearly_real(e: NDArray[np.complex128]) -> bool:
    """Whether a point is real to 1e-6 relative (the tolerance of the endpoints' first
    guess): a candidate for a proof that it is real."""
    e = np.asarray(e, dtype=complex)
    return bool(e.size and np.linalg.norm(e.imag) <= 1e-6 * (1.0 + np.linalg.norm(e)))


def _missing_conjugates(kept: list[tuple[NDArray[np.complex128], bool, float, bool, int]], certifier: Any,
                        counts: dict[str, int]) -> list[tuple[NDArray[np.complex128], bool, float, bool, int]]:
    """The data are real (and so are the charts): the critical points are closed under
    conjugation. A certified non-real point whose conjugate no path reached (a path that
    jumped, or one called degenerate at an isotropic form, seen with Bombieri-Weyl weights
    and data with a root at 0) gets its conjugate, certified in its own right (counted
    ``regular``)."""
    candidates = [i for i, k in enumerate(kept) if k[1] and not k[3]]
    if not candidates:
        return []
    found = np.array([k[0] for k in kept], dtype=complex).reshape(len(kept), -1)
    mirrored = np.conj(found[candidates])
    # one pass over all pairs: which conjugates are among the points (the same-point rule)
    size = 1.0 + np.max(np.abs(mirrored), axis=1)
    paired = np.zeros(len(candidates), dtype=bool)
    for first in range(0, len(candidates), 128):
        block = mirrored[first:first + 128]
        gaps = np.max(np.abs(block[:, None, :] - found[None, :, :]), axis=2)
        paired[first:first + 128] = np.any(gaps <= 1e-6 * size[first:first + 128, None], axis=1)
    extra: list[tuple[NDArray[np.complex128], bool, float, bool, int]] = []
    for ce in mirrored[~paired]:
        if extra and np.any(close_pairs(np.vstack([ce[None, :]] + [x[0][None, :] for x in extra]), 1e-6)[0, 1:]):
            continue  # both of a pair were missing their partner: one is enough
        ok, radius = certifier.certify(ce, False)
        if ok and certifier.nondegenerate():
            extra.append((np.asarray(certifier.centre, dtype=complex), True, radius, False, 1))
            counts["regular"] += 1
    return extra


def chart_residual(family: Family, e: NDArray[np.complex128],
                    q1: tuple[NDArray[np.complex128], NDArray[np.complex128]]) -> float:
    """The chart's critical equations ``a_j b - a b_j / 2`` at ``e``, relative to the size of
    their terms: about machine precision at a solution, ``delta^m`` at an m-fold solution
    computed to ``delta``."""
    p, P = family.numeric_jets(e)
    w, Gc = q1
    g = Gc @ p
    a, b = p @ w, p @ g
    ak, gk = w @ P, g @ P  # b_j / 2 = (Gc p) . dp/de_j
    F = ak * b - a * gk
    size = float(np.max(np.abs(ak) * abs(b) + abs(a) * np.abs(gk)))
    return float(np.max(np.abs(F))) / size if size > 0 else math.inf


def degenerate_limits(family: Family, q0: tuple[Any, Any], q1: tuple[Any, Any], starts: NDArray[np.complex128],
                       threads: int, trend: bool = True) -> tuple[NDArray[np.bool_], NDArray[np.complex128]]:
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
    path's last tracked point (:func:`recover_lost`) before it believes the trend. Also
    returned: those points, the affine unknowns at the largest ``s`` each path was tracked
    to (NaN for none)."""
    ks = range(2, 13)
    m = np.full((starts.shape[0], len(ks)), np.nan)
    extra: list[tuple[NDArray[np.float64], float]] = []
    last = np.full((starts.shape[0], family.n), complex(np.nan, np.nan))
    for col, k in enumerate(ks):
        s = 1.0 - 10.0 ** -k
        qs = (q0[0] + s * (q1[0] - q0[0]), q0[1] + s * (q1[1] - q0[1]))
        z, kind, *_, failure = family.track(q0, qs, starts, endgame=False, threads=threads, tolerance=TIGHT_TOLERANCE)
        reached = (kind == PathKind.REGULAR) | ((kind == PathKind.FAILED) & (failure == 4))  # 4: reached, not refined
        ok = reached & np.all(np.isfinite(z), axis=1) & (np.abs(z[:, 0]) > 1e-8 * np.max(np.abs(z), axis=1))
        if not np.any(ok):
            continue
        E = z[ok, 1:] / z[ok, :1]
        last[ok] = E
        P = family.forms(E)
        size = np.linalg.norm(P, axis=1)
        a = np.abs(P @ qs[0]) / (size * np.linalg.norm(qs[0]))
        b = np.abs(np.einsum("ia,ab,ib->i", P, qs[1], P)) / (size ** 2 * np.linalg.norm(qs[1]))
        m[ok, col] = np.minimum(a, b)
        for i, (measure, end) in enumerate(family.trend_measures(E)):
            if len(extra) <= i:
                extra.append((np.full((starts.shape[0], len(ks)), np.nan), end))
            extra[i][0][ok, col] = measure
    if not (trend and family.trend_test):
        return np.zeros(starts.shape[0], dtype=bool), last
    heading = _falling(m, 1e-6)
    for r, end in extra:
        heading |= _falling(r, end)
    return heading, last


def recover_lost(family: Family, chart: int, Gs: NDArray[np.float64], target: NDArray[np.float64],
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
    certifier = Certifier(family, chart, Gs, target)
    for i in rows:
        proven, _ = certifier.certify(last[i], False)
        if proven and certifier.nondegenerate():
            out[i] = np.asarray(certifier.centre, dtype=complex)
    return out


def _falling(m: NDArray[np.float64], end: float) -> NDArray[np.bool_]:
    """The rows of ``m`` (paths by decades) with four consecutive finite values that fall by
    at least 1.1x each and 27x in all, to at most ``end`` (:func:`degenerate_limits`)."""
    w = np.lib.stride_tricks.sliding_window_view(m, 4, axis=1)  # (paths, windows, 4)
    with np.errstate(invalid="ignore"):
        good = (np.all(np.isfinite(w), axis=2) & np.all(w[:, :, 1:] <= w[:, :, :-1] / 1.1, axis=2)
                & (w[:, :, -1] <= w[:, :, 0] / 27.0) & (w[:, :, -1] <= end))
    return np.asarray(np.any(good, axis=1), dtype=bool)


def _jumped(z: NDArray[np.complex128], kind: NDArray[Any]) -> NDArray[np.bool_]:
    """Regular endpoints reached by more than one path (all of them: which one jumped is
    unknown, so all are followed again)."""
    out = np.zeros(kind.shape, dtype=bool)
    idx = np.flatnonzero(kind == PathKind.REGULAR)
    if idx.size < 2:
        return out
    close = close_pairs(z[idx, 1:] / z[idx, :1], 1e-8)
    np.fill_diagonal(close, False)
    out[idx] = np.any(close, axis=1) | np.any(close, axis=0)
    return out


def _reached(z: NDArray[np.complex128], kind: NDArray[Any], point: NDArray[np.complex128], skip: int) -> bool:
    """Whether a path other than ``skip`` ended regular at ``point`` (affine comparison)."""
    idx = np.flatnonzero(kind == PathKind.REGULAR)
    idx = idx[idx != skip]
    if idx.size == 0:
        return False
    e = z[idx, 1:] / z[idx, :1]
    x = point[1:] / point[0]
    return bool(np.any(np.max(np.abs(e - x), axis=1) <= 1e-8 * (1.0 + np.max(np.abs(x)))))


def _track_in_slices(family: Family, q0: Any, q1: Any, starts: NDArray[np.complex128], threads: int,
                     bar: Any) -> Paths:
    if bar is None:
        return family.track(q0, q1, starts, endgame=True, threads=threads)
    step = max(64, 16 * threads)
    parts = []
    for first in range(0, starts.shape[0], step):
        parts.append(family.track(q0, q1, starts[first:first + step], endgame=True, threads=threads))
        bar(min(first + step, starts.shape[0]))
    return Paths(*(np.concatenate([part[i] for part in parts]) for i in range(len(parts[0]))))
