"""Bad input: every public entry point raises ValueError/TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lcnfast
from lcnfast import Architecture

from . import reference as ref

ARCH = Architecture([3, 2], [1, 2])
ARCH_2D = Architecture([(2, 2), (2, 1)])


@pytest.mark.parametrize("func", ["end_to_end", "jacobian", "vjp"])
@pytest.mark.parametrize(
    ("theta", "exc", "words"),
    [
        (np.zeros(5, dtype=complex), TypeError, "theta: expected real numbers, got dtype complex128"),
        (np.array([None] * 5), TypeError, "theta: expected real numbers, got dtype object"),
        (np.array(["1"] * 5), TypeError, "theta: expected real numbers"),
        ("12345", TypeError, "theta: expected an array of real numbers"),
        (np.ones(5, dtype=bool), TypeError, "theta: expected real numbers, got dtype bool"),
        (np.array([1.0, np.nan, 0, 0, 0]), ValueError, "theta: contains NaN or infinity"),
        (np.array([1.0, np.inf, 0, 0, 0]), ValueError, "theta: contains NaN or infinity"),
        (np.zeros(4), ValueError, r"theta: expected shape (5,) or a batch (..., 5)"),
        (np.zeros((2, 6)), ValueError, r"theta: expected shape (5,) or a batch (..., 5)"),
        (np.zeros((2, 2, 6)), ValueError, r"theta: expected shape (5,) or a batch (..., 5)"),
        (np.zeros((0, 5)), ValueError, "theta: is empty"),
        (np.zeros(0), ValueError, "theta: is empty"),
        (5.0, ValueError, "theta: expected shape"),
        ([[1, 2, 3], [1, 2]], ValueError, "theta: cannot be read as an array"),
    ],
)
def test_bad_theta(func, theta, exc, words):
    with pytest.raises(exc) as info:
        if func == "vjp":
            lcnfast.vjp(ARCH, theta, np.zeros(ARCH.filter_size))
        else:
            getattr(lcnfast, func)(ARCH, theta)
    assert words in str(info.value)


def test_bad_arch_and_threads():
    with pytest.raises(TypeError, match="arch: expected an lcnfast.Architecture"):
        lcnfast.end_to_end([3, 2], np.zeros(5))
    with pytest.raises(ValueError, match="threads: must be >= 1"):
        lcnfast.end_to_end(ARCH, np.zeros(5), threads=0)
    with pytest.raises(TypeError, match="threads: expected an integer"):
        lcnfast.end_to_end(ARCH, np.zeros(5), threads=1.5)


def test_bad_threads_environment(monkeypatch):
    monkeypatch.setenv("LCNFAST_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="LCNFAST_NUM_THREADS"):
        lcnfast.end_to_end(ARCH, np.zeros(5))
    monkeypatch.setenv("LCNFAST_NUM_THREADS", "1")
    np.testing.assert_array_equal(lcnfast.end_to_end(ARCH, np.ones(5)), lcnfast.end_to_end(ARCH, np.ones(5), threads=2))


def test_bad_cotangent():
    with pytest.raises(ValueError, match=r"g: expected shape \(4,\)"):
        lcnfast.vjp(ARCH, np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match=r"g: its batch shape \(2,\) does not broadcast with theta's \(3,\)"):
        lcnfast.vjp(ARCH, np.zeros((3, 5)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"g: expected shape \(4,\) or a batch \(\.\.\., 4\)"):
        lcnfast.vjp(ARCH, np.zeros((3, 5)), np.zeros((3, 5)))
    with pytest.raises(TypeError, match="g: expected real numbers"):
        lcnfast.vjp(ARCH, np.zeros(5), np.zeros(4, dtype=complex))
    with pytest.raises(ValueError, match="g: contains NaN"):
        lcnfast.vjp(ARCH, np.zeros(5), np.array([0, 0, np.nan, 0]))


def test_bad_out():
    theta = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"out: expected shape \(3, 4\)"):
        lcnfast.end_to_end(ARCH, theta, out=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="out: must be a writeable C-contiguous float64"):
        lcnfast.end_to_end(ARCH, theta, out=np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="out: must be a writeable C-contiguous float64"):
        lcnfast.end_to_end(ARCH, theta, out=np.zeros((4, 3)).T)
    with pytest.raises(TypeError, match="out: expected a numpy array"):
        lcnfast.end_to_end(ARCH, theta, out=[[0.0] * 4] * 3)
    buffer = np.zeros(3 * 5 + 3 * 4 - 3)
    with pytest.raises(ValueError, match="out: overlaps theta"):
        lcnfast.end_to_end(ARCH, buffer[:15].reshape(3, 5), out=buffer[12:].reshape(3, 4))


def test_compiled_core_rechecks_its_preconditions():
    """The bindings refuse what the Python layer would have caught, instead of crashing."""
    plan = ARCH.plan
    with pytest.raises(ValueError, match="theta: expected 5 columns"):
        plan.end_to_end(np.zeros((2, 4)), 1)
    with pytest.raises(ValueError, match="theta: expected a 2-D array"):
        plan.end_to_end(np.zeros(5), 1)
    with pytest.raises(ValueError, match="g: expected 2 rows"):
        plan.vjp(np.zeros((2, 5)), np.zeros((3, 4)), 1)
    with pytest.raises(ValueError, match="threads: must be >= 1"):
        plan.jacobian(np.zeros((2, 5)), 0)
    with pytest.raises(ValueError, match="out: expected shape"):
        plan.end_to_end(np.zeros((2, 5)), 1, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="k: filter sizes must be >= 1"):
        lcnfast._core.ProductPlan([(0, 1)], [(1, 1)], (0, 0))
    with pytest.raises(ValueError, match="s: strides must be >= 1"):
        lcnfast._core.ProductPlan([(2, 1)], [(-1, 1)], (0, 0))
    with pytest.raises(ValueError, match="s: expected one stride per layer"):
        lcnfast._core.ProductPlan([(2, 1)], [], (0, 0))
    with pytest.raises(ValueError, match="k: end-to-end filter larger"):
        lcnfast._core.ProductPlan([(2**30, 1)], [(1, 1)], (0, 0))
    with pytest.raises(ValueError, match="d0: circular input width"):
        lcnfast._core.ProductPlan([(2, 1)], [(1, 1)], (3, 0))
    with pytest.raises(ValueError, match="backend: 'sse9' is not available"):
        lcnfast._core.set_backend("sse9")


def test_matrix_function_errors():
    with pytest.raises(ValueError, match="d_in: 2 is smaller than the filter size 3"):
        lcnfast.conv_matrix(np.ones(3), 2)
    with pytest.raises(ValueError, match="stride: 2 does not divide d_in = 5"):
        lcnfast.conv_matrix(np.ones(3), 5, 2, circular=True)
    with pytest.raises(ValueError, match="stride: must be >= 1"):
        lcnfast.conv_matrix(np.ones(3), 5, 0)
    with pytest.raises(ValueError, match="w: expected a 1D or 2D filter"):
        lcnfast.conv_matrix(np.ones((2, 2, 2)), 5)
    with pytest.raises(TypeError, match="circular: expected a bool"):
        lcnfast.conv_matrix(np.ones(3), 5, 1, circular="yes")
    with pytest.raises(ValueError, match="theta: expected a single parameter vector"):
        lcnfast.network_matrix(ARCH, np.zeros((2, 5)), 10)
    with pytest.raises(ValueError, match="d0: too small"):
        lcnfast.network_matrix(ARCH, np.zeros(5), 3)
    with pytest.raises(ValueError, match="d0: this architecture has no input width"):
        lcnfast.network_matrix(ARCH, np.zeros(5))


# -- property-based fuzzing against the pure-numpy reference ---------------------------

real_dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.uint8, np.int8, np.float16])


@given(
    theta=hnp.arrays(real_dtypes, st.sampled_from([(5,), (1, 5), (3, 5)]), elements=st.integers(0, 3)),
    order=st.sampled_from(["C", "F"]),
)
def test_fuzz_real_dtypes_and_layouts(theta, order):
    """Any real dtype and memory order gives what the reference gives on the float64 values."""
    theta = np.asarray(theta, order=order)
    v = lcnfast.end_to_end(ARCH, theta)
    rows = np.atleast_2d(theta.astype(np.float64))
    for b, row in enumerate(rows):
        w1, w2 = row[:3], row[3:]
        expected = ref.end_to_end([w1, w2], [3, 2], [1, 2]).ravel()
        np.testing.assert_allclose(v.reshape(len(rows), -1)[b], expected, rtol=0, atol=1e-12)


@given(theta=hnp.arrays(np.float64, st.integers(1, 4).map(lambda n: (n, ARCH_2D.n_params)),
                        elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_fuzz_non_finite_values_are_refused(theta):
    if np.isfinite(theta).all():
        v = lcnfast.end_to_end(ARCH_2D, theta)
        assert v.shape == (theta.shape[0],) + ARCH_2D.filter_shape
    else:
        with pytest.raises(ValueError, match="theta: contains NaN or infinity"):
            lcnfast.end_to_end(ARCH_2D, theta)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))
def test_fuzz_shapes(shape):
    theta = np.ones(shape)
    ok = theta.size > 0 and len(shape) >= 1 and shape[-1] == ARCH.n_params
    if ok:  # any batch shape (..., P) -> (..., K)
        assert lcnfast.end_to_end(ARCH, theta).shape == shape[:-1] + (ARCH.filter_size,)
    else:
        with pytest.raises(ValueError, match="theta: "):
            lcnfast.end_to_end(ARCH, theta)


@given(
    k=st.lists(st.one_of(st.integers(-3, 6), st.floats(0, 5), st.none(), st.text(max_size=2)), min_size=0, max_size=4),
    s=st.one_of(st.none(), st.lists(st.integers(-2, 4), min_size=0, max_size=4)),
    d0=st.one_of(st.none(), st.integers(-2, 40)),
    kind=st.sampled_from(["valid", "circular", "full"]),
)
def test_fuzz_architecture_arguments(k, s, d0, kind):
    """Architecture either builds something self-consistent or raises ValueError/TypeError."""
    try:
        arch = Architecture(k, s, kind=kind, d0=d0)
    except (ValueError, TypeError) as exc:
        text = str(exc)
        assert text.split(":")[0].split("[")[0] in {"k", "s", "d0", "kind"}, text
        return
    theta = np.ones(arch.n_params)
    v = lcnfast.end_to_end(arch, theta)
    # all-ones filters: the product's coefficients sum to prod k_l (also after circular folding)
    assert v.sum() == np.prod([kl for kl in arch.k])


@pytest.mark.parametrize("backend", lcnfast._core.available_backends())
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_values_found_at_every_position(backend, bad):
    """The kernels check finiteness while loading (SIMD blocks and scalar tails alike)."""
    arch = Architecture([3, 4, 2, 3], [1, 2, 1, 1])  # 12 parameters: three 4-wide blocks
    rng = np.random.default_rng(5)
    theta = rng.standard_normal((19, arch.n_params))  # two full tiles of 8 and a tail
    g = rng.standard_normal((19, arch.filter_size))
    try:
        lcnfast._core.set_backend(backend)
        for row in (0, 3, 8, 15, 18):
            for col in (0, 5, arch.n_params - 1):
                bad_theta = theta.copy()
                bad_theta[row, col] = bad
                for call in (lambda: lcnfast.end_to_end(arch, bad_theta),
                             lambda: lcnfast.vjp(arch, bad_theta, g),
                             lambda: lcnfast.jacobian(arch, bad_theta)):
                    with pytest.raises(ValueError, match="theta: contains NaN or infinity"):
                        call()
            bad_g = g.copy()
            bad_g[row, arch.filter_size - 1] = bad
            with pytest.raises(ValueError, match="g: contains NaN or infinity"):
                lcnfast.vjp(arch, theta, bad_g)
    finally:
        lcnfast._core.set_backend("auto")


def test_huge_finite_values_are_not_mistaken_for_infinity():
    arch = Architecture([4, 4, 4, 4])
    theta = np.full((16, arch.n_params), 1e308)  # sums would overflow; each value is finite
    theta[:, 4:] = 1e-300
    v = lcnfast.end_to_end(arch, theta)
    assert v.shape == (16, arch.filter_size)
    lcnfast.vjp(arch, theta, np.full_like(v, 1e308))


@pytest.mark.parametrize(("call", "exc", "words"), [
    (lambda: lcnfast.conv_matrix(np.ones(3), 6, stride=2**63), ValueError, "stride: must be <="),
    (lambda: lcnfast.conv_matrix(np.ones(3), 2**40), ValueError, "d_in: must be <="),
    (lambda: lcnfast.train(lcnfast.Architecture([2, 2]), lcnfast.QuadraticLoss(np.eye(3), np.ones(3)), batch=2,
                           steps=2**63), ValueError, "steps: must be <="),
    (lambda: lcnfast.QuadraticLoss(1e308 * np.eye(3), np.ones(3)), ValueError, "G, u:"),
    (lambda: lcnfast.QuadraticLoss(-1e308 * np.eye(3), np.ones(3)), ValueError, "G: must be positive semidefinite"),
    (lambda: lcnfast.discriminant(np.array([1.0, 2.0, 1.0]), exact="yes"), TypeError, "exact: expected a bool"),
], ids=["stride-2^63", "d_in-2^40", "steps-2^63", "G-1e308", "G-minus-1e308", "exact-yes"])
def test_extreme_and_misnamed_arguments_are_refused_by_name(call, exc, words):
    """Issue 29: these raised OverflowError, pybind11's "incompatible constructor arguments" or
    LinAlgError, or were accepted."""
    with pytest.raises(exc, match=words):
        call()


def test_a_gram_matrix_near_the_overflow_limit_is_still_checked():
    assert lcnfast.QuadraticLoss(1e300 * np.eye(3), np.ones(3)).G[0, 0] == 1e300
