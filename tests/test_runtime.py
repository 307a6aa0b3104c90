"""The compiled core's behaviour as a citizen of the interpreter: Ctrl-C, threads, stubs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import lcnfast


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_call():
    """A SIGINT during a long kernel call raises KeyboardInterrupt instead of waiting for the end."""
    arch = lcnfast.Architecture([9, 9, 9, 9, 9, 9])
    theta = np.ones((1, arch.n_params))
    # ~ several seconds of work per call: the jacobian of a big batch, repeated rows
    theta = np.repeat(theta, 400_000, axis=0)
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        lcnfast.jacobian(arch, theta, threads=2)
    elapsed = time.monotonic() - start
    timer.cancel()
    # not a timing threshold: the call must simply have been cut short rather than run out
    full_cost_estimate = _cost_of(arch, theta[:20_000]) * 20
    assert elapsed < full_cost_estimate, (elapsed, full_cost_estimate)


def _cost_of(arch, theta):
    start = time.monotonic()
    lcnfast.jacobian(arch, theta, threads=2)
    return time.monotonic() - start


def test_gil_is_released_during_kernels():
    """Two Python threads calling the kernel at once both finish with correct results."""
    arch = lcnfast.Architecture([5, 4, 3])
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((100_000, arch.n_params))
    expected = lcnfast.end_to_end(arch, theta, threads=1)
    results = [None, None]

    def work(i):
        results[i] = lcnfast.end_to_end(arch, theta, threads=1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_backend_environment_variable():
    code = "import lcnfast; print(lcnfast.simd_backend())"
    env = dict(os.environ, LCNFAST_BACKEND="generic")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "generic"


def test_stub_matches_compiled_module():
    """_core.pyi is checked against the compiled module (mypy.stubtest)."""
    allowlist = Path(__file__).with_name("stubtest-allowlist.txt")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "lcnfast._core", "--allowlist", str(allowlist)],
        capture_output=True, text=True, cwd=Path(__file__).parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks_strictly(tmp_path):
    """The installed package is fully typed (it ships py.typed): mypy --strict is clean."""
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"  # the benchmarks are exempt there
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file",
                             str(config), "-p", "lcnfast"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_names_are_documented():
    for name in lcnfast.__all__:
        obj = getattr(lcnfast, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name
    for name in dir(lcnfast.Architecture):
        if not name.startswith("_"):
            assert getattr(lcnfast.Architecture, name).__doc__, name


def test_benchmark_module_run_survives_the_openblas_reexec(tmp_path):
    # With OPENBLAS_* set, a benchmark re-executes itself without them; started as
    # ``python -m`` it must re-run as a module (a file path breaks its relative imports).
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    out = tmp_path / "roots.json"
    result = subprocess.run([sys.executable, "-m", "lcnfast.benchmarks.roots", "--batch", "200", "--degree", "4",
                             "--repeat", "1", "--sympy-sample", "5", "--json", str(out)],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed == json.loads(out.read_text())
    assert printed["case"].startswith("B=200 ")


def test_critical_point_benchmark_agrees_with_sympy_at_a_small_degree(tmp_path):
    out = tmp_path / "critical.json"
    result = subprocess.run([sys.executable, "-m", "lcnfast.benchmarks.critical", "--degree", "3", "--sympy-timeout",
                             "120", "--json", str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert rows == json.loads(out.read_text())
    strata = rows[:-1]
    assert [tuple(r["partition"]) for r in strata] == [(3,), (2, 1), (1, 1, 1)]
    # the rational normal curve has ED degree 3D - 2 for generic weights; the open stratum
    # has the unconstrained optimum only
    assert strata[0]["complex"] == 7 and strata[-1]["complex"] == 1
    finished = [r for r in strata if r["sympy"] == "finished"]
    assert finished and all(r["agrees_with_sympy"] for r in finished)
    assert rows[-1]["disagreements_with_sympy"] == 0
