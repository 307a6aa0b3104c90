"""The landscape experiment: every critical point of small architectures, and which ones
gradient descent reaches."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..architecture import Architecture
from ..critical import critical_points
from ..losses import SquaredLoss
from ..training import train
from ._common import ExperimentResult, progress

__all__ = ["landscape"]

ARCHITECTURES = [[2, 2], [2, 3], [2, 2, 2], [3, 3]]


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
        arch = Architecture(k, d0=sum(k) + 6)
        widths = arch.widths()
        X = rng.standard_normal((40, int(widths[0])))
        Y = rng.standard_normal((40, int(widths[-1])))
        loss = SquaredLoss.from_data(arch, X, Y)
        land = critical_points(arch, loss, seed=seed)
        for row in land.counts:
            counts_rows.append({"k": tuple(k), **row})
        lr = 0.05 / float(np.linalg.eigvalsh(loss.G)[-1])
        trained = train(arch, loss, batch=runs, lr=lr, steps=100000, tol=1e-5 * float(np.linalg.norm(loss.b)),
                       seed=int(rng.integers(1 << 30)))
        done = trained.converged
        found = np.array([p.v for p in land.points])
        hits = np.zeros(len(land.points), dtype=int)
        unmatched = 0
        for v in trained.v[done]:
            distance = np.linalg.norm(found - v, axis=1)
            j = int(np.argmin(distance))
            if distance[j] < 1e-3 * (1 + np.linalg.norm(v)):
                hits[j] += 1
            else:
                unmatched += 1
        n = max(int(done.sum()), 1)
        for p, h in zip(land.points, hits):
            point_rows.append({"k": tuple(k), "loss": p.loss, "partition": p.partition, "location": p.location,
                               "verdict": p.verdict, "lifts": len(p.lifts), "gd_fraction": h / n})
        reach[str(tuple(k))] = [(p.loss, h / n, p.verdict) for p, h in zip(land.points, hits)]
        point_rows.append({"k": tuple(k), "loss": float("nan"), "partition": "GD not converged / unmatched",
                           "location": "", "verdict": "", "lifts": 0,
                           "gd_fraction": (runs - int(done.sum()) + unmatched) / runs})
    out = ExperimentResult(name="landscape", title="The landscape: all critical points, and where GD goes",
                              tables={"critical points per stratum": counts_rows, "critical points": point_rows},
                              parameters={"runs": runs, "seed": seed, "reach": reach})
    out.notes.append(
        "Random data (40 Gaussian samples, Gaussian targets). Critical points in function space by homotopy "
        "continuation on every multiple-root stratum; a point counts when it lies in the function space and lifts to "
        "parameters where the gradient of L vanishes. gd_fraction: share of the converged GD runs ending there.")
    return out
