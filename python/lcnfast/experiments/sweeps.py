"""Landscape sweeps that outgrow one machine: the same study as ``reproduce``'s landscape
experiment over many architectures, data sets and starts, run on Dask.

A sweep is described by a TOML file (see :class:`SweepConfig`) and splits into tasks:

* ``enumerate``, one per (architecture, data set): every critical point of the loss
  (:func:`lcnfast.critical_points`);
* ``train``, one per (architecture, data set, chunk of starts): gradient descent from the
  chunk's starts, and how many runs end at each critical point (it depends on the
  ``enumerate`` task of its data set).

Every task draws its data and starts from seeds derived from the sweep's seed and the
task's own coordinates, never from a shared stream, so a task computes the same numbers
wherever and whenever it runs: serially, on any number of workers, or after a resume. The
driver appends each finished task's result to ``OUT/tasks.jsonl`` as it arrives; a rerun
with the same configuration skips the tasks found there. A task that raises is recorded
with its error and the sweep goes on; a task whose worker dies is rescheduled by Dask
(``distributed.scheduler.allowed-failures`` times). The aggregate is written to
``OUT/result.json``, CSV tables and ``OUT/summary.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import as_real
from ..provenance import provenance
from ._common import ExperimentResult, progress
from ._store import ResultStore, TaskJournal, provenance_text
from .landscape import MATCH_TOL

__all__ = ["SweepConfig", "SweepTask", "connect", "journal_futures", "load_config", "private_cluster", "quiet_when_interrupted",
           "record_validator", "run_recorded", "sweep", "sweep_tasks"]

_KEYS = {"seed", "architectures", "max_layers", "max_filter", "datasets", "samples", "starts", "chunk", "steps",
         "enumerate", "threads"}


@dataclass(frozen=True)
class SweepConfig:
    """What a sweep computes (the ``[sweep]`` table of its TOML file).

    Attributes
    ----------
    architectures : tuple of tuple of int
        Stride-one 1D filter sizes ``k``. In the TOML file either ``architectures = [[2, 2],
        [3, 3]]`` or ``max_layers``/``max_filter``: every ``k`` with ``2 <= L <= max_layers``
        layers and ``2 <= k_l <= max_filter``, up to order (for stride one the order of the
        layers does not change the function space).
    datasets : int
        Random data sets per architecture (Gaussian inputs and targets).
    samples : int
        Samples ``N`` per data set.
    starts : int
        Gradient-descent starts per data set, split into tasks of ``chunk`` starts.
    steps : int
        Step limit of each gradient-descent run.
    enumerate : bool
        Enumerate the critical points of each data set (otherwise only the GD statistics).
    threads : int or None
        C++ threads per task (``None``: all cores; ``1`` suits one worker per core).
    seed : int
        Root of every seed.
    """

    architectures: tuple[tuple[int, ...], ...]
    datasets: int = 1
    samples: int = 40
    starts: int = 1000
    chunk: int = 250
    steps: int = 100000
    enumerate: bool = True
    threads: int | None = None
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """The config as plain JSON types (architectures as lists)."""
        return {**asdict(self), "architectures": [list(k) for k in self.architectures]}

    def fingerprint(self) -> str:
        """A hash of everything that changes the numbers (not ``threads``)."""
        data = {k: v for k, v in self.to_json().items() if k != "threads"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _positive_int(table: Mapping[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"config: '{key}' must be a positive integer, got {value!r}")
    return value


def load_config(config: str | os.PathLike[str] | Mapping[str, Any] | SweepConfig) -> SweepConfig:
    """A :class:`SweepConfig` from a TOML file, a mapping (the file's content, with or
    without the ``[sweep]`` table) or a config; errors name the offending key."""
    if isinstance(config, SweepConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if not path.is_file():
            raise ValueError(f"config: no such file: {path}")
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data: Mapping[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"config: {path} is not valid TOML: {exc}") from None
    elif isinstance(config, Mapping):
        data = config
    else:
        raise TypeError(f"config: expected a path, a mapping or a SweepConfig, got {type(config).__name__}")
    table = data.get("sweep", data)
    if not isinstance(table, Mapping):
        raise ValueError("config: [sweep] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(f"config: unknown key(s) {unknown}; known: {sorted(_KEYS)}")
    if "architectures" in table:
        if "max_layers" in table or "max_filter" in table:
            raise ValueError("config: give either 'architectures' or 'max_layers'/'max_filter', not both")
        raw = table["architectures"]
        if not isinstance(raw, list) or not raw:
            raise ValueError("config: 'architectures' must be a non-empty list of filter-size lists")
        archs = []
        for k in raw:
            if (not isinstance(k, list) or not k
                    or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in k)):
                raise ValueError(f"config: 'architectures' entry {k!r} is not a list of positive integers")
            archs.append(tuple(k))
    else:
        layers = _positive_int(table, "max_layers", 2)
        width = _positive_int(table, "max_filter", 3)
        if layers < 2 or width < 2:
            raise ValueError("config: 'max_layers' and 'max_filter' must be at least 2")
        archs = [tuple(sorted(k, reverse=True)) for L in range(2, layers + 1)
                 for k in itertools.combinations_with_replacement(range(2, width + 1), L)]
    if len(set(archs)) != len(archs):
        raise ValueError("config: 'architectures' has duplicates")
    threads = table.get("threads")
    if threads is not None:
        threads = _positive_int(table, "threads", 1)
    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"config: 'seed' must be a non-negative integer, got {seed!r}")
    enum = table.get("enumerate", True)
    if not isinstance(enum, bool):
        raise ValueError(f"config: 'enumerate' must be true or false, got {enum!r}")
    return SweepConfig(architectures=tuple(archs), datasets=_positive_int(table, "datasets", 1),
                       samples=_positive_int(table, "samples", 40), starts=_positive_int(table, "starts", 1000),
                       chunk=_positive_int(table, "chunk", 250), steps=_positive_int(table, "steps", 100000),
                       enumerate=enum, threads=threads, seed=seed)


@dataclass(frozen=True)
class SweepTask:
    """One unit of work: ``kind`` is ``"enumerate"`` or ``"train"``; ``chunk`` is ``-1`` for
    enumeration. ``key`` names it in ``tasks.jsonl`` and on the Dask scheduler."""

    kind: str
    k: tuple[int, ...]
    dataset: int
    chunk: int = -1
    runs: int = 0

    @property
    def key(self) -> str:
        """``kind/k=2-3/data=0[/chunk=1]``."""
        name = f"{self.kind}/k={'-'.join(map(str, self.k))}/data={self.dataset}"
        return name if self.chunk < 0 else f"{name}/chunk={self.chunk}"

    @property
    def parent(self) -> str:
        """The enumeration task this task's matching depends on."""
        return SweepTask("enumerate", self.k, self.dataset).key


def sweep_tasks(config: SweepConfig) -> list[SweepTask]:
    """All tasks of a sweep, enumerations first."""
    tasks: list[SweepTask] = []
    trains: list[SweepTask] = []
    for k in config.architectures:
        for d in range(config.datasets):
            if config.enumerate:
                tasks.append(SweepTask("enumerate", k, d))
            for c, begin in enumerate(range(0, config.starts, config.chunk)):
                trains.append(SweepTask("train", k, d, c, min(config.chunk, config.starts - begin)))
    return tasks + trains


def _problem(config: SweepConfig, task: SweepTask) -> Any:
    from .landscape import landscape_problem

    # data from the task's coordinates only: (seed, "data", dataset, k)
    rng = np.random.default_rng([config.seed, 0, task.dataset, len(task.k), *task.k])
    return landscape_problem(task.k, rng, config.samples)


def _enumerate(config: SweepConfig, task: SweepTask) -> dict[str, Any]:
    from ..critical import critical_points
    from .landscape import point_row

    arch, loss = _problem(config, task)
    land = critical_points(arch, loss, seed=config.seed)
    return {"points": [{**point_row(task.k, p), "v": p.v.tolist()} for p in land.points],
            "counts": [dict(row) for row in land.counts]}


def _train(config: SweepConfig, task: SweepTask, points: list[list[float]]) -> dict[str, Any]:
    from .landscape import gd_limits, match_limits

    arch, loss = _problem(config, task)
    seed = int(np.random.default_rng([config.seed, 1, task.dataset, task.chunk, len(task.k), *task.k])
               .integers(1 << 62))
    trained = gd_limits(arch, loss, task.runs, seed, steps=config.steps, threads=config.threads)
    done = trained.converged
    K = int(trained.v.shape[1])
    hits, ambiguous, unmatched = match_limits(np.array(points, dtype=float).reshape(len(points), K), trained.v[done])
    finite = trained.loss[np.isfinite(trained.loss)]
    # every run's limit, status and loss are kept, so that the tables can be rebuilt with
    # another matching tolerance without training again (sweep(tables_only=True, match_tol=...))
    return {"runs": task.runs, "converged": int(done.sum()), "hits": hits.tolist(), "ambiguous": ambiguous,
            "unmatched": unmatched,
            "statuses": {s: int(n) for s, n in zip(*np.unique(trained.status, return_counts=True))},
            "best_loss": float(finite.min()) if finite.size else None,
            "limits": trained.v.reshape(task.runs, K).tolist(), "status": [str(s) for s in trained.status],
            "loss": trained.loss.tolist()}


def run_recorded(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The journal record of one task: ``{"task", "status": "ok", "result", "seconds"}``, or
    for a task that raised ``{"task", "status": "error", "error", "traceback", "seconds"}``
    (never raises: the sweep or atlas goes on)."""
    start = time.perf_counter()
    try:
        record: dict[str, Any] = {"task": key, "status": "ok", "result": compute()}
    except Exception as exc:  # noqa: BLE001 - recorded, the work goes on
        record = {"task": key, "status": "error", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _run_task(config: SweepConfig, task: SweepTask, parent: dict[str, Any] | None) -> dict[str, Any]:
    """Run one task; never raises: an error becomes a record (``status: "error"``)."""
    def compute() -> dict[str, Any]:
        if task.kind == "enumerate":
            return _enumerate(config, task)
        if parent is None or parent.get("status") != "ok":
            # without its data set's critical points a train task has nothing to attribute
            # its limits to: it fails too (and --retry-failed runs both again), rather than
            # recording every limit as "unmatched"
            raise RuntimeError(f"its enumeration task {task.parent} did not finish")
        return _train(config, task, [p["v"] for p in parent["result"]["points"]])

    return run_recorded(task.key, compute)


_RESULT_KEYS = {"enumerate": ("points", "counts"), "train": ("runs", "converged", "hits", "unmatched", "best_loss")}


def record_validator(result_keys: Mapping[str, Sequence[str]]) -> Callable[[Any], bool]:
    """Whether a journal line holds a task record the aggregation can use: an error with its
    message, or a result with the keys ``result_keys`` lists for the task's kind (the task
    name's first ``/``-separated part)."""
    def valid(record: Any) -> bool:
        if not (isinstance(record, dict) and isinstance(record.get("task"), str)):
            return False
        if record.get("status") == "error":
            return isinstance(record.get("error"), str)
        result = record.get("result")
        kind = record["task"].split("/", 1)[0]
        return (record.get("status") == "ok" and isinstance(result, dict) and kind in result_keys
                and all(key in result for key in result_keys[kind]))

    return valid


_valid_record = record_validator(_RESULT_KEYS)


def _journal(folder: Path, config: SweepConfig) -> TaskJournal:
    """The sweep's journal in ``folder`` (``sweep.json`` and ``tasks.jsonl``)."""
    return TaskJournal(folder, what="sweep", fingerprint=config.fingerprint(), valid=_valid_record,
                       header={"config": config.to_json(), "provenance": provenance(seed=config.seed)})


def _run_serial(config: SweepConfig, todo: list[SweepTask], journal: TaskJournal,
                bar: Callable[[Iterator[dict[str, Any]]], Iterator[dict[str, Any]]]) -> None:
    def records() -> Iterator[dict[str, Any]]:
        for task in todo:
            yield _run_task(config, task, journal.done.get(task.parent))

    for record in bar(records()):
        journal.add(record)


def _run_dask(config: SweepConfig, todo: list[SweepTask], journal: TaskJournal, client: Any,
              bar: Callable[[Iterator[dict[str, Any]]], Iterator[dict[str, Any]]]) -> None:
    prefix = f"lcnfast-sweep-{config.fingerprint()}-"
    futures: dict[str, Any] = {}
    for task in todo:  # enumerations come first, so a train task finds its parent's future
        parent: Any = futures.get(task.parent, journal.done.get(task.parent))
        futures[task.key] = client.submit(_run_task, config, task, parent, key=prefix + task.key, pure=False)
    journal_futures(client, futures, journal, bar)


def journal_futures(client: Any, futures: dict[str, Any], journal: TaskJournal,
                    bar: Callable[[Iterator[dict[str, Any]]], Iterator[dict[str, Any]]],
                    then: Callable[[str, str | None], tuple[str, Any] | None] | None = None) -> None:
    """Journal each task's record as its future completes (``futures``: task name -> future);
    a future that raises (e.g. ``KilledWorker``: its workers died ``allowed-failures`` times)
    becomes an error record. The futures left are cancelled on the way out (Ctrl-C).

    ``then(name, worker)``, called as each task completes with the address of the worker that
    ran it (None when unknown), may submit a task that should follow it there and return its
    ``(name, future)``: that future is awaited and journalled too."""
    from distributed import as_completed

    futures = dict(futures)
    names = {future.key: name for name, future in futures.items()}

    def records() -> Iterator[dict[str, Any]]:
        pending = as_completed(list(futures.values()))  # type: ignore[no-untyped-call,unused-ignore]
        for future in pending:
            name = names[future.key]
            try:
                record = future.result()
            except Exception as exc:  # e.g. KilledWorker: its workers died allowed-failures times
                record = {"task": name, "status": "error", "error": f"{type(exc).__name__}: {exc}", "seconds": 0.0}
            if then is not None:
                holders = client.who_has([future]).get(future.key, ()) if record.get("status") == "ok" else ()
                follow = then(name, next(iter(holders), None))
                if follow is not None:
                    futures[follow[0]] = follow[1]
                    names[follow[1].key] = follow[0]
                    pending.add(follow[1])  # type: ignore[no-untyped-call,unused-ignore]
            future.release()
            yield record

    try:
        for record in bar(records()):
            journal.add(record)
    finally:
        client.cancel(list(futures.values()))


def private_cluster(workers: int) -> Any:
    """A ``LocalCluster`` that only this process can use: its scheduler and workers speak TLS
    with temporary credentials held in this process's memory (``Security.temporary()``),
    so another local user cannot attach a client and run code as this user, and it serves
    no HTTP endpoints (no dashboard, no routes: the HTTP server the scheduler and workers
    always open answers 404). That HTTP server binds a free port on the loopback
    (``dashboard_address=None`` still bound 8787, and failed or warned where another cluster or
    a Jupyter dashboard held it)."""
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    try:
        security = Security.temporary()  # type: ignore[no-untyped-call,unused-ignore]
    except ImportError:
        raise ImportError("sweep: the private local cluster needs the 'cryptography' package for its temporary TLS "
                          "credentials: pip install 'lcnfast[dask]'") from None
    # the worker processes start with SIGINT ignored (inherited across exec): Ctrl-C in a
    # terminal reaches the whole process group, and each worker killed by it printed its own
    # tracebacks (up to 13); this process stops them instead, in order
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        with dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": [],
                              "distributed.worker.preload": ["lcnfast.experiments._dask_worker"]}):
            return LocalCluster(  # type: ignore[no-untyped-call,unused-ignore]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                security=security, protocol="tls://", host="127.0.0.1", scheduler_kwargs={"dashboard": False})
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def quiet_when_interrupted() -> Iterator[None]:
    """Ctrl-C: the cluster is closed with Dask's own loggers silenced (cancelled tasks and
    closing connections are the expected consequence, not errors to report), so the command
    prints its one line."""
    try:
        yield
    except KeyboardInterrupt:
        for name in ("distributed", "asyncio", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        raise


def connect(address: str) -> Any:
    """A client of the scheduler at ``address``; one clear error when it cannot be reached
    (raised before the sweep writes anything)."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("sweep: Dask is needed to run on a cluster: pip install 'lcnfast[dask]' "
                          "(or run with serial=True / --serial)") from None
    try:
        return Client(address, timeout=10)  # type: ignore[no-untyped-call,unused-ignore]
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"client: cannot reach the Dask scheduler at {address} ({exc})") from None


def _rematch(results: list[dict[str, Any]], points: list[dict[str, Any]], tol: float, where: str
             ) -> list[dict[str, Any]]:
    """The train results with hits, ambiguous and unmatched recomputed from their stored limits
    at the matching tolerance ``tol``."""
    from .landscape import match_limits

    V = np.array([p["v"] for p in points], dtype=float)
    out = []
    for result in results:
        if "limits" not in result:
            raise ValueError(f"match_tol: the journal's train tasks of {where} keep no per-run limits (written by an "
                             "earlier lcnfast): run the sweep in a new --out folder to rebuild with another tolerance")
        limits = np.array(result["limits"], dtype=float).reshape(len(result["status"]), -1)
        converged = np.array([s == "converged" for s in result["status"]], dtype=bool)
        hits, ambiguous, unmatched = match_limits(V.reshape(len(points), limits.shape[1]), limits[converged], tol=tol)
        out.append({**result, "hits": hits.tolist(), "ambiguous": ambiguous, "unmatched": unmatched})
    return out


def _aggregate(config: SweepConfig, records: Mapping[str, dict[str, Any]], seconds: float,
               match_tol: float | None = None) -> ExperimentResult:
    """The landscape tables (as ``reproduce`` writes them, with a ``data`` column) from the
    task records, in task order (so the same records always give the same tables); with
    ``match_tol``, GD limits are matched again at that tolerance from the stored limits."""
    from .landscape import gd_rows

    counts_rows: list[dict[str, Any]] = []
    point_rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    missing = 0
    tasks = sweep_tasks(config)
    for task in tasks:
        record = records.get(task.key)
        if record is None:
            missing += 1
        elif record["status"] != "ok":
            failed.append({"task": task.key, "error": record["error"]})
    without: list[str] = []
    for k in config.architectures:
        for d in range(config.datasets):
            parent = records.get(SweepTask("enumerate", k, d).key)
            trains = [records.get(t.key) for t in tasks if t.kind == "train" and t.k == k and t.dataset == d]
            results = [r["result"] for r in trains if r is not None and r["status"] == "ok"]
            if not (parent and parent["status"] == "ok") or not results:
                without.append(f"k={k} data set {d}")  # no rows: never printed as zeros
                continue
            points = parent["result"]["points"]
            if match_tol is not None:
                results = _rematch(results, points, match_tol, f"k={k} data set {d}")
            counts_rows += [{"k": k, "data": d, **row} for row in parent["result"]["counts"]]
            runs = sum(r["runs"] for r in results)
            converged = sum(r["converged"] for r in results)
            hits = np.sum([r["hits"] for r in results], axis=0) if results and points else np.zeros(len(points))
            for p, h in zip(points, hits):
                row = {key: value for key, value in p.items() if key != "v"}
                point_rows.append({**row, "k": k, "data": d, "gd_fraction": float(h) / max(runs, 1)})
            ambiguous = sum(r.get("ambiguous", 0) for r in results)
            unmatched = sum(r["unmatched"] for r in results)
            losses = [r["best_loss"] for r in results if isinstance(r["best_loss"], (int, float))
                      and r["best_loss"] == r["best_loss"]]
            best = min(losses) if losses else None
            point_rows += [{**row, "k": k, "data": d}
                           for row in gd_rows(k, runs, converged, ambiguous, unmatched, best)]
    ordered = [{c: row[c] for c in ("k", "data", "loss", "partition", "location", "verdict", "lifts",
                                    "gd_fraction")} for row in point_rows]
    result = ExperimentResult(name="sweep", title="Landscape sweep: all critical points, and where GD goes",
                              tables={"critical points per stratum": counts_rows, "critical points": ordered},
                              parameters={"config": config.to_json(), "tasks": len(tasks), "missing": missing,
                                          "failed": len(failed), "seconds": round(seconds, 2),
                                          "match_tol": MATCH_TOL if match_tol is None else match_tol})
    if failed:
        result.tables["failed tasks"] = failed
    result.notes.append(
        f"{len(config.architectures)} architectures x {config.datasets} data sets ({config.samples} Gaussian samples, "
        f"Gaussian targets), {config.starts} GD starts each. Critical points by homotopy continuation on every "
        "multiple-root stratum (as in the landscape experiment); gd_fraction: share of all GD runs ending at each "
        "point (polished limits, attributed only when unambiguous), then the converged limits that are ambiguous or "
        "near no point, then the runs not converged (its loss: the best final loss of any run); a data set's "
        "shares add up to 1.")
    if missing:
        result.notes.append(f"{missing} of {len(tasks)} tasks have not finished: run the sweep again to resume.")
    if failed:
        result.notes.append(f"{len(failed)} of {len(tasks)} tasks failed (table 'failed tasks'): run the sweep again "
                            "with --retry-failed.")
    if without:
        result.notes.append("No data (enumeration or every train task not finished): " + ", ".join(without) + ".")
    elif not missing and not failed:
        result.notes.append(f"All {len(tasks)} tasks finished.")
    return result


def sweep(config: str | os.PathLike[str] | Mapping[str, Any] | SweepConfig, client: Any = None, *,
          out: str | os.PathLike[str] = "lcnfast-sweep", serial: bool = False, workers: int | None = None,
          retry_failed: bool = False, show_progress: bool = True, tables_only: bool = False,
          match_tol: float | None = None, echo: Callable[[str], Any] | None = print) -> ExperimentResult:
    """Run a landscape sweep, streaming each task's result to ``out/tasks.jsonl``.

    Parameters
    ----------
    config : path, mapping or SweepConfig
        The sweep (see :class:`SweepConfig` and :func:`load_config`).
    client : distributed.Client or str, optional
        Where to run: a client, or a scheduler address (``"tcp://host:8786"``). By default a
        ``LocalCluster`` with ``workers`` processes (one per core) is started and closed.
    out : path
        Output folder. Finished tasks found there are not run again (resume), provided the
        configuration is the same (otherwise ``ValueError``).
    serial : bool
        Run the tasks one after the other in this process, without Dask (same numbers).
    workers : int, optional
        Worker processes of the default ``LocalCluster``.
    retry_failed : bool
        Run again the tasks recorded as failed in ``out`` (by default a resume keeps them).
    show_progress : bool
        A progress bar (tqdm) over the tasks.
    tables_only : bool
        Run nothing: rebuild the tables from the tasks already in ``out/tasks.jsonl`` (e.g.
        with another ``match_tol``); unfinished tasks are reported as missing.
    match_tol : float, optional
        Match each converged GD limit to a critical point within ``match_tol (1 + ||v||)``
        (default ``1e-3``), from the per-run limits every train task stores.
    echo : callable or None
        Where the tables go when done (default ``print``).

    Returns
    -------
    ExperimentResult
        The aggregated tables, also written to ``out/result.json``, CSV files and
        ``out/summary.md``.
    """
    cfg = load_config(config)
    folder = Path(out)
    if match_tol is not None:
        match_tol = as_real(match_tol, "match_tol", positive=True)
    if not isinstance(tables_only, (bool, np.bool_)):
        raise TypeError(f"tables_only: expected a bool, got {type(tables_only).__name__}")
    if tables_only and not (folder / "tasks.jsonl").exists():
        raise ValueError(f"tables_only: {folder / 'tasks.jsonl'} does not exist: there is no sweep to rebuild")
    if serial and client is not None:
        raise ValueError("client: give a client or serial=True, not both")
    if workers is not None and (isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer))
                                or workers < 1):
        raise ValueError(f"workers: must be a positive integer, got {workers!r}")
    # a scheduler given by address is reached before anything is written
    remote = connect(client) if isinstance(client, str) and not serial and not tables_only else None
    try:
        return _sweep_into(cfg, folder, match_tol, tables_only, serial, client if remote is None else remote,
                           workers, retry_failed, show_progress, echo)
    finally:
        if remote is not None:
            remote.close()


def _sweep_into(cfg: SweepConfig, folder: Path, match_tol: float | None, tables_only: bool, serial: bool,
                client: Any, workers: Any, retry_failed: bool, show_progress: bool,
                echo: Callable[[str], Any] | None) -> ExperimentResult:
    """:func:`sweep` after its arguments are checked (``client``: None or a Client)."""
    journal = _journal(folder, cfg)
    tasks = sweep_tasks(cfg)
    todo = [] if tables_only else [t for t in tasks if t.key not in journal.done
                                   or (retry_failed and journal.done[t.key]["status"] != "ok")]
    if echo and len(todo) < len(tasks):
        echo(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} tasks already done in {journal.path}")

    def bar(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        return iter(progress(records, len(todo), "sweep", show_progress))

    start = time.perf_counter()
    if todo and serial:
        _run_serial(cfg, todo, journal, bar)
    elif todo:
        try:
            from distributed import Client
        except ImportError:
            raise ImportError("sweep: Dask is needed to run on a cluster: pip install 'lcnfast[dask]' "
                              "(or run with serial=True / --serial)") from None
        if client is None:
            n = int(workers) if workers is not None else (os.cpu_count() or 1)
            with private_cluster(n) as cluster, Client(cluster) as own:  # type: ignore[no-untyped-call,unused-ignore]
                with quiet_when_interrupted():
                    _run_dask(cfg, todo, journal, own, bar)
        else:
            _run_dask(cfg, todo, journal, client, bar)
    result = _aggregate(cfg, journal.done, time.perf_counter() - start, match_tol)
    store = ResultStore(folder, "lcnfast sweep")
    origin = provenance(seed=cfg.seed)
    store.save(result, {"fingerprint": cfg.fingerprint(), "lcnfast": origin["lcnfast"]}, origin)
    store.write_summary([result.markdown()], [
        f"* tables: {provenance_text(origin)}, from the journal {journal.path}",
        f"* tasks: the sweep started as recorded in {folder / 'sweep.json'}"])
    if echo:
        echo(result.markdown())
    return result
