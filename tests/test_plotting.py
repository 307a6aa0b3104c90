"""lcnfast.plotting: figures of users' own architectures and results, drawn on a given axes
or a new Figure, with the data they show checked against the library's answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lcnfast
from lcnfast import Architecture, QuadraticLoss

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lcnfast.plotting import plot_drift, plot_function_space, plot_landscape, plot_trajectories  # noqa: E402

GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery.rst"


@pytest.fixture(autouse=True)
def backend_unchanged():
    """Every call leaves the user's matplotlib backend as it was (no ``matplotlib.use``)."""
    before = matplotlib.get_backend()
    yield
    assert matplotlib.get_backend() == before


def _new_axes():
    return Figure().subplots()


def _by_gid(ax, gid):
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def _ratio(v):
    v = np.asarray(v, dtype=float).reshape(-1, 3)
    return np.stack([v[:, 0] / v[:, 2], v[:, 1] / v[:, 2]], axis=1)


@pytest.fixture(scope="module")
def k22_result():
    arch = Architecture([2, 2])
    loss = QuadraticLoss(np.eye(3), [1.0, 1.0, 1.0])  # 1 + t + t^2: outside the space
    return lcnfast.train(arch, loss, batch=5, steps=2000, seed=1, record_every=25, init="balanced")


@pytest.fixture(scope="module")
def k22_landscape():
    return lcnfast.critical_points(Architecture([2, 2]), QuadraticLoss(np.eye(3), [1.0, 0.3, 1.0]))


# -- plot_function_space ---------------------------------------------------------------------


def _pixel(image, x, y):
    """Row and column of the pixel of ``image`` (origin lower) that contains (x, y)."""
    x0, x1, y0, y1 = image.get_extent()
    rows, cols = image.get_array().shape
    return int((y - y0) / (y1 - y0) * rows), int((x - x0) / (x1 - x0) * cols)


def test_function_space_of_k22_is_the_region_with_real_roots():
    arch = Architecture([2, 2])
    ax = _new_axes()
    assert plot_function_space(arch, ax=ax, resolution=81) is ax
    (image,) = _by_gid(ax, "function space")
    shade = image.get_array()
    shaded = ~np.ma.getmaskarray(shade)
    space = lcnfast.FunctionSpace(arch)
    # one point inside (two real roots: y^2 >= 4x) and one outside, each shaded as it belongs
    for (x, y), member in (((-1.0, 0.5), True), ((3.0, 0.5), False)):
        assert space.contains([x, y, 1.0]) is member
        assert shaded[_pixel(image, x, y)] == member
    # every pixel shows the exact membership of its centre
    x0, x1, y0, y1 = image.get_extent()
    rows, cols = shade.shape
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    X, Y = np.meshgrid(xs, ys)
    np.testing.assert_array_equal(shaded, space.contains(np.stack([X.ravel(), Y.ravel(), np.ones(X.size)], 1))
                                  .reshape(rows, cols))
    assert 0.2 < shaded.mean() < 0.8
    (boundary,) = _by_gid(ax, "boundary")
    bx, by = boundary.get_xdata(), boundary.get_ydata()
    np.testing.assert_allclose(by**2, 4 * bx, rtol=1e-14, atol=1e-14)
    assert by.min() == pytest.approx(y0) and by.max() == pytest.approx(y1)


@pytest.mark.parametrize("k", [[3], [1, 3], [3, 1, 1]], ids=str)
def test_filling_space_shades_the_whole_chart(k):
    arch = Architecture(k)
    assert lcnfast.FunctionSpace(arch).is_filling
    ax = plot_function_space(arch, resolution=40)
    assert isinstance(ax, Axes) and isinstance(ax.figure, Figure)
    (image,) = _by_gid(ax, "function space")
    assert not np.ma.getmaskarray(image.get_array()).any()
    assert _by_gid(ax, "boundary") == []  # a filling space has no boundary


def test_function_space_points_and_thin_space():
    points = np.array([[1.0, 3.0, 1.0], [4.0, 2.0, 2.0], [1.0, 1.0, 0.0]])  # the last one is at infinity
    with pytest.warns(RuntimeWarning, match=r"1 of 3 point\(s\) lie outside the window"):
        ax = plot_function_space(Architecture([1, 2, 2]), points=points)
    (scatter,) = _by_gid(ax, "points")
    offsets = np.ma.getdata(scatter.get_offsets())
    np.testing.assert_allclose(offsets[:2], _ratio(points[:2]))
    assert not np.isfinite(offsets[2]).all()
    # k = (1, 2) with strides (2, 1): v = c (a + b x^2), the line v1 = 0
    thin = Architecture([1, 2], [2, 1])
    ax = plot_function_space(thin, samples=300)
    (line,) = _by_gid(ax, "function space")
    assert np.all(line.get_ydata()[np.isfinite(line.get_ydata())] == 0.0)
    assert np.isfinite(line.get_xdata()).sum() > 250


@pytest.mark.parametrize(("arch", "match"), [
    (Architecture([2, 2, 2]), "arch: .*size 3.*Architecture\\(\\[2, 2, 2\\]\\)"),
    (Architecture([4]), "arch: "),
    (Architecture([(2, 2), (2, 1)]), "arch: "),
    (Architecture([2, 2], kind="circular", d0=3), "arch: .*circular"),
], ids=["k222", "k4", "2d", "circular"])
def test_function_space_rejects_other_sizes(arch, match):
    with pytest.raises(ValueError, match=match):
        plot_function_space(arch)


def test_function_space_bad_arguments():
    arch = Architecture([2, 2])
    with pytest.raises(ValueError, match="points: expected filters of shape"):
        plot_function_space(arch, points=np.ones((2, 4)))
    with pytest.raises(ValueError, match="xlim: "):
        plot_function_space(arch, xlim=(1.0, -1.0))
    with pytest.raises(TypeError, match="arch: expected an lcnfast.Architecture"):
        plot_function_space([2, 2])


# -- plot_trajectories ----------------------------------------------------------------------


def test_trajectories_in_the_default_chart_of_size_3(k22_result):
    ax = _new_axes()
    assert plot_trajectories(k22_result, ax=ax) is ax
    lines = _by_gid(ax, "trajectory")
    recorded = k22_result.trajectory.v
    assert len(lines) == recorded.shape[0]
    for line, v in zip(lines, recorded):
        np.testing.assert_array_equal(line.get_xydata(), _ratio(v))
    (starts,) = _by_gid(ax, "starts")
    (ends,) = _by_gid(ax, "ends")
    np.testing.assert_array_equal(starts.get_xydata(), _ratio(recorded[:, 0]))
    np.testing.assert_array_equal(ends.get_xydata(), _ratio(k22_result.v))
    # GD towards 1 + t + t^2 (outside) ends on the boundary parabola y^2 = 4x at (1, 2)
    np.testing.assert_allclose(ends.get_xydata(), [[1.0, 2.0]] * recorded.shape[0], atol=1e-3)


def test_trajectories_with_a_chart_of_the_users_and_coordinates(k22_result):
    recorded = k22_result.trajectory.v
    ax = plot_trajectories(k22_result, chart=lambda v: v[:, 1:] * 2.0, runs=[0, 2])
    lines = _by_gid(ax, "trajectory")
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[1].get_xydata(), recorded[2][:, 1:] * 2.0)
    ax = plot_trajectories(k22_result, chart=(2, 0), runs=np.arange(5) < 1)
    (line,) = _by_gid(ax, "trajectory")
    np.testing.assert_array_equal(line.get_xydata(), recorded[0][:, [2, 0]])
    assert ax.get_xlabel() == "$v_{2}$"


def test_trajectories_default_to_principal_components_for_longer_filters():
    arch = Architecture([2, 3, 2], d0=12)
    rng = np.random.default_rng(0)
    X, Y = lcnfast.teacher_data(arch, rng.standard_normal(arch.filter_shape), 30, noise=0.3, seed=1)
    loss = lcnfast.SquaredLoss.from_data(arch, X, Y)
    result = lcnfast.train(arch, loss, batch=4, steps=400, seed=1, record_every=40)
    ax = plot_trajectories(result)
    recorded = result.trajectory.v.reshape(-1, arch.filter_size)
    centred = recorded - recorded.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    drawn = np.concatenate([line.get_xydata() for line in _by_gid(ax, "trajectory")])
    reference = centred @ vt[:2].T
    # principal components are defined up to sign
    np.testing.assert_allclose(np.abs(drawn), np.abs(reference), atol=1e-10)
    for j in range(2):
        sign = np.sign(drawn[:, j] @ reference[:, j])
        np.testing.assert_allclose(drawn[:, j], sign * reference[:, j], atol=1e-10)
    assert ax.get_xlabel().startswith("principal component 1")


def test_trajectories_bad_input(k22_result):
    loss = QuadraticLoss(np.eye(3), [1.0, 1.0, 1.0])
    unrecorded = lcnfast.train(Architecture([2, 2]), loss, batch=2, steps=10, seed=0)
    with pytest.raises(ValueError, match="result: has no recorded trajectory"):
        plot_trajectories(unrecorded)
    with pytest.raises(ValueError, match="chart: must map filters"):
        plot_trajectories(k22_result, chart=lambda v: v)
    with pytest.raises(ValueError, match="chart: indices must be in"):
        plot_trajectories(k22_result, chart=(0, 3))
    with pytest.raises(ValueError, match="chart: expected a callable or a pair"):
        plot_trajectories(k22_result, chart=(0, 1, 2))
    with pytest.raises(ValueError, match="runs: "):
        plot_trajectories(k22_result, runs=[7])
    with pytest.raises(TypeError, match="result: expected an lcnfast.TrainResult"):
        plot_trajectories(k22_result.trajectory)


# -- plot_landscape -------------------------------------------------------------------------


def _landscape_points(ax):
    """(x, y, verdict) of every point drawn, sorted by x."""
    drawn = []
    for verdict in ("minimum", "saddle", "maximum", "degenerate"):
        for scatter in _by_gid(ax, verdict):
            drawn += [(x, y, verdict) for x, y in np.ma.getdata(scatter.get_offsets())]
    return sorted(drawn)


def test_landscape_points_are_drawn_at_their_losses(k22_landscape):
    ax = _new_axes()
    assert plot_landscape(k22_landscape, ax=ax) is ax
    drawn = _landscape_points(ax)
    points = k22_landscape.points
    assert len(drawn) == len(points) >= 3
    np.testing.assert_array_equal([y for _, y, _ in drawn], [p.loss for p in points])
    assert [verdict for _, _, verdict in drawn] == [p.verdict for p in points]
    assert {"minimum", "saddle"} <= {p.verdict for p in points}
    assert len(ax.texts) == 0  # no shares given, none printed


def test_landscape_shares_from_gd_runs(k22_landscape):
    arch = Architecture([2, 2])
    loss = QuadraticLoss(np.eye(3), [1.0, 0.3, 1.0])
    runs = lcnfast.train(arch, loss, batch=40, steps=20000, seed=0, polish=True)
    points = np.array([p.v for p in k22_landscape.points])
    ends = runs.v[runs.converged]
    nearest = np.argmin(np.linalg.norm(ends[:, None, :] - points[None, :, :], axis=2), axis=1)
    shares = np.bincount(nearest, minlength=len(points)) / len(runs.v)
    ax = plot_landscape(k22_landscape, shares=shares)
    assert [t.get_text() for t in ax.texts] == [f"{s:.0%}" for s in shares]
    np.testing.assert_array_equal([y for _, y, _ in _landscape_points(ax)], [p.loss for p in k22_landscape.points])
    # a mapping from point index to share gives the same figure
    ax2 = plot_landscape(k22_landscape, shares={i: s for i, s in enumerate(shares) if s > 0})
    assert [t.get_text() for t in ax2.texts] == [t.get_text() for t in ax.texts]
    sizes = np.concatenate([s.get_sizes() for v in ("minimum", "saddle") for s in _by_gid(ax, v)])
    sizes2 = np.concatenate([s.get_sizes() for v in ("minimum", "saddle") for s in _by_gid(ax2, v)])
    np.testing.assert_array_equal(sizes, sizes2)


def test_landscape_bad_input(k22_landscape):
    n = len(k22_landscape.points)
    with pytest.raises(ValueError, match="shares: expected one share per point"):
        plot_landscape(k22_landscape, shares=np.zeros(n + 1))
    with pytest.raises(ValueError, match="shares: keys must be indices"):
        plot_landscape(k22_landscape, shares={n: 0.5})
    with pytest.raises(ValueError, match="shares: fractions of runs must lie in"):
        plot_landscape(k22_landscape, shares=np.full(n, 2.0))
    with pytest.raises(TypeError, match="landscape: expected an lcnfast.Landscape"):
        plot_landscape(k22_landscape.points)


# -- plot_drift -----------------------------------------------------------------------------


def test_drift_of_gd_runs_log_log():
    arch = Architecture([2, 2, 2], d0=10)
    rng = np.random.default_rng(0)
    X, Y = lcnfast.teacher_data(arch, rng.standard_normal(arch.filter_shape), 30, noise=0.3, seed=1)
    loss = lcnfast.SquaredLoss.from_data(arch, X, Y)
    lrs = np.array([1e-4, 2e-4, 5e-4, 1e-3])
    drift = np.stack([lcnfast.train(arch, loss, batch=32, lr=lr, steps=10, tol=0.0, seed=2, scale=0.5)
                      .invariants.drift for lr in lrs])
    ax = _new_axes()
    assert plot_drift(lrs, drift, ax=ax, slope=2, label="GD") is ax
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    (line,) = _by_gid(ax, "drift")
    np.testing.assert_array_equal(line.get_xdata(), lrs)
    np.testing.assert_array_equal(line.get_ydata(), np.median(np.abs(drift).reshape(4, -1), axis=1))
    (reference,) = _by_gid(ax, "reference slope")
    slope = np.polyfit(np.log(reference.get_xdata()), np.log(reference.get_ydata()), 1)[0]
    assert slope == pytest.approx(2.0, abs=1e-12)
    assert reference.get_ydata()[-1] == line.get_ydata()[-1]
    # the lr^2 law: the medians follow slope 2
    assert np.polyfit(np.log(lrs), np.log(line.get_ydata()), 1)[0] == pytest.approx(2.0, abs=0.1)
    assert len(_by_gid(ax, "interquartile range")) == 1


def test_drift_of_one_value_per_rate_on_a_new_figure():
    ax = plot_drift([0.1, 0.01, 0.2], [3e-4, -2e-6, 0.0])
    assert isinstance(ax.figure, Figure)
    (line,) = _by_gid(ax, "drift")
    np.testing.assert_array_equal(line.get_ydata()[:2], [3e-4, 2e-6])
    assert np.isnan(line.get_ydata()[2])  # exact zero: no place on log axes
    assert _by_gid(ax, "interquartile range") == []


def test_drift_bad_input():
    with pytest.raises(ValueError, match="lrs: learning rates must be > 0"):
        plot_drift([0.0, 0.1], [1.0, 2.0])
    with pytest.raises(ValueError, match="drift: expected shape \\(2,\\)"):
        plot_drift([0.1, 0.2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="drift: contains NaN"):
        plot_drift([0.1, 0.2], [1.0, np.nan])


# -- the gallery ----------------------------------------------------------------------------


def _gallery_examples():
    text = GALLERY.read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:(?: {3}.*)?\n)+)", text, flags=re.MULTILINE)
    return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]


def test_gallery_has_an_example_of_every_function():
    examples = "\n".join(_gallery_examples())
    for name in ("plot_function_space", "plot_trajectories", "plot_landscape", "plot_drift"):
        assert f"{name}(" in examples
        assert f".. autofunction:: lcnfast.plotting.{name}" in GALLERY.read_text(encoding="utf-8")


@pytest.mark.parametrize("index", range(len(_gallery_examples())))
def test_gallery_example_runs(index, tmp_path):
    code = _gallery_examples()[index]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    saved = re.findall(r'savefig\("([^"]+)"\)', code)
    assert saved
    for name in saved:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_points_outside_the_window_are_announced():
    """Issue 29: a user's points outside the fixed default window were drawn nowhere, silently."""
    inside = np.array([[2.0, 1.0, 1.0]])  # chart (2, 1)
    far = np.array([[50.0, 1.0, 1.0], [1.0, 1.0, 0.0]])  # chart (50, 1), and v_2 = 0 (off the chart)
    with pytest.warns(RuntimeWarning, match=r"2 of 3 point\(s\) lie outside the window"):
        plot_function_space(Architecture([2, 2]), points=np.vstack([inside, far]), resolution=30)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_function_space(Architecture([2, 2]), points=np.vstack([inside, far[:1]]), resolution=30,
                            xlim=(-3.0, 60.0))  # the caller's window holds them: no warning
