"""The landscape atlas: every small 1D architecture, its function space, the certified ED
degrees of its families, and the landscape over many data sets (``lcnfast atlas``).

The atlas splits into tasks, each computed from seeds derived from the atlas's seed and the
task's own coordinates (never a shared stream), so a task gives the same numbers serially, on
any number of Dask workers and after a resume:

* ``ed/<D>/<partition>/<metric>``: the critical points of ``(v - u)^T G (v - u)`` on the
  multiple-root stratum ``Delta_partition`` of degree-``D`` forms for a random ``u`` (its ED
  degree for the metric ``G``), with the start system's generic count and trace test;
* ``ed-arch/<architecture>/<metric>``: the same on the Zariski closure of a strided
  architecture's function space;
* ``data/<architecture>/<data set>``: every critical point of the training loss on Gaussian
  data (:func:`lcnfast.critical_points`), each classified (Morse index), and ``runs``
  polished gradient-descent runs attributed to them.

Finished tasks are appended to ``OUT/tasks.jsonl`` as they arrive (the journal that ``lcnfast
sweep`` uses); the tables are then built from the journal in the order of the task list, so
they are byte-identical however the tasks ran. The tables are written as CSV (and Parquet
with ``pyarrow``), with ``atlas.md``, figures and provenance; ``docs/atlas.rst`` defines
every column.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..provenance import build_identity, provenance
from ._common import ExperimentResult, markdown_table, progress, wilson_interval, write_text
from ._store import ResultStore, TaskJournal, provenance_text, real_folder

__all__ = ["ATLAS_FORMAT", "METRICS", "AtlasConfig", "AtlasTask", "atlas", "atlas_architectures", "atlas_findings",
           "atlas_memo", "atlas_tasks", "metric_matrix"]

#: Version of the atlas's tables (their columns and meaning); written into every table.
ATLAS_FORMAT = 3

#: The metrics ``G`` of the ED-degree table (:func:`metric_matrix`).
METRICS = ("identity", "bombieri-weyl", "generic", "gaussian")

#: Match a converged GD limit to a critical point within ``MATCH_TOL (1 + ||v||)``.
MATCH_TOL = 1e-3

#: A GD limit is a singular point of the function space when the ``dim``-th singular value of
#: the Jacobian of ``mu`` there is below ``SINGULAR_RTOL`` times the largest.
SINGULAR_RTOL = 1e-6

#: Stratum enumerations kept per process for the architectures that share data sets.
MEMO_SIZE = 512


@dataclass(frozen=True)
class AtlasConfig:
    """What an atlas computes.

    Attributes
    ----------
    max_degree : int
        Largest end-to-end degree ``D`` (``sum_l (k_l - 1) S_l``).
    min_degree : int
        Smallest ``D``.
    max_stride : int
        Largest stride of a layer (1: stride one only).
    datasets : int
        Random data sets per architecture.
    chunk : int
        Data sets per task (a worker failure loses at most one task; larger tasks spend less
        on scheduling).
    runs : int
        Gradient-descent runs per data set (polished).
    samples : int
        Gaussian samples per data set.
    steps : int
        Step limit of each gradient-descent run.
    seed : int
        Root of every seed.
    threads : int or None
        C++ threads per task (not part of the numbers).
    """

    max_degree: int = 5
    min_degree: int = 1
    max_stride: int = 2
    datasets: int = 100
    chunk: int = 10
    runs: int = 50
    samples: int = 40
    steps: int = 20000
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_degree", "min_degree", "max_stride", "datasets", "chunk", "runs", "samples", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: must be a positive integer, got {value!r}")
        if self.min_degree > self.max_degree:
            raise ValueError(f"min_degree: {self.min_degree} exceeds max_degree = {self.max_degree}")
        if self.max_degree > 12:
            raise ValueError(f"max_degree: at most 12 (the strata's start systems grow fast), got {self.max_degree}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {self.seed!r}")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise ValueError(f"threads: must be a positive integer or None, got {self.threads!r}")

    def to_json(self) -> dict[str, Any]:
        """The configuration as plain JSON types."""
        return {key: (int(value) if isinstance(value, np.integer) else value) for key, value in asdict(self).items()}

    def fingerprint(self) -> str:
        """A hash of everything that changes the numbers (not ``threads``), with the atlas's
        format and the build of lcnfast: a journal is resumed only by the same code."""
        data = {k: v for k, v in self.to_json().items() if k != "threads"}
        data["format"] = ATLAS_FORMAT
        data["build"] = build_identity()
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AtlasTask:
    """One unit of work: ``kind`` is ``"ed"`` (a stratum), ``"ed-arch"`` (the closure of a
    strided architecture's function space or, with ``stratum``, one of its multiple-root
    sub-families) or ``"data"`` (the data sets ``dataset`` to ``dataset + count - 1`` of one
    architecture)."""

    kind: str
    key: str
    k: tuple[int, ...] = ()
    s: tuple[int, ...] = ()
    degree: int = 0
    partition: tuple[int, ...] = ()
    metric: str = ""
    dataset: int = 0
    count: int = 1
    stratum: tuple[tuple[int, ...], ...] = ()


def _arch_key(k: Sequence[int], s: Sequence[int]) -> str:
    return f"k={','.join(map(str, k))};s={','.join(map(str, s))}"


def atlas_architectures(max_degree: int, max_stride: int = 2, min_degree: int = 1
                        ) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every 1D architecture (valid layers, filter sizes ``k_l >= 2``, strides ``1 <= s_l <=
    max_stride``) with end-to-end degree ``min_degree <= D <= max_degree``, once per class of
    architectures with the same landscape, as ``(k, s)``.

    The end-to-end filter is ``w_1(x) w_2(x^{S_2}) ... w_L(x^{S_L})`` with ``S_l = s_1 ...
    s_{l-1}``: a product, so the landscape depends only on the multiset of pairs ``(k_l,
    S_l)`` (reordering the layers relabels the parameters), and not on the last stride. The
    representative lists the pairs by increasing ``S_l`` and, for one ``S_l``, decreasing
    ``k_l``; its last stride is 1. Layers of size 1 are scalars and are left out.

    Examples
    --------
    >>> from lcnfast.experiments import atlas_architectures
    >>> atlas_architectures(3, max_stride=2)
    [((2,), (1,)), ((3,), (1,)), ((2, 2), (1, 1)), ((4,), (1,)), ((3, 2), (1, 1)), ((2, 2, 2), (1, 1, 1)), ((2, 2), (2, 1))]
    """
    out: list[tuple[tuple[int, ...], tuple[int, ...], int]] = []

    def extend(pairs: list[tuple[int, int]], degree: int) -> None:
        if pairs and degree >= min_degree:
            k = tuple(kk for kk, _ in pairs)
            dil = [S for _, S in pairs]
            s = tuple(dil[i + 1] // dil[i] for i in range(len(dil) - 1)) + (1,)
            out.append((k, s, degree))
        last_k, last_S = pairs[-1] if pairs else (max_degree + 2, 1)
        for S in ([1] if not pairs else [last_S * m for m in range(1, max_stride + 1)]):
            for kk in range(2, max_degree + 2):
                if S == last_S and pairs and kk > last_k:
                    continue  # one order per multiset: decreasing k within a dilation
                step = (kk - 1) * S
                if degree + step > max_degree:
                    break
                extend(pairs + [(kk, S)], degree + step)

    extend([], 0)
    out.sort(key=lambda row: (row[2], any(x > 1 for x in row[1]), len(row[0]), tuple(-x for x in row[0]), row[1]))
    return [(k, s) for k, s, _ in out]


def atlas_tasks(config: AtlasConfig) -> list[AtlasTask]:
    """The atlas's tasks in table order: the ED degrees of every stratum of each degree, then
    of every strided architecture's closure and its multiple-root sub-families (layers of
    one dilation sharing roots, :func:`lcnfast.strided.stratum_tuples`), then every
    (architecture, data set)."""
    from ..architecture import Architecture
    from ..strata import partitions
    from ..strided import stratum_tuples

    archs = atlas_architectures(config.max_degree, config.max_stride, config.min_degree)
    tasks = []
    for D in range(config.min_degree, config.max_degree + 1):
        for lam in partitions(D):
            for metric in METRICS:
                tasks.append(AtlasTask("ed", f"ed/{D}/{','.join(map(str, lam))}/{metric}", degree=D, partition=lam,
                                       metric=metric))
    for k, s in archs:
        if any(x > 1 for x in s[:-1]):
            D = sum((kk - 1) * S for kk, S in zip(k, _dilations(s)))
            for metric in METRICS:
                tasks.append(AtlasTask("ed-arch", f"ed-arch/{_arch_key(k, s)}/{metric}", k=k, s=s, degree=D,
                                       metric=metric))
            for stratum in stratum_tuples(Architecture(list(k), list(s)))[1:]:
                for metric in METRICS:
                    tasks.append(AtlasTask("ed-arch", f"ed-arch/{_arch_key(k, s)}/{_text(stratum)}/{metric}", k=k,
                                           s=s, degree=D, metric=metric, stratum=stratum))
    for k, s in archs:
        D = sum((kk - 1) * S for kk, S in zip(k, _dilations(s)))
        for first in range(0, config.datasets, config.chunk):
            n = min(config.chunk, config.datasets - first)
            tasks.append(AtlasTask("data", f"data/{_arch_key(k, s)}/{first}-{first + n - 1}", k=k, s=s, degree=D,
                                   dataset=first, count=n))
    return tasks


def _dilations(s: Sequence[int]) -> list[int]:
    out, acc = [], 1
    for x in s:
        out.append(acc)
        acc *= int(x)
    return out


def metric_matrix(name: str, D: int, seed: int = 0, samples: int = 40) -> NDArray[np.float64]:
    """The metric ``G`` (``(D + 1) x (D + 1)``) of the ED-degree table:

    * ``"identity"``;
    * ``"bombieri-weyl"``: ``diag(1 / binom(D, i))``, the weights invariant under rotations of
      the binary forms (``v_i`` is the coefficient of ``x^i``);
    * ``"generic"``: ``A A^T + I`` for a Gaussian ``A`` (seeded by ``seed`` and ``D``);
    * ``"gaussian"``: the ``G`` of the squared loss of a one-layer network (filter size
      ``D + 1``, input width ``D + 7``) on ``samples`` Gaussian inputs, the metric a data set
      of the atlas induces.
    """
    K = D + 1
    if name == "identity":
        return np.eye(K)
    if name == "bombieri-weyl":
        return np.diag([1.0 / math.comb(D, i) for i in range(K)])
    if name == "generic":
        A = np.random.default_rng([seed, 3, D]).standard_normal((K, K))
        return np.asarray(A @ A.T + np.eye(K), dtype=np.float64)
    if name == "gaussian":
        from ..architecture import Architecture
        from ..losses import SquaredLoss

        rng = np.random.default_rng([seed, 4, D])
        arch = Architecture([K], d0=K + 6)
        X = rng.standard_normal((samples, K + 6))
        Y = rng.standard_normal((samples, 7))
        return np.asarray(SquaredLoss.from_data(arch, X, Y).G, dtype=np.float64)
    raise ValueError(f"metric: unknown metric {name!r}; choose from {list(METRICS)}")


def _problem(config: AtlasConfig, task: AtlasTask, dataset: int) -> tuple[Any, Any]:
    """The architecture (input width ``K + 6 P``: seven outputs, ``P`` the product of the
    strides) and the squared loss of one data set: ``samples`` Gaussian inputs and targets,
    from the task's coordinates only (the data set's number, ``D`` and ``P``)."""
    from ..architecture import Architecture
    from ..losses import SquaredLoss

    K = task.degree + 1
    P = int(np.prod(task.s))
    arch = Architecture(list(task.k), list(task.s), d0=K + 6 * P)
    # the same data sets for every architecture of one degree and stride product (paired
    # comparisons): the seed depends on the data set's number, D and P, not on the layers
    rng = np.random.default_rng([config.seed, 2, dataset, task.degree, P])
    widths = arch.widths()
    X = rng.standard_normal((config.samples, int(widths[0])))
    Y = rng.standard_normal((config.samples, int(widths[-1])))
    return arch, SquaredLoss.from_data(arch, X, Y, threads=config.threads)


def _counted(count: Callable[[], int]) -> tuple[int, bool]:
    """A start system's generic count and whether it passed the trace test (the counting
    functions warn when it did not)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n = count()
    return int(n), not any("failed the trace test" in str(w.message) for w in caught)


def _ed(config: AtlasConfig, task: AtlasTask) -> dict[str, Any]:
    """The ED degree of a stratum, of a strided architecture's closure or of one of its
    sub-families for one metric."""
    D, K = task.degree, task.degree + 1
    G = metric_matrix(task.metric, D, config.seed, config.samples)
    u = np.random.default_rng([config.seed, 5, D]).standard_normal(K)
    whole = {"ed_degree": 1, "real": 1, "certified": 1, "complete": True, "generic_count": 1, "trace_test": True,
             "how": "whole space"}
    if task.kind == "ed":
        from ..strata import generic_count, stratum_critical_points

        if max(task.partition) == 1:  # distinct roots: the open stratum, the whole space
            return whole
        n, verified = _counted(lambda: generic_count(task.partition, threads=config.threads))
        found: Any = stratum_critical_points(task.partition, G, u, seed=config.seed, threads=config.threads)
    else:
        from ..architecture import Architecture
        from ..geometry import FunctionSpace
        from ..strided import strided_critical_points, strided_generic_count

        arch = Architecture(list(task.k), list(task.s))
        stratum = task.stratum or None
        if stratum is None and FunctionSpace(arch).dim == K:  # the closure is the whole space
            return whole
        n, verified = _counted(lambda: strided_generic_count(arch, stratum=stratum, threads=config.threads))
        found = strided_critical_points(arch, G, u, stratum=stratum, seed=config.seed, threads=config.threads)
    return {"ed_degree": int(found.n_complex), "real": int(found.n_real), "certified": int(found.certified.sum()),
            "complete": bool(found.complete), "generic_count": n, "trace_test": verified, "how": "homotopy"}


_MEMO: Any = None  # this process's StratumMemo (made on first use)


def atlas_memo() -> Any:
    """This process's :class:`~lcnfast.StratumMemo`, which the atlas's tasks run in.

    The architectures of one degree and stride product see the same data sets, so each
    stratum and each dilated product is solved once per data set and process, not once per
    architecture (the tasks run in an order that keeps one chunk of data sets together; on
    Dask, one memo group on one worker); the ED tasks of one degree and metric share ``G``
    and ``u``, so a dilated product that several strided architectures have is solved once.
    Its ``hits`` and ``misses`` show the reuse; ``maxsize = 1`` turns it off (the benchmark
    compares both). The answers are the same either way.

    Returns
    -------
    lcnfast.StratumMemo
    """
    global _MEMO
    if _MEMO is None:
        from ..strata import StratumMemo

        _MEMO = StratumMemo(maxsize=MEMO_SIZE)
    return _MEMO


def _data(config: AtlasConfig, task: AtlasTask) -> dict[str, Any]:
    """The task's data sets, one after the other (:func:`_data_set`; in the process's
    :func:`atlas_memo`, as every task, :func:`_run_task`)."""
    return {"datasets": [_data_set(config, task, task.dataset + j) for j in range(task.count)]}


def _memo_group(task: AtlasTask) -> tuple[Any, ...] | None:
    """The tasks that solve the same systems, which the process's memo answers once: the data
    tasks of one degree, stride product and first data set (the same data sets,
    :func:`_problem`, so the same strata and mostly the same dilated products), and the ED
    tasks of the strided architectures of one degree and metric whose closures or sub-families
    are one dilated product (the same ``G`` and ``u``, :func:`_ed`). None: a task alone."""
    if task.kind == "data":
        return ("data", task.degree, int(np.prod(task.s)), task.dataset)
    if task.kind == "ed-arch":
        from ..architecture import Architecture
        from ..strided import dilated_factors

        return ("ed", task.degree, task.metric, dilated_factors(Architecture(list(task.k), list(task.s)),
                                                                task.stratum or None))
    return None


def _execution_order(tasks: list[AtlasTask]) -> list[AtlasTask]:
    """The order tasks are run in (the tables keep the task list's order): the ED degrees,
    then the data tasks by degree, stride product and first data set, so that the
    architectures that share a chunk of data sets run one after the other and find its
    strata and dilated products in the memo (:func:`atlas_memo`)."""
    def key(item: tuple[int, AtlasTask]) -> tuple[int, ...]:
        i, t = item
        if t.kind != "data":
            return (0, i)
        return (1, t.degree, int(np.prod(t.s)), t.dataset, i)

    return [t for _, t in sorted(enumerate(tasks), key=key)]


def _data_set(config: AtlasConfig, task: AtlasTask, dataset: int) -> dict[str, Any]:
    """Every critical point of one data set's loss, classified, and where GD runs end."""
    from ..critical import critical_points
    from .landscape import gd_limits, match_limits
    from .training import shared_roots_batch

    arch, loss = _problem(config, task, dataset)
    land = critical_points(arch, loss, seed=config.seed)
    points = []
    for p in land.points:  # index and Jacobian rank of the first lift, as critical_points classified it
        points.append({"loss": float(p.loss), "partition": _text(p.partition), "location": p.location,
                       "verdict": p.verdict, "index": p.index, "jacobian_rank": p.jacobian_rank,
                       "lifts": len(p.lifts), "v": p.v.ravel().tolist()})
    strata = [{"partition": _text(row["partition"]), "complex": int(row["complex"]), "real": int(row["real"]),
               "in_space": int(row["in_space"]), "lifted": int(row["lifted"]), "complete": bool(row["complete"])}
              for row in land.counts]
    seed = int(np.random.default_rng([config.seed, 1, dataset, len(task.k), *task.k, *task.s])
               .integers(1 << 62))
    trained = gd_limits(arch, loss, config.runs, seed, steps=config.steps, threads=config.threads)
    done = np.asarray(trained.converged, dtype=bool)
    K = task.degree + 1
    V = np.array([p["v"] for p in points], dtype=float).reshape(len(points), K)
    limits = np.asarray(trained.v, dtype=float).reshape(config.runs, K)
    # the point each converged run is attributed to (-1: ambiguous or unmatched)
    attributed = []
    for v in limits[done]:
        hits, _, _ = match_limits(V, v[None, :], tol=MATCH_TOL)
        attributed.append(int(np.argmax(hits)) if hits.sum() else -1)
    repeated: int | None = None
    stride_one = all(x == 1 for x in task.s[:-1])
    theta = np.asarray(trained.theta, dtype=float).reshape(config.runs, -1)[done]
    if stride_one and len(task.k) > 1:
        shared, _ = shared_roots_batch(arch, theta)
        repeated = int(np.sum(shared))
    return {"points": points, "strata": strata, "complete": bool(land.complete), "runs": int(config.runs),
            "converged": int(done.sum()), "attributed": attributed, "repeated": repeated,
            "singular": _singular_limits(arch, theta, limits[done])}


def _singular_limits(arch: Any, theta: NDArray[np.float64], v: NDArray[np.float64]) -> int:
    """How many of the limits ``theta`` (end-to-end filters ``v``) are non-zero points where
    the Jacobian of ``mu`` has rank below the function space's dimension (its smallest
    relevant singular value below ``SINGULAR_RTOL`` times the largest): for stride one, two
    filters sharing a root."""
    from ..geometry import FunctionSpace
    from ..parameterisation import jacobian

    away = np.linalg.norm(v, axis=1) > 1e-8 * (1.0 + float(np.max(np.abs(v), initial=0.0)))
    if not np.any(away) or len(arch.k) == 1:  # one layer: mu is linear, of full rank
        return 0
    dim = FunctionSpace(arch).dim
    J = np.asarray(jacobian(arch, theta[away]), dtype=float).reshape(int(away.sum()), -1, arch.n_params)
    sv = np.linalg.svd(J, compute_uv=False)
    return int(np.sum(sv[:, dim - 1] <= SINGULAR_RTOL * sv[:, 0]))


def _text(partition: Any) -> str:
    """A partition (or a tuple of partitions, one per dilation) as text: ``"2+1"``, ``"2+1|1"``."""
    if partition and isinstance(partition[0], (tuple, list)):
        return "|".join(_text(p) for p in partition)
    return "+".join(str(int(x)) for x in partition) if partition else "0"


def _run_task(config: AtlasConfig, task: AtlasTask) -> dict[str, Any]:
    """Run one task; never raises: an error becomes a record (``status: "error"``). The
    warnings it raised are kept in its result."""
    import warnings

    from .sweeps import run_recorded

    def compute() -> dict[str, Any]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with atlas_memo():  # a dilated product that another task solved is not solved again
                result = _ed(config, task) if task.kind != "data" else _data(config, task)
        result["warnings"] = sorted({str(w.message) for w in caught})
        return result

    return run_recorded(task.key, compute)


_RESULT_KEYS = {"ed": ("ed_degree", "complete", "generic_count"), "ed-arch": ("ed_degree", "complete", "generic_count"),
                "data": ("datasets",)}


def _valid_record(record: Any) -> bool:
    """A journal line the tables can use (:func:`~lcnfast.experiments.sweeps.record_validator`)."""
    from .sweeps import record_validator

    return record_validator(_RESULT_KEYS)(record)


# ----------------------------------------------------------------------------- the tables

def _classes(points: list[dict[str, Any]]) -> list[str]:
    """Each critical point's class for the GD shares: ``global minimum`` (the lowest
    minimum), ``other minimum``, ``saddle`` or ``degenerate`` (a maximum or a Hessian that does
    not decide)."""
    minima = [p["loss"] for p in points if p["verdict"] == "minimum"]
    lowest = min(minima) if minima else math.inf
    out = []
    for p in points:
        if p["verdict"] == "minimum":
            out.append("global minimum" if p["loss"] <= lowest + 1e-9 * (1.0 + abs(lowest)) else "other minimum")
        elif p["verdict"] == "saddle":
            out.append("saddle")
        else:
            out.append("degenerate")
    return out


GD_CLASSES = ("global minimum", "other minimum", "saddle", "degenerate", "unattributed", "not converged")


def _tables(config: AtlasConfig, tasks: list[AtlasTask], done: dict[str, dict[str, Any]]
            ) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The atlas's tables from the journal's records, in the order of ``tasks``; and the
    tasks that failed or are missing."""
    from ..architecture import Architecture
    from ..geometry import FunctionSpace

    missing: list[str] = []
    ed_rows: list[dict[str, Any]] = []
    arch_rows: list[dict[str, Any]] = []
    data_rows: list[dict[str, Any]] = []
    point_rows: list[dict[str, Any]] = []
    stratum_rows: list[dict[str, Any]] = []
    spaces: dict[str, Any] = {}  # per architecture seen, its function space
    for task in tasks:
        record = done.get(task.key)
        if record is not None and task.kind == "data" and record.get("status") == "ok" and (
                not isinstance(record["result"]["datasets"], list) or len(record["result"]["datasets"]) != task.count):
            # a journal line read from disk that does not hold every data set of its task
            record = {"status": "error", "error": "its record does not hold the task's data sets"}
        if record is None or record.get("status") != "ok":
            missing.append(task.key if record is None else f"{task.key} ({record.get('error')})")
            continue
        r = record["result"]
        if task.kind in ("ed", "ed-arch"):
            family = _text(task.partition) if task.kind == "ed" else _arch_key(task.k, task.s)
            if task.stratum:
                family += f" {_text(task.stratum)}"
            kind = "stratum" if task.kind == "ed" else "sub-family" if task.stratum else "architecture"
            ed_rows.append({"format": ATLAS_FORMAT, "kind": kind,
                            "family": family, "D": task.degree, "metric": task.metric,
                            "ed_degree": r["ed_degree"], "real": r["real"], "certified": r["certified"],
                            "complete": r["complete"], "generic_count": r["generic_count"],
                            "trace_test": r["trace_test"], "how": r["how"]})
            continue
        name = _arch_key(task.k, task.s)
        strided = any(x > 1 for x in task.s[:-1])
        fs = spaces.get(name)
        if fs is None:
            fs = spaces[name] = FunctionSpace(Architecture(list(task.k), list(task.s)))
            arch_rows.append({"format": ATLAS_FORMAT, "architecture": name, "k": _text(task.k).replace("+", ","),
                              "s": ",".join(map(str, task.s)),
                              "dilations": ",".join(map(str, _dilations(task.s))), "D": task.degree,
                              "layers": len(task.k), "strided": strided, "dim": int(fs.dim),
                              "ambient_dim": int(fs.ambient_dim), "thick": bool(fs.is_thick),
                              "filling": bool(fs.is_filling), "n_even": fs.n_even,
                              "families": len(r["datasets"][0]["strata"])})
        for offset, r in enumerate(record["result"]["datasets"]):
            dataset = task.dataset + offset
            points = r["points"]
            classes = _classes(points)
            attributed = r["attributed"]
            shares = dict.fromkeys(GD_CLASSES, 0)
            boundary = 0
            for j in attributed:
                if j < 0:
                    shares["unattributed"] += 1
                else:
                    shares[classes[j]] += 1
                    boundary += int(points[j]["location"] == "boundary")
            shares["not converged"] = r["runs"] - r["converged"]
            singular = [_is_singular(p, fs.dim) for p in points]
            indices = [p["index"] for p in points if p["verdict"] == "saddle" and p["index"] is not None]
            best = min(range(len(points)), key=lambda i: points[i]["loss"]) if points else None
            global_min = [i for i, c in enumerate(classes) if c == "global minimum"]
            data_rows.append({
                "format": ATLAS_FORMAT, "architecture": name, "D": task.degree, "strided": strided,
                "dataset": dataset,
                "complex": sum(s["complex"] for s in r["strata"]), "real": sum(s["real"] for s in r["strata"]),
                "in_space": sum(s["in_space"] for s in r["strata"]), "points": len(points),
                "minima": sum(1 for p in points if p["verdict"] == "minimum"),
                "saddles": len(indices) + sum(1 for p in points if p["verdict"] == "saddle" and p["index"] is None),
                "saddle_indices": " ".join(f"{i}:{indices.count(i)}" for i in sorted(set(indices))),
                "degenerate": sum(1 for p in points if p["verdict"] not in ("minimum", "saddle")),
                "global_min_loss": points[global_min[0]]["loss"] if global_min else None,
                "global_min_location": points[global_min[0]]["location"] if global_min else "",
                "lowest_point_loss": points[best]["loss"] if best is not None else None,
                "complete": r["complete"], "gd_runs": r["runs"], "gd_converged": r["converged"],
                **{f"gd_{c.replace(' ', '_')}": shares[c] for c in GD_CLASSES},
                "gd_boundary": boundary, "gd_repeated": r["repeated"], "gd_singular": r["singular"],
                "singular_points": sum(singular)})
            for i, (p, c) in enumerate(zip(points, classes)):
                point_rows.append({"format": ATLAS_FORMAT, "architecture": name, "dataset": dataset, "point": i,
                                   "loss": p["loss"], "partition": p["partition"], "location": p["location"],
                                   "verdict": p["verdict"], "index": p["index"], "class": c, "lifts": p["lifts"],
                                   "jacobian_rank": p["jacobian_rank"], "singular": singular[i],
                                   "gd_runs": sum(1 for j in attributed if j == i)})
            for s_row in r["strata"]:
                stratum_rows.append({"format": ATLAS_FORMAT, "architecture": name, "dataset": dataset, **s_row})
    summary = _summary(arch_rows, data_rows)
    tables = {"architectures": arch_rows, "ed degrees": ed_rows, "summary": summary, "data sets": data_rows,
              "families per data set": stratum_rows, "critical points": point_rows}
    return tables, missing


def _is_singular(point: dict[str, Any], dim: int) -> bool:
    """A critical point with ``v != 0`` at a singular point of the function space: the
    Jacobian of ``mu`` at its first lift has rank below ``dim``."""
    return bool(point["jacobian_rank"] is not None and point["jacobian_rank"] < dim and any(point["v"]))


def _summary(arch_rows: list[dict[str, Any]], data_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per architecture, over its data sets: means and spreads of the counts, and the pooled
    GD shares with Wilson 95% intervals."""
    out = []
    for a in arch_rows:
        rows = [r for r in data_rows if r["architecture"] == a["architecture"]]
        if not rows:
            continue
        real = np.array([r["in_space"] for r in rows], dtype=float)
        points = np.array([r["points"] for r in rows], dtype=float)
        minima = np.array([r["minima"] for r in rows], dtype=float)
        boundary = sum(1 for r in rows if r["global_min_location"] == "boundary")
        with_min = sum(1 for r in rows if r["global_min_location"])
        row: dict[str, Any] = {"format": ATLAS_FORMAT, "architecture": a["architecture"], "D": a["D"],
                               "strided": a["strided"], "datasets": len(rows),
                               "complete": sum(1 for r in rows if r["complete"]),
                               "in_space_mean": float(real.mean()), "in_space_min": int(real.min()),
                               "in_space_max": int(real.max()), "points_mean": float(points.mean()),
                               "points_min": int(points.min()), "points_max": int(points.max()),
                               "minima_mean": float(minima.mean()),
                               "minima_max": int(minima.max())}
        row["global_min_on_boundary"] = boundary / with_min if with_min else None
        row["global_min_on_boundary_95%"] = wilson_interval(boundary, with_min) if with_min else None
        runs = sum(r["gd_runs"] for r in rows)
        for c in GD_CLASSES:
            hits = sum(r[f"gd_{c.replace(' ', '_')}"] for r in rows)
            row[f"gd_{c.replace(' ', '_')}"] = hits / runs
            row[f"gd_{c.replace(' ', '_')}_95%"] = wilson_interval(hits, runs)
        converged = sum(r["gd_converged"] for r in rows)
        repeated = [r["gd_repeated"] for r in rows if r["gd_repeated"] is not None]
        row["gd_repeated"] = sum(repeated) / converged if repeated and converged else None
        row["gd_repeated_95%"] = wilson_interval(sum(repeated), converged) if repeated and converged else None
        singular = sum(r["gd_singular"] for r in rows)
        row["gd_singular"] = singular / converged if converged else None
        row["gd_singular_95%"] = wilson_interval(singular, converged) if converged else None
        row["singular_points"] = sum(r["singular_points"] for r in rows)
        row["data_sets_with_singular_points"] = sum(1 for r in rows if r["singular_points"])
        out.append(row)
    return out


def atlas_findings(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The atlas's sentences, each computed from its tables ("holds on X of Y; fails on ...")."""
    notes = []

    def check(claim: str, rows: list[dict[str, Any]], holds: Callable[[dict[str, Any]], bool],
              name: Callable[[dict[str, Any]], str], detail: Callable[[dict[str, Any]], str]) -> str:
        if not rows:
            return f"{claim}: no data (no row to check)."
        bad = [r for r in rows if not holds(r)]
        text = f"{claim}: holds on {len(rows) - len(bad)} of {len(rows)}"
        if bad:
            shown = "; ".join(f"{name(r)} ({detail(r)})" for r in bad[:8])
            text += f"; fails on {shown}" + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
        return text + "."

    ed = tables.get("ed degrees", [])
    top = [r for r in ed if r["kind"] == "stratum" and r["family"] == str(r["D"]) and r["D"] >= 2]
    notes.append(check("The ED degree of the rational normal curve Delta_(D) is 3D - 2 for generic G (closed form)",
                       [r for r in top if r["metric"] == "generic"], lambda r: r["ed_degree"] == 3 * r["D"] - 2,
                       lambda r: f"D = {r['D']}", lambda r: f"{r['ed_degree']}, expected {3 * r['D'] - 2}"))
    notes.append(check("The ED degree of Delta_(D) is D for Bombieri-Weyl G (closed form)",
                       [r for r in top if r["metric"] == "bombieri-weyl"], lambda r: r["ed_degree"] == r["D"],
                       lambda r: f"D = {r['D']}", lambda r: f"{r['ed_degree']}, expected {r['D']}"))
    notes.append(check("Every ED degree is certified (every point certified, the enumeration complete, the start "
                       "system's trace test passed)", ed,
                       lambda r: bool(r["complete"]) and r["certified"] == r["ed_degree"] and bool(r["trace_test"]),
                       lambda r: f"{r['family']} ({r['metric']})",
                       lambda r: f"{r['certified']} of {r['ed_degree']} certified, complete {r['complete']}"))
    def rank_one(r: dict[str, Any]) -> tuple[int, int] | None:
        """(k_1, k_2) when the family is a two-layer architecture with s_1 = k_1: then
        v[i + k_1 j] = w_1[i] w_2[j] is a k_1 x k_2 matrix of rank one."""
        if r["kind"] != "architecture":
            return None
        k_text, s_text = r["family"].split(";")
        k = [int(x) for x in k_text[2:].split(",")]
        s = [int(x) for x in s_text[2:].split(",")]
        return (k[0], k[1]) if len(k) == 2 and s[0] == k[0] else None

    notes.append(check("Where v is a rank-one k_1 x k_2 matrix (two layers, s_1 = k_1), the ED degree for G = I is "
                       "min(k_1, k_2) (Eckart-Young)",
                       [r for r in ed if r["metric"] == "identity" and rank_one(r)],
                       lambda r: r["ed_degree"] == min(rank_one(r) or (0, 0)), lambda r: r["family"],
                       lambda r: f"{r['ed_degree']}, expected {min(rank_one(r) or (0, 0))}"))
    generic = {(r["kind"], r["family"], r["D"]): r["ed_degree"] for r in ed if r["metric"] == "generic"}
    notes.append(check("No metric gives more critical points than generic G (special weights only lose points)",
                       [r for r in ed if r["metric"] != "generic" and (r["kind"], r["family"], r["D"]) in generic],
                       lambda r: r["ed_degree"] <= generic[(r["kind"], r["family"], r["D"])],
                       lambda r: f"{r['family']} ({r['metric']})",
                       lambda r: f"{r['ed_degree']} > {generic[(r['kind'], r['family'], r['D'])]}"))
    notes.append(check("The generic ED degree equals the start system's generic count",
                       [r for r in ed if r["metric"] == "generic"], lambda r: r["ed_degree"] == r["generic_count"],
                       lambda r: r["family"], lambda r: f"{r['ed_degree']} vs {r['generic_count']}"))
    data = tables.get("data sets", [])
    notes.append(check("Every data set's enumeration is complete", data, lambda r: bool(r["complete"]),
                       lambda r: f"{r['architecture']} data set {r['dataset']}", lambda r: "incomplete"))
    notes.append(check("Every data set has a global minimum among its critical points (the loss is coercive on "
                       "the closed function space)", data, lambda r: r["global_min_location"] != "",
                       lambda r: f"{r['architecture']} data set {r['dataset']}", lambda r: "no minimum"))
    notes.append(check("Every converged GD run ends at a certified critical point (attributed unambiguously)",
                       data, lambda r: r["gd_unattributed"] == 0,
                       lambda r: f"{r['architecture']} data set {r['dataset']}",
                       lambda r: f"{r['gd_unattributed']} of {r['gd_converged']} converged runs unattributed"))
    archs = {a["architecture"]: a for a in tables.get("architectures", [])}

    def every_stride_above_one(name: str) -> bool:
        strides = [int(x) for x in archs[name]["s"].split(",")] if name in archs else [1]
        return len(strides) > 1 and all(x > 1 for x in strides[:-1])

    notes.append(check("The sequel's prediction (every stride > 1, generic data): no critical point with v != 0 is "
                       "a singular point of the function space (at its lift the Jacobian of mu has rank below dim "
                       "M)", [r for r in data if every_stride_above_one(r["architecture"])],
                       lambda r: r["singular_points"] == 0, lambda r: f"{r['architecture']} data set {r['dataset']}",
                       lambda r: f"{r['singular_points']} singular critical point(s)"))
    summary = tables.get("summary", [])
    others = [r for r in summary if archs.get(r["architecture"], {}).get("layers", 1) > 1
              and not every_stride_above_one(r["architecture"])]
    if others:
        notes.append("Observation (the other architectures of more than one layer, where the prediction does not "
                     "apply): data sets with a non-zero critical point at a singular point of the space, of all "
                     "data sets: " + ", ".join(f"{r['architecture']} {r['data_sets_with_singular_points']} of "
                                               f"{r['datasets']}" for r in others) + ".")
    sing = [r for r in summary if r.get("gd_singular") is not None and archs.get(r["architecture"], {}).get(
        "layers", 1) > 1]
    if sing:
        notes.append("Observation: share of converged GD runs ending at a non-zero singular point of the function "
                     "space (Jacobian of mu of rank below dim M; for stride one, repeated filters), with 95% "
                     "intervals: " + ", ".join(f"{r['architecture']} {r['gd_singular']:.3g} "
                                               f"[{r['gd_singular_95%'][0]:.3g}, {r['gd_singular_95%'][1]:.3g}]"
                                               for r in sing) + ".")
    rep = [r for r in summary if r.get("gd_repeated") is not None]
    if rep:
        shares = ", ".join(f"{r['architecture']} {r['gd_repeated']:.3g} [{r['gd_repeated_95%'][0]:.3g}, "
                           f"{r['gd_repeated_95%'][1]:.3g}]" for r in rep)
        notes.append("Observation (the seed paper's prediction that optimised parameters often have repeated "
                     f"filters): share of converged GD limits whose filters share a root, per stride-one "
                     f"architecture with 95% intervals: {shares}.")
    bw = sorted({(r["D"], r["family"], r["ed_degree"]) for r in ed
                 if r["metric"] == "bombieri-weyl" and r["kind"] == "stratum" and r["how"] == "homotopy"})
    if bw:
        notes.append("Observation (Bombieri-Weyl ED degrees of the strata, for a pattern; not a theorem): "
                     + ", ".join(f"D={D} ({fam}) {n}" for D, fam, n in bw) + ".")
    return notes


def _markdown(config: AtlasConfig, tables: dict[str, list[dict[str, Any]]], notes: list[str], missing: list[str],
              figures: list[str]) -> str:
    lines = ["# The landscape atlas", "",
             f"Architectures with end-to-end degree {config.min_degree} <= D <= {config.max_degree}, strides up to "
             f"{config.max_stride}, each once up to reordering its layers (docs/atlas.rst); {config.datasets} data "
             f"set(s) of {config.samples} Gaussian samples per architecture, {config.runs} polished GD runs on each; "
             f"seed {config.seed}.", ""]
    if missing:
        lines += [f"**{len(missing)} task(s) missing or failed** (their rows are absent): "
                  + "; ".join(missing[:10]) + ("; ..." if len(missing) > 10 else ""), ""]
    lines += ["## Checks and observations", ""] + [f"* {n}" for n in notes] + [""]
    ed = tables["ed degrees"]
    if ed:
        lines += ["## ED degrees per family and metric", "",
                  "Complex critical points of (v - u)^T G (v - u) on the family for a random u; `*` marks a count "
                  "that is not certified complete.", ""]
        pivot: dict[tuple[str, str, int], dict[str, Any]] = {}
        for r in ed:
            cell = str(r["ed_degree"]) + ("" if r["complete"] and r["certified"] == r["ed_degree"] else "*")
            pivot.setdefault((r["kind"], r["family"], r["D"]), {"kind": r["kind"], "D": r["D"],
                                                                "family": r["family"]})[r["metric"]] = cell
        lines += [markdown_table(list(pivot.values())), ""]
    summary = tables["summary"]
    if summary:
        lines += ["## Per architecture (over its data sets)", "",
                  "`points`: critical points of the training loss in parameter space, up to the network's "
                  "symmetries (mean, min, max over the data sets); `in_space`: the real critical points of the "
                  "loss on the families (strata) that lie in the function space, the candidates they come from; "
                  "local minima; and the share of data sets whose global minimum lies on the boundary (95% "
                  "Wilson interval).", ""]
        lines += [markdown_table([{k: r[k] for k in ("architecture", "D", "datasets", "complete", "points_mean",
                                                    "points_min", "points_max", "in_space_mean", "minima_mean",
                                                    "minima_max",
                                                    "global_min_on_boundary", "global_min_on_boundary_95%")}
                                  for r in summary]), ""]
        lines += ["## Where gradient descent ends (pooled over data sets)", "",
                  "Shares of all runs, with 95% Wilson intervals; `repeated` is the share of converged runs whose "
                  "filters share a root (stride one), `singular` the share ending at a non-zero singular point of "
                  "the function space (every architecture).", ""]
        lines += [markdown_table([{"architecture": r["architecture"], "runs": sum(
            d["gd_runs"] for d in tables["data sets"] if d["architecture"] == r["architecture"]),
            **{c: f"{r['gd_' + c.replace(' ', '_')]:.3g} [{r['gd_' + c.replace(' ', '_') + '_95%'][0]:.3g}, "
                  f"{r['gd_' + c.replace(' ', '_') + '_95%'][1]:.3g}]" for c in GD_CLASSES},
            "repeated": "" if r["gd_repeated"] is None else f"{r['gd_repeated']:.3g}",
            "singular": "" if r["gd_singular"] is None else f"{r['gd_singular']:.3g}"} for r in summary]), ""]
    if figures:
        lines += ["## Figures", ""] + [f"![{Path(f).stem}]({Path(f).name})" for f in figures] + [""]
    lines += ["## Files", "",
              "One CSV file per table (columns defined in docs/atlas.rst): " + ", ".join(
                  f"`{name.replace(' ', '_')}.csv`" for name in tables) + "; `tasks.jsonl` holds every task's "
              "record, `atlas.json` the configuration.", ""]
    return "\n".join(lines)


def _figures(tables: dict[str, list[dict[str, Any]]], folder: Path) -> list[str]:
    """The distribution of critical points in the space per architecture, the share of GD
    runs ending at the global minimum against D, and the share of GD limits at singular
    points per architecture of two or more layers, stride one beside strided (each saying
    what it rests on)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return []
    data, summary = tables["data sets"], tables["summary"]
    if not summary:
        return []
    names = [r["architecture"] for r in summary]
    fig = Figure(figsize=(max(6.0, 0.5 * len(names) + 2), 4.0))
    ax = fig.add_subplot()
    ax.boxplot([[d["points"] for d in data if d["architecture"] == n] for n in names])
    ax.set_xticks(range(1, len(names) + 1), [n.replace(";", "\n") for n in names], fontsize=6)
    ax.set_ylabel("critical points of the loss")
    ax.set_title(f"Critical points per data set ({summary[0]['datasets']} data sets per architecture)",
                 fontsize=9)
    fig.tight_layout()
    first = folder / "critical_points.png"
    fig.savefig(first, dpi=110, metadata={"Software": None})
    fig = Figure(figsize=(6.0, 4.0))
    ax = fig.add_subplot()
    for strided, marker in ((False, "o"), (True, "s")):
        rows = [r for r in summary if r["strided"] == strided]
        if not rows:
            continue
        share = np.array([r["gd_global_minimum"] for r in rows])
        low = np.array([r["gd_global_minimum_95%"][0] for r in rows])
        high = np.array([r["gd_global_minimum_95%"][1] for r in rows])
        jitter = np.linspace(-0.15, 0.15, len(rows))
        ax.errorbar(np.array([r["D"] for r in rows]) + jitter, share, yerr=[share - low, high - share], fmt=marker,
                    label="strided" if strided else "stride one", capsize=2)
    runs = sum(d["gd_runs"] for d in data)
    ax.set_xticks(sorted({int(r["D"]) for r in summary}))
    ax.set_xlabel("end-to-end degree D")
    ax.set_ylabel("share of GD runs ending at the global minimum")
    ax.set_title(f"Basin of the global minimum (95% intervals; {runs} runs in all)", fontsize=9)
    ax.legend()
    fig.tight_layout()
    second = folder / "global_minimum_share.png"
    fig.savefig(second, dpi=110, metadata={"Software": None})
    # the share of GD limits at singular points (repeated filters for stride one) against the
    # stride pattern: architectures of two or more layers, by degree
    rows = [r for r in summary if r["gd_singular"] is not None
            and next((a["layers"] for a in tables["architectures"] if a["architecture"] == r["architecture"]), 1) > 1]
    if not rows:
        return [str(first), str(second)]
    fig = Figure(figsize=(max(6.0, 0.45 * len(rows) + 2), 4.0))
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    share = np.array([r["gd_singular"] for r in rows])
    low = np.array([r["gd_singular_95%"][0] for r in rows])
    high = np.array([r["gd_singular_95%"][1] for r in rows])
    for strided, color in ((False, "tab:blue"), (True, "tab:orange")):
        pick = np.array([r["strided"] == strided for r in rows])
        if pick.any():
            ax.bar(x[pick], share[pick], yerr=[(share - low)[pick], (high - share)[pick]], color=color, capsize=2,
                   label="strided" if strided else "stride one")
    ax.set_xticks(x, [r["architecture"].replace(";", "\n") for r in rows], fontsize=6)
    ax.set_ylabel("share of converged GD runs")
    converged = sum(d["gd_converged"] for d in data if d["architecture"] in {r["architecture"] for r in rows})
    ax.set_title(f"GD limits at singular points of the space (repeated filters for stride one; {converged} "
                 "converged runs, 95% intervals)", fontsize=8)
    ax.legend()
    fig.tight_layout()
    third = folder / "singular_limits.png"
    fig.savefig(third, dpi=110, metadata={"Software": None})
    return [str(first), str(second), str(third)]


def _write_parquet(tables: dict[str, list[dict[str, Any]]], folder: Path) -> list[str]:
    """Each table also as Parquet when ``pyarrow`` is installed (intervals as two columns)."""
    try:
        import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return []
    written = []
    for name, rows in tables.items():
        if not rows:
            continue
        # a column that holds an interval in any row is split into two in every row
        intervals = {key for row in rows for key, value in row.items() if isinstance(value, (tuple, list))}
        flat = []
        for row in rows:
            out: dict[str, Any] = {}
            for key, value in row.items():
                if key in intervals:
                    out[f"{key}_low"], out[f"{key}_high"] = value if value is not None else (None, None)
                else:
                    out[key] = value
            flat.append(out)
        path = folder / f"{name.replace(' ', '_')}.parquet"
        pq.write_table(pa.Table.from_pylist(flat), path)
        written.append(str(path))
    return written


def _run(config: AtlasConfig, todo: list[AtlasTask], journal: TaskJournal, client: Any,
         bar: Callable[[Iterator[dict[str, Any]]], Iterator[dict[str, Any]]]) -> None:
    """The tasks serially (``client`` None) or on Dask, each record journalled as it arrives."""
    todo = _execution_order(todo)
    if client is None:
        def serial() -> Iterator[dict[str, Any]]:
            for task in todo:
                yield _run_task(config, task)

        for record in bar(serial()):
            journal.add(record)
        return
    from .sweeps import journal_futures

    prefix = f"lcnfast-atlas-{config.fingerprint()}-"
    # the tasks of one memo group (:func:`_memo_group`: the data tasks of one degree, stride
    # product and chunk of data sets; the ED tasks of one dilated product and metric) run one
    # after the other on one worker, each submitted when the one before it is done, to the
    # worker that ran it (a hint, not a restriction: another worker takes it if that one is
    # gone), so that they find each other's strata and dilated products in its memo; the
    # groups and the other tasks spread over the workers as Dask balances them
    chains: dict[tuple[Any, ...], list[AtlasTask]] = {}
    alone = []
    for task in todo:
        group = _memo_group(task)
        if group is None:
            alone.append(task)
        else:
            chains.setdefault(group, []).append(task)
    waiting = {chain[0].key: chain[1:] for chain in chains.values()}
    # the ED degrees first (their start systems serve the data tasks), then the data groups,
    # the costliest (highest degree) first so that no long group starts last; a group's next
    # task outranks every task not yet started, so a worker finishes its group before it
    # starts another (and its memo holds the group's data sets)
    heads = [chain[0] for chain in chains.values()]
    first = alone + [t for t in heads if t.kind != "data"]
    data = sorted((t for t in heads if t.kind == "data"), key=lambda t: (-t.degree, t.s, t.dataset))
    futures = {task.key: client.submit(_run_task, config, task, key=prefix + task.key, pure=False)
               for task in first + data}

    def then(name: str, worker: str | None) -> tuple[str, Any] | None:
        rest = waiting.pop(name, [])
        if not rest:
            return None
        task = rest[0]
        waiting[task.key] = rest[1:]
        return task.key, client.submit(_run_task, config, task, key=prefix + task.key, pure=False,
                                       workers=None if worker is None else [worker], allow_other_workers=True,
                                       priority=1)

    journal_futures(client, futures, journal, bar, then)


def atlas(out: str | os.PathLike[str] = "lcnfast-atlas", *, max_degree: int | None = None,
          min_degree: int = 1, max_stride: int = 2, datasets: int | None = None, runs: int | None = None,
          samples: int = 40, steps: int = 20000, chunk: int = 10, seed: int = 0, full: bool = False,
          threads: int | None = None,
          client: Any = None, serial: bool = True, workers: int | None = None, retry_failed: bool = False,
          show_progress: bool = True, echo: Callable[[str], Any] | None = print) -> ExperimentResult:
    """Compute the landscape atlas into ``out`` (resumable) and return its tables.

    Parameters
    ----------
    out : path
        Output folder: ``atlas.json`` (the configuration), ``tasks.jsonl`` (every finished
        task, appended as it arrives: running again resumes, without recomputing or
        duplicating finished tasks), one CSV file per table (Parquet too when ``pyarrow`` is
        installed), ``atlas.md``, figures, ``result.json``.
    max_degree, min_degree : int
        The range of end-to-end degrees ``D`` (default ``max_degree``: 5, or 6 with ``full``).
    max_stride : int
        Largest stride of a layer (1: stride one only).
    datasets, runs : int
        Data sets per architecture and GD runs per data set (defaults 100 and 50; with
        ``full`` 1000 and 100).
    samples, steps : int
        Gaussian samples per data set; step limit of each GD run.
    chunk : int
        Data sets per task (default 10).
    seed : int
        Root of every seed: the same seed gives the same tables.
    full : bool
        The large atlas's defaults (above).
    threads : int, optional
        C++ threads per task (default: all cores; 1 suits one Dask worker per core).
    client : distributed.Client or str, optional
        Run on Dask: a client or a scheduler address. ``serial=False`` without a client starts a
        private ``LocalCluster`` with ``workers`` processes.
    serial : bool
        Run in this process (default; the same numbers as on Dask).
    workers : int, optional
        Worker processes of the private ``LocalCluster``.
    retry_failed : bool
        Run again the tasks recorded as failed.
    show_progress : bool
        A progress bar over the tasks (tqdm).
    echo : callable or None
        Where the report goes (default ``print``).

    Returns
    -------
    ExperimentResult
        The tables (``architectures``, ``ed degrees``, ``summary``, ``data sets``,
        ``families per data set``, ``critical points``) and the computed findings.

    Examples
    --------
    >>> import tempfile
    >>> from lcnfast.experiments import atlas
    >>> result = atlas(tempfile.mkdtemp(), max_degree=2, datasets=2, runs=4, show_progress=False, echo=None)
    >>> [r["architecture"] for r in result.tables["architectures"]]
    ['k=2;s=1', 'k=3;s=1', 'k=2,2;s=1,1']
    >>> [r["ed_degree"] for r in result.tables["ed degrees"] if r["family"] == "2"]  # 3D - 2, D, ...
    [4, 2, 4, 4]
    """
    if not isinstance(full, (bool, np.bool_)):
        raise TypeError(f"full: expected a bool, got {type(full).__name__}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: must be a positive integer, got {workers!r}")
    if client is not None and serial and not isinstance(client, str):
        serial = False  # a client was given: use it
    if threads is None and not serial and client is None:
        # the private cluster's workers share this machine's cores
        threads = max(1, (os.cpu_count() or 1) // (workers or (os.cpu_count() or 1)))
    config = AtlasConfig(max_degree=(6 if full else 5) if max_degree is None else max_degree, min_degree=min_degree,
                         max_stride=max_stride, datasets=(1000 if full else 100) if datasets is None else datasets,
                         runs=(100 if full else 50) if runs is None else runs, samples=samples, steps=steps, chunk=chunk,
                         seed=seed, threads=threads)
    from .sweeps import connect, private_cluster, quiet_when_interrupted

    remote = connect(client) if isinstance(client, str) else None
    try:
        folder = real_folder(Path(out), "out")
        journal = TaskJournal(folder, what="atlas", fingerprint=config.fingerprint(), valid=_valid_record,
                              header={"config": config.to_json(), "format": ATLAS_FORMAT,
                                      "provenance": provenance(seed=config.seed)})
        tasks = atlas_tasks(config)
        todo = [t for t in tasks if t.key not in journal.done
                or (retry_failed and journal.done[t.key]["status"] != "ok")]
        if echo and len(todo) < len(tasks):
            echo(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} tasks already done in {journal.path}")

        def bar(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            return iter(progress(records, len(todo), "atlas", show_progress))

        start = time.perf_counter()
        own_client = remote if remote is not None else client
        if todo and (serial and own_client is None):
            _run(config, todo, journal, None, bar)
        elif todo and own_client is not None:
            _run(config, todo, journal, own_client, bar)
        elif todo:
            try:
                from distributed import Client
            except ImportError:
                raise ImportError("atlas: Dask is needed to run on a cluster: pip install 'lcnfast[dask]' (or run "
                                  "serially)") from None
            n = int(workers) if workers is not None else (os.cpu_count() or 1)
            with private_cluster(n) as cluster, Client(cluster) as own:  # type: ignore[no-untyped-call,unused-ignore]
                with quiet_when_interrupted():
                    _run(config, todo, journal, own, bar)
        seconds = time.perf_counter() - start
        tables, missing = _tables(config, tasks, journal.done)
        notes = atlas_findings(tables)
        result = ExperimentResult(name="atlas", title="The landscape atlas", tables=tables, notes=notes,
                                  parameters={"config": config.to_json(), "missing": missing})
        store = ResultStore(folder, "lcnfast atlas")
        result.figures = _figures(tables, folder)
        origin = provenance(seed=config.seed)
        store.save(result, {"fingerprint": config.fingerprint(), "format": ATLAS_FORMAT}, origin)
        _write_parquet(tables, folder)
        report = _markdown(config, tables, notes, missing, result.figures)
        write_text(folder / "atlas.md", report + "\n## Provenance\n\n"
                   f"* tables: from the journal {journal.path} ({len(tasks) - len(missing)} of {len(tasks)} tasks)\n"
                   f"* this run: {provenance_text(origin)}\n")
        if echo:
            echo(f"atlas: {len(tasks) - len(missing)} of {len(tasks)} tasks done ({len(todo)} run now in "
                 f"{seconds:.1f} s); report in {folder / 'atlas.md'}")
        return result
    finally:
        if remote is not None:
            remote.close()
