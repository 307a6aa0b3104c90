"""Benchmark of the batched parameterisation map ``lcnfast.end_to_end``.

For each architecture it times, in the same run and on the same data:

* lcnfast (all threads, and one thread), writing into a preallocated array;
* (a) the fastest vectorised numpy we could write: the fastest of
  "transposed blocks" (a block of rows is transposed so that each coefficient is a
  contiguous vector over samples, then one multiply-add per layer tap: numpy's version of
  lcnfast's own layout), "shifted adds" (the same in the natural row layout) and
  "outer product + matmul" (the Kronecker product of the layer filters times the fixed
  0/1 matrix that sums its terms into end-to-end coefficients, done by BLAS); each is
  checked against lcnfast's result;
* (b) a per-sample ``np.convolve`` loop on a subsample, extrapolated to the full batch
  (what one writes without thinking about it);
* (c) a memory-bandwidth floor: ``np.copyto`` between preallocated arrays of
  ``B * (P + k) / 2`` doubles, which moves as many bytes as the kernel must (read ``P``,
  write ``k`` doubles per sample).

It prints one JSON line per case with the ratios (timings are the best of ``--repeat``
runs; the machine is noisy, so read the ratios, not the seconds). Targets from issue 2:
``speedup_vs_numpy >= 5`` and ``ratio_to_copy_floor <= 2``.

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on some of our machines to work around old
OpenBLAS bugs, and they slow a current numpy down; the script re-executes itself without
them (unless ``--keep-openblas-env``) so the numpy baseline is not handicapped.

Usage: ``python bench/bench_end_to_end.py`` (or ``python -m lcnfast.benchmarks.end_to_end``)
`` [--batch 1048576] [--repeat 7] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import add_output_options, best_time, cpu_model, reexec_without_openblas_overrides, save_json

__all__ = ["convolve_loop", "main", "numpy_outer_matmul", "numpy_shifted_adds", "numpy_transposed_blocks", "run_case"]

CASES: list[tuple[str, list[int], list[int] | None]] = [
    ("k=(3,3,3,3) s=1", [3, 3, 3, 3], None),
    ("k=(3,3,3) s=(2,2,1)", [3, 3, 3], [2, 2, 1]),
]


def numpy_shifted_adds(filters, dilations, out, block: int = 8192) -> None:
    """v = prod_l w_l(x^{S_l}) by broadcast multiply-adds, block by block over the batch."""
    import numpy as np

    B = filters[0].shape[0]
    for b0 in range(0, B, block):
        b1 = min(B, b0 + block)
        v = filters[0][b0:b1]
        for w, S in zip(filters[1:], dilations[1:]):
            k = w.shape[1]
            new = np.zeros((b1 - b0, v.shape[1] + (k - 1) * S))
            for j in range(k):
                new[:, j * S : j * S + v.shape[1]] += v * w[b0:b1, j : j + 1]
            v = new
        out[b0:b1] = v


def numpy_transposed_blocks(theta, sizes, dilations, out, block: int = 8192) -> None:
    """Like shifted adds, but on a transposed block: coefficient-major rows are contiguous."""
    import numpy as np

    starts = np.cumsum([0, *sizes])
    B = theta.shape[0]
    for b0 in range(0, B, block):
        b1 = min(B, b0 + block)
        t = np.ascontiguousarray(theta[b0:b1].T)
        v = t[starts[0] : starts[1]]
        for layer in range(1, len(sizes)):
            w = t[starts[layer] : starts[layer + 1]]
            S, k = dilations[layer], sizes[layer]
            new = np.zeros((v.shape[0] + (k - 1) * S, b1 - b0))
            for j in range(k):
                new[j * S : j * S + v.shape[0]] += v * w[j]
            v = new
        out[b0:b1] = v.T


def numpy_outer_matmul(filters, dilations, out, block: int = 8192) -> None:
    """v = (w_1 (x) w_2 (x) ... (x) w_L) @ E, with E[(j_1..j_L), m] = [m == sum_l j_l S_l]."""
    import numpy as np

    sizes = [w.shape[1] for w in filters]
    index = np.zeros(1, dtype=np.int64)
    for k, S in zip(sizes, dilations):
        index = (index[:, None] + S * np.arange(k)[None, :]).ravel()
    E = np.zeros((index.size, out.shape[1]))
    E[np.arange(index.size), index] = 1.0
    B = filters[0].shape[0]
    for b0 in range(0, B, block):
        b1 = min(B, b0 + block)
        kron = filters[0][b0:b1]
        for w in filters[1:]:
            kron = (kron[:, :, None] * w[b0:b1, None, :]).reshape(b1 - b0, -1)
        np.matmul(kron, E, out=out[b0:b1])


def convolve_loop(filters, dilations, rows) -> list[Any]:
    import numpy as np

    results = []
    for b in rows:
        v = filters[0][b]
        for w, S in zip(filters[1:], dilations[1:]):
            dil = np.zeros((w.shape[1] - 1) * S + 1)
            dil[::S] = w[b]
            v = np.convolve(v, dil)
        results.append(v)
    return results


def run_case(name: str, k: list[int], s: list[int] | None, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    import lcnfast

    arch = lcnfast.Architecture(k, s)
    B, P, K = args.batch, arch.n_params, arch.filter_size
    rng = np.random.default_rng(2022)
    theta = rng.standard_normal((B, P))
    filters = [np.ascontiguousarray(w) for w in arch.split(theta)]
    dilations = list(arch.dilations)
    out = np.empty((B, K))
    threads = lcnfast._validation.resolve_threads(args.threads)

    t_lcn = best_time(lambda: lcnfast.end_to_end(arch, theta, threads=threads, out=out), args.repeat)
    t_lcn_1 = best_time(lambda: lcnfast.end_to_end(arch, theta, threads=1, out=out), args.repeat)
    reference = out.copy()

    out_np = np.empty((B, K))
    t_shift = best_time(lambda: numpy_shifted_adds(filters, dilations, out_np), max(1, args.repeat // 2))
    assert np.allclose(out_np, reference, rtol=1e-12, atol=1e-12), "numpy shifted adds disagree with lcnfast"
    t_outer = best_time(lambda: numpy_outer_matmul(filters, dilations, out_np), max(1, args.repeat // 2))
    assert np.allclose(out_np, reference, rtol=1e-12, atol=1e-12), "numpy outer/matmul disagrees with lcnfast"
    sizes = list(arch.k)
    t_transposed = best_time(lambda: numpy_transposed_blocks(theta, sizes, dilations, out_np), args.repeat)
    assert np.allclose(out_np, reference, rtol=1e-12, atol=1e-12), "numpy transposed blocks disagree with lcnfast"
    t_numpy, numpy_method = min((t_shift, "shifted adds"), (t_outer, "outer product + matmul"),
                                (t_transposed, "transposed blocks"))

    sub = np.arange(min(args.subsample, B))
    t_loop_sub = best_time(lambda: convolve_loop(filters, dilations, sub), 1)
    loop_rows = convolve_loop(filters, dilations, sub[:50])
    assert np.allclose(np.array(loop_rows), reference[:50], rtol=1e-12, atol=1e-12)
    t_loop = t_loop_sub * B / sub.size

    n_copy = B * (P + K) // 2
    src = np.ones(n_copy)
    dst = np.empty(n_copy)
    t_copy = best_time(lambda: np.copyto(dst, src), args.repeat)

    return {
        "case": name,
        "batch": B,
        "n_params": P,
        "filter_size": K,
        "cpu": cpu_model(),
        "backend": lcnfast.simd_backend(),
        "threads": threads,
        "lcnfast_s": t_lcn,
        "lcnfast_1thread_s": t_lcn_1,
        "numpy_s": t_numpy,
        "numpy_method": numpy_method,
        "numpy_shifted_adds_s": t_shift,
        "numpy_outer_matmul_s": t_outer,
        "numpy_transposed_blocks_s": t_transposed,
        "convolve_loop_s_extrapolated": t_loop,
        "convolve_loop_subsample": int(sub.size),
        "copy_floor_s": t_copy,
        "speedup_vs_numpy": t_numpy / t_lcn,
        "speedup_vs_numpy_1thread": t_numpy / t_lcn_1,
        "speedup_vs_convolve_loop": t_loop / t_lcn,
        "ratio_to_copy_floor": t_lcn / t_copy,
        "ratio_to_copy_floor_1thread": t_lcn_1 / t_copy,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=2**20, help="parameter sets per case (default 2**20)")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions, best kept")
    parser.add_argument("--subsample", type=int, default=20000, help="rows for the np.convolve loop")
    parser.add_argument("--threads", type=int, default=None, help="lcnfast threads (default: all)")
    add_output_options(parser)
    args = parser.parse_args(argv)
    results = []
    for name, k, s in CASES:
        result = run_case(name, k, s, args)
        print(json.dumps(result), flush=True)
        results.append(result)
    save_json(args.json, results)
    return results


if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    main()
