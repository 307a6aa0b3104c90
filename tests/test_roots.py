"""Exact real-root counting of binary forms against sympy (exact rational arithmetic)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import lcnfast
from lcnfast import _core
from lcnfast.roots import _exact_counts

X = sympy.Symbol("x")


def sympy_count(v):
    """Real roots of the binary form of v with multiplicity, infinity included, exactly."""
    v = list(v)
    k = len(v)
    if not any(v):
        return -1
    poly = sympy.Poly(sum(sympy.Rational(Fraction(float(c))) * X**i for i, c in enumerate(v)), X)
    at_infinity = (k - 1) - poly.degree()
    return at_infinity + len(poly.real_roots())


def constructed(rng):
    """prod (x - r_i)^{m_i} * prod (x^2 + p x + q)^{n_j} * y^{inf}: repeated and complex roots."""
    poly = np.array([1.0])
    for _ in range(rng.integers(0, 4)):
        r = float(rng.integers(-4, 5)) / (2 ** int(rng.integers(0, 3)))
        poly = np.polynomial.polynomial.polymul(poly, np.polynomial.polynomial.polypow([-r, 1.0], int(rng.integers(1, 4))))
    for _ in range(rng.integers(0, 3)):
        p = float(rng.integers(-3, 4))
        q = p * p / 4 + float(rng.integers(1, 4))  # no real root
        poly = np.polynomial.polynomial.polymul(poly, np.polynomial.polynomial.polypow([q, p, 1.0], int(rng.integers(1, 3))))
    poly = poly * float(rng.choice([-3.0, 1.0, 0.5, 7.0]))
    return np.concatenate([poly, np.zeros(int(rng.integers(0, 3)))])  # roots at infinity


@given(coefficients=st.lists(st.integers(-20, 20), min_size=1, max_size=13))
def test_random_integer_polynomials(coefficients):
    v = np.array(coefficients, dtype=float)
    assert lcnfast.real_root_count(v) == sympy_count(v)


@pytest.mark.parametrize("seed", range(40))
def test_constructed_products_with_repeated_roots(seed):
    v = constructed(np.random.default_rng(seed))
    if v.size > 13:
        v = v[:13] if not np.any(v[13:]) else v
    assert lcnfast.real_root_count(v) == sympy_count(v)


@given(seed=st.integers(0, 2**32 - 1), degree=st.integers(1, 12))
def test_random_float_polynomials(seed, degree):
    v = np.random.default_rng(seed).standard_normal(degree + 1)
    assert lcnfast.real_root_count(v) == sympy_count(v)


@pytest.mark.parametrize("roots", [[0.1, 0.1, 0.3], [1 / 3, 1 / 3], [0.7, 0.7, 0.7, -0.2], [1e-3, 1e-3 + 1e-12]])
def test_near_multiple_roots_with_inexact_coefficients(roots):
    """The float coefficients of (x - r)^2 ... are not exactly a square: decided exactly anyway."""
    v = np.polynomial.polynomial.polyfromroots(roots)
    assert lcnfast.real_root_count(v) == sympy_count(v)


def test_fast_paths_cover_the_common_cases():
    rng = np.random.default_rng(0)
    random_polys = rng.standard_normal((2000, 9))
    integer_products = np.stack([np.concatenate([np.polynomial.polynomial.polyfromroots(
        rng.integers(-3, 4, size=4).astype(float)), np.zeros(4)]) for _ in range(200)])
    _, _, certified, _ = _core.count_real_roots(np.concatenate([random_polys, integer_products]), 2)
    assert certified[:2000].mean() > 0.99       # the float Sturm chain
    assert certified[2000:].all()               # the exact integer chains (multiple roots)


def test_batched_and_examples():
    V = np.array([[1.0, 0.0, 1.0], [1.0, 2.0, 1.0], [2.0, 3.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(lcnfast.real_root_count(V), [0, 2, 2, -1, 2])
    assert lcnfast.real_root_count([5.0]) == 0
    assert lcnfast.real_root_count([0.0, 0.0, 1.0]) == 2  # x^2: a double root at 0
    for threads in (1, 3):
        np.testing.assert_array_equal(lcnfast.real_root_count(V, threads=threads), [0, 2, 2, -1, 2])


def test_degree_32_and_beyond():
    rng = np.random.default_rng(1)
    for degree in (20, 32, 70):
        roots = list(rng.integers(-5, 6, size=degree // 3).astype(float))
        v = np.polynomial.polynomial.polymul(np.polynomial.polynomial.polyfromroots(roots),
                                             np.polynomial.polynomial.polypow([1.0, 0.0, 1.0], (degree - len(roots)) // 2))
        assert lcnfast.real_root_count(v) == sympy_count(v)


def sympy_structure(v):
    """(partition, real roots with multiplicity, distinct real roots of odd multiplicity),
    exactly: sympy's square-free factorisation over the rationals the floats are."""
    nonzero = np.flatnonzero(v)
    infinity = len(v) - 1 - int(nonzero[-1])
    poly = sympy.Poly(sum(sympy.Rational(Fraction(float(c))) * X**i for i, c in enumerate(v)), X)
    parts = [infinity] if infinity else []
    n_real, n_odd = infinity, infinity % 2
    for factor, m in poly.sqf_list()[1]:
        parts += [m] * factor.degree()
        real = len(factor.real_roots())
        n_real += m * real
        n_odd += (m % 2) * real
    return tuple(sorted(parts, reverse=True)), n_real, n_odd


@given(coefficients=st.lists(st.integers(-20, 20), min_size=2, max_size=11).filter(any))
def test_exact_root_structure_of_integer_polynomials(coefficients):
    v = np.array(coefficients, dtype=float)
    rs = lcnfast.root_structure(v)
    partition, n_real, n_odd = sympy_structure(v)
    assert rs.exact and rs.partition == partition and rs.n_real == n_real and rs.n_odd_real == n_odd


@pytest.mark.parametrize("seed", range(40))
def test_exact_structure_and_flint_counts_of_constructed_products(seed):
    """The python-flint path on its own (it decides what the C++ chains cannot certify)."""
    v = constructed(np.random.default_rng(seed))
    partition, n_real, n_odd = sympy_structure(v)
    assert _exact_counts(v) == (n_real, n_odd)
    assert lcnfast.root_structure(v).partition == partition


@pytest.mark.parametrize("roots", [[0.1, 0.1, 0.3], [1 / 3, 1 / 3], [0.7, 0.7, 0.7, -0.2], [1e-3, 1e-3 + 1e-12]])
def test_exact_structure_of_inexact_multiple_roots(roots):
    v = np.polynomial.polynomial.polyfromroots(roots)
    partition, n_real, n_odd = sympy_structure(v)
    rs = lcnfast.root_structure(v)
    assert (rs.partition, rs.n_real, rs.n_odd_real) == (partition, n_real, n_odd)
    assert _exact_counts(v) == (n_real, n_odd)


@pytest.mark.parametrize(("v", "exc", "words"), [
    (np.zeros((2, 2, 2)), ValueError, "v: expected a filter"),
    ([1.0, np.nan], ValueError, "v: contains NaN"),
    ([1.0 + 1j, 2.0], TypeError, "v: expected real numbers"),
    (np.zeros((3, 0)), ValueError, "v: is empty"),
])
def test_bad_input(v, exc, words):
    with pytest.raises(exc) as info:
        lcnfast.real_root_count(v)
    assert words in str(info.value)
