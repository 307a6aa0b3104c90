"""Sphinx configuration of the lcnfast documentation.

Build it (HTML and the doctests, warnings as errors) with ``python docs/build.py``.
Pages that must not drift from the code are generated here at build time, into
``docs/_generated/`` (not committed): the API list from ``lcnfast.__all__``, the command
line's help from its argparse parser, the experiments' tables and figures from a
quick run of ``lcnfast reproduce``, and the gallery's pictures from its examples.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from pathlib import Path

import lcnfast

HERE = Path(__file__).resolve().parent
GENERATED = HERE / "_generated"

project = "lcnfast"
author = "The lcnfast developers"
copyright = "2026, The lcnfast developers"
release = lcnfast.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
]
exclude_patterns = ["_build", "_generated"]
html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"lcnfast {release}"
nitpicky = False

autodoc_typehints = "none"          # the numpy-style docstrings give the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # members are documented by autodoc's :members:
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

doctest_global_setup = """
import numpy as np
import lcnfast
from lcnfast import Architecture, FunctionSpace, real_root_count, root_structure
np.set_printoptions(precision=4, suppress=True)
"""
doctest_default_flags = 0
import doctest as _doctest  # noqa: E402

doctest_default_flags = _doctest.ELLIPSIS | _doctest.NORMALIZE_WHITESPACE | _doctest.DONT_ACCEPT_TRUE_FOR_1


def _write(name: str, text: str) -> None:
    GENERATED.mkdir(exist_ok=True)
    path = GENERATED / name
    if not path.exists() or path.read_text(encoding="utf-8") != text:  # keep Sphinx's cache valid
        path.write_text(text, encoding="utf-8")


def _data_doc(name: str) -> str:
    """The ``#:`` comment above a constant in the module that defines it."""
    from sphinx.pycode import ModuleAnalyzer

    if name == "__version__":
        return "The version of lcnfast (that of the compiled core)."
    for module in ("lcnfast.architecture", "lcnfast.training", "lcnfast.geometry", "lcnfast.strata"):
        docs = ModuleAnalyzer.for_module(module).find_attr_docs()
        if ("", name) in docs:
            return " ".join(line.strip() for line in docs[("", name)] if line.strip())
    raise ValueError(f"lcnfast.{name}: a public constant without a #: comment in its module")


def _api_list() -> str:
    """One autodoc entry per name in ``lcnfast.__all__``, by kind."""
    lines: list[str] = []
    for name in sorted(lcnfast.__all__, key=str.lower):
        obj = getattr(lcnfast, name)
        if isinstance(obj, type):
            lines += [f".. autoclass:: lcnfast.{name}", "   :members:", ""]
        elif callable(obj):
            lines += [f".. autofunction:: lcnfast.{name}", ""]
        else:
            lines += [f".. data:: lcnfast.{name}", f"   :value: {obj!r}", "", f"   {_data_doc(name)}", ""]
    return "\n".join(lines)


def _cli_help() -> str:
    """``lcnfast --help`` and the help of each sub-command, as literal blocks."""
    from lcnfast.cli import build_parser

    parser = build_parser()
    parts = [("lcnfast --help", parser.format_help())]
    for action in parser._actions:  # argparse keeps sub-parsers here; no public accessor
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                parts.append((f"lcnfast {name} --help", sub.format_help()))
    lines: list[str] = []
    for command, text in parts:
        title = f"``{command}``"
        lines += [title, "~" * len(title), "", ".. code-block:: text", ""]
        lines += [("   " + line).rstrip() for line in text.splitlines()]
        lines.append("")
    return "\n".join(lines)


def _rst_table(title: str, rows: list[dict[str, object]]) -> list[str]:
    from lcnfast.experiments._common import _fmt  # the formatting of summary.md

    if not rows:
        return [f"**{title}**: no rows.", ""]
    columns = list(rows[0])

    def cell(value: object) -> str:
        text = _fmt(value).replace("|", "\\|").replace("*", "\\*")
        return text if text else " "

    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in [dict(zip(columns, columns))] + rows:
        cells = [cell(row.get(c, "")) for c in columns]
        lines.append("   * - " + cells[0])
        lines += [f"     - {c}" for c in cells[1:]]
    return lines + [""]


def _experiments() -> str:
    """Run ``lcnfast reproduce`` at its quick size (seed 0) and render what it computed."""
    from lcnfast.experiments import reproduce

    out = GENERATED / "reproduce"
    with contextlib.redirect_stdout(io.StringIO()):
        results = reproduce(out, seed=0, show_progress=False, echo=None)
    lines: list[str] = []
    for result in results:
        title = result.title
        lines += [title, "-" * len(title), "", f"``lcnfast reproduce --only {result.name}``", ""]
        for note in result.notes:
            lines += [note.replace("*", "\\*"), ""]
        for name, rows in result.tables.items():
            lines += _rst_table(name, rows)
        for figure in result.figures:
            rel = Path(figure).resolve().relative_to(HERE)
            lines += [f".. figure:: /{rel.as_posix()}", "   :width: 90%", "",
                      f"   ``{Path(figure).name}``", ""]
    return "\n".join(lines)


def _atlas() -> str:
    """Run a small ``lcnfast atlas`` (D <= 3, 20 data sets of 20 runs) and render its checks,
    first tables and figures."""
    from lcnfast.experiments import atlas

    out = GENERATED / "atlas"
    result = atlas(out, max_degree=3, datasets=20, runs=20, show_progress=False, echo=None)
    lines = ["``lcnfast atlas --max-degree 3 --datasets 20 --runs 20``", ""]
    lines += ["* " + note.replace("*", "\\*") for note in result.notes] + [""]
    pivot: dict[tuple[str, int, str], dict[str, object]] = {}
    for r in result.tables["ed degrees"]:
        pivot.setdefault((r["kind"], r["D"], r["family"]), {"kind": r["kind"], "D": r["D"], "family": r["family"]})[
            r["metric"]] = r["ed_degree"]
    lines += _rst_table("ED degrees per family and metric", list(pivot.values()))
    keep = ("architecture", "datasets", "points_mean", "points_min", "points_max", "minima_mean",
            "global_min_on_boundary", "gd_global_minimum", "gd_global_minimum_95%", "gd_repeated", "gd_singular")
    lines += _rst_table("Per architecture", [{k: r[k] for k in keep} for r in result.tables["summary"]])
    for figure in result.figures:
        rel = Path(figure).resolve().relative_to(HERE)
        lines += [f".. figure:: /{rel.as_posix()}", "   :width: 90%", "", f"   ``{Path(figure).name}``", ""]
    return "\n".join(lines)


def _gallery() -> None:
    """Run the examples of gallery.rst in ``_generated/gallery/``: the PNGs they save are the
    pictures the page shows (so they are what this version of lcnfast draws)."""
    import re
    import subprocess
    import sys

    folder = GENERATED / "gallery"
    folder.mkdir(parents=True, exist_ok=True)
    text = (HERE / "gallery.rst").read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:(?: {3}.*)?\n)+)", text, flags=re.MULTILINE)
    for block in blocks:
        code = "\n".join(line[3:] for line in block.splitlines())
        run = subprocess.run([sys.executable, "-c", code], cwd=folder, env={**os.environ, "MPLBACKEND": "Agg"},
                             capture_output=True, text=True, timeout=600)
        if run.returncode:
            raise RuntimeError(f"a gallery example failed:\n{code}\n{run.stderr[-2000:]}")


_write("api_list.inc", _api_list())
_gallery()
_write("cli_help.inc", _cli_help())
if os.environ.get("LCNFAST_DOCS_SKIP_EXPERIMENTS") != "1":
    _write("experiments.inc", _experiments())
    _write("atlas.inc", _atlas())
else:  # a quicker build while editing prose
    _write("experiments.inc", "(experiments skipped: LCNFAST_DOCS_SKIP_EXPERIMENTS=1)\n")
    _write("atlas.inc", "(atlas skipped: LCNFAST_DOCS_SKIP_EXPERIMENTS=1)\n")
