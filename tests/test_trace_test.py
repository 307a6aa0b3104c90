"""The trace test that proves a stratum's start system complete (start.trace_test): it
passes on the start systems whose sizes the exact reference confirms, and it fails on any
start system with solutions left out, which is how an incomplete monodromy shows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import lcnfast
from lcnfast import strata
from lcnfast._homotopy import family as family_module, start

from .exact_strata import KNOWN_COUNTS, partitions, reference_data, reference_weights


def _family_copy(lam):
    family = strata.stratum_family(lam, 2)
    return family.copy()


@pytest.mark.parametrize("lam", [lam for D in range(2, 7) for lam in partitions(D)], ids=str)
def test_every_start_system_up_to_degree_six_passes(lam):
    family = strata.stratum_family(lam, 2)
    assert family.verified and family.trace <= 1e-9
    D = sum(lam)
    if D <= 5:  # the exact reference confirms the size the trace test proved
        assert family.starts.shape[0] == KNOWN_COUNTS[(D, lam, "generic", tuple(reference_data(D)[0]))]


@pytest.mark.parametrize("lam", [(4,), (3, 1, 1), (2, 2, 1), (3, 2), (4, 2), (2, 2, 1, 1), (3, 2, 1)], ids=str)
def test_a_start_system_with_solutions_left_out_fails(lam):
    family = _family_copy(lam)
    rng = np.random.default_rng(sum(lam))
    d = family.starts.shape[0]
    complete = family.starts
    for drop in [[0], [d - 1], [int(rng.integers(d))], list(rng.choice(d, size=max(2, d // 2), replace=False))]:
        family.starts = np.delete(complete, drop, axis=0)
        trace, _ = start.trace_test(family, np.random.default_rng(7), 5, 2)
        assert trace > 1e-4, (drop, trace)
    family.starts = complete
    trace, witnesses = start.trace_test(family, np.random.default_rng(7), 5, 2)
    assert trace <= 1e-9 and witnesses >= 1


def test_the_trace_test_is_deterministic_whatever_the_thread_count():
    family = _family_copy((3, 1, 1))
    one = start.trace_test(family, np.random.default_rng(3), 5, 1)
    two = start.trace_test(family, np.random.default_rng(3), 5, 2)
    assert one == two


def test_monodromy_goes_on_until_the_trace_test_passes(monkeypatch):
    """With monodromy cut short (two loops a round), the first round leaves solutions out;
    the trace test sees it, and later rounds complete the set to the exact count."""
    monkeypatch.setattr(start, "MONODROMY_MAX_LOOPS", 2)
    monkeypatch.setattr(start, "TRACE_ROUNDS", 40)
    rounds = []
    real_test = start.trace_test

    def counting(family, rng, stable_loops, threads):
        result = real_test(family, rng, stable_loops, threads)
        rounds.append((family.starts.shape[0], result[0]))
        return result

    monkeypatch.setattr(start, "trace_test", counting)
    lam = (3, 2)
    family = strata.StratumFamily(lam)
    start.monodromy(family, 2)
    exact = KNOWN_COUNTS[(5, lam, "generic", tuple(reference_data(5)[0]))]
    assert rounds[0][0] < exact and rounds[0][1] > 1e-4  # the first round was incomplete, and seen to be
    assert family.verified and family.starts.shape[0] == exact
    assert all(t > family_module.TRACE_TOLERANCE for _, t in rounds[:-1])


def test_an_unverified_start_system_makes_results_incomplete_and_warns(monkeypatch):
    lam = (2, 1, 1)
    family = _family_copy(lam)
    family.trace = 0.3
    monkeypatch.setitem(start.FAMILIES, ("stratum",) + lam, family)
    G = np.array([[float(x) for x in row] for row in reference_weights(4)["generic"]])
    u = np.array(reference_data(4)[0], dtype=float)
    exact = KNOWN_COUNTS[(4, lam, "generic", tuple(reference_data(4)[0]))]
    with pytest.warns(RuntimeWarning, match="trace test"):
        found = lcnfast.stratum_critical_points(lam, G, u)
    # the unverified start system is not trusted: the points come from a start system for the
    # data's weights, whose own trace test passed
    assert found.start == "weights" and found.complete and found.n_complex == exact
    with pytest.warns(RuntimeWarning, match="trace test"):
        lcnfast.generic_count(lam)
    family.trace = math.inf  # lost paths in the test count as failed too
    with pytest.warns(RuntimeWarning, match="trace test"):
        assert lcnfast.stratum_critical_points(lam, G, u).start == "weights"
    # with no verified start system at all, the result is incomplete
    monkeypatch.setattr(start, "trace_test", lambda *args: (0.5, 0))
    start.WEIGHTS_FAMILIES.clear()
    with pytest.warns(RuntimeWarning, match="trace test"), pytest.warns(RuntimeWarning, match="neither"):
        assert not lcnfast.stratum_critical_points(lam, G, u).complete
    monkeypatch.undo()
    start.WEIGHTS_FAMILIES.clear()  # those start systems were made with the broken test
    monkeypatch.setitem(start.FAMILIES, ("stratum",) + lam, family)
    family.trace = 1e-14
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lcnfast.stratum_critical_points(lam, G, u).complete


def test_the_trace_is_kept_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LCNFAST_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(start, "FAMILIES", {})
    first = strata.stratum_family((2, 2), 2)
    monkeypatch.setattr(start, "FAMILIES", {})
    monkeypatch.setattr(start, "monodromy", lambda *a: pytest.fail("solved again"))
    again = strata.stratum_family((2, 2), 2)
    assert again.trace == first.trace and again.witnesses == first.witnesses and again.verified


def test_the_trace_tracker_rejects_bad_input_by_name():
    from lcnfast import _core

    family = strata.stratum_family((2, 1), 2)
    N, K = family.N, family.K
    c = np.ones(N, dtype=complex)
    system = _core.CriticalSystem(N, K, family.begin, family.exps, family.coeff, family.patch, family.groups)
    args = dict(w0=family.w0, G0=family.G0, w1=family.w0 + 1, G1=family.G0, c0=c, c1=c, alpha=0, beta=1, gamma=0,
                starts=np.zeros((1, N + 1), dtype=complex), threads=1)
    assert system.track_trace(**args).y.shape == (1, N + 1)
    for key, bad, name in [("c0", np.ones(N + 1), "c0"), ("c1", np.full(N, np.nan), "c0, c1"),
                           ("starts", np.zeros((1, N)), "starts"), ("gamma", complex(np.inf, 0), "gamma"),
                           ("w1", np.ones(K + 1), "q1"), ("threads", -3, "threads")]:
        with pytest.raises(ValueError, match=name):
            system.track_trace(**{**args, key: bad})
