"""Benchmark of batched training: ``lcnfast.train`` against what users write today.

Problem (issue 3): ``B = 4096`` runs x ``T = 2000`` GD steps, ``k = (3, 3, 3)``, stride 1,
``d0 = 32``, ``N = 256`` Gaussian samples, teacher targets, float64. In one run it times:

* lcnfast (all threads), every run taking every step (``tol = 0``), on the best SIMD
  backend of the CPU and then on each backend it has (``lcnfast_s_by_backend``);
* (a) PyTorch ``nn.Sequential(Conv1d, ...)`` trained run by run on the raw data with
  ``torch.optim.SGD`` (on a subsample of runs and steps, extrapolated); skipped with a note
  when torch is not installed. Its loss is the same as lcnfast's (sum over outputs, mean
  over samples), and one run is checked to follow lcnfast's trajectory;
* (b) the best batched numpy implementation of the reduced loss we could write: all runs
  at once, coefficient-major arrays, one broadcast multiply-add per filter tap, the
  function-space gradient ``2 (G v - b)`` by one matrix product and the exact adjoint;
* (c) the same algorithm on batched PyTorch tensors;
* numpy's dgemm (``A @ B``, n = 2048), for the GFLOP/s yardstick.

It prints one JSON line with the ratios and GFLOP/s (counting the multiply-adds of the
product, the ``k x k`` matrix-vector product, the adjoint and the update). Targets from the
issue: ``speedup_vs_torch_per_run >= 1000``, ``speedup_vs_best_batched >= 10``,
``fraction_of_dgemm >= 0.3``.

Like bench_end_to_end.py it drops OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (set on some of our
machines for old OpenBLAS bugs; they slow a current numpy) by re-executing itself.

Usage: ``python bench/bench_train.py [--runs 4096] [--steps 2000] [--json out.json]``
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._common import best_time, cpu_model, parse_and_run, reexec_without_openblas_overrides

__all__ = ["ReducedGD", "flops_per_step", "main", "run"]


def flops_per_step(k: list[int]) -> int:
    """Multiply-adds x 2 of one GD step of one run (stride one): product, G v, adjoint, update."""
    support = 1
    forward = adjoint = 0
    for layer, kl in enumerate(k):
        if layer > 0:
            forward += support * kl
            adjoint += 2 * support * kl  # gradient of the layer and cotangent of the prefix
        support += kl - 1
    K = support
    return 2 * (forward + K * K + adjoint + sum(k)) + 4 * K


class ReducedGD:
    """GD on v^T G v - 2 b^T v + c for many runs at once, written for numpy or torch.

    Arrays are coefficient-major: filter l is (k_l, B), so each tap is a contiguous vector
    over the runs and every operation is one vectorised call.
    """

    def __init__(self, xp: Any, k: list[int], G: Any, b: Any, zeros: Any) -> None:
        self.xp, self.k, self.G, self.b, self.zeros = xp, k, G, b, zeros

    def products(self, filters: list[Any]) -> list[Any]:
        """Prefix products p_1 = w_1, p_l = p_{l-1} * w_l (stride one)."""
        out = [filters[0]]
        for w in filters[1:]:
            prev = out[-1]
            new = self.zeros((prev.shape[0] + w.shape[0] - 1, prev.shape[1]))
            for j in range(w.shape[0]):
                new[j : j + prev.shape[0]] += prev * w[j]
            out.append(new)
        return out

    def step(self, filters: list[Any], lr: float) -> list[Any]:
        prefix = self.products(filters)
        v = prefix[-1]
        gbar = 2.0 * (self.G @ v - self.b[:, None])  # (K, B): dl/dv, G symmetric
        grads = [None] * len(filters)
        for layer in range(len(filters) - 1, 0, -1):
            w, prev = filters[layer], prefix[layer - 1]
            n = prev.shape[0]
            grads[layer] = self.xp.stack([(gbar[j : j + n] * prev).sum(0) for j in range(w.shape[0])])
            new = self.zeros((n, v.shape[1]))
            for j in range(w.shape[0]):
                new += gbar[j : j + n] * w[j]
            gbar = new
        grads[0] = gbar
        return [w - lr * g for w, g in zip(filters, grads)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    import lcnfast
    from lcnfast import _core

    k = [3, 3, 3]
    arch = lcnfast.Architecture(k, d0=args.d0)
    rng = np.random.default_rng(2022)
    v_star = rng.standard_normal(arch.filter_size)
    X, Y = lcnfast.teacher_data(arch, v_star, args.samples, noise=0.1, seed=1)
    loss = lcnfast.SquaredLoss.from_data(arch, X, Y)
    lr = args.lr
    B, T = args.runs, args.steps
    theta0 = lcnfast.train(arch, loss, batch=B, steps=0, seed=3).theta

    threads = lcnfast._validation.resolve_threads(None)
    result = {}

    def ours() -> None:
        result["r"] = lcnfast.train(arch, loss, theta0, lr=lr, steps=T, tol=0.0)

    t_lcn = best_time(ours, args.repeat)
    res = result["r"]
    assert np.all(res.status == "max_steps"), res.counts()
    flops = flops_per_step(k) * B * T
    gflops = flops / t_lcn / 1e9

    # The same training on every SIMD backend this CPU has (the default is the best one);
    # they must give the same parameters bit for bit.
    by_backend: dict[str, float] = {}
    backends_agree = True
    try:
        for name in _core.available_backends():
            _core.set_backend(name)
            by_backend[name] = best_time(ours, max(1, args.repeat // 2))
            backends_agree &= bool(np.array_equal(result["r"].theta, res.theta))
    finally:
        _core.set_backend("auto")

    # (b) numpy, all runs at once (a subsample of steps, extrapolated)
    sub_steps = max(1, min(T, args.baseline_steps))
    np_gd = ReducedGD(np, k, loss.G, loss.b, np.zeros)
    filters0 = [np.ascontiguousarray(w.T) for w in arch.split(theta0)]

    def numpy_run() -> None:
        f = filters0
        for _ in range(sub_steps):
            f = np_gd.step(f, lr)
        result["np"] = f

    t_numpy = best_time(numpy_run, 2) * T / sub_steps
    check = lcnfast.train(arch, loss, theta0, lr=lr, steps=sub_steps, tol=0.0)
    np_theta = np.concatenate([w.T for w in result["np"]], axis=1)
    # Same algorithm, different rounding order: most runs agree to the last bits; runs that
    # oscillate at this step size amplify rounding differences, so report the fraction.
    rel = np.max(np.abs(np_theta - check.theta), axis=1) / np.max(np.abs(check.theta))
    numpy_agrees = float(np.mean(rel <= 1e-10))

    out: dict[str, Any] = {
        "case": f"B={B} T={T} k=(3,3,3) d0={args.d0} N={args.samples}",
        "cpu": cpu_model(),
        "backend": lcnfast.simd_backend(),
        "threads": threads,
        "lcnfast_s": t_lcn,
        "lcnfast_gflops": gflops,
        "lcnfast_s_by_backend": by_backend,
        "backends_identical": backends_agree,
        "flops_per_run_step": flops_per_step(k),
        "numpy_batched_s_extrapolated": t_numpy,
        "numpy_batched_runs_agreeing_to_1e-10": numpy_agrees,
    }

    try:
        import torch
    except ImportError:
        out["torch"] = "not installed: (a) and (c) skipped (pip install torch==2.13.0)"
        t_best_batched = t_numpy
    else:
        torch.set_num_threads(threads)
        out["torch_version"] = torch.__version__
        # (c) the same reduced-loss algorithm on batched torch tensors
        tG = torch.tensor(loss.G)
        tb = torch.tensor(loss.b)
        t_gd = ReducedGD(torch, k, tG, tb, lambda shape: torch.zeros(shape, dtype=torch.float64))
        tfilters0 = [torch.tensor(w) for w in filters0]

        def torch_batched() -> None:
            f = tfilters0
            with torch.no_grad():
                for _ in range(sub_steps):
                    f = t_gd.step(f, lr)

        t_torch_batched = best_time(torch_batched, 2) * T / sub_steps
        out["torch_batched_s_extrapolated"] = t_torch_batched
        t_best_batched = min(t_numpy, t_torch_batched)

        # (a) per run, on the raw data, the usual way
        Xt = torch.tensor(X[:, None, :])
        Yt = torch.tensor(Y[:, None, :])
        per_run_runs, per_run_steps = args.torch_runs, min(T, args.torch_steps)

        def torch_per_run(run: int) -> Any:
            model = torch.nn.Sequential(*[torch.nn.Conv1d(1, 1, kl, bias=False) for kl in k]).double()
            with torch.no_grad():
                for layer, w in zip(model, arch.split(theta0[run])):
                    layer.weight.copy_(torch.tensor(w).view(1, 1, -1))
            opt = torch.optim.SGD(model.parameters(), lr=lr)
            for _ in range(per_run_steps):
                opt.zero_grad()
                value = ((model(Xt) - Yt) ** 2).sum(dim=(1, 2)).mean()  # lcnfast's loss, on raw data
                value.backward()
                opt.step()
            return torch.cat([layer.weight.detach().view(-1) for layer in model]).numpy()

        start = time.perf_counter()
        finals = [torch_per_run(r) for r in range(per_run_runs)]
        t_per_run = (time.perf_counter() - start) * (B / per_run_runs) * (T / per_run_steps)
        same = lcnfast.train(arch, loss, theta0[:per_run_runs], lr=lr, steps=per_run_steps, tol=0.0)
        out["torch_per_run_s_extrapolated"] = t_per_run
        out["torch_per_run_sample"] = f"{per_run_runs} runs x {per_run_steps} steps"
        out["torch_per_run_max_rel_diff"] = float(np.max(np.abs(np.array(finals) - same.theta)) /
                                                  np.max(np.abs(same.theta)))
        out["speedup_vs_torch_per_run"] = t_per_run / t_lcn
        out["speedup_vs_torch_batched"] = t_torch_batched / t_lcn

    A = np.random.default_rng(0).standard_normal((2048, 2048))
    Bm = np.random.default_rng(1).standard_normal((2048, 2048))
    t_gemm = best_time(lambda: A @ Bm, 3)
    dgemm = 2 * 2048**3 / t_gemm / 1e9
    out["speedup_vs_numpy_batched"] = t_numpy / t_lcn
    out["speedup_vs_best_batched"] = t_best_batched / t_lcn
    out["dgemm_gflops"] = dgemm
    out["fraction_of_dgemm"] = gflops / dgemm
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--d0", type=int, default=32)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions of lcnfast, best kept")
    parser.add_argument("--baseline-steps", type=int, default=200, help="steps timed for the batched baselines")
    parser.add_argument("--torch-runs", type=int, default=4, help="runs timed for the per-run PyTorch baseline")
    parser.add_argument("--torch-steps", type=int, default=300, help="steps timed for the per-run baseline")
    return parse_and_run(parser, run, argv)


if __name__ == "__main__":
    reexec_without_openblas_overrides(sys.argv)
    main()
