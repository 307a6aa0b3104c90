"""Benchmark script: see lcnfast.benchmarks.end_to_end (also ``python -m lcnfast.benchmarks.end_to_end``)."""

import sys

from lcnfast.benchmarks import end_to_end as _benchmark
from lcnfast.benchmarks._common import reexec_without_openblas_overrides

if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    _benchmark.main()
