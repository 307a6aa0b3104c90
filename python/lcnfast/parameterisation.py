"""The parameterisation map ``mu``: layer filters to the end-to-end filter, batched.

``mu(theta) = w_1(x) w_2(x^{S_2}) ... w_L(x^{S_L})`` (docs/conventions.rst), reduced modulo
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


def theta_rows(arch: Architecture, theta: ArrayLike) -> tuple[NDArray[np.float64], tuple[int, ...]]:
    """theta as rows (B, P) and its batch shape (``()`` for one vector): any ``(..., P)``."""
    array = as_real_array(theta, "theta", check_finite=False)  # checked in C++
    P = arch.n_params
    if array.ndim == 0 or array.shape[-1] != P:
        raise ValueError(f"theta: expected shape ({P},) or a batch (..., {P}) for {arch!r}, got {array.shape}")
    return array.reshape(-1, P), tuple(array.shape[:-1])


def end_to_end(arch: Architecture, theta: ArrayLike, *, threads: int | None = None,
               out: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """End-to-end filter ``v = mu(theta)``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (..., P)
        Layer filters concatenated (2D filters row-major), ``P = arch.n_params``; any
        leading batch shape.
    threads : int, optional
        Worker threads (default: ``LCNFAST_NUM_THREADS`` or all hardware threads).
    out : ndarray, optional
        Preallocated C-contiguous float64 result of the shape below.

    Returns
    -------
    ndarray
        ``(..., *arch.filter_shape)``: ``(k,)`` for one ``theta`` in 1D, ``(B, k)`` for a
        batch ``(B, P)``, ``(B, K, K')`` in 2D.
    """
    arch = require_architecture(arch)
    rows, lead = theta_rows(arch, theta)
    n_threads = resolve_threads(threads)
    shape = lead + arch.filter_shape
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
    v = arch.plan.end_to_end(rows, n_threads, out_2d)
    return out if out is not None else v.reshape(shape)


def vjp(arch: Architecture, theta: ArrayLike, g: ArrayLike, *, threads: int | None = None) -> NDArray[np.float64]:
    """Vector-Jacobian product: the gradient of ``<g, mu(theta)>`` with respect to ``theta``.

    This is the exact adjoint of the product (correlations with prefix products), which
    training uses to pull a function-space gradient back to the layers.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (..., P)
    g : array_like, shape ``arch.filter_shape`` or ``(..., *arch.filter_shape)``
        Cotangent. Its batch shape broadcasts with ``theta``'s (numpy rules): one cotangent
        for a batch of parameters, or several cotangents at one point.
    threads : int, optional

    Returns
    -------
    ndarray, shape (..., P)
        The broadcast batch shape, then ``P``.

    Examples
    --------
    >>> import numpy as np, lcnfast
    >>> arch = lcnfast.Architecture([2, 2])
    >>> lcnfast.vjp(arch, np.ones((3, 4)), [1.0, 0.0, 0.0]).shape   # one cotangent, three points
    (3, 4)
    """
    arch = require_architecture(arch)
    rows, theta_lead = theta_rows(arch, theta)
    cot = as_real_array(g, "g", check_finite=False)  # checked in C++
    F = arch.filter_shape
    if cot.ndim < len(F) or tuple(cot.shape[cot.ndim - len(F):]) != F:
        raise ValueError(f"g: expected shape {F} or a batch (..., {', '.join(map(str, F))}) like mu(theta), "
                         f"got {cot.shape}")
    g_lead = tuple(cot.shape[:cot.ndim - len(F)])
    try:
        lead = tuple(np.broadcast_shapes(theta_lead, g_lead))
    except ValueError:
        raise ValueError(f"g: its batch shape {g_lead} does not broadcast with theta's {theta_lead}") from None
    P = arch.n_params
    if theta_lead != lead:
        rows = np.ascontiguousarray(np.broadcast_to(rows.reshape(theta_lead + (P,)), lead + (P,))).reshape(-1, P)
    size = int(np.prod(F))
    cot_rows = np.ascontiguousarray(np.broadcast_to(cot, lead + F)).reshape(-1, size)
    grad = arch.plan.vjp(rows, cot_rows, resolve_threads(threads))
    return grad.reshape(lead + (P,))


def jacobian(arch: Architecture, theta: ArrayLike, *, threads: int | None = None) -> NDArray[np.float64]:
    """Jacobian of ``mu`` at ``theta``: ``J[..., p] = d v / d theta_p``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,) or (..., P)
    threads : int, optional

    Returns
    -------
    ndarray
        ``(..., *arch.filter_shape, P)``: ``(k, P)`` for one ``theta`` in 1D.
    """
    arch = require_architecture(arch)
    rows, lead = theta_rows(arch, theta)
    jac = arch.plan.jacobian(rows, resolve_threads(threads))
    return jac.reshape(lead + arch.filter_shape + (arch.n_params,))
