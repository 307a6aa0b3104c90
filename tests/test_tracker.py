"""The parameter-homotopy path tracker of the strata (``_core.track_stratum_paths``) on data
where paths pass near singular points of the homotopy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lcnfast import strata
from lcnfast.benchmarks.critical import generic_data


@pytest.mark.parametrize("seed", [1000, 1001])
def test_paths_through_ill_conditioned_stretches_arrive(seed):
    """Data sets of D = 7 on which the partition (4, 2, 1) has paths passing close to a
    singular point: Newton's steps there stay at a rounding floor above 1e-11 and used to be
    rejected as "not contracting" until the step size collapsed (1-2 failed paths per chart
    before). Every path must now end regular, at one of 164 distinct points (the generic
    count), the same points in both charts (compared as forms in the user's basis)."""
    lam = (4, 2, 1)
    fam = strata._family(lam, 2)
    assert fam.starts.shape[0] == 164
    G, u = generic_data(7, seed)
    Gs = np.ldexp(G, -math.frexp(float(np.max(np.abs(G))))[1])
    forms = []
    for chart in (0, 1):
        q1 = strata._chart_parameters(fam, chart, Gs, u)
        z, kind, *_ = fam.track((fam.w0, fam.G0), q1, fam.starts, endgame=True, threads=2)
        assert np.all(kind == 0), np.bincount(kind)
        E = z[:, 1:] / z[:, :1]
        R = np.array(strata._chart_matrix(7, chart), dtype=float)
        v = []
        for e in E:
            p, _ = strata._numeric_jets(fam.groups, e, fam.K)
            a, b = p @ q1[0], p @ q1[1] @ p
            v.append((a / b) * (R @ p))
        V = np.array(v)
        gaps = np.linalg.norm(V[:, None, :] - V[None, :, :], axis=2) + np.eye(len(V)) * 1e9
        assert gaps.min() > 1e-6  # 164 distinct critical forms
        forms.append(V)
    # the same forms from both charts
    dist = np.linalg.norm(forms[0][:, None, :] - forms[1][None, :, :], axis=2)
    assert np.all(dist.min(axis=1) <= 1e-8 * (1 + np.linalg.norm(forms[0], axis=1)))
