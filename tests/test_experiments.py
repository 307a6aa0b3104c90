"""lcnfast reproduce: every experiment at its default (quick) size, its invariants checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lcnfast
from lcnfast.cli import main
from lcnfast.experiments import EXPERIMENTS, reproduce, shared_roots
from lcnfast.experiments._common import NO_DATA, ExperimentResult, wilson_interval
from lcnfast.experiments.landscape import GD_ROWS, landscape_findings, match_limits
from lcnfast.experiments.spaces import strides_findings
from lcnfast.experiments.training import repeated_filters_findings, verdict


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
    # issue 29: every fraction has its interval, and the note is a check (per-sample
    # membership of equal (K, e) compared), not "differ by at most 0"
    samples = by_name["function-spaces"].parameters["samples_per_size"]
    for row in rows:
        lo, hi = row["fraction_in_space_95%"]
        assert lo <= row["fraction_in_space"] <= hi and hi - lo < 10 / samples**0.5
    note = by_name["function-spaces"].notes[0]
    assert "differ by at most" not in note and "accept exactly the same samples" in note and "13 of 13 (all)" in note


def test_the_landscape_figure_draws_intervals_of_the_shares(tmp_path):
    """Issue 29: landscape.png showed one data set's shares without intervals."""
    pytest.importorskip("matplotlib")
    from lcnfast.experiments.landscape import landscape_figures

    reach = {"(2, 2)": [(0.5, 0.7, "minimum"), (0.9, 0.3, "saddle")]}
    result = ExperimentResult(name="landscape", title="t",
                              parameters={"reach": reach, "runs_per_data_set": 100})
    calls = []
    import lcnfast.plotting as plotting

    original = plotting.plot_gd_reach

    def spy(reach, path, runs=None, intervals=None):
        calls.append(intervals)
        return original(reach, path, runs=runs, intervals=intervals)
    import lcnfast.experiments.landscape as module
    module_plot = getattr(module, "plot_gd_reach", None)
    plotting.plot_gd_reach = spy
    try:
        landscape_figures(result, tmp_path, 0)
    finally:
        plotting.plot_gd_reach = original
    assert module_plot is None  # the figure function imports the plotting function when it draws
    (intervals,) = calls
    lo, hi = intervals["(2, 2)"][0]
    assert lo < 0.7 < hi and abs((lo + hi) / 2 - 0.7) < 0.05  # Wilson 95% of 70 of 100
    assert (tmp_path / "landscape.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
    result = by_name["repeated-filters"]
    rows = result.tables["runs"]
    for row in rows:
        assert row["data_sets"] >= 10
        assert row["converged"] + row["max_steps"] + row["diverged"] == pytest.approx(1.0)
        for key in ("boundary", "repeated_filters", "global_minimum"):
            value = row[key]
            if value == NO_DATA:
                assert row[f"{key}_95%"] == NO_DATA
                continue
            low, high = row[f"{key}_95%"]
            assert 0.0 <= low <= value <= high <= 1.0
            lo, hi = row[f"{key}_range"]
            assert lo <= value <= hi
        assert 0 <= row["off_optimum_repeated"] <= row["limits_off_optimum"]
        if row["data"] == "teacher outside":  # the optimum is outside: no limit can be at it
            assert row["global_minimum"] == NO_DATA
            assert row["limits_off_optimum"] == round(row["converged"] * row["runs"])
    # the notes are the findings recomputed from the table
    assert result.notes == repeated_filters_findings(rows)
    assert all(row["converged"] >= 0.95 for row in rows)  # the bar for the default settings


def test_findings_name_the_rows_that_disagree():
    base = {"data": "teacher outside", "max_steps": 0.0, "diverged": 0.0}
    rows = [{**base, "k": (2, 2), "converged": 1.0, "limits_off_optimum": 10, "off_optimum_repeated": 10,
             "sets_lowest_limit_on_boundary": "10 of 10"},
            {**base, "k": (3, 2, 2), "converged": 0.5, "max_steps": 0.5, "limits_off_optimum": 7,
             "off_optimum_repeated": 6, "sets_lowest_limit_on_boundary": "8 of 10"},
            {**base, "k": (2, 2, 2), "converged": 0.0, "max_steps": 1.0, "limits_off_optimum": 0,
             "off_optimum_repeated": 0, "sets_lowest_limit_on_boundary": "0 of 0"}]
    converged, repeated, boundary = repeated_filters_findings(rows)
    assert "1 of 3 rows; not: (3, 2, 2) teacher outside (converged 0.5" in converged
    assert "(2, 2, 2) teacher outside (converged 0" in converged
    assert "1 of 2 rows; not: (3, 2, 2) teacher outside (6 of 7)" in repeated
    assert "1 of 2 rows; not: (3, 2, 2) teacher outside (8 of 10 data sets)" in boundary
    assert repeated_filters_findings([])[1].endswith("no data (no row to check).")
    assert verdict("Claim", {"a": 1, "b": 2}, ["a", "b"]) == "Claim: 2 of 2 rows (all)."


@pytest.mark.parametrize(("hits", "n", "expected"), [
    # Wilson (1927) score intervals, 95%, from the closed form evaluated in exact rationals by sympy
    (0, 10, None), (5, 10, None), (10, 10, None), (1, 400, None), (399, 400, None), (37, 91, None)])
def test_wilson_interval_against_sympy(hits, n, expected):
    import sympy

    z = sympy.Rational(1959963984540054, 10**15)
    p = sympy.Rational(hits, n)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * sympy.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low, high = wilson_interval(hits, n)
    assert low == pytest.approx(float(centre - half), abs=1e-15)
    assert high == pytest.approx(float(centre + half), abs=1e-15)
    assert 0.0 <= low <= hits / n <= high <= 1.0
    with pytest.raises(ValueError, match="n: must be > 0"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="hits: must be in"):
        wilson_interval(n + 1, n)


def test_strides_experiment_can_fail_and_checks_the_sequel(results):
    _, by_name = results
    result = by_name["strides"]
    rows = result.tables["architectures"]
    thick = [r for r in rows if r["thick_by_rule"]]
    assert thick and len(thick) < len(rows)  # both outcomes occur, so the check can fail
    assert any(r["s"][-1] > 1 and all(x == 1 for x in r["s"][:-1]) for r in thick)  # last-layer strides
    gd = result.tables["GD limits at singular points"]
    assert {r["strided"] for r in gd} == {True, False}
    for r in gd:
        assert r["singular"] == NO_DATA or 0.0 <= r["singular"] <= 1.0
    assert result.notes == strides_findings(rows, gd)


def test_summary_lists_every_finding(results):
    out, by_name = results
    summary = (out / "summary.md").read_text()
    findings = summary.split("## Findings")[1].split("\n## ")[0]
    for result in by_name.values():
        for note in result.notes:
            assert f"[{result.name}] {note}" in findings


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
    result = by_name["landscape"]
    points = result.tables["critical points (data set 1)"]
    runs = result.parameters["runs_per_data_set"]
    for k in {tuple(r["k"]) for r in points}:
        rows = [r for r in points if tuple(r["k"]) == k]
        assert [r["partition"] for r in rows[-3:]] == list(GD_ROWS)
        shares = [r["gd_fraction"] for r in rows]
        assert all(0.0 <= x <= 1.0 for x in shares)
        # one denominator (all runs): a data set's shares add up to one
        assert sum(shares) == pytest.approx(1.0, abs=1e-12)
        assert all(abs(x * runs - round(x * runs)) < 1e-9 for x in shares)
        assert all(r["lifts"] >= 1 for r in rows[:-3])
    pooled = result.tables["where GD ends (all data sets)"]
    for k in {tuple(r["k"]) for r in pooled}:
        rows = [r for r in pooled if tuple(r["k"]) == k]
        assert sum(r["share"] for r in rows) == pytest.approx(1.0, abs=1e-12)
        assert rows[0]["ends at"] == "global minimum" and rows[0]["data_sets"] >= 10
        for r in rows:
            low, high = r["share_95%"]
            assert low <= r["share"] <= high
    for row in result.tables["critical points per stratum (data set 1)"]:
        assert row["complex"] >= row["real"] >= row["in_space"] >= 0
    assert result.notes[-3:] == landscape_findings(pooled, [])


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


@pytest.mark.parametrize("k", [[2, 2], [3, 3], [2, 3], [2, 2, 2], [3, 2, 2], [2, 2, 2, 2], [4, 3]])
def test_batched_shared_roots_agree_with_the_per_run_check(k):
    from lcnfast.experiments.training import shared_roots_batch

    rng = np.random.default_rng(sum(k) * 7 + len(k))
    arch = lcnfast.Architecture(k)
    theta = rng.standard_normal((120, arch.n_params))
    for b in range(60):  # plant a shared root in two random layers
        filters = arch.split(theta[b])
        for layer in rng.choice(len(k), 2, replace=False):
            size = filters[layer].size
            r = [1.5] + list(rng.standard_normal(size - 2))
            filters[layer][:] = np.polynomial.polynomial.polyfromroots(r) * rng.choice([-1.0, 1.0])
        theta[b] = np.concatenate(filters)
    for b in range(60, 70):  # roots at infinity: vanishing leading coefficients in two layers
        filters = arch.split(theta[b])
        for layer in (0, 1):
            filters[layer][-1] = 0.0
        theta[b] = np.concatenate(filters)
    theta[70, : arch.layer_shapes[0][0]] = 0.0  # a zero filter
    has, equal = shared_roots_batch(arch, theta)
    reference = np.array([shared_roots(arch, t) for t in theta])
    assert np.array_equal(has, reference[:, 0]) and np.array_equal(equal, reference[:, 1])
    assert has[:60].all()


def test_plotting_leaves_the_users_backend_alone(tmp_path):
    # issue 18: plotting called matplotlib.use("Agg"), which stopped inline figures in Jupyter
    import subprocess
    import sys

    code = ("import matplotlib\nmatplotlib.use('svg')\nfrom pathlib import Path\nfrom lcnfast import plotting\n"
            f"plotting.plot_drift_vs_lr([{{'method': 'gd, 10 steps', 'lr': 0.1, 'median_abs_drift': 1e-3}}], "
            f"Path({str(tmp_path / 'd.png')!r}), runs=3)\nprint(matplotlib.get_backend())\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.strip() == "svg"
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_result_of_other_code_is_recomputed_and_the_reason_said(tmp_path, monkeypatch):
    """Issue 29: reproduce reused a result when version, format, size and seed matched; the
    version stayed 0.1.0 for 150 commits, so results of older code were reused after a
    reinstall. Results now carry the build identity (a digest of the installed code)."""
    import lcnfast.experiments as experiments

    lines: list[str] = []
    reproduce(tmp_path, only=["strides"], echo=None, show_progress=False)
    stored = json.loads((tmp_path / "strides" / "result.json").read_text())
    assert stored["settings"]["build"] == lcnfast.build_identity() == stored["provenance"]["build"]
    reproduce(tmp_path, only=["strides"], echo=lines.append, show_progress=False)
    assert any(f"reused {tmp_path / 'strides' / 'result.json'}, computed by this build ({lcnfast.build_identity()})"
               in line for line in lines)
    monkeypatch.setattr(experiments, "build_identity", lambda: "0123456789abcdef")
    lines.clear()
    reproduce(tmp_path, only=["strides"], echo=lines.append, show_progress=False)
    said = [line for line in lines if line.startswith("[strides] recomputing")]
    assert said and f"(build {lcnfast.build_identity()})" in said[0] and "(build 0123456789abcdef)" in said[0]
    assert json.loads((tmp_path / "strides" / "result.json").read_text())["settings"]["build"] == "0123456789abcdef"


def test_the_build_identity_is_a_digest_of_the_installed_code():
    import importlib

    module = importlib.import_module("lcnfast.provenance")  # the module (lcnfast.provenance is also a function)
    identity = lcnfast.build_identity()
    assert len(identity) == 16 and int(identity, 16) >= 0
    module.build_identity.cache_clear()
    assert module.build_identity() == identity  # deterministic
