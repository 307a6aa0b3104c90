"""The critical-point engine shared by the families (lcnfast._homotopy): the start-system
cache is validated on load, start systems for given weights have the exact counts of those
weights, path outcomes have names, and the engine's same-point rule."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import lcnfast
from lcnfast import _core, strata
from lcnfast._homotopy import family as family_module
from lcnfast._homotopy import solve, start

from .exact_strata import KNOWN_COUNTS, reference_data, reference_weights


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LCNFAST_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(start, "FAMILIES", {})
    return tmp_path


def _cached_file(folder):
    files = list(folder.rglob("*.npz"))
    assert len(files) == 1
    return files[0]


def test_a_start_system_with_solutions_removed_from_its_file_is_not_trusted(fresh_cache, monkeypatch):
    """Two start solutions removed from the cached file, its fingerprint and trace kept: the
    digest of the arrays no longer matches, the file is refused with a warning, and the start
    system is computed again (12 solutions for (3, 1), the exact generic count)."""
    assert lcnfast.generic_count((3, 1)) == 12
    path = _cached_file(fresh_cache)
    with np.load(path, allow_pickle=False) as data:
        stored = {name: data[name] for name in data.files}
    stored["starts"] = stored["starts"][:-2]
    np.savez(path, **stored)
    monkeypatch.setattr(start, "FAMILIES", {})
    with pytest.warns(RuntimeWarning, match="digest"):
        assert lcnfast.generic_count((3, 1)) == 12
    monkeypatch.setattr(start, "FAMILIES", {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rewritten: trusted again
        assert lcnfast.generic_count((3, 1)) == 12
    # the count is checked too (a file whose digest was recomputed over fewer starts)
    with np.load(path, allow_pickle=False) as data:
        stored = {name: data[name] for name in data.files}
    stored["count"] = np.int64(13)
    np.savez(path, **stored)
    monkeypatch.setattr(start, "FAMILIES", {})
    with pytest.warns(RuntimeWarning, match="count"):
        assert lcnfast.generic_count((3, 1)) == 12


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not an npz"], ids=["empty", "truncated", "text"])
def test_an_unreadable_cache_file_is_recomputed_with_a_warning(fresh_cache, monkeypatch, content):
    lcnfast.generic_count((2, 1))
    path = _cached_file(fresh_cache)
    path.write_bytes(content)
    monkeypatch.setattr(start, "FAMILIES", {})
    with pytest.warns(RuntimeWarning, match="could not be read"):
        assert lcnfast.generic_count((2, 1)) == 7
    monkeypatch.setattr(start, "FAMILIES", {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lcnfast.generic_count((2, 1)) == 7


@pytest.mark.parametrize(("D", "lam"), [(4, (2, 2)), (4, (3, 1)), (5, (3, 2)), (5, (2, 2, 1)), (5, (5,))], ids=str)
@pytest.mark.parametrize("weights", ["bombieri-weyl", "identity"])
def test_start_systems_for_given_weights_have_their_exact_counts(D, lam, weights):
    """A start system found by monodromy in w alone, at fixed weights, has as many solutions
    as the exact count for those weights and generic data (msolve's table)."""
    G = np.array([[float(x) for x in row] for row in reference_weights(D)[weights]])
    family = strata.stratum_family(lam, 2)
    Gc = family.chart_parameters(0, G / np.max(np.abs(G)), np.zeros(D + 1))[1]
    found = start.weights_family(family, 0, Gc, 2)
    assert found.verified
    exact = KNOWN_COUNTS[(D, lam, weights, tuple(reference_data(D)[0]))]
    assert found.generic_count == exact


def test_path_outcomes_have_the_tracker_codes():
    assert [int(k) for k in family_module.PathKind] == [0, 1, 2, 3, 4]
    # one enum, the same names and codes in C++ and Python
    assert {name: int(value) for name, value in _core.PathKind.__members__.items()} == {
        k.name: int(k) for k in family_module.PathKind}
    family = strata.stratum_family((2, 1), 2)
    q = family_module.random_parameters(np.random.default_rng(3), family.K)
    _, kind, *_ = family.track((family.w0, family.G0), q, family.starts, endgame=True, threads=1)
    assert set(np.unique(kind)) <= {int(family_module.PathKind.REGULAR), int(family_module.PathKind.AT_INFINITY),
                                     int(family_module.PathKind.SINGULAR), int(family_module.PathKind.FAILED)}
    assert _core.MAX_UNKNOWNS == 16


def test_unpaired_conjugates_are_counted():
    V = np.array([[1 + 1j, 2.0], [1 - 1j, 2.0], [3j, 1.0], [5.0, 1.0]])
    assert solve.unpaired_conjugates(V, np.array([False, False, False, True])) == 1
    assert solve.unpaired_conjugates(V[:2], np.array([False, False])) == 0
    assert solve.unpaired_conjugates(V[3:], np.array([True])) == 0


def test_the_same_point_rule_is_relative():
    E = np.array([[1.0, 2.0], [1.0 + 1e-7, 2.0], [1e6, 0.0], [1e6 + 0.5, 0.0]], dtype=complex)
    near = family_module.close_pairs(E, 1e-6)
    assert near[0, 1] and near[2, 3] and not near[0, 2]
    assert family_module.distinct_rows(E).shape[0] == 2


def test_a_family_copy_keeps_its_own_start_solutions():
    family = strata.stratum_family((2, 1), 2)
    copy = family.copy()
    copy.starts[0, 0] = math.nan
    assert np.all(np.isfinite(family.starts))
    blank = family.blank()
    assert blank.starts.shape == (0, 0) and math.isnan(blank.trace) and not blank.verified


def test_the_same_critical_point_is_the_same_line_whatever_its_scale():
    """A family's point is t p with the scale t fixed by the direction p; near isotropic forms
    (p^T G p close to 0) t is ill conditioned and one point seen from two charts differed by
    1.9e-7 relative in v: two certified rows for one point, 82 "certified" critical points of
    (2, 2, 1, 1) where msolve counts 64. The rule compares directions."""
    rng = np.random.default_rng(0)
    p = rng.standard_normal(7) + 1j * rng.standard_normal(7)
    scaled = p * 4.3e7 * (1.0 + 2e-7)  # the same line, another scale error
    turned = p + 1e-5 * (rng.standard_normal(7) + 1j * rng.standard_normal(7))  # another line
    same = family_module.same_forms(np.array([p]), np.array([scaled, turned, 1j * p]))
    assert same.tolist() == [[True, False, True]]
    info = np.zeros(1, dtype=complex)
    rows = [(p * 4.3e7, info, False, True, 1e-13, 1), (scaled, info, False, True, 1e-13, 1),
            (turned * 4.3e7, info, False, True, 1e-13, 1)]
    assert len(solve.merge(rows)) == 2
    # a conjugate pair whose scales disagree in the 7th digit is still a pair
    V = np.array([p * 4.3e7, np.conj(scaled)])
    assert solve.unpaired_conjugates(V, np.array([False, False])) == 0


def test_paths_judged_degenerate_by_their_trend_alone_do_not_make_a_result_complete():
    """Within 2^-25 of Bombieri-Weyl weights, paths that the trend test calls degenerate end at
    true critical points far out on the cone: (4, 2) returned 56 points with complete=True where
    msolve counts 64. A result may be complete only when every path is accounted for by a
    proof or the certified points reach the generic count."""
    D = 6
    rng = np.random.default_rng(24)  # one of 30 seeds where 56 points were called complete
    BW = np.diag([1.0 / math.comb(D, i) for i in range(D + 1)])
    G = BW + 2.0 ** -25 * np.diag(rng.standard_normal(D + 1))
    u = rng.standard_normal(D + 1)
    from fractions import Fraction

    from .exact_strata import exact_critical_count
    exact = exact_critical_count((4, 2), [[Fraction(float(x)) for x in row] for row in G],
                                 [Fraction(float(x)) for x in u])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = lcnfast.stratum_critical_points((4, 2), G, u)
    assert int(found.certified.sum()) <= exact  # every certified point is a distinct critical point
    assert found.complete == (found.n_complex == exact)
    if not found.complete:
        assert any("incomplete" in str(w.message) for w in caught)


def test_paths_tracked_in_slices_are_the_paths_tracked_at_once():
    """The progress bar tracks the start points in slices; each path is tracked on its own, so
    slicing (and the thread count) changes no endpoint, bit for bit."""
    family = strata.stratum_family((3, 2, 1), 2)  # 116 paths: two slices
    q1 = family_module.random_parameters(np.random.default_rng(4), family.K)
    q0 = (family.w0, family.G0)
    whole = family.track(q0, q1, family.starts, endgame=True, threads=2)
    calls = []
    sliced = solve._track_in_slices(family, q0, q1, family.starts, 1, calls.append)
    assert len(calls) == 2 and calls[-1] == family.starts.shape[0]
    for name in ("z", "kind", "winding", "steps", "condition", "accuracy", "failure"):
        np.testing.assert_array_equal(getattr(sliced, name), getattr(whole, name))
    assert whole.z.shape == (family.starts.shape[0], family.N)
