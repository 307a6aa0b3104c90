"""Landscape sweeps: config validation, serial runs against the landscape pieces they are made
of, resume after an interruption, recorded failures, and a 2-worker Dask cluster that loses
a worker mid-sweep and still gives the serial numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import lcnfast
from lcnfast.experiments import sweeps as sweep_module
from lcnfast.experiments.sweeps import load_config, sweep, sweep_tasks

SMALL = {"sweep": {"seed": 3, "architectures": [[2, 2], [3, 2]], "datasets": 2, "samples": 30, "starts": 60,
                   "chunk": 20, "steps": 20000, "threads": 1}}
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sweep-small.toml"


def _run(tmp_path: Path, name: str, config=SMALL, **kwargs):
    return sweep(config, out=tmp_path / name, show_progress=False, echo=None, **kwargs)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("serial"), "out", serial=True)


def test_the_readme_example_config_loads():
    config = load_config(EXAMPLE)
    assert config.architectures == ((2, 2), (2, 3), (2, 2, 2), (3, 3))
    assert len(sweep_tasks(config)) == 4 * 2 * (1 + 1000 // 250)


def test_grid_of_architectures_up_to_order():
    config = load_config({"max_layers": 3, "max_filter": 3})
    # multisets of {2, 3} of size 2 and 3
    assert sorted(config.architectures) == sorted([(2, 2), (3, 2), (3, 3), (2, 2, 2), (3, 2, 2), (3, 3, 2),
                                                   (3, 3, 3)])


@pytest.mark.parametrize("bad, word", [
    ({"architectures": [[2, 2]], "chunks": 3}, "chunks"),
    ({"architectures": []}, "architectures"),
    ({"architectures": [[2, 0]]}, "architectures"),
    ({"architectures": [[2, 2]], "starts": 0}, "starts"),
    ({"architectures": [[2, 2]], "max_layers": 3}, "max_layers"),
    ({"architectures": [[2, 2]], "enumerate": "yes"}, "enumerate"),
    ({"architectures": [[2, 2]], "seed": -1}, "seed"),
])
def test_bad_configs_name_the_key(bad, word):
    with pytest.raises(ValueError, match=word):
        load_config(bad)


def test_bad_config_types_and_files(tmp_path):
    with pytest.raises(TypeError, match="config"):
        load_config(42)
    with pytest.raises(ValueError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[sweep\nseed = 1")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(broken)


def test_serial_sweep_matches_the_landscape_pieces(serial):
    """Each data set's table rows equal what critical_points and train give on the same data
    and seeds, computed here without the sweep."""
    from lcnfast.experiments.landscape import gd_limits, landscape_problem, match_limits

    config = load_config(SMALL)
    assert serial.parameters["missing"] == 0 and serial.parameters["failed"] == 0
    points = serial.tables["critical points"]
    for k in config.architectures:
        for d in range(config.datasets):
            rng = np.random.default_rng([config.seed, 0, d, len(k), *k])
            arch, loss = landscape_problem(k, rng, config.samples)
            land = lcnfast.critical_points(arch, loss, seed=config.seed)
            rows = [r for r in points if r["k"] == k and r["data"] == d]
            assert [r["loss"] for r in rows[:-3]] == [p.loss for p in land.points]
            V = np.array([p.v for p in land.points])
            hits = np.zeros(len(V), dtype=int)
            runs = converged = ambiguous = unmatched = 0
            for task in sweep_tasks(config):
                if task.kind == "train" and task.k == k and task.dataset == d:
                    seed = int(np.random.default_rng([config.seed, 1, d, task.chunk, len(k), *k]).integers(1 << 62))
                    trained = gd_limits(arch, loss, task.runs, seed, steps=config.steps)
                    h, a, u = match_limits(V, trained.v[trained.converged])
                    hits += h
                    ambiguous += a
                    unmatched += u
                    runs += task.runs
                    converged += int(trained.converged.sum())
            assert runs == config.starts
            assert [r["gd_fraction"] for r in rows[:-3]] == [h / runs for h in hits]
            assert [r["gd_fraction"] for r in rows[-3:]] == [ambiguous / runs, unmatched / runs,
                                                              (runs - converged) / runs]
            assert sum(r["gd_fraction"] for r in rows) == pytest.approx(1.0, abs=1e-12)
            # GD ends somewhere the enumeration knows about: a critical point of the landscape
            assert unmatched <= 0.05 * runs


def test_tables_are_written(serial, tmp_path):
    result = _run(tmp_path, "again", serial=True)
    folder = tmp_path / "again"
    saved = json.loads((folder / "result.json").read_text())
    assert saved["result"]["tables"]["critical points"] == json.loads(json.dumps(result.tables["critical points"]))
    assert (folder / "critical_points.csv").exists() and (folder / "summary.md").exists()
    assert result.tables == serial.tables


def test_resume_after_an_interruption_redoes_only_the_missing_tasks(serial, tmp_path):
    folder = tmp_path / "resume"
    _run(tmp_path, "resume", serial=True)
    journal = folder / "tasks.jsonl"
    lines = journal.read_text().splitlines()
    kept = lines[: len(lines) // 2]
    journal.write_text("\n".join(kept) + "\n" + lines[len(lines) // 2][:25])  # a torn last line
    ran = []
    original = sweep_module._run_task

    def spy(config, task, parent):
        ran.append(task.key)
        return original(config, task, parent)

    sweep_module._run_task = spy
    try:
        result = _run(tmp_path, "resume", serial=True)
    finally:
        sweep_module._run_task = original
    assert sorted(ran) == sorted(json.loads(line)["task"] for line in lines[len(lines) // 2:])
    assert result.tables == serial.tables


def test_a_resumed_folder_must_hold_the_same_config(serial, tmp_path):
    _run(tmp_path, "cfg", serial=True)
    other = {"sweep": {**SMALL["sweep"], "seed": 4}}
    with pytest.raises(ValueError, match="another configuration"):
        _run(tmp_path, "cfg", config=other, serial=True)


def test_a_failing_task_is_recorded_and_the_sweep_goes_on(serial, tmp_path, monkeypatch):
    original = sweep_module._train

    def fail_one(config, task, points):
        if task.key == "train/k=2-2/data=1/chunk=1":
            raise RuntimeError("deterministic failure")
        return original(config, task, points)

    monkeypatch.setattr(sweep_module, "_train", fail_one)
    result = _run(tmp_path, "fail", serial=True)
    assert result.parameters["failed"] == 1
    assert result.tables["failed tasks"] == [{"task": "train/k=2-2/data=1/chunk=1",
                                              "error": "RuntimeError: deterministic failure"}]
    # every other data set is untouched
    other = [r for r in result.tables["critical points"] if (r["k"], r["data"]) != ((2, 2), 1)]
    assert other == [r for r in serial.tables["critical points"] if (r["k"], r["data"]) != ((2, 2), 1)]
    # a plain resume keeps the failure; retry_failed runs it again (now succeeding)
    assert _run(tmp_path, "fail", serial=True).parameters["failed"] == 1
    monkeypatch.setattr(sweep_module, "_train", original)
    retried = _run(tmp_path, "fail", serial=True, retry_failed=True)
    assert retried.parameters["failed"] == 0
    assert retried.tables == serial.tables


def test_retry_after_a_failed_enumeration_gives_the_uninterrupted_tables(serial, tmp_path, monkeypatch):
    # issue 16: the train tasks of a data set whose enumeration failed were recorded as
    # finished with every limit "unmatched", and --retry-failed kept them
    original = sweep_module._enumerate

    def fail_one(config, task):
        if task.key == "enumerate/k=3-2/data=0":
            raise RuntimeError("deterministic failure")
        return original(config, task)

    monkeypatch.setattr(sweep_module, "_enumerate", fail_one)
    result = _run(tmp_path, "enum", serial=True)
    failed = {row["task"] for row in result.tables["failed tasks"]}
    trains = {t.key for t in sweep_tasks(load_config(SMALL)) if t.parent == "enumerate/k=3-2/data=0"}
    assert failed == {"enumerate/k=3-2/data=0"} | trains
    assert not [r for r in result.tables["critical points"] if (r["k"], r["data"]) == ((3, 2), 0)]
    assert any("k=(3, 2) data set 0" in note for note in result.notes)  # said, not printed as zeros
    monkeypatch.setattr(sweep_module, "_enumerate", original)
    retried = _run(tmp_path, "enum", serial=True, retry_failed=True)
    assert retried.parameters["failed"] == 0 and retried.parameters["missing"] == 0
    assert retried.tables == serial.tables


def test_dask_cluster_losing_a_worker_gives_the_serial_result(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    import os

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        killed = threading.Event()

        def kill_a_busy_worker():
            # wait until some task is running, then kill the process of a worker running one
            deadline = time.time() + 120
            while time.time() < deadline:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    try:
                        client.run(os._exit, 1, workers=[busy[0]])
                    except Exception:  # noqa: BLE001 - the worker dies mid-call: its connection closes
                        pass
                    killed.set()
                    return
                time.sleep(0.05)

        thread = threading.Thread(target=kill_a_busy_worker, daemon=True)
        thread.start()
        result = _run(tmp_path, "dask", client=client)
        thread.join()
    assert killed.is_set()
    assert result.parameters["failed"] == 0 and result.parameters["missing"] == 0
    assert result.tables == serial.tables


def test_command_line_runs_a_sweep_serially(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text('[sweep]\narchitectures = [[2, 2]]\nstarts = 20\nchunk = 10\nsamples = 20\nthreads = 1\n')
    done = subprocess.run([sys.executable, "-m", "lcnfast.cli", "sweep", str(config), "--serial", "--out",
                           str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "critical points" in done.stdout
    assert (tmp_path / "out" / "summary.md").exists()
    bad = subprocess.run([sys.executable, "-m", "lcnfast.cli", "sweep", str(tmp_path / "none.toml"), "--serial"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "config" in bad.stderr


def test_serial_and_client_are_exclusive(tmp_path):
    with pytest.raises(ValueError, match="client"):
        _run(tmp_path, "x", client="tcp://127.0.0.1:1", serial=True)


def test_tables_rebuilt_from_stored_limits_with_another_tolerance(serial, tmp_path):
    """Every train task keeps each run's limit and status: ``tables_only`` rebuilds the tables
    without training (same tables at the default tolerance), and ``match_tol`` re-attributes
    the stored limits -- checked against match_limits applied to limits recomputed here."""
    from lcnfast.experiments.landscape import GD_ROWS, gd_limits, match_limits

    out = tmp_path / "out"
    first = _run(tmp_path, "out", serial=True)
    journal = (out / "tasks.jsonl").read_text()
    json.loads(journal.splitlines()[-1])  # standard JSON (no bare NaN)
    assert "NaN" not in journal
    again = _run(tmp_path, "out", tables_only=True)
    assert again.tables == first.tables == serial.tables
    assert (out / "tasks.jsonl").read_text() == journal  # nothing ran
    loose = _run(tmp_path, "out", tables_only=True, match_tol=0.5)
    tight = _run(tmp_path, "out", tables_only=True, match_tol=1e-300)
    assert loose.parameters["match_tol"] == 0.5 and tight.parameters["match_tol"] == 1e-300
    # at 1e-300 no limit is near a point: every converged run is "near no critical point"
    for row in tight.tables["critical points"]:
        if row["partition"] not in GD_ROWS:
            assert row["gd_fraction"] == 0.0
    unmatched = [r["gd_fraction"] for r in tight.tables["critical points"] if r["partition"] == "GD limit unmatched"]
    assert sum(unmatched) > 0
    # one data set recomputed here, matched at 0.5
    records = [json.loads(line) for line in journal.splitlines() if line.strip()]
    config = load_config(SMALL)
    k, d = (2, 2), 0
    points = next(r for r in records if r["task"] == sweep_module.SweepTask("enumerate", k, d).key)["result"]["points"]
    V = np.array([p["v"] for p in points])
    hits = np.zeros(len(points), dtype=int)
    for task in sweep_tasks(config):
        if task.kind == "train" and task.k == k and task.dataset == d:
            arch, loss = sweep_module._problem(config, task)
            seed = int(np.random.default_rng([config.seed, 1, task.dataset, task.chunk, len(task.k), *task.k])
                       .integers(1 << 62))
            trained = gd_limits(arch, loss, task.runs, seed, steps=config.steps, threads=config.threads)
            hits += match_limits(V, trained.v[trained.converged], tol=0.5)[0]
    rows = [r for r in loose.tables["critical points"] if tuple(r["k"]) == k and r["data"] == d][:len(points)]
    np.testing.assert_allclose([r["gd_fraction"] for r in rows], hits / config.starts)
    with pytest.raises(ValueError, match="tables_only: .* does not exist"):
        _run(tmp_path, "nowhere", tables_only=True)
    with pytest.raises(ValueError, match="match_tol: must be > 0"):
        _run(tmp_path, "out", tables_only=True, match_tol=0.0)


def test_a_follow_up_task_runs_where_the_task_before_it_ran():
    """``journal_futures(..., then)``: each finished task may submit the next of its chain to
    the worker that ran it (how the atlas keeps a memo group on one worker). Two chains of
    three tasks on two workers: every task journalled once, each chain in order, every
    follow-up told the worker its predecessor ran on and run there."""
    pytest.importorskip("distributed")
    from distributed import Client

    from lcnfast.experiments.sweeps import journal_futures, private_cluster

    def where(name):  # a task: which worker ran it
        from distributed import get_worker

        time.sleep(0.05)
        return {"task": name, "status": "ok", "worker": get_worker().address}

    class Journal:
        def __init__(self):
            self.records = []

        def add(self, record):
            self.records.append(record)

    journal = Journal()
    told = {}
    with private_cluster(2) as cluster, Client(cluster) as client:
        def then(name, worker):
            chain, step = name.split("-")
            if int(step) == 2:
                return None
            follow = f"{chain}-{int(step) + 1}"
            told[follow] = worker
            return follow, client.submit(where, follow, key=f"test-{follow}", pure=False, workers=[worker],
                                         allow_other_workers=True, priority=1)

        heads = {name: client.submit(where, name, key=f"test-{name}", pure=False) for name in ("a-0", "b-0")}
        journal_futures(client, heads, journal, lambda records: records, then)
    ran = {r["task"]: r["worker"] for r in journal.records}
    assert sorted(ran) == ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"] and len(journal.records) == 6
    for chain in "ab":
        order = [r["task"] for r in journal.records if r["task"].startswith(chain)]
        assert order == [f"{chain}-0", f"{chain}-1", f"{chain}-2"]
        for step in (1, 2):
            assert told[f"{chain}-{step}"] == ran[f"{chain}-{step - 1}"] == ran[f"{chain}-{step}"]
