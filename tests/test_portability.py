"""The compiled module runs on x86-64 CPUs without AVX (run-time dispatch, no stray AVX code).

The AVX2 kernels are compiled in their own translation unit; if any of their code leaked
into the portable path (e.g. through an inline function the linker merged), the module
would die with SIGILL on an older CPU. We run it under qemu's user-mode emulation of a
Nehalem (SSE4.2, no AVX) and check the results. CI installs qemu-user (see .ci/run);
elsewhere the test is skipped when qemu is not installed.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

import pytest

SCRIPT = r"""
import numpy as np, lcnfast
assert lcnfast.simd_backend() == "generic", lcnfast.simd_backend()
assert lcnfast._core.available_backends() == ["generic"]
arch = lcnfast.Architecture([3, 3, 2], [1, 2, 1])
theta = np.random.default_rng(0).standard_normal((1000, arch.n_params))
v = lcnfast.end_to_end(arch, theta, threads=2)
def dil(w, S):
    z = np.zeros((len(w) - 1) * S + 1); z[::S] = w; return z
for b in (0, 5, 999):
    w1, w2, w3 = arch.split(theta[b])
    ref = np.convolve(np.convolve(w1, w2), dil(w3, 2))
    assert np.allclose(v[b], ref, rtol=1e-13, atol=1e-13), (v[b], ref)
J = lcnfast.jacobian(arch, theta[:3])
g = lcnfast.vjp(arch, theta[:3], np.ones((3, arch.filter_size)))
assert np.allclose(g, J.sum(axis=1))
print("ok")
"""


def _qemu() -> str:
    exe = shutil.which("qemu-x86_64")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("qemu-x86_64 is missing: .ci/run installs qemu-user for this test")
        pytest.skip("qemu-x86_64 not installed (apt-get install qemu-user)")
    return exe


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 dispatch")
def test_module_runs_on_a_cpu_without_avx():
    qemu = _qemu()
    # OpenBLAS is told to use Haswell kernels on some of our machines; an emulated Nehalem
    # cannot run those, and they are numpy's business, not ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    env.pop("LCNFAST_BACKEND", None)
    result = subprocess.run([qemu, "-cpu", "Nehalem", sys.executable, "-c", SCRIPT],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
