"""Shared helpers of the experiments: result files, tables, progress."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NO_DATA", "ExperimentResult", "append_line", "csv_text", "file_digest", "json_safe", "json_text",
           "markdown_table", "progress", "wilson_interval", "write_bytes", "write_csv", "write_json", "write_text"]

#: What a table shows for a fraction with nothing to count (never 0).
NO_DATA = "no data"


def wilson_interval(hits: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval (95% for the default ``z``) of a binomial fraction
    ``hits / n``; ``n`` must be positive."""
    if n <= 0:
        raise ValueError(f"n: must be > 0, got {n}")
    if not 0 <= hits <= n:
        raise ValueError(f"hits: must be in [0, n], got {hits} of {n}")
    p = hits / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denominator
    low, high = centre - half, centre + half
    # at hits = 0 or n one end is 0 or 1 exactly; rounding leaves ~1e-19 there
    return (0.0 if hits == 0 else max(0.0, low)), (1.0 if hits == n else min(1.0, high))


@dataclass
class ExperimentResult:
    """What an experiment returns: tables (lists of row dicts), figures written, notes."""

    name: str
    title: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "tables": self.tables, "figures": self.figures,
                "notes": self.notes, "parameters": self.parameters}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentResult:
        return cls(name=data["name"], title=data["title"], tables=data["tables"], figures=data["figures"],
                   notes=data["notes"], parameters=data.get("parameters", {}))

    def markdown(self) -> str:
        parts = [f"## {self.title}", ""]
        parts += [f"{note}" for note in self.notes]
        if self.notes:
            parts.append("")
        for name, rows in self.tables.items():
            parts += [f"**{name}**", "", markdown_table(rows), ""]
        for figure in self.figures:
            parts += [f"![{Path(figure).stem}]({Path(figure).name})", ""]
        return "\n".join(parts)


def _fmt(value: Any) -> str:
    if value is None:  # nothing to show (e.g. the loss of a row that is not a point)
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: shown as in a table read back from JSON (null)
            return ""
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_fmt(v) for v in value) + ")"
    return str(value)


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """A GitHub-flavoured markdown table of row dicts (columns from the first row)."""
    if not rows:
        return "(empty)"
    columns = list(rows[0].keys())
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and safely (folders created): through a new
    temporary file in the same folder (never through an existing name or a planted symbolic
    link; a link at ``path`` is replaced, not followed), with the permissions a new file
    gets, renamed over ``path``. An interrupted run never leaves half a file."""
    from .._saving import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: handle.write(data))


def write_text(path: Path, text: str) -> None:
    """:func:`write_bytes` for UTF-8 text."""
    write_bytes(path, text.encode("utf-8"))


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON has no NaN: ``null``), numpy
    scalars and arrays as Python numbers and lists, tuples as lists."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(data: Any, **kwargs: Any) -> str:
    """Standard JSON (``allow_nan=False``; NaN written as ``null``, see :func:`json_safe`)."""
    return json.dumps(json_safe(data), allow_nan=False, **kwargs)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (:func:`write_bytes`); NaN becomes ``null``."""
    write_text(path, json_text(data, indent=2))


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """Rows (dicts with the first row's keys) as CSV text; NaN and infinite cells are empty."""
    import csv
    import io

    def cell(value: Any) -> Any:
        # tuples and lists alike (a table read back from JSON has lists where it had tuples)
        if isinstance(value, (list, tuple)):
            return "(" + ", ".join(str(cell(v)) for v in value) + ")"
        return value

    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()))
    writer.writeheader()
    # through json_safe: a NaN or infinite cell is empty, as in the same table read back from
    # result.json (JSON has no NaN), so a resumed or reused result writes the same bytes
    writer.writerows([{key: cell(json_safe(value)) for key, value in row.items()} for row in rows])
    return buffer.getvalue()


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows as CSV (atomically, :func:`write_bytes`); nothing for no rows."""
    if rows:
        write_text(path, csv_text(rows))


def append_line(path: Path, line: str) -> None:
    """Append one line to ``path`` (created if missing), flushed and synced; refuses to
    follow a symbolic link at ``path`` (``O_NOFOLLOW``)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise OSError(f"{path}: cannot append to it ({exc.strerror}; a symbolic link is refused)") from exc
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it cannot be read."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def progress(iterable: Iterable[Any], total: int | None, desc: str, enabled: bool) -> Iterable[Any]:
    """tqdm when installed and enabled, else the iterable itself."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)  # type: ignore[no-any-return,unused-ignore]
