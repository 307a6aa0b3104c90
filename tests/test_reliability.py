"""Issue 16: each defect reproduced first, then fixed -- exit with work in flight, bounded
threads, stale or corrupt outputs, writes through planted links, the private Dask cluster
and rough edges of input checking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lcnfast
from lcnfast.experiments import reproduce
from lcnfast.experiments._common import append_line, write_json, write_text

from .conftest import interruptible_child

DAEMON = textwrap.dedent("""
    import sys, threading, time
    import numpy as np
    import lcnfast

    which = sys.argv[1]
    arch = lcnfast.Architecture([3, 3, 3])
    loss = lcnfast.QuadraticLoss(np.eye(7), np.ones(7))
    started = threading.Event()

    def work():
        started.set()
        if which == "train":
            lcnfast.train(arch, loss, batch=20000, steps=10**7, tol=0.0, lr=1e-4)
        elif which == "end_to_end":
            theta = np.random.default_rng(0).standard_normal((2_000_000, arch.n_params))
            while True:
                lcnfast.end_to_end(arch, theta)
        else:
            G, u = np.eye(9), np.arange(9.0)
            while True:
                lcnfast.stratum_critical_points((3, 2, 1, 1, 1), G, u)

    threading.Thread(target=work, daemon=True).start()
    started.wait()
    time.sleep(float(sys.argv[2]))
    print("main thread done")
""")


@pytest.mark.parametrize("which", ["train", "end_to_end", "strata"])
def test_exit_with_a_daemon_thread_inside_the_core_is_clean(tmp_path, which):
    # was: "terminate called without an active exception", exit 134, in 11 of 12 runs
    script = tmp_path / "daemon.py"
    script.write_text(DAEMON)
    for delay in (0.3, 1.0, 2.0):
        run = subprocess.run([sys.executable, str(script), which, str(delay)], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, (delay, run.returncode, run.stderr[-500:])
        assert "terminate called" not in run.stderr
        assert "main thread done" in run.stdout


def test_thread_requests_are_clamped_to_the_machine(monkeypatch):
    from lcnfast._validation import available_threads, resolve_threads

    cores = available_threads()
    assert resolve_threads(10**4) == cores
    assert resolve_threads(2**40) == cores  # was a pybind11 TypeError that did not name threads
    assert resolve_threads(1) == 1
    monkeypatch.setenv("LCNFAST_NUM_THREADS", "99999999999")
    assert resolve_threads(None) == cores
    arch = lcnfast.Architecture([3, 3])
    theta = np.random.default_rng(0).standard_normal((5, arch.n_params))
    assert np.array_equal(lcnfast.end_to_end(arch, theta, threads=10**5), lcnfast.end_to_end(arch, theta, threads=1))
    # the compiled core clamps too (it was given 10^4 threads' worth of scratch before)
    rows = np.ascontiguousarray(theta)
    assert np.array_equal(arch.plan.end_to_end(rows, 10**4, None), arch.plan.end_to_end(rows, 1, None))


def test_seeds_are_checked_and_generators_accepted():
    arch = lcnfast.Architecture([2, 2])
    loss = lcnfast.QuadraticLoss(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="seed: must be >= 0"):
        lcnfast.train(arch, loss, batch=2, steps=1, seed=-1)
    with pytest.raises(TypeError, match="seed: expected an integer >= 0 or a numpy.random.Generator"):
        lcnfast.train(arch, loss, batch=2, steps=1, seed=1.5)
    with pytest.raises(ValueError, match="seed: must be >= 0"):
        lcnfast.teacher_data(lcnfast.Architecture([2, 2], d0=6), np.ones(3), 4, seed=-3)
    with pytest.raises(ValueError, match="seed: must be >= 0"):
        lcnfast.generic_jacobian_rank(arch, seed=-1)
    a = lcnfast.train(arch, loss, batch=3, steps=0, seed=np.random.default_rng(7)).theta
    b = lcnfast.train(arch, loss, batch=3, steps=0, seed=np.random.default_rng(7)).theta
    assert np.array_equal(a, b)


def test_from_data_without_targets_names_y():
    arch = lcnfast.Architecture([2, 2])
    with pytest.raises(TypeError, match="Y: expected the targets"):
        lcnfast.SquaredLoss.from_data(arch, np.ones((4, 5)), None)


@pytest.mark.parametrize("scale", [1e-300, 5e-324, 1e300])
def test_strata_with_tiny_or_huge_weights(scale):
    # was "max() arg is an empty sequence" for G = 1e-300 I; the equations are homogeneous in G
    u = np.array([1.0, -2.0, 0.5, 3.0])
    reference = lcnfast.stratum_critical_points((2, 1), np.eye(4), u)
    scaled = lcnfast.stratum_critical_points((2, 1), scale * np.eye(4), u)
    assert scaled.n_complex == reference.n_complex and scaled.complete
    distance = np.linalg.norm(scaled.v[:, None, :] - reference.v[None, :, :], axis=2)
    assert np.all(distance.min(axis=1) <= 1e-9 * (1 + np.linalg.norm(reference.v, axis=1).max()))
    assert sorted(np.argmin(distance, axis=1)) == list(range(reference.n_complex))  # one to one


def test_unknown_backend_request_is_warned_about(tmp_path):
    code = "import warnings, lcnfast; print(lcnfast.simd_backend())"
    run = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True,
                         env={**os.environ, "LCNFAST_BACKEND": "avx1024"}, timeout=120)
    assert run.returncode == 0
    assert "LCNFAST_BACKEND='avx1024' is not available" in run.stderr
    quiet = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                           env={**os.environ, "LCNFAST_BACKEND": "generic"}, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout.strip() == "generic"


# -- outputs that cannot go stale, and writes that never follow a planted link -----------------
def test_safe_writes_replace_links_instead_of_following_them(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("result.json", "result.json.tmp", "summary.md", "table.csv"):
        (out / name).symlink_to(victim)
    write_json(out / "result.json", {"a": 1})
    write_text(out / "summary.md", "new")
    assert victim.read_text() == "precious"
    assert not (out / "result.json").is_symlink() and json.loads((out / "result.json").read_text()) == {"a": 1}
    (out / "tasks.jsonl").symlink_to(victim)
    with pytest.raises(OSError, match="tasks.jsonl: cannot append"):
        append_line(out / "tasks.jsonl", "line\n")
    assert victim.read_text() == "precious"


def test_reproduce_never_writes_through_planted_links(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    (out / "strides").mkdir(parents=True)
    for name in ("strides/result.json.tmp", "strides/result.json", "strides/architectures.csv", "summary.md"):
        (out / name).symlink_to(victim)
    with pytest.warns(RuntimeWarning, match="result.json is unreadable"):  # the link points at no result
        reproduce(out, only=["strides"], echo=None, show_progress=False)
    assert victim.read_text() == "precious"
    assert json.loads((out / "strides" / "result.json").read_text())["result"]["name"] == "strides"
    assert not (out / "summary.md").is_symlink()


@pytest.fixture(scope="module")
def strides_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("stale")
    reproduce(out, only=["strides"], echo=None, show_progress=False)
    return out


def test_deleted_or_truncated_outputs_are_rewritten(strides_run, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(strides_run, out)
    table = out / "strides" / "architectures.csv"
    original = table.read_text()
    table.write_text(original[:100])  # truncated
    (out / "strides" / "GD_limits_at_singular_points.csv").unlink()  # deleted
    lines = []
    reproduce(out, only=["strides"], echo=lines.append, show_progress=False)
    assert table.read_text() == original
    assert (out / "strides" / "GD_limits_at_singular_points.csv").exists()
    assert any("rewrote" in line and "architectures.csv" in line for line in lines)


def test_corrupt_result_file_is_named_and_recomputed(strides_run, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(strides_run, out)
    path = out / "strides" / "result.json"
    path.write_text('{"settings": {"full": fals')
    with pytest.warns(RuntimeWarning, match=f"{path}.* is unreadable"):
        reproduce(out, only=["strides"], echo=None, show_progress=False)
    assert json.loads(path.read_text())["result"]["name"] == "strides"


def test_corrupt_journal_lines_are_skipped_and_reported(tmp_path):
    from lcnfast.experiments.sweeps import load_config, sweep, sweep_tasks

    config = {"sweep": {"seed": 1, "architectures": [[2, 2]], "datasets": 1, "samples": 20, "starts": 20,
                        "chunk": 20, "steps": 5000, "threads": 1}}
    folder = tmp_path / "sweep"
    first = sweep(config, out=folder, serial=True, show_progress=False, echo=None)
    journal = folder / "tasks.jsonl"
    good = journal.read_text().splitlines()
    bad = ['[1, 2]', '{"task": 5}', '{"task": "train/k=2-2/data=0/chunk=0", "status": "ok"}', '"text"',
           '{"task": "enumerate/k=2-2/data=0", "status": "ok", "result": {"points": []}}']
    journal.write_text("\n".join(bad + good[1:]) + "\n")  # the enumeration record is lost among bad lines
    with pytest.warns(RuntimeWarning, match="skipped 5 unreadable line"):
        again = sweep(config, out=folder, serial=True, show_progress=False, echo=None)
    assert again.tables == first.tables
    assert len(sweep_tasks(load_config(config))) == 2
    (folder / "sweep.json").write_text("{broken")
    with pytest.raises(ValueError, match="sweep.json is not a sweep header"):
        sweep(config, out=folder, serial=True, show_progress=False, echo=None)


# -- the private Dask cluster -------------------------------------------------------------------
def test_the_local_cluster_refuses_foreign_clients_and_serves_no_http():
    pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    import urllib.error
    import urllib.request

    from distributed import Client

    from lcnfast.experiments.sweeps import private_cluster

    with private_cluster(1) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        with Client(cluster) as own:  # the cluster's own client holds the temporary credentials
            assert own.submit(sum, [1, 2]).result(timeout=60) == 3
        # another process (standing in for another local user) without them cannot attach
        attach = ("import sys\nfrom distributed import Client\ntry:\n    Client(sys.argv[1], timeout=5)\n"
                  "except Exception as exc:\n    print('refused', type(exc).__name__)\nelse:\n    print('ATTACHED')\n")
        for target in (address, address.replace("tls://", "tcp://")):
            run = subprocess.run([sys.executable, "-c", attach, target], capture_output=True, text=True, timeout=120)
            assert "refused" in run.stdout and "ATTACHED" not in run.stdout, (target, run.stdout, run.stderr[-300:])
        port = cluster.scheduler.http_server.port if cluster.scheduler.http_server else None
        if port:
            for route in ("/info/main/workers.html", "/json/identity.json", "/health", "/metrics", "/status"):
                with pytest.raises(urllib.error.HTTPError) as info:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=5)
                info.value.close()  # the error holds the response's socket
                assert info.value.code == 404


def test_the_local_cluster_works_while_port_8787_is_taken():
    """Issue 29: with dashboard_address=None the scheduler still bound its HTTP server to 8787,
    so the README's test command failed (and every sweep warned) while a Jupyter dashboard or
    another cluster held that port. The cluster's HTTP server now takes a free loopback port."""
    pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    import socket

    from distributed import Client

    from lcnfast.experiments.sweeps import private_cluster

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        try:
            held.bind(("", 8787))
            held.listen(1)
        except OSError:
            pass  # something else holds it already: the same situation
        with private_cluster(1) as cluster:  # under filterwarnings = error: no "port in use" warning
            assert cluster.scheduler.http_server is None or cluster.scheduler.http_server.port != 8787
            with Client(cluster) as own:
                assert own.submit(sum, [1, 2]).result(timeout=60) == 3


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    config = tmp_path / "c.toml"
    config.write_text("[sweep]\narchitectures = [[2, 2]]\nstarts = 10\n")
    run = subprocess.run([sys.executable, "-m", "lcnfast", "sweep", str(config), "--out", str(tmp_path / "o"),
                          "--scheduler", "tcp://127.0.0.1:9", "--no-progress"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "o").exists()  # issue 29: sweep.json was written before the failure


def test_refused_workers_write_nothing(tmp_path):
    """Issue 29: --workers 0 created ./lcnfast-sweep/sweep.json before refusing."""
    config = tmp_path / "c.toml"
    config.write_text("[sweep]\narchitectures = [[2, 2]]\nstarts = 10\n")
    run = subprocess.run([sys.executable, "-m", "lcnfast", "sweep", str(config), "--workers", "0", "--no-progress"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 2 and "workers" in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_records_without_their_header_are_never_reused(tmp_path):
    """Issue 29: deleting sweep.json let a sweep with another seed reuse the old records."""
    from lcnfast.experiments.sweeps import sweep

    config = {"architectures": [[2, 2]], "starts": 10, "datasets": 1}
    sweep(config, out=tmp_path, serial=True, show_progress=False, echo=None)
    (tmp_path / "sweep.json").unlink()
    with pytest.raises(ValueError, match="sweep.json is missing"):
        sweep({**config, "seed": 1}, out=tmp_path, serial=True, show_progress=False, echo=None)


# -- memory: refuse what cannot fit, before allocating it -----------------------------------------
def _python(code: str, limit: int | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if limit is not None:
        env["LCNFAST_MEMORY_LIMIT"] = str(limit)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout,
                          preexec_fn=interruptible_child)


def test_a_plan_that_would_not_fit_is_refused_with_its_size():
    # [32] * 1000 took 35 s and 4.3 GB before; with a 1 GB budget it is refused at once
    code = textwrap.dedent("""
        import time, lcnfast
        start = time.perf_counter()
        try:
            lcnfast.Architecture([32] * 1000)
        except ValueError as exc:
            print("refused", round(time.perf_counter() - start, 1), exc)
    """)
    run = _python(code, limit=10**9)
    assert run.returncode == 0, run.stderr[-500:]
    assert "refused" in run.stdout and "k: the product plan of this architecture would need" in run.stdout
    assert "GB of memory, more than the 1 GB" in run.stdout
    assert float(run.stdout.split()[1]) < 20


def test_matrices_that_would_not_fit_are_refused(monkeypatch):
    monkeypatch.setenv("LCNFAST_MEMORY_LIMIT", str(10**8))
    with pytest.raises(ValueError, match=r"d_in: the matrix would need .* of memory, more than the 100 MB"):
        lcnfast.conv_matrix(np.ones(3), 20000)
    assert lcnfast.conv_matrix(np.ones(3), 100).shape == (98, 100)
    arch = lcnfast.Architecture([2, 2])
    loss = lcnfast.QuadraticLoss(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="batch: 10000000 runs would need"):
        lcnfast.train(arch, loss, batch=10**7, steps=1)


def test_building_a_large_plan_releases_the_gil_and_stops_on_ctrl_c():
    code = textwrap.dedent("""
        import os, signal, threading, time, lcnfast
        ticks = []
        def tick():
            while len(ticks) < 1000:
                ticks.append(time.perf_counter())
                time.sleep(0.01)
        threading.Thread(target=tick, daemon=True).start()
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.perf_counter()
        try:
            lcnfast.Architecture([16] * 700)  # seconds of work, under 1 GB
            print("built", round(time.perf_counter() - start, 1))
        except KeyboardInterrupt:
            print("interrupted", round(time.perf_counter() - start, 1))
        print("ticks", len(ticks))
    """)
    run = _python(code, timeout=300)
    assert run.returncode == 0, run.stderr[-500:]
    words = run.stdout.split()
    assert words[0] == "interrupted" and float(words[1]) < 2.0  # stopped soon after the signal at 0.3 s
    assert int(words[-1]) >= 10  # the other thread kept running while the plan was being built


def test_rng_is_spec7_and_seed_keeps_working():
    """``rng=`` (an int or a Generator) is the same as ``seed=``; both at once is an error
    naming ``rng``; ``seed=None`` takes fresh entropy."""
    arch = lcnfast.Architecture([2, 2])
    loss = lcnfast.QuadraticLoss(np.eye(3), [1.0, 3.0, 2.0])
    a = lcnfast.train(arch, loss, batch=5, steps=10, seed=7)
    b = lcnfast.train(arch, loss, batch=5, steps=10, rng=7)
    np.testing.assert_array_equal(a.theta, b.theta)
    c = lcnfast.train(arch, loss, batch=5, steps=10, rng=np.random.default_rng(3))
    d = lcnfast.train(arch, loss, batch=5, steps=10, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(c.theta, d.theta)
    X1, _ = lcnfast.teacher_data(lcnfast.Architecture([2, 2], d0=6), [1.0, 2.0, 1.0], 4, rng=5)
    X2, _ = lcnfast.teacher_data(lcnfast.Architecture([2, 2], d0=6), [1.0, 2.0, 1.0], 4, seed=5)
    np.testing.assert_array_equal(X1, X2)
    with pytest.raises(ValueError, match="rng: give seed= or rng=, not both"):
        lcnfast.train(arch, loss, batch=2, seed=1, rng=2)
    with pytest.raises(TypeError, match="rng: expected an integer >= 0 or a numpy.random.Generator"):
        lcnfast.train(arch, loss, batch=2, rng="x")
    e = lcnfast.train(arch, loss, batch=5, steps=0, seed=None)
    f = lcnfast.train(arch, loss, batch=5, steps=0, seed=None)
    assert not np.array_equal(e.theta, f.theta)
    assert lcnfast.generic_jacobian_rank(arch, rng=1) == 3
    assert lcnfast.ed_degree((2,), np.eye(3), rng=2) == lcnfast.ed_degree((2,), np.eye(3), seed=2)


@pytest.mark.parametrize("call", ["real_root_count", "discriminant"])
def test_ctrl_c_stops_the_exact_fallbacks_at_once(call):
    """Issue 29: python-flint holds the GIL and polls no signal, so Ctrl-C waited for the end of
    the exact fallback (about 25 s for real_root_count, 90 s for discriminant of this filter on
    a 2-core EPYC). Such inputs now run in a child process that Ctrl-C stops. The 30 s bound
    only keeps the test from waiting for the end; the interruption takes about a second."""
    code = textwrap.dedent(f"""
        import os, signal, threading, time
        import numpy as np
        import lcnfast
        v = np.random.default_rng(1).choice([5e-324, -5e-324, 1e-310, 1e-300, 1.0, 0.0], 180)
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.perf_counter()
        try:
            lcnfast.{call}(v)
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
    """)
    run = _python(code, timeout=30)
    assert run.stdout.split() == ["interrupted"], run.stderr[-500:]


def test_ctrl_c_on_a_local_cluster_sweep_prints_one_line(tmp_path):
    """Issue 29: Ctrl-C in a terminal reaches the whole process group; each Dask worker printed
    its own tracebacks (up to 13 after the one-line message). The workers now ignore SIGINT and
    the command closes them, with Dask's messages about the cancelled tasks silenced."""
    pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    import signal
    import time

    config = tmp_path / "c.toml"
    config.write_text("[sweep]\narchitectures = [[2, 2], [3, 2], [2, 2, 2]]\nstarts = 3000\ndatasets = 4\n")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "lcnfast", "sweep", str(config), "--out", str(out),
                                "--workers", "2", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True, preexec_fn=interruptible_child)
    deadline = time.monotonic() + 120
    while not (out / "tasks.jsonl").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    time.sleep(1.0)
    assert process.poll() is None, "the sweep ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "lcnfast sweep: interrupted" in lines[0], lines[:8]


def test_trajectories_and_plots_that_would_not_fit_are_refused(monkeypatch):
    """Issue 29: train(batch=400000, steps=200, record_every=1) under a 2 GB limit peaked at
    7.3 GB (the trajectories were not counted); plot_function_space(resolution=10**9) and
    samples=10**12 allocated without bound."""
    monkeypatch.setenv("LCNFAST_MEMORY_LIMIT", "2e9")
    arch = lcnfast.Architecture([3, 3])
    loss = lcnfast.QuadraticLoss(np.eye(5), np.ones(5))
    with pytest.raises(ValueError, match=r"record_every: 201 records of 400000 runs would need .* more than the 2 GB"):
        lcnfast.train(arch, loss, batch=400000, steps=200, record_every=1)
    pytest.importorskip("matplotlib")
    from lcnfast.plotting import plot_function_space

    two = lcnfast.Architecture([2, 2])
    with pytest.raises(ValueError, match="resolution: a 1000000000 x 1000000000 grid would need"):
        plot_function_space(two, resolution=10**9)
    with pytest.raises(ValueError, match="samples: 1000000000000 filters would need"):
        plot_function_space(two, samples=10**12)


@pytest.mark.parametrize(("value", "budget"), [("2e9", 2 * 10**9), ("1G", 10**9), ("2GiB", 2 * 2**30),
                                               ("512M", 512 * 10**6), ("1.5 GB", 1_500_000_000),
                                               ("0", None), ("-5", None), ("abc", None), ("3x", None)])
def test_the_memory_limit_takes_sizes_and_says_when_it_cannot(value, budget):
    """Issue 29: LCNFAST_MEMORY_LIMIT=-5 meant no limit and 1G, 1e9, abc, 0 were ignored
    without a warning."""
    code = ("import warnings\nwarnings.simplefilter('always')\nimport lcnfast, lcnfast._core as c\n"
            "print(c.memory_budget())\n")
    env = {**os.environ, "LCNFAST_MEMORY_LIMIT": value}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-500:]
    if budget is not None:
        assert int(run.stdout) == budget and "Warning" not in run.stderr
    else:
        assert f"LCNFAST_MEMORY_LIMIT={value!r} is not a positive size" in run.stderr
        assert 0 < int(run.stdout)  # the default budget: some memory, never "no limit"


def test_the_default_budget_leaves_room_below_the_available_memory():
    """Issue 29: the default budget was the physical memory, so 13-23 GB structures were
    accepted on a 24 GiB machine. It is now four fifths of the least of the physical memory,
    MemAvailable and the cgroup limit."""
    env = {k: v for k, v in os.environ.items() if k != "LCNFAST_MEMORY_LIMIT"}
    run = subprocess.run([sys.executable, "-c", "import lcnfast._core as c; print(c.memory_budget())"],
                         capture_output=True, text=True, env=env, timeout=120)
    budget = int(run.stdout)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < budget <= 0.8 * physical + 1
    with open("/proc/meminfo") as handle:
        available = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("MemAvailable:"))
    assert budget <= 0.8 * available * 1.1  # available memory moves a little between the two readings
