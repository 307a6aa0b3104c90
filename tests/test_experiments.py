"""lcnfast reproduce: every experiment at its default (quick) size, its invariants checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lcnfast
from lcnfast.cli import main
from lcnfast.experiments import EXPERIMENTS, reproduce, shared_roots
from lcnfast.experiments.landscape import GD_ROWS, match_limits


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    return out, {r.name: r for r in reproduce(out, echo=None, show_progress=False)}


def test_every_experiment_ran_and_wrote_its_files(results):
    out, by_name = results
    assert set(by_name) == set(EXPERIMENTS)
    for name in EXPERIMENTS:
        data = json.loads((out / name / "result.json").read_text())
        assert data["result"]["tables"]
        for figure in by_name[name].figures:
            assert (out / name / figure.split("/")[-1]).stat().st_size > 10_000
    summary = (out / "summary.md").read_text()
    for result in by_name.values():
        assert result.title in summary
    assert summary.count("![") == 4


def test_function_spaces_invariants(results):
    _, by_name = results
    rows = by_name["function-spaces"].tables["architectures"]
    assert len(rows) == 4 + 16 + 64
    for row in rows:
        assert 0.0 <= row["fraction_in_space"] <= 1.0
        if row["filling"]:
            assert row["fraction_in_space"] == 1.0
        assert row["filling"] == (row["e"] <= 1)
    for cls in by_name["function-spaces"].tables["by end-to-end size and even filters"]:
        assert cls["fraction_min"] == cls["fraction_max"]  # same (k, e), same space, same samples


def test_strides_table_agrees_with_the_formula(results):
    _, by_name = results
    for row in by_name["strides"].tables["architectures"]:
        assert row["dim"] == row["sum_k_minus_L_plus_1"]
        assert row["thick"] == row["thick_by_rule"]


def test_invariants_follow_the_lr_squared_law(results):
    _, by_name = results
    slopes = by_name["invariants"].parameters["slopes"]
    assert slopes["gd, 10 steps"] == pytest.approx(2.0, abs=0.1)
    assert slopes["gd, time span fixed"] == pytest.approx(1.0, abs=0.1)
    for row in by_name["invariants"].tables["drift"]:
        assert row["max_drift_minus_prediction"] < 1e-9


def test_repeated_filters_table(results):
    _, by_name = results
    for row in by_name["repeated-filters"].tables["runs"]:
        for key in ("converged", "interior", "boundary", "repeated_filters"):
            assert 0.0 <= row[key] <= 1.0
        if row["k"] == (2, 2) and row["converged"] > 0:
            # every (2,2) limit outside the interior has repeated filters
            assert row["boundary"] <= row["repeated_filters"] + 1e-12
        if row["data"] == "teacher outside" and row["converged"] > 0:
            assert row["boundary"] == 1.0


def test_shared_roots_detects_repeated_filters():
    arch = lcnfast.Architecture([2, 2])
    assert shared_roots(arch, np.array([1.0, 2.0, -3.0, -6.0])) == (True, True)
    assert shared_roots(arch, np.array([1.0, 2.0, 1.0, 3.0])) == (False, False)
    arch = lcnfast.Architecture([3, 3])
    assert shared_roots(arch, np.array([2.0, 3.0, 1.0, 6.0, 5.0, 1.0])) == (True, False)  # share x = -2


def test_resume_only_force_and_cli(tmp_path, capsys):
    reproduce(tmp_path, only=["strides"], echo=None, show_progress=False)
    path = tmp_path / "strides" / "result.json"
    stamp = path.stat().st_mtime_ns
    assert main(["reproduce", "--out", str(tmp_path), "--only", "strides", "--no-progress"]) == 0
    assert "reused" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == stamp
    reproduce(tmp_path, only=["strides"], force=True, echo=None, show_progress=False)
    assert path.stat().st_mtime_ns != stamp
    with pytest.raises(ValueError, match="only: unknown experiment"):
        reproduce(tmp_path, only=["landscape-of-dreams"], echo=None)


def test_landscape_table(results):
    _, by_name = results
    points = by_name["landscape"].tables["critical points"]
    for k in {tuple(r["k"]) for r in points}:
        rows = [r for r in points if tuple(r["k"]) == k]
        assert [r["partition"] for r in rows[-3:]] == list(GD_ROWS)
        shares = [r["gd_fraction"] for r in rows[:-1]]  # points, ambiguous, unmatched: of the converged runs
        assert all(0.0 <= x <= 1.0 for x in shares + [rows[-1]["gd_fraction"]])
        # one denominator per column block: the shares of the converged runs add up to one
        assert abs(sum(shares) - 1.0) < 1e-9 or rows[-1]["gd_fraction"] == 1.0
        assert all(r["lifts"] >= 1 for r in rows[:-3])
    for row in by_name["landscape"].tables["critical points per stratum"]:
        assert row["complex"] >= row["real"] >= row["in_space"] >= 0


def test_limits_are_attributed_only_when_unambiguous():
    points = np.array([[1.0, 0.0, 0.0], [1.0, 0.004, 0.0], [0.0, 5.0, 1.0]])  # two close points, one far
    limits = np.array([[1.0, 0.0002, 0.0],      # a quarter of the gap from the first: its
                       [1.0, 0.0019, 0.0],      # near both close points: ambiguous
                       [0.0, 5.0, 1.0001],      # the far point
                       [3.0, 3.0, 3.0]])        # near nothing
    hits, ambiguous, unmatched = match_limits(points, limits)
    assert list(hits) == [1, 0, 1] and ambiguous == 1 and unmatched == 1
    hits, ambiguous, unmatched = match_limits(points[:0], limits)
    assert list(hits) == [] and (ambiguous, unmatched) == (0, 4)
