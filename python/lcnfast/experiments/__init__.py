"""The paper's kind of experiments, tables and figures (``lcnfast reproduce``).

Each experiment is a function ``f(*, full, seed, show_progress) -> ExperimentResult``;
:func:`reproduce` runs them, writes ``DIR/<name>/result.json`` (and figures), resumes by
skipping experiments whose result file exists, and ties everything together in
``DIR/summary.md``.
"""

from __future__ import annotations

import logging
import json
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..provenance import provenance
from ._common import ExperimentResult, csv_text, file_digest, markdown_table, write_csv, write_json, write_text
from .landscape import landscape, landscape_figures
from .spaces import function_spaces, strides
from .sweeps import SweepConfig, load_config, sweep
from .training import (invariants_experiment, invariants_figures, repeated_filters, repeated_filters_figures,
                       shared_roots)

_log = logging.getLogger(__name__)

__all__ = [
    "EXPERIMENTS",
    "ExperimentResult",
    "FIGURES",
    "SweepConfig",
    "function_spaces",
    "invariants_experiment",
    "landscape",
    "load_config",
    "markdown_table",
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
    for name in names:
        folder = root / name
        path = folder / "result.json"
        settings = {"full": bool(full), "seed": int(seed), "lcnfast": __version__, "format": RESULT_FORMAT}
        data = _read_result(path) if path.exists() and not force else None
        if data is not None and data.get("settings") != settings and echo:
            echo(f"[{name}] recomputing: {path} was computed with {_describe(data.get('settings'))}, "
                 f"this run is {_describe(settings)}")
        if data is not None and data.get("settings") == settings:
            result = ExperimentResult.from_json(data["result"])
            repaired = _restore_outputs(result, folder, data.get("outputs", {}), seed)
            if repaired:
                write_json(path, {"settings": settings, "result": result.to_json(),
                                  "outputs": _output_digests(result, folder), "provenance": data.get("provenance")})
            results.append(result)
            origins.append(data.get("provenance"))
            if echo:
                echo(f"[{name}] reused {path} (use --force to recompute)"
                     + (f"; rewrote {', '.join(repaired)} (missing or changed)" if repaired else ""))
                echo(result.markdown())
            continue
        start = time.perf_counter()
        _log.info("reproduce: running %s (%s size, seed %d)", name, "full" if full else "default", seed)
        folder.mkdir(parents=True, exist_ok=True)
        result = EXPERIMENTS[name](full=full, seed=seed, show_progress=show_progress)
        _figures(result, folder, seed)
        result.parameters["seconds"] = round(time.perf_counter() - start, 2)
        for table, rows in result.tables.items():
            write_csv(folder / _csv_name(table), rows)
        origin = provenance(seed=seed)
        write_json(path, {"settings": settings, "result": result.to_json(), "outputs": _output_digests(result, folder),
                          "provenance": origin})
        results.append(result)
        origins.append(origin)
        if echo:
            echo(result.markdown())
    _summary(root, results, origins, full=full, seed=seed)
    if echo:
        echo(f"summary: {root / 'summary.md'}")
    return results


def _csv_name(table: str) -> str:
    return f"{table.replace(' ', '_')}.csv"


def _read_result(path: Path) -> dict[str, Any] | None:
    """A finished experiment's ``result.json``, or None (with a warning naming the file) when
    it cannot be read: the experiment is then computed again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(data, dict) and isinstance(data.get("result"), dict)):
            raise ValueError("not a result file of lcnfast reproduce")
        ExperimentResult.from_json(data["result"])
    except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        warnings.warn(f"lcnfast reproduce: {path} is unreadable ({exc}); computing the experiment again",
                      RuntimeWarning, stacklevel=3)
        return None
    return data


def _output_digests(result: ExperimentResult, folder: Path) -> dict[str, str | None]:
    """SHA-256 of every file an experiment wrote (its CSV tables and figures)."""
    names = [_csv_name(table) for table, rows in result.tables.items() if rows]
    names += [Path(figure).name for figure in result.figures]
    return {name: file_digest(folder / name) for name in names}


def _restore_outputs(result: ExperimentResult, folder: Path, recorded: dict[str, Any], seed: int) -> list[str]:
    """Rewrite the outputs of a reused experiment that are missing or differ from what was
    written (CSV tables from the stored tables; figures drawn again). Returns their names."""
    import hashlib

    repaired = []
    for table, rows in result.tables.items():
        if rows:
            name = _csv_name(table)
            expected = csv_text(rows)
            if file_digest(folder / name) != hashlib.sha256(expected.encode("utf-8")).hexdigest():
                write_text(folder / name, expected)
                repaired.append(name)
    figures = [Path(figure).name for figure in result.figures]
    stale = [name for name in figures if recorded.get(name) is None or file_digest(folder / name) != recorded[name]]
    if stale:
        result.figures = []
        result.notes = [note for note in result.notes if not note.startswith("(figures skipped")]
        _figures(result, folder, seed)
        repaired += stale
    return repaired


def _describe(settings: Any) -> str:
    """The settings of a result file in words (what differs when it is not reused)."""
    if not isinstance(settings, dict):
        return "unknown settings"
    size = "full" if settings.get("full") else "default"
    return (f"lcnfast {settings.get('lcnfast', 'of an unknown version')}, result format {settings.get('format', 1)}, "
            f"{size} size, seed {settings.get('seed')}")


def _provenance_lines(names: list[str], origins: list[dict[str, Any] | None]) -> list[str]:
    """The summary's provenance section: what computed each experiment, and where."""
    lines = ["## Provenance", ""]
    for name, origin in zip(names, origins):
        if not origin:
            lines.append(f"* {name}: computed by an earlier run that recorded no provenance")
            continue
        packages = origin.get("packages", {})
        lines.append(
            f"* {name}: lcnfast {origin.get('lcnfast')}, Python {origin.get('python')}, numpy {packages.get('numpy')}, "
            f"python-flint {packages.get('python-flint')}; {origin.get('backend')} kernels, {origin.get('threads')} "
            f"threads on {origin.get('cpu')}; `{' '.join(origin.get('command', []))}` at {origin.get('time')}")
    return lines + [""]


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
    lines += _provenance_lines([result.name for result in results], origins)
    write_text(root / "summary.md", "\n".join(lines))
