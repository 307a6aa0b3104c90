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


def _long_training(steps):
    """Many runs that never converge (tol=0): a call whose cost is proportional to steps."""
    arch = lcnfast.Architecture([3, 3, 3])
    loss = lcnfast.QuadraticLoss(np.eye(arch.filter_size), np.linspace(1.0, 2.0, arch.filter_size))

    def run():
        return lcnfast.train(arch, loss, batch=4096, lr=1e-3, steps=steps, tol=0.0, seed=0, threads=2)
    return run


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_call():
    """A SIGINT during a long kernel call raises KeyboardInterrupt instead of waiting for the end."""
    # Size the call from a measured sample so that it would take about 30 s on any machine
    # (a fixed size was over before the signal on a fast CPU).
    start = time.monotonic()
    _long_training(2000)()
    per_step = (time.monotonic() - start) / 2000
    steps = int(30.0 / max(per_step, 1e-9))
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _long_training(steps)()
    elapsed = time.monotonic() - start
    timer.cancel()
    # not a timing threshold: the call must simply have been cut short rather than run out
    assert elapsed < 0.5 * steps * per_step, (elapsed, steps * per_step)


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


@pytest.mark.parametrize("torch_stub", [False, True], ids=["as-installed", "with-a-torch-stub"])
def test_package_type_checks_strictly(tmp_path, torch_stub):
    """The installed package is fully typed (it ships py.typed): mypy --strict is clean,
    whether or not torch (an optional extra) is importable. CI runs this once in a venv
    without torch and once after installing it; the stub case adds a typed ``torch``
    package that contradicts the real one, so a static ``import torch`` would fail here."""
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"  # the benchmarks are exempt there
    env = dict(os.environ)
    if torch_stub:
        stub = tmp_path / "stubs" / "torch"
        stub.mkdir(parents=True)
        (stub / "__init__.pyi").write_text("float64: int\nclass nn: ...\n", encoding="utf-8")
        env["MYPYPATH"] = str(tmp_path / "stubs")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file",
                             str(config), "-p", "lcnfast"], capture_output=True, text=True, cwd=tmp_path, env=env)
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
                             "120", "--datasets", "2", "--strided", "2,2/2,1", "--json", str(out)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert rows == json.loads(out.read_text())
    strided = rows[-1]  # the strided family beside the strata: rank-one 2 x 2 matrices
    assert strided["case"].startswith("strided") and strided["generic_count"] == 6 and strided["all_complete"]
    assert strided["per_certified_point_vs_stride_one"] > 0
    rows = rows[:-1]
    strata = rows[:-1]
    assert [tuple(r["partition"]) for r in strata] == [(3,), (2, 1), (1, 1, 1)]
    # the rational normal curve has ED degree 3D - 2 for generic weights; the open stratum
    # has the unconstrained optimum only
    assert strata[0]["complex"] == 7 and strata[-1]["complex"] == 1
    finished = [r for r in strata if r["sympy"] == "finished"]
    assert finished and all(r["agrees_with_sympy"] for r in finished)
    assert rows[-1]["disagreements_with_sympy"] == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_the_ctrl_c_tests_pass_when_started_with_sigint_ignored():
    """Issue 29: started from a non-interactive shell (`&`, nohup: SIGINT ignored), the Ctrl-C
    tests failed and one waited forever on a train() call of hours."""
    tests = ["tests/test_runtime.py::test_ctrl_c_interrupts_a_long_call",
             "tests/test_training.py::test_progress_callback_and_ctrl_c"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                         capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert run.returncode == 0, run.stdout[-2000:]
    assert "2 passed" in run.stdout
