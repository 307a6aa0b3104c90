"""Benchmark script: see lcnfast.benchmarks.atlas (also ``python -m lcnfast.benchmarks.atlas``)."""

import sys

from lcnfast.benchmarks import atlas as _benchmark
from lcnfast.benchmarks._common import reexec_without_openblas_overrides

if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    _benchmark.main()
