"""The parameterisation map against independent references (tests/reference.py, sympy)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import lcnfast
from lcnfast import _core

from . import reference as ref
from .strategies import architectures

CASES = {
    "1d-k332": ([3, 3, 2], None, "valid", 12),
    "1d-k3333": ([3, 3, 3, 3], None, "valid", 16),
    "1d-strided-k333-s221": ([3, 3, 3], [2, 2, 1], "valid", 40),
    "1d-strided-k232-s132": ([2, 3, 2], [1, 3, 2], "valid", 30),
    "1d-single-layer": ([4], [3], "valid", 10),
    "1d-ones-k111": ([1, 1, 1], [2, 1, 2], "valid", 9),
    "1d-circular-k33-d4": ([3, 3], None, "circular", 4),
    "1d-circular-k53-s21-d6": ([5, 3], [2, 1], "circular", 6),
    "1d-circular-k2-d1": ([2, 2], None, "circular", 1),
    "2d-k22-32-s11-21": ([(2, 2), (3, 2)], [(1, 1), (2, 1)], "valid", (9, 7)),
    "2d-k33-22": ([(3, 3), (2, 2)], None, "valid", (6, 6)),
    "2d-k13-31": ([(1, 3), (3, 1)], [(1, 2), (2, 1)], "valid", (8, 9)),
    "2d-circular": ([(3, 2), (2, 2)], [(2, 1), (1, 1)], "circular", (4, 3)),
}


def _modulus(kind, d0):
    if kind != "circular":
        return None
    return d0 if isinstance(d0, tuple) else (d0, 1)


def _random_filters(arch, rng):
    return [rng.standard_normal(shape) for shape in arch.layer_shapes]


def _random_instance(spec, seed):
    """(arch, filters, theta, modulus) for a drawn architecture spec and seed."""
    k, s, kind, d0 = spec
    arch = lcnfast.Architecture(k, s, kind=kind, d0=d0)
    filters = _random_filters(arch, np.random.default_rng(seed))
    return arch, filters, arch.join(filters), _modulus(kind, d0)


def _rel(a, b):
    scale = max(np.linalg.norm(b), 1e-300)
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / scale


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request):
    k, s, kind, d0 = CASES[request.param]
    return lcnfast.Architecture(k, s, kind=kind, d0=d0), k, s or [1] * len(k), kind, d0


def test_end_to_end_matches_polynomial_product(case, rng):
    arch, k, s, kind, d0 = case
    filters = _random_filters(arch, rng)
    v = lcnfast.end_to_end(arch, arch.join(filters))
    expected = ref.end_to_end(filters, k, s, _modulus(kind, d0))
    assert v.shape == arch.filter_shape
    assert _rel(v.reshape(expected.shape), expected) < 1e-12


def test_layer_matrices_multiply_to_end_to_end_matrix(case, rng):
    """T_{w_L} ... T_{w_1} = T_v with the end-to-end stride: the defining property of mu."""
    arch, k, s, kind, d0 = case
    filters = _random_filters(arch, rng)
    theta = arch.join(filters)
    product = ref.network_matrix(filters, k, s, d0, kind == "circular")
    v = lcnfast.end_to_end(arch, theta)
    single = ref.layer_matrix(v, d0, arch.stride, kind == "circular")
    assert product.shape == single.shape
    assert _rel(single, product) < 1e-12
    # and lcnfast's own matrices agree with the reference ones
    assert _rel(lcnfast.network_matrix(arch, theta), product) < 1e-12
    assert _rel(lcnfast.conv_matrix(v, d0, arch.stride, kind == "circular"), single) < 1e-12


@given(spec=architectures(), seed=st.integers(0, 2**32 - 1))
def test_end_to_end_random_architectures(spec, seed):
    k, s, kind, d0 = spec
    arch, filters, theta, modulus = _random_instance(spec, seed)
    v = lcnfast.end_to_end(arch, theta)
    expected = ref.end_to_end(filters, k, s, modulus)
    assert _rel(v.reshape(expected.shape), expected) < 1e-12
    product = ref.network_matrix(filters, k, s, d0, kind == "circular")
    single = ref.layer_matrix(v, d0, arch.stride, kind == "circular")
    assert _rel(single, product) < 1e-12
    assert _rel(lcnfast.network_matrix(arch, theta), product) < 1e-12


def test_the_network_matrix_of_a_wide_input_is_its_banded_end_to_end_convolution():
    """Issue 29: network_matrix(..., d0=20000) multiplied dense layer matrices (O(d0^3),
    minutes). Row i holds v at columns S i .. S i + K - 1 (S the product of the strides)."""
    arch = lcnfast.Architecture([3, 2, 2], [2, 3, 1])
    theta = np.random.default_rng(5).standard_normal(arch.n_params)
    v = lcnfast.end_to_end(arch, theta)
    M = lcnfast.network_matrix(arch, theta, d0=20000)
    S, K = 6, v.size
    assert M.shape == (arch.widths(20000)[-1], 20000)
    for i in (0, 1, M.shape[0] // 2, M.shape[0] - 1):
        expected = np.zeros(20000)
        expected[S * i:S * i + K] = v
        np.testing.assert_array_equal(M[i], expected)


@given(spec=architectures(), seed=st.integers(0, 2**32 - 1))
def test_jacobian_and_vjp_match_multilinear_reference(spec, seed):
    k, s, _, _ = spec
    arch, filters, theta, modulus = _random_instance(spec, seed)
    rng = np.random.default_rng(seed + 1)
    J_ref = ref.jacobian(filters, k, s, modulus)
    J = lcnfast.jacobian(arch, theta)
    assert J.shape == arch.filter_shape + (arch.n_params,)
    assert _rel(J.reshape(J_ref.shape), J_ref) < 1e-12
    g = rng.standard_normal(arch.filter_shape)
    grad = lcnfast.vjp(arch, theta, g)
    assert _rel(grad, J_ref.T @ g.ravel()) < 1e-12


def _sympy_end_to_end(filters, k, s, modulus):
    x, z = sympy.symbols("x z")
    v = sympy.Integer(1)
    S = (1, 1)
    kp, sp = ref.as_pairs(k, s)
    for w, sl in zip(filters, sp):
        w2 = np.asarray(w).reshape(len(w), -1)
        v *= sum(int(w2[i, j]) * x ** (i * S[0]) * z ** (j * S[1])
                 for i in range(w2.shape[0]) for j in range(w2.shape[1]))
        S = (S[0] * sl[0], S[1] * sl[1])
    v = sympy.expand(v)
    if modulus is not None:
        # {x^n - 1, z^n' - 1} is a Groebner basis, so this remainder is the unique reduction.
        _, v = sympy.reduced(v, [x ** modulus[0] - 1, z ** modulus[1] - 1], x, z)
    return sympy.Poly(v, x, z)


@given(spec=architectures(max_layers=3, max_k=4), seed=st.integers(0, 2**32 - 1))
def test_end_to_end_is_exact_on_integers(spec, seed):
    """Integer filters with small entries have exactly representable products: compare with sympy."""
    k, s, kind, d0 = spec
    arch = lcnfast.Architecture(k, s, kind=kind, d0=d0)
    rng = np.random.default_rng(seed)
    filters = [rng.integers(-9, 10, size=shape).astype(float) for shape in arch.layer_shapes]
    v = lcnfast.end_to_end(arch, arch.join(filters)).reshape(arch.filter_shape[0], -1)
    poly = _sympy_end_to_end(filters, k, s, _modulus(kind, d0))
    expected = np.zeros(v.shape, dtype=object)
    for (i, j), c in poly.terms():
        expected[i, j] = int(c)
    assert all(float(e) == a for e, a in zip(expected.ravel(), v.ravel()))


def test_batched_equals_single_rows(case, rng):
    arch = case[0]
    theta = rng.standard_normal((37, arch.n_params))
    v = lcnfast.end_to_end(arch, theta)
    assert v.shape == (37,) + arch.filter_shape
    for b in (0, 7, 8, 36):
        np.testing.assert_array_equal(v[b], lcnfast.end_to_end(arch, theta[b]))
    g = rng.standard_normal(v.shape)
    grad = lcnfast.vjp(arch, theta, g)
    J = lcnfast.jacobian(arch, theta)
    for b in (0, 9, 36):
        np.testing.assert_array_equal(grad[b], lcnfast.vjp(arch, theta[b], g[b]))
        np.testing.assert_array_equal(J[b], lcnfast.jacobian(arch, theta[b]))


def _numpy_end_to_end_1d(arch, theta):
    """Vectorised numpy reference for a large 1D batch: per-layer shifted adds."""
    filters = arch.split(theta)
    B = theta.shape[0]
    v = np.ones((B, 1))
    for w, S in zip(filters, arch.dilations):
        new = np.zeros((B, v.shape[1] + (w.shape[1] - 1) * S))
        for j in range(w.shape[1]):
            new[:, j * S : j * S + v.shape[1]] += v * w[:, j : j + 1]
        v = new
    return v


@pytest.mark.parametrize("threads", [1, 2, 3], ids=lambda t: f"threads{t}")
@pytest.mark.parametrize("backend", _core.available_backends())
def test_results_identical_for_every_backend_and_thread_count(backend, threads, rng):
    arch = lcnfast.Architecture([3, 4, 2, 3], [1, 2, 1, 1])
    theta = rng.standard_normal((20011, arch.n_params))  # several chunks and a ragged tail
    g = rng.standard_normal((20011, arch.filter_size))
    try:
        _core.set_backend("generic")
        base_v = lcnfast.end_to_end(arch, theta, threads=1)
        base_g = lcnfast.vjp(arch, theta, g, threads=1)
        base_J = lcnfast.jacobian(arch, theta[:300], threads=1)
        _core.set_backend(backend)
        assert lcnfast.simd_backend() == backend
        np.testing.assert_array_equal(lcnfast.end_to_end(arch, theta, threads=threads), base_v)
        np.testing.assert_array_equal(lcnfast.vjp(arch, theta, g, threads=threads), base_g)
        np.testing.assert_array_equal(lcnfast.jacobian(arch, theta[:300], threads=threads), base_J)
    finally:
        _core.set_backend("auto")
    assert _rel(base_v, _numpy_end_to_end_1d(arch, theta)) < 1e-12


def test_out_argument_is_filled_in_place(rng):
    arch = lcnfast.Architecture([3, 3], [2, 1])
    theta = rng.standard_normal((50, arch.n_params))
    out = np.full((50, arch.filter_size), np.nan)
    result = lcnfast.end_to_end(arch, theta, out=out)
    assert result is out
    np.testing.assert_array_equal(out, lcnfast.end_to_end(arch, theta))


def test_fortran_and_strided_inputs_are_converted(rng):
    arch = lcnfast.Architecture([3, 2], [1, 2])
    theta = rng.standard_normal((40, arch.n_params))
    expected = lcnfast.end_to_end(arch, theta)
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, np.asfortranarray(theta)), expected)
    wide = np.zeros((80, 2 * arch.n_params))
    wide[::2, ::2] = theta
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, wide[::2, ::2]), expected)
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, np.round(theta * 100).astype(np.int32)),
                                  lcnfast.end_to_end(arch, np.round(theta * 100)))
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, theta.astype(np.float32)),
                                  lcnfast.end_to_end(arch, theta.astype(np.float32).astype(np.float64)))


def test_zero_filter_and_ones():
    arch = lcnfast.Architecture([3, 2, 2])
    theta = np.ones(arch.n_params)
    # (1 + x + x^2)(1 + x)^2 = 1 + 3x + 4x^2 + 3x^3 + x^4
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, theta), [1, 3, 4, 3, 1])
    theta[:3] = 0
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, theta), np.zeros(5))


@pytest.mark.slow
def test_large_outputs_streamed_to_memory_are_identical():
    """Outputs above 64 MiB take the non-temporal store path; halves below it do not."""
    arch = lcnfast.Architecture([3, 3, 3, 3])
    rng = np.random.default_rng(3)
    theta = rng.standard_normal((2**20 + 13, arch.n_params))  # 75 MB of output, ragged tail
    whole = lcnfast.end_to_end(arch, theta)
    half = theta.shape[0] // 2
    parts = np.concatenate([lcnfast.end_to_end(arch, theta[:half]), lcnfast.end_to_end(arch, theta[half:])])
    np.testing.assert_array_equal(whole, parts)
    rows = rng.integers(0, theta.shape[0], 200)
    expected = np.stack([ref.end_to_end(arch.split(theta[b]), [3, 3, 3, 3], [1, 1, 1, 1]).ravel() for b in rows])
    assert _rel(whole[rows], expected) < 1e-12


@pytest.mark.parametrize("k", [[c] for c in range(1, 21)] + [[2, c] for c in range(1, 12)] + [[(2, 3), (3, 2)]],
                         ids=str)
def test_every_backend_handles_every_tile_width(k, rng):
    """SIMD tiles move 4 columns at a time (ragged widths overlap the last block): check
    widths 1..20 for parameters and outputs, full and partial tiles, against the portable path."""
    arch = lcnfast.Architecture(k)
    theta = rng.standard_normal((16 * 5 + 7, arch.n_params))
    g = rng.standard_normal((theta.shape[0],) + arch.filter_shape)
    try:
        _core.set_backend("generic")
        expected = (lcnfast.end_to_end(arch, theta), lcnfast.vjp(arch, theta, g), lcnfast.jacobian(arch, theta[:20]))
        for backend in _core.available_backends():
            _core.set_backend(backend)
            got = (lcnfast.end_to_end(arch, theta), lcnfast.vjp(arch, theta, g), lcnfast.jacobian(arch, theta[:20]))
            for a, b in zip(got, expected):
                np.testing.assert_array_equal(a, b)
    finally:
        _core.set_backend("auto")
    filters = arch.split(theta[-1])
    assert _rel(expected[0][-1].reshape(-1), ref.end_to_end(filters, k, [1] * len(k)).ravel()) < 1e-12


@pytest.mark.parametrize(("k", "s"), [([3, 2], None), ([2, 3, 2], [1, 2, 1]), ([(2, 2), (2, 3)], None)], ids=str)
def test_batches_of_any_shape_and_broadcast_cotangents(k, s):
    """(..., P) in, (..., K) out; vjp broadcasts g against theta (numpy rules), each entry
    equal to J(theta)^T g from the multilinear reference Jacobian."""
    arch = lcnfast.Architecture(k, s)
    rng = np.random.default_rng(len(k))
    P, F = arch.n_params, arch.filter_shape
    theta = rng.standard_normal((2, 3, P))
    v = lcnfast.end_to_end(arch, theta)
    assert v.shape == (2, 3) + F
    for i, j in np.ndindex(2, 3):
        filters = arch.split(theta[i, j])
        np.testing.assert_allclose(v[i, j], ref.end_to_end(filters, list(arch.k), list(arch.s)).reshape(F),
                                   rtol=1e-13, atol=1e-13)
    out = np.empty((2, 3) + F)
    assert lcnfast.end_to_end(arch, theta, out=out) is out and np.array_equal(out, v)
    assert lcnfast.jacobian(arch, theta).shape == (2, 3) + F + (P,)
    assert lcnfast.jacobian_rank(arch, theta).shape == (2, 3)
    assert lcnfast.invariants(arch, theta).shape == (2, 3, len(k) - 1)

    def reference_vjp(t, g):
        J = ref.jacobian(arch.split(t), list(arch.k), list(arch.s))
        return J.T @ np.asarray(g).ravel()

    g_one = rng.standard_normal(F)
    g_many = rng.standard_normal((4,) + F)
    # one cotangent for a batch of points
    got = lcnfast.vjp(arch, theta, g_one)
    assert got.shape == (2, 3, P)
    for i, j in np.ndindex(2, 3):
        np.testing.assert_allclose(got[i, j], reference_vjp(theta[i, j], g_one), rtol=1e-12, atol=1e-12)
    # several cotangents at one point: the rows of J^T G
    got = lcnfast.vjp(arch, theta[0, 0], g_many)
    assert got.shape == (4, P)
    for n in range(4):
        np.testing.assert_allclose(got[n], reference_vjp(theta[0, 0], g_many[n]), rtol=1e-12, atol=1e-12)
    # (2, 1, P) against (4, F) -> (2, 4, P)
    got = lcnfast.vjp(arch, theta[:, :1], g_many)
    assert got.shape == (2, 4, P)
    np.testing.assert_allclose(got[1, 2], reference_vjp(theta[1, 0], g_many[2]), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="g: its batch shape"):
        lcnfast.vjp(arch, theta, g_many)  # (2, 3) against (4,)
    with pytest.raises(ValueError, match="theta: expected shape"):
        lcnfast.end_to_end(arch, np.ones((2, P + 1)))
