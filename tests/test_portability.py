"""The compiled module runs on x86-64 CPUs without AVX, and on CPUs with AVX2 but no AVX-512
(run-time dispatch, no stray AVX or AVX-512 code).

The AVX2 and AVX-512 kernels are compiled in their own translation units; if any of their
code leaked into a path for a smaller instruction set (e.g. through an inline function the
linker merged), the module would die with SIGILL on an older CPU. We run it under qemu's
user-mode emulation of a Nehalem (SSE4.2, no AVX) and of a Haswell (AVX2, no AVX-512) and
check the results, the training kernels' included. CI installs qemu-user (see .ci/run);
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
import sys
import numpy as np, lcnfast
backends = sys.argv[1].split(",")
if backends != ["native"]:
    assert lcnfast.simd_backend() == backends[-1], lcnfast.simd_backend()
    assert lcnfast._core.available_backends() == backends, lcnfast._core.available_backends()
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
# training, by the register-resident kernels (a dense chain) and the general ones (strided):
# every backend rounds the same way, so the digest must equal the native CPU's
import hashlib
digest = hashlib.sha256()
for k, s in (([3, 3, 2], None), ([2, 3], [2, 1])):
    arch = lcnfast.Architecture(k, s, d0=12)
    X, Y = lcnfast.teacher_data(arch, np.ones(arch.filter_size), 20, noise=0.1, seed=1)
    loss = lcnfast.SquaredLoss.from_data(arch, X, Y)
    res = lcnfast.train(arch, loss, batch=40, steps=500, lr=0.01, seed=2, record_every=50)
    for a in (res.theta, res.v, res.loss, res.grad_norm, res.steps, res.invariants.max_drift,
              res.invariants.predicted_drift, res.trajectory.loss):
        digest.update(np.ascontiguousarray(a).tobytes())
print("digest", digest.hexdigest())
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
@pytest.mark.parametrize(("cpu", "backends"), [("Nehalem", "generic"), ("Haswell", "generic,avx2")])
def test_module_runs_on_an_older_cpu(cpu, backends):
    qemu = _qemu()
    # OpenBLAS is told to use Haswell kernels on some of our machines; an emulated Nehalem
    # cannot run those, and they are numpy's business, not ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    env.pop("LCNFAST_BACKEND", None)
    result = subprocess.run([qemu, "-cpu", cpu, sys.executable, "-c", SCRIPT, backends],
                            capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
    native = subprocess.run([sys.executable, "-c", SCRIPT, "native"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert native.returncode == 0, native.stdout + native.stderr

    def digest(out: str) -> str:
        return next(line for line in out.splitlines() if line.startswith("digest "))

    assert digest(result.stdout) == digest(native.stdout)
