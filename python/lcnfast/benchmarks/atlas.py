"""Benchmark of ``lcnfast atlas``: time per (architecture, data set) and per certified
critical point, serially and on a Dask ``LocalCluster`` of 1 and of 2 workers, in one run.

Input: the atlas for ``D <= --max-degree`` (default 4), strides up to 2, ``--datasets`` data
sets per architecture (default 20) with ``--runs`` GD runs each (default 50). After a
warm-up (imports, the strata's start systems in the disk cache) it times, each into a fresh
folder:

* the atlas serially in this process (one C++ thread per task, as on a worker);
* on a ``LocalCluster`` of 1 worker process and of 2 worker processes (one thread each);

checks that the three write identical tables, and prints the time per (architecture, data
set) task, per certified critical point (of the data-set tasks), and the scaling ratio of 2
workers over 1 (the goal on 2 cores: >= 1.8). Then the stride-one architectures of the
largest degree alone, serially, with the stratum memo
(:class:`lcnfast.StratumMemo`, each stratum enumerated once per data set) and with a
memo of size 1 (once per architecture and data set): the speed-up and that the tables are
identical.

Usage: ``python bench/bench_atlas.py [--max-degree 4] [--datasets 20] [--runs 50] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import cpu_model, parse_and_run, reexec_without_openblas_overrides

__all__ = ["main"]

TABLES = ("architectures", "ed_degrees", "summary", "data_sets", "families_per_data_set", "critical_points")


def _tables(folder: Path) -> dict[str, bytes]:
    return {name: (folder / f"{name}.csv").read_bytes() for name in TABLES}


def _data_task_seconds(folder: Path) -> tuple[float, int, int]:
    """Summed seconds of the data-set tasks, the number of (architecture, data set) pairs they
    computed, and their complex critical points (all certified when the atlas is complete),
    from the journal."""
    seconds, tasks, points = 0.0, 0, 0
    for line in (folder / "tasks.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["task"].startswith("data/") and record["status"] == "ok":
            seconds += float(record["seconds"])
            for data_set in record["result"]["datasets"]:
                tasks += 1
                points += sum(int(row["complex"]) for row in data_set["strata"])
    return seconds, tasks, points


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Time the atlas serially and on 1- and 2-worker LocalClusters; compare the tables."""
    from distributed import Client

    from lcnfast.experiments import atlas
    from lcnfast.experiments.sweeps import private_cluster

    settings = {"max_degree": args.max_degree, "datasets": args.datasets, "runs": args.runs,
                "show_progress": False, "echo": None}
    times: dict[str, float] = {}
    tables: dict[str, dict[str, bytes]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        atlas(root / "warm", **{**settings, "datasets": 1, "runs": 2}, threads=1)  # imports, start systems
        start = time.perf_counter()
        atlas(root / "serial", **settings, threads=1)
        times["serial"] = time.perf_counter() - start
        tables["serial"] = _tables(root / "serial")
        for workers in (1, 2):
            with private_cluster(workers) as cluster, Client(cluster) as client:
                # every worker imports lcnfast and reads the start systems before the clock starts
                atlas(root / f"warm{workers}", **{**settings, "datasets": 1, "runs": 2}, threads=1, client=client)
                start = time.perf_counter()
                atlas(root / f"dask{workers}", **settings, threads=1, client=client)
                times[f"dask{workers}"] = time.perf_counter() - start
            tables[f"dask{workers}"] = _tables(root / f"dask{workers}")
        task_seconds, tasks, points = _data_task_seconds(root / "serial")
        # the stratum memo: the stride-one architectures of the largest degree share data
        # sets; serially with the process's memo, and with one of size 1 (nothing reused)
        from lcnfast.experiments import atlas_memo

        one_degree = {**settings, "min_degree": args.max_degree, "max_stride": 1}
        memo = atlas_memo()
        for name, size in (("memo_off", 1), ("memo_on", memo.maxsize)):
            memo.clear()
            memo.maxsize = size
            start = time.perf_counter()
            atlas(root / name, **one_degree, threads=1)
            times[name] = time.perf_counter() - start
            tables[name] = _tables(root / name)
    return {
        "case": f"atlas D <= {args.max_degree}, strides <= 2, {args.datasets} data sets x {args.runs} GD runs",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "data_set_tasks": tasks,
        "serial_s": times["serial"],
        "dask_1_worker_s": times["dask1"],
        "dask_2_workers_s": times["dask2"],
        "per_architecture_and_data_set_ms": 1e3 * task_seconds / max(tasks, 1),
        "per_certified_point_us": 1e6 * task_seconds / max(points, 1),
        "identical_tables": tables["serial"] == tables["dask1"] == tables["dask2"],
        "scaling_2_over_1_workers": times["dask1"] / times["dask2"],
        "stride_one_at_max_degree_memo_off_s": times["memo_off"],
        "stride_one_at_max_degree_memo_on_s": times["memo_on"],
        "memo_speedup": times["memo_off"] / times["memo_on"],
        "memo_identical_tables": tables["memo_off"] == tables["memo_on"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the command line, run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-degree", type=int, default=4)
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--runs", type=int, default=50)
    return parse_and_run(parser, run, argv)


if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    main()
