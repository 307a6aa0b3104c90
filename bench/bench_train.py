"""Benchmark script: see lcnfast.benchmarks.train (also ``python -m lcnfast.benchmarks.train``)."""

import sys

from lcnfast.benchmarks import train as _benchmark
from lcnfast.benchmarks._common import reexec_without_openblas_overrides

if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    _benchmark.main()
