"""The one store of the experiments: how ``lcnfast reproduce`` and ``lcnfast sweep`` persist
what they compute, resume from what an earlier run left, record provenance and summarise.

A store is a folder:

* ``result.json``: a finished result -- the ``settings`` it was computed with (a resumed run
  reuses it only under the same settings), the result itself (tables, figures, notes,
  parameters), the SHA-256 of every file written from it (``outputs``) and the provenance
  of the run that computed it;
* one CSV file per table, and the figures;
* ``summary.md``, ending with a provenance section;
* for work made of many tasks (a sweep), a journal (:class:`TaskJournal`): a header naming
  the configuration and ``tasks.jsonl``, one line per finished task, appended as each
  arrives, so that an interrupted run resumes where it stopped.

Every file is written atomically (``_common.write_bytes``) and a journal line is flushed
and synced before the next task is counted as done.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._common import ExperimentResult, append_line, csv_text, file_digest, json_text, write_json, write_text

__all__ = ["ResultStore", "StoredResult", "TaskJournal", "csv_name", "provenance_text", "real_folder"]

#: Draws an experiment's figures into a folder from its result, listing them in
#: ``result.figures``: ``draw(result, folder)``.
Draw = Callable[[ExperimentResult, Path], None]


def csv_name(table: str) -> str:
    """The file a table is written to: a plain file name in the result's folder. A table name
    is data (it may come from a ``result.json`` on disk), so one that could name another
    folder (a path separator, ``..``, a NUL) is refused with ``ValueError``."""
    if not isinstance(table, str) or not table.strip() or any(c in table for c in "/\\\0") or table.strip(".") == "":
        raise ValueError(f"table name {table!r}: not a plain name")
    return f"{table.replace(' ', '_')}.csv"


def real_folder(folder: Path, option: str) -> Path:
    """``folder`` unless it is a symbolic link (``ValueError`` naming ``option``): lcnfast
    writes only into real folders it made or was given, never through a planted link."""
    if folder.is_symlink():
        raise ValueError(f"{option}: {folder} is a symbolic link; lcnfast does not write through links in its "
                         "output folder (remove it, or choose another --out)")
    return folder


def provenance_text(origin: Mapping[str, Any] | None) -> str:
    """One sentence on what computed a result, and where (from :func:`lcnfast.provenance`)."""
    if not origin:
        return "computed by an earlier run that recorded no provenance"
    packages = origin.get("packages", {})
    return (f"lcnfast {origin.get('lcnfast')}, Python {origin.get('python')}, numpy {packages.get('numpy')}, "
            f"python-flint {packages.get('python-flint')}; {origin.get('backend')} kernels, {origin.get('threads')} "
            f"threads on {origin.get('cpu')}; `{' '.join(origin.get('command', []))}` at {origin.get('time')}")


@dataclass
class StoredResult:
    """A result read back from a store, with what was recorded beside it."""

    result: ExperimentResult
    settings: Any
    outputs: dict[str, Any]
    provenance: dict[str, Any] | None


class ResultStore:
    """The folder of one finished result (see the module's docstring).

    Parameters
    ----------
    folder : Path
        Created when something is written.
    tool : str
        Names the command in warnings (e.g. ``"lcnfast reproduce"``).
    """

    def __init__(self, folder: Path, tool: str) -> None:
        self.folder = Path(folder)
        self.tool = tool
        self.path = self.folder / "result.json"

    def load(self) -> StoredResult | None:
        """The stored result, or None when there is none or it cannot be read (with a
        warning naming the file: the result is then computed again)."""
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not (isinstance(data, dict) and isinstance(data.get("result"), dict)):
                raise ValueError(f"not a result file of {self.tool}")
            result = ExperimentResult.from_json(data["result"])
            for table in result.tables:
                csv_name(table)  # only plain file names may come from a file (figures: by their names)
            outputs = data.get("outputs") or {}
            if not isinstance(outputs, dict):
                raise ValueError("its outputs are not a mapping")
        except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            warnings.warn(f"{self.tool}: {self.path} is unreadable ({exc}); computing the experiment again",
                          RuntimeWarning, stacklevel=3)
            return None
        return StoredResult(result, data.get("settings"), outputs, data.get("provenance"))

    def save(self, result: ExperimentResult, settings: Any, origin: dict[str, Any] | None) -> None:
        """Write the result's tables as CSV, then ``result.json`` with their digests (and
        those of its figures, already drawn into the folder)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        before = self._recorded_tables()
        for table, rows in result.tables.items():
            if rows:
                write_text(self.folder / csv_name(table), csv_text(rows))
        self._write(result, settings, origin)
        # a table the result no longer has (e.g. "failed tasks" after a successful
        # --retry-failed) leaves no stale CSV behind
        for name in before - {csv_name(table) for table, rows in result.tables.items() if rows}:
            (self.folder / name).unlink(missing_ok=True)

    def _recorded_tables(self) -> set[str]:
        """The CSV files the result.json in the folder lists (plain names only)."""
        try:
            outputs = json.loads(self.path.read_text(encoding="utf-8")).get("outputs") or {}
        except (OSError, ValueError, UnicodeDecodeError, AttributeError):
            return set()
        return {name for name in outputs if isinstance(name, str) and name.endswith(".csv")
                and Path(name).name == name and name not in (".csv", "..csv")}

    def _write(self, result: ExperimentResult, settings: Any, origin: dict[str, Any] | None) -> None:
        names = [csv_name(table) for table, rows in result.tables.items() if rows]
        names += [Path(figure).name for figure in result.figures]
        outputs = {name: file_digest(self.folder / name) for name in names}
        write_json(self.path, {"settings": settings, "result": result.to_json(), "outputs": outputs,
                               "provenance": origin})

    def restore(self, stored: StoredResult, draw: Draw | None) -> list[str]:
        """Rewrite the outputs of a reused result that are missing or differ from what was
        written: CSV tables from the stored tables, figures drawn again by ``draw``. Records
        the new digests. Returns the names rewritten."""
        result = stored.result
        repaired = []
        for table, rows in result.tables.items():
            if rows:
                name = csv_name(table)
                expected = csv_text(rows)
                if file_digest(self.folder / name) != hashlib.sha256(expected.encode("utf-8")).hexdigest():
                    write_text(self.folder / name, expected)
                    repaired.append(name)
        figures = [Path(figure).name for figure in result.figures]
        stale = [name for name in figures
                 if stored.outputs.get(name) is None or file_digest(self.folder / name) != stored.outputs[name]]
        if stale and draw is not None:
            result.figures = []
            result.notes = [note for note in result.notes if not note.startswith("(figures skipped")]
            draw(result, self.folder)
            repaired += stale
        if repaired:
            self._write(result, stored.settings, stored.provenance)
        return repaired

    def write_summary(self, lines: Iterable[str], provenance_lines: Iterable[str]) -> Path:
        """``summary.md``: the given lines, then a provenance section."""
        path = self.folder / "summary.md"
        write_text(path, "\n".join([*lines, "## Provenance", "", *provenance_lines, ""]))
        return path


class TaskJournal:
    """A store's journal of finished tasks: ``header`` names the configuration (its
    fingerprint and the lcnfast version) and ``tasks.jsonl`` holds one JSON line per
    finished task, appended, flushed and synced as each arrives. Reading it back ignores a
    torn last line (an interruption mid-write; it is cut off the file) and skips, with a
    warning, lines ``valid`` rejects (their tasks run again).

    A folder that holds the journal of another configuration or of another lcnfast version
    is refused (``ValueError``): results are never mixed.
    """

    def __init__(self, folder: Path, *, what: str, fingerprint: str, header: dict[str, Any],
                 valid: Callable[[Any], bool]) -> None:
        from .._core import __version__

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "tasks.jsonl"
        header_path = folder / f"{what}.json"
        for path in (self.path, header_path):  # refused before any task runs, not at its first record
            if path.is_symlink():
                raise ValueError(f"out: {path} is a symbolic link; lcnfast does not write through links in its "
                                 "output folder (remove it, or choose another --out)")
        if header_path.exists():
            try:
                saved = json.loads(header_path.read_text(encoding="utf-8"))
                if not isinstance(saved, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(f"out: {header_path} is not a {what} header ({exc}); choose another --out or "
                                 "delete the folder") from None
            if saved.get("fingerprint") != fingerprint:
                raise ValueError(f"out: {folder} holds a {what} of another configuration; choose another --out "
                                 "or delete it")
            if saved.get("lcnfast", __version__) != __version__:
                raise ValueError(f"out: {folder} holds a {what} run by lcnfast {saved.get('lcnfast')}, this is "
                                 f"{__version__}: its results are not mixed with new ones; choose another --out")
        elif self.path.exists() and self.path.stat().st_size:
            # records without the header that says what they are results of: never reused
            raise ValueError(f"out: {self.path} holds task records but {header_path} is missing, so what they were "
                             "computed for is unknown; choose another --out or delete the folder")
        else:
            write_json(header_path, {"fingerprint": fingerprint, "lcnfast": __version__, **header})
        self.done: dict[str, dict[str, Any]] = {}
        self.skipped = 0  # unreadable journal lines (reported, their tasks run again)
        if self.path.exists():
            lines = self.path.read_bytes().decode("utf-8", errors="replace").split("\n")
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    ok = valid(record)
                except json.JSONDecodeError:
                    ok = False
                if not ok:
                    if number < len(lines):  # a torn last line is the normal trace of an interruption
                        self.skipped += 1
                    continue
                self.done[record["task"]] = record
            if self.skipped:
                warnings.warn(f"lcnfast {what}: {self.path}: skipped {self.skipped} unreadable line(s); their "
                              "tasks run again", RuntimeWarning, stacklevel=3)
            if lines and lines[-1]:
                # a torn last line: cut it off (its task runs again), so that the journal a
                # resumed run leaves behind reads back without a warning about it
                self._cut_torn_tail()

    def _cut_torn_tail(self) -> None:
        """Truncate the file after its last newline (synced)."""
        import os

        size = self.path.read_bytes().rfind(b"\n") + 1
        fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def add(self, record: dict[str, Any]) -> None:
        """Append one finished task's record (a dict with a ``"task"`` key), flushed and
        synced before returning."""
        line = json_text(record)  # standard JSON: NaN and infinities as null
        append_line(self.path, line + "\n")
        self.done[record["task"]] = json.loads(line)  # exactly what a resumed run reads back
