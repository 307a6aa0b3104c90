"""PyTorch interoperability (the optional ``torch`` extra).

``to_torch(arch, theta)`` builds the ``nn.Sequential`` of bias-free single-channel
``Conv1d``/``Conv2d`` layers that computes the LCN (docs/conventions.rst: valid cross-correlation,
exactly what ``Conv1d(1, 1, k, stride=s, bias=False)`` computes); circular layers get a
``CircularPad`` on the right/bottom first, since lcnfast's circular layers wrap
``x[(s i + j) mod d]``. ``from_torch(module)`` reads such a model back.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .architecture import Architecture, require_architecture

__all__ = ["from_torch", "to_torch"]


def _torch() -> Any:
    # Imported by name, not by an import statement: torch is an optional extra, and a
    # static import would make strict type checking of lcnfast depend on whether torch
    # (and its stubs) happen to be installed.
    try:
        torch = importlib.import_module("torch")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("PyTorch interop needs torch: pip install 'lcnfast[torch]'") from exc
    return torch


def to_torch(arch: Architecture, theta: ArrayLike, *, dtype: Any = None) -> Any:
    """An ``nn.Sequential`` computing the LCN with parameters ``theta`` (shape (P,)).

    Inputs are ``(N, 1, d0)`` (2D: ``(N, 1, H, W)``); ``dtype`` defaults to ``torch.float64``.
    """
    torch = _torch()
    require_architecture(arch)
    filters = arch.split(theta)
    if filters[0].ndim != len(arch.layer_shapes[0]):
        raise ValueError(f"theta: expected a single parameter vector of shape ({arch.n_params},)")
    dtype = torch.float64 if dtype is None else dtype
    layers: list[Any] = []
    for w, s in zip(filters, arch.s):
        if arch.ndim == 1:
            if arch.is_circular and w.size > 1:
                layers.append(torch.nn.CircularPad1d((0, w.size - 1)))
            conv = torch.nn.Conv1d(1, 1, w.size, stride=s, bias=False)
        else:
            if arch.is_circular and w.size > 1:
                layers.append(torch.nn.CircularPad2d((0, w.shape[1] - 1, 0, w.shape[0] - 1)))
            conv = torch.nn.Conv2d(1, 1, w.shape, stride=s, bias=False)
        conv = conv.to(dtype)
        with torch.no_grad():
            conv.weight.copy_(torch.as_tensor(np.asarray(w), dtype=dtype).reshape(conv.weight.shape))
        layers.append(conv)
    return torch.nn.Sequential(*layers)


def from_torch(module: Any, *, d0: Any = None) -> tuple[Architecture, NDArray[np.float64]]:
    """``(arch, theta)`` of an ``nn.Sequential`` of bias-free single-channel convolutions.

    Accepts ``Conv1d``/``Conv2d`` layers with one input and one output channel, no bias,
    no padding, dilation 1, groups 1, optionally each preceded by the right/bottom
    ``CircularPad`` that :func:`to_torch` inserts (then the layers are circular and ``d0``
    is required). Raises ``ValueError`` naming the offending layer otherwise.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"module: expected a torch.nn.Sequential, got {type(module).__name__}")
    k: list[Any] = []
    s: list[Any] = []
    weights = []
    circular_flags = []
    pending_pad = None
    for index, layer in enumerate(module):
        where = f"module[{index}]"
        if isinstance(layer, (torch.nn.CircularPad1d, torch.nn.CircularPad2d)):
            pending_pad = tuple(int(p) for p in layer.padding)
            continue
        if not isinstance(layer, (torch.nn.Conv1d, torch.nn.Conv2d)):
            raise ValueError(f"{where}: expected Conv1d/Conv2d (or the CircularPad to_torch inserts), "
                             f"got {type(layer).__name__}")
        if layer.in_channels != 1 or layer.out_channels != 1:
            raise ValueError(f"{where}: LCN layers have one input and one output channel")
        if layer.bias is not None:
            raise ValueError(f"{where}: has a bias; LCNs are bias-free")
        if any(int(p) != 0 for p in layer.padding) or any(int(d) != 1 for d in layer.dilation) or layer.groups != 1:
            raise ValueError(f"{where}: padding, dilation and groups must be the defaults")
        size = tuple(int(x) for x in layer.kernel_size)
        stride = tuple(int(x) for x in layer.stride)
        is_2d = isinstance(layer, torch.nn.Conv2d)
        if pending_pad is not None:
            expected = (0, size[0] - 1) if not is_2d else (0, size[1] - 1, 0, size[0] - 1)
            if pending_pad != expected:
                raise ValueError(f"{where}: the circular padding before it must be {expected}, got {pending_pad}")
        circular_flags.append(pending_pad is not None or size == (1,) * len(size))
        pending_pad = None
        k.append(size if is_2d else size[0])
        s.append(stride if is_2d else stride[0])
        weights.append(layer.weight.detach().cpu().double().numpy().reshape(-1))
    if not k:
        raise ValueError("module: contains no convolution")
    circular = any(p for p, kk in zip(circular_flags, k) if kk not in (1, (1, 1)))
    if circular and not all(circular_flags):
        raise ValueError("module: mixes circular and valid layers")
    arch = Architecture(k, s, kind="circular" if circular else "valid", d0=d0)
    return arch, np.concatenate(weights)
