"""Convolution matrices: the linear maps that the layers and the whole network compute.

``T_w`` (shape ``d_out x d_in``) has ``T_w[i, s*i + j] = w[j]`` (docs/conventions.rst; indices
modulo ``d_in`` for circular layers, where overlapping entries add up). In 2D the matrix
acts on images flattened row-major: entry ``(i*d_out' + i', r*d_in' + c)`` with
``r = s*i + j``, ``c = s'*i' + j'`` holds ``w[j, j']``. For every valid architecture
``T_{w_L} ... T_{w_1} = T_{mu(theta)}`` with the end-to-end stride.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_int, as_real_array, check_memory
from .architecture import Architecture, require_architecture

__all__ = ["conv_matrix", "network_matrix"]


#: widths and strides beyond this cannot index a matrix (the core's sizes are 32-bit)
_MAX_SIZE = 2**31 - 1


def _pair(value: Any, name: str, ndim: int) -> tuple[int, int]:
    if ndim == 2 and isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected a pair for a 2D filter, got {value!r}")
        return (as_int(value[0], name, minimum=1, maximum=_MAX_SIZE), as_int(value[1], name, minimum=1, maximum=_MAX_SIZE))
    n = as_int(value, name, minimum=1, maximum=_MAX_SIZE)
    return (n, n) if ndim == 2 else (n, 1)


def conv_matrix(w: ArrayLike, d_in: Any, stride: Any = 1, circular: bool = False) -> NDArray[np.float64]:
    """Matrix of one convolutional layer.

    Parameters
    ----------
    w : array_like, shape (k,) or (k, k')
        The filter; a 2D filter gives the matrix acting on row-major flattened images.
    d_in : int or (int, int)
        Input width (an int means a square image in 2D).
    stride : int or (int, int)
    circular : bool
        Periodic layer: ``d_out = d_in / stride`` (the stride must divide ``d_in``).

    Returns
    -------
    ndarray, shape (d_out, d_in) or (d_out * d_out', d_in * d_in')
    """
    filt = as_real_array(w, "w")
    if filt.ndim not in (1, 2):
        raise ValueError(f"w: expected a 1D or 2D filter, got shape {filt.shape}")
    if not isinstance(circular, (bool, np.bool_)):
        raise TypeError(f"circular: expected a bool, got {type(circular).__name__}")
    ndim = filt.ndim
    f2 = filt.reshape(filt.shape[0], -1)
    din = _pair(d_in, "d_in", ndim)
    s = _pair(stride, "stride", ndim)
    dout = []
    for a in range(2):
        if circular:
            if din[a] % s[a]:
                raise ValueError(f"stride: {s[a]} does not divide d_in = {din[a]} (circular layer)")
            dout.append(din[a] // s[a])
        else:
            if din[a] < f2.shape[a]:
                raise ValueError(f"d_in: {din[a]} is smaller than the filter size {f2.shape[a]}")
            dout.append((din[a] - f2.shape[a]) // s[a] + 1)
    rows_total = dout[0] * dout[1]
    cols_total = din[0] * din[1]
    if rows_total * cols_total > 2**31:
        raise ValueError(f"d_in: the matrix would have {rows_total * cols_total} entries")
    check_memory(8.0 * rows_total * cols_total + 32.0 * rows_total * f2.size, "d_in: the matrix")
    i = np.arange(dout[0])[:, None, None, None]
    ip = np.arange(dout[1])[None, :, None, None]
    j = np.arange(f2.shape[0])[None, None, :, None]
    jp = np.arange(f2.shape[1])[None, None, None, :]
    r = s[0] * i + j
    c = s[1] * ip + jp
    if circular:
        r, c = r % din[0], c % din[1]
    col_index = r * din[1] + c
    row_index = np.broadcast_to(i * dout[1] + ip, col_index.shape)
    values = np.broadcast_to(f2[None, None, :, :], col_index.shape)
    T = np.zeros((rows_total, cols_total))
    # add.at: a circular filter longer than the input wraps onto the same entry.
    np.add.at(T, (row_index.ravel(), col_index.ravel()), values.ravel())
    return T


def network_matrix(arch: Architecture, theta: ArrayLike, d0: Any = None) -> NDArray[np.float64]:
    """Matrix ``T_{w_L} ... T_{w_1}`` of the whole network at parameters ``theta``.

    Parameters
    ----------
    arch : Architecture
    theta : array_like, shape (P,)
    d0 : int or (int, int), optional
        Input width (default ``arch.d0``).

    Returns
    -------
    ndarray, shape (d_L, d_0) (2D: ``(d_L d_L', d_0 d_0')``)
    """
    require_architecture(arch)
    filters = arch.split(theta)
    if filters[0].ndim != len(arch.layer_shapes[0]):
        raise ValueError(f"theta: expected a single parameter vector of shape ({arch.n_params},)")
    widths = arch.widths(d0)
    if not arch.is_circular and filters[0].ndim == 1:
        # valid 1D layers compose to one convolution by the end-to-end filter with the product of
        # the strides: output i reads inputs S i .. S i + K - 1 (O(d_L d_0) to fill, where the
        # product of the layer matrices took O(d_0^3): minutes at d_0 = 20000)
        from .parameterisation import end_to_end

        v = np.asarray(end_to_end(arch, theta), dtype=float)
        whole = conv_matrix(v, widths[0], int(np.prod(arch.s)))
        return np.ascontiguousarray(whole[:widths[-1]])
    M: NDArray[np.float64] | None = None
    for w, d_in, s in zip(filters, widths[:-1], arch.s):
        T = conv_matrix(w, d_in, s, arch.is_circular)
        M = T if M is None else T @ M
    assert M is not None
    return M
