"""The lcnfast command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from lcnfast.cli import main


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
    assert all(r["value"] == r["value"] for r in rows)  # no NaN
    # exact root counts and critical-point counts both agree with sympy
    assert {r["benchmark"]: r["value"] for r in rows if r["metric"] == "disagreements_with_sympy"} == \
        {"roots": 0, "critical": 0}
