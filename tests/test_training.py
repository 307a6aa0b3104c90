"""The batched training engine against plain numpy on raw data, and its invariants."""

from __future__ import annotations

import os
import signal
import threading
import warnings

import numpy as np
import pytest

import lcnfast
from lcnfast import SquaredLoss

from . import reference as ref

TRAJECTORY_CASES = {
    "1d-k332": ([3, 3, 2], None, "valid", 12),
    "1d-k333": ([3, 3, 3], None, "valid", 12),
    "1d-strided-k232-s212": ([2, 3, 2], [2, 1, 2], "valid", 22),
    "1d-circular-k33-d5": ([3, 3], None, "circular", 5),
    "2d-k22-k21-s12": ([(2, 2), (2, 1)], [(1, 2), (1, 1)], "valid", (5, 6)),
}


def _data(arch, rng, N=20, noise=0.3):
    v_star = rng.standard_normal(arch.filter_shape)
    return lcnfast.teacher_data(arch, v_star, N, noise=noise, seed=int(rng.integers(1 << 30)))


@pytest.mark.parametrize("name", list(TRAJECTORY_CASES), ids=list(TRAJECTORY_CASES))
def test_gd_trajectory_equals_numpy_gd_on_raw_data(name):
    """Step for step, 200 steps: the exact reduction changes nothing but the cost."""
    k, s, kind, d0 = TRAJECTORY_CASES[name]
    arch = lcnfast.Architecture(k, s, kind=kind, d0=d0)
    rng = np.random.default_rng(7)
    X, Y = _data(arch, rng)
    loss = SquaredLoss.from_data(arch, X, Y)
    theta0 = 0.7 * rng.standard_normal((2, arch.n_params))
    lr, steps = 0.02, 200
    result = lcnfast.train(arch, loss, theta0, lr=lr, steps=steps, tol=0.0, record_every=1)
    assert list(result.status) == ["max_steps", "max_steps"]
    for run in range(2):
        losses, vs, filters = ref.gd_on_raw_data(arch.split(theta0[run]), k, s or [1] * len(k), d0,
                                                 kind == "circular", X, Y, lr, steps)
        got_loss = result.trajectory.loss[run]
        np.testing.assert_allclose(got_loss, losses, rtol=1e-10, atol=1e-12)
        got_v = result.trajectory.v[run].reshape(steps + 1, -1)
        scale = np.linalg.norm(vs.reshape(steps + 1, -1), axis=1, keepdims=True)
        assert np.all(np.abs(got_v - vs.reshape(steps + 1, -1)) <= 1e-10 * scale + 1e-13)
        np.testing.assert_allclose(result.theta[run], np.concatenate([w.ravel() for w in filters]), rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_array_equal(result.trajectory.t[0], np.arange(steps + 1))


@pytest.mark.parametrize("spec", [([3, 2, 3], [1, 2, 1]), ([2, 2, 3], [2, 1, 1]), ([(2, 2), (3, 2)], [(1, 1), (2, 1)])],
                         ids=["k323-s121", "k223-s211", "2d"])
def test_invariants_under_gd_and_flow(spec):
    k, s = spec
    arch = lcnfast.Architecture(k, s, d0=(16, 16) if isinstance(k[0], tuple) else 24)
    rng = np.random.default_rng(11)
    X, Y = _data(arch, rng, N=40)
    loss = SquaredLoss.from_data(arch, X, Y)
    gd = lcnfast.train(arch, loss, batch=64, lr=0.01, steps=300, tol=0.0, seed=5)
    inv = gd.invariants
    drift = inv.final - inv.initial
    np.testing.assert_allclose(inv.initial, lcnfast.invariants(arch, gd.theta * 0 + _start(arch, 64, 5)), rtol=1e-14)
    np.testing.assert_allclose(inv.final, lcnfast.invariants(arch, gd.theta), rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(drift - inv.predicted_drift) <= np.maximum(1e-9 * np.abs(drift), 1e-12))
    assert np.abs(drift).max() > 1e-6  # the prediction is about something
    assert np.all(inv.max_drift >= np.abs(drift) - 1e-15)

    flow = lcnfast.train(arch, loss, batch=64, lr=0.01, steps=100000, t_max=3.0, tol=0.0, seed=5,
                         method="flow", rtol=1e-10, atol=1e-12)
    assert flow.invariants.predicted_drift is None
    assert np.all(flow.status == "max_steps")  # ran to the horizon
    scale = 1.0 + np.abs(flow.invariants.initial)
    assert np.all(flow.invariants.max_drift <= 1e-7 * scale)
    # the flow moved far more than its drift: the invariants are conserved, not frozen
    assert np.median(np.abs(flow.loss - loss.value(lcnfast.end_to_end(arch, _start(arch, 64, 5))))) > 1e-3


def _start(arch, batch, seed):
    """The random start train() draws for (batch, seed)."""
    return lcnfast.train(arch, lcnfast.QuadraticLoss(np.eye(int(np.prod(arch.filter_shape))),
                                                     np.zeros(arch.filter_shape)),
                         batch=batch, seed=seed, steps=0).theta


def test_flow_converges_to_a_critical_point_and_gd_agrees():
    arch = lcnfast.Architecture([2, 3], d0=12)  # e = 1: filling, the optimum is reachable
    rng = np.random.default_rng(2)
    X, Y = _data(arch, rng, N=60, noise=0.0)
    loss = SquaredLoss.from_data(arch, X, Y)
    # Near a stiff equilibrium each accepted Runge-Kutta step may err by ~atol + rtol |theta|,
    # which bounds how small the flow's gradient can get: its tol must sit above that floor.
    flow = lcnfast.train(arch, loss, batch=16, method="flow", lr=0.01, steps=20000, t_max=1e4, tol=1e-7, seed=1,
                         rtol=1e-11, atol=1e-13)
    gd = lcnfast.train(arch, loss, batch=16, lr=0.01, steps=20000, tol=1e-9, seed=1)
    assert flow.counts()["converged"] == 16 and gd.counts()["converged"] == 16
    assert np.all(flow.grad_norm <= 1e-7) and np.all(gd.grad_norm <= 1e-9)
    np.testing.assert_allclose(gd.v, np.broadcast_to(loss.minimizer(), gd.v.shape), atol=1e-8)
    np.testing.assert_allclose(flow.v, gd.v, atol=1e-7)


def test_deterministic_for_any_thread_count_and_repeated_calls():
    arch = lcnfast.Architecture([3, 3, 3], d0=20)
    X, Y = _data(arch, np.random.default_rng(3))
    loss = SquaredLoss.from_data(arch, X, Y)
    for method in ("gd", "flow"):
        results = [lcnfast.train(arch, loss, batch=77, steps=150, seed=9, threads=t, method=method, record_every=10)
                   for t in (1, 2, 3, 2)]
        for other in results[1:]:
            for field in ("theta", "v", "loss", "grad_norm", "steps"):
                np.testing.assert_array_equal(getattr(other, field), getattr(results[0], field))
            np.testing.assert_array_equal(other.status, results[0].status)
            np.testing.assert_array_equal(other.trajectory.loss, results[0].trajectory.loss)
            np.testing.assert_array_equal(other.invariants.max_drift, results[0].invariants.max_drift)


def test_diverging_runs_are_stopped_and_do_not_touch_the_others():
    arch = lcnfast.Architecture([3, 2, 2], d0=16)
    X, Y = _data(arch, np.random.default_rng(4))
    loss = SquaredLoss.from_data(arch, X, Y)
    rng = np.random.default_rng(5)
    calm = 0.3 * rng.standard_normal((20, arch.n_params))
    wild = 30.0 * rng.standard_normal((12, arch.n_params))
    mixed = np.concatenate([calm[:7], wild[:5], calm[7:], wild[5:]])
    is_wild = np.array([False] * 7 + [True] * 5 + [False] * 13 + [True] * 7)
    together = lcnfast.train(arch, loss, mixed, lr=0.005, steps=400, tol=1e-7)
    alone = lcnfast.train(arch, loss, calm, lr=0.005, steps=400, tol=1e-7)
    assert np.all(together.status[is_wild] == "diverged")
    assert np.all(together.status[~is_wild] != "diverged")
    assert np.all(np.isfinite(together.theta))  # a diverged run keeps its last finite parameters
    for field in ("theta", "v", "loss", "grad_norm", "steps"):
        np.testing.assert_array_equal(getattr(together, field)[~is_wild], getattr(alone, field))


# Dense 1D chains take the register-resident GD kernels (train_dense.hpp): every (layers,
# largest filter) they cover, with and without padding, a stride that leaves the chain
# dense, and chains they leave to the general kernels (k_l = 1 everywhere, 5 layers, 6 taps).
DENSE_CASES = [
    ([2, 2], None), ([3, 3, 3], None), ([4, 4], None), ([5, 5, 5, 5], None), ([2, 2, 2, 2], None),
    ([3, 2, 2], None), ([1, 4], None), ([2, 1, 3, 5], None), ([5, 2, 1], None), ([4, 4, 3, 4], None),
    ([3, 3], [1, 2]), ([1, 1], None), ([2, 2, 2, 2, 2], None), ([6, 2], None),
]


@pytest.mark.parametrize("spec", DENSE_CASES, ids=lambda s: "k" + "".join(map(str, s[0])) + ("-s" if s[1] else ""))
def test_register_kernels_match_the_general_kernels(spec):
    """Same operations in the same order: identical results on every backend (bit for bit;
    padded shapes may differ in the sign of a zero, which array_equal ignores), including
    runs that converge, diverge or stop at max_steps, a ragged last tile, trajectories."""
    from lcnfast import _core

    k, s = spec
    arch = lcnfast.Architecture(k, s, d0=sum(k) + 6)
    rng = np.random.default_rng(sum(k) * 31 + len(k))
    X, Y = _data(arch, rng, N=30, noise=0.5)
    loss = SquaredLoss.from_data(arch, X, Y)
    B = 45  # two full tiles and a ragged one
    theta0 = 0.5 * rng.standard_normal((B, arch.n_params))
    theta0[::9] *= 40.0  # these diverge
    theta0[1::9] = 0.0  # a critical point: these converge at once; the rest reach max_steps
    lr = 0.02 / max(1.0, float(np.linalg.eigvalsh(loss.G)[-1]))

    fields = ("theta", "v", "loss", "grad_norm", "status", "steps", "inv_initial", "inv_final", "inv_max_drift",
              "inv_predicted", "rec_t", "rec_v", "rec_loss", "rec_inv")

    def run(specialised):
        options = _core.TrainOptions(method="gd", lr=lr, steps=300, tol=1e-9, blowup=1e8, rtol=1e-6, atol=1e-9,
                                     t_max=0.0, record_every=7, threads=2, specialised=specialised)
        out = _core.train(arch.plan, theta0, loss.G, loss.b, loss.c, options)
        return {name: getattr(out, name) for name in fields}

    try:
        _core.set_backend("generic")
        reference = run(False)
        statuses = set(np.unique(reference["status"]).tolist())
        assert statuses == {0, 1, 2}, statuses  # converged, max_steps and diverged all occur
        for backend in _core.available_backends():
            _core.set_backend(backend)
            for specialised in (True, False):
                got = run(specialised)
                for key, value in reference.items():
                    assert isinstance(value, np.ndarray), key  # every field, trajectories included
                    if isinstance(value, np.ndarray):
                        np.testing.assert_array_equal(got[key], value, err_msg=f"{backend} {key}")
    finally:
        _core.set_backend("auto")


def test_balanced_init_keeps_the_end_to_end_filter():
    arch = lcnfast.Architecture([3, 2, 4])
    quad = lcnfast.QuadraticLoss(np.eye(arch.filter_size), np.ones(arch.filter_size))
    plain = lcnfast.train(arch, quad, batch=30, steps=0, seed=4)
    balanced = lcnfast.train(arch, quad, batch=30, steps=0, seed=4, init="balanced")
    np.testing.assert_allclose(balanced.v, plain.v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(balanced.invariants.initial, 0.0, atol=1e-12)
    norms = np.stack([np.sum(w * w, axis=1) for w in arch.split(balanced.theta)], axis=1)
    np.testing.assert_allclose(norms, norms[:, :1].repeat(3, axis=1), rtol=1e-12)
    assert np.abs(plain.invariants.initial).max() > 0.1


def test_trajectory_repeats_the_final_state_after_stopping():
    arch = lcnfast.Architecture([2, 2], d0=8)
    X, Y = _data(arch, np.random.default_rng(6), noise=0.0)
    loss = SquaredLoss.from_data(arch, X, Y)
    result = lcnfast.train(arch, loss, batch=3, lr=0.05, steps=3000, tol=1e-6, record_every=100, seed=2)
    traj = result.trajectory
    assert traj.loss.shape == (3, 31) and traj.v.shape == (3, 31, 3) and traj.invariants.shape == (3, 31, 1)
    for run in range(3):
        assert traj.loss[run, 0] == pytest.approx(loss.value(traj.v[run, 0]), rel=1e-12)
        last = int(result.steps[run]) // 100 + 1
        if result.status[run] == "converged" and last < 31:
            np.testing.assert_array_equal(traj.loss[run, last:], result.loss[run])
            np.testing.assert_array_equal(traj.v[run, -1], result.v[run])


def test_progress_callback_and_ctrl_c():
    arch = lcnfast.Architecture([5, 5, 5], d0=40)
    X, Y = _data(arch, np.random.default_rng(8))
    loss = SquaredLoss.from_data(arch, X, Y)
    seen = []
    lcnfast.train(arch, loss, batch=500, steps=2000, tol=0.0, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (500, 500)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        lcnfast.train(arch, loss, batch=20000, steps=10**6, tol=0.0, lr=1e-4)  # hours if not stopped
    timer.cancel()


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"lr": 0.0}, ValueError, "lr: must be > 0"),
        ({"lr": float("nan")}, ValueError, "lr: must be finite"),
        ({"lr": "0.1"}, ValueError, "lr: expected a positive number, one per run, or 'auto'"),
        ({"lr": [0.1, 0.2, 0.3]}, ValueError, "lr: expected one number or one per run (1,), got shape (3,)"),
        ({"lr": [[0.1]]}, ValueError, "lr: expected one number or one per run (1,), got shape (1, 1)"),
        ({"lr": [True]}, TypeError, "lr: expected real numbers, got dtype bool"),
        ({"lr": True}, TypeError, "lr: expected a real number, got bool"),
        ({"tol": "tight"}, ValueError, "tol: expected a number >= 0 or 'auto'"),
        ({"retries": -1}, ValueError, "retries: must be >= 0"),
        ({"polish": "yes"}, TypeError, "polish: expected a bool"),
        ({"steps": -1}, ValueError, "steps: must be >= 0"),
        ({"method": "adam"}, ValueError, "method: expected 'gd' or 'flow'"),
        ({"init": "xavier"}, ValueError, "init: expected 'gaussian' or 'balanced'"),
        ({"batch": 0}, ValueError, "batch: must be >= 1"),
        ({"record_every": -2}, ValueError, "record_every: must be >= 0"),
        ({"theta0": np.full(6, np.nan)}, ValueError, "theta0: contains NaN or infinity"),
        ({"theta0": np.zeros((2, 5))}, ValueError, "theta0: expected shape (6,) or (B, 6)"),
        ({"theta0": np.zeros((2, 6)), "batch": 3}, ValueError, "batch: 3 differs"),
        ({"tol": -1.0}, ValueError, "tol: must be >= 0"),
        ({"rtol": 0.0, "method": "flow"}, ValueError, "rtol: must be > 0"),
        ({"threads": 0}, ValueError, "threads: must be >= 1"),
    ],
)
def test_bad_training_input(kwargs, exc, words):
    arch = lcnfast.Architecture([3, 3])
    loss = lcnfast.QuadraticLoss(np.eye(5), np.ones(5))
    with pytest.raises(exc) as info:
        lcnfast.train(arch, loss, **kwargs)
    assert words in str(info.value)


def test_loss_must_match_architecture():
    with pytest.raises(ValueError, match="loss: its filters have shape"):
        lcnfast.train(lcnfast.Architecture([3, 3]), lcnfast.QuadraticLoss(np.eye(4), np.ones(4)))
    with pytest.raises(TypeError, match="loss: expected an lcnfast.QuadraticLoss"):
        lcnfast.train(lcnfast.Architecture([3, 3]), np.eye(5))


def test_invariants_function():
    arch = lcnfast.Architecture([2, 3, 1])
    theta = np.array([1.0, 2.0, 0.5, 0.5, 0.5, 3.0])
    np.testing.assert_allclose(lcnfast.invariants(arch, theta), [0.75 - 5.0, 9.0 - 0.75])
    assert lcnfast.invariants(arch, np.tile(theta, (4, 1))).shape == (4, 2)


@pytest.mark.parametrize("method", ["gd", "flow"])
def test_one_learning_rate_per_run(method):
    """``lr`` of shape (B,): each run equals, bit for bit, the same run trained alone with its
    step; and on raw data its GD trajectory is the numpy reference's with that step."""
    arch = lcnfast.Architecture([3, 2, 2], d0=14)
    rng = np.random.default_rng(11)
    X, Y = _data(arch, rng)
    loss = SquaredLoss.from_data(arch, X, Y)
    theta0 = 0.6 * rng.standard_normal((6, arch.n_params))
    lrs = np.array([0.02, 0.005, 0.02, 0.01, 0.005, 0.03])
    together = lcnfast.train(arch, loss, theta0, lr=lrs, steps=120, tol=0.0, method=method, record_every=20,
                             progress=lambda done, total: None)
    np.testing.assert_array_equal(together.lr, lrs)
    for run in range(6):
        alone = lcnfast.train(arch, loss, theta0[run], lr=float(lrs[run]), steps=120, tol=0.0, method=method,
                              record_every=20)
        for field in ("theta", "v", "loss", "grad_norm", "steps"):
            np.testing.assert_array_equal(getattr(together, field)[run], getattr(alone, field)[0])
        np.testing.assert_array_equal(together.trajectory.loss[run], alone.trajectory.loss[0])
    if method == "gd":
        losses, _, _ = ref.gd_on_raw_data(arch.split(theta0[1]), [3, 2, 2], [1, 1, 1], 14, False, X, Y, 0.005, 120)
        np.testing.assert_allclose(together.trajectory.loss[1], losses[::20], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"lr: expected one number or one per run \(6,\)"):
        lcnfast.train(arch, loss, theta0, lr=np.ones(5))
    with pytest.raises(ValueError, match="lr: every step must be positive"):
        lcnfast.train(arch, loss, theta0, lr=np.array([0.1, 0.1, 0.0, 0.1, 0.1, 0.1]))


def test_the_training_boundary_is_typed():
    """``_core.train`` takes a ``TrainOptions`` with named, typed fields and returns a
    ``TrainOutput`` whose attributes are the stub's (no positional 17-argument call, no dict)."""
    from lcnfast import _core

    options = _core.TrainOptions(method="flow", lr=0.1, steps=20, record_every=5, threads=1)
    assert (options.method, options.lr, options.steps, options.record_every, options.specialised) == \
        ("flow", 0.1, 20, 5, True)
    with pytest.raises(TypeError):
        _core.TrainOptions("gd", 0.1)  # keyword-only
    with pytest.raises(TypeError):
        options.steps = "many"
    arch = lcnfast.Architecture([2, 2])
    loss = lcnfast.QuadraticLoss(np.eye(3), [1.0, 3.0, 2.0])
    out = _core.train(arch.plan, np.full((3, 4), 0.5), loss.G, loss.b, loss.c, _core.TrainOptions(steps=5))
    assert out.theta.shape == (3, 4) and out.status.dtype == np.int32 and out.steps.dtype == np.int64
    assert out.rec_v is None
    with pytest.raises(ValueError, match="method: expected 'gd' or 'flow'"):
        _core.train(arch.plan, np.ones((1, 4)), loss.G, loss.b, loss.c, _core.TrainOptions(method="adam"))
    with pytest.raises(ValueError, match="theta0: contains NaN or infinity"):
        _core.train(arch.plan, np.full((1, 4), np.nan), loss.G, loss.b, loss.c, _core.TrainOptions())


def test_polish_that_reaches_no_run_keeps_the_result():
    """Issue 29: with no run polishable (a loss scaled to 1e-200 / 1e100), train(polish=True)
    raised "theta: is empty" (a name the caller never passed) and lost every run."""
    arch = lcnfast.Architecture([3, 3])
    loss = lcnfast.QuadraticLoss(1e-200 * np.eye(5), 1e100 * np.ones(5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        plain = lcnfast.train(arch, loss, batch=4, steps=100, seed=3)
        result = lcnfast.train(arch, loss, batch=4, steps=100, seed=3, polish=True)
    assert result.theta.shape == plain.theta.shape and not result.polished.any()
    np.testing.assert_array_equal(result.theta, plain.theta)
    np.testing.assert_array_equal(result.status, plain.status)
