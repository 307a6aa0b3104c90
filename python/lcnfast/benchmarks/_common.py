"""Helpers shared by the benchmarks: timing, CPU model, a numpy baseline without handicaps."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["OPENBLAS_VARS", "best_time", "cpu_model", "reexec_without_openblas_overrides", "save_json"]

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

def reexec_without_openblas_overrides(argv: list[str]) -> None:
    if any(v in os.environ for v in OPENBLAS_VARS) and "--keep-openblas-env" not in argv:
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
        os.execve(sys.executable, [sys.executable, *argv], env)


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




def save_json(path: str | None, data: Any) -> None:
    """Also save the results as JSON when ``--json PATH`` was given."""
    if path:
        import json

        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
