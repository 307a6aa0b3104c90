"""Experiments on function spaces: dimension, filling, Monte Carlo volume; strided spaces."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..architecture import Architecture
from ..geometry import FunctionSpace
from ._common import ExperimentResult, progress

__all__ = ["function_spaces", "strides"]


def function_spaces(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """Every stride-one architecture with ``L <= 3``, ``k_l <= 4``: dimension, number ``e``
    of even filters, filling or not, and the fraction of random Gaussian end-to-end filters
    that lie in the space (Monte Carlo against the exact membership test).

    The theory (DESIGN.md 3): the space is full dimensional, filling iff ``e <= 1``, and
    depends only on the end-to-end size ``k`` and ``e`` -- so the measured fractions must
    be 1 for filling architectures and agree within Monte Carlo error for equal ``(k, e)``.
    """
    samples = 100_000 if full else 4000
    rng = np.random.default_rng(seed)
    archs = [list(k) for L in (1, 2, 3) for k in itertools.product(range(1, 5), repeat=L)]
    rows: list[dict[str, Any]] = []
    by_class: dict[tuple[int, int], list[float]] = {}
    draws: dict[int, np.ndarray] = {}
    for k in progress(archs, len(archs), "function spaces", show_progress):
        arch = Architecture(k)
        fs = FunctionSpace(arch)
        K = int(arch.filter_shape[0])
        if K not in draws:  # the same random filters for every architecture of size K
            draws[K] = rng.standard_normal((samples, K))
        fraction = float(np.mean(fs.contains(draws[K]))) if K > 1 else 1.0
        e = int(fs.n_even or 0)
        rows.append({"k": tuple(k), "K": K, "e": e, "dim": fs.dim, "filling": fs.is_filling,
                     "fraction_in_space": fraction})
        by_class.setdefault((K, e), []).append(fraction)
    classes = [{"K": K, "e": e, "architectures": len(v), "fraction_min": min(v), "fraction_max": max(v),
                "filling": e <= 1} for (K, e), v in sorted(by_class.items())]
    filling_ok = all(r["fraction_in_space"] == 1.0 for r in rows if r["filling"])
    spread = max(c["fraction_max"] - c["fraction_min"] for c in classes)
    result = ExperimentResult(
        name="function-spaces",
        title="Function spaces of stride-one LCNs (L <= 3, k_l <= 4)",
        tables={"architectures": rows, "by end-to-end size and even filters": classes},
        parameters={"samples_per_size": samples, "seed": seed},
    )
    result.notes.append(
        f"{len(rows)} architectures, {samples} Gaussian filters per end-to-end size. Filling architectures "
        f"(e <= 1) contain every sample: {'yes' if filling_ok else 'NO'}. Architectures with the same (K, e) "
        f"share the same random filters and their fractions differ by at most {spread:.3g} "
        "(0 when they are the same space).")
    return result


def strides(*, full: bool = False, seed: int = 0, show_progress: bool = True) -> ExperimentResult:
    """Strided 1D architectures: ``dim M`` as the exact generic Jacobian rank, against the
    sequel paper's ``sum_l k_l - (L - 1)``, and thick (full dimensional) or thin."""
    sizes = (2, 3, 4) if full else (2, 3)
    combos = [(list(k), list(s)) for L in (2, 3) for k in itertools.product(sizes, repeat=L)
              for s in itertools.product((1, 2), repeat=L) if s[-1] == 1 and any(x > 1 for x in s)]
    rows = []
    for k, s in progress(combos, len(combos), "strides", show_progress):
        arch = Architecture(k, s)
        fs = FunctionSpace(arch)
        formula = sum(k) - (len(k) - 1)
        thick_rule = all((kl - 1) * (S - 1) == 0 for kl, S in zip(k, arch.dilations))
        rows.append({"k": tuple(k), "s": tuple(s), "K": arch.filter_size, "stride": arch.stride, "dim": fs.dim,
                     "sum_k_minus_L_plus_1": formula, "thick": fs.is_thick, "thick_by_rule": thick_rule})
    agree = all(r["dim"] == r["sum_k_minus_L_plus_1"] and r["thick"] == r["thick_by_rule"] for r in rows)
    result = ExperimentResult(name="strides", title="Strided LCNs: dimension and thick/thin",
                              tables={"architectures": rows}, parameters={"sizes": sizes})
    result.notes.append(f"{len(rows)} strided architectures; the exact Jacobian rank equals sum k_l - (L-1) and "
                        f"thickness follows (k_l - 1)(S_l - 1) = 0 for all l: {'yes' if agree else 'NO'}. "
                        f"Thin: {sum(not r['thick'] for r in rows)} of {len(rows)}.")
    return result
