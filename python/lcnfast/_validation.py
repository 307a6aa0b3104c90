"""Argument checking shared by the public functions.

Every public entry point validates here, with a message naming the argument, before any
buffer reaches the compiled core (which re-checks its own preconditions).
"""

from __future__ import annotations

import operator
import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["as_int", "as_real", "as_real_array", "resolve_threads"]


#: the largest integer the compiled core takes (a C++ int64); larger counts are refused by name
INT64_MAX = 2**63 - 1


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, rejecting bools, floats and strings; ``ValueError``
    naming ``name`` outside ``[minimum, maximum]``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer, got a bool ({value!r})")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} ({value!r})") from None
    if minimum is not None and result < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise ValueError(f"{name}: must be <= {maximum}, got {result}")
    return result


def as_seed(value: Any, name: str = "seed", rng: Any = None) -> int:
    """A seed for ``numpy.random.default_rng``: an integer >= 0, a ``numpy.random.Generator``
    from which one is drawn (advancing it), or ``None`` for fresh entropy from the operating
    system (not reproducible). ``rng`` (SPEC 7's name, same values) replaces ``value`` when
    given; giving both a non-default ``value`` and ``rng`` is an error."""
    if rng is not None:
        if value is not None and not (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
                                      and value == 0):
            raise ValueError(f"rng: give {name}= or rng=, not both ({name}={value!r}, rng={rng!r})")
        return as_seed(rng, "rng")
    if value is None:
        return int(np.random.default_rng().integers(0, 2**63 - 1))
    if isinstance(value, np.random.Generator):
        return int(value.integers(0, 2**63 - 1))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= 0 or a numpy.random.Generator, got {type(value).__name__}")
    return as_int(value, name, minimum=0)


def as_real(value: Any, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as a finite float (ints and numpy scalars accepted, bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"{name}: must be finite, got {x}")
    if positive and not x > 0:
        raise ValueError(f"{name}: must be > 0, got {x}")
    if nonnegative and not x >= 0:
        raise ValueError(f"{name}: must be >= 0, got {x}")
    return x


def as_real_array(value: Any, name: str, *, allow_empty: bool = False, check_finite: bool = True) -> NDArray[np.float64]:
    """Convert ``value`` to a C-contiguous float64 array of finite numbers.

    Integers, unsigned integers and floats of any width are converted; bools, complex
    numbers, strings and objects are rejected with ``TypeError``; NaN and inf with
    ``ValueError``. Non-contiguous or Fortran-ordered input is copied.

    ``check_finite=False`` is for arrays that go straight to a compiled kernel which checks
    finiteness itself in the pass it makes anyway (and raises the same ``ValueError``):
    a separate pass here would cost as much as the kernel.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}: expected an array of real numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    kind = array.dtype.kind
    if kind not in "iuf":
        what = {"b": "bool", "c": "complex", "O": "object", "U": "string", "S": "bytes"}.get(kind, str(array.dtype))
        raise TypeError(f"{name}: expected real numbers, got dtype {array.dtype} ({what})")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name}: is empty (shape {array.shape})")
    if check_finite and not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinity")
    return array


def check_memory(nbytes: float, what: str) -> None:
    """``ValueError`` naming ``what`` (which starts with the argument's name) when an array of
    ``nbytes`` would not fit in memory (``LCNFAST_MEMORY_LIMIT``, else four fifths of the least of the
    physical memory, the available memory and the cgroup limit; the same budget as the
    compiled core's)."""
    from . import _core

    budget = int(_core.memory_budget())
    if budget and nbytes > budget:
        raise ValueError(f"{what} would need {_human(nbytes)} of memory, more than the {_human(budget)} lcnfast may "
                         "use here (four fifths of the memory available; LCNFAST_MEMORY_LIMIT sets another limit)")


def _human(nbytes: float) -> str:
    value = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.3g} {unit}"
        value /= 1000
    return f"{value:.3g} PB"  # pragma: no cover


def available_threads() -> int:
    """Hardware threads this process may run on (its CPU affinity where the system says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        from . import _core

        return max(1, int(_core.hardware_threads()))


def resolve_threads(threads: Any) -> int:
    """Number of threads for a kernel call.

    ``None`` means the ``LCNFAST_NUM_THREADS`` environment variable if set, otherwise
    every hardware thread. A request for more threads than the process can run on is
    clamped to that number: more would only cost memory (each thread has its own scratch)
    and time. Results never depend on this number.
    """
    if threads is None:
        env = os.environ.get("LCNFAST_NUM_THREADS", "").strip()
        if env:
            try:
                requested = as_int(int(env), "LCNFAST_NUM_THREADS", minimum=1)
            except ValueError:
                raise ValueError(f"LCNFAST_NUM_THREADS: expected a positive integer, got {env!r}") from None
            return min(requested, available_threads())
        return available_threads()
    return min(as_int(threads, "threads", minimum=1), available_threads())
