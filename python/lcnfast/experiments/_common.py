"""Shared helpers of the experiments: result files, tables, progress."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NO_DATA", "ExperimentResult", "markdown_table", "progress", "wilson_interval", "write_csv", "write_json"]

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
        if value != value:  # NaN
            return "nan"
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


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a rename), so an interrupted run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")
    os.replace(tmp, path)


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows (dicts with the first row's keys) as CSV; nothing for no rows."""
    import csv

    if not rows:
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)


def progress(iterable: Iterable[Any], total: int | None, desc: str, enabled: bool) -> Iterable[Any]:
    """tqdm when installed and enabled, else the iterable itself."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)  # type: ignore[no-any-return,unused-ignore]
