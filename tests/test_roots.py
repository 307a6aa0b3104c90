"""Exact real-root counting of binary forms against sympy (exact rational arithmetic)."""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import lcnfast
from lcnfast import _core
from lcnfast.roots import _exact_counts, _float_certified_counts

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


@pytest.mark.parametrize("seed", range(6))
def test_high_degree_counts_against_sympy(seed):
    """Degrees 23 to 99, where the C++ Sturm chains give up: random Gaussian filters, roots at 0
    and infinity, all-real-root Chebyshev forms, a near-double root and exact double roots
    (the floating inclusion stage must decline those and leave them to exact arithmetic)."""
    rng = np.random.default_rng(seed)
    P = np.polynomial.polynomial
    k = (24, 40, 64, 100, 33, 57)[seed]
    gaussian = rng.standard_normal(k)
    ends = np.concatenate([np.zeros(2), rng.standard_normal(k - 5), np.zeros(3)])
    chebyshev = np.polynomial.chebyshev.cheb2poly([0.0] * 29 + [1.0])  # 29 simple real roots
    near_double = P.polyfromroots(np.concatenate([rng.standard_normal(6), [0.5, 0.5 + 1e-13]]))
    double = P.polymul(P.polypow([-3.0, 1.0], 2), P.polypow([1.0, 1.0, 1.0], 10))  # integers: exact
    V = [gaussian, ends, chebyshev, near_double, double, -gaussian[::-1] * 2.0**-1000]
    counts = [int(c) for c in (lcnfast.real_root_count(np.asarray(v)) for v in V)]
    assert counts == [sympy_count(v) for v in V]
    assert counts[2] == 29 and counts[4] == 2
    # the batched call (rows of different degrees, padded with roots at infinity) agrees
    width = max(v.size for v in V)
    batch = np.stack([np.concatenate([v, np.zeros(width - v.size)]) for v in V])
    np.testing.assert_array_equal(lcnfast.real_root_count(batch), [c + width - v.size for c, v in zip(counts, V)])


def test_floating_inclusion_stage_proves_only_what_is_true():
    """The floating stage (inclusion disks with rigorous rounding bounds) against python-flint
    on 600 filters: every count it claims is right, and it declines every multiple root."""
    rng = np.random.default_rng(7)
    P = np.polynomial.polynomial
    rows = [rng.standard_normal(k) * 10.0 ** rng.integers(-5, 6) for k in rng.integers(2, 70, 400)]
    for i in range(200):  # repeated and clustered roots; exactly repeated for dyadic roots
        r = rng.standard_normal(int(rng.integers(1, 12))) if i % 2 else rng.integers(-6, 7, int(rng.integers(1, 6))) / 4.0
        shift = float(rng.choice([0.0, 1e-15, 1e-9])) if i % 2 else 0.0
        cluster = r[: int(rng.integers(1, r.size + 1))] + shift
        rows.append(P.polyfromroots(np.concatenate([r, cluster])))
    decided_multiple = exact_multiple = 0
    for v in rows:
        # a multiple root other than 0 (the root 0 is split off before the floating stage)
        nonzero = np.flatnonzero(v)
        exact = flint.fmpq_poly([flint.fmpq(*float(c).as_integer_ratio()) for c in v[nonzero[0]:]])
        multiple = exact.gcd(exact.derivative()).degree() > 0
        exact_multiple += multiple
        total, odd, decided = _float_certified_counts(np.asarray(v)[None])
        if decided[0]:
            assert (int(total[0]), int(odd[0])) == _exact_counts(np.asarray(v))
            decided_multiple += multiple
    assert decided_multiple == 0
    assert exact_multiple >= 50  # the claim above was tested on many exact multiple roots
    assert sum(_float_certified_counts(np.asarray(v)[None])[2][0] for v in rows[:400]) >= 390  # the common case


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
    (np.zeros((2, 2, 0)), ValueError, "v: is empty"),
    ([1.0, np.nan], ValueError, "v: contains NaN"),
    ([1.0 + 1j, 2.0], TypeError, "v: expected real numbers"),
    (np.zeros((3, 0)), ValueError, "v: is empty"),
])
def test_bad_input(v, exc, words):
    with pytest.raises(exc) as info:
        lcnfast.real_root_count(v)
    assert words in str(info.value)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_exact_fallbacks_in_a_child_process_have_the_closed_forms(sign):
    """x^20 + eps with a subnormal eps is past the size at which the exact fallbacks run in a
    child process (so that Ctrl-C can stop them): no real root for eps > 0, two for eps < 0,
    and Disc(x^n + a) = (-1)^(n(n-1)/2) n^n a^(n-1)."""
    from fractions import Fraction

    from lcnfast import roots

    eps = sign * 2.0 ** -1060
    v = np.zeros(21)
    v[0], v[20] = eps, 1.0
    assert roots._work(v) > roots._CHILD_WORK
    assert lcnfast.real_root_count(v) == (0 if sign > 0 else 2)
    n = 20
    assert lcnfast.discriminant(v) == (-1) ** (n * (n - 1) // 2) * n**n * Fraction(eps) ** (n - 1)
