"""Benchmark of the exact real-root count ``lcnfast.real_root_count``.

Inputs (issue 4): ``B = 10**5`` degree-8 polynomials, 90% with Gaussian coefficients and
10% constructed with multiple roots, ``prod (x - r_i)^{m_i} * prod (x^2 + p x + q)`` with
integer or half-integer roots (so that the float64 coefficients really have multiple
roots; a root such as 0.1 is not representable, and its "square" computed in floating
point is not a square). In one run it times:

* lcnfast's exact count (all threads) on the whole batch, and how many inputs the C++
  fast paths certified (the rest goes to the exact python-flint fallback);
* a ``numpy.roots`` loop counting roots with ``|imag| <= 1e-7 |root|`` (what one writes
  today; not exact: it miscounts multiple roots), on the whole batch;
* sympy's exact count (``len(Poly.real_roots())``) on a subsample, against which lcnfast's
  counts must agree on every sampled input (and ``numpy.roots``'s disagreements are
  counted).

It prints one JSON line. Target: ``speedup_vs_numpy_roots >= 50`` with no disagreement.

Usage: ``python bench/bench_roots.py [--batch 100000] [--sympy-sample 500] [--json out.json]``
"""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from typing import Any

from ._common import best_time, cpu_model, parse_and_run, reexec_without_openblas_overrides

__all__ = ["constructed", "main", "numpy_roots_count", "run", "sympy_count"]


def constructed(rng: Any, degree: int) -> Any:
    import numpy as np

    P = np.polynomial.polynomial
    while True:
        v = np.array([1.0])
        while v.size - 1 < degree:
            if rng.random() < 0.6 or v.size == degree:
                r = float(rng.integers(-8, 9)) / 2.0
                v = P.polymul(v, P.polypow([-r, 1.0], int(rng.integers(1, 4))))
            else:
                p = float(rng.integers(-3, 4))
                v = P.polymul(v, [p * p / 4 + float(rng.integers(1, 4)), p, 1.0])
        if v.size - 1 == degree:
            return v * float(rng.choice([1.0, -2.0, 0.5, 3.0]))


def numpy_roots_count(v: Any) -> int:
    import numpy as np

    roots = np.roots(v[::-1])
    return int(np.sum(np.abs(roots.imag) <= 1e-7 * np.maximum(1.0, np.abs(roots))))


def sympy_count(v: Any) -> int:
    import sympy

    x = sympy.Symbol("x")
    poly = sympy.Poly(sum(sympy.Rational(Fraction(float(c))) * x**i for i, c in enumerate(v)), x)
    return len(poly.real_roots())


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    import lcnfast
    from lcnfast import _core

    rng = np.random.default_rng(2024)
    n_constructed = args.batch // 10
    V = np.concatenate([rng.standard_normal((args.batch - n_constructed, args.degree + 1)),
                        np.stack([constructed(rng, args.degree) for _ in range(n_constructed)])])
    V = V[rng.permutation(len(V))]

    t_lcnfast = best_time(lambda: lcnfast.real_root_count(V), args.repeat)
    counts = lcnfast.real_root_count(V)
    _, _, certified, _ = _core.count_real_roots(V, 1)

    start = time.perf_counter()
    numpy_counts = np.array([numpy_roots_count(v) for v in V])
    t_numpy = time.perf_counter() - start

    if args.sympy_sample <= 0:  # the sympy baseline skipped (e.g. sympy is not installed)
        return {"case": f"B={len(V)} degree={args.degree}, {n_constructed} constructed with multiple roots",
                "cpu": cpu_model(), "lcnfast_s": t_lcnfast, "certified_in_cpp": float(np.mean(certified)),
                "numpy_roots_loop_s": t_numpy, "speedup_vs_numpy_roots": t_numpy / t_lcnfast,
                "sympy": "skipped"}
    sample = rng.choice(len(V), size=min(args.sympy_sample, len(V)), replace=False)
    start = time.perf_counter()
    exact = np.array([sympy_count(V[i]) for i in sample])
    t_sympy = (time.perf_counter() - start) * len(V) / len(sample)
    return {
        "case": f"B={len(V)} degree={args.degree}, {n_constructed} constructed with multiple roots",
        "cpu": cpu_model(),
        "lcnfast_s": t_lcnfast,
        "certified_in_cpp": float(np.mean(certified)),
        "numpy_roots_loop_s": t_numpy,
        "sympy_s_extrapolated": t_sympy,
        "sympy_sample": int(len(sample)),
        "disagreements_with_sympy": int(np.sum(counts[sample] != exact)),
        "numpy_roots_disagreements_with_sympy": int(np.sum(numpy_counts[sample] != exact)),
        "speedup_vs_numpy_roots": t_numpy / t_lcnfast,
        "speedup_vs_sympy": t_sympy / t_lcnfast,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--degree", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sympy-sample", type=int, default=500, help="filters checked by sympy (0: no sympy)")
    return parse_and_run(parser, run, argv)


if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    main()
