"""Exact root structure, membership and factorisations against brute-force references.

The forms are built from known roots (linear factors, irreducible quadratics with real or
complex roots, multiplicities up to 4, up to 3 roots at infinity), so the tests know the
answer: the references below deal the known roots out to the layers by brute force and
keep the distributions each layer can realise, without using lcnfast.
"""

from __future__ import annotations

import cmath
import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import event, given, settings
from hypothesis import strategies as st

import lcnfast
from lcnfast import Architecture, FunctionSpace, real_root_count, root_structure

P = np.polynomial.polynomial
X = sympy.Symbol("x")
DPS = 50  # digits of the reference roots: distinct roots of these small forms differ far above 1e-30
mpmath.mp.dps = DPS


# -- references ------------------------------------------------------------------------------
def reference_distributions(roots, infinity, k, S):
    """All distributions of the roots of ``v`` to the layers that some real
    ``w_1(x^{S_1}) ... w_L(x^{S_L})`` realises, by brute force.

    ``roots``: distinct finite roots as ``(mpmath value, multiplicity)``; ``infinity``: the
    multiplicity at infinity. Every composition of every multiplicity over the layers is
    tried; a layer's multiset of roots is realisable iff it has ``(k_l - 1) S_l`` roots, is
    closed under conjugation and under ``z -> exp(2 pi i / S_l) z`` (as a multiset), and
    holds the roots 0 and infinity a multiple of ``S_l`` times. Returns the set of
    distributions, each a tuple over layers of (counts per root..., count at infinity).
    """
    L = len(k)
    n = len(roots)
    values = [z for z, _ in roots]
    tiny = mpmath.mpf(10) ** (-(DPS - 20))

    def index_of(z):
        hits = [j for j, w in enumerate(values) if abs(w - z) < tiny]
        return hits[0] if hits else None

    conj = [index_of(mpmath.conj(z)) for z in values]
    rotate = {s: [None if z == 0 else index_of(z * mpmath.exp(2j * mpmath.pi / s)) for z in values] for s in set(S)}
    capacity = [(kl - 1) * s for kl, s in zip(k, S)]
    items = [m for _, m in roots] + [infinity]
    found = set()

    def compositions(m, parts):
        if parts == 1:
            yield (m,)
            return
        for first in range(m + 1):
            for rest in compositions(m - first, parts - 1):
                yield (first,) + rest

    def valid(layer, counts):
        s = S[layer]
        if sum(counts) != capacity[layer] or counts[n] % s:
            return False
        for i in range(n):
            c = counts[i]
            if not c:
                continue
            if conj[i] is None or counts[conj[i]] != c:
                return False
            if values[i] == 0:
                if c % s:
                    return False
            elif rotate[s][i] is None or counts[rotate[s][i]] != c:
                return False
        return True

    def deal(i, table):
        if i == len(items):
            layers = [tuple(row[j] for row in table) for j in range(L)]
            if all(valid(j, layers[j]) for j in range(L)):
                found.add(tuple(layers))
            return
        for split in compositions(items[i], L):
            if all(sum(table[r][j] for r in range(i)) + split[j] <= capacity[j] for j in range(L)):
                deal(i + 1, table + [split])

    deal(0, [])
    return found


def known_form(linear, quadratic, infinity, scale):
    """v from factors (x - r)^m and (x^2 + b x + c)^m, infinity, scale; and its roots."""
    v = np.array([float(scale)])
    roots = []
    for r, m in linear:
        v = P.polymul(v, P.polypow([-float(r), 1.0], m))
        roots.append((mpmath.mpf(r), m))
    for (b, c), m in quadratic:
        v = P.polymul(v, P.polypow([float(c), float(b), 1.0], m))
        d = mpmath.sqrt(mpmath.mpf(b * b - 4 * c))  # imaginary for a complex pair
        roots += [((-b + d) / 2, m), ((-b - d) / 2, m)]
    return np.concatenate([v, np.zeros(infinity)]), roots


def label_of(z, roots):
    """The known root nearest to a computed one (they are far apart)."""
    return min(range(len(roots)), key=lambda j: abs(complex(roots[j][0]) - z))


def distribution_of(arch, theta, roots):
    """The distribution a computed factorisation realises: the roots of each layer filter,
    pulled back through x -> x^S and matched to the known roots of v."""
    out = []
    for w, s in zip(arch.split(theta), arch.dilations):
        counts = [0] * (len(roots) + 1)
        nonzero = np.flatnonzero(w)
        counts[-1] = (w.size - 1 - int(nonzero[-1])) * s
        for rho in np.roots(w[: nonzero[-1] + 1][::-1]):
            for j in range(s):
                z = 0j if rho == 0 else cmath.exp((cmath.log(rho) + 2j * math.pi * j) / s)
                counts[label_of(z, roots)] += 1
        out.append(tuple(counts))
    return tuple(out)


def interior_reference(roots, infinity, e, filling):
    odd = sum(m % 2 for z, m in roots if mpmath.im(z) == 0) + infinity % 2
    return filling or odd >= e


# -- strategies ------------------------------------------------------------------------------
@st.composite
def forms(draw, max_degree=10):
    """Integer forms with known roots: distinct linear factors and distinct irreducible
    quadratics (real or complex roots), multiplicities 1..4, 0..3 roots at infinity."""
    infinity = draw(st.integers(0, 3))
    room = max_degree - infinity
    linear, quadratic = [], []
    candidates = [(b, c) for b in range(-3, 4) for c in range(-3, 6)
                  if not (b * b - 4 * c >= 0 and math.isqrt(b * b - 4 * c) ** 2 == b * b - 4 * c)]
    for b, c in draw(st.lists(st.sampled_from(candidates), unique=True, max_size=3)):
        m = draw(st.integers(1, 4))
        if 2 * m <= room:
            quadratic.append(((b, c), m))
            room -= 2 * m
    for r in draw(st.lists(st.integers(-4, 4), unique=True, max_size=4)):
        m = draw(st.integers(1, 4))
        if m <= room:
            linear.append((r, m))
            room -= m
    if room == max_degree - infinity and infinity == 0:
        linear.append((1, 1))  # degree at least one
    scale = draw(st.sampled_from([1, -1, 2, -3, 5]))
    return known_form(linear, quadratic, infinity, scale)


@st.composite
def layer_sizes(draw, D, max_layers=4):
    """A composition of D into 1..4 layer degrees (k_l - 1 >= 0)."""
    L = draw(st.integers(1, max_layers))
    cuts = sorted(draw(st.lists(st.integers(0, D), min_size=L - 1, max_size=L - 1)))
    degrees = [b - a for a, b in zip([0] + cuts, cuts + [D])]
    return [d + 1 for d in degrees]


# -- stride one ------------------------------------------------------------------------------
def check_stride_one(v, roots, k):
    """Every exact answer for v against the references; returns the reference count."""
    infinity = v.size - 1 - int(np.flatnonzero(v)[-1])
    arch = Architecture(k)
    fs = FunctionSpace(arch)
    rs = root_structure(v)
    assert rs.exact
    assert rs.partition == tuple(sorted([m for _, m in roots] + ([infinity] if infinity else []), reverse=True))
    n_real = sum(m for z, m in roots if mpmath.im(z) == 0) + infinity
    assert rs.n_real == n_real == real_root_count(v)
    for z, m, real in zip(rs.roots, rs.multiplicities, rs.is_real):  # the roots themselves
        if not np.isinf(z):
            j = label_of(z, roots)
            assert m == roots[j][1] and real == (mpmath.im(roots[j][0]) == 0)
            assert abs(z - complex(roots[j][0])) <= 1e-13 * max(1.0, abs(z))
    expected = reference_distributions(roots, infinity, k, [1] * len(k))
    e = fs.n_even
    assert fs.contains(v) == bool(expected)
    interior = interior_reference(roots, infinity, e, e <= 1)
    assert fs.is_interior(v) == interior
    assert fs.is_boundary(v) == (bool(expected) and not interior)
    assert fs.locate(v) == ("interior" if interior else "boundary" if expected else "outside")
    found = fs.factorizations(v)
    check_factorisations(arch, v, found, roots, expected)
    return len(expected)


def check_factorisations(arch, v, found, roots, expected):
    """Each maps back to v; their distributions of the roots are the expected ones, once each."""
    for theta in found:
        assert np.linalg.norm(lcnfast.end_to_end(arch, theta) - v) <= 1e-12 * np.linalg.norm(v)
    realised = [distribution_of(arch, theta, roots) for theta in found]
    assert len(set(realised)) == len(realised)  # nothing listed twice
    assert set(realised) == expected


@settings(max_examples=120)
@given(data=st.data())
def test_stride_one_forms_agree_with_brute_force(data):
    v, roots = data.draw(forms(max_degree=data.draw(st.sampled_from([4, 6, 10]))))
    D = v.size - 1
    # often all k_l = 2 (e = D: in the space iff every root is real), else a random composition
    k = [2] * D if D <= 6 and data.draw(st.booleans()) else data.draw(layer_sizes(D))
    count = check_stride_one(v, roots, k)
    event(f"factorisations: {min(count, 3)}{'+' if count > 3 else ''}")


def known_roots(v, roots):
    """The distinct roots of a known form as complex numbers (a real root with imaginary part
    0, infinity as ``inf``) and their multiplicities, for ``factorizations_from_roots``."""
    infinity = v.size - 1 - int(np.flatnonzero(v)[-1])
    z = [complex(r) if mpmath.im(r) != 0 else complex(float(mpmath.re(r)), 0.0) for r, _ in roots]
    m = [multiplicity for _, multiplicity in roots]
    return z + [complex(math.inf, 0.0)] * bool(infinity), m + [infinity] * bool(infinity)


@settings(max_examples=80)
@given(data=st.data())
def test_factorisations_from_known_roots_agree_with_brute_force(data):
    """The landscape lifts a certified stratum point from its roots, not from its float
    coefficients: given the distinct roots and multiplicities, the factorisations deal them
    out exactly as the brute-force reference does, and each maps back to v."""
    v, roots = data.draw(forms(max_degree=data.draw(st.sampled_from([4, 6, 10]))))
    D = v.size - 1
    k = [2] * D if D <= 6 and data.draw(st.booleans()) else data.draw(layer_sizes(D))
    arch = Architecture(k)
    infinity = v.size - 1 - int(np.flatnonzero(v)[-1])
    z, m = known_roots(v, roots)
    found = lcnfast.factorization.factorizations_from_roots(arch, v, z, m)
    check_factorisations(arch, v, found, roots, reference_distributions(roots, infinity, k, [1] * len(k)))


def test_factorisations_from_roots_survive_a_far_sextuple_root():
    """(x - 1260.3)^6 through six linear layers: its float coefficients have six roots spread
    over hundreds (eps^(1/6) relative, times 1260), so no clustering tolerance below 1 finds
    the sextuple root; given the root, the one factorisation has every layer a multiple of
    x - 1260.3 and maps back to v to rounding."""
    a = 1260.3
    v = P.polypow([-a, 1.0], 6) * 0.37
    spread = np.ptp(np.roots(v[::-1]).real)
    arch = Architecture([2] * 6)
    found = lcnfast.factorization.factorizations_from_roots(arch, v, [a], [6])
    assert len(found) == 1
    for w in arch.split(found[0]):
        assert abs(-w[0] / w[1] - a) <= 1e-9 * a
    assert np.linalg.norm(lcnfast.end_to_end(arch, found[0]) - v) <= 1e-12 * np.linalg.norm(v)
    assert spread > 1.0  # the float roots of v do not show the sextuple root
    # a double complex pair and a double real root through (3, 3, 2): the pair stays together
    v, roots = known_form([(-2, 2)], [((1, 2), 2)], 1, 3)
    z, m = known_roots(v, roots)
    found = lcnfast.factorization.factorizations_from_roots(Architecture([3, 3, 2, 2]), v, z, m)
    check_factorisations(Architecture([3, 3, 2, 2]), v, found, roots,
                         reference_distributions(roots, 1, [3, 3, 2, 2], [1] * 4))


def test_factorisations_from_roots_refuse_bad_roots():
    arch = Architecture([2, 3])
    v = P.polymul([-1.0, 1.0], [2.0, 0.0, 1.0])  # (x - 1)(x^2 + 2)
    z = [1.0, 1j * math.sqrt(2), -1j * math.sqrt(2)]
    assert len(lcnfast.factorization.factorizations_from_roots(arch, v, z, [1, 1, 1])) == 1
    with pytest.raises(ValueError, match="roots"):  # a non-real root without its conjugate
        lcnfast.factorization.factorizations_from_roots(arch, v, [1.0, 1j * math.sqrt(2)], [1, 2])
    with pytest.raises(ValueError, match="roots"):  # degrees that do not add up
        lcnfast.factorization.factorizations_from_roots(arch, v, [1.0], [2])
    with pytest.raises(ValueError, match="multiplicities"):
        lcnfast.factorization.factorizations_from_roots(arch, v, z, [1, 1])
    with pytest.raises(ValueError, match="arch"):
        lcnfast.factorization.factorizations_from_roots(Architecture([2, 3], [2, 1]), v, z, [1, 1, 1])


def test_examples_of_issue_14():
    # -(x - 1)^3 (x^2 + x + 3): the pair and one root in the middle layer, one each outside
    v, roots = known_form([(1, 3)], [((1, 3), 1)], 0, -1)
    np.testing.assert_array_equal(v, [3, -8, 7, -3, 2, -1])
    assert check_stride_one(v, roots, [2, 4, 2]) == 1
    # (x - 2)^4 and a root at infinity: infinity goes to one of the three layers
    v, roots = known_form([(2, 4)], [], 1, 1)
    np.testing.assert_array_equal(v, [16, -32, 24, -8, 1, 0])
    assert root_structure(v).partition == (4, 1)
    assert check_stride_one(v, roots, [4, 2, 2]) == 3
    # 3 (x + 4)^5 (x - 4): the first layer takes (x+4)^3 or (x+4)^2 (x-4)
    v, roots = known_form([(-4, 5), (4, 1)], [], 0, 3)
    assert check_stride_one(v, roots, [4, 4]) == 2


def test_exact_and_tolerant_root_structures_differ_as_documented():
    """The float coefficients of (x - 1/3)^2 (x - 0.1)^3 are not those of a form with
    multiple roots: exactly, all five roots are simple (sympy agrees); the tolerant
    clustering sees the double and the triple root that the floats approximate."""
    v = P.polyfromroots([1 / 3, 1 / 3, 0.1, 0.1, 0.1])
    exact = root_structure(v)
    poly = sympy.Poly([sympy.Rational(float(c)) for c in v[::-1]], X)
    assert exact.partition == tuple(sorted((m for f, m in poly.sqf_list()[1] for _ in range(f.degree())),
                                           reverse=True)) == (1, 1, 1, 1, 1)
    assert exact.n_real == len(poly.real_roots())
    assert root_structure(v, tol=1e-3).partition == (3, 2)
    fs = FunctionSpace(Architecture([3, 3, 2]))
    roots = sympy_roots(v)  # exactly: five simple roots, dealt out as 2 + 2 + 1
    expected = reference_distributions(roots, 0, [3, 3, 2], [1, 1, 1])
    check_factorisations(fs.arch, v, fs.factorizations(v), roots, expected)
    # tolerant: {a, a, b, b, b} as 2 + 2 + 1: (aa|bb|b), (bb|aa|b), (ab|ab|b), (ab|bb|a), (bb|ab|a)
    tolerant = fs.factorizations(v, tol=1e-3)
    assert len(tolerant) == 5
    for theta in tolerant:
        assert np.linalg.norm(lcnfast.end_to_end(fs.arch, theta) - v) <= 1e-10 * np.linalg.norm(v)


def test_batched_root_structure_and_bad_tolerance():
    V = np.array([[1.0, 2.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert [rs.partition for rs in root_structure(V)] == [(2,), (1, 1), (2,)]
    assert [rs.exact for rs in root_structure(V, tol=1e-6)] == [False] * 3
    with pytest.raises(ValueError, match="tol: must be > 0"):
        root_structure(V, tol=0.0)
    with pytest.raises(ValueError, match="v: the zero filter has no root structure"):
        root_structure([0.0, 0.0])
    with pytest.raises(ValueError, match="limit: more than 2 factorisations"):
        FunctionSpace(Architecture([2, 2, 2])).factorizations(P.polyfromroots([1.0, 2.0, 3.0]), limit=2)


def test_huge_and_tiny_coefficients_stay_exact():
    """Coefficients 300 orders of magnitude apart (integers of about 1000 bits for flint):
    (3e150 + 1e-150 x - 1e150 x^2) y has roots within 1e-300 of +-sqrt(3), and infinity."""
    v = np.array([3e150, 1e-150, -1e150, 0.0])
    rs = root_structure(v)
    assert rs.partition == (1, 1, 1) and rs.n_real == 3
    np.testing.assert_allclose(sorted(rs.roots.real[:2]), [-math.sqrt(3), math.sqrt(3)], rtol=1e-15)
    fs = FunctionSpace(Architecture([2, 2, 2]))
    roots = sympy_roots(v)
    check_factorisations(fs.arch, v, fs.factorizations(v), roots, reference_distributions(roots, 1, [2, 2, 2], [1] * 3))


# -- strides ---------------------------------------------------------------------------------
STRIDED = [([3, 3], [2, 1]), ([2, 3], [2, 1]), ([3, 2, 2], [1, 2, 1]), ([2, 3, 2], [2, 2, 1]),
           ([2, 2], [3, 1]), ([3, 1, 3], [1, 3, 1]), ([4, 2], [2, 1]), ([2, 2, 2], [2, 2, 1]),
           ([3, 2], [4, 1])]


def sympy_roots(v):
    """Distinct finite roots of v with multiplicity: the multiplicities from sympy's exact
    square-free factorisation over the rationals the floats are, the (simple) roots of each
    square-free factor by mpmath's polyroots at DPS digits."""
    coefficients = [sympy.Rational(float(c)) for c in v[: int(np.flatnonzero(v)[-1]) + 1]]
    out = []
    for factor, m in sympy.Poly(coefficients[::-1], X).sqf_list()[1]:
        high_first = [mpmath.mpf(int(c.p)) / int(c.q) for c in factor.all_coeffs()]
        if len(high_first) > 2:
            zs = mpmath.polyroots(high_first, maxsteps=500, extraprec=4 * DPS)
        else:
            zs = [-high_first[1] / high_first[0]]
        out += [(z, m) for z in zs]
    return out


def strided_distributions(arch, v):
    infinity = v.size - 1 - int(np.flatnonzero(v)[-1])
    roots = sympy_roots(v)
    return roots, reference_distributions(roots, infinity, list(arch.k), list(arch.dilations))


def same_up_to_scaling(arch, theta, other):
    return all(abs(abs(a @ b) - np.linalg.norm(a) * np.linalg.norm(b)) <= 1e-9 * np.linalg.norm(a) * np.linalg.norm(b)
               for a, b in zip(arch.split(theta), arch.split(other)))


@pytest.mark.parametrize(("k", "s"), STRIDED, ids=str)
@settings(max_examples=12)
@given(data=st.data())
def test_strided_factorisations_agree_with_brute_force(k, s, data):
    arch = Architecture(k, s)
    fs = FunctionSpace(arch)
    filters = [np.array(data.draw(st.lists(st.integers(-3, 3), min_size=kl, max_size=kl)), dtype=float) for kl in k]
    for w in filters:
        if not w.any():
            w[0] = 1.0
    theta = np.concatenate(filters)
    v = lcnfast.end_to_end(arch, theta)
    roots, expected = strided_distributions(arch, v)
    found = fs.factorizations(v)
    assert expected and fs.contains(v)
    assert any(same_up_to_scaling(arch, theta, t) for t in found)  # theta itself, up to scaling
    check_factorisations(arch, v, found, roots, expected)
    assert not fs.is_interior(v) and fs.is_boundary(v) and fs.locate(v) == "boundary"
    # a random integer form next to it: refused exactly when the reference finds nothing
    w = v + np.array(data.draw(st.lists(st.integers(-2, 2), min_size=v.size, max_size=v.size)), dtype=float)
    if w.any():
        _, expected_w = strided_distributions(arch, w)
        assert fs.contains(w) == bool(expected_w)
        assert len(fs.factorizations(w)) == len(expected_w)
        event(f"neighbour in the space: {bool(expected_w)}")
    event(f"factorisations of mu(theta): {min(len(expected), 3)}{'+' if len(expected) > 3 else ''}")


def test_strided_structured_examples():
    """Fibres by hand: with k = (2, 2), s = (2, 1), v = w_1(x) w_2(x^2)."""
    fs = FunctionSpace(Architecture([2, 2], [2, 1]))
    # (x - 1)(x^2 - 2): w_2 = y - 2 takes the fibre {sqrt 2, -sqrt 2} (real, irrational)
    v = P.polymul([-1.0, 1.0], [-2.0, 0.0, 1.0])
    [theta] = fs.factorizations(v)
    w1, w2 = fs.arch.split(theta)
    np.testing.assert_allclose(w2 / w2[1], [-2.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(w1 / w1[1], [-1.0, 1.0], rtol=1e-15)
    # (x - 1)(x + 1)(x - 2): only {1, -1} is a fibre
    assert len(fs.factorizations(P.polyfromroots([1.0, -1.0, 2.0]))) == 1
    # (x - 1)(x + 1)(x + 1): the fibre {1, -1} once, the other -1 in the first layer
    assert len(fs.factorizations(P.polyfromroots([1.0, -1.0, -1.0]))) == 1
    # (x - 1)(x - 2)(x - 3): no fibre, outside
    assert not fs.contains(P.polyfromroots([1.0, 2.0, 3.0]))
    # (x - 1)(x^2 + 1): the fibre {i, -i} of rho = -1 is real as a layer root
    assert len(fs.factorizations(P.polymul([-1.0, 1.0], [1.0, 0.0, 1.0]))) == 1
    # x^2 (x - 1): rho = 0 takes the double root 0; x (x - 1)(x + 1) uses {1, -1}
    assert len(fs.factorizations(np.array([0.0, 0.0, -1.0, 1.0]))) == 1
    assert len(fs.factorizations(np.array([0.0, -1.0, 0.0, 1.0]))) == 1
    # roots at infinity: w_2 = (1, 0) gives the double root at infinity of (x - 1) y^2;
    # (x^2 - 1) y is w_1 = y and w_2 = y - 1; (x - 1)(x - 2) y has no fibre and one infinity
    assert len(fs.factorizations(np.array([-1.0, 1.0, 0.0, 0.0]))) == 1
    assert len(fs.factorizations(np.array([-1.0, 0.0, 1.0, 0.0]))) == 1
    assert not fs.contains(np.array([2.0, -3.0, 1.0, 0.0]))
    # conjugate fibres: k = (3, 3), s = (2, 1), (x^4 + 4) y^2 = (x^2+2x+2)(x^2-2x+2) y^2: the roots
    # +-(1 + i) and +-(1 - i) are the fibres of rho = 2i and -2i, so w_2 = y^2 + 4 and w_1 = y^2;
    # the first layer cannot take a conjugate pair, since the rest is no fibre
    fs = FunctionSpace(Architecture([3, 3], [2, 1]))
    [theta] = fs.factorizations(np.array([4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]))
    w1, w2 = fs.arch.split(theta)
    np.testing.assert_array_equal(w1[1:], [0.0, 0.0])
    np.testing.assert_allclose(w2 / w2[2], [4.0, 0.0, 1.0], atol=1e-15)
    # x^6 + x^4 + 4 = (x^2 + 2)(x^4 - x^2 + 2): w_2 = y^2 - y + 2 takes the four roots of the
    # second factor, w_1 = x^2 + 2 the fibre of rho = -2 (which w_2 cannot take: it would lack a unit)
    [theta] = fs.factorizations(np.array([4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]))
    w1, w2 = fs.arch.split(theta)
    np.testing.assert_allclose(w1 / w1[2], [2.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(w2 / w2[2], [2.0, -1.0, 1.0], atol=1e-15)
    # (x^2 + 2x + 2)(x - 1)(x - 2)(x - 3)(x - 4): no root z has -z as a root: outside
    assert not fs.contains(P.polymul([2.0, 2.0, 1.0], P.polyfromroots([1.0, 2.0, 3.0, 4.0])))
