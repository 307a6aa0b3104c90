"""``python -m lcnfast.benchmarks [--json]``: the suite at a small size (``lcnfast bench``)."""

from __future__ import annotations

import json
import sys

from . import run_suite, suite_table


def main(argv: list[str]) -> int:
    as_json = "--json" in argv
    rows = run_suite(echo=None if as_json else print)
    print(json.dumps(rows) if as_json else suite_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
