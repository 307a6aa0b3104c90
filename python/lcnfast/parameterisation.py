"""The parameterisation map ``mu``: layer filters to the end-to-end filter, batched.

``mu(theta) = w_1(x) w_2(x^{S_2}) ... w_L(x^{S_L})`` (DESIGN.md 2.2), reduced modulo
``x^{d0} - 1`` for circular layers, bivariate in 2D. The products, their adjoint and the
Jacobian run in C++ across the batch (SIMD over samples, threads over chunks of samples);
results do not depend on ``threads``. Long calls release the GIL and stop on Ctrl-C.
"""

from __future__ import annotations


import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_real_array, resolve_threads
from .architecture import Architecture, require_architecture

__all__ = ["end_to_end", "vjp", "jacobian"]


def _theta_rows(arch: Architecture, theta: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    """theta as (B, P) and whether the caller passed a single (P,) vector."""
    array = as_real_array(theta, "theta", check_finite=False)  # checked in C++
    P = arch.n_params
    if array.ndim == 1 and array.shape[0] == P:
        return array.reshape(1, P), True
    if array.ndim == 2 and array.shape[1] == P:
        return array, False
    raise ValueError(f"theta: expected shape ({P},) or (B, {P}) for {arch!r}, got {array.shape}")


def end_to_end(arch: Architecture, theta: ArrayLike, *, threads: int | None = None,
               out: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """End-to-end filter ``v = mu(theta)``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (B, P)
        Layer filters concatenated (2D filters row-major), ``P = arch.n_params``.
    threads : int, optional
        Worker threads (default: ``LCNFAST_NUM_THREADS`` or all hardware threads).
    out : ndarray, optional
        Preallocated C-contiguous float64 result of the shape below.

    Returns
    -------
    ndarray
        ``arch.filter_shape`` for a single ``theta``, else ``(B, *arch.filter_shape)``:
        ``(k,)``/``(B, k)`` in 1D, ``(K, K')``/``(B, K, K')`` in 2D.
    """
    arch = require_architecture(arch)
    rows, single = _theta_rows(arch, theta)
    n_threads = resolve_threads(threads)
    shape = (arch.filter_shape if single else (rows.shape[0],) + arch.filter_shape)
    out_2d = None
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out: expected a numpy array, got {type(out).__name__}")
        if out.dtype != np.float64 or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out: must be a writeable C-contiguous float64 array")
        if out.shape != shape:
            raise ValueError(f"out: expected shape {shape}, got {out.shape}")
        if np.may_share_memory(out, rows):
            raise ValueError("out: overlaps theta; the kernel reads theta while it writes out")
        out_2d = out.reshape(rows.shape[0], -1)
    v = arch._plan.end_to_end(rows, n_threads, out_2d)
    return out if out is not None else v.reshape(shape)


def vjp(arch: Architecture, theta: ArrayLike, g: ArrayLike, *, threads: int | None = None) -> NDArray[np.float64]:
    """Vector-Jacobian product: the gradient of ``<g, mu(theta)>`` with respect to ``theta``.

    This is the exact adjoint of the product (correlations with prefix products), which
    training uses to pull a function-space gradient back to the layers.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (B, P)
    g : array_like, shape ``arch.filter_shape`` or ``(B, *arch.filter_shape)``
        Cotangent, batched exactly like ``theta``.
    threads : int, optional

    Returns
    -------
    ndarray, shape (P,) or (B, P)
    """
    arch = require_architecture(arch)
    rows, single = _theta_rows(arch, theta)
    cot = as_real_array(g, "g", check_finite=False)  # checked in C++
    expected = arch.filter_shape if single else (rows.shape[0],) + arch.filter_shape
    if cot.shape != expected:
        raise ValueError(f"g: expected shape {expected} (like mu(theta)), got {cot.shape}")
    grad = arch._plan.vjp(rows, cot.reshape(rows.shape[0], -1), resolve_threads(threads))
    return grad[0] if single else grad


def jacobian(arch: Architecture, theta: ArrayLike, *, threads: int | None = None) -> NDArray[np.float64]:
    """Jacobian of ``mu`` at ``theta``: ``J[..., p] = d v / d theta_p``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (B, P)
    threads : int, optional

    Returns
    -------
    ndarray
        ``(*arch.filter_shape, P)`` for a single ``theta`` (``(k, P)`` in 1D), else
        ``(B, *arch.filter_shape, P)``.
    """
    arch = require_architecture(arch)
    rows, single = _theta_rows(arch, theta)
    jac = arch._plan.jacobian(rows, resolve_threads(threads))
    shape = arch.filter_shape + (arch.n_params,)
    return jac.reshape(shape) if single else jac.reshape((rows.shape[0],) + shape)
