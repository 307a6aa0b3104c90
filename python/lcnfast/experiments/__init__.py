"""The paper's kind of experiments, tables and figures (``lcnfast reproduce``).

Each experiment is a function ``f(*, full, seed, show_progress) -> ExperimentResult``;
:func:`reproduce` runs them and keeps each in its own store (``_store.ResultStore``, shared
with :func:`sweep`): ``DIR/<name>/result.json``, CSV tables and figures. It resumes by
reusing experiments whose result was computed with the same settings, and ties everything
together in ``DIR/summary.md``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._core import __version__
from ..provenance import build_identity, provenance
from ._common import ExperimentResult, markdown_table
from ._store import ResultStore, provenance_text, real_folder
from ._atlas import (AtlasConfig, AtlasTask, atlas, atlas_architectures, atlas_findings, atlas_memo, atlas_tasks,
                     metric_matrix)
from .landscape import landscape, landscape_figures
from .spaces import function_spaces, strides
from .sweeps import SweepConfig, load_config, sweep
from .training import (invariants_experiment, invariants_figures, repeated_filters, repeated_filters_figures,
                       shared_roots)

_log = logging.getLogger(__name__)

__all__ = [
    "AtlasConfig",
    "AtlasTask",
    "EXPERIMENTS",
    "ExperimentResult",
    "FIGURES",
    "SweepConfig",
    "atlas",
    "atlas_architectures",
    "atlas_findings",
    "atlas_memo",
    "atlas_tasks",
    "function_spaces",
    "invariants_experiment",
    "landscape",
    "load_config",
    "markdown_table",
    "metric_matrix",
    "repeated_filters",
    "reproduce",
    "shared_roots",
    "strides",
    "sweep",
]

#: Version of the experiments' result files: results written by another version of lcnfast
#: or of this format are recomputed, not reused.
RESULT_FORMAT = 2

#: name -> experiment, in the order ``reproduce`` runs them.
EXPERIMENTS: dict[str, Callable[..., ExperimentResult]] = {
    "function-spaces": function_spaces,
    "strides": strides,
    "invariants": invariants_experiment,
    "repeated-filters": repeated_filters,
    "landscape": landscape,
}

#: name -> the experiment's figures ``draw(result, folder, seed) -> paths`` (drawn from its
#: stored tables and parameters, so a reused experiment's figures can be redrawn).
FIGURES: dict[str, Callable[[ExperimentResult, Path, int], list[Path]]] = {
    "invariants": invariants_figures,
    "repeated-filters": repeated_filters_figures,
    "landscape": landscape_figures,
}


def _figures(result: ExperimentResult, folder: Path, seed: int) -> None:
    """Draw the experiment's figures (each experiment owns them: :data:`FIGURES`) into ``folder``."""
    draw = FIGURES.get(result.name)
    if draw is None:
        return
    try:
        result.figures += [str(path) for path in draw(result, folder, seed)]
    except ImportError as exc:  # matplotlib is optional
        result.notes.append(f"(figures skipped: {exc})")


def reproduce(out: str | Path = "lcnfast-results", *, full: bool = False, seed: int = 0,
              only: Sequence[str] | None = None, force: bool = False, show_progress: bool = True,
              echo: Callable[[str], Any] | None = print) -> list[ExperimentResult]:
    """Run the experiments and write their tables, figures and ``summary.md`` under ``out``.

    Parameters
    ----------
    out : path
        Output folder (created).
    full : bool
        Paper-size sweeps instead of the default quick sizes (a few minutes on 2 cores).
    seed : int
        Seed of every random choice: same seed, same numbers.
    only : sequence of str, optional
        Names from :data:`EXPERIMENTS` to run (default: all).
    force : bool
        Recompute experiments whose results already exist (default: reuse them, so an
        interrupted run resumes where it stopped).
    echo : callable or None
        Where the human-readable tables go (default ``print``).
    """
    names = list(EXPERIMENTS) if not only else list(only)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"only: unknown experiment(s) {unknown}; choose from {list(EXPERIMENTS)}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    results = []
    origins: list[dict[str, Any] | None] = []
    # a result is reused only from the same code (the version number stays for many commits)
    settings = {"full": bool(full), "seed": int(seed), "lcnfast": __version__, "build": build_identity(),
                "format": RESULT_FORMAT}

    def draw(result: ExperimentResult, folder: Path) -> None:
        _figures(result, folder, seed)

    for name in names:
        folder = real_folder(root / name, "out")
        store = ResultStore(folder, "lcnfast reproduce")
        stored = None if force else store.load()
        if stored is not None and stored.settings != settings and echo:
            echo(f"[{name}] recomputing: {store.path} was computed with {_describe(stored.settings)}, "
                 f"this run is {_describe(settings)}")
        if stored is not None and stored.settings == settings:
            repaired = store.restore(stored, draw)
            results.append(stored.result)
            origins.append(stored.provenance)
            if echo:
                when = (stored.provenance or {}).get("time", "an unknown time")
                echo(f"[{name}] reused {store.path}, computed by this build ({settings['build']}) at {when} "
                     "(use --force to recompute)"
                     + (f"; rewrote {', '.join(repaired)} (missing or changed)" if repaired else ""))
                echo(stored.result.markdown())
            continue
        start = time.perf_counter()
        _log.info("reproduce: running %s (%s size, seed %d)", name, "full" if full else "default", seed)
        folder.mkdir(parents=True, exist_ok=True)
        result = EXPERIMENTS[name](full=full, seed=seed, show_progress=show_progress)
        draw(result, folder)
        result.parameters["seconds"] = round(time.perf_counter() - start, 2)
        origin = provenance(seed=seed)
        store.save(result, settings, origin)
        results.append(result)
        origins.append(origin)
        if echo:
            echo(result.markdown())
    _summary(root, results, origins, full=full, seed=seed)
    if echo:
        echo(f"summary: {root / 'summary.md'}")
    return results


def _describe(settings: Any) -> str:
    """The settings of a result file in words (what differs when it is not reused)."""
    if not isinstance(settings, dict):
        return "unknown settings"
    size = "full" if settings.get("full") else "default"
    return (f"lcnfast {settings.get('lcnfast', 'of an unknown version')} (build "
            f"{settings.get('build', 'not recorded')}), result format {settings.get('format', 1)}, {size} size, "
            f"seed {settings.get('seed')}")


def _summary(root: Path, results: list[ExperimentResult], origins: list[dict[str, Any] | None], *, full: bool,
             seed: int) -> None:
    lines = [f"# lcnfast {__version__}: reproduced experiments", "",
             f"Size: {'full' if full else 'default (quick)'}; seed {seed}. Every number and every finding below was "
             "computed by this run (or a previous run of this version with the same settings, reused): each finding "
             "is the outcome of a check over the experiment's table and names the rows that disagree.", "",
             "## Findings", ""]
    for result in results:
        lines += [f"* [{result.name}] {note}" for note in result.notes]
    lines.append("")
    for result in results:
        body = result.markdown().replace("](", f"]({result.name}/", len(result.figures))
        lines += [body, ""]
    ResultStore(root, "lcnfast reproduce").write_summary(
        lines, [f"* {result.name}: {provenance_text(origin)}" for result, origin in zip(results, origins)])
