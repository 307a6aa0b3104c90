"""The landscape experiment: every critical point of small architectures, and which ones
gradient descent reaches."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..critical import LandscapePoint, critical_points
from ..losses import SquaredLoss
from ..training import TrainResult, train
from ._common import ExperimentResult, progress, wilson_interval

__all__ = ["GD_ROWS", "gd_limits", "gd_rows", "landscape", "landscape_figures", "landscape_findings", "landscape_problem", "match_limits",
           "point_row"]

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
    """Gradient descent from ``runs`` Gaussian starts with the scale-aware step of
    :func:`lcnfast.train` (diverged runs retried with smaller steps) to the gradient
    tolerance ``1e-10 ||b||``, the runs that used up ``steps`` then polished by Newton
    steps (``train(..., polish=True)``): tight enough that limits near close critical
    points can be told apart."""
    scale = float(np.linalg.norm(loss.b))
    return train(arch, loss, batch=runs, steps=steps, tol=1e-10 * max(scale, 1e-300), seed=seed, threads=threads,
                 polish=True)


def match_limits(points_v: NDArray[np.float64], limits: NDArray[np.float64], *, tol: float = MATCH_TOL
                 ) -> tuple[NDArray[np.int64], int, int]:
    """Attribute the end-to-end filters ``limits`` (n, K) to critical points (m, K).

    A limit is matched to its nearest critical point ``j`` only when that is unambiguous:
    within ``tol (1 + ||v||)`` of it (default ``1e-3``) and within a quarter of the distance
    from ``j`` to the nearest other critical point. Returns ``(hits, ambiguous, unmatched)``:
    the matches per point, the limits near a point but not clearly closer to it than to
    another, and the limits near none."""
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
        if distance[j] >= tol * (1 + np.linalg.norm(v)):
            unmatched += 1
        elif distance[j] <= 0.25 * separation[j]:
            hits[j] += 1
        else:
            ambiguous += 1
    return hits, ambiguous, unmatched


def gd_rows(k: Sequence[int], runs: int, converged: int, ambiguous: int, unmatched: int, best_loss: float | None
            ) -> list[dict[str, Any]]:
    """The rows after a data set's critical points, shares of all ``runs`` like the
    points' rows (so that a data set's column adds up to 1): converged limits that are
    ambiguous or near no critical point, and runs that did not converge (loss: the best
    final loss of any run)."""
    base = {"k": tuple(k), "location": "", "verdict": "", "lifts": 0}
    total = max(runs, 1)
    return [{**base, "loss": None, "partition": "GD limit ambiguous", "gd_fraction": ambiguous / total},
            {**base, "loss": None, "partition": "GD limit unmatched", "gd_fraction": unmatched / total},
            {**base, "loss": best_loss, "partition": "GD not converged", "gd_fraction": (runs - converged) / total}]


GD_ROWS = ("GD limit ambiguous", "GD limit unmatched", "GD not converged")


def point_row(k: Sequence[int], point: LandscapePoint) -> dict[str, Any]:
    """A row of the "critical points" table (without the GD share)."""
    return {"k": tuple(k), "loss": point.loss, "partition": point.partition, "location": point.location,
            "verdict": point.verdict, "lifts": len(point.lifts)}


def _kind(point: LandscapePoint, lowest: float) -> str:
    """A critical point's class across data sets: global minimum, or verdict and location."""
    if point.verdict == "minimum" and point.loss <= lowest + 1e-9 * (1.0 + abs(lowest)):
        return "global minimum"
    return f"{point.verdict}, {point.location}"


def landscape(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """For each architecture and several independent random data sets: all critical points
    of the training loss per multiple-root stratum (complex, real, in the space, lifted to
    parameters), each point's loss, location and verdict, and how often gradient descent
    from random starts ends there.

    Tables: the counts per stratum and the critical points of the first data set; then,
    pooled over all data sets, the share of GD runs ending at each class of critical point
    (global minimum; other minima, saddles, ... by location), at an ambiguous or unmatched
    limit, or not converging, each with a Wilson 95% interval. All shares are of all runs.
    """
    runs = 1000 if full else 200
    data_sets = 30 if full else 10
    rng = np.random.default_rng(seed)
    counts_rows: list[dict[str, Any]] = []
    point_rows: list[dict[str, Any]] = []
    share_rows: list[dict[str, Any]] = []
    reach: dict[str, list[tuple[float, float, str]]] = {}
    incomplete: list[str] = []
    work = [(k, d) for k in ARCHITECTURES for d in range(data_sets)]
    pooled: dict[tuple[int, ...], dict[str, list[int]]] = {}
    for k, d in progress(work, len(work), "landscape", show_progress):
        arch, loss = landscape_problem(k, rng)
        land = critical_points(arch, loss, seed=seed)
        if not land.complete:
            incomplete.append(f"{tuple(k)} data set {d + 1}")
        trained = gd_limits(arch, loss, runs, int(rng.integers(1 << 30)))
        done = trained.converged
        hits, ambiguous, unmatched = match_limits(
            np.array([p.v for p in land.points]).reshape(len(land.points), -1), trained.v[done])
        lowest = min((p.loss for p in land.points if p.verdict == "minimum"), default=float("inf"))
        tally = pooled.setdefault(tuple(k), {})
        per_kind: dict[str, int] = {}
        for p, h in zip(land.points, hits):
            per_kind[_kind(p, lowest)] = per_kind.get(_kind(p, lowest), 0) + int(h)
        per_kind["GD limit ambiguous"] = ambiguous
        per_kind["GD limit unmatched"] = unmatched
        per_kind["GD not converged"] = runs - int(done.sum())
        for name in set(tally) | set(per_kind):
            tally.setdefault(name, [0] * d).append(per_kind.get(name, 0))
        if d == 0:
            for row in land.counts:
                counts_rows.append({"k": tuple(k), **row})
            for p, h in zip(land.points, hits):
                point_rows.append({**point_row(k, p), "gd_fraction": h / runs})
            reach[str(tuple(k))] = [(p.loss, h / runs, p.verdict) for p, h in zip(land.points, hits)]
            finite = trained.loss[np.isfinite(trained.loss)]
            point_rows += gd_rows(k, runs, int(done.sum()), ambiguous, unmatched,
                                  float(finite.min()) if finite.size else None)
    order = ["global minimum"]
    for k, tally in pooled.items():
        names = order + sorted(n for n in tally if n not in order and n not in GD_ROWS) + list(GD_ROWS)
        for name in names:
            hits_per_set = tally.get(name, [0] * data_sets)
            total = runs * data_sets
            low, high = wilson_interval(sum(hits_per_set), total)
            share_rows.append({"k": k, "ends at": name, "data_sets": data_sets, "runs": total,
                               "share": sum(hits_per_set) / total, "share_95%": (low, high),
                               "share_range": (min(hits_per_set) / runs, max(hits_per_set) / runs)})
    out = ExperimentResult(name="landscape", title="The landscape: all critical points, and where GD goes",
                           tables={"where GD ends (all data sets)": share_rows,
                                   "critical points per stratum (data set 1)": counts_rows,
                                   "critical points (data set 1)": point_rows},
                           parameters={"runs_per_data_set": runs, "data_sets": data_sets, "seed": seed,
                                       "reach": reach})
    out.notes.append(
        f"Random data ({SAMPLES} Gaussian samples, Gaussian targets), {data_sets} independent data sets per "
        f"architecture, {runs} GD runs on each. Critical points in function space by homotopy continuation on every "
        "multiple-root stratum; a point counts when it lies in the function space and lifts to parameters where the "
        "gradient of L vanishes. GD limits are polished (Newton) and attributed to a critical point only when "
        "unambiguous (within a quarter of the distance to the next critical point). Every share is of all runs, so "
        "each architecture's shares add up to 1.")
    out.notes += landscape_findings(share_rows, incomplete)
    return out


def landscape_findings(share_rows: list[dict[str, Any]], incomplete: list[str]) -> list[str]:
    """The landscape's sentences, each from a check over ``share_rows``."""
    from .training import verdict

    notes = []
    by_k: dict[Any, dict[str, dict[str, Any]]] = {}
    for row in share_rows:
        by_k.setdefault(row["k"], {})[row["ends at"]] = row
    names = {str(k): rows for k, rows in by_k.items()}
    accounted = [name for name, rows in names.items()
                 if sum(r["share"] for n, r in rows.items() if n in GD_ROWS) <= 0.05]
    notes.append(verdict("Architectures where at least 95% of the GD runs converged to a limit attributed to a "
                         "critical point", names, accounted,
                         detail=lambda rows: ", ".join(f"{n} {rows[n]['share']:.3g}" for n in GD_ROWS)))
    global_most = [name for name, rows in names.items()
                   if rows.get("global minimum", {}).get("share", 0.0) == max(r["share"] for r in rows.values())]
    notes.append(verdict("Architectures where the global minimum is where GD ends most often", names, global_most))
    if incomplete:
        notes.append(f"Enumerations not proven complete: {', '.join(incomplete)}.")
    else:
        notes.append("Every enumeration was complete (all homotopy paths accounted for).")
    return notes


def landscape_figures(result: ExperimentResult, folder: Path, seed: int) -> list[Path]:
    """The landscape experiment's figure: each architecture's critical points of one data set
    by loss, and the share of GD runs ending at each."""
    from ..plotting import plot_gd_reach

    runs = result.parameters.get("runs_per_data_set")
    reach = result.parameters["reach"]
    intervals = ({name: [wilson_interval(round(share * runs), runs) for _, share, _ in points]
                  for name, points in reach.items()} if runs else None)
    return [plot_gd_reach(reach, folder / "landscape.png", runs=runs, intervals=intervals)]
