"""Benchmark of ``lcnfast sweep``: the same sweep serially and on a Dask ``LocalCluster``.

Input (issue 7): a landscape sweep like ``examples/sweep-small.toml`` (``k = (2,2), (2,3),
(2,2,2), (3,3)``, 2 data sets each, critical points of every data set) with 4000 GD starts
per data set in chunks of 500. After a warm-up (imports, caches) in this process and on
every worker, in one run it times:

* the sweep run serially in this process with one C++ thread per task (the config's
  ``threads = 1``);
* the same serially with all cores for the C++ loops (``threads = None``), the best one
  process can do;
* the sweep on a ``LocalCluster`` of ``--workers`` processes (one thread each);

checks that the three give identical tables, and prints the speed-ups of the cluster.

Usage: ``python bench/bench_sweep.py [--workers 2] [--starts 4000] [--chunk 500] [--json out.json]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any

from ._common import cpu_model, parse_and_run, reexec_without_openblas_overrides

__all__ = ["main"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Time the sweep serially (one and all threads) and on a LocalCluster; compare the tables."""
    from distributed import Client, LocalCluster

    from lcnfast.experiments import sweep

    base = {"seed": 0, "architectures": [[2, 2], [2, 3], [2, 2, 2], [3, 3]], "datasets": args.datasets,
            "samples": 40, "starts": args.starts, "chunk": args.chunk, "steps": 100000}
    times: dict[str, float] = {}
    tables: dict[str, Any] = {}
    warm = {**base, "architectures": [[2, 2]], "datasets": 1, "starts": 20, "chunk": 20}
    with tempfile.TemporaryDirectory() as tmp:
        sweep(warm, out=os.path.join(tmp, "warm"), serial=True, show_progress=False, echo=None)  # imports, caches
        for name, threads in (("serial_1_thread", 1), ("serial_all_threads", None)):
            start = time.perf_counter()
            result = sweep({**base, "threads": threads}, out=os.path.join(tmp, name), serial=True,
                           show_progress=False, echo=None)
            times[name] = time.perf_counter() - start
            tables[name] = result.tables
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            for w in range(args.workers):  # every worker imports and warms up before the clock starts
                client.submit(sweep, warm, out=os.path.join(tmp, f"warm{w}"), serial=True, show_progress=False,
                              echo=None, pure=False, workers=[list(client.scheduler_info()["workers"])[w]]).result()
            start = time.perf_counter()
            result = sweep({**base, "threads": 1}, client, out=os.path.join(tmp, "dask"), show_progress=False,
                           echo=None)
            times["dask"] = time.perf_counter() - start
            tables["dask"] = result.tables
    tasks = int(result.parameters["tasks"])
    return {
        "case": f"landscape sweep: 4 architectures x {args.datasets} data sets x {args.starts} starts "
                f"(chunks of {args.chunk}), {tasks} tasks",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "workers": args.workers,
        "serial_1_thread_s": times["serial_1_thread"],
        "serial_all_threads_s": times["serial_all_threads"],
        "dask_local_cluster_s": times["dask"],
        "identical_tables": tables["dask"] == tables["serial_1_thread"] == tables["serial_all_threads"],
        "speedup_vs_serial": times["serial_1_thread"] / times["dask"],
        "speedup_vs_serial_all_threads": times["serial_all_threads"] / times["dask"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line, run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datasets", type=int, default=2)
    parser.add_argument("--starts", type=int, default=4000)
    parser.add_argument("--chunk", type=int, default=500)
    return parse_and_run(parser, run, argv)


if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    main()
