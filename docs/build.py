"""Build the documentation: HTML, then the examples as doctests, warnings as errors.

    pip install ".[docs]" && python docs/build.py      # HTML in docs/_build/html

Exits non-zero on the first warning or failing example.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sphinx.cmd.build import build_main

HERE = Path(__file__).resolve().parent


def main() -> int:
    out = HERE / "_build"
    # The generated pages (API list, command-line help, a fresh run of the experiments) are
    # recomputed on every build, so the site shows what this version of lcnfast computes.
    shutil.rmtree(HERE / "_generated", ignore_errors=True)
    for builder in ("html", "doctest"):
        status = build_main(["-E", "-W", "--keep-going", "-q", "-b", builder, "-d", str(out / "doctrees"),
                             str(HERE), str(out / builder)])
        if status:
            return status
    print(f"documentation built without warnings, doctests passed: {out / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
