"""Benchmark: ``lcnfast.critical_points`` per (architecture, data set) on the atlas's data sets,
this work tree against an earlier revision in the same run.

The landscape's Python (the lifts, the classification, the certifier's jets) changes more
often than its C++ core, so the baseline is the Python package of ``--baseline REV`` (``git
archive``) run with this build's compiled core; the script refuses a revision whose C++
sources differ from the work tree's (its core would not be this one). Each side runs in its
own process, the same data sets in the same order, best of ``--repeats``; the stride-one
architectures of one degree share their strata through one :class:`lcnfast.StratumMemo`, as
in the atlas. Prints one line per group of architectures: both times, the ratio, and the
number of landscape points (which must agree).

Usage: ``python bench/bench_landscape.py --baseline 4acfa3b [--datasets 6] [--repeats 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Groups of (k, s): the stride-one architectures of D = 6, and three strided ones.
GROUPS = {
    "stride one, D = 6 (11 architectures)": [((7,), (1,)), ((6, 2), (1, 1)), ((5, 3), (1, 1)), ((4, 4), (1, 1)),
                                             ((5, 2, 2), (1, 1, 1)), ((4, 3, 2), (1, 1, 1)), ((3, 3, 3), (1, 1, 1)),
                                             ((4, 2, 2, 2), (1, 1, 1, 1)), ((3, 3, 2, 2), (1, 1, 1, 1)),
                                             ((3, 2, 2, 2, 2), (1, 1, 1, 1, 1)), ((2,) * 6, (1,) * 6)],
    "k=4,4;s=2,1": [((4, 4), (2, 1))],
    "k=2,2,2,2;s=2,1,2,1": [((2, 2, 2, 2), (2, 1, 2, 1))],
    "k=2,2,2,2,2;s=1,1,1,2,1": [((2, 2, 2, 2, 2), (1, 1, 1, 2, 1))],
}

#: Run in a child process: times each group, prints one JSON line per group.
CHILD = r"""
import json, sys, time
tree = sys.argv[1]
if tree:
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ScikitBuildRedirectingFinder"]
    sys.path.insert(0, tree)
import numpy as np, lcnfast
groups, datasets, repeats = json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def problem(k, s, d):  # the atlas's data set d (lcnfast.experiments._atlas._problem)
    arch = lcnfast.Architecture(list(k), list(s))
    K, P = arch.filter_size, int(np.prod(s))
    rng = np.random.default_rng([0, 2, d, K - 1, P])
    arch = lcnfast.Architecture(list(k), list(s), d0=K + 6 * P)
    X, Y = rng.standard_normal((40, K + 6 * P)), rng.standard_normal((40, 7))
    return arch, lcnfast.SquaredLoss.from_data(arch, X, Y)

for name, archs in groups.items():
    problems = [problem(k, s, d) for k, s in archs for d in range(datasets)]
    lcnfast.critical_points(*problems[0])  # start systems loaded
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        with lcnfast.StratumMemo():
            points = sum(len(lcnfast.critical_points(a, l).points) for a, l in problems)
        best = min(best, time.perf_counter() - t)
    print(json.dumps({"group": name, "seconds": best / len(problems), "points": points, "file": lcnfast.__file__}))
"""


def _run(tree: str, datasets: int, repeats: int) -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-c", CHILD, tree, json.dumps(GROUPS), str(datasets), str(repeats)],
                         capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {r["group"]: r for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="git revision whose Python package is the baseline")
    parser.add_argument("--datasets", type=int, default=6, help="data sets per architecture (default 6)")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs (default 2)")
    args = parser.parse_args()
    if args.datasets < 1 or args.repeats < 1:
        parser.error("--datasets and --repeats must be positive")
    cpp = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", args.baseline, "--", "cpp", "CMakeLists.txt"])
    if cpp.returncode != 0:
        sys.exit(f"--baseline {args.baseline}: its C++ sources differ from the work tree's; build it separately")
    import lcnfast._core as core

    folder = Path(tempfile.mkdtemp(prefix="lcnfast-baseline-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "python/lcnfast"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        shutil.copy(core.__file__, folder / "python" / "lcnfast" / os.path.basename(core.__file__))
        old = _run(str(folder / "python"), args.datasets, args.repeats)
        new = _run("", args.datasets, args.repeats)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    from lcnfast.benchmarks._common import cpu_model

    print(f"# {cpu_model()}; {args.datasets} data sets per architecture, best of {args.repeats}")
    for name in GROUPS:
        a, b = old[name], new[name]
        print(f"{name:40s} {args.baseline}: {a['seconds'] * 1e3:7.1f} ms  this tree: {b['seconds'] * 1e3:7.1f} ms  "
              f"({a['seconds'] / b['seconds']:.2f}x)  points {a['points']} / {b['points']}")


if __name__ == "__main__":
    main()
