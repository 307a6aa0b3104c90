"""Figures of the experiments (matplotlib, the ``plot`` extra; figures made with its object API,
without pyplot, so the user's backend is never changed)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_boundary_distances", "plot_drift_vs_lr", "plot_k22_space", "plot_landscape"]


def _figure(**kwargs: Any) -> Any:
    """A matplotlib ``Figure`` made with the object API: no pyplot, no global state (the
    user's backend, e.g. inline figures in Jupyter, is left alone)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("figures need matplotlib: pip install 'lcnfast[plot]'") from exc
    return Figure(**kwargs)


def _save(fig: Any, path: Path) -> None:
    """Save a figure atomically, never through a symbolic link planted at ``path``: into a
    new temporary file in the same folder, then renamed over ``path``."""
    import tempfile

    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix or ".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def plot_k22_space(path: Path, *, seed: int = 0) -> Path:
    """The function space of ``k = (2, 2)`` in the chart ``(a, b) = (v_0 / v_2, v_1 / v_2)``:
    the region ``b^2 >= 4 a`` (two real roots), with GD trajectories towards targets
    outside it ending on its boundary parabola (a double root: repeated filters)."""
    from .architecture import Architecture
    from .losses import QuadraticLoss
    from .training import train

    arch = Architecture([2, 2])
    rng = np.random.default_rng(seed)
    fig = _figure(figsize=(6.4, 5.2))
    ax = fig.subplots()
    shown = 0
    b = np.linspace(-7, 7, 600)
    ax.fill_betweenx(b, -10, b**2 / 4, color="#cfe3f3", label="function space  $v_1^2 \\geq 4 v_0 v_2$")
    ax.plot(b**2 / 4, b, color="#1f4e79", lw=1.5, label="boundary: double root")
    for i in range(5):
        a_t, b_t = rng.uniform(1.0, 3.0), rng.uniform(-2.5, 2.5)
        if b_t**2 >= 4 * a_t:
            a_t = b_t**2 / 4 + 1.0
        target = np.array([a_t, b_t, 1.0])
        result = train(arch, QuadraticLoss(np.eye(3), target), batch=4, lr=0.01, steps=20000, tol=1e-10,
                       seed=seed + i, record_every=10, scale=1.5, init="balanced")
        assert result.trajectory is not None
        for run in range(4):
            v = result.trajectory.v[run]
            with np.errstate(divide="ignore", invalid="ignore"):
                a, bb = v[:, 0] / v[:, 2], v[:, 1] / v[:, 2]
            # the chart breaks where v_2 is small: draw only the segments inside it
            hide = (np.abs(v[:, 2]) < 0.2) | (a < -3) | (a > 10) | (np.abs(bb) > 7)
            a, bb = np.where(hide, np.nan, a), np.where(hide, np.nan, bb)
            ax.plot(a, bb, color="#c0504d", lw=0.9, alpha=0.8,
                    label="GD trajectories" if i == 0 and run == 0 else None)
            end = result.v[run]
            point = (end[0] / end[2], end[1] / end[2]) if end[2] != 0 else (np.inf, np.inf)
            shown += int(-3 <= point[0] <= 10 and -7 <= point[1] <= 7)
            ax.plot(*point, "o", color="#7f1d1d", ms=4, label="GD limits" if i == 0 and run == 0 else None)
        ax.plot(a_t, b_t, "*", color="black", ms=11, label="targets (outside)" if i == 0 else None)
    ax.set_xlim(-3, 10)
    ax.set_ylim(-7, 7)
    ax.set_xlabel("$a = v_0 / v_2$")
    ax.set_ylabel("$b = v_1 / v_2$")
    ax.set_title("k = (2, 2): gradient descent ends on the boundary (20 runs: 5 targets x 4 starts)", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.text(0.01, 0.01, "The loss is the Euclidean distance in v = (v0, v1, v2), not in this chart (a, b) = "
             "(v0/v2, v1/v2):\na limit is the nearest point in v, which here can lie far from its target. "
             f"Trajectories are drawn where |v2| >= 0.2; {20 - shown} of the 20 limits lie outside this window.",
             fontsize=6.5)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _save(fig, path)
    return path


def plot_drift_vs_lr(rows: list[dict[str, Any]], path: Path, runs: int | None = None) -> Path:
    """Median invariant drift of GD against ``lr`` (log-log): over a fixed number of steps
    (slope 2, the ``lr^2`` law) and over a fixed time span (slope 1), with the gradient-flow
    level; ``runs`` (the runs behind each point) goes into the title."""
    fig = _figure(figsize=(5.8, 4.3))
    ax = fig.subplots()
    for regime, style in (("gd, 10 steps", "o-"), ("gd, time span fixed", "s-")):
        sel = [r for r in rows if r["method"] == regime]
        if not sel:
            continue
        lr = np.array([r["lr"] for r in sel])
        drift = np.array([r["median_abs_drift"] for r in sel])
        ax.loglog(lr, drift, style, label=f"GD, {regime[4:]}")
        slope = 2 if "steps" in regime else 1
        ax.loglog(lr, drift[-1] * (lr / lr[-1]) ** slope, "--", color="gray", lw=0.8)
    flow = [r for r in rows if r["method"].startswith("flow")]
    if flow:
        ax.axhline(max(flow[0]["median_abs_drift"], 1e-18), color="#2e7d32", ls=":", label="gradient flow")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("median $|\\delta_l(T) - \\delta_l(0)|$")
    ax.set_title("Invariant drift (dashed: slopes 2 and 1)" + (f"; median of {runs} runs per point" if runs else ""),
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return path


def plot_boundary_distances(distances: dict[str, list[float]], path: Path) -> Path:
    """Relative distance of GD limits to the boundary of the function space (an upper bound
    from merging roots, computed on the numerical limit), one row per architecture and data
    kind, labelled with the number of limits it shows: limits on the boundary show up at
    the level of the convergence accuracy. Rows without limits inside the space are named
    under the plot, not dropped silently."""
    keys = [k for k, v in distances.items() if v]
    empty = [k for k, v in distances.items() if not v]
    fig = _figure(figsize=(7.2, 0.42 * max(len(keys), 1) + 1.6))
    ax = fig.subplots()
    rng = np.random.default_rng(0)
    for row, key in enumerate(keys):
        values = np.log10(np.maximum(np.asarray(distances[key]), 1e-17))
        ax.plot(values, row + 0.25 * rng.uniform(-1, 1, size=values.size), "o", ms=2, alpha=0.35, color="#4f81bd")
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([f"{key} (n = {len(distances[key])})" for key in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("log10 (distance to boundary / ||v||); values at -17: distance 0 to rounding")
    ax.set_title("GD limits (Gaussian starts, converged): distance to the boundary", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    if empty:
        fig.text(0.01, 0.01, "no converged limit inside the space: " + "; ".join(empty), fontsize=6)
    fig.tight_layout(rect=(0, 0.04 if empty else 0, 1, 1))
    _save(fig, path)
    return path


def plot_landscape(reach: dict[str, list[tuple[float, float, str]]], path: Path, runs: int | None = None) -> Path:
    """For each architecture, its critical points by loss (relative to the global minimum),
    coloured by verdict, with the share of all GD runs (``runs`` of them, printed on each
    panel) that end at each."""
    from matplotlib.patches import Patch

    colours = {"minimum": "#2e7d32", "saddle": "#c0504d", "maximum": "#7030a0", "degenerate": "#7f7f7f"}
    fig = _figure(figsize=(3.0 * len(reach), 3.9))
    axes = fig.subplots(1, len(reach), squeeze=False)
    for ax, (name, points) in zip(axes[0], reach.items()):
        losses = np.array([p[0] for p in points])
        base = losses.min() if losses.size else 0.0
        for i, (loss, share, verdict) in enumerate(points):
            ax.bar(i, share, color=colours.get(verdict, "black"))
            ax.text(i, share + 0.02, f"{loss - base:.2g}", ha="center", fontsize=6, rotation=90)
        label = f"k = {name}" + (f" ({runs} runs)" if runs else "")
        ax.set_title(label, fontsize=9)
        ax.set_xticks(range(len(points)))
        ax.set_xticklabels([p[2][:3] for p in points], fontsize=6, rotation=90)
        ax.set_ylim(0, 1.15)
    axes[0, 0].set_ylabel("share of all GD runs")
    fig.legend(handles=[Patch(color=c, label=v) for v, c in colours.items()], loc="lower center", ncol=4, fontsize=7)
    fig.suptitle("Critical points of one data set (by increasing loss; label: loss above the lowest) and where GD "
                 "ends", fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _save(fig, path)
    return path
