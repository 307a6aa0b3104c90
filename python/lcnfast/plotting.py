"""Figures: the function space, training trajectories, landscapes and invariant drift of
the user's own architectures and results, and the experiments' figures drawn with them.

matplotlib (the ``plot`` extra) through its object API only: no pyplot, no
``matplotlib.use``, no global state, so the user's backend (e.g. inline figures in
Jupyter) is never changed. Every public ``plot_*`` function for user data takes ``ax`` (a
``matplotlib.axes.Axes`` to draw on; default: a new ``matplotlib.figure.Figure`` with one
axes) and returns the axes it drew on; ``ax.figure.savefig(...)`` saves it. Artists carry a
``gid`` naming what they show (``"function space"``, ``"boundary"``, ``"trajectory"``,
``"starts"``, ``"ends"``, ...) so they can be found again with ``ax.findobj``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_int, as_real, as_real_array, check_memory

__all__ = ["plot_boundary_distances", "plot_drift", "plot_drift_vs_lr", "plot_function_space", "plot_gd_reach",
           "plot_k22_space",
           "plot_landscape", "plot_trajectories"]

#: A chart of end-to-end filters: a callable mapping filters ``(N, K)`` to points ``(N, 2)``,
#: or a pair of indices into the (flattened) filter.
Chart = Union[Callable[[NDArray[np.float64]], ArrayLike], tuple[int, int], None]

#: Marker and colour of each verdict of :func:`lcnfast.classify`.
_VERDICT_STYLE = {"minimum": ("o", "#2e7d32"), "saddle": ("X", "#c0504d"), "maximum": ("^", "#7030a0"),
                  "degenerate": ("D", "#7f7f7f")}

_SPACE_COLOUR = "#cfe3f3"
_BOUNDARY_COLOUR = "#1f4e79"
_TRAJECTORY_COLOUR = "#c0504d"
_END_COLOUR = "#7f1d1d"


def _figure(**kwargs: Any) -> Any:
    """A matplotlib ``Figure`` made with the object API: no pyplot, no global state (the
    user's backend, e.g. inline figures in Jupyter, is left alone)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("figures need matplotlib: pip install 'lcnfast[plot]'") from exc
    return Figure(**kwargs)


def _axes(ax: Any) -> Any:
    """``ax`` itself, or the one axes of a new ``Figure`` when it is None."""
    return _figure().subplots() if ax is None else ax


def _save(fig: Any, path: Path) -> None:
    """Save a figure atomically, never through a symbolic link planted at ``path``: written
    into a new temporary file in the same folder (usual permissions), then renamed over
    ``path``. The format follows the suffix of ``path`` (PNG by default)."""
    from ._saving import write_atomically

    target = Path(path)
    kind = target.suffix.lstrip(".") or "png"
    write_atomically(target, lambda handle: fig.savefig(handle, dpi=120, format=kind))


def _ratio_chart(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """The affine chart ``(v_0 / v_2, v_1 / v_2)`` of filters ``(N, 3)``: ``(N, 2)``, NaN
    where ``v_2 = 0`` (points at infinity of the chart)."""
    v = np.asarray(v, dtype=np.float64)
    out = np.full((v.shape[0], 2), np.nan)
    finite = v[:, 2] != 0
    out[finite] = v[finite, :2] / v[finite, 2:3]
    return out


def _limits(value: Any, name: str) -> tuple[float, float]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a pair (low, high), got {value!r}") from None
    low, high = as_real(low, name), as_real(high, name)
    if not low < high:
        raise ValueError(f"{name}: expected low < high, got ({low}, {high})")
    return low, high


# -- users' figures -------------------------------------------------------------------------


def plot_function_space(arch: Any, *, ax: Any = None, xlim: tuple[float, float] = (-3.0, 10.0),
                        ylim: tuple[float, float] = (-7.0, 7.0), resolution: int = 301,
                        points: ArrayLike | None = None, samples: int = 4000, seed: int = 0,
                        legend: bool = True) -> Any:
    """The function space of an architecture with end-to-end filters of size 3, in the
    chart ``(x, y) = (v_0 / v_2, v_1 / v_2)``.

    A filter ``v = (v_0, v_1, v_2)`` with ``v_2 != 0`` is, up to scale, the polynomial
    ``x + y t + t^2``: it has two real roots iff ``y^2 >= 4 x`` (the discriminant
    ``v_1^2 - 4 v_0 v_2`` is ``>= 0``). The filters of the space are shaded, decided
    exactly by :meth:`lcnfast.FunctionSpace.contains` at the centre of each pixel; a
    filling space shades the whole chart. A space that is thick but not filling (two layers
    of even size, e.g. ``Architecture([2, 2])``) is the region ``y^2 >= 4 x``, and its
    boundary, the parabola ``y^2 = 4 x`` of filters with a double root, is drawn. A thin
    space (strides, e.g. ``Architecture([1, 2], [2, 1])``: ``v_1 = 0``) has no area; it is
    drawn as the chart of ``samples`` end-to-end filters of random parameters.

    Parameters
    ----------
    arch : Architecture
        1D, valid (not circular) layers, ``arch.filter_size == 3``; any strides.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    xlim, ylim : (float, float)
        The window of the chart.
    resolution : int
        Pixels along each side of the window (membership is decided at each pixel centre).
    points : array_like, shape (B, 3), optional
        Filters to scatter on the chart (those with ``v_2 = 0`` lie at infinity and are
        left out).
    samples : int
        Random parameters drawn for a thin space.
    seed : int
        Seed of those parameters.
    legend : bool
        Draw a legend.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``. The shading is an image (``gid="function space"``, a masked array: masked
        pixels are outside the space), the boundary a line (``gid="boundary"``), the points
        a scatter (``gid="points"``).

    Raises
    ------
    ValueError
        ``arch`` is 2D, circular or has end-to-end filters of another size; bad ``points``,
        ``xlim``, ``ylim`` or ``resolution``.

    Examples
    --------
    >>> from lcnfast import Architecture
    >>> from lcnfast.plotting import plot_function_space
    >>> ax = plot_function_space(Architecture([2, 2]), points=[[1.0, 3.0, 1.0]])
    >>> ax.figure.savefig("function_space.png")  # doctest: +SKIP
    """
    from .architecture import require_architecture
    from .geometry import FunctionSpace
    from .parameterisation import end_to_end

    arch = require_architecture(arch)
    if arch.ndim != 1 or arch.is_circular or arch.filter_size != 3:
        raise ValueError(f"arch: the chart (v0/v2, v1/v2) is drawn for 1D valid architectures with end-to-end "
                         f"filters of size 3; {arch!r} has filter shape {arch.filter_shape}"
                         + (" (circular)" if arch.is_circular else ""))
    x0, x1 = _limits(xlim, "xlim")
    y0, y1 = _limits(ylim, "ylim")
    n = as_int(resolution, "resolution", minimum=2)
    samples = as_int(samples, "samples", minimum=1)
    # the grid's membership test keeps some ten numbers per cell; each sample a filter and its parameters
    check_memory(80.0 * n * n, f"resolution: a {n} x {n} grid")
    check_memory(8.0 * samples * (2 * arch.n_params + 4), f"samples: {samples} filters")
    seed = as_int(seed, "seed", minimum=0)
    marked = None
    if points is not None:
        marked = as_real_array(points, "points")
        if marked.ndim == 1:
            marked = marked[None, :]
        if marked.ndim != 2 or marked.shape[1] != 3:
            raise ValueError(f"points: expected filters of shape (B, 3), got shape {marked.shape}")
    ax = _axes(ax)
    from matplotlib.colors import ListedColormap

    space = FunctionSpace(arch)
    label = f"function space of {arch!r}"
    if space.is_thick:
        # pixel centres, so that each pixel shows the membership of the point it is drawn at
        xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
        ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
        if space.is_filling:
            inside = np.ones((n, n), dtype=bool)
        else:
            X, Y = np.meshgrid(xs, ys)
            grid = np.stack([X.ravel(), Y.ravel(), np.ones(X.size)], axis=1)
            inside = np.asarray(space.contains(grid)).reshape(n, n)
        shade = np.ma.masked_array(np.ones((n, n)), mask=~inside)
        ax.imshow(shade, extent=(x0, x1, y0, y1), origin="lower", aspect="auto", interpolation="nearest",
                  cmap=ListedColormap([_SPACE_COLOUR]), vmin=0.0, vmax=1.0, gid="function space", zorder=0)
        # an image has no legend entry: an empty patch of the same colour stands for it
        ax.fill([], [], color=_SPACE_COLOUR, label=label + (" (filling)" if space.is_filling else ""))
        if not space.is_filling:
            y = np.linspace(y0, y1, 2 * n)
            ax.plot(y**2 / 4, y, color=_BOUNDARY_COLOUR, lw=1.5, gid="boundary",
                    label="boundary: double root, $v_1^2 = 4 v_0 v_2$")
    else:
        rng = np.random.default_rng(seed)
        sampled = _ratio_chart(end_to_end(arch, rng.standard_normal((samples, arch.n_params))))
        ax.plot(sampled[:, 0], sampled[:, 1], ".", ms=2, color=_BOUNDARY_COLOUR, gid="function space",
                label=label + f" (thin: {samples} random points)")
    if marked is not None:
        chart = _ratio_chart(marked)
        ax.scatter(chart[:, 0], chart[:, 1], s=18, color="black", zorder=3, gid="points", label="points")
        with np.errstate(invalid="ignore"):
            shown = (np.all(np.isfinite(chart), axis=1) & (chart[:, 0] >= x0) & (chart[:, 0] <= x1)
                     & (chart[:, 1] >= y0) & (chart[:, 1] <= y1))
        if not shown.all():
            import warnings

            warnings.warn(f"plot_function_space: {int((~shown).sum())} of {len(shown)} point(s) lie outside the window "
                          f"xlim={(x0, x1)}, ylim={(y0, y1)} (or have v_2 = 0, off the chart) and are not shown; "
                          "pass xlim and ylim to include them", RuntimeWarning, stacklevel=2)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$v_0 / v_2$")
    ax.set_ylabel("$v_1 / v_2$")
    if legend:
        ax.legend(loc="lower right", fontsize=8)
    return ax


def _resolve_chart(chart: Chart, recorded: NDArray[np.float64]
                   ) -> tuple[Callable[[NDArray[np.float64]], NDArray[np.float64]], tuple[str, str]]:
    """The chart as a function ``(N, K) -> (N, 2)`` with finite values or NaN, and the axis
    labels; ``recorded`` (all recorded filters, ``(N, K)``) fixes the default chart."""
    size = recorded.shape[1]
    if callable(chart):
        user = chart

        def project(v: NDArray[np.float64]) -> NDArray[np.float64]:
            out = np.asarray(user(v), dtype=np.float64)
            if out.shape != (v.shape[0], 2):
                raise ValueError(f"chart: must map filters of shape (N, {size}) to points of shape (N, 2); "
                                 f"got shape {out.shape} for N = {v.shape[0]}")
            return out

        return project, ("", "")
    if chart is not None:
        try:
            i, j = (as_int(c, "chart") for c in chart)
        except (TypeError, ValueError):
            raise ValueError(f"chart: expected a callable or a pair of filter indices, got {chart!r}") from None
        if not (0 <= i < size and 0 <= j < size):
            raise ValueError(f"chart: indices must be in [0, {size}) for filters of size {size}, got ({i}, {j})")
        return (lambda v: v[:, [i, j]]), (f"$v_{{{i}}}$", f"$v_{{{j}}}$")
    if size == 3:
        return _ratio_chart, ("$v_0 / v_2$", "$v_1 / v_2$")
    if size < 2:
        raise ValueError(f"result: its filters have size {size}, one coordinate only; pass chart=")
    finite = recorded[np.isfinite(recorded).all(axis=1)]
    if finite.shape[0] == 0:
        raise ValueError("result: no finite recorded filter to take principal components of")
    mean = finite.mean(axis=0)
    _, singular, vt = np.linalg.svd(finite - mean, full_matrices=True)
    components = vt[:2]
    variance = np.zeros(size)
    variance[:singular.size] = singular**2
    share = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return ((lambda v: (v - mean) @ components.T),
            (f"principal component 1 ({share[0]:.0%} of variance)", f"principal component 2 ({share[1]:.0%})"))


def plot_trajectories(result: Any, *, chart: Chart = None, ax: Any = None, runs: ArrayLike | None = None,
                      color: Any = _TRAJECTORY_COLOUR, label: str | None = "GD trajectories",
                      legend: bool = True) -> Any:
    """Gradient-descent (or flow) trajectories of end-to-end filters, projected on a chart.

    Parameters
    ----------
    result : TrainResult
        From :func:`lcnfast.train` with ``record_every > 0``; any architecture.
    chart : callable or (int, int), optional
        A callable mapping filters of shape ``(N, K)`` (2D filters flattened row-major) to
        points of shape ``(N, 2)`` (NaN leaves a point out), or a pair ``(i, j)`` of
        coordinates of the flattened filter. Default: ``(v_0 / v_2, v_1 / v_2)`` for filters
        of size 3, otherwise the first two principal components of all recorded filters.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    runs : array_like of int or bool, optional
        Indices (or a mask of shape ``(B,)``) of the runs to draw (default: all).
    color : matplotlib colour
    label : str or None
        Legend label of the trajectories (starts and ends get "starts" and "ends"); None
        for no legend entries (e.g. when adding to a figure that has them).
    legend : bool
        Draw a legend.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: one line per run through the chart of its recorded filters
        ``result.trajectory.v[run]`` (``gid="trajectory"``), the starts (the first records,
        hollow circles, ``gid="starts"``) and the ends (the final filters ``result.v``,
        filled circles, ``gid="ends"``).

    Raises
    ------
    ValueError
        ``result`` has no recorded trajectory; a bad ``chart`` or ``runs``.

    Examples
    --------
    >>> import numpy as np, lcnfast
    >>> from lcnfast.plotting import plot_trajectories
    >>> arch = lcnfast.Architecture([2, 2])
    >>> loss = lcnfast.QuadraticLoss(np.eye(3), [1.0, 0.3, 1.0])
    >>> result = lcnfast.train(arch, loss, batch=4, steps=2000, seed=1, record_every=20)
    >>> ax = plot_trajectories(result)
    """
    from .training import TrainResult

    if not isinstance(result, TrainResult):
        raise TypeError(f"result: expected an lcnfast.TrainResult, got {type(result).__name__}")
    trajectory = result.trajectory
    if trajectory is None:
        raise ValueError("result: has no recorded trajectory; train with record_every > 0")
    n_runs, n_records = trajectory.v.shape[:2]
    recorded = trajectory.v.reshape(n_runs, n_records, -1)
    size = recorded.shape[2]
    project, (xlabel, ylabel) = _resolve_chart(chart, recorded.reshape(-1, size))
    if runs is None:
        selected = np.arange(n_runs)
    else:
        index = np.asarray(runs)
        if index.dtype == bool:
            if index.shape != (n_runs,):
                raise ValueError(f"runs: a mask must have shape ({n_runs},), got {index.shape}")
            selected = np.flatnonzero(index)
        elif index.dtype.kind in "iu" and index.ndim <= 1:
            selected = np.atleast_1d(index).astype(np.int64)
            if selected.size and not (selected.min() >= -n_runs and selected.max() < n_runs):
                raise ValueError(f"runs: indices must be in [-{n_runs}, {n_runs}), got {selected.tolist()}")
        else:
            raise ValueError(f"runs: expected run indices or a boolean mask, got {runs!r}")
    ax = _axes(ax)
    lines = project(recorded[selected].reshape(-1, size)).reshape(selected.size, n_records, 2)
    lines = np.where(np.isfinite(lines), lines, np.nan)
    ends = project(result.v.reshape(n_runs, -1)[selected])
    ends = np.where(np.isfinite(ends), ends, np.nan)
    for i in range(selected.size):
        ax.plot(lines[i, :, 0], lines[i, :, 1], color=color, lw=0.9, alpha=0.8, gid="trajectory",
                label=label if i == 0 else None)
    named = label is not None
    ax.plot(lines[:, 0, 0], lines[:, 0, 1], "o", mfc="none", mec=color, ms=4, ls="none", gid="starts",
            label="starts" if named else None)
    ax.plot(ends[:, 0], ends[:, 1], "o", color=_END_COLOUR, ms=4, ls="none", gid="ends",
            label="ends" if named else None)
    if xlabel or ylabel:
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    if legend and named:
        ax.legend(fontsize=8)
    return ax


def _share_values(shares: Any, n: int) -> NDArray[np.float64] | None:
    if shares is None:
        return None
    if isinstance(shares, Mapping):
        values = np.zeros(n)
        for key, value in shares.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)) or not 0 <= key < n:
                raise ValueError(f"shares: keys must be indices of the landscape's points (0 to {n - 1}), got {key!r}")
            values[int(key)] = as_real(value, "shares")
    else:
        values = as_real_array(shares, "shares", allow_empty=True)
        if values.shape != (n,):
            raise ValueError(f"shares: expected one share per point, shape ({n},), got {values.shape}")
    if values.size and not (values.min() >= 0.0 and values.max() <= 1.0):
        raise ValueError("shares: fractions of runs must lie in [0, 1]")
    return values


def plot_landscape(landscape: Any, *, ax: Any = None, shares: Mapping[int, float] | ArrayLike | None = None,
                   legend: bool = True) -> Any:
    """The critical points of a :class:`lcnfast.Landscape` by loss, with the share of GD
    runs that end at each.

    Points are placed left to right in the landscape's order (increasing loss) at the
    height of their loss, with a marker and colour per verdict (minimum, saddle, maximum,
    degenerate) and the multiplicities of their roots (the stratum) as tick labels. With
    ``shares``, a marker's area grows with its share and the share is printed above it.

    Parameters
    ----------
    landscape : Landscape
        From :func:`lcnfast.critical_points`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    shares : mapping or array_like, shape (n_points,), optional
        Fraction of GD runs that end at each point, in ``[0, 1]``: an array aligned with
        ``landscape.points``, or a mapping from point index to share (missing points: 0).
    legend : bool
        Draw a legend.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: one scatter per verdict (``gid`` the verdict), x the point's index, y its
        loss.

    Raises
    ------
    ValueError
        Bad ``shares`` (wrong length, keys that are not point indices, values outside
        ``[0, 1]``).

    Examples
    --------
    >>> import numpy as np, lcnfast
    >>> from lcnfast.plotting import plot_landscape
    >>> arch = lcnfast.Architecture([2, 2])
    >>> landscape = lcnfast.critical_points(arch, lcnfast.QuadraticLoss(np.eye(3), [2.0, 0.5, 1.0]))
    >>> ax = plot_landscape(landscape, shares=[0.9, 0.1, 0.0])
    """
    from .critical import Landscape

    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape: expected an lcnfast.Landscape, got {type(landscape).__name__}")
    points = landscape.points
    n = len(points)
    values = _share_values(shares, n)
    ax = _axes(ax)
    losses = np.array([p.loss for p in points], dtype=np.float64)
    x = np.arange(n, dtype=np.float64)
    sizes = np.full(n, 40.0) if values is None else 25.0 + 400.0 * values
    verdicts = [p.verdict for p in points]
    for verdict in dict.fromkeys(verdicts):
        mine = np.array([v == verdict for v in verdicts])
        marker, colour = _VERDICT_STYLE.get(verdict, ("s", "black"))
        ax.scatter(x[mine], losses[mine], s=sizes[mine], marker=marker, color=colour, alpha=0.85, zorder=3,
                   gid=verdict, label=verdict)
    if values is not None:
        for i in range(n):
            ax.annotate(f"{values[i]:.0%}", (x[i], losses[i]), xytext=(0, 9), textcoords="offset points",
                        ha="center", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([",".join(str(m) for m in p.partition) or "0" for p in points], fontsize=7)
    ax.set_xlim(-0.7, max(n, 1) - 0.3)
    ax.set_xlabel("critical points by increasing loss (tick: multiplicities of the roots)")
    ax.set_ylabel("loss")
    if values is not None:
        ax.set_title(f"share of GD runs at each point (total {values.sum():.0%})", fontsize=9)
    if legend and n:
        ax.legend(fontsize=8)
    return ax


def plot_drift(lrs: ArrayLike, drift: ArrayLike, *, ax: Any = None, slope: float | None = None,
               label: str | None = None, marker: str = "o", color: Any = None) -> Any:
    """Invariant drift against the learning rate, log-log.

    Parameters
    ----------
    lrs : array_like, shape (n,)
        Learning rates, positive.
    drift : array_like, shape (n,) or (n, ...)
        Drift of the invariants at each learning rate, e.g. ``result.invariants.drift``
        (shape ``(B, L-1)``) of one :func:`lcnfast.train` per learning rate, stacked. Its
        absolute value is drawn; with more than one value per learning rate, the median as
        a line and the interquartile range as a band. Zeros (exact conservation) have no
        place on log axes and are left out.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    slope : float, optional
        Also draw a dashed reference line ``drift ~ lr^slope`` through the point at the
        largest learning rate (slope 2: the ``lr^2`` law of a fixed number of GD steps;
        slope 1: a fixed time span).
    label : str, optional
        Legend label of the line (a legend is drawn when given).
    marker : str
        Marker of the points.
    color : matplotlib colour, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: the line (``gid="drift"``), through ``(lrs, |drift|)`` or the medians.

    Raises
    ------
    ValueError
        ``lrs`` not positive and finite, ``drift`` not finite or not of a matching shape,
        a bad ``slope``.

    Examples
    --------
    >>> from lcnfast.plotting import plot_drift
    >>> ax = plot_drift([0.01, 0.02, 0.04], [1e-6, 4e-6, 1.6e-5], slope=2)
    """
    rates = as_real_array(lrs, "lrs")
    if rates.ndim != 1:
        raise ValueError(f"lrs: expected shape (n,), got {rates.shape}")
    if not rates.min() > 0:
        raise ValueError("lrs: learning rates must be > 0 (log axes)")
    values = np.abs(as_real_array(drift, "drift"))
    if values.ndim == 0 or values.shape[0] != rates.size:
        raise ValueError(f"drift: expected shape ({rates.size},) or ({rates.size}, ...) to match lrs, "
                         f"got {values.shape}")
    power = None if slope is None else as_real(slope, "slope")
    per_rate = values.reshape(rates.size, -1)
    ax = _axes(ax)
    centre = np.median(per_rate, axis=1)
    centre = np.where(centre > 0, centre, np.nan)
    (line,) = ax.plot(rates, centre, marker=marker, ls="-", color=color, label=label, gid="drift")
    if per_rate.shape[1] > 1:
        low, high = np.quantile(per_rate, [0.25, 0.75], axis=1)
        ax.fill_between(rates, np.where(low > 0, low, np.nan), np.where(high > 0, high, np.nan),
                        color=line.get_color(), alpha=0.2, lw=0, gid="interquartile range")
    ax.set_xscale("log")
    ax.set_yscale("log")
    anchor = int(np.argmax(rates))
    if power is not None and np.isfinite(centre[anchor]):
        ax.plot(rates, centre[anchor] * (rates / rates[anchor]) ** power, "--", color="gray", lw=0.8,
                gid="reference slope")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("invariant drift $|\\delta_l(T) - \\delta_l(0)|$"
                  + (" (median)" if per_rate.shape[1] > 1 else ""))
    if label is not None:
        ax.legend(fontsize=8)
    return ax


# -- the experiments' figures (``lcnfast reproduce``), saved to files -------------------------


def plot_k22_space(trained: Sequence[tuple[ArrayLike, Any]], path: Path) -> Path:
    """The function space of ``k = (2, 2)`` in the chart ``(a, b) = (v_0 / v_2, v_1 / v_2)``
    (:func:`plot_function_space`) with GD trajectories towards targets outside it ending on
    its boundary parabola (a double root: repeated filters) (:func:`plot_trajectories`).

    ``trained``: pairs ``(target, result)``, a target filter of shape ``(3,)`` and the
    :class:`lcnfast.TrainResult` of runs towards it recorded with ``record_every``.
    """
    from .architecture import Architecture

    xlim, ylim = (-3.0, 10.0), (-7.0, 7.0)

    def window(v: NDArray[np.float64]) -> NDArray[np.float64]:
        # the chart breaks where v_2 is small: draw only the points inside the window and
        # away from v_2 = 0
        chart = _ratio_chart(v)
        hide = ((np.abs(v[:, 2]) < 0.2) | ~(chart[:, 0] >= xlim[0]) | ~(chart[:, 0] <= xlim[1])
                | ~(np.abs(chart[:, 1]) <= ylim[1]))
        chart[hide] = np.nan
        return chart

    fig = _figure(figsize=(6.4, 5.2))
    ax = fig.subplots()
    plot_function_space(Architecture([2, 2]), ax=ax, xlim=xlim, ylim=ylim, legend=False)
    limits = hidden = 0
    for i, (target, result) in enumerate(trained):
        plot_trajectories(result, chart=window, ax=ax, label="GD trajectories" if i == 0 else None, legend=False)
        limits += result.v.shape[0]
        hidden += int(np.isnan(window(result.v.reshape(result.v.shape[0], -1))[:, 0]).sum())
        a_t, b_t = _ratio_chart(np.asarray(target, dtype=np.float64).reshape(1, 3))[0]
        ax.plot(a_t, b_t, "*", color="black", ms=11, label="targets (outside)" if i == 0 else None)
    ax.set_xlabel("$a = v_0 / v_2$")
    ax.set_ylabel("$b = v_1 / v_2$")
    ax.set_title(f"k = (2, 2): gradient descent ends on the boundary ({limits} runs: {len(trained)} targets)",
                 fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    fig.text(0.01, 0.01, "The loss is the Euclidean distance in v = (v0, v1, v2), not in this chart (a, b) = "
             "(v0/v2, v1/v2): a limit is the\nnearest point in v, which here can lie far from its target. "
             f"Drawn where |v2| >= 0.2 and inside the window; {hidden} of the {limits} limits are not.",
             fontsize=6.5)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _save(fig, path)
    return path


def plot_drift_vs_lr(rows: list[dict[str, Any]], path: Path, runs: int | None = None) -> Path:
    """Median invariant drift of GD against ``lr`` (log-log, :func:`plot_drift`): over a
    fixed number of steps (slope 2, the ``lr^2`` law) and over a fixed time span (slope 1),
    with the gradient-flow level; ``runs`` (the runs behind each point) goes into the title."""
    fig = _figure(figsize=(5.8, 4.3))
    ax = fig.subplots()
    for regime, marker in (("gd, 10 steps", "o"), ("gd, time span fixed", "s")):
        sel = [r for r in rows if r["method"] == regime]
        if not sel:
            continue
        plot_drift([r["lr"] for r in sel], [r["median_abs_drift"] for r in sel], ax=ax,
                   slope=2 if "steps" in regime else 1, label=f"GD, {regime[4:]}", marker=marker)
    flow = [r for r in rows if r["method"].startswith("flow")]
    if flow:
        ax.axhline(max(flow[0]["median_abs_drift"], 1e-18), color="#2e7d32", ls=":", label="gradient flow")
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
    note = ("n: the converged limits (Gaussian starts) that lie in the space, whose distance to the boundary is "
            "defined; runs that did not converge or whose limit is outside the space are not drawn")
    if empty:
        note += "\nno converged limit inside the space: " + "; ".join(empty)
    fig.text(0.01, 0.01, note, fontsize=6)
    fig.tight_layout(rect=(0, 0.06 if empty else 0.04, 1, 1))
    _save(fig, path)
    return path


def plot_gd_reach(reach: dict[str, list[tuple[float, float, str]]], path: Path, runs: int | None = None,
                  intervals: dict[str, list[tuple[float, float]]] | None = None) -> Path:
    """The landscape experiment's figure (its data are only losses, shares and verdicts, not
    a :class:`lcnfast.Landscape`): for each architecture, its critical points by loss
    (relative to the global minimum), coloured by verdict, with the share of all GD runs
    (``runs`` of them, printed on each panel) that end at each; ``intervals``: per point, an
    interval of the share drawn as an error bar (the experiment's Wilson 95% intervals)."""
    from matplotlib.patches import Patch

    colours = {verdict: colour for verdict, (_, colour) in _VERDICT_STYLE.items()}
    fig = _figure(figsize=(3.0 * len(reach), 3.9))
    axes = fig.subplots(1, len(reach), squeeze=False)
    for ax, (name, points) in zip(axes[0], reach.items()):
        losses = np.array([p[0] for p in points])
        base = losses.min() if losses.size else 0.0
        bounds = (intervals or {}).get(name)
        for i, (loss, share, verdict) in enumerate(points):
            ax.bar(i, share, color=colours.get(verdict, "black"))
            top = share
            if bounds is not None:
                lo, hi = bounds[i]
                ax.errorbar(i, share, yerr=[[share - lo], [hi - share]], color="black", lw=0.8, capsize=2)
                top = hi
            ax.text(i, top + 0.02, f"{loss - base:.2g}", ha="center", fontsize=6, rotation=90)
        label = f"k = {name}" + (f" ({runs} runs)" if runs else "")
        ax.set_title(label, fontsize=9)
        ax.set_xticks(range(len(points)))
        ax.set_xticklabels([p[2][:3] for p in points], fontsize=6, rotation=90)
        ax.set_ylim(0, 1.15)
    axes[0, 0].set_ylabel("share of the data set's GD runs")
    fig.legend(handles=[Patch(color=c, label=v) for v, c in colours.items()], loc="lower center", ncol=4, fontsize=7)
    fig.suptitle("Critical points of the first data set (by increasing loss; label: loss above the lowest), the "
                 "share of its GD runs ending at each (bars: 95% intervals); every data set: the table", fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _save(fig, path)
    return path
