"""lcnfast: geometry and optimisation of linear convolutional networks, with a C++ core.

An LCN composes convolutions without activations, so it computes one convolution whose
filter is a product of the layer filters seen as polynomials (strides act as dilations).
See docs/conventions.rst for the conventions; the main entry points are:

* :class:`Architecture` -- filter sizes, strides, valid or circular layers, 1D or 2D;
* :func:`end_to_end`, :func:`vjp`, :func:`jacobian` -- the parameterisation map, batched;
* :func:`conv_matrix`, :func:`network_matrix` -- the linear maps as explicit matrices;
* :class:`SquaredLoss`, :class:`QuadraticLoss`, :func:`teacher_data` -- losses reduced
  exactly to quadratic forms in the end-to-end filter;
* :class:`FunctionSpace` -- dimension, thick or thin, filling or not;
* :func:`train` -- many runs of gradient descent or gradient flow at once, with the
  invariants of :func:`invariants` tracked.
"""

from __future__ import annotations

import logging as _logging

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "lcnfast's compiled core (lcnfast._core) could not be imported. Build and install the "
        "package with `pip install .` from the source tree (it needs a C++17 compiler; pip "
        f"fetches pybind11, scikit-build-core and Eigen). Original error: {exc}"
    ) from exc


def _check_backend_request() -> None:
    """Warn when ``LCNFAST_BACKEND`` asks for a backend that is not in use (an unknown name,
    or one this CPU cannot run): the choice would otherwise be ignored silently."""
    import os
    import warnings

    requested = os.environ.get("LCNFAST_BACKEND", "").strip()
    if requested and requested != "auto" and requested != _core.backend():
        warnings.warn(f"LCNFAST_BACKEND={requested!r} is not available on this machine (available: "
                      f"{', '.join(_core.available_backends())}, or 'auto'); using {_core.backend()!r}",
                      RuntimeWarning, stacklevel=3)


_check_backend_request()


def _check_memory_limit() -> None:
    """Warn when ``LCNFAST_MEMORY_LIMIT`` is set but is not a positive size (``0``, ``-5``,
    ``abc``): the default budget is used instead, which the user should know."""
    import os
    import warnings

    if _core.memory_limit_from_env() < 0:
        warnings.warn(f"LCNFAST_MEMORY_LIMIT={os.environ.get('LCNFAST_MEMORY_LIMIT')!r} is not a positive size "
                      "(bytes, e.g. 2000000000, 2e9, 2G or 2GiB); using the default budget (four fifths of the "
                      "least of the physical memory, the available memory and the cgroup limit)", RuntimeWarning, stacklevel=3)


_check_memory_limit()

# The library logs to the "lcnfast" logger (and its children: lcnfast.strata, ...) and leaves
# output to the application: only a NullHandler here (the command line's -v/-q add a handler).
_logging.getLogger("lcnfast").addHandler(_logging.NullHandler())

from .architecture import MAX_FILTER_ENTRIES, MAX_PARAMS, Architecture
from .matrices import conv_matrix, network_matrix
from .critical import Classification, Landscape, LandscapePoint, classify, critical_points, hessian
from .geometry import (
    Factorization,
    FunctionSpace,
    RootStructure,
    discriminant,
    generic_jacobian_rank,
    jacobian_rank,
    real_root_count,
    root_structure,
)
from .losses import QuadraticLoss, SquaredLoss, teacher_data
from .parameterisation import end_to_end, jacobian, vjp
from .provenance import build_identity, provenance, show_versions
from .strata import StratumCriticalPoints, StratumMemo, generic_count, start_system_cache, stratum_critical_points
from .strided import StridedCriticalPoints, dilation_groups, ed_degree, strided_critical_points, strided_generic_count
from .torch_interop import from_torch, to_torch
from .training import STATUSES, Invariants, Trajectory, TrainResult, auto_lr, auto_tol, balance, invariants, train

__version__: str = _core.__version__

__all__ = [
    "build_identity",
    "provenance",
    "show_versions",
    "Architecture",
    "Classification",
    "Factorization",
    "FunctionSpace",
    "Invariants",
    "Landscape",
    "LandscapePoint",
    "MAX_FILTER_ENTRIES",
    "MAX_PARAMS",
    "QuadraticLoss",
    "RootStructure",
    "STATUSES",
    "StratumCriticalPoints",
    "StratumMemo",
    "StridedCriticalPoints",
    "SquaredLoss",
    "TrainResult",
    "Trajectory",
    "__version__",
    "auto_lr",
    "auto_tol",
    "balance",
    "classify",
    "conv_matrix",
    "critical_points",
    "dilation_groups",
    "discriminant",
    "ed_degree",
    "generic_count",
    "end_to_end",
    "from_torch",
    "generic_jacobian_rank",
    "hessian",
    "invariants",
    "jacobian",
    "jacobian_rank",
    "network_matrix",
    "real_root_count",
    "root_structure",
    "simd_backend",
    "start_system_cache",
    "stratum_critical_points",
    "strided_critical_points",
    "strided_generic_count",
    "teacher_data",
    "to_torch",
    "train",
    "vjp",
]


def simd_backend() -> str:
    """Name of the SIMD kernel backend in use ("avx512", "avx2" or "generic").

    Chosen at import from what the CPU supports; the ``LCNFAST_BACKEND`` environment
    variable overrides it. Every backend gives bitwise identical results.
    """
    return str(_core.backend())
