"""The lcnfast command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lcnfast.cli import build_parser, main

from .conftest import interruptible_child


def test_info_text(capsys):
    assert main(["info", "3,2,2", "--stride", "1,2,1", "--d0", "32"]) == 0
    out = capsys.readouterr().out
    assert "Architecture([3, 2, 2], [1, 2, 1], d0=32)" in out
    lines = {line.split("  ")[1].strip(): line.split("  ")[-1].strip() for line in out.splitlines()[1:]}
    assert lines["end-to-end filter size"] == "6"
    assert lines["end-to-end stride (S)"] == "2"
    assert lines["parameters (P)"] == "7"
    assert lines["even filters (e)"] == "2"
    assert lines["widths (d_0 -> d_L)"] == "32 -> 30 -> 15 -> 14"
    assert lines["function space"] == "dim 5 of 6 (thin), filling: no"  # sum k_l - (L-1) = 5


def test_info_json_circular_and_2d(capsys):
    assert main(["info", "3,3", "--d0", "4", "--circular", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["filter_size"] == 4 and info["full_filter_size"] == 5 and info["kind"] == "circular"
    assert main(["info", "2x2,3x2", "-s", "1x1,2x1", "--d0", "9x7", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["filter_size"] == [4, 3] and info["stride"] == [2, 1]
    assert info["widths"] == [[9, 7], [8, 6], [3, 5]]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["info", "3,x"], "k: expected comma-separated integers"),
        (["info", "3,,2"], "k: empty entry"),
        (["info", "3,0"], "k[1]: must be >= 1"),
        (["info", "3,3", "--circular"], "d0: circular layers need"),
        (["info", "3,3", "--d0", "3"], "d0: too small"),
        (["info", "3,3", "--stride", "1"], "s: expected one entry per layer"),
    ],
)
def test_info_errors_exit_2_with_message(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def test_console_script_installed():
    exe = shutil.which("lcnfast")
    command = [exe] if exe else [sys.executable, "-m", "lcnfast.cli"]
    result = subprocess.run(command + ["info", "3,3,3", "--d0", "16"], capture_output=True, text=True, check=True)
    assert "16 -> 14 -> 12 -> 10" in result.stdout
    assert exe is not None, "the lcnfast console script is not on PATH"


def test_bench_command_prints_the_ratio_table():
    """lcnfast bench runs the benchmark suite at a small size (no timing thresholds here)."""
    exe = shutil.which("lcnfast")
    assert exe is not None
    out = subprocess.run([exe, "bench", "--json"], capture_output=True, text=True, check=True).stdout
    rows = json.loads(out.strip().splitlines()[-1])
    metrics = {(r["benchmark"], r["metric"]) for r in rows}
    assert ("end_to_end", "speedup_vs_numpy") in metrics and ("roots", "speedup_vs_numpy_roots") in metrics
    assert ("critical", "min_speedup_vs_sympy") in metrics
    assert ("critical", "per_certified_point_vs_stride_one") in metrics  # the strided family beside the strata
    assert all(r["value"] == r["value"] for r in rows)  # no NaN
    # exact root counts and critical-point counts both agree with sympy
    assert {r["benchmark"]: r["value"] for r in rows if r["metric"] == "disagreements_with_sympy"} == \
        {"roots": 0, "critical": 0}


def test_negative_sizes_are_values_not_options(capsys):
    """``lcnfast info -1,2`` was read as an unknown option on Python 3.10-3.12."""
    with pytest.raises(SystemExit) as info:
        main(["info", "-1,2"])
    assert info.value.code == 2
    assert "k[0]: must be >= 1, got -1" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "filling"), [(["info", "3,2"], True), (["info", "2,2"], False),
                                               (["info", "2x2,1x1"], None)])
def test_info_json_has_real_booleans(argv, filling, capsys):
    assert main(argv + ["--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["filling"] is filling and isinstance(info["thick"], bool)


def test_factor_command_decides_membership_and_lists_factorisations(capsys):
    P = np.polynomial.polynomial
    cases = [("2,2", "1,3,2", True, "interior", 2), ("2,2", "1,0,1", False, "outside", 0),
             ("2,2", "1,2,1", True, "boundary", 1), ("2,2,2", "-6,11,-6,1", True, "interior", 6)]
    for k, v, member, location, count in cases:
        assert main(["factor", k, v, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["member"], out["location"], len(out["factorizations"])) == (member, location, count)
        target = np.array([float(x) for x in v.split(",")])
        for layers in out["factorizations"]:  # every factorisation multiplies back to v (numpy)
            product = np.array([1.0])
            for w in layers:
                product = P.polymul(product, w)
            np.testing.assert_allclose(product, target, rtol=1e-9, atol=1e-9)
    # strided: w1(x) w2(x^2), exact; text output
    assert main(["factor", "3,3", "--stride", "2,1", "1,0,1,0,1,0,1"]) == 0
    text = capsys.readouterr().out
    assert "in the function space: yes (boundary)" in text and "factorisations (up to rescaling the layers): 1" in text


@pytest.mark.parametrize(("argv", "words"), [
    (["factor", "2,2", "1,2"], "v: the end-to-end filter of Architecture([2, 2]) has 3 entries, got 2"),
    (["factor", "2,2", "1,a,2"], "v: expected comma-separated numbers"),
    (["factor", "2x2,2x2", "1,2,1,2,4,2,1,2,1"], "exact membership is implemented for 1D"),
    (["landscape", "2,2", "--data", "missing.npz"], "--data: cannot read missing.npz"),
])
def test_factor_and_landscape_errors_exit_2(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def test_landscape_command_lists_every_critical_point(tmp_path, capsys):
    """From a user's data file (G, u and X, Y forms): the table's lowest loss is not above the
    best of 300 gradient-descent runs (an independent search), each printed loss is the loss of
    the printed filter."""
    import lcnfast

    arch = lcnfast.Architecture([2, 2])
    G, u = np.eye(3), np.array([2.0, 0.5, 1.0])  # 2 + x/2 + x^2: no real root, outside the space
    np.savez(tmp_path / "gu.npz", G=G, u=u)
    assert main(["landscape", "2,2", "--data", str(tmp_path / "gu.npz"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["complete"] and out["points"]
    losses = [p["loss"] for p in out["points"]]
    assert losses == sorted(losses)
    loss = lcnfast.QuadraticLoss(G, u)
    runs = lcnfast.train(arch, loss, batch=300, steps=20000, seed=1)
    best = float(np.min(loss.value(lcnfast.end_to_end(arch, runs.theta))))
    assert losses[0] <= best + 1e-6
    for p in out["points"]:
        assert p["loss"] == pytest.approx(float(loss.value(np.array(p["v"]))), rel=1e-9, abs=1e-12)
    # X, Y data and the text table
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "xy.npz", X=rng.standard_normal((20, 7)), Y=rng.standard_normal((20, 5)))
    assert main(["landscape", "2,2", "--data", str(tmp_path / "xy.npz")]) == 0
    text = capsys.readouterr().out
    assert "critical point(s) of the loss, sorted by loss" in text and "minimum" in text


def test_versions_command_and_show_versions(capsys):
    import lcnfast

    assert main(["versions"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"lcnfast {lcnfast.__version__} (build {lcnfast.build_identity()})"
    assert f"numpy         {np.__version__}" in out and "backend" in out
    info = lcnfast.provenance(seed=3)
    assert info["lcnfast"] == lcnfast.__version__ and info["packages"]["numpy"] == np.__version__
    assert info["seed"] == 3 and info["backend"] == lcnfast._core.backend()
    json.dumps(info)  # JSON-ready


def test_verbose_logs_and_quiet_silences(capsys):
    import logging

    try:
        assert main(["-v", "landscape", "2,2"]) == 0
        err = capsys.readouterr().err
        assert "lcnfast: INFO: stratum (2,): " in err and "paths tracked" in err
        assert main(["landscape", "2,2", "-q"]) == 0
        assert capsys.readouterr().err == ""
    finally:
        logger = logging.getLogger("lcnfast")
        for handler in [h for h in logger.handlers if getattr(h, "_lcnfast_cli", False)]:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        import warnings

        warnings.resetwarnings()


def test_the_library_logger_has_only_a_null_handler():
    import logging

    import lcnfast  # noqa: F401

    handlers = [h for h in logging.getLogger("lcnfast").handlers if not getattr(h, "_lcnfast_cli", False)]
    assert len(handlers) == 1 and isinstance(handlers[0], logging.NullHandler)


def test_ctrl_c_in_reproduce_is_one_line(tmp_path):
    import os
    import signal
    import time

    # the paper-size experiment runs for minutes, so it is still running when the signal comes
    # however fast the machine; the signal is sent once the experiment has started (its folder
    # is made just before it runs) and a little work is under way
    process = subprocess.Popen([sys.executable, "-m", "lcnfast", "reproduce", "--out", str(tmp_path / "out"),
                                "--only", "landscape", "--full", "--no-progress"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=interruptible_child)
    deadline = time.monotonic() + 120
    while not (tmp_path / "out" / "landscape").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    time.sleep(2)
    assert process.poll() is None, "reproduce --full ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0] and "run the same command again to resume" in lines[0]
    assert "Traceback" not in err


def test_bench_without_sympy_skips_its_baselines(monkeypatch):
    """In the main job's environment sympy is absent: the suite says so and keeps its rows."""
    import lcnfast.benchmarks as benchmarks

    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy -> ImportError
    monkeypatch.setattr(benchmarks, "_SUITE", [("roots", ["--batch", "200", "--repeat", "1", "--sympy-sample", "5"],
                                                [("speedup_vs_numpy_roots", ""), ("disagreements_with_sympy", "")])])
    said: list[str] = []
    rows = benchmarks.run_suite(echo=said.append)
    assert any("sympy is not installed" in line for line in said)
    assert [(r["benchmark"], r["metric"]) for r in rows] == [("roots", "speedup_vs_numpy_roots")]


def test_a_users_mistakes_are_one_line_errors_not_tracebacks(tmp_path):
    """Issue 29: 1-D X, Y gave a 14-line IndexError, --out /proc/nope a 23-line
    FileNotFoundError, and a CSV given to --data numpy's message about pickled data."""
    np.savez(tmp_path / "flat.npz", X=np.ones(5), Y=np.ones(5))
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    cases = [(["landscape", "2,2", "--data", str(tmp_path / "flat.npz")], "--data: X must be a 2-D array"),
             (["landscape", "2,2", "--data", str(tmp_path / "data.csv")], "is not an .npz file"),
             (["reproduce", "--out", "/proc/nope", "--only", "strides", "--no-progress"], "/proc/nope")]
    for argv, words in cases:
        run = subprocess.run([sys.executable, "-m", "lcnfast", *argv], capture_output=True, text=True, timeout=300)
        assert run.returncode == 2, (argv, run.stderr)
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and words in lines[0] and f"lcnfast {argv[0]}: error:" in lines[0], (argv, lines)


def test_every_command_takes_verbose_and_quiet_and_reproduce_names_its_experiments(capsys):
    from lcnfast.experiments import EXPERIMENTS

    parser = build_parser()
    for command in ("info", "factor", "landscape", "versions", "reproduce", "sweep", "bench"):
        args = parser.parse_args([command, "-q", "-v"] + {"info": ["2,2"], "factor": ["2,2", "1,2,1"],
                                                           "landscape": ["2,2"], "sweep": ["c.toml"]}.get(command, []))
        assert args.quiet and args.verbose == 1, command
    with pytest.raises(SystemExit):
        parser.parse_args(["reproduce", "--help"])
    text = capsys.readouterr().out
    assert all(name in " ".join(text.split()) for name in EXPERIMENTS)


def test_a_strided_landscape_from_the_command_line(capsys):
    """The landscape command takes strides (the engine answers every 1D architecture)."""
    assert main(["landscape", "2,2", "--stride", "2,1", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["complete"] and found["points"]
    losses = [p["loss"] for p in found["points"]]
    assert losses == sorted(losses)
