"""Membership, boundary, factorisations, root structure, discriminant (stride-one 1D)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import lcnfast
from lcnfast import Architecture, FunctionSpace
from lcnfast.geometry import discriminant, root_structure

P = np.polynomial.polynomial
X = sympy.Symbol("x")


def test_examples_from_the_issue():
    fs = FunctionSpace(Architecture([2, 2]))
    one_plus_x2, square, product = [1.0, 0.0, 1.0], [1.0, 2.0, 1.0], [2.0, 3.0, 1.0]
    assert not fs.contains(one_plus_x2) and fs.factorizations(one_plus_x2) == []
    assert fs.contains(square) and fs.is_boundary(square) and not fs.is_interior(square)
    assert fs.contains(product) and fs.is_interior(product) and not fs.is_boundary(product)
    [theta] = fs.factorizations(square)
    w1, w2 = fs.arch.split(theta)
    np.testing.assert_allclose(w1, w2)  # repeated filters on the boundary
    assert len(fs.factorizations(product)) == 2  # (1+x)(2+x) and (2+x)(1+x)
    assert list(fs.locate(np.array([one_plus_x2, square, product]))) == ["outside", "boundary", "interior"]


ARCHS = [[2, 2], [3, 2], [2, 2, 2], [3, 2, 2], [2, 3, 2], [4, 2], [2, 2, 2, 2], [3, 3], [2, 3]]


@pytest.mark.parametrize("k", ARCHS, ids=str)
@settings(max_examples=25)
@given(data=st.data())
def test_contains_iff_a_factorisation_exists(k, data):
    arch = Architecture(k)
    fs = FunctionSpace(arch)
    D = arch.filter_size - 1
    kind = data.draw(st.sampled_from(["integer", "roots"]))
    if kind == "integer":
        v = np.array(data.draw(st.lists(st.integers(-6, 6), min_size=D + 1, max_size=D + 1)), dtype=float)
        if not v.any():
            v[0] = 1.0
    else:
        n_real = D % 2 + 2 * data.draw(st.integers(0, D // 2))  # the rest pairs up
        reals = data.draw(st.lists(st.integers(-3, 3), min_size=n_real, max_size=n_real))
        v = P.polyfromroots([float(r) for r in reals]) if reals else np.array([1.0])
        for _ in range((D - n_real) // 2):
            a, b = data.draw(st.integers(-2, 2)), data.draw(st.integers(1, 3))
            v = P.polymul(v, [a * a + b * b, -2.0 * a, 1.0])
    factorizations = fs.factorizations(v)  # exact: multiple roots are exact multiple roots
    assert fs.contains(v) == (len(factorizations) > 0)
    for theta in factorizations:
        back = lcnfast.end_to_end(arch, theta)
        assert np.linalg.norm(back - v) <= 1e-12 * np.linalg.norm(v)
        norms = [np.linalg.norm(w) for w in arch.split(theta)]
        np.testing.assert_allclose(norms, norms[0], rtol=1e-9)
    assert len({tuple(np.round(t, 6)) for t in factorizations}) == len(factorizations)


def test_number_of_factorisations_counts_root_assignments():
    arch = Architecture([3, 2, 2])
    v = P.polyfromroots([1.0, 2.0, -3.0, 0.5])  # 4 distinct real roots: choose 2, then 1 and 1
    assert len(FunctionSpace(arch).factorizations(v)) == 6 * 2
    v = P.polymul(P.polyfromroots([1.0, 2.0]), [1.0, 0.0, 1.0])  # a pair must go to the 3-tap layer
    assert len(FunctionSpace(arch).factorizations(v)) == 2


@pytest.mark.parametrize("k", [[2, 2], [2, 2, 2], [3, 2, 2], [4, 2, 2]], ids=str)
def test_interior_points_are_stable_and_boundary_points_are_not(k):
    fs = FunctionSpace(Architecture(k))
    rng = np.random.default_rng(0)
    D = fs.arch.filter_size - 1
    for _ in range(5):
        v = P.polyfromroots(rng.uniform(-2, 2, size=D))
        assert fs.is_interior(v)
        lower, upper = fs.distance_to_boundary(v)
        assert 0 < lower <= upper
        for _ in range(20):  # anything closer than the lower bound stays interior
            d = rng.standard_normal(v.size)
            w = v + 0.99 * lower * d / np.linalg.norm(d)
            assert fs.is_interior(w)
    # a boundary point: two merged roots; pushing them apart keeps it in, pulling it up leaves
    e = fs.n_even
    roots = [0.5, 0.5] + list(np.linspace(-1.5, -0.5, D - 2))
    v = P.polyfromroots(roots)
    assert fs.is_boundary(v) == (D - 2 < e)


def test_gradient_descent_ends_on_the_boundary_with_repeated_filters():
    """The paper's phenomenon: for k = (2, 2) and a target outside the space, GD converges to a
    boundary point, where the two filters are proportional."""
    arch = Architecture([2, 2])
    fs = FunctionSpace(arch)
    target = np.array([1.0, 0.0, 1.0])  # 1 + x^2: no real root, outside
    loss = lcnfast.QuadraticLoss(np.eye(3), target)
    result = lcnfast.train(arch, loss, batch=50, lr=0.05, steps=20000, tol=1e-10, seed=3)
    converged = result.v[result.converged]
    assert len(converged) > 40
    assert set(fs.locate(converged, tol=1e-4)) == {"boundary"}
    for theta in result.theta[result.converged]:
        w1, w2 = arch.split(theta)
        assert abs(w1[0] * w2[1] - w1[1] * w2[0]) < 1e-4 * np.linalg.norm(w1) * np.linalg.norm(w2)


@pytest.mark.parametrize("seed", range(10))
def test_root_structure_of_constructed_forms(seed):
    rng = np.random.default_rng(seed)
    mults = [int(m) for m in rng.integers(1, 4, size=int(rng.integers(1, 4)))]
    reals = rng.choice(np.arange(-3, 4), size=len(mults), replace=False).astype(float)
    v = np.array([1.0])
    for r, m in zip(reals, mults):
        v = P.polymul(v, P.polypow([-r, 1.0], m))
    v = P.polymul(v, [2.0, 0.0, 1.0])  # a conjugate pair
    v = np.concatenate([v, [0.0]])       # and a root at infinity
    expected = tuple(sorted(mults + [1, 1, 1], reverse=True))
    for rs in (root_structure(v), root_structure(v, tol=1e-4)):  # exact, and tolerant (spread up to eps^(1/3))
        assert rs.partition == expected
        assert rs.n_real == sum(mults) + 1
        assert np.isinf(rs.roots[rs.is_real]).sum() == 1
    assert root_structure(v).exact and not root_structure(v, tol=1e-4).exact


@pytest.mark.parametrize("D", range(2, 9))
def test_discriminant_matches_sympy(D):
    rng = np.random.default_rng(D)
    for _ in range(5):
        v = rng.integers(-5, 6, size=D + 1).astype(float)
        v[-1] = v[-1] or 2.0
        expected = sympy.discriminant(sympy.Poly(sum(int(c) * X**i for i, c in enumerate(v)), X))
        assert discriminant(v) == discriminant(v, exact=True) == int(expected)  # exact by default
        assert discriminant(v, exact=False) == pytest.approx(float(expected), rel=1e-9, abs=1e-9)
    # a multiple root, also one at infinity, makes it vanish exactly
    assert discriminant(P.polymul(P.polyfromroots([1.0, 1.0]), np.ones(D - 1)), exact=True) == 0
    assert discriminant(np.concatenate([np.ones(D - 1), [0.0, 0.0]]), exact=True) == 0
    assert discriminant(np.concatenate([np.arange(1.0, D + 1), [0.0]]), exact=True) != 0


@pytest.mark.parametrize("arch", [Architecture([3, 3], kind="circular", d0=4), Architecture([(2, 2), (2, 2)])], ids=str)
def test_circular_and_2d_membership_is_refused(arch):
    fs = FunctionSpace(arch)
    v = np.ones(arch.filter_shape)
    for method in (fs.contains, fs.is_interior, fs.factorizations):
        with pytest.raises(NotImplementedError, match="exact membership is implemented for 1D valid"):
            method(v)


def test_membership_bad_input():
    with pytest.raises(ValueError, match="v: expected filters of size 3"):
        FunctionSpace(Architecture([2, 2])).contains(np.ones(4))
    with pytest.raises(ValueError, match="v: expected filters of size 7"):
        FunctionSpace(Architecture([3, 3], [2, 1])).factorizations(np.ones(4))
    with pytest.raises(ValueError, match="v: factorizations takes one filter at a time"):
        FunctionSpace(Architecture([2, 2])).factorizations(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tol: must be > 0"):
        FunctionSpace(Architecture([2, 2])).factorizations(np.ones(3), tol=-1.0)
    with pytest.raises(ValueError, match="limit: must be >= 1"):
        FunctionSpace(Architecture([2, 2])).factorizations(np.ones(3), limit=0)
    with pytest.raises(NotImplementedError, match="tol: tolerant factorisations are implemented for stride one"):
        FunctionSpace(Architecture([3, 3], [2, 1])).factorizations(np.ones(7), tol=1e-6)
    with pytest.raises(NotImplementedError, match="locate with a tolerance: implemented for stride-one"):
        FunctionSpace(Architecture([3, 3], [2, 1])).locate(np.ones(7), tol=1e-6)


def test_strided_membership_is_exact_and_thin_spaces_have_no_interior():
    arch = Architecture([3, 3], [2, 1])
    fs = FunctionSpace(arch)
    V = np.stack([lcnfast.end_to_end(arch, [1.0, 2.0, 3.0, 1.0, 0.0, -2.0]), np.arange(1.0, 8.0), np.zeros(7)])
    np.testing.assert_array_equal(fs.contains(V), [True, False, True])
    np.testing.assert_array_equal(fs.is_interior(V), [False, False, False])
    np.testing.assert_array_equal(fs.is_boundary(V), [True, False, True])
    np.testing.assert_array_equal(fs.locate(V), ["boundary", "outside", "boundary"])
    [zero] = fs.factorizations(np.zeros(7))
    assert zero.shape == (6,) and not zero.any()
    # a full-dimensional strided space (stride after the last layer with k > 1) is stride one
    thick = FunctionSpace(Architecture([2, 2, 1], [1, 3, 1]))
    square = np.array([1.0, 2.0, 1.0])
    assert thick.is_boundary(square) and thick.locate(square, tol=1e-9) == "boundary"
    assert len(thick.factorizations(square, tol=1e-9)) == len(thick.factorizations(square)) == 1


TINY, HUGE = 5e-324, 1e300  # the smallest subnormal and a huge double: exact answers need ~2100 bits


@pytest.mark.parametrize(("v", "member"), [
    # x (TINY + HUGE x^2) = w1(x) w2(x^2) with w1 = x, w2 = TINY + HUGE y
    ([0.0, TINY, 0.0, HUGE], True),
    # (1 + x)(TINY + HUGE x^2), every product exact in float64
    ([TINY, TINY, HUGE, HUGE], True),
    # x (1 + TINY x + x^2): the roots of 1 + TINY x + x^2 are -TINY/2 +- i(...), not a pair {z, -z}
    ([0.0, 1.0, TINY, 1.0], False),
    ([0.0, 1.0, TINY, HUGE], False),
    # a c = TINY, b d = HUGE, b c = a d = 0 has no solution
    ([TINY, 0.0, 0.0, HUGE], False),
], ids=["x(t+Hx2)", "(1+x)(t+Hx2)", "x(1+tx+x2)", "x(1+tx+Hx2)", "t+Hx3"])
def test_strided_membership_of_filters_of_extreme_magnitude(v, member):
    """w1(x) w2(x^2) membership decided exactly for coefficients 2^-1074 next to 1e300 (the
    power-class step used to isolate a 2149-bit polynomial's roots and took 40 s per filter)."""
    fs = FunctionSpace(Architecture([2, 2], [2, 1]))
    assert fs.contains(v) is member
    # the factorisations found reproduce v to float64 accuracy (relative to its largest entry: the
    # layer filters are float64, so 2^-1074 next to 1e300 is not kept), in exact arithmetic
    factors = fs.factorizations(v)
    assert bool(factors) is member
    for theta in factors:
        w1, w2 = fs.arch.split(theta)
        got = (flint.fmpq_poly([flint.fmpq(*float(c).as_integer_ratio()) for c in w1])
               * flint.fmpq_poly([flint.fmpq(*float(c).as_integer_ratio()) for c in [w2[0], 0.0, w2[1]]]))
        coefficients = [float(c) for c in got.coeffs()] + [0.0] * (3 - got.degree())
        assert np.max(np.abs(np.subtract(coefficients, v))) <= 1e-12 * np.max(np.abs(v))


@pytest.mark.parametrize(("k", "s"), [([3, 3], [2, 1]), ([(2, 2), (2, 2)], None), ([2, 3, 2], [2, 1, 1]),
                                      ([3, 3], None)], ids=str)
def test_factorize_searches_thin_and_2d_spaces(k, s):
    arch = Architecture(k, s)
    fs = FunctionSpace(arch)
    rng = np.random.default_rng(7)
    v = lcnfast.end_to_end(arch, rng.standard_normal(arch.n_params))
    found = fs.factorize(v)
    assert found.found and found.residual < 1e-9
    assert np.linalg.norm(lcnfast.end_to_end(arch, found.theta) - v) <= 1e-9 * np.linalg.norm(v)
    if not fs.is_thick:  # a generic point of the ambient space is not in a thin space
        w = v + 0.3 * rng.standard_normal(v.shape)
        miss = fs.factorize(w)
        assert not miss.found and miss.residual > 1e-3


def test_filter_batches_of_any_shape():
    """(..., k) in, (...) out, entry by entry the same as one filter at a time."""
    fs = FunctionSpace(Architecture([2, 2]))
    V = np.array([[[1.0, 0.0, 1.0], [1.0, 2.0, 1.0], [2.0, 3.0, 1.0]],
                  [[0.0, 0.0, 0.0], [1.0, -3.0, 2.0], [1.0, 1.0, 1.0]]])  # (2, 3, 3)
    for method, expected_type in (("contains", bool), ("is_interior", bool), ("is_boundary", bool), ("locate", str)):
        got = getattr(fs, method)(V)
        assert got.shape == (2, 3), method
        for i, j in np.ndindex(2, 3):
            one = getattr(fs, method)(V[i, j])
            assert isinstance(one, expected_type) and got[i, j] == one, (method, i, j)
    counts = lcnfast.real_root_count(V)
    assert counts.shape == (2, 3)
    assert [int(c) for c in counts.ravel()] == [lcnfast.real_root_count(v) for v in V.reshape(-1, 3)]
    assert counts[1, 0] == -1 and counts[0, 1] == 2
    structures = root_structure(V[1:, 1:])  # (1, 2, 3): nested lists
    assert len(structures) == 1 and [s.partition for s in structures[0]] == [(1, 1), (1, 1)]
    discriminants = discriminant(V[0])
    assert discriminants == [Fraction(-4), Fraction(0), Fraction(1)]
