"""The Krawczyk tests behind ``StratumCriticalPoints.certified``: the C++ interval-arithmetic
test (``_core.CriticalSystem.certify``) against the independent 128-bit ball-arithmetic test
in python-flint, on solutions and on points that are not solutions."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lcnfast import strata
from lcnfast._homotopy import certify, family as family_module

flint = pytest.importorskip("flint")


def _setup(lam, G, u, chart=0):
    fam = strata.stratum_family(lam, 2)
    scale = float(np.max(np.abs(G)))
    Gs = np.ldexp(G, -math.frexp(scale)[1])
    q1 = fam.chart_parameters(chart, Gs, u)
    z, kind, *_ = fam.track((fam.w0, fam.G0), q1, fam.starts, endgame=True, threads=2)
    regular = kind == 0
    E = z[regular, 1:] / z[regular, :1]
    return fam, certify.Certifier(fam, chart, Gs, u), E


def _real(E):
    return np.linalg.norm(E.imag, axis=1) <= 1e-6 * (1 + np.linalg.norm(E, axis=1))


def _in_box(x, box, slack=0.0):
    return bool(np.all((box[:, 0] - slack <= x.real) & (x.real <= box[:, 1] + slack)
                       & (box[:, 2] - slack <= x.imag) & (x.imag <= box[:, 3] + slack)))


def _bombieri_weyl(D):
    return np.diag([1.0 / math.comb(D, i) for i in range(D + 1)])


def _cases():
    rng = np.random.default_rng(7)
    out = []
    for lam, weights in [((3, 1, 1), "generic"), ((2, 2, 1), "identity"), ((4, 2, 1), "bombieri-weyl"),
                         ((2, 1, 1, 1), "generic"), ((3, 3, 1), "generic")]:
        D = sum(lam)
        if weights == "generic":
            A = rng.integers(-2, 3, size=(D + 1, D + 1)).astype(float)
            G = A @ A.T + np.eye(D + 1)
        elif weights == "identity":
            G = np.eye(D + 1)
        else:
            G = _bombieri_weyl(D)
        out.append((lam, weights, G, rng.integers(-3, 4, size=D + 1).astype(float)))
    return out


def test_the_data_intervals_enclose_the_exact_rationals():
    rng = np.random.default_rng(0)
    values = [flint.fmpq(int(rng.integers(-10**18, 10**18)), int(rng.integers(1, 10**18))) for _ in range(300)]
    values += [flint.fmpq(1, 3), flint.fmpq(-2, 7), flint.fmpq(0), flint.fmpq(5), flint.fmpq(1, 2**1074),
               flint.fmpq(3, 2**1076), flint.fmpq(-(10**300), 7)]
    lo, hi = certify.enclosures(values)
    for x, a, b in zip(values, lo, hi):
        q = Fraction(int(x.p), int(x.q))
        assert Fraction(a) <= q <= Fraction(b)
        assert b == a or b == math.nextafter(a, math.inf)  # at most one ulp apart
    with pytest.raises(OverflowError):
        certify.enclosures([flint.fmpq(10**400)])


@pytest.mark.parametrize("lam, weights, G, u", _cases(), ids=lambda x: str(x) if isinstance(x, (tuple, str)) else "")
def test_interval_and_ball_certifications_prove_the_same_points(lam, weights, G, u):
    fam, cert, E = _setup(lam, G, u)
    real = _real(E)
    proven = cert.certify_many(E, real, 2)
    assert proven.mean() >= 0.95, f"{proven.sum()} of {len(E)}"
    checked = 0
    for i in np.flatnonzero(proven):
        centre, radius, box, *_ = cert.batch[i]
        # the ball arithmetic proves its own box (independently) around the same endpoint
        ok, r_ball = cert.certify(E[i], bool(real[i]))
        if not ok:
            continue
        checked += 1
        ball_centre = cert.centre
        # each box holds exactly one solution; both hold the solution near E[i], so each
        # test's refined point lies in the other's box
        assert _in_box(ball_centre, box, slack=r_ball)
        assert np.max(np.abs(centre - ball_centre)) <= radius + r_ball
        if real[i]:
            assert box[:, 2].tolist() == (-box[:, 3]).tolist()  # symmetric under conjugation
            assert np.all(centre.imag == 0)
    assert checked >= 0.9 * proven.sum()


@pytest.mark.parametrize("lam", [(3, 2, 1), (4, 2), (2,), (3, 2)], ids=str)
def test_the_batched_nondegeneracy_test_agrees_with_the_per_point_one(lam):
    """For one root per group, certify_many decides nondegenerate() for all points at once
    (disjoint boxes of the e_g); the per-point path gives the same answer, also for boxes
    made to overlap (a collision of roots that the test must see)."""
    D = sum(lam)
    rng = np.random.default_rng(D)
    G = rng.integers(-3, 4, (D + 1, D + 1)).astype(float)
    G = G @ G.T + np.eye(D + 1)
    u = rng.integers(-5, 6, D + 1).astype(float)
    fam, cert, E = _setup(lam, G, u)
    proven = cert.certify_many(E, _real(E), 2)
    assert proven.any()
    for i in np.flatnonzero(proven):
        centre, radius, box, ab_ok, decided = cert.batch[i]
        assert decided is not None
        cert.take(int(i))
        cert._nondegenerate = None
        assert cert.nondegenerate() == decided
        if box.shape[0] >= 2:  # the same box with the first two e_g made to overlap
            merged = box.copy()
            merged[1] = merged[0]
            cert.batch[int(i)] = (centre, radius, merged, ab_ok, None)
            cert.take(int(i))
            assert not cert.nondegenerate()


def test_points_that_are_not_solutions_are_not_proven_unless_a_solution_is_in_the_box():
    lam, _, G, u = _cases()[0]
    fam, cert, E = _setup(lam, G, u)
    rng = np.random.default_rng(3)
    # far from every solution
    far = rng.standard_normal((200, E.shape[1])) * 3 + 1j * rng.standard_normal((200, E.shape[1])) * 3
    # close to a solution (1e-6 to 1e-2 away): a proof may grow its box over that solution
    near = np.repeat(E, 4, axis=0)
    near = near + (10.0 ** rng.uniform(-6, -2, size=(near.shape[0], 1))) * (
        rng.standard_normal(near.shape) + 1j * rng.standard_normal(near.shape))
    # non-real solutions asked to be proven real: a conjugation-symmetric box around the real
    # part holds both or neither of a conjugate pair
    nonreal = E[np.linalg.norm(E.imag, axis=1) > 1e-3]
    assert nonreal.shape[0] > 0
    for points, real in [(far, False), (near, False), (nonreal.real.astype(complex), True)]:
        proven = cert.certify_many(points, np.full(points.shape[0], real), 2)
        for i in np.flatnonzero(proven):
            box = cert.batch[i][2]
            holds = [x for x in E if _in_box(x, box) and (not real or np.all(x.imag == 0) or _real(x[None])[0])]
            assert len(holds) == 1, (points[i], box)
        if real:
            assert not proven.any()
    assert cert.certify_many(far, np.zeros(far.shape[0], dtype=bool), 2).mean() < 0.1


def test_certification_does_not_depend_on_threads():
    lam, _, G, u = _cases()[1]
    fam, cert, E = _setup(lam, G, u)
    args = (*cert.intervals, E, [bool(r) for r in _real(E)])
    one = fam.system().certify(*args, 1)
    two = fam.system().certify(*args, 2)
    for name in ("proven", "radius", "centre", "box", "a_nonzero", "b_nonzero"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


def test_certification_checks_its_input():
    lam, _, G, u = _cases()[1]
    fam, cert, E = _setup(lam, G, u)
    w_lo, w_hi, G_lo, G_hi = cert.intervals
    system = fam.system()
    real = [False] * len(E)
    with pytest.raises(ValueError, match="w_lo"):
        system.certify(w_hi + 1, w_hi, G_lo, G_hi, E, real, 1)
    with pytest.raises(ValueError, match="G_lo"):
        system.certify(w_lo, w_hi, G_lo[:-1], G_hi, E, real, 1)
    with pytest.raises(ValueError, match="centres"):
        system.certify(w_lo, w_hi, G_lo, G_hi, E[:, :-1], real, 1)
    with pytest.raises(ValueError, match="real"):
        system.certify(w_lo, w_hi, G_lo, G_hi, E, real[:-1], 1)
    with pytest.raises(ValueError, match="threads"):
        system.certify(w_lo, w_hi, G_lo, G_hi, E, real, -2)
    nan = E.copy()
    nan[0, 0] = np.nan
    assert not system.certify(w_lo, w_hi, G_lo, G_hi, nan, real, 1).proven[0]


def test_two_paths_proven_to_the_same_solution_count_once(monkeypatch):
    """A path that ends at a real point is made to end 3e-5 (relative) away from another real
    endpoint: too far for the endpoint clustering, close enough for its Krawczyk box to grow
    over the other's solution. The boxes of the returned points must be disjoint, so the second
    proof of one solution is a duplicate path, not a second critical point. (A real point:
    the lost point of a non-real endpoint would come back as the conjugate of its partner.)"""
    lam, _, G, u = _cases()[1]
    clean = strata.stratum_critical_points(lam, G, u)
    original = family_module.Family.track

    def track(self, q0, q1, starts, *, endgame, threads):
        z, kind, *rest = original(self, q0, q1, starts, endgame=endgame, threads=threads)
        if endgame and starts.shape[0] == self.starts.shape[0]:
            z = z.copy()
            e = z[:, 1:] / z[:, :1]
            size = 1 + np.max(np.abs(e), axis=1)
            real = np.flatnonzero((kind == 0) & (np.max(np.abs(e.imag), axis=1) <= 1e-8 * size))
            a, b = real[:2]
            e1 = e[a] + 3e-5 * (1 + np.linalg.norm(e[a]))
            z[b] = np.concatenate(([1.0], e1)) / (self.patch @ np.concatenate(([1.0], e1)))
        return (z, kind, *rest)

    monkeypatch.setattr(family_module.Family, "track", track)
    with pytest.warns(RuntimeWarning, match="duplicate"), pytest.warns(RuntimeWarning, match="neither"):
        # the start system for the data's weights is tampered with in the same way: neither
        # accounts for every path, and the points of both are returned
        found = strata.stratum_critical_points(lam, G, u)
    assert found.path_counts["duplicate"] >= 1 and not found.complete and found.start == "both"
    # no point is returned twice, and none that is not a critical point
    assert found.n_complex <= clean.n_complex
    for v in found.v:
        assert np.min(np.max(np.abs(clean.v - v), axis=1)) <= 1e-9 * (1 + np.max(np.abs(v)))
    V = found.v
    gaps = np.linalg.norm(V[:, None, :] - V[None, :, :], axis=2) + np.eye(len(V)) * 1e9
    assert gaps.min() > 1e-6
