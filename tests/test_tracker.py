"""The parameter-homotopy path tracker of the strata (``_core.CriticalSystem.track``) on data
where paths pass near singular points of the homotopy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lcnfast import strata
from lcnfast._homotopy import family as family_module, solve
from lcnfast.benchmarks.critical import generic_data


@pytest.mark.parametrize("seed", [1000, 1001])
def test_paths_through_ill_conditioned_stretches_arrive(seed):
    """Data sets of D = 7 on which the partition (4, 2, 1) has paths passing close to a
    singular point: Newton's steps there stay at a rounding floor above 1e-11 and used to be
    rejected as "not contracting" until the step size collapsed (1-2 failed paths per chart
    before). Every path must now end regular, at one of 164 distinct points (the generic
    count), the same points in both charts (compared as forms in the user's basis)."""
    lam = (4, 2, 1)
    fam = strata.stratum_family(lam, 2)
    assert fam.starts.shape[0] == 164
    G, u = generic_data(7, seed)
    Gs = np.ldexp(G, -math.frexp(float(np.max(np.abs(G))))[1])
    forms = []
    for chart in (0, 1):
        q1 = fam.chart_parameters(chart, Gs, u)
        z, kind, *_ = fam.track((fam.w0, fam.G0), q1, fam.starts, endgame=True, threads=2)
        assert np.all(kind == 0), np.bincount(kind)
        E = z[:, 1:] / z[:, :1]
        R = np.array(fam.chart_matrix(chart), dtype=float)
        v = []
        for e in E:
            p, _ = fam.numeric_jets(e)
            a, b = p @ q1[0], p @ q1[1] @ p
            v.append((a / b) * (R @ p))
        V = np.array(v)
        gaps = np.linalg.norm(V[:, None, :] - V[None, :, :], axis=2) + np.eye(len(V)) * 1e9
        assert gaps.min() > 1e-6  # 164 distinct critical forms
        forms.append(V)
    # the same forms from both charts
    dist = np.linalg.norm(forms[0][:, None, :] - forms[1][None, :, :], axis=2)
    assert np.all(dist.min(axis=1) <= 1e-8 * (1 + np.linalg.norm(forms[0], axis=1)))


@pytest.mark.parametrize("lam", [(4, 2, 1), (2, 2, 1, 1, 1), (3, 3, 1)])
def test_there_and_back_returns_every_path_to_its_own_start(lam):
    """The tracker against path jumping: each start solution tracked to random complex
    parameters and back along the same segment must come home to itself, not to another
    start (a jump on either leg shows as a permutation or a repeated endpoint)."""
    fam = strata.stratum_family(lam, 2)
    rng = np.random.default_rng(7)
    qa = family_module.random_parameters(rng, fam.K)
    q0 = (fam.w0, fam.G0)
    z, kind, *_ = fam.track(q0, qa, fam.starts, endgame=False, threads=2)
    assert np.all(kind == 0), np.bincount(kind)
    back, kind, *_ = fam.track(qa, q0, z, endgame=False, threads=2)
    assert np.all(kind == 0), np.bincount(kind)
    e0 = fam.starts[:, 1:] / fam.starts[:, :1]
    e1 = back[:, 1:] / back[:, :1]
    assert np.max(np.abs(e1 - e0) / (1 + np.abs(e0))) <= 1e-9
    # and the solutions at qa are distinct (no two paths merged on the way out)
    ea = z[:, 1:] / z[:, :1]
    gaps = np.max(np.abs(ea[:, None, :] - ea[None, :, :]), axis=2) + np.eye(len(ea))
    assert gaps.min() > 1e-6


@pytest.mark.parametrize("lam", [(3, 2, 1), (2, 2, 1, 1), (3, 3, 2, 2, 1), (4,), (1, 1, 1)])
def test_forms_and_roots_of_many_points_at_once(lam):
    """The batched form coefficients and user roots of the endpoint bookkeeping against the
    expanded product (numpy.polynomial) and numpy.roots of each group, point by point, in
    both charts."""
    fam = strata.StratumFamily(lam)  # the equations only: no start system needed here
    rng = np.random.default_rng(3)
    E = rng.standard_normal((6, fam.n)) + 1j * rng.standard_normal((6, fam.n))
    P = fam.forms(E)
    for chart in (0, 1):
        roots = fam.point_info(chart, E)
        assert roots.shape == (6, len(lam))
        for row, e in enumerate(E):
            # the form: prod over groups of (X^m + e_1 X^(m-1) Y + ...)^a, highest power of X first
            expected = np.ones(1, dtype=complex)
            offset = 0
            for a, m in fam.groups:
                q = np.concatenate(([1.0], e[offset:offset + m]))
                offset += m
                for _ in range(a):
                    expected = np.polymul(expected, q)
            assert np.allclose(P[row], expected, rtol=1e-12, atol=1e-12)
            # the roots: numpy.roots of each group's polynomial, mapped through the chart
            a_, b_, c_, d_ = (float(x) for x in strata.CHARTS[chart])
            want = []
            offset = 0
            for _, m in fam.groups:
                ts = -np.roots(np.concatenate(([1.0], e[offset:offset + m])))
                offset += m
                want += list(-(b_ + ts * d_) / (a_ + ts * c_))
            assert np.allclose(np.sort_complex(roots[row]), np.sort_complex(np.array(want)), rtol=1e-9)


def _chordal_reference(roots):
    """The smallest chordal distance between the points of a list of complex numbers (or
    infinity), pair by pair in Python."""
    best = 1.0
    for i, x in enumerate(roots):
        for y in roots[i + 1:]:
            if math.isinf(abs(x)) and math.isinf(abs(y)):
                d = 0.0
            elif math.isinf(abs(x)) or math.isinf(abs(y)):
                d = 1.0 / math.sqrt(1.0 + abs(y if math.isinf(abs(x)) else x) ** 2)
            else:
                d = abs(x - y) / math.sqrt((1.0 + abs(x) ** 2) * (1.0 + abs(y) ** 2))
            best = min(best, d)
    return best


@pytest.mark.parametrize("lam", [(3, 2, 1), (2, 2, 1, 1), (2, 2, 1, 1, 1), (3, 3, 2, 2, 1), (1, 1, 1)])
def test_root_separation_against_numpy_roots(lam):
    """The roots' separation used by the trend test of degenerate limits: the smallest
    chordal distance between the roots numpy.roots finds for each group, for random points,
    points with two groups sharing a root and points with two roots near infinity (where
    |x - y| overflows if computed naively)."""
    fam = strata.StratumFamily(lam)
    rng = np.random.default_rng(11)

    def point(ts):  # the unknowns whose groups vanish at the chart roots ts (one list per group)
        return np.concatenate([np.poly(-np.asarray(t, dtype=complex))[1:] for t in ts])

    E = []
    for row in range(8):
        ts = [list(rng.standard_normal(m) + 1j * rng.standard_normal(m)) for _, m in fam.groups]
        last = ts[-1] if len(ts) == 1 else ts[0]  # a root of another group, or of the same one
        if row == 1:  # two roots 1e-9 apart
            ts[-1][-1] = last[0] + 1e-9
        elif row == 2:  # two roots near infinity, chordal ~ 2e-8 (|x|, |y| ~ 1e8)
            ts[-1][-1], last[0] = 1e8, -3e8
        elif row == 3:  # one root near infinity, alone there
            ts[-1][-1] = 1e150 if fam.groups[-1][1] == 1 else 1e50
        E.append(point(ts))
    E = np.array(E)
    sep = strata.root_separation(fam.groups, E)
    for row, e in enumerate(E):
        roots = []
        offset = 0
        for _, m in fam.groups:
            coeffs = e[offset:offset + m]
            offset += m
            if m == 1:
                roots.append(complex(coeffs[0]))
            else:
                roots += [complex(t) for t in -np.roots(np.concatenate(([1.0], coeffs)))]
        want = _chordal_reference(roots)
        assert sep[row] == pytest.approx(want, rel=1e-6, abs=1e-300), (row, sep[row], want)
    assert sep[1] < 1e-8 and sep[2] < 1e-7 and sep[3] > 1e-3
    # points of the sphere directly, infinity included (the user's roots of a form)
    inf = complex(np.inf)
    sphere = strata.min_chordal(np.array([[inf, inf, 0.5], [inf, 2.0, -1.0], [1e8, inf, 3.0]]))
    assert sphere[0] == 0.0
    assert sphere[1] == pytest.approx(_chordal_reference([inf, 2.0, -1.0]), rel=1e-12)
    assert sphere[2] == pytest.approx(_chordal_reference([1e8, inf, 3.0]), rel=1e-6)
    one = strata.StratumFamily((4,))
    assert np.array_equal(strata.root_separation(one.groups, np.array([[2.0 + 0j], [1e300 + 0j]])), [1.0, 1.0])


@pytest.mark.parametrize("lam", [(4, 2, 1), (3, 3, 1, 1), (2, 2, 2, 1, 1), (5, 3), (3, 2, 2, 1), (1,) * 8,
                                 (6, 2, 1, 1), (4, 4, 3), (2, 2, 2, 2, 2, 2),
                                 # dilated products (S, a, m): q_i(x^S)^a, strided families
                                 ((1, 1, 3), (2, 1, 3)), ((1, 1, 1), (2, 1, 1), (4, 1, 1), (8, 1, 1)),
                                 ((1, 2, 1), (2, 1, 2)), ((1, 1, 2), (3, 2, 1)), ((1, 1, 2), (2, 3, 1)),
                                 ((2, 1, 2), (5, 1, 1))])
def test_the_product_evaluation_tracks_like_the_term_evaluation(lam):
    """The tracker evaluates a family's equations from the product structure of the form
    (``groups``; for the dilated products of the strided families with their dilations and
    the factors' coefficients as linear forms) or term by term from the expanded polynomials
    (no ``groups``): two independent codes. Paths from random points of the family (a random
    z, made a solution by choosing w in the kernel of the equations, which are linear in w)
    to random complex parameters must end at the same points, with the same kinds, for
    families beyond those the code was written for (D up to 12, one group of eight parts, six
    equal parts; dilations up to 8, repeated dilated factors)."""
    from lcnfast import strided

    dilated = isinstance(lam[0], tuple)
    fam = strided.DilatedFamily(lam) if dilated else strata.StratumFamily(lam)
    rng = np.random.default_rng(sum(map(sum, lam)) * 31 + len(lam) if dilated else sum(lam) * 31 + len(lam))
    fam.patch = rng.standard_normal(fam.N) + 1j * rng.standard_normal(fam.N)
    K, n = fam.K, fam.n
    starts, params = [], []
    G = rng.standard_normal((K, K)) + 1j * rng.standard_normal((K, K))
    G = G + G.T
    for _ in range(12):
        e = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        p, P = fam.numeric_jets(e)
        g = G @ p
        M = P.T * (p @ g) - np.outer(g @ P, p)  # F_j(w) = (w.P_j) b - (w.p) (g.P_j): linear in w
        kernel = np.linalg.svd(M)[2][n:].conj().T  # (K, K - n)
        w = kernel @ (rng.standard_normal(K - n) + 1j * rng.standard_normal(K - n))
        starts.append(fam.on_patch(e))
        params.append(w)
    target = family_module.random_parameters(rng, K)
    arrived = 0
    for start, w in zip(starts, params):
        z0 = start[None, :]
        assert np.max(np.abs(solve.chart_residual(fam, start[1:] / start[0], (w, G)))) < 1e-10
        from lcnfast import _core

        options = _core.TrackerOptions(endgame=False, threads=1)
        structures = ((fam.groups, fam.dilations, fam.group_map), ([], [], []))
        ends = [_core.CriticalSystem(fam.N, K, fam.begin, fam.exps, fam.coeff, fam.patch, *structure).track(
            w, G, target[0], target[1], z0, options) for structure in structures]
        (za, ka), (zb, kb) = ((e.z, e.kind) for e in ends)
        assert ka[0] == kb[0]
        if ka[0] == 0:
            assert np.max(np.abs(za - zb)) <= 1e-8 * (1 + np.max(np.abs(zb)))
            arrived += 1
    assert arrived >= 10  # random paths of a parameter homotopy: almost all arrive


def test_a_product_structure_that_is_not_the_form_is_refused():
    """The C++ code compares the product structure with the terms before it tracks: a wrong
    dilation, a map of the wrong size or a map that gives another form is a ValueError naming
    ``groups``, never a silently wrong evaluation."""
    from lcnfast import _core, strided

    fam = strided.DilatedFamily(((1, 1, 2), (2, 1, 1)))
    fam.patch = np.ones(fam.N, dtype=complex)
    args = (fam.N, fam.K, fam.begin, fam.exps, fam.coeff, fam.patch, fam.groups)
    _core.CriticalSystem(*args, fam.dilations, fam.group_map)  # the right structure is accepted
    with pytest.raises(ValueError, match="groups: need sum part"):
        _core.CriticalSystem(*args, [1, 3], fam.group_map)
    with pytest.raises(ValueError, match="groups: the map needs"):
        _core.CriticalSystem(*args, fam.dilations, fam.group_map[:-1])
    with pytest.raises(ValueError, match="groups: one dilation per group"):
        _core.CriticalSystem(*args, [1], fam.group_map)
    wrong = list(fam.group_map)
    wrong[0] += 0.5  # another linear form for one coefficient
    with pytest.raises(ValueError, match="groups: the product of the groups is not the form of the terms"):
        _core.CriticalSystem(*args, fam.dilations, wrong)
    with pytest.raises(ValueError, match="groups: the map must be finite"):
        _core.CriticalSystem(*args, fam.dilations, [float("nan")] + wrong[1:])
