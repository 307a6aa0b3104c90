"""Benchmarks of lcnfast against the baselines users would write (numpy, PyTorch, sympy).

Each module has a ``main(argv)`` printing one JSON line per case (``python -m
lcnfast.benchmarks.end_to_end``, or the ``bench/`` scripts in the source tree);
:func:`run_suite` runs all of them at a small size for ``lcnfast bench``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_suite", "suite_table"]

# (benchmark, quick arguments, metrics reported: (key, target description))
_SUITE: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    ("end_to_end", ["--batch", "131072", "--repeat", "3", "--subsample", "2000"],
     [("speedup_vs_numpy", ">= 5"), ("ratio_to_copy_floor", "<= 2"), ("speedup_vs_convolve_loop", "")]),
    ("train", ["--runs", "1024", "--steps", "1000", "--repeat", "2", "--baseline-steps", "100",
               "--torch-runs", "2", "--torch-steps", "50"],
     [("speedup_vs_torch_per_run", ">= 1000"), ("speedup_vs_best_batched", ">= 10"),
      ("fraction_of_dgemm", ">= 0.3")]),
    ("roots", ["--batch", "20000", "--repeat", "2", "--sympy-sample", "100"],
     [("speedup_vs_numpy_roots", ">= 50"), ("disagreements_with_sympy", "= 0")]),
    ("critical", ["--degree", "4", "--sympy-timeout", "20", "--datasets", "5", "--strided", "2,2,2/2,2,1"],
     [("lcnfast_total_s", ""), ("min_speedup_vs_sympy", ">= 100 (D = 6)"), ("disagreements_with_sympy", "= 0"),
      ("per_certified_point_vs_stride_one", "<= 1.5 (D = 6, > 100 points)")]),
]


def run_suite(echo: Any = print) -> list[dict[str, Any]]:
    """Run every benchmark at a small size; returns one row per reported metric.

    Optional baselines whose package is missing (sympy) are skipped and said so; a benchmark
    that fails is reported as a row and the others still run.
    """
    import contextlib
    import importlib
    import importlib.util
    import io

    rows: list[dict[str, Any]] = []
    try:
        no_sympy = importlib.util.find_spec("sympy") is None
    except ValueError:  # a module entry without a spec (e.g. blocked with sys.modules["sympy"] = None)
        no_sympy = True
    if no_sympy and echo:
        echo("sympy is not installed: the sympy baselines are skipped (pip install sympy to run them)")
    for name, argv, metrics in _SUITE:
        if no_sympy:
            argv = argv + {"roots": ["--sympy-sample", "0"], "critical": ["--sympy-timeout", "0"]}.get(name, [])
        try:
            module = importlib.import_module(f"lcnfast.benchmarks.{name}")
            with contextlib.redirect_stdout(io.StringIO()):
                out = module.main(argv)
        except Exception as exc:  # noqa: BLE001 - one failed benchmark must not lose the others' rows
            rows.append({"benchmark": name, "case": "", "metric": "failed", "value": f"{type(exc).__name__}: {exc}",
                         "target (full size)": ""})
            if echo:
                echo(f"[{name}] failed: {type(exc).__name__}: {exc}")
            continue
        results = out if isinstance(out, list) else [out]
        for result in results:
            for key, target in metrics:
                if key in result:
                    rows.append({"benchmark": name, "case": result.get("case", ""), "metric": key,
                                 "value": result[key], "target (full size)": target})
        if echo:
            echo(f"[{name}] done")
    return rows


def suite_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table."""
    header = ["benchmark", "case", "metric", "value", "target (full size)"]
    cells = [[str(r[h]) if not isinstance(r[h], float) else f"{r[h]:.4g}" for h in header] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)
