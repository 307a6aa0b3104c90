"""Benchmark of the stratified critical-point enumeration ``lcnfast.stratum_critical_points``.

Input (issue 5): every partition ``lambda`` of ``D = 6`` (the 11 multiple-root strata of
binary sextics) with a generic positive definite ``G = A A^T + I`` (``A`` with small random
integer entries, so that the same data is exact for sympy) and an integer target ``u``.

In one run it times lcnfast's homotopy continuation on every stratum (total time and paths
per second over all strata), then, as the reference, sympy's Groebner basis of the same
critical equations (unknowns ``c, t_1..t_r`` with the Rabinowitsch variable for ``c != 0``
and distinct roots; the number of critical forms is the number of standard monomials
divided by the relabellings ``prod m!`` of equal parts). Each sympy computation runs in its
own process with a time limit (``--sympy-timeout``, 10 minutes by default); once a stratum
times out, the strata with more unknowns are not attempted. Where sympy finishes the two
counts must agree, and the ratio of times is printed. Target: at least 100x faster than
sympy where sympy finishes.

Then the strided family (``lcnfast.strided_critical_points``, issue 28) on the architectures
of ``--strided`` (at least one with more than 100 complex critical points): its one-off start
solve and its time per data set and per certified point, with the ratio to the stride-one
family's time per certified point measured in the same run.

Prints one JSON line per stratum, a summary line, then one line per strided architecture.

Usage: ``python bench/bench_critical.py [--degree 6] [--sympy-timeout 600] [--sympy-jobs 2] [--strided 2,2,2,2/2,1,2,1 ...] [--json out.json]``
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from typing import Any

from ._common import add_output_options, cpu_model, reexec_without_openblas_overrides, save_json

__all__ = ["generic_data", "groebner_form_count", "main", "partitions"]


def partitions(D: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """The partitions of ``D`` as non-increasing tuples, coarsest first."""
    largest = D if largest is None else largest
    if D == 0:
        return [()]
    return [(p, *rest) for p in range(min(D, largest), 0, -1) for rest in partitions(D - p, p)]


def generic_data(D: int, seed: int) -> tuple[Any, Any]:
    """A positive definite ``G = A A^T + I`` with small integer ``A`` and an integer ``u``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    A = rng.integers(-2, 3, size=(D + 1, D + 1))
    return (A @ A.T + np.eye(D + 1)).astype(float), rng.integers(-3, 4, size=D + 1).astype(float)


def groebner_form_count(lam: tuple[int, ...], G: Any, u: Any) -> int:
    """The number of complex critical forms of ``(v-u)^T G (v-u)`` on ``Delta_lambda``, from a
    Groebner basis in sympy (independent of lcnfast's homotopy).

    The form is ``c prod_j (x - t_j)^{lambda_j}`` with unknowns ``c, t_j`` and a Rabinowitsch
    variable ``w`` for ``w c prod_{i<j} (t_i - t_j) = 1``; the ideal is zero-dimensional and, for
    generic data, radical, so its solutions are counted by the standard monomials of a
    grevlex basis. Relabelling equal parts of ``lambda`` gives the same form: the count is
    divided by ``prod m!`` over the multiplicities ``m`` of the parts. (A root at infinity of
    ``x`` is not in this chart, which generic data avoids.)
    """
    import sympy

    x, c, w = sympy.symbols("x c w")
    ts = sympy.symbols(f"t0:{len(lam)}")
    form = c
    for t, m in zip(ts, lam):
        form *= (x - t) ** m
    poly = sympy.Poly(sympy.expand(form), x)
    v = sympy.Matrix([poly.coeff_monomial(x**i) for i in range(sum(lam) + 1)])
    Gs = sympy.Matrix(G.tolist()).applyfunc(sympy.nsimplify)
    us = sympy.Matrix([sympy.nsimplify(a) for a in u])
    loss = sympy.expand(((v - us).T * Gs * (v - us))[0])
    distinct = c
    for i in range(len(ts)):
        for j in range(i + 1, len(ts)):
            distinct *= ts[i] - ts[j]
    variables = (c, *ts, w)
    equations = [sympy.diff(loss, s) for s in (c, *ts)] + [w * distinct - 1]
    basis = sympy.groebner(equations, *variables, order="grevlex")
    leading = [sympy.Poly(g, *variables).monoms(order="grevlex")[0] for g in basis.exprs]
    # standard monomials: those divisible by no leading monomial (finitely many)
    seen = {(0,) * len(variables)}
    frontier = list(seen)
    while frontier:
        grown = []
        for m in frontier:
            for k in range(len(variables)):
                nxt = tuple(e + (i == k) for i, e in enumerate(m))
                if nxt not in seen and not any(all(a >= b for a, b in zip(nxt, lm)) for lm in leading):
                    seen.add(nxt)
                    grown.append(nxt)
        frontier = grown
    relabellings = math.prod(math.factorial(m) for m in Counter(lam).values())
    return len(seen) // relabellings


def _sympy_worker(lam: tuple[int, ...], G: Any, u: Any, pipe: Any) -> None:
    start = time.perf_counter()
    count = groebner_form_count(lam, G, u)
    pipe.send((count, time.perf_counter() - start))


def _run_sympy(strata: list[tuple[int, ...]], G: Any, u: Any, timeout: float, jobs: int,
               echo: Any) -> dict[tuple[int, ...], dict[str, Any]]:
    """Groebner counts in separate processes (``jobs`` at a time), each stopped after ``timeout``."""
    context = multiprocessing.get_context("spawn")
    results: dict[tuple[int, ...], dict[str, Any]] = {}
    pending = sorted(strata, key=lambda lam: (len(lam), lam))
    running: list[tuple[tuple[int, ...], Any, Any, float]] = []
    too_big = math.inf  # unknowns of the smallest system that timed out
    while pending or running:
        while pending and len(running) < jobs:
            lam = pending.pop(0)
            if len(lam) > too_big:
                results[lam] = {"sympy": "not attempted (a smaller system timed out)"}
                continue
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_sympy_worker, args=(lam, G, u, send), daemon=True)
            process.start()
            running.append((lam, process, receive, time.perf_counter()))
        time.sleep(0.2)
        for item in list(running):
            lam, process, receive, started = item
            if receive.poll():
                count, seconds = receive.recv()
                results[lam] = {"sympy": "finished", "sympy_forms": count, "sympy_s": seconds}
            elif process.is_alive() and time.perf_counter() - started < timeout:
                continue
            elif process.is_alive():
                process.kill()
                results[lam] = {"sympy": f"timed out after {timeout:g} s"}
                too_big = min(too_big, len(lam))
            else:
                results[lam] = {"sympy": f"failed (exit code {process.exitcode})"}
            process.join()
            running.remove(item)
            echo(f"sympy {lam}: {results[lam]['sympy']}")
    return results


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Time every stratum with lcnfast (one-off start solve, then ``--datasets`` data sets),
    then sympy; one row per stratum and a summary row."""
    import lcnfast
    from lcnfast._homotopy import start as start_module

    os.environ["LCNFAST_CACHE_DIR"] = ""  # time the one-off start solve, not a cached one
    start_module.forget_start_systems()
    D = args.degree
    G, u = generic_data(D, args.seed)
    strata = partitions(D)
    echo = (lambda s: print(s, file=sys.stderr, flush=True)) if args.verbose else (lambda s: None)
    rows: list[dict[str, Any]] = []
    data = [generic_data(D, args.seed + 1000 + i) for i in range(args.datasets)]
    for lam in strata:
        start = time.perf_counter()
        count = lcnfast.generic_count(lam)
        start_s = time.perf_counter() - start
        start = time.perf_counter()
        found = lcnfast.stratum_critical_points(lam, G, u, seed=args.seed, progress=args.verbose)
        seconds = time.perf_counter() - start
        per_data = []
        paths = found.paths
        for Gi, ui in data:
            t = time.perf_counter()
            more = lcnfast.stratum_critical_points(lam, Gi, ui, seed=args.seed)
            per_data.append(time.perf_counter() - t)
            paths += more.paths
        tracked_s = seconds + sum(per_data)
        rows.append({"case": f"D={D} lambda={lam}", "partition": list(lam), "start_solve_s": start_s,
                     "generic_count": count, "lcnfast_s": seconds, "per_dataset_s": sum(per_data) / max(1, len(per_data)),
                     "paths": found.paths, "paths_per_s": paths / tracked_s,
                     "complex": found.n_complex, "real": found.n_real, "certified": int(found.certified.sum()),
                     "complete": found.complete})
        echo(f"lcnfast {lam}: start {start_s:.2f} s, {found.n_complex} complex, {found.n_real} real, {seconds:.3f} s")
    reference = {} if args.sympy_timeout <= 0 else _run_sympy(strata, G, u, args.sympy_timeout, args.sympy_jobs, echo)
    for lam, row in zip(strata, rows):
        ref = reference.get(lam, {"sympy": "not run"})
        row.update(ref)
        if "sympy_s" in ref:
            row["agrees_with_sympy"] = ref["sympy_forms"] == row["complex"]
            row["speedup_vs_sympy"] = ref["sympy_s"] / row["lcnfast_s"]
        elif ref["sympy"].startswith("timed out"):
            row["speedup_vs_sympy_at_least"] = args.sympy_timeout / row["lcnfast_s"]
    # the strided family beside the stride-one one: per data set and per certified point
    strided_rows = [] if args.no_strided else _strided_rows(args, echo)
    finished = [r for r in rows if "sympy_s" in r]
    total_s = sum(r["lcnfast_s"] for r in rows)
    summary = {
        "case": f"all {len(rows)} strata of D={D}, generic G",
        "cpu": cpu_model(),
        "threads": os.cpu_count(),
        "start_solve_total_s": sum(r["start_solve_s"] for r in rows),
        "lcnfast_total_s": total_s,
        "per_dataset_total_s": sum(r["per_dataset_s"] for r in rows),
        "datasets": args.datasets,
        "paths_per_s": sum(r["paths_per_s"] for r in rows) / len(rows),
        "critical_points_complex": sum(r["complex"] for r in rows),
        "critical_points_real": sum(r["real"] for r in rows),
        "certified": sum(r["certified"] for r in rows),
        "all_complete": all(r["complete"] for r in rows),
        "sympy_finished": len(finished),
        "disagreements_with_sympy": sum(not r["agrees_with_sympy"] for r in finished),
        "min_speedup_vs_sympy": min((r["speedup_vs_sympy"] for r in finished), default=None),
        "speedup_vs_sympy_on_finished": (sum(r["sympy_s"] for r in finished) / sum(r["lcnfast_s"] for r in finished)
                                         if finished else None),
        "per_certified_point_us": 1e6 * sum(r["per_dataset_s"] for r in rows) / max(1, sum(r["certified"] for r in rows)),
    }
    for row in strided_rows:
        row["per_certified_point_vs_stride_one"] = row["per_certified_point_us"] / summary["per_certified_point_us"]
    return [*rows, summary, *strided_rows]


def _strided_rows(args: argparse.Namespace, echo: Any) -> list[dict[str, Any]]:
    """The strided family (``lcnfast.strided_critical_points``) on the architectures of
    ``--strided``: the one-off start solve (monodromy and trace test, no cache), then
    ``--datasets`` generic data sets; time per data set and per certified point."""
    import numpy as np

    import lcnfast
    from lcnfast._homotopy import start

    out = []
    for text in args.strided:
        sizes, strides = text.split("/")
        arch = lcnfast.Architecture([int(x) for x in sizes.split(",")], [int(x) for x in strides.split(",")])
        K = arch.filter_size
        start.forget_start_systems()
        t = time.perf_counter()
        count = lcnfast.strided_generic_count(arch)
        start_s = time.perf_counter() - t
        times, certified, complete, n_complex = [], 0, True, 0
        for i in range(args.datasets):
            rng = np.random.default_rng(args.seed + 5000 + i)
            A = rng.integers(-2, 3, size=(K, K))
            G, u = (A @ A.T + np.eye(K)).astype(float), rng.integers(-3, 4, size=K).astype(float)
            t = time.perf_counter()
            found = lcnfast.strided_critical_points(arch, G, u, seed=args.seed)
            times.append(time.perf_counter() - t)
            certified += int(found.certified.sum())
            n_complex += found.n_complex
            complete = complete and found.complete
        per_data = sum(times) / max(1, len(times))
        row = {"case": f"strided k={list(arch.k)} s={list(arch.s)}", "generic_count": count, "start_solve_s": start_s,
               "datasets": args.datasets, "per_dataset_s": per_data, "complex_per_dataset": n_complex / max(1, len(times)),
               "per_certified_point_us": 1e6 * sum(times) / max(1, certified), "all_complete": complete}
        echo(f"strided {text}: generic count {count}, start {start_s:.2f} s, {per_data:.3f} s per data set")
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Parse the command line, run the benchmark, print one JSON line per stratum and a summary."""
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--degree", type=int, default=6, help="D (strata of binary forms of degree D)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", type=int, default=10, help="new data sets solved from the start system")
    parser.add_argument("--sympy-timeout", type=float, default=600.0,
                        help="seconds per stratum for sympy (0: do not run sympy)")
    parser.add_argument("--sympy-jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)),
                        help="sympy computations run at the same time")
    parser.add_argument("--strided", nargs="*", default=["2,2,2,2/2,1,2,1", "3,3,2/2,1,1"],
                        help="strided architectures as SIZES/STRIDES (e.g. 2,2,2,2/2,1,2,1), timed beside the strata")
    parser.add_argument("--no-strided", action="store_true", help="time the strata only")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    add_output_options(parser)
    args = parser.parse_args(argv)
    rows = run(args)
    for row in rows:
        print(json.dumps(row), flush=True)
    save_json(args.json, rows)
    return rows


if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    main()
