"""The ``lcnfast`` command line.

``lcnfast info 3,2,2 --stride 1,2,1 --d0 32`` prints an architecture's summary; 2D
layers are written ``ROWSxCOLS``, e.g. ``lcnfast info 2x2,3x2 --stride 1x1,2x1``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .architecture import Architecture
from .geometry import FunctionSpace

__all__ = ["main"]


def _parse_sizes(text: str, name: str) -> list[Any]:
    """'3,2,2' -> [3, 2, 2];  '2x2,3x1' -> [(2, 2), (3, 1)]."""
    items: list[Any] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            raise argparse.ArgumentTypeError(f"{name}: empty entry in {text!r}")
        try:
            if "x" in part:
                a, b = part.split("x")
                items.append((int(a), int(b)))
            else:
                items.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name}: expected comma-separated integers (or ROWSxCOLS pairs), got {text!r}") from None
    return items


def _parse_width(text: str) -> Any:
    try:
        if "x" in text:
            a, b = text.split("x")
            return (int(a), int(b))
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--d0: expected an integer or ROWSxCOLS, got {text!r}") from None


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


def _format_info(arch: Architecture, info: dict[str, Any]) -> str:
    lines = [repr(arch)]
    rows: list[tuple[str, str]] = [
        ("dimension", f"{info['ndim']}D, {info['kind']} layers"),
        ("layers (L)", str(info["layers"])),
        ("filter sizes (k_l)", ", ".join(_fmt(x) for x in info["k"])),
        ("strides (s_l)", ", ".join(_fmt(x) for x in info["s"])),
        ("dilations (S_l)", ", ".join(_fmt(x) for x in info["dilations"])),
        ("parameters (P)", str(info["n_params"])),
        ("end-to-end filter size", _fmt(info["filter_size"])
         + (f" (reduced from {_fmt(info['full_filter_size'])} modulo x^d0 - 1)"
            if info["filter_size"] != info["full_filter_size"] else "")),
        ("end-to-end stride (S)", _fmt(info["stride"])),
    ]
    if info["n_even"] is not None:
        rows.append(("even filters (e)", str(info["n_even"])))
    if "widths" in info:
        rows.append(("widths (d_0 -> d_L)", " -> ".join(_fmt(w) for w in info["widths"])))
    if "function_space_dim" in info:
        rows.append(("function space", f"dim {info['function_space_dim']} of {info['ambient_dim']} "
                     f"({'thick' if info['thick'] else 'thin'}), filling: {info['filling']}"))
    width = max(len(r[0]) for r in rows)
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _cmd_info(args: argparse.Namespace) -> int:
    kind = "circular" if args.circular else "valid"
    arch = Architecture(args.k, args.stride, kind=kind, d0=args.d0)
    info = arch.summary()
    fs = FunctionSpace(arch)
    info["function_space_dim"] = fs.dim
    info["ambient_dim"] = fs.ambient_dim
    info["thick"] = fs.is_thick
    try:
        info["filling"] = "yes" if fs.is_filling else "no"
    except NotImplementedError:
        info["filling"] = "unknown"
    if args.json:
        print(json.dumps({key: _jsonable(value) for key, value in info.items()}))
    else:
        print(_format_info(arch, info))
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .experiments import reproduce

    only = [n.strip() for n in args.only.split(",")] if args.only else None
    reproduce(args.out, full=args.full, seed=args.seed, only=only, force=args.force,
              show_progress=not args.no_progress)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .experiments import sweep

    sweep(args.config, args.scheduler, out=args.out, serial=args.serial, workers=args.workers,
          retry_failed=args.retry_failed, show_progress=not args.no_progress)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import os
    import subprocess

    from .benchmarks._common import OPENBLAS_VARS

    # In a child process: without the OPENBLAS_* overrides that slow numpy on some machines
    # (a fair baseline), unless asked to keep them.
    env = dict(os.environ)
    if not args.keep_openblas_env:
        for name in OPENBLAS_VARS:
            env.pop(name, None)
    command = [sys.executable, "-m", "lcnfast.benchmarks"] + (["--json"] if args.json else [])
    return subprocess.run(command, env=env, check=False).returncode


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lcnfast`` command."""
    parser = argparse.ArgumentParser(
        prog="lcnfast", description="Geometry and optimisation of linear convolutional networks.")
    parser.add_argument("--version", action="version", version=f"lcnfast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    info = sub.add_parser("info", help="summarise an architecture",
                          description="Summarise an architecture: end-to-end filter size and stride, "
                                      "widths, parameters, even filters.")
    info.add_argument("k", type=lambda t: _parse_sizes(t, "k"),
                      help="filter sizes, e.g. 3,2,2 (2D: 2x2,3x2)")
    info.add_argument("--stride", "-s", type=lambda t: _parse_sizes(t, "--stride"), default=None,
                      help="strides, e.g. 1,2,1 (default all 1)")
    info.add_argument("--d0", type=_parse_width, default=None, help="input width (2D: ROWSxCOLS)")
    info.add_argument("--circular", action="store_true", help="circular layers (needs --d0)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=_cmd_info)
    rep = sub.add_parser("reproduce", help="run the paper's kind of experiments (tables, figures, summary.md)",
                         description="Run the experiments: function spaces, strides, invariants, repeated "
                                     "filters. Results, figures and summary.md go to --out; finished "
                                     "experiments are reused unless --force.")
    rep.add_argument("--out", default="lcnfast-results", help="output folder (default ./lcnfast-results)")
    rep.add_argument("--full", action="store_true", help="paper-size sweeps (much longer)")
    rep.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    rep.add_argument("--only", default=None, help="comma-separated experiment names")
    rep.add_argument("--force", action="store_true", help="recompute finished experiments")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars")
    rep.set_defaults(func=_cmd_reproduce)
    swp = sub.add_parser("sweep", help="run a landscape sweep from a TOML config on Dask (resumable)",
                         description="Run a landscape sweep (architectures x data sets x chunks of GD starts, "
                                     "critical points per data set) on dask.distributed: a LocalCluster by default, "
                                     "or the scheduler at --scheduler. Each finished task is appended to "
                                     "OUT/tasks.jsonl; running again resumes. Tables go to OUT/summary.md.")
    swp.add_argument("config", help="the sweep's TOML file (see the README)")
    swp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786")
    swp.add_argument("--out", default="lcnfast-sweep", help="output folder (default ./lcnfast-sweep)")
    swp.add_argument("--workers", type=int, default=None,
                     help="worker processes of the local cluster (default: one per core)")
    swp.add_argument("--serial", action="store_true", help="run in this process without Dask (same numbers)")
    swp.add_argument("--retry-failed", action="store_true", help="run again the tasks recorded as failed")
    swp.add_argument("--no-progress", action="store_true", help="no progress bar")
    swp.set_defaults(func=_cmd_sweep)
    bench = sub.add_parser("bench", help="run the benchmarks at a small size and print their ratios",
                           description="Run the bench/ suite (lcnfast.benchmarks) at a small size: ratios "
                                       "against numpy, PyTorch (when installed) and sympy baselines.")
    bench.add_argument("--json", action="store_true", help="print the rows as JSON")
    bench.add_argument("--keep-openblas-env", action="store_true", help=argparse.SUPPRESS)
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, ConnectionError, ImportError) as exc:
        parser.exit(2, f"lcnfast {args.command}: error: {exc}\n")
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
