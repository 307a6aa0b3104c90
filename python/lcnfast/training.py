"""Training many LCNs at once: gradient descent and gradient flow on the exact loss.

The loss of an LCN is ``L(theta) = l(mu(theta))`` with ``l`` quadratic (docs/conventions.rst), so
each step costs one product of the layer filters, one ``k x k`` matrix-vector product and
the exact adjoint of the product, independent of the data size. The C++ engine advances
all runs together, vectorised across runs and split over threads in fixed chunks; runs
are independent, so the results are bitwise identical for any thread count.

Along gradient flow the invariants ``delta_l = ||w_{l+1}||^2 - ||w_l||^2`` are constant;
a GD step of size ``lr`` changes them by exactly ``lr^2 (||g_{l+1}||^2 - ||g_l||^2)``
(docs/conventions.rst). Both are tracked for every run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _saving
from ._newton import gradients, hessians, newton_polish
from ._progress import Progress, ProgressBar
from ._validation import INT64_MAX, as_int, as_real, as_real_array, as_seed, check_memory, resolve_threads
from .architecture import Architecture, require_architecture
from .losses import QuadraticLoss, require_loss
from .parameterisation import end_to_end

_log = logging.getLogger(__name__)

__all__ = ["STATUSES", "Invariants", "TrainResult", "Trajectory", "auto_lr", "auto_tol", "balance", "invariants", "train"]

#: Status names, indexed by the engine's status codes.
STATUSES = ("converged", "max_steps", "diverged")



def _layer_norms(arch: Architecture, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``||w_l||^2`` for each layer: (..., L)."""
    return np.stack([np.square(w.reshape(w.shape[: theta.ndim - 1] + (-1,))).sum(axis=-1)
                     for w in arch.split(theta)], axis=-1)


def invariants(arch: Architecture, theta: ArrayLike) -> NDArray[np.float64]:
    """The gradient-flow invariants ``delta_l = ||w_{l+1}||^2 - ||w_l||^2``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (..., P)

    Returns
    -------
    ndarray, shape (..., L-1)
    """
    arch = require_architecture(arch)
    params = as_real_array(theta, "theta")
    if params.ndim == 0 or params.shape[-1] != arch.n_params:
        raise ValueError(f"theta: expected shape ({arch.n_params},) or (..., {arch.n_params}), got {params.shape}")
    return np.diff(_layer_norms(arch, params), axis=-1)


@dataclass(frozen=True)
class Invariants:
    """The invariants ``delta_l`` of each run, each array ``(B, L-1)``.

    Attributes
    ----------
    initial, final : ndarray
        At the start and at the end.
    max_drift : ndarray
        ``max_t |delta_l(t) - delta_l(0)|`` over the steps taken.
    predicted_drift : ndarray or None
        GD only: ``sum_t lr^2 (||g_{l+1}||^2 - ||g_l||^2)``, which ``final - initial`` equals
        exactly in exact arithmetic. None for gradient flow (where the drift is zero).
    """

    initial: NDArray[np.float64]
    final: NDArray[np.float64]
    max_drift: NDArray[np.float64]
    predicted_drift: NDArray[np.float64] | None

    @property
    def drift(self) -> NDArray[np.float64]:
        """``final - initial``."""
        return self.final - self.initial

    def __repr__(self) -> str:
        with np.errstate(all="ignore"):
            drift = float(np.max(np.abs(self.drift), initial=0.0)) if self.final.shape == self.initial.shape else np.nan
        predicted = "None" if self.predicted_drift is None else str(self.predicted_drift.shape)
        return (f"Invariants(shape={self.initial.shape}, max |final - initial|={drift:.3g}, "
                f"predicted_drift={predicted})")


@dataclass(frozen=True)
class Trajectory:
    """States recorded every ``record_every`` steps (accepted steps for the flow).

    Runs that stop early repeat their last state in the remaining records.

    Attributes
    ----------
    t : ndarray, shape (B, R)
        Step number (GD) or time (flow) of each record.
    v : ndarray, shape (B, R) + filter_shape
    loss : ndarray, shape (B, R)
    invariants : ndarray, shape (B, R, L-1)
    """

    t: NDArray[np.float64]
    v: NDArray[np.float64]
    loss: NDArray[np.float64]
    invariants: NDArray[np.float64]

    def __repr__(self) -> str:
        runs, records = (self.t.shape + (0, 0))[:2]
        span = f", t from {float(np.min(self.t)):.4g} to {float(np.max(self.t)):.4g}" if self.t.size else ""
        return f"Trajectory(runs={runs}, records={records}, v={self.v.shape}{span})"


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns; arrays have one row per run.

    Attributes
    ----------
    arch : Architecture
    method : {"gd", "flow"}
    theta : ndarray, shape (B, P)
        Final parameters.
    v : ndarray, shape (B,) + filter_shape
        Final end-to-end filters.
    loss, grad_norm : ndarray, shape (B,)
        Loss and ``||grad L||`` at the final parameters.
    status : ndarray of str, shape (B,)
        ``"converged"`` (gradient norm ``<= tol``), ``"max_steps"`` (budget or time horizon
        used up) or ``"diverged"`` (non-finite values or loss blow-up; the run stopped at its
        last finite parameters).
    steps : ndarray of int, shape (B,)
        GD steps taken, or accepted Runge-Kutta steps.
    invariants : Invariants
    trajectory : Trajectory or None
        When ``record_every > 0``.
    lr : ndarray, shape (B,)
        The step size each run used (smaller than asked for the runs that diverged and were
        retried).
    tol : float
        The gradient tolerance that defines "converged".
    polished : ndarray of bool, shape (B,)
        Runs brought to ``tol`` by the Newton polish (``train(..., polish=True)``).
    provenance : dict or None
        Where a result loaded by :meth:`load` came from (:func:`lcnfast.provenance`
        when it was first saved); None for a result computed in this session. Not compared.
    """

    arch: Architecture
    method: str
    theta: NDArray[np.float64]
    v: NDArray[np.float64]
    loss: NDArray[np.float64]
    grad_norm: NDArray[np.float64]
    status: NDArray[np.str_]
    steps: NDArray[np.int64]
    invariants: Invariants
    trajectory: Trajectory | None
    lr: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    tol: float = 0.0
    polished: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    provenance: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def converged(self) -> NDArray[np.bool_]:
        """Mask of the runs that converged."""
        return np.asarray(self.status == "converged")

    def counts(self) -> dict[str, int]:
        """Number of runs per status."""
        return {name: int(np.count_nonzero(self.status == name)) for name in STATUSES}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        steps = f", steps<={int(np.max(self.steps))}" if self.steps.size else ""
        polished = f", polished={int(np.count_nonzero(self.polished))}" if np.any(self.polished) else ""
        trajectory = "" if self.trajectory is None else f", records={(self.trajectory.t.shape + (0, 0))[1]}"
        return (f"TrainResult({self.arch!r}, method={self.method!r}, runs={len(self.loss)}{steps}, "
                f"{counts}{polished}{trajectory})")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the result to one ``.npz`` file (arrays, fields and provenance; no pickle).

        Every array is an entry of the archive (``theta``, ``invariants.initial``,
        ``trajectory.v``, ...); the architecture, the scalar fields and
        :func:`lcnfast.provenance` (kept from the file for a loaded result) are
        JSON metadata. The file is written atomically, exactly at ``path``.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write (the folder must exist; a file or link already there is replaced).

        Returns
        -------
        pathlib.Path
            The file written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> import lcnfast
        >>> arch = lcnfast.Architecture([2, 2])
        >>> result = lcnfast.train(arch, lcnfast.QuadraticLoss(np.eye(3), [1.0, 3.0, 2.0]), batch=4, seed=0)
        >>> path = result.save(pathlib.Path(tempfile.mkdtemp()) / "runs.npz")
        >>> again = lcnfast.TrainResult.load(path)
        >>> np.array_equal(again.theta, result.theta), again.counts() == result.counts()
        (True, True)
        """
        return _saving.save_dataclass(self, path, (Invariants, Trajectory))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainResult:
        """Load a result saved by :meth:`save`, field for field (arrays bit for bit, dtypes
        kept); its :attr:`provenance` says where it came from.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        TrainResult

        Raises
        ------
        ValueError
            Naming ``path``: not an lcnfast file, a file of another class, or of a newer
            format version.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> import lcnfast
        >>> arch = lcnfast.Architecture([3, 2])
        >>> loss = lcnfast.QuadraticLoss(np.eye(4), [1.0, 0.0, 2.0, 1.0])
        >>> result = lcnfast.train(arch, loss, batch=2, steps=100, record_every=50, seed=0)
        >>> loaded = lcnfast.TrainResult.load(result.save(pathlib.Path(tempfile.mkdtemp()) / "runs.npz"))
        >>> loaded.trajectory.v.shape, loaded.provenance["lcnfast"] == lcnfast.__version__
        ((2, 3, 4), True)
        """
        return _saving.load_dataclass(cls, path, (Invariants, Trajectory))


def _initial_parameters(arch: Architecture, theta0: ArrayLike | None, batch: int | None, init: str,
                        scale: float, seed: int) -> NDArray[np.float64]:
    if init not in ("gaussian", "balanced"):
        raise ValueError(f"init: expected 'gaussian' or 'balanced', got {init!r}")
    P = arch.n_params
    if theta0 is None:
        B = 1 if batch is None else as_int(batch, "batch", minimum=1)
        # the engine keeps about a dozen numbers per parameter and per output entry of each run
        check_memory(8.0 * B * (12 * P + 8 * int(np.prod(arch.filter_shape)) + 16), f"batch: {B} runs")
        rng = np.random.default_rng(as_seed(seed))
        # each filter gets expected squared norm scale^2
        stds = np.concatenate([np.full(int(np.prod(shape)), scale / np.sqrt(np.prod(shape)))
                               for shape in arch.layer_shapes])
        theta = rng.standard_normal((B, P)) * stds
    else:
        theta = as_real_array(theta0, "theta0")
        if theta.ndim == 1 and theta.shape[0] == P:
            theta = np.repeat(theta[None, :], 1 if batch is None else as_int(batch, "batch", minimum=1), axis=0)
        elif not (theta.ndim == 2 and theta.shape[1] == P):
            raise ValueError(f"theta0: expected shape ({P},) or (B, {P}), got {theta.shape}")
        elif batch is not None and as_int(batch, "batch", minimum=1) != theta.shape[0]:
            raise ValueError(f"batch: {batch} differs from the {theta.shape[0]} rows of theta0")
    if init == "balanced":
        theta = balance(arch, theta)
    return np.ascontiguousarray(theta, dtype=np.float64)


def balance(arch: Architecture, theta: ArrayLike) -> NDArray[np.float64]:
    """Rescale each run's filters to equal norms without changing its end-to-end filter.

    ``w_l <- w_l * R / ||w_l||`` with ``R = (prod_l ||w_l||)^(1/L)``: the scale factors
    multiply to one. Runs with a zero filter are returned unchanged. Shape ``(P,)`` or
    ``(B, P)``, like ``theta``.
    """
    arch = require_architecture(arch)
    params = as_real_array(theta, "theta")
    single = params.ndim == 1
    rows = np.atleast_2d(params)
    if rows.ndim != 2 or rows.shape[1] != arch.n_params:
        raise ValueError(f"theta: expected shape ({arch.n_params},) or (B, {arch.n_params}), got {params.shape}")
    norms = np.sqrt(_layer_norms(arch, rows))  # (B, L)
    ok = np.all(norms > 0, axis=1)
    target = np.exp(np.mean(np.log(np.where(ok[:, None], norms, 1.0)), axis=1))  # geometric mean
    factors = np.where(ok[:, None], target[:, None] / np.where(ok[:, None], norms, 1.0), 1.0)
    sizes = [int(np.prod(shape)) for shape in arch.layer_shapes]
    out: NDArray[np.float64] = rows * np.repeat(factors, sizes, axis=1)
    return out[0] if single else out


@dataclass
class _Runs:
    """The engine's output for a batch of runs (``_core.TrainOutput``), typed, so that runs
    trained in several calls (one per distinct step; retries of diverged runs) can be merged
    into one batch before they become a :class:`TrainResult`. The recorded fields are None
    without ``record_every``."""

    theta: NDArray[np.float64]
    v: NDArray[np.float64]
    loss: NDArray[np.float64]
    grad_norm: NDArray[np.float64]
    status: NDArray[np.int32]
    steps: NDArray[np.int64]
    inv_initial: NDArray[np.float64]
    inv_final: NDArray[np.float64]
    inv_max_drift: NDArray[np.float64]
    inv_predicted: NDArray[np.float64]
    rec_t: NDArray[np.float64] | None
    rec_v: NDArray[np.float64] | None
    rec_loss: NDArray[np.float64] | None
    rec_inv: NDArray[np.float64] | None

    @classmethod
    def of(cls, out: _core.TrainOutput) -> _Runs:
        return cls(**{f.name: getattr(out, f.name) for f in fields(cls)})

    @classmethod
    def empty(cls, like: _Runs, n: int) -> _Runs:
        """``n`` runs of ``like``'s shapes and types, to be filled by :meth:`put`."""
        def blank(a: Any) -> Any:
            return None if a is None else np.empty((n,) + np.shape(a)[1:], dtype=np.asarray(a).dtype)
        return cls(**{f.name: blank(getattr(like, f.name)) for f in fields(cls)})

    def put(self, rows: NDArray[np.intp], other: _Runs) -> None:
        """Runs ``rows`` of this batch become the runs of ``other`` (in order)."""
        for f in fields(self):
            mine = getattr(self, f.name)
            if mine is not None:
                mine[rows] = getattr(other, f.name)


def train(arch: Architecture, loss: QuadraticLoss, theta0: ArrayLike | None = None, *,
          batch: int | None = None, init: Literal["gaussian", "balanced"] = "gaussian", scale: float = 1.0,
          lr: float | ArrayLike | Literal["auto"] = "auto", steps: int = 1000, tol: float | Literal["auto"] = "auto",
          method: Literal["gd", "flow"] = "gd", seed: Any = 0, record_every: int = 0, threads: int | None = None,
          rtol: float = 1e-8, atol: float = 1e-10, t_max: float | None = None, blowup: float = 1e10,
          retries: int | None = None, polish: bool = False, progress: Progress = False, rng: Any = None
          ) -> TrainResult:
    """Train many LCNs from many starts on one loss, in C++.

    Parameters
    ----------
    arch : Architecture
    loss : QuadraticLoss
        E.g. ``SquaredLoss.from_data(arch, X, Y)``; its filter shape must be the
        architecture's.
    theta0 : array_like, shape (B, P) or (P,), optional
        Initial parameters. Default: ``batch`` random starts from ``seed``.
    batch : int, optional
        Number of runs (default: the rows of ``theta0``, or 1).
    init : {"gaussian", "balanced"}
        Random start: each layer's filter ``~ N(0, scale^2 / size)`` (expected squared norm
        ``scale^2``); "balanced" then rescales each run's filters to equal norms (same
        end-to-end filter, invariants zero). With ``theta0``, "balanced" balances it.
    scale : float
    lr : float, array_like of shape (B,), or "auto"
        GD step size, one for all runs or one per run (runs sharing a step run together in
        one batched call); for the flow, the first step and (with ``steps``) the default
        horizon.
        "auto" (default): :func:`auto_lr`, half the inverse of the largest curvature of
        ``L`` at the starts and at the scale of the loss's optimum; runs that diverge are
        then retried from their start with the step divided by 4 (see ``retries``), so
        each run gets a step size that works for it (``TrainResult.lr``).
    steps : int
        GD steps; for the flow, the most Runge-Kutta steps attempted.
    tol : float or "auto"
        A run converges when ``||grad L(theta)|| <= tol``. "auto" (default):
        :func:`auto_tol`, ``1e-8`` relative to the scale of the loss
        (``||b|| + lambda_max(G)``).
    retries : int, optional
        How many times a diverged run is restarted with a 4 times smaller step (default 3
        with ``lr="auto"``, 0 with a given ``lr``).
    polish : bool
        After the descent, take the runs that used up their steps the last way to their
        critical point by damped Newton steps on the exact Hessian (:func:`polish_runs`);
        those that reach ``tol`` become "converged" (``TrainResult.polished`` marks them).
        GD converges only polynomially fast to the degenerate critical points on the
        boundary of the function space (where many runs end), Newton linearly.
    method : {"gd", "flow"}
        Gradient descent, or gradient flow ``d theta/dt = -grad L`` integrated by the
        adaptive Dormand-Prince 5(4) method with error control ``rtol``, ``atol``.
    seed : int, numpy.random.Generator or None
        Seed of the random starts: same seed, same numbers, whatever ``threads``; a
        Generator is drawn from; None takes fresh entropy (not reproducible).
    rng : int or numpy.random.Generator, optional
        The same as ``seed``, under the name SPEC 7 recommends (give one of the two).
    record_every : int
        Record ``v``, loss and invariants every that many (accepted) steps; 0: no trajectory.
    threads : int, optional
        Default: ``LCNFAST_NUM_THREADS`` or all cores.
    rtol, atol : float
        Flow only: the local error tolerances.
    t_max : float, optional
        Flow only: integrate up to this time (default ``lr * steps``).
    blowup : float
        A run diverges when its loss exceeds ``blowup`` times its initial loss (or becomes
        NaN/inf); it then stops at its last finite parameters.
    progress : bool or callable
        True: a progress bar (tqdm if installed). A callable gets ``(runs_done, runs)``.

    Returns
    -------
    TrainResult

    Notes
    -----
    The GIL is released while the engine runs; Ctrl-C stops it within about a second and
    raises ``KeyboardInterrupt``.
    """
    arch = require_architecture(arch)
    loss = require_loss(arch, loss)
    if method not in ("gd", "flow"):
        raise ValueError(f"method: expected 'gd' or 'flow', got {method!r}")
    scale_f = as_real(scale, "scale", positive=True)
    n_steps = as_int(steps, "steps", minimum=0, maximum=INT64_MAX)
    every = as_int(record_every, "record_every", minimum=0)
    if not isinstance(polish, (bool, np.bool_)):
        raise TypeError(f"polish: expected a bool, got {type(polish).__name__}")
    theta = _initial_parameters(arch, theta0, batch, init, scale_f, as_seed(seed, rng=rng))
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta0: contains NaN or infinity")
    automatic = isinstance(lr, str)
    if automatic and lr != "auto":
        raise ValueError(f"lr: expected a positive number, one per run, or 'auto', got {lr!r}")
    B = theta.shape[0]
    if every > 0:
        # the trajectories: per run and record, t, the loss, v and the L - 1 invariants
        records = n_steps // every + 1
        per_record = int(np.prod(arch.filter_shape)) + len(arch.layer_shapes) + 1
        check_memory(8.0 * B * records * per_record, f"record_every: {records} records of {B} runs")
    if automatic:
        lrs = np.full(B, auto_lr(arch, loss, theta))
    else:
        steps_given = None if np.ndim(lr) == 0 else as_real_array(lr, "lr")
        if steps_given is None:
            lrs = np.full(B, as_real(lr, "lr", positive=True))
        elif steps_given.shape == (B,):
            if not np.all(steps_given > 0):
                raise ValueError(f"lr: every step must be positive, got {steps_given[steps_given <= 0][:3]}")
            lrs = np.array(steps_given, dtype=np.float64)
        else:
            raise ValueError(f"lr: expected one number or one per run ({B},), got shape {steps_given.shape}")
    lr_f = float(lrs[0])
    if isinstance(tol, str) and tol != "auto":
        raise ValueError(f"tol: expected a number >= 0 or 'auto', got {tol!r}")
    tol_f = auto_tol(loss) if isinstance(tol, str) else as_real(tol, "tol", nonnegative=True)
    n_retries = (3 if automatic else 0) if retries is None else as_int(retries, "retries", minimum=0)
    horizon = lr_f * n_steps if t_max is None else as_real(t_max, "t_max", nonnegative=True)
    n_threads = resolve_threads(threads)
    blowup_f = as_real(blowup, "blowup", positive=True)
    rtol_f, atol_f = as_real(rtol, "rtol", positive=True), as_real(atol, "atol", nonnegative=True)
    bar = ProgressBar(B, progress) if progress else None

    def run_one(start: NDArray[np.float64], step: float, offset: int) -> _Runs:
        options = _core.TrainOptions(method=method, lr=step, steps=n_steps, tol=tol_f, blowup=blowup_f, rtol=rtol_f,
                                     atol=atol_f, t_max=step * n_steps if t_max is None else horizon,
                                     record_every=every, threads=n_threads)
        report = None if bar is None else (lambda done: bar(offset + done))
        return _Runs.of(_core.train(arch.plan, start, loss.G, loss.b, loss.c, options, report))

    def run(start: NDArray[np.float64], steps_of: NDArray[np.float64]) -> _Runs:
        """The runs of ``start`` with their own steps: runs sharing a step go through the
        engine together (one batched call per distinct step, in increasing order)."""
        values = np.unique(steps_of)
        if values.size == 1:
            return run_one(start, float(values[0]), 0)
        merged: _Runs | None = None
        done = 0
        for value in values:
            members = np.flatnonzero(steps_of == value)
            part = run_one(np.ascontiguousarray(start[members]), float(value), done)
            done += members.size
            if merged is None:
                merged = _Runs.empty(part, start.shape[0])
            merged.put(members, part)
        assert merged is not None
        return merged

    try:
        raw = run(theta, lrs)
    finally:
        if bar is not None:
            bar.close()
    for _ in range(n_retries):
        again = np.flatnonzero(raw.status == 2)  # diverged: from the same start, a smaller step
        if again.size == 0:
            break
        lrs[again] /= 4.0
        _log.info("train: %d of %d run(s) diverged; retrying them from their starts with lr = %.3g", again.size, B,
                  float(lrs[again[0]]))
        raw.put(again, run(np.ascontiguousarray(theta[again]), lrs[again]))
    polished = np.zeros(B, dtype=bool)
    if polish:
        todo = np.flatnonzero(raw.status == 1)  # max_steps
        x, ok, _ = newton_polish(arch, loss, raw.theta[todo], tol_f)
        rows = todo[ok]
        if rows.size:  # no run polished: nothing changes (end_to_end refuses an empty batch)
            raw.theta[rows] = x[ok]
            raw.v[rows] = end_to_end(arch, x[ok]).reshape(int(ok.sum()), -1)
            diff = raw.v[rows]
            raw.loss[rows] = np.einsum("bi,ij,bj->b", diff, loss.G, diff) - 2.0 * diff @ loss.b + loss.c
            raw.grad_norm[rows] = np.linalg.norm(gradients(arch, loss, x[ok]), axis=1)
            raw.status[rows] = 0
            raw.inv_final[rows] = invariants(arch, x[ok]).reshape(int(ok.sum()), -1)
            polished[rows] = True
    fshape = arch.filter_shape
    trajectory = None
    if every > 0:
        assert raw.rec_t is not None and raw.rec_v is not None and raw.rec_loss is not None and raw.rec_inv is not None
        R = raw.rec_t.shape[1]
        trajectory = Trajectory(t=raw.rec_t, v=raw.rec_v.reshape((B, R) + fshape), loss=raw.rec_loss,
                                invariants=raw.rec_inv)
    return TrainResult(
        arch=arch,
        method=method,
        theta=raw.theta,
        v=raw.v.reshape((B,) + fshape),
        loss=raw.loss,
        grad_norm=raw.grad_norm,
        status=np.asarray(STATUSES)[raw.status],
        steps=raw.steps.astype(np.int64),
        invariants=Invariants(initial=raw.inv_initial, final=raw.inv_final, max_drift=raw.inv_max_drift,
                              predicted_drift=raw.inv_predicted if method == "gd" else None),
        trajectory=trajectory,
        lr=lrs,
        tol=tol_f,
        polished=polished,
    )


def auto_tol(loss: QuadraticLoss) -> float:
    """The default gradient tolerance of :func:`train`: ``1e-8 (||b|| + lambda_max(G))``,
    relative to the size of the loss ``v^T G v - 2 b^T v + c``."""
    if not isinstance(loss, QuadraticLoss):
        raise TypeError(f"loss: expected an lcnfast.QuadraticLoss or SquaredLoss, got {type(loss).__name__}")
    return 1e-8 * (float(np.linalg.norm(loss.b)) + float(np.linalg.eigvalsh(loss.G)[-1]))


def auto_lr(arch: Architecture, loss: QuadraticLoss, theta: ArrayLike) -> float:
    """The default GD step of :func:`train`: ``0.5 / lambda``, with ``lambda`` the largest
    eigenvalue of the exact Hessian of ``L`` over (up to 256 of) the starts ``theta`` and
    the same starts with every filter rescaled to the norm ``R = ||v*||^(1/L)`` of a
    balanced factorisation of the loss's optimum ``v*`` (the scale the runs grow to).

    GD is stable near a minimum for steps below ``2 / lambda``; the margin covers the
    curvature met on the way. :func:`train` retries the runs that still diverge with
    smaller steps."""
    arch = require_architecture(arch)
    loss = require_loss(arch, loss)
    rows = np.atleast_2d(as_real_array(theta, "theta"))
    if rows.ndim != 2 or rows.shape[1] != arch.n_params:
        raise ValueError(f"theta: expected shape ({arch.n_params},) or (B, {arch.n_params}), got {rows.shape}")
    if rows.shape[0] > 256:
        rows = rows[np.linspace(0, rows.shape[0] - 1, 256).astype(np.int64)]
    target = float(np.linalg.norm(loss.minimizer()))
    R = target ** (1.0 / arch.L) if target > 0 else 0.0
    sizes = [int(np.prod(shape)) for shape in arch.layer_shapes]
    norms = np.sqrt(_layer_norms(arch, rows))
    factors = np.where(norms > 0, np.maximum(norms, R) / np.where(norms > 0, norms, 1.0), 1.0)
    grown = rows * np.repeat(factors, sizes, axis=1)
    with np.errstate(all="ignore"):
        try:
            H = [hessians(arch, loss, x) for x in (rows, grown)]
        except ValueError:  # a non-finite cotangent: the loss overflows at these parameters
            H = [np.full((1, 1, 1), np.inf)]
    if not all(np.all(np.isfinite(h)) for h in H):
        raise ValueError("theta: the loss's curvature overflows float64 at these starts")
    curvature = max(max(float(np.max(np.abs(np.linalg.eigvalsh(h)))) for h in H), 1e-300)
    return 0.5 / curvature
