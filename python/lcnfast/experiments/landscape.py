"""The landscape experiment: every critical point of small architectures, and which ones
gradient descent reaches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..critical import LandscapePoint, critical_points
from ..losses import SquaredLoss
from ..training import TrainResult, train
from ._common import ExperimentResult, progress

__all__ = ["GD_ROWS", "gd_limits", "gd_rows", "landscape", "landscape_problem", "match_limits", "point_row"]

ARCHITECTURES = [[2, 2], [2, 3], [2, 2, 2], [3, 3]]
SAMPLES = 40
MATCH_TOL = 1e-3


def landscape_problem(k: Sequence[int], rng: np.random.Generator, samples: int = SAMPLES) -> tuple[Architecture,
                                                                                                   SquaredLoss]:
    """The stride-one architecture ``k`` (input width ``sum(k) + 6``) and a squared loss on
    ``samples`` Gaussian inputs with Gaussian targets drawn from ``rng``."""
    arch = Architecture(list(k), d0=sum(k) + 6)
    widths = arch.widths()
    X = rng.standard_normal((samples, int(widths[0])))
    Y = rng.standard_normal((samples, int(widths[-1])))
    return arch, SquaredLoss.from_data(arch, X, Y)


def gd_limits(arch: Architecture, loss: SquaredLoss, runs: int, seed: int, *, steps: int = 100000,
              threads: int | None = None) -> TrainResult:
    """Gradient descent from ``runs`` Gaussian starts with the landscape's settings (step
    ``0.05 / lambda_max(G)``, gradient tolerance ``1e-5 ||b||``), then the converged runs
    polished: gradient descent continues from their limits to ``1e-10 ||b||`` (or for
    ``steps`` more steps), so that limits near close critical points can be told apart.
    ``converged`` and ``status`` are those of the first descent."""
    lr = 0.05 / float(np.linalg.eigvalsh(loss.G)[-1])
    scale = float(np.linalg.norm(loss.b))
    first = train(arch, loss, batch=runs, lr=lr, steps=steps, tol=1e-5 * scale, seed=seed, threads=threads)
    done = np.flatnonzero(first.converged)
    if done.size:
        polished = train(arch, loss, first.theta[done], lr=lr, steps=steps, tol=1e-10 * scale, threads=threads)
        ok = np.isfinite(polished.loss) & (polished.loss <= first.loss[done])
        first.theta[done[ok]] = polished.theta[ok]
        first.v[done[ok]] = polished.v[ok]
        first.loss[done[ok]] = polished.loss[ok]
    return first


def match_limits(points_v: NDArray[np.float64], limits: NDArray[np.float64]
                 ) -> tuple[NDArray[np.int64], int, int]:
    """Attribute the end-to-end filters ``limits`` (n, K) to critical points (m, K).

    A limit is matched to its nearest critical point ``j`` only when that is unambiguous:
    within ``1e-3 (1 + ||v||)`` of it and within a quarter of the distance from ``j`` to
    the nearest other critical point. Returns ``(hits, ambiguous, unmatched)``: the matches
    per point, the limits near a point but not clearly closer to it than to another, and
    the limits near none."""
    hits = np.zeros(len(points_v), dtype=np.int64)
    ambiguous = unmatched = 0
    if len(points_v) > 1:
        gaps = np.linalg.norm(points_v[:, None, :] - points_v[None, :, :], axis=2)
        np.fill_diagonal(gaps, np.inf)
        separation = gaps.min(axis=1)
    else:
        separation = np.full(len(points_v), np.inf)
    for v in limits:
        if len(points_v) == 0:
            unmatched += 1
            continue
        distance = np.linalg.norm(points_v - v, axis=1)
        j = int(np.argmin(distance))
        if distance[j] >= MATCH_TOL * (1 + np.linalg.norm(v)):
            unmatched += 1
        elif distance[j] <= 0.25 * separation[j]:
            hits[j] += 1
        else:
            ambiguous += 1
    return hits, ambiguous, unmatched


def gd_rows(k: Sequence[int], runs: int, converged: int, ambiguous: int, unmatched: int, best_loss: float | None
            ) -> list[dict[str, Any]]:
    """The rows after a data set's critical points: converged limits that are ambiguous or
    near no critical point (shares of the converged runs), and runs that did not converge
    (share of all runs; loss: the best final loss of any run)."""
    base = {"k": tuple(k), "location": "", "verdict": "", "lifts": 0}
    return [{**base, "loss": None, "partition": "GD limit ambiguous", "gd_fraction": ambiguous / max(converged, 1)},
            {**base, "loss": None, "partition": "GD limit unmatched", "gd_fraction": unmatched / max(converged, 1)},
            {**base, "loss": best_loss, "partition": "GD not converged",
             "gd_fraction": (runs - converged) / max(runs, 1)}]


GD_ROWS = ("GD limit ambiguous", "GD limit unmatched", "GD not converged")


def point_row(k: Sequence[int], point: LandscapePoint) -> dict[str, Any]:
    """A row of the "critical points" table (without the GD share)."""
    return {"k": tuple(k), "loss": point.loss, "partition": point.partition, "location": point.location,
            "verdict": point.verdict, "lifts": len(point.lifts)}


def landscape(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """For each architecture and random data: all critical points of the training loss per
    multiple-root stratum (complex, real, in the space, lifted to parameters), each point's
    loss, location and verdict, and how often gradient descent from random starts ends there.
    """
    runs = 5000 if full else 500
    rng = np.random.default_rng(seed)
    counts_rows: list[dict[str, Any]] = []
    point_rows: list[dict[str, Any]] = []
    reach: dict[str, list[tuple[float, float, str]]] = {}
    for k in progress(ARCHITECTURES, len(ARCHITECTURES), "landscape", show_progress):
        arch, loss = landscape_problem(k, rng)
        land = critical_points(arch, loss, seed=seed)
        for row in land.counts:
            counts_rows.append({"k": tuple(k), **row})
        trained = gd_limits(arch, loss, runs, int(rng.integers(1 << 30)))
        done = trained.converged
        hits, ambiguous, unmatched = match_limits(
            np.array([p.v for p in land.points]).reshape(len(land.points), -1), trained.v[done])
        n = max(int(done.sum()), 1)
        for p, h in zip(land.points, hits):
            point_rows.append({**point_row(k, p), "gd_fraction": h / n})
        reach[str(tuple(k))] = [(p.loss, h / n, p.verdict) for p, h in zip(land.points, hits)]
        finite = trained.loss[np.isfinite(trained.loss)]
        point_rows += gd_rows(k, runs, int(done.sum()), ambiguous, unmatched,
                              float(finite.min()) if finite.size else None)
    out = ExperimentResult(name="landscape", title="The landscape: all critical points, and where GD goes",
                              tables={"critical points per stratum": counts_rows, "critical points": point_rows},
                              parameters={"runs": runs, "seed": seed, "reach": reach})
    out.notes.append(
        f"Random data ({SAMPLES} Gaussian samples, Gaussian targets). Critical points in function space by homotopy "
        "continuation on every multiple-root stratum; a point counts when it lies in the function space and lifts to "
        "parameters where the gradient of L vanishes. gd_fraction: share of the converged GD runs ending there "
        "(limits polished by further descent; attributed only when unambiguous: within a quarter of the distance to "
        "the next critical point), then the converged limits that are ambiguous or near no critical point (shares of "
        "the converged runs), then the runs that did not converge (share of all runs).")
    return out
