"""Experiments on function spaces: dimension, filling, Monte Carlo volume; strided spaces."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..geometry import FunctionSpace
from ._common import ExperimentResult, progress, wilson_interval

__all__ = ["function_spaces", "strides"]


def function_spaces(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """Every stride-one architecture with ``L <= 3``, ``k_l <= 4``: dimension, number ``e``
    of even filters, filling or not, and the fraction of random Gaussian end-to-end filters
    that lie in the space (Monte Carlo against the exact membership test).

    The theory (docs/theory.rst): the space is full dimensional, filling iff ``e <= 1``, and
    depends only on the end-to-end size ``k`` and ``e`` -- so the measured fractions must
    be 1 for filling architectures and agree within Monte Carlo error for equal ``(k, e)``.
    """
    samples = 100_000 if full else 4000
    rng = np.random.default_rng(seed)
    archs = [list(k) for L in (1, 2, 3) for k in itertools.product(range(1, 5), repeat=L)]
    rows: list[dict[str, Any]] = []
    by_class: dict[tuple[int, int], list[float]] = {}
    members: dict[tuple[int, int], list[NDArray[np.bool_]]] = {}
    draws: dict[int, np.ndarray] = {}
    for k in progress(archs, len(archs), "function spaces", show_progress):
        arch = Architecture(k)
        fs = FunctionSpace(arch)
        K = int(arch.filter_shape[0])
        if K not in draws:  # the same random filters for every architecture of size K
            draws[K] = rng.standard_normal((samples, K))
        inside = np.asarray(fs.contains(draws[K]), dtype=bool) if K > 1 else np.ones(samples, dtype=bool)
        fraction = float(np.mean(inside))
        e = int(fs.n_even or 0)
        rows.append({"k": tuple(k), "K": K, "e": e, "dim": fs.dim, "filling": fs.is_filling,
                     "fraction_in_space": fraction,
                     "fraction_in_space_95%": wilson_interval(int(inside.sum()), samples)})
        by_class.setdefault((K, e), []).append(fraction)
        members.setdefault((K, e), []).append(inside)
    classes = [{"K": K, "e": e, "architectures": len(v), "fraction_min": min(v), "fraction_max": max(v),
                "filling": e <= 1} for (K, e), v in sorted(by_class.items())]
    filling_ok = all(r["fraction_in_space"] == 1.0 for r in rows if r["filling"])
    # the theory: for stride one the space depends only on K and the number e of even filters;
    # membership is decided per architecture, so equal (K, e) must accept exactly the same samples
    differ = [f"K={K}, e={e}" for (K, e), sets in sorted(members.items())
              if any(not np.array_equal(sets[0], other) for other in sets[1:])]
    shared = sum(1 for sets in members.values() if len(sets) > 1)
    result = ExperimentResult(
        name="function-spaces",
        title="Function spaces of stride-one LCNs (L <= 3, k_l <= 4)",
        tables={"architectures": rows, "by end-to-end size and even filters": classes},
        parameters={"samples_per_size": samples, "seed": seed},
    )
    result.notes.append(
        f"{len(rows)} architectures, {samples} Gaussian filters per end-to-end size. Filling architectures "
        f"(e <= 1) contain every sample: {'yes' if filling_ok else 'NO'}. Theory: the function space depends only "
        f"on K and the number e of even filters. Of the {shared} classes (K, e) with several architectures, "
        f"those whose architectures accept exactly the same samples (membership decided for each): "
        + (f"{shared - len(differ)} of {shared} (all)." if not differ
           else f"{shared - len(differ)} of {shared}; not: {', '.join(differ)}."))
    return result


def strides(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """Strided 1D architectures (the sequel paper, arXiv 2304.05752).

    (a) ``dim M`` as the exact generic Jacobian rank, against ``sum_l k_l - (L - 1)``, and
    thick (full dimensional) or thin, against the rule ``(k_l - 1)(S_l - 1) = 0`` for all
    ``l``: the table includes architectures the rule calls thick (strides only on size-1
    layers, or only on the last layer) and thin, so the check can fail either way.
    (b) Where GD ends: for generic (pure-noise) data and strides > 1 on every layer but the
    last (whose stride does not change the end-to-end filter), the non-zero critical points
    are smooth points: the share of converged GD limits where the Jacobian of ``mu`` drops
    rank (a singular point, e.g. repeated filters), next to the same filter sizes with
    stride one, over several data sets with Wilson 95% intervals. (c) Every critical point,
    enumerated and certified (:func:`lcnfast.critical_points`): each converged GD limit is
    matched to one, and the non-zero critical points where the Jacobian drops rank are
    counted (the sequel predicts none for strides > 1), beside the stride-one counterparts.
    """
    sizes = (1, 2, 3, 4) if full else (1, 2, 3)
    combos = [(list(k), list(s)) for L in (2, 3) for k in itertools.product(sizes, repeat=L)
              for s in itertools.product((1, 2), repeat=L) if any(x > 1 for x in s) and sum(k) > L]
    rows = []
    for k, s in progress(combos, len(combos), "strides", show_progress):
        arch = Architecture(k, s)
        fs = FunctionSpace(arch)
        formula = sum(k) - (len(k) - 1)
        thick_rule = all((kl - 1) * (S - 1) == 0 for kl, S in zip(k, arch.dilations))
        rows.append({"k": tuple(k), "s": tuple(s), "K": arch.filter_size, "stride": arch.stride, "dim": fs.dim,
                     "sum_k_minus_L_plus_1": formula, "thick": fs.is_thick, "thick_by_rule": thick_rule})
    gd_rows = _strided_limits(full=full, seed=seed, show_progress=show_progress)
    result = ExperimentResult(name="strides", title="Strided LCNs: dimension, thick/thin, and where GD ends",
                              tables={"architectures": rows, "GD limits at singular points": gd_rows},
                              parameters={"sizes": sizes})
    result.notes += strides_findings(rows, gd_rows)
    return result


GD_PAIRS = [([2, 2], [2, 1]), ([3, 2], [2, 1]), ([2, 3], [2, 1]), ([2, 2, 2], [2, 2, 1]), ([3, 2, 2], [2, 2, 1])]


def _strided_limits(*, full: bool, seed: int, show_progress: bool) -> list[dict[str, Any]]:
    from ..losses import SquaredLoss
    from ..parameterisation import jacobian
    from ..training import train
    from .training import share

    from ..critical import classify, critical_points

    data_sets = 30 if full else 10
    runs = 500 if full else 100
    rng = np.random.default_rng(seed + 1)
    work = [(k, s) for k, strided in GD_PAIRS for s in (strided, [1] * len(k))]
    out = []
    for k, s in progress(work, len(work), "strides: GD limits", show_progress):
        arch = Architecture(k, s, d0=8 * (sum(k) + 2))
        fs = FunctionSpace(arch)
        converged, singular, nonzero = [], [], []
        matched, points, singular_points, complete = 0, 0, 0, True
        for _ in range(data_sets):
            widths = arch.widths()
            X = rng.standard_normal((64, int(widths[0])))
            Y = rng.standard_normal((64, int(widths[-1])))
            loss = SquaredLoss.from_data(arch, X, Y)
            trained = train(arch, loss, batch=runs, steps=20000, seed=int(rng.integers(1 << 30)), scale=0.5,
                            polish=True)
            theta = trained.theta[trained.converged]
            converged.append(len(theta))
            # the enumeration: every critical point, certified; each converged limit is matched
            # to one, and the non-zero critical points where the Jacobian drops rank are counted
            landscape = critical_points(arch, loss)
            complete = complete and landscape.complete
            enumerated = np.array([p.v.ravel() for p in landscape.points]).reshape(len(landscape.points), -1)
            for v in trained.v[trained.converged].reshape(len(theta), -1):
                gaps = np.max(np.abs(enumerated - v), axis=1) if len(enumerated) else np.zeros(0)
                matched += int(bool(np.any(gaps <= 1e-5 * (1.0 + float(np.max(np.abs(v)))))))
            for p in landscape.points:
                if np.any(p.v):
                    points += 1
                    singular_points += int(classify(arch, loss, p.lifts[0]).jacobian_rank < fs.dim)
            if len(theta) == 0:
                singular.append(0)
                nonzero.append(0)
                continue
            away = np.linalg.norm(trained.v[trained.converged].reshape(len(theta), -1), axis=1) > 1e-8
            sv = np.linalg.svd(jacobian(arch, theta[away]).reshape(int(away.sum()), -1, arch.n_params),
                               compute_uv=False)
            rank_drop = sv[:, fs.dim - 1] <= 1e-6 * sv[:, 0] if sv.size else np.zeros(0, dtype=bool)
            nonzero.append(int(away.sum()))
            singular.append(int(np.sum(rank_drop)))
        total = runs * data_sets
        row: dict[str, Any] = {"k": tuple(k), "s": tuple(s), "strided": any(x > 1 for x in s[:-1]),
                               "data_sets": data_sets, "runs": total, "converged": sum(converged) / total,
                               "nonzero_limits": sum(nonzero)}
        row.update(share("singular", singular, nonzero))
        row.update({"limits_matched": matched, "limits_converged": sum(converged),
                    "critical_points_nonzero": points, "critical_points_singular": singular_points,
                    "enumerations_complete": complete})
        out.append(row)
    return out


def strides_findings(rows: list[dict[str, Any]], gd_rows: list[dict[str, Any]]) -> list[str]:
    """The strides experiment's sentences, each from a check over its tables."""
    from .training import verdict

    def name(r: dict[str, Any]) -> str:
        return f"k={r['k']} s={r['s']}"

    table = {name(r): r for r in rows}
    dims = [n for n, r in table.items() if r["dim"] == r["sum_k_minus_L_plus_1"]]
    rule = [n for n, r in table.items() if r["thick"] == r["thick_by_rule"]]
    thick = sum(bool(r["thick_by_rule"]) for r in rows)
    notes = [verdict("Sequel paper: dim M = sum k_l - (L-1), the exact generic Jacobian rank. Architectures where it "
                     "holds", table, dims, detail=lambda r: f"rank {r['dim']}, formula {r['sum_k_minus_L_plus_1']}"),
             verdict(f"Thick iff (k_l - 1)(S_l - 1) = 0 for all l ({thick} architectures thick by the rule, "
                     f"{len(rows) - thick} thin). Architectures where it holds", table, rule,
                     detail=lambda r: f"thick {r['thick']}, rule {r['thick_by_rule']}")]
    strided = {name(r): r for r in gd_rows if r["strided"] and r["nonzero_limits"] > 0}
    smooth = [n for n, r in strided.items() if r["singular"] == 0]
    notes.append(verdict("Sequel paper (generic data, strides > 1): non-zero critical points are smooth points. "
                         "Strided architectures where no converged non-zero GD limit is a singular point", strided, smooth,
                         detail=lambda r: f"singular share {r['singular']:.3g}"))
    enumerated = {name(r): r for r in gd_rows if r["limits_converged"] > 0}
    matched = [n for n, r in enumerated.items() if r["limits_matched"] == r["limits_converged"]]
    notes.append(verdict("Every converged GD limit is a certified critical point of the enumeration "
                         "(lcnfast.critical_points). Architectures where all are", enumerated, matched,
                         detail=lambda r: f"{r['limits_matched']} of {r['limits_converged']} matched"))
    incomplete = [name(r) for r in gd_rows if not r["enumerations_complete"]]
    if incomplete:
        notes.append(f"Enumerations not complete on some data sets (their counts are lower bounds): "
                     f"{', '.join(incomplete)}.")
    counted = {name(r): r for r in gd_rows if r["strided"] and r["critical_points_nonzero"] > 0}
    pure = [n for n, r in counted.items() if r["critical_points_singular"] == 0]
    notes.append(verdict("Sequel paper, from the enumeration: no non-zero critical point is a singular point "
                         "(Jacobian rank below dim M). Strided architectures where none is", counted, pure,
                         detail=lambda r: f"{r['critical_points_singular']} of {r['critical_points_nonzero']}"))
    plain_counted = [r for r in gd_rows if not r["strided"] and r["critical_points_nonzero"] > 0]
    if plain_counted:
        notes.append("Stride-one counterparts, non-zero critical points at singular points (repeated filters): "
                     + "; ".join(f"{name(r)} {r['critical_points_singular']} of {r['critical_points_nonzero']}"
                                 for r in plain_counted) + ".")
    plain = [r for r in gd_rows if not r["strided"] and r["nonzero_limits"] > 0]
    notes.append("Stride-one counterparts, share of non-zero limits at singular points: " + "; ".join(
        f"{name(r)} {r['singular']:.3g}" for r in plain) + "." if plain else
        "Stride-one counterparts: no data (no converged non-zero limit).")
    no_data = [name(r) for r in gd_rows if r["nonzero_limits"] == 0]
    if no_data:
        notes.append(f"No data (no converged non-zero limit): {', '.join(no_data)}.")
    return notes
