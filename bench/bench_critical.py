"""Benchmark script: see lcnfast.benchmarks.critical (also ``python -m lcnfast.benchmarks.critical``)."""

import sys

from lcnfast.benchmarks import critical as _benchmark
from lcnfast.benchmarks._common import reexec_without_openblas_overrides

if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    _benchmark.main()
