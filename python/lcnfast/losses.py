"""Losses in function space: quadratic forms in the end-to-end filter.

Because the network's output ``T_v x`` is linear in the end-to-end filter ``v``, the mean
squared error on data is *exactly* a quadratic form (docs/conventions.rst):

    l(v) = (1/N) sum_n ||T_v x_n - y_n||^2 = v^T G v - 2 b^T v + c.

Training never touches the data again after this reduction. Filters are flattened
row-major when they are 2D, so ``G`` is ``(K K') x (K K')``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import as_int, as_real, as_real_array, as_seed, resolve_threads
from .architecture import Architecture, require_architecture

__all__ = ["QuadraticLoss", "SquaredLoss", "require_loss", "teacher_data"]


class QuadraticLoss:
    """The loss ``l(v) = (v - u)^T G (v - u)`` on end-to-end filters.

    Stored in the expanded form ``v^T G v - 2 b^T v + c`` (``b = G u``, ``c = u^T G u``),
    which is also the form of :class:`SquaredLoss`. ``G = I`` is the squared Euclidean
    distance to ``u``.

    Parameters
    ----------
    G : array_like, shape (k, k)
        Symmetric positive semidefinite (checked; tiny asymmetry from rounding is removed).
    u : array_like, shape ``filter_shape``
        The target filter: ``(k,)`` in 1D, ``(K, K')`` in 2D (then ``k = K K'``).
    """

    def __init__(self, G: ArrayLike, u: ArrayLike) -> None:
        target = as_real_array(u, "u")
        if target.ndim not in (1, 2):
            raise ValueError(f"u: expected a filter of shape (k,) or (K, K'), got shape {target.shape}")
        matrix = _check_gram(G, target.size)
        flat = target.ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            b = matrix @ flat
            c = float(flat @ b)
        if not (np.all(np.isfinite(b)) and np.isfinite(c)):
            raise ValueError("G, u: the loss's coefficients G u and u^T G u overflow float64; rescale the loss")
        self._set(matrix, b, c, target.shape)

    @classmethod
    def from_coefficients(cls, G: ArrayLike, b: ArrayLike, c: float,
                          filter_shape: tuple[int, ...] | None = None) -> QuadraticLoss:
        """The loss ``v^T G v - 2 b^T v + c`` from its coefficients.

        ``filter_shape`` is the shape of ``v`` (default ``(k,)``).
        """
        vector = as_real_array(b, "b")
        if vector.ndim != 1:
            raise ValueError(f"b: expected a vector, got shape {vector.shape}")
        matrix = _check_gram(G, vector.size)
        if filter_shape is None:
            shape: tuple[int, ...] = (vector.size,)
        else:
            if isinstance(filter_shape, (str, bytes)) or not isinstance(filter_shape, (tuple, list)):
                raise TypeError(f"filter_shape: expected a tuple of ints, got {type(filter_shape).__name__}")
            shape = tuple(as_int(x, "filter_shape", minimum=1) for x in filter_shape)
            if len(shape) not in (1, 2):
                raise ValueError(f"filter_shape: expected (k,) or (K, K'), got {shape}")
        if int(np.prod(shape)) != vector.size:
            raise ValueError(f"filter_shape: {shape} does not hold {vector.size} entries")
        constant = as_real(c, "c")
        loss = cls.__new__(cls)
        loss._set(matrix, vector.copy(), constant, shape)
        return loss

    def _set(self, G: NDArray[np.float64], b: NDArray[np.float64], c: float, shape: tuple[int, ...]) -> None:
        self._G = G
        self._b = b
        self._c = c
        self._shape = shape
        for array in (self._G, self._b):
            array.setflags(write=False)

    @property
    def G(self) -> NDArray[np.float64]:
        """The matrix of the quadratic form, ``(k, k)`` (read-only)."""
        return self._G

    @property
    def b(self) -> NDArray[np.float64]:
        """The linear coefficients, ``(k,)`` (read-only)."""
        return self._b

    @property
    def c(self) -> float:
        """The constant term."""
        return self._c

    @property
    def filter_shape(self) -> tuple[int, ...]:
        """Shape of the end-to-end filters this loss takes."""
        return self._shape

    def _rows(self, v: ArrayLike) -> tuple[NDArray[np.float64], bool]:
        array = as_real_array(v, "v")
        if array.shape == self._shape:
            return array.reshape(1, -1), True
        if array.ndim == len(self._shape) + 1 and array.shape[1:] == self._shape:
            return array.reshape(array.shape[0], -1), False
        raise ValueError(f"v: expected shape {self._shape} or (B, *{self._shape}), got {array.shape}")

    def value(self, v: ArrayLike) -> Any:
        """``l(v)``: a float for one filter, ``(B,)`` for a batch."""
        rows, single = self._rows(v)
        values = np.einsum("bi,bi->b", rows @ self._G, rows) - 2.0 * rows @ self._b + self._c
        return float(values[0]) if single else values

    def grad(self, v: ArrayLike) -> NDArray[np.float64]:
        """``grad l(v) = 2 (G v - b)``, shaped like ``v``."""
        rows, single = self._rows(v)
        g = 2.0 * (rows @ self._G - self._b)
        return g.reshape(self._shape) if single else g.reshape((rows.shape[0],) + self._shape)

    def minimizer(self) -> NDArray[np.float64]:
        """The unconstrained optimum ``argmin_v l(v)`` (minimum-norm least squares when
        ``G`` is singular), shaped ``filter_shape``."""
        solution, *_ = np.linalg.lstsq(self._G, self._b, rcond=None)
        return np.asarray(solution.reshape(self._shape), dtype=np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self._b.size}, filter_shape={self._shape})"


def require_loss(arch: Architecture, loss: Any) -> QuadraticLoss:
    """``loss`` if it is a :class:`QuadraticLoss` on the architecture's filters; else
    ``TypeError``/``ValueError`` naming ``loss``."""
    if not isinstance(loss, QuadraticLoss):
        raise TypeError(f"loss: expected an lcnfast.QuadraticLoss or SquaredLoss, got {type(loss).__name__}")
    if loss.filter_shape != arch.filter_shape:
        raise ValueError(f"loss: its filters have shape {loss.filter_shape}, the architecture's have "
                         f"{arch.filter_shape}")
    return loss


def _check_gram(G: ArrayLike, k: int) -> NDArray[np.float64]:
    matrix = as_real_array(G, "G")
    if matrix.shape != (k, k):
        raise ValueError(f"G: expected shape ({k}, {k}), got {matrix.shape}")
    scale = float(np.abs(matrix).max()) if matrix.size else 0.0
    if not np.allclose(matrix, matrix.T, rtol=1e-10, atol=1e-12 * max(scale, 1.0)):
        raise ValueError("G: must be symmetric")
    matrix = 0.5 * matrix + 0.5 * matrix.T  # (matrix + matrix.T) overflows for entries near 1e308
    # the eigenvalues of G / scale (LAPACK does not converge on entries near the overflow limit)
    if k and scale > 0 and float(np.linalg.eigvalsh(matrix / scale)[0]) < -1e-10:
        raise ValueError("G: must be positive semidefinite")
    return np.ascontiguousarray(matrix)


def _pair(value: Any) -> tuple[int, int]:
    """An int (1D) as (value, 1), a pair (2D) as itself."""
    if isinstance(value, tuple):
        return (int(value[0]), int(value[1]))
    return (int(value), 1)


def _patch_map(arch: Architecture, d0: Any) -> tuple[_core.PatchMap, list[Any]]:
    """The C++ map from data to patches of the end-to-end convolution, and the widths."""
    widths = arch.widths(d0)
    filter_shape = arch.filter_shape if arch.ndim == 2 else (arch.filter_shape[0], 1)
    patches = _core.PatchMap(_pair(widths[0]), _pair(widths[-1]), _pair(filter_shape), _pair(arch.stride),
                             arch.is_circular)
    return patches, widths


def _data_arrays(arch: Architecture, X: ArrayLike, Y: ArrayLike | None,
                 d0: Any) -> tuple[Any, NDArray[np.float64], NDArray[np.float64] | None, list[Any]]:
    data = as_real_array(X, "X")
    if data.ndim != arch.ndim + 1:
        raise ValueError(f"X: expected shape (N, {'H, W' if arch.ndim == 2 else 'd0'}) for a {arch.ndim}D "
                         f"architecture, got {data.shape}")
    width = d0 if d0 is not None else (data.shape[1] if arch.ndim == 1 else tuple(data.shape[1:]))
    if arch.d0 is not None and d0 is None and width != arch.d0:
        raise ValueError(f"X: its width {width} differs from the architecture's d0 = {arch.d0}")
    pm, widths = _patch_map(arch, width)
    data_in = widths[0] if arch.ndim == 2 else (widths[0],)
    if tuple(data.shape[1:]) != tuple(data_in):
        raise ValueError(f"X: expected samples of shape {tuple(data_in)}, got {data.shape[1:]}")
    targets = None
    if Y is not None:
        targets = as_real_array(Y, "Y")
        out = widths[-1] if arch.ndim == 2 else (widths[-1],)
        if targets.shape != (data.shape[0],) + tuple(out):
            raise ValueError(f"Y: expected shape {(data.shape[0],) + tuple(out)} (N, d_L), got {targets.shape}")
    return pm, data, targets, widths


class SquaredLoss(QuadraticLoss):
    """The mean squared error of an LCN on data, reduced exactly to a quadratic form.

    Build it with :meth:`from_data`; ``G``, ``b``, ``c`` then satisfy
    ``(1/N) sum_n ||T_v x_n - y_n||^2 = v^T G v - 2 b^T v + c`` for every filter ``v``.
    """

    arch: Architecture
    n_samples: int

    @classmethod
    def from_data(cls, arch: Architecture, X: ArrayLike, Y: ArrayLike, *,
                  threads: int | None = None) -> SquaredLoss:
        """Reduce data to the quadratic form, in C++ (``O(N d_L k^2)``).

        Parameters
        ----------
        arch : Architecture
        X : array_like, shape (N, d0) or, in 2D, (N, H, W)
            Inputs, samples in rows.
        Y : array_like, shape (N, d_L) or (N, h, w)
            Targets, with ``d_L = arch.widths(d0)[-1]``.
        threads : int, optional
        """
        require_architecture(arch)
        if Y is None:
            raise TypeError("Y: expected the targets (an array), got None")
        pm, data, targets, _ = _data_arrays(arch, X, Y, None)
        if targets is None:  # pragma: no cover - _data_arrays returns targets when Y is given
            raise TypeError("Y: expected the targets (an array), got None")
        N = data.shape[0]
        G, b, c = pm.gram(data.reshape(N, -1), targets.reshape(N, -1), resolve_threads(threads))
        loss = cls.__new__(cls)
        loss._set(np.asarray(G), np.asarray(b), float(c), arch.filter_shape)
        loss.arch = arch
        loss.n_samples = int(N)
        return loss


def teacher_data(arch: Architecture, v_star: ArrayLike, N: int, noise: float = 0.0, seed: Any = 0, *,
                 d0: Any = None, threads: int | None = None, rng: Any = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gaussian inputs and teacher targets ``y = T_{v*} x + noise * eps``.

    Parameters
    ----------
    arch : Architecture
        Its ``d0`` (or the ``d0`` argument) fixes the input width.
    v_star : array_like, shape ``arch.filter_shape``
        The teacher's end-to-end filter (any filter, representable or not).
    N : int
        Number of samples.
    noise : float
        Standard deviation of the Gaussian noise added to the targets.
    seed : int, numpy.random.Generator or None
        Seed of ``numpy.random.default_rng``: same seed, same data (a Generator is drawn
        from; None: fresh entropy, not reproducible).
    rng : int or numpy.random.Generator, optional
        The same as ``seed``, under the name SPEC 7 recommends (give one of the two).

    Returns
    -------
    X : ndarray, shape (N, d0) (2D: (N, H, W))
    Y : ndarray, shape (N, d_L) (2D: (N, h, w))
    """
    require_architecture(arch)
    n = as_int(N, "N", minimum=1)
    sigma = as_real(noise, "noise", nonnegative=True)
    width = d0 if d0 is not None else arch.d0
    if width is None:
        raise ValueError("d0: the architecture has no input width; pass d0")
    teacher = as_real_array(v_star, "v_star")
    if teacher.shape != arch.filter_shape:
        raise ValueError(f"v_star: expected shape {arch.filter_shape}, got {teacher.shape}")
    pm, widths = _patch_map(arch, width)
    rng = np.random.default_rng(as_seed(seed, rng=rng))
    in_shape = tuple(widths[0]) if arch.ndim == 2 else (widths[0],)
    out_shape = tuple(widths[-1]) if arch.ndim == 2 else (widths[-1],)
    X = rng.standard_normal((n,) + in_shape)
    Y = np.asarray(pm.apply(X.reshape(n, -1), teacher.ravel(), resolve_threads(threads))).reshape((n,) + out_shape)
    if sigma > 0:
        Y = Y + sigma * rng.standard_normal(Y.shape)
    return X, Y
