"""Experiments on training: where gradient descent ends, and the invariants."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..critical import _shared_roots
from ..geometry import FunctionSpace, _merge_upper_bound, _structure
from ..losses import SquaredLoss, teacher_data
from ..parameterisation import end_to_end
from ..training import train
from ._common import ExperimentResult, progress

__all__ = ["invariants_experiment", "repeated_filters", "shared_roots"]

ARCHITECTURES = [[2, 2], [2, 3], [3, 3], [2, 2, 2], [3, 2, 2], [2, 2, 2, 2]]


def _safe_lr(loss: SquaredLoss, scale: float = 0.05) -> float:
    """A step size well inside the stable range for filters of norm about one."""
    return scale / float(np.linalg.eigvalsh(loss.G)[-1])


def shared_roots(arch: Architecture, theta: NDArray[np.float64], tol: float = 1e-4) -> tuple[bool, bool]:
    """(some two layers share a root, every two equal-size layers sharing one are equal up
    to sign), with the shared-root pattern of :func:`lcnfast.classify` (chordal ``tol``).

    DESIGN.md 3: at a critical point with a multiple root, that root appears as a simple
    root in several filters.
    """
    filters = [np.asarray(w, dtype=float).ravel() for w in arch.split(theta)]
    pattern = _shared_roots(arch, theta, tol)
    equal = True
    for _, layers in pattern:
        for i in layers:
            for j in layers:
                if i < j and filters[i].size == filters[j].size:
                    a = filters[i] / np.linalg.norm(filters[i])
                    b = filters[j] / np.linalg.norm(filters[j])
                    equal &= bool(min(np.linalg.norm(a - b), np.linalg.norm(a + b)) < 1e-3)
    return bool(pattern), bool(pattern) and equal


def _targets(arch: Architecture, kind: str, rng: np.random.Generator) -> NDArray[np.float64] | None:
    """A teacher filter inside the space, one outside (no real root at all), or None (noise)."""
    K = int(arch.filter_shape[0])
    if kind == "teacher inside":
        return end_to_end(arch, rng.standard_normal(arch.n_params))
    if kind == "teacher outside":
        # as few real roots as the degree allows (D mod 2): fewer than e in a non-filling space
        D = K - 1
        v = np.array([1.0]) if D % 2 == 0 else np.array([-rng.normal(), 1.0])
        for _ in range(D // 2):
            c = complex(rng.normal(), abs(rng.normal()) + 0.5)
            v = np.polynomial.polynomial.polymul(v, [abs(c) ** 2, -2 * c.real, 1.0])
        out: NDArray[np.float64] = v / np.linalg.norm(v)
        return out
    return None


def repeated_filters(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """Thousands of GD runs per architecture and data kind: where do they end?

    For each run that converged: is the limit interior or on the boundary of the function
    space (a multiple real root), and do two layers share a root (repeated filters)? With
    balanced initialisation, are the layers sharing roots equal up to sign?
    """
    runs = 4000 if full else 400
    steps = 60000 if full else 20000
    rng = np.random.default_rng(seed)
    rows = []
    all_distances: dict[str, list[float]] = {}
    combos = [(k, kind) for k in ARCHITECTURES for kind in ("teacher inside", "teacher outside", "pure noise")]
    for k, kind in progress(combos, len(combos), "repeated filters", show_progress):
        arch = Architecture(k, d0=sum(k) + 8)
        fs = FunctionSpace(arch)
        if kind == "teacher outside" and fs.is_filling:
            continue
        target = _targets(arch, kind, rng)
        if kind == "pure noise":
            widths = arch.widths()
            X = rng.standard_normal((64, int(widths[0])))
            Y = rng.standard_normal((64, int(widths[-1])))
        else:
            assert target is not None
            X, Y = teacher_data(arch, target, 64, noise=0.0, seed=int(rng.integers(1 << 30)))
        loss = SquaredLoss.from_data(arch, X, Y)
        lr = _safe_lr(loss)
        row: dict[str, Any] = {"k": tuple(k), "e": fs.n_even, "filling": fs.is_filling, "data": kind}
        for init in ("gaussian", "balanced"):
            # converged: gradient small relative to the loss's scale (||b|| ~ ||grad l(0)|| / 2)
            tol = 1e-6 * max(float(np.linalg.norm(loss.b)), 1e-12)
            trained = train(arch, loss, batch=runs, lr=lr, steps=steps, tol=tol, seed=int(rng.integers(1 << 30)),
                            init=init, scale=0.5)
            done = trained.converged
            v = trained.v[done]
            located = fs.locate(v, tol=1e-4) if len(v) else np.zeros(0, dtype=str)
            flags = [shared_roots(arch, t) for t in trained.theta[done]]
            n = max(int(done.sum()), 1)
            if init == "gaussian" and not fs.is_filling:
                # distance to the boundary of the numerical limit itself (roots not clustered:
                # a limit that is "on the boundary" up to tolerance sits at a tiny distance)
                distances = []
                for vi in v:
                    if fs.contains(vi):
                        rs = _structure(vi, 1e-13)
                        upper = _merge_upper_bound(vi, rs, fs.n_even or 0) if rs.n_odd_real >= (fs.n_even or 0) else 0.0
                        if upper == upper:  # not NaN
                            distances.append(upper / float(np.linalg.norm(vi)))
                all_distances.setdefault(f"{tuple(k)} {kind}", distances)
            if init == "gaussian":
                # the unconstrained optimum, when it lies in the space, is the global minimum
                optimum = loss.minimizer()
                best = float(loss.value(optimum)) if fs.contains(optimum) else math.nan
                optimal = np.abs(trained.loss[done] - best) <= 1e-6 * (1.0 + abs(best)) if best == best else None
                row.update({
                    "runs": runs,
                    "converged": float(done.mean()),
                    "global_minimum": float(optimal.sum() / n) if optimal is not None else math.nan,
                    "interior": float(np.sum(located == "interior") / n),
                    "boundary": float(np.sum(located == "boundary") / n),
                    "repeated_filters": float(sum(f[0] for f in flags) / n),
                })
            else:
                repeated = sum(f[0] for f in flags)
                row["balanced_equal_up_to_sign"] = float(sum(f[1] for f in flags) / repeated) if repeated else math.nan
        rows.append(row)
    result = ExperimentResult(name="repeated-filters", title="Where gradient descent ends: boundary and repeated filters",
                              tables={"runs": rows},
                              parameters={"runs": runs, "steps": steps, "seed": seed, "distances": all_distances})
    outside = [r for r in rows if r["data"] == "teacher outside"]
    if outside:
        result.notes.append(
            "With a teacher outside the space, every converged limit lies on the boundary "
            f"(fractions {', '.join(format(r['boundary'], '.3g') for r in outside)}) and has repeated filters "
            f"(fractions {', '.join(format(r['repeated_filters'], '.3g') for r in outside)}): the paper's prediction.")
    return result


def invariants_experiment(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """Drift of ``delta_l = ||w_{l+1}||^2 - ||w_l||^2`` under GD for several step sizes (the
    ``lr^2`` law: a step changes it by exactly ``lr^2 (||g_{l+1}||^2 - ||g_l||^2)``) and under
    gradient flow (conserved up to the integration tolerance); strided architecture."""
    arch = Architecture([3, 2, 2], [1, 2, 1], d0=26)
    rng = np.random.default_rng(seed)
    X, Y = teacher_data(arch, rng.standard_normal(arch.filter_size), 64, noise=0.3, seed=seed)
    loss = SquaredLoss.from_data(arch, X, Y)
    base = _safe_lr(loss)
    runs = 2000 if full else 256
    rows = []
    factors = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    # (a) a fixed number of steps: each step changes delta by exactly lr^2 (...), so the
    #     drift scales like lr^2; (b) a fixed time span T = lr * steps: the drift scales like
    #     lr, vanishing in the gradient-flow limit.
    horizon = base * 50
    for regime in ("gd, 10 steps", "gd, time span fixed"):
        for factor in progress(factors, len(factors), f"invariants ({regime})", show_progress):
            lr = base * factor
            steps = 10 if regime == "gd, 10 steps" else int(round(horizon / lr))
            trained = train(arch, loss, batch=runs, lr=lr, steps=steps, tol=0.0, seed=seed, scale=0.7)
            inv = trained.invariants
            assert inv.predicted_drift is not None
            drift = np.abs(inv.final - inv.initial)
            mismatch = np.abs((inv.final - inv.initial) - inv.predicted_drift)
            rows.append({"method": regime, "lr": lr, "steps": steps, "median_abs_drift": float(np.median(drift)),
                         "max_drift_minus_prediction": float(mismatch.max())})
    flow = train(arch, loss, batch=runs, lr=base, steps=100000, t_max=horizon, tol=0.0, seed=seed, scale=0.7,
                 method="flow", rtol=1e-10, atol=1e-12)
    rows.append({"method": "flow (rtol 1e-10)", "lr": math.nan, "steps": int(np.median(flow.steps)),
                 "median_abs_drift": float(np.median(flow.invariants.max_drift)),
                 "max_drift_minus_prediction": float(np.max(flow.invariants.max_drift))})
    slopes = {}
    for regime in ("gd, 10 steps", "gd, time span fixed"):
        sel = [r for r in rows if r["method"] == regime]
        slopes[regime] = float(np.polyfit(np.log([r["lr"] for r in sel]), np.log([r["median_abs_drift"] for r in sel]),
                                          1)[0])
    result = ExperimentResult(name="invariants", title="Invariants: the lr^2 law of GD and conservation under flow",
                              tables={"drift": rows}, parameters={"runs": runs, "seed": seed, "slopes": slopes})
    gd = [r for r in rows if r["method"].startswith("gd")]
    result.notes.append(f"Architecture {arch!r}. Log-log slope of the GD drift against lr: "
                        f"{slopes['gd, 10 steps']:.3f} over 10 steps (theory: 2), "
                        f"{slopes['gd, time span fixed']:.3f} over a fixed time span (theory: 1). GD drift equals "
                        f"its prediction to {max(r['max_drift_minus_prediction'] for r in gd):.2g}; the flow keeps "
                        f"the invariants to {rows[-1]['max_drift_minus_prediction']:.2g}.")
    return result
