"""Where a result came from: versions, machine, threads, command line, time.

Every ``result.json``, ``summary.md``, saved result file and sweep records
:func:`provenance`; :func:`show_versions` prints it for bug reports (``python -m lcnfast
--versions`` and ``lcnfast versions`` print the same).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import platform
import sys
from importlib import metadata
from typing import Any

from . import _core
from ._validation import resolve_threads

__all__ = ["build_identity", "provenance", "show_versions"]

#: Packages whose versions change lcnfast's numbers or its exact answers.
_PACKAGES = ("numpy", "python-flint", "sympy", "matplotlib", "dask", "distributed", "torch")


def _cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def build_identity() -> str:
    """A digest of the installed code: every Python file of the package and the compiled core,
    by name and content (16 hex digits). The version number stays the same for many commits;
    this changes with any change of the code, so results computed by other code are not
    taken for this code's (``lcnfast reproduce`` reuses a result only from the same build).

    Examples
    --------
    >>> import lcnfast
    >>> len(lcnfast.build_identity())
    16
    """
    package = os.path.dirname(os.path.abspath(__file__))
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(package) for name in names
                   if name.endswith((".py", ".pyi")))
    files.append(os.path.abspath(str(_core.__file__)))
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.path.relpath(path, package).encode("utf-8", "surrogateescape") + b"\0")
        with open(path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()[:16]


def provenance(*, seed: Any = None, threads: int | None = None, command: list[str] | None = None) -> dict[str, Any]:
    """What produced a result, as a JSON-ready dictionary.

    Parameters
    ----------
    seed : optional
        The seed the result was computed with (recorded as given, ``repr`` if not JSON).
    threads : int, optional
        Threads the computation used (default: what lcnfast would use, ``LCNFAST_NUM_THREADS``
        or the available cores).
    command : list of str, optional
        The command line (default: ``sys.argv``).

    Returns
    -------
    dict
        ``lcnfast``, ``build`` (:func:`build_identity`), ``python``, ``packages`` (name ->
        version, or None if not installed),
        ``backend`` (the SIMD kernels in use), ``threads``, ``cpu``, ``platform``, ``seed``,
        ``command`` and ``time`` (UTC, ISO 8601).

    Examples
    --------
    >>> import lcnfast
    >>> sorted(lcnfast.provenance())[:4]
    ['backend', 'build', 'command', 'cpu']
    """
    if seed is not None and not isinstance(seed, (int, float, str, bool)):
        seed = repr(seed)
    n_threads = resolve_threads(threads)
    if command is not None and (isinstance(command, (str, bytes)) or not isinstance(command, (list, tuple))
                                or not all(isinstance(part, str) for part in command)):
        raise TypeError(f"command: expected a list of strings, got {command!r}")
    return {
        "lcnfast": _core.__version__,
        "build": build_identity(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
        "backend": _core.backend(),
        "threads": n_threads,
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "seed": seed,
        "command": list(sys.argv if command is None else command),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def show_versions() -> None:
    """Print lcnfast's version, its dependencies', the SIMD backend, threads and CPU (paste
    it into bug reports).

    Examples
    --------
    >>> import lcnfast
    >>> lcnfast.show_versions()  # doctest: +ELLIPSIS
    lcnfast ...
    """
    info = provenance()
    width = max(len(name) for name in info["packages"]) + 2
    lines = [f"lcnfast {info['lcnfast']} (build {info['build']})",
             f"{'python':<{width}}{info['python']} ({sys.executable})"]
    for name, version in info["packages"].items():
        lines.append(f"{name:<{width}}{version if version is not None else 'not installed'}")
    lines += [
        f"{'backend':<{width}}{info['backend']} (available: {', '.join(_core.available_backends())})",
        f"{'threads':<{width}}{info['threads']} (LCNFAST_NUM_THREADS={os.environ.get('LCNFAST_NUM_THREADS', 'unset')})",
        f"{'cpu':<{width}}{info['cpu']}",
        f"{'platform':<{width}}{info['platform']}",
    ]
    print("\n".join(lines))
