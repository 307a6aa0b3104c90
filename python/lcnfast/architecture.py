"""LCN architectures: filter sizes, strides, layer kind and input width.

Conventions (docs/conventions.rst): layer ``l`` has a filter of size ``k_l`` and stride
``s_l`` and maps width ``d_{l-1}`` to ``d_l = (d_{l-1} - k_l) // s_l + 1`` ("valid") or
``d_{l-1} / s_l`` ("circular"). The end-to-end map is one convolution with stride
``S = s_1 ... s_L`` and the filter ``v(x) = w_1(x) w_2(x^{S_2}) ... w_L(x^{S_L})`` with
dilations ``S_l = s_1 ... s_{l-1}``, of size ``1 + sum_l (k_l - 1) S_l`` (reduced modulo
``x^{d_0} - 1`` for circular layers). In 2D every size and stride is a pair (rows,
columns) and the filter is the bivariate product.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core, _saving
from ._validation import as_int, as_real_array

__all__ = ["Architecture", "MAX_FILTER_ENTRIES", "MAX_PARAMS", "require_architecture"]

#: Largest end-to-end filter (number of entries, before circular reduction) lcnfast accepts.
MAX_FILTER_ENTRIES = 2**20
#: Largest number of parameters lcnfast accepts.
MAX_PARAMS = 2**24

Size = Union[int, tuple[int, int]]
Kind = Literal["valid", "circular"]


def _parse_pairs(values: Any, name: str, n_layers: int | None) -> tuple[list[tuple[int, int]], int]:
    """Parse a per-layer sequence of ints (1D) or of pairs (2D) into pairs and a dimension."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name}: expected a sequence with one entry per layer, got {type(values).__name__}")
    items = list(values)
    if not items:
        raise ValueError(f"{name}: an architecture needs at least one layer")
    if n_layers is not None and len(items) != n_layers:
        raise ValueError(f"{name}: expected one entry per layer ({n_layers}), got {len(items)}")
    pairs: list[tuple[int, int]] = []
    dims = set()
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        if isinstance(item, (Sequence, np.ndarray)) and not isinstance(item, (str, bytes)):
            entry = list(item)
            if len(entry) != 2:
                raise ValueError(f"{where}: a 2D entry must be a pair (rows, columns), got {item!r}")
            pairs.append((as_int(entry[0], where, minimum=1), as_int(entry[1], where, minimum=1)))
            dims.add(2)
        else:
            pairs.append((as_int(item, where, minimum=1), 1))
            dims.add(1)
    if len(dims) > 1:
        raise ValueError(f"{name}: mixes integers (1D) and pairs (2D)")
    return pairs, dims.pop()


@_saving.saved_by_dict("architecture")
class Architecture:
    """An LCN architecture.

    Parameters
    ----------
    k : sequence of int, or sequence of (int, int)
        Filter size of each layer, ``k_l >= 1``; pairs ``(k_l, k'_l)`` make a 2D network.
    s : sequence like ``k``, optional
        Stride of each layer (default all 1); pairs in 2D.
    kind : {"valid", "circular"}
        "valid" cross-correlation without padding, or circular (periodic) layers. Circular
        layers need ``d0``; each stride must divide the width it acts on.
    d0 : int or (int, int), optional
        Input width (a pair, or an int for a square image, in 2D). Required for
        "circular"; for "valid" it only fixes the default of :meth:`widths`, and every
        layer must then fit (``d_l >= 1``).

    Raises
    ------
    TypeError
        Non-integer sizes, strides or width.
    ValueError
        Sizes or strides ``< 1``, mismatched lengths, widths that do not fit, an
        end-to-end filter above ``MAX_FILTER_ENTRIES`` or more than ``MAX_PARAMS``
        parameters.

    Examples
    --------
    >>> arch = Architecture([3, 2, 2], [1, 2, 1])
    >>> arch.filter_size, arch.stride, arch.n_params
    (6, 2, 7)
    """

    __slots__ = ("_k", "_s", "_ndim", "_kind", "_d0", "_dilations", "_full", "_plan")

    def __init__(self, k: Sequence[Any], s: Sequence[Any] | None = None, *, kind: str = "valid",
                 d0: Size | None = None) -> None:
        k_pairs, ndim = _parse_pairs(k, "k", None)
        L = len(k_pairs)
        if s is None:
            s_pairs = [(1, 1)] * L
        else:
            s_pairs, s_ndim = _parse_pairs(s, "s", L)
            if s_ndim != ndim:
                raise ValueError(f"s: filter sizes are {ndim}D but strides are {s_ndim}D")
        if not isinstance(kind, str) or kind not in ("valid", "circular"):
            raise ValueError(f"kind: expected 'valid' or 'circular', got {kind!r}")
        d0_pair = None if d0 is None else self._parse_width(d0, ndim, "d0")
        if kind == "circular" and d0_pair is None:
            raise ValueError("d0: circular layers need the input width d0 (the end-to-end filter lives modulo x^d0 - 1)")

        # Dilations S_l and the end-to-end size, in exact integer arithmetic.
        dilations: list[tuple[int, int]] = []
        acc = [1, 1]
        full = [1, 1]
        for kl, sl in zip(k_pairs, s_pairs):
            dilations.append((acc[0], acc[1]))
            for a in range(2):
                full[a] += (kl[a] - 1) * acc[a]
                acc[a] *= sl[a]
        n_params = sum(a * b for a, b in k_pairs)
        if full[0] * full[1] > MAX_FILTER_ENTRIES:
            raise ValueError(f"k: the end-to-end filter would have {full[0] * full[1]} entries; "
                             f"lcnfast supports at most MAX_FILTER_ENTRIES = {MAX_FILTER_ENTRIES}")
        if n_params > MAX_PARAMS:
            raise ValueError(f"k: {n_params} parameters; lcnfast supports at most MAX_PARAMS = {MAX_PARAMS}")

        self._k = tuple(k_pairs)
        self._s = tuple(s_pairs)
        self._ndim = ndim
        self._kind: Kind = "circular" if kind == "circular" else "valid"
        self._dilations = tuple(dilations)
        self._full = (full[0], full[1])
        self._d0 = d0_pair
        if d0_pair is not None:
            self._widths_pairs(d0_pair, "d0")  # raises if some layer does not fit
        modulus = d0_pair if self._kind == "circular" else (0, 0)
        assert modulus is not None
        # Strides only enter through dilations, and any dilation beyond the size limit is
        # already rejected above unless every later filter has size 1: clamping them to
        # int64 range changes nothing.
        clamped = [(min(a, 2**62), min(b, 2**62)) for a, b in self._s]
        self._plan = _core.ProductPlan(list(self._k), clamped, modulus)

    # -- parsing helpers -------------------------------------------------------------
    @staticmethod
    def _parse_width(d0: Any, ndim: int, name: str) -> tuple[int, int]:
        if ndim == 2 and isinstance(d0, (Sequence, np.ndarray)) and not isinstance(d0, (str, bytes)):
            entry = list(d0)
            if len(entry) != 2:
                raise ValueError(f"{name}: a 2D width must be a pair (rows, columns), got {d0!r}")
            return (as_int(entry[0], name, minimum=1), as_int(entry[1], name, minimum=1))
        width = as_int(d0, name, minimum=1)
        return (width, width) if ndim == 2 else (width, 1)

    def _widths_pairs(self, d0: tuple[int, int], name: str) -> list[tuple[int, int]]:
        widths = [d0]
        for layer, (kl, sl) in enumerate(zip(self._k, self._s), start=1):
            prev = widths[-1]
            nxt = []
            for a in range(2):
                if self._kind == "valid":
                    if prev[a] < kl[a]:
                        raise ValueError(
                            f"{name}: too small: layer {layer} has a filter of size {kl[a]} but its input "
                            f"width is {prev[a]} (valid layers need d_(l-1) >= k_l; widths so far "
                            f"{self._format_widths(widths)})")
                    nxt.append((prev[a] - kl[a]) // sl[a] + 1)
                else:
                    if prev[a] % sl[a] != 0:
                        raise ValueError(
                            f"{name}: circular layer {layer} has stride {sl[a]}, which does not divide its "
                            f"input width {prev[a]}")
                    nxt.append(prev[a] // sl[a])
            widths.append((nxt[0], nxt[1]))
        return widths

    def _unpair(self, pair: tuple[int, int]) -> Size:
        return pair if self._ndim == 2 else pair[0]

    def _format_widths(self, widths: list[tuple[int, int]]) -> str:
        return " -> ".join(str(self._unpair(w)) for w in widths)

    # -- properties ------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """1 for 1D signals, 2 for images."""
        return self._ndim

    @property
    def L(self) -> int:
        """Number of layers."""
        return len(self._k)

    @property
    def k(self) -> tuple[Any, ...]:
        """Filter sizes ``(k_1, ..., k_L)`` (pairs in 2D)."""
        return tuple(self._unpair(p) for p in self._k)

    @property
    def s(self) -> tuple[Any, ...]:
        """Strides ``(s_1, ..., s_L)`` (pairs in 2D)."""
        return tuple(self._unpair(p) for p in self._s)

    @property
    def kind(self) -> Kind:
        """``"valid"`` or ``"circular"``."""
        return self._kind

    @property
    def is_circular(self) -> bool:
        """Whether the layers are circular."""
        return self._kind == "circular"

    @property
    def is_stride_one_1d(self) -> bool:
        """Whether this is the setting of the stride-one theorems: 1D, valid layers, every
        stride 1. Its function space is then the set of polynomials of degree
        ``filter_size - 1`` that factor into real factors of degrees ``k_l - 1``, and its
        boundary, root-structure and membership tests apply (docs/theory.rst).

        >>> Architecture([3, 2]).is_stride_one_1d, Architecture([3, 2], [2, 1]).is_stride_one_1d
        (True, False)
        """
        return self._ndim == 1 and self._kind == "valid" and all(s == (1, 1) for s in self._s)

    @property
    def d0(self) -> Size | None:
        """Input width given at construction (a pair in 2D), or None."""
        return None if self._d0 is None else self._unpair(self._d0)

    @property
    def dilations(self) -> tuple[Any, ...]:
        """``(S_1, ..., S_L)`` with ``S_l = s_1 ... s_{l-1}``: layer ``l``'s filter is ``w_l(x^{S_l})``."""
        return tuple(self._unpair(p) for p in self._dilations)

    @property
    def stride(self) -> Size:
        """End-to-end stride ``S = s_1 ... s_L`` (a pair in 2D)."""
        total = [1, 1]
        for sl in self._s:
            total = [total[0] * sl[0], total[1] * sl[1]]
        return self._unpair((total[0], total[1]))

    @property
    def full_filter_size(self) -> Size:
        """End-to-end filter size ``1 + sum_l (k_l - 1) S_l`` before any circular reduction."""
        return self._unpair(self._full)

    @property
    def plan(self) -> _core.ProductPlan:
        """The compiled product plan (``lcnfast._core.ProductPlan``) the computing modules run
        on: gather lists and scratch sizes, built once per architecture. An internal
        interface (its methods take and return raw arrays without checks); use
        :func:`lcnfast.end_to_end`, :func:`lcnfast.vjp` and :func:`lcnfast.train`."""
        return self._plan

    @property
    def filter_size(self) -> Size:
        """Size of the end-to-end filter returned by :func:`lcnfast.end_to_end`.

        ``1 + sum_l (k_l - 1) S_l``; for circular layers ``min`` of that and ``d0``
        (the filter is reduced modulo ``x^{d0} - 1``). A pair ``(K, K')`` in 2D.
        """
        shape = tuple(int(x) for x in self._plan.out_shape)
        return self._unpair((shape[0], shape[1]))

    @property
    def filter_shape(self) -> tuple[int, ...]:
        """Shape of the end-to-end filter array: ``(K,)`` in 1D, ``(K, K')`` in 2D."""
        shape = tuple(int(x) for x in self._plan.out_shape)
        return shape if self._ndim == 2 else shape[:1]

    @property
    def layer_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shape of each layer's filter array: ``(k_l,)`` in 1D, ``(k_l, k'_l)`` in 2D."""
        return tuple(p if self._ndim == 2 else p[:1] for p in self._k)

    @property
    def n_params(self) -> int:
        """Number of parameters ``P = sum_l k_l`` (``sum_l k_l k'_l`` in 2D)."""
        return sum(a * b for a, b in self._k)

    @property
    def n_even(self) -> int | None:
        """Number ``e`` of filters of even size (1D only; None in 2D).

        For stride one this decides the geometry: the function space is filling iff
        ``e <= 1`` (docs/theory.rst).
        """
        if self._ndim == 2:
            return None
        return sum(1 for kl, _ in self._k if kl % 2 == 0)

    # -- widths and parameters ---------------------------------------------------------
    def widths(self, d0: Size | None = None) -> list[Any]:
        """Widths ``[d_0, d_1, ..., d_L]`` for input width ``d0`` (default: the architecture's).

        Raises ``ValueError`` when some layer does not fit (valid: ``d_{l-1} < k_l``;
        circular: stride does not divide the width).
        """
        if d0 is None:
            if self._d0 is None:
                raise ValueError("d0: this architecture has no input width; pass d0")
            pair = self._d0
        else:
            pair = self._parse_width(d0, self._ndim, "d0")
            if self.is_circular and self._d0 is not None and pair != self._d0:
                raise ValueError(f"d0: a circular architecture is tied to its input width {self.d0}, got {d0!r}")
        return [self._unpair(w) for w in self._widths_pairs(pair, "d0")]

    def split(self, theta: ArrayLike) -> list[NDArray[np.float64]]:
        """Split a parameter vector into per-layer filters.

        Parameters
        ----------
        theta : array_like, shape (P,) or (..., P)
            Layers concatenated; 2D filters row-major.

        Returns
        -------
        list of ndarray
            Filter ``l`` of shape ``(..., *layer_shapes[l])``.
        """
        array = as_real_array(theta, "theta")
        if array.ndim == 0 or array.shape[-1] != self.n_params:
            raise ValueError(f"theta: expected shape ({self.n_params},) or (..., {self.n_params}), got {array.shape}")
        batch = array.shape[:-1]
        out = []
        start = 0
        for shape in self.layer_shapes:
            size = int(np.prod(shape))
            out.append(array[..., start:start + size].reshape(batch + shape))
            start += size
        return out

    def join(self, filters: Sequence[ArrayLike]) -> NDArray[np.float64]:
        """Concatenate per-layer filters into ``theta`` (inverse of :meth:`split`).

        Each filter has shape ``layer_shapes[l]``, or ``(B, *layer_shapes[l])`` with the
        same ``B`` for every layer; the result is ``(P,)`` or ``(B, P)``.
        """
        if isinstance(filters, (str, bytes)) or not isinstance(filters, (Sequence, np.ndarray)):
            raise TypeError(f"filters: expected a sequence of {self.L} arrays, got {type(filters).__name__}")
        if len(filters) != self.L:
            raise ValueError(f"filters: expected {self.L} filters, got {len(filters)}")
        parts = []
        batch: tuple[int, ...] | None = None
        for layer, (w, shape) in enumerate(zip(filters, self.layer_shapes)):
            array = as_real_array(w, f"filters[{layer}]")
            if array.shape == shape:
                this_batch: tuple[int, ...] = ()
            elif array.ndim == len(shape) + 1 and array.shape[1:] == shape:
                this_batch = array.shape[:1]
            else:
                raise ValueError(f"filters[{layer}]: expected shape {shape} or (B, *{shape}), got {array.shape}")
            if batch is not None and this_batch != batch:
                raise ValueError(f"filters[{layer}]: batch shape {this_batch} differs from the first filter's {batch}")
            batch = this_batch
            parts.append(array.reshape(this_batch + (-1,)))
        return np.ascontiguousarray(np.concatenate(parts, axis=-1))

    # -- description -------------------------------------------------------------------
    def summary(self, d0: Size | None = None) -> dict[str, Any]:
        """The architecture's facts as a JSON-friendly dict (used by ``lcnfast info``)."""
        info: dict[str, Any] = {
            "ndim": self.ndim,
            "layers": self.L,
            "k": list(self.k),
            "s": list(self.s),
            "kind": self.kind,
            "dilations": list(self.dilations),
            "filter_size": self.filter_size,
            "full_filter_size": self.full_filter_size,
            "stride": self.stride,
            "n_params": self.n_params,
            "n_even": self.n_even,
        }
        if d0 is not None or self._d0 is not None:
            widths = self.widths(d0)
            info["d0"] = widths[0]
            info["widths"] = widths
        return info

    # -- saving ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The constructor's arguments as a JSON-ready dict (inverse of :meth:`from_dict`).

        Returns
        -------
        dict
            ``k`` and ``s`` (lists of ints, or of ``[rows, columns]`` pairs in 2D), ``kind``
            and ``d0`` (an int, a pair in 2D, or None).

        Examples
        --------
        >>> Architecture([3, 2], [1, 2]).to_dict()
        {'k': [3, 2], 's': [1, 2], 'kind': 'valid', 'd0': None}
        >>> Architecture([(2, 2), (3, 1)], kind="circular", d0=(6, 4)).to_dict()["d0"]
        [6, 4]
        """
        def plain(value: Any) -> Any:
            return list(value) if isinstance(value, tuple) else value

        return {"k": [plain(x) for x in self.k], "s": [plain(x) for x in self.s], "kind": self.kind,
                "d0": plain(self.d0)}

    @classmethod
    def from_dict(cls, data: Any) -> Architecture:
        """The architecture a :meth:`to_dict` dict describes.

        Parameters
        ----------
        data : dict
            ``k`` (required), ``s``, ``kind`` and ``d0`` (optional), as :meth:`to_dict` gives
            them (JSON lists for pairs are fine).

        Returns
        -------
        Architecture

        Raises
        ------
        TypeError
            ``data`` is not a dict, or holds values of the wrong type.
        ValueError
            Unknown or missing keys, or values the constructor rejects.

        Examples
        --------
        >>> arch = Architecture([3, 2, 2], [1, 2, 1])
        >>> Architecture.from_dict(arch.to_dict()) == arch
        True
        """
        if not isinstance(data, dict):
            raise TypeError(f"data: expected a dict with k, s, kind and d0, got {type(data).__name__}")
        unknown = sorted(map(str, set(data) - {"k", "s", "kind", "d0"}))
        if unknown:
            raise ValueError(f"data: unknown keys {unknown} (expected k, s, kind, d0)")
        if "k" not in data:
            raise ValueError("data: the filter sizes k are missing")
        return cls(data["k"], data.get("s"), kind=data.get("kind", "valid"), d0=data.get("d0"))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the architecture to an lcnfast ``.npz`` file (with provenance).

        The file holds :meth:`to_dict` and :func:`lcnfast.provenance` as JSON
        metadata; it is written atomically (a temporary file in the same folder, then
        renamed), exactly at ``path``.

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
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "arch.npz"
        >>> arch = Architecture([(2, 2), (3, 1)], [(1, 1), (2, 1)])
        >>> Architecture.load(arch.save(path)) == arch
        True
        """
        return _saving.save_file(path, "Architecture", {}, {}, architecture=self)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Architecture:
        """Load an architecture saved by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        Architecture

        Raises
        ------
        ValueError
            Naming ``path``: not an lcnfast file, a file of another class, or of a newer
            format version.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = Architecture([2, 3], kind="circular", d0=6).save(pathlib.Path(tempfile.mkdtemp()) / "a.npz")
        >>> Architecture.load(path)
        Architecture([2, 3], kind='circular', d0=6)
        """
        _, meta = _saving.load_file(path, "Architecture")
        try:
            return cls.from_dict(meta.get("architecture"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a valid lcnfast file: bad architecture: {exc}") from None

    def __repr__(self) -> str:
        parts = [f"{list(self.k)!r}"]
        if any(p != (1, 1) for p in self._s):
            parts.append(f"{list(self.s)!r}")
        if self.is_circular:
            parts.append("kind='circular'")
        if self._d0 is not None:
            parts.append(f"d0={self.d0!r}")
        return f"Architecture({', '.join(parts)})"

    def _key(self) -> tuple[Any, ...]:
        return (self._k, self._s, self._ndim, self._kind, self._d0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Architecture):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled plan is rebuilt on unpickling (needed for multiprocessing and Dask).
        return (_rebuild, (list(self.k), list(self.s), self.kind, self.d0))


def require_architecture(arch: Any, name: str = "arch") -> Architecture:
    """``arch`` itself if it is an :class:`Architecture`, else ``TypeError`` naming it."""
    if not isinstance(arch, Architecture):
        raise TypeError(f"{name}: expected an lcnfast.Architecture, got {type(arch).__name__}")
    return arch


def _rebuild(k: list[Any], s: list[Any], kind: str, d0: Size | None) -> Architecture:
    return Architecture(k, s, kind=kind, d0=d0)
