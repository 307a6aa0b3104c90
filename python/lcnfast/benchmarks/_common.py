"""Helpers shared by the benchmarks: timing, CPU model, a numpy baseline without handicaps."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["OPENBLAS_VARS", "add_output_options", "best_time", "cpu_model", "emit", "parse_and_run",
           "reexec_without_openblas_overrides", "save_json"]

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

def reexec_without_openblas_overrides(argv: list[str]) -> None:
    """Re-run this process without the ``OPENBLAS_*`` overrides (unless ``--keep-openblas-env``)."""
    if any(v in os.environ for v in OPENBLAS_VARS) and "--keep-openblas-env" not in argv:
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
        # Re-run the way we were started: ``python -m pkg.mod`` must stay a module run
        # (its relative imports fail when run as a file path).
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        start = ["-m", spec.name] if spec is not None else [argv[0]]
        os.execve(sys.executable, [sys.executable, *start, *argv[1:]], env)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def best_time(func: Callable[[], Any], repeat: int) -> float:
    func()  # warm-up: page faults, caches, thread start-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)




def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every benchmark shares: ``--json PATH`` and ``--keep-openblas-env``."""
    parser.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="do not drop OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for the numpy baseline")


def emit(args: argparse.Namespace, out: dict[str, Any]) -> dict[str, Any]:
    """Print one result as a JSON line, save it if ``--json`` was given, and return it."""
    print(json.dumps(out), flush=True)
    save_json(args.json, out)
    return out


def parse_and_run(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], dict[str, Any]],
                  argv: list[str] | None) -> dict[str, Any]:
    """Add the shared options, parse ``argv``, run the benchmark and emit its JSON line."""
    add_output_options(parser)
    args = parser.parse_args(argv)
    return emit(args, run(args))


def save_json(path: str | None, data: Any) -> None:
    """Also save the results as JSON when ``--json PATH`` was given."""
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
