"""The ``lcnfast`` command line.

``lcnfast info 3,2,2 --stride 1,2,1 --d0 32`` prints an architecture's summary; 2D
layers are written ``ROWSxCOLS``, e.g. ``lcnfast info 2x2,3x2 --stride 1x1,2x1``.
``lcnfast factor 2,2 1,3,2`` decides whether a filter is in the function space and lists
its factorisations; ``lcnfast landscape 2,2,2 --random-data 0`` prints every critical point
of a loss; ``lcnfast versions`` prints what a bug report needs. ``-v``/``-q`` set how much
is logged (the ``lcnfast`` logger) and shown.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Sequence
from typing import Any

from ._core import __version__
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


def _architecture(args: argparse.Namespace) -> Architecture:
    kind = "circular" if getattr(args, "circular", False) else "valid"
    return Architecture(args.k, getattr(args, "stride", None), kind=kind, d0=getattr(args, "d0", None))


def _cmd_info(args: argparse.Namespace) -> int:
    arch = _architecture(args)
    info = arch.summary()
    fs = FunctionSpace(arch)
    info["function_space_dim"] = fs.dim
    info["ambient_dim"] = fs.ambient_dim
    info["thick"] = fs.is_thick
    filling: bool | None
    try:
        filling = bool(fs.is_filling)
    except NotImplementedError:
        filling = None
    if args.json:  # real JSON: true / false / null
        info["filling"] = filling
        print(json.dumps({key: _jsonable(value) for key, value in info.items()}))
    else:
        info["filling"] = {True: "yes", False: "no", None: "unknown"}[filling]
        print(_format_info(arch, info))
    return 0


def _parse_filter(text: str) -> list[float]:
    try:
        return [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"v: expected comma-separated numbers, got {text!r}") from None


def _cmd_factor(args: argparse.Namespace) -> int:
    import numpy as np

    arch = _architecture(args)
    fs = FunctionSpace(arch)
    v = np.asarray(args.v, dtype=np.float64)
    size = int(np.prod(arch.filter_shape))
    if v.size != size:
        raise ValueError(f"v: the end-to-end filter of {arch!r} has {size} entries"
                         + (f" ({'x'.join(map(str, arch.filter_shape))}, row by row)" if arch.ndim == 2 else "")
                         + f", got {v.size}")
    v = v.reshape(arch.filter_shape)
    member = bool(fs.contains(v))
    location = str(fs.locate(v)) if arch.ndim == 1 else ("inside" if member else "outside")
    factorizations = fs.factorizations(v) if member else []
    if args.json:
        print(json.dumps({"v": v.tolist(), "member": member, "location": location,
                          "factorizations": [[w.tolist() for w in arch.split(theta)] for theta in factorizations]}))
        return 0
    print(f"{arch!r}, v = {np.array2string(v, separator=', ')}")
    print(f"  in the function space: {'yes' if member else 'no'} ({location})")
    if member:
        print(f"  factorisations (up to rescaling the layers): {len(factorizations)}")
        for i, theta in enumerate(factorizations, 1):
            layers = "  ".join(f"w{l + 1} = {np.array2string(w, precision=6, separator=', ')}"
                               for l, w in enumerate(arch.split(theta)))
            print(f"  {i:>3}. {layers}")
    return 0


def _landscape_loss(args: argparse.Namespace, arch: Architecture) -> Any:
    """The loss of ``lcnfast landscape``: from --data (X, Y or G, u arrays) or random data."""
    import numpy as np

    from .losses import QuadraticLoss, SquaredLoss

    if args.data is not None:
        try:
            with open(args.data, "rb") as handle:
                is_zip = handle.read(4) == b"PK\x03\x04"
        except OSError as exc:
            raise ValueError(f"--data: cannot read {args.data} ({exc.strerror})") from None
        if not is_zip:
            raise ValueError(f"--data: {args.data} is not an .npz file (numpy.savez); from a CSV or other arrays, "
                             "write one with numpy.savez(path, X=X, Y=Y) or numpy.savez(path, G=G, u=u)")
        try:
            with np.load(args.data, allow_pickle=False) as stored:
                arrays = {key: np.asarray(stored[key]) for key in stored.files}
        except (OSError, ValueError) as exc:
            raise ValueError(f"--data: cannot read {args.data} as an .npz file ({exc})") from None
        if {"G", "u"} <= set(arrays):
            return QuadraticLoss(arrays["G"], arrays["u"])
        if {"X", "Y"} <= set(arrays):
            X = arrays["X"]
            for name in ("X", "Y"):
                if arrays[name].ndim != 2:
                    raise ValueError(f"--data: {name} must be a 2-D array (samples in rows), got shape "
                                     f"{arrays[name].shape}")
            return SquaredLoss.from_data(Architecture(arch.k, arch.s, d0=int(X.shape[1])), X, arrays["Y"])
        raise ValueError(f"--data: {args.data} holds {sorted(arrays)}; expected arrays X and Y (inputs and "
                         "targets, samples in rows) or G and u (the quadratic loss (v - u)^T G (v - u))")
    K = int(arch.filter_shape[0])
    rng = np.random.default_rng(args.random_data)
    sized = Architecture(arch.k, arch.s, d0=K + 4 * int(np.prod(arch.s)))  # a few outputs, any strides
    d0, d_out = sized.widths()[0], sized.widths()[-1]
    X = rng.standard_normal((4 * K, d0))
    Y = rng.standard_normal((4 * K, d_out))  # random data, no teacher
    return SquaredLoss.from_data(sized, X, Y)


def _cmd_landscape(args: argparse.Namespace) -> int:
    from .critical import critical_points

    arch = _architecture(args)
    loss = _landscape_loss(args, arch)
    landscape = critical_points(arch, loss, seed=args.seed, progress=not args.quiet and sys.stderr.isatty())
    rows = [{"loss": f"{p.loss:.6g}", "partition": ",".join(map(str, p.partition)) or "-", "location": p.location,
             "verdict": p.verdict, "lifts": str(len(p.lifts)),
             "v": "[" + ", ".join(f"{x:.4g}" for x in p.v) + "]"} for p in landscape.points]
    if args.json:
        print(json.dumps({"complete": landscape.complete, "points": [
            {"loss": p.loss, "partition": list(p.partition), "location": p.location, "verdict": p.verdict,
             "lifts": len(p.lifts), "v": p.v.tolist()} for p in landscape.points]}))
        return 0
    print(f"{arch!r}: {len(rows)} critical point(s) of the loss, sorted by loss"
          + ("" if landscape.complete else " (INCOMPLETE: some homotopy paths were not recovered)"))
    if rows:
        columns = list(rows[0])
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
        print("  " + "  ".join(c.ljust(widths[c]) for c in columns))
        for r in rows:
            print("  " + "  ".join(r[c].ljust(widths[c]) for c in columns))
    return 0


def _cmd_versions(args: argparse.Namespace) -> int:
    from .provenance import show_versions

    show_versions()
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .experiments import reproduce

    only = [n.strip() for n in args.only.split(",")] if args.only else None
    reproduce(args.out, full=args.full, seed=args.seed, only=only, force=args.force,
              show_progress=not (args.no_progress or args.quiet), echo=None if args.quiet else print)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .experiments import sweep

    sweep(args.config, args.scheduler, out=args.out, serial=args.serial, workers=args.workers,
          retry_failed=args.retry_failed, show_progress=not (args.no_progress or args.quiet),
          tables_only=args.tables_only, match_tol=args.match_tol, echo=None if args.quiet else print)
    return 0


def _cmd_atlas(args: argparse.Namespace) -> int:
    from .experiments import atlas

    atlas(args.out, max_degree=args.max_degree, min_degree=args.min_degree, max_stride=args.max_stride,
          datasets=args.datasets, runs=args.runs, seed=args.seed, full=args.full, threads=args.threads,
          client=args.scheduler, serial=args.scheduler is None and args.workers is None, workers=args.workers,
          retry_failed=args.retry_failed, show_progress=not (args.no_progress or args.quiet),
          echo=None if args.quiet else print)
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


class _Parser(argparse.ArgumentParser):
    """An argument parser that reads ``-1,2`` or ``-0.5,1`` as a value, not as an option (on
    every Python: 3.13 does so already, 3.10 to 3.12 took it for an unknown option)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\.?\d")


def _verbosity(parser: argparse.ArgumentParser) -> None:
    """-v / -q, accepted before or after the command (``lcnfast -v reproduce``, ``lcnfast reproduce -v``)."""
    parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log what lcnfast does (the 'lcnfast' logger; -vv for debug detail)")
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="only errors: no progress bars, tables or warnings logged")


def _architecture_arguments(parser: argparse.ArgumentParser, circular: bool = True) -> None:
    parser.add_argument("k", type=lambda t: _parse_sizes(t, "k"), help="filter sizes, e.g. 3,2,2 (2D: 2x2,3x2)")
    parser.add_argument("--stride", "-s", type=lambda t: _parse_sizes(t, "--stride"), default=None,
                        help="strides, e.g. 1,2,1 (default all 1)")
    if circular:
        parser.add_argument("--d0", type=_parse_width, default=None, help="input width (2D: ROWSxCOLS)")
        parser.add_argument("--circular", action="store_true", help="circular layers (needs --d0)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lcnfast`` command."""
    from .experiments import EXPERIMENTS  # their names, for reproduce's help
    parser = _Parser(prog="lcnfast", description="Geometry and optimisation of linear convolutional networks.")
    parser.add_argument("--version", action="version", version=f"lcnfast {__version__}")
    _verbosity(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    info = sub.add_parser("info", help="summarise an architecture",
                          description="Summarise an architecture: end-to-end filter size and stride, "
                                      "widths, parameters, even filters.")
    _architecture_arguments(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    _verbosity(info)
    info.set_defaults(func=_cmd_info)
    factor = sub.add_parser("factor", help="is a filter in the function space? its factorisations",
                            description="Decide exactly whether the end-to-end filter v (coefficients of "
                                        "1, x, x^2, ...) is in the function space of the architecture, where "
                                        "(interior or boundary), and list its factorisations into layer filters.")
    _architecture_arguments(factor, circular=False)
    factor.add_argument("v", type=_parse_filter, help="the filter, e.g. 1,3,2")
    factor.add_argument("--json", action="store_true", help="print one JSON object")
    _verbosity(factor)
    factor.set_defaults(func=_cmd_factor)
    land = sub.add_parser("landscape", help="every critical point of a loss (1D, any strides)",
                          description="Enumerate every critical point of the squared loss of a 1D architecture "
                                      "(homotopy continuation on every stratum, or on every family of a strided "
                                      "architecture) and print them by loss with their partition, location and "
                                      "verdict.")
    land.add_argument("k", type=lambda t: _parse_sizes(t, "k"), help="filter sizes, e.g. 2,2,2")
    land.add_argument("--stride", "-s", type=lambda t: _parse_sizes(t, "--stride"), default=None,
                      help="strides, e.g. 1,2,1 (default all 1)")
    data = land.add_mutually_exclusive_group()
    data.add_argument("--data", default=None, metavar="FILE.npz",
                      help="arrays X and Y (samples in rows) or G and u (the loss (v - u)^T G (v - u))")
    data.add_argument("--random-data", type=int, default=0, metavar="SEED",
                      help="Gaussian inputs and targets from this seed (the default, seed 0)")
    land.add_argument("--seed", type=int, default=0, help="seed of the homotopy's random choices")
    land.add_argument("--json", action="store_true", help="print one JSON object")
    _verbosity(land)
    land.set_defaults(func=_cmd_landscape)
    versions = sub.add_parser("versions", help="versions, SIMD backend, threads and CPU (for bug reports)",
                              description="Print lcnfast's version and its dependencies', the SIMD backend, "
                                          "threads and CPU model (lcnfast.show_versions()).")
    _verbosity(versions)
    versions.set_defaults(func=_cmd_versions)
    rep = sub.add_parser("reproduce", help="run the paper's kind of experiments (tables, figures, summary.md)",
                         description="Run the experiments (" + ", ".join(EXPERIMENTS) + "). Results, figures "
                                     "and summary.md go to --out; finished experiments are reused unless "
                                     "--force.")
    rep.add_argument("--out", default="lcnfast-results", help="output folder (default ./lcnfast-results)")
    rep.add_argument("--full", action="store_true", help="paper-size sweeps (much longer)")
    rep.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    rep.add_argument("--only", default=None, metavar="NAMES",
                     help=f"comma-separated experiment names, of: {', '.join(EXPERIMENTS)}")
    rep.add_argument("--force", action="store_true", help="recompute finished experiments")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars")
    _verbosity(rep)
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
    swp.add_argument("--tables-only", action="store_true",
                     help="run nothing: rebuild the tables from the finished tasks in --out")
    swp.add_argument("--match-tol", type=float, default=None, metavar="TOL",
                     help="match GD limits to critical points within TOL (1 + |v|) (default 1e-3), from the "
                          "per-run limits the journal keeps")
    swp.add_argument("--no-progress", action="store_true", help="no progress bar")
    _verbosity(swp)
    swp.set_defaults(func=_cmd_sweep)
    atl = sub.add_parser("atlas", help="the landscape of every small architecture over many data sets (resumable)",
                         description="Compute the landscape atlas: every 1D architecture with end-to-end degree in "
                                     "[--min-degree, --max-degree] (strides up to --max-stride, each once up to "
                                     "reordering its layers), its function space, the certified ED degrees of its "
                                     "families for four metrics, and over --datasets Gaussian data sets every "
                                     "critical point (classified) and where --runs GD runs end. Tables (CSV), "
                                     "figures and OUT/atlas.md; each finished task is appended to "
                                     "OUT/tasks.jsonl and running again resumes.")
    atl.add_argument("--out", default="lcnfast-atlas", help="output folder (default ./lcnfast-atlas)")
    atl.add_argument("--max-degree", type=int, default=None, metavar="D",
                     help="largest end-to-end degree (default 5; 6 with --full)")
    atl.add_argument("--min-degree", type=int, default=1, metavar="D", help="smallest end-to-end degree (default 1)")
    atl.add_argument("--max-stride", type=int, default=2, metavar="S",
                     help="largest stride of a layer (default 2; 1: stride one only)")
    atl.add_argument("--datasets", type=int, default=None, metavar="N",
                     help="data sets per architecture (default 100; 1000 with --full)")
    atl.add_argument("--runs", type=int, default=None, metavar="R",
                     help="GD runs per data set (default 50; 100 with --full)")
    atl.add_argument("--seed", type=int, default=0, help="root of every seed (default 0)")
    atl.add_argument("--full", action="store_true", help="the large atlas (D <= 6, 1000 data sets)")
    atl.add_argument("--threads", type=int, default=None, help="C++ threads per task (default: all cores)")
    atl.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run on the Dask scheduler at ADDRESS, e.g. tcp://10.0.0.1:8786")
    atl.add_argument("--workers", type=int, default=None,
                     help="run on a private local Dask cluster with this many worker processes")
    atl.add_argument("--retry-failed", action="store_true", help="run again the tasks recorded as failed")
    atl.add_argument("--no-progress", action="store_true", help="no progress bar")
    _verbosity(atl)
    atl.set_defaults(func=_cmd_atlas)
    bench = sub.add_parser("bench", help="run the benchmarks at a small size and print their ratios",
                           description="Run the bench/ suite (lcnfast.benchmarks) at a small size: ratios "
                                       "against numpy, PyTorch (when installed) and sympy baselines.")
    bench.add_argument("--json", action="store_true", help="print the rows as JSON")
    bench.add_argument("--keep-openblas-env", action="store_true", help=argparse.SUPPRESS)
    _verbosity(bench)
    bench.set_defaults(func=_cmd_bench)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    """Send the ``lcnfast`` logger to stderr at the level -v/-q ask for (the library itself
    only has a NullHandler), and warnings through logging when quiet."""
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logger = logging.getLogger("lcnfast")
    for old in [h for h in logger.handlers if getattr(h, "_lcnfast_cli", False)]:  # main() called again
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("lcnfast: %(levelname)s: %(message)s"))
    handler._lcnfast_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    if quiet:
        import warnings

        warnings.simplefilter("ignore")


def _interrupted(args: argparse.Namespace) -> str:
    """One line for Ctrl-C: what was kept and how to go on."""
    if args.command == "reproduce":
        return (f"lcnfast reproduce: interrupted; finished experiments are saved under {args.out}/ (one "
                "result.json each) and are reused: run the same command again to resume")
    if args.command == "atlas":
        return (f"lcnfast atlas: interrupted; every finished task is saved in {args.out}/tasks.jsonl: run the "
                "same command again to resume")
    if args.command == "sweep":
        return (f"lcnfast sweep: interrupted; every finished task is saved in {args.out}/tasks.jsonl: run the "
                "same command again to resume")
    return f"lcnfast {args.command}: interrupted"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, 130 after Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbose = getattr(args, "verbose", 0) or 0
    args.quiet = bool(getattr(args, "quiet", False))
    _configure_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(_interrupted(args), file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, ImportError, NotImplementedError) as exc:
        # OSError: a folder that cannot be made or written (e.g. --out /proc/nope), a file that
        # cannot be read; ConnectionError (an unreachable scheduler) is one
        parser.exit(2, f"lcnfast {args.command}: error: {exc}\n")
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
