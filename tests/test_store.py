"""The experiments' one store (lcnfast.experiments._store), which reproduce and sweep share:
round trips, digests against the bytes on disk (hashlib), repair of missing or changed
outputs, unreadable files, and the task journal's resume rules."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

import lcnfast
from lcnfast.experiments import reproduce
from lcnfast.experiments._common import ExperimentResult
from lcnfast.experiments._store import ResultStore, TaskJournal, csv_name, provenance_text
from lcnfast.experiments.sweeps import sweep


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _result() -> ExperimentResult:
    return ExperimentResult(
        name="demo", title="A demo",
        tables={"main table": [{"k": "(2, 2)", "count": 3, "fraction": 0.25}, {"k": "(3,)", "count": 0,
                                                                               "fraction": None}],
                "empty": []},
        notes=["a note"], parameters={"seed": 4})


def _draw_into(result: ExperimentResult, folder: Path) -> None:
    """A stand-in figure: a file whose bytes depend on the result's tables."""
    path = folder / "figure.png"
    path.write_bytes(json.dumps(result.tables, sort_keys=True).encode() * 3)
    result.figures.append(str(path))


def test_save_then_load_round_trips_and_digests_are_those_of_the_files(tmp_path):
    store = ResultStore(tmp_path / "demo", "test")
    assert store.load() is None  # nothing stored yet
    result = _result()
    (tmp_path / "demo").mkdir()
    _draw_into(result, tmp_path / "demo")
    origin = lcnfast.provenance(seed=4)
    store.save(result, {"seed": 4}, origin)
    # one CSV per non-empty table, with the rows in order
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["figure.png", "main_table.csv", "result.json"]
    lines = (tmp_path / "demo" / "main_table.csv").read_text().splitlines()
    assert lines[0].split(",") == ["k", "count", "fraction"] and len(lines) == 3
    stored = store.load()
    assert stored is not None
    assert stored.result.to_json() == json.loads(json.dumps(result.to_json()))
    assert stored.settings == {"seed": 4} and stored.provenance == json.loads(json.dumps(origin))
    assert stored.outputs == {name: _sha(tmp_path / "demo" / name) for name in ("main_table.csv", "figure.png")}


def test_restore_rewrites_what_is_missing_or_changed_and_nothing_else(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    store = ResultStore(folder, "test")
    result = _result()
    _draw_into(result, folder)
    store.save(result, {"seed": 4}, None)
    table, figure, record = folder / csv_name("main table"), folder / "figure.png", folder / "result.json"
    good_table, good_figure = table.read_bytes(), figure.read_bytes()

    before = record.stat().st_mtime_ns
    stored = store.load()
    assert stored is not None and store.restore(stored, _draw_into) == []
    assert record.stat().st_mtime_ns == before  # untouched when nothing needed repair

    table.unlink()
    figure.write_bytes(b"not the figure")
    stored = store.load()
    assert stored is not None
    assert sorted(store.restore(stored, _draw_into)) == ["figure.png", "main_table.csv"]
    assert table.read_bytes() == good_table and figure.read_bytes() == good_figure
    again = store.load()
    assert again is not None and again.outputs == {"main_table.csv": _sha(table), "figure.png": _sha(figure)}
    assert again.settings == {"seed": 4}


@pytest.mark.parametrize("text", ["{broken", "[1, 2]", '{"result": 3}', '{"result": {"name": "x"}}',
                                  '{"result": {"name": "x", "title": "t", "tables": {}, "figures": [], "notes": []},'
                                  ' "outputs": [1]}'])
def test_an_unreadable_result_is_reported_and_computed_again(tmp_path, text):
    (tmp_path / "result.json").write_text(text)
    with pytest.warns(RuntimeWarning, match="result.json is unreadable"):
        assert ResultStore(tmp_path, "lcnfast test").load() is None


def test_summary_ends_with_the_provenance_of_each_result(tmp_path):
    origin = lcnfast.provenance(seed=2)
    path = ResultStore(tmp_path, "test").write_summary(["# Title", "body"], [f"* demo: {provenance_text(origin)}"])
    text = path.read_text()
    assert text.startswith("# Title\nbody\n## Provenance\n")
    assert f"lcnfast {lcnfast.__version__}" in text and origin["cpu"] in text and origin["backend"] in text
    assert provenance_text(None) == "computed by an earlier run that recorded no provenance"


def _valid(record):
    return isinstance(record, dict) and isinstance(record.get("task"), str) and record.get("status") == "ok"


def test_journal_resumes_ignores_a_torn_line_and_reports_bad_ones(tmp_path):
    journal = TaskJournal(tmp_path, what="job", fingerprint="abc", header={"config": {"n": 1}}, valid=_valid)
    header = json.loads((tmp_path / "job.json").read_text())
    assert header["fingerprint"] == "abc" and header["config"] == {"n": 1}
    assert header["lcnfast"] == lcnfast.__version__
    for i in range(3):
        journal.add({"task": f"t{i}", "status": "ok", "value": float("nan") if i == 1 else i})
    again = TaskJournal(tmp_path, what="job", fingerprint="abc", header={}, valid=_valid)
    assert again.done == journal.done and again.done["t1"]["value"] is None  # NaN is stored as null
    # a torn last line (interrupted write) is silently dropped; a bad line inside is reported
    path = tmp_path / "tasks.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], '{"task": 5}', *lines[1:]]) + "\n" + '{"task": "t9", "sta')
    with pytest.warns(RuntimeWarning, match="skipped 1 unreadable line"):
        third = TaskJournal(tmp_path, what="job", fingerprint="abc", header={}, valid=_valid)
    assert set(third.done) == {"t0", "t1", "t2"}
    assert not path.read_text().endswith('"sta')  # the torn line was cut off the file
    third.add({"task": "t3", "status": "ok"})  # starts on a fresh line
    # later reads warn only about the bad line inside, never again about the old torn one
    with pytest.warns(RuntimeWarning, match="skipped 1 unreadable line"):
        fourth = TaskJournal(tmp_path, what="job", fingerprint="abc", header={}, valid=_valid)
    assert set(fourth.done) == {"t0", "t1", "t2", "t3"}


def test_journal_refuses_another_configuration_or_version(tmp_path):
    TaskJournal(tmp_path, what="job", fingerprint="abc", header={}, valid=_valid)
    with pytest.raises(ValueError, match="holds a job of another configuration"):
        TaskJournal(tmp_path, what="job", fingerprint="abd", header={}, valid=_valid)
    header = json.loads((tmp_path / "job.json").read_text())
    (tmp_path / "job.json").write_text(json.dumps({**header, "lcnfast": "0.0.1"}))
    with pytest.raises(ValueError, match="run by lcnfast 0.0.1"):
        TaskJournal(tmp_path, what="job", fingerprint="abc", header={}, valid=_valid)


def test_reproduce_and_sweep_write_the_same_kind_of_store(tmp_path):
    """Both commands' result.json files read back through the one store, with digests that
    match the bytes of the files beside them."""
    reproduce(tmp_path / "reproduce", only=["strides"], echo=None, show_progress=False)
    config = {"sweep": {"seed": 1, "architectures": [[2, 2]], "datasets": 1, "samples": 20, "starts": 8,
                        "chunk": 8, "steps": 2000, "threads": 1}}
    sweep(config, out=tmp_path / "sweep", serial=True, show_progress=False, echo=None)
    for folder in (tmp_path / "reproduce" / "strides", tmp_path / "sweep"):
        stored = ResultStore(folder, "test").load()
        assert stored is not None and stored.provenance and stored.provenance["lcnfast"] == lcnfast.__version__
        assert stored.outputs and all(_sha(folder / name) == digest for name, digest in stored.outputs.items())
        assert set(stored.outputs) >= {csv_name(t) for t, rows in stored.result.tables.items() if rows}
    assert "## Provenance" in (tmp_path / "sweep" / "summary.md").read_text()
    assert "## Provenance" in (tmp_path / "reproduce" / "summary.md").read_text()
    assert not os.path.exists(tmp_path / "reproduce" / "strides" / "result.json.tmp")


@pytest.mark.parametrize("table", ["../../x", "../x", "a/b", "..", "sub\\\\x"])
def test_a_table_name_from_a_file_never_names_another_folder(tmp_path, table):
    """Issue 29: a table named ``../../x`` in a result.json under --out made the next reproduce
    write x.csv outside --out (and create the folders on the way). Only plain file names may
    come from a file: such a result is unreadable and computed again, and nothing is written."""
    out = tmp_path / "out" / "deep"
    out.mkdir(parents=True)
    data = {"settings": {}, "outputs": {},
            "result": {"name": "x", "title": "t", "tables": {table: [{"a": 1}]}, "figures": [], "notes": []}}
    (out / "result.json").write_text(json.dumps(data))
    store = ResultStore(out, "lcnfast test")
    with pytest.warns(RuntimeWarning, match="is unreadable"):
        assert store.load() is None
    with pytest.raises(ValueError, match="not a plain name"):
        csv_name(table)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["out", "out/deep",
                                                                                 "out/deep/result.json"]


def test_reproduce_refuses_a_planted_folder_link_and_journals_refuse_links_before_any_task(tmp_path):
    """Issue 29: a directory symlink OUT/<experiment> was followed (results written into the
    link's target), and a tasks.jsonl link was refused only after the first task ran."""
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "strides").symlink_to(victim, target_is_directory=True)
    with pytest.raises(ValueError, match="symbolic link"):
        reproduce(out, only=["strides"], echo=None, show_progress=False)
    assert list(victim.iterdir()) == []
    journal = tmp_path / "journal"
    journal.mkdir()
    (journal / "tasks.jsonl").symlink_to(victim / "t")
    with pytest.raises(ValueError, match="symbolic link"):
        TaskJournal(journal, what="sweep", fingerprint="f", header={}, valid=lambda record: True)
    assert list(victim.iterdir()) == []


def test_nan_cells_are_written_as_when_read_back_so_a_reused_result_is_byte_identical(tmp_path):
    """Issue 29: a NaN cell was written "nan" first and as an empty cell when restored from
    result.json (JSON has no NaN), so every rerun reported "rewrote drift.csv"."""
    folder = tmp_path / "demo"
    store = ResultStore(folder, "test")
    result = ExperimentResult(name="demo", title="t", tables={"drift": [{"a": float("nan"), "b": 1.5},
                                                                        {"a": np.float64("inf"), "b": 2.0}]})
    store.save(result, {}, None)
    written = (folder / "drift.csv").read_bytes()
    assert written.decode().splitlines()[1:] == [",1.5", ",2.0"]
    stored = store.load()
    assert stored is not None and store.restore(stored, None) == []  # nothing differs: nothing rewritten
    assert (folder / "drift.csv").read_bytes() == written


def test_a_table_the_result_no_longer_has_leaves_no_stale_csv(tmp_path):
    """Issue 29: failed_tasks.csv survived a successful --retry-failed."""
    folder = tmp_path / "demo"
    store = ResultStore(folder, "test")
    store.save(ExperimentResult(name="d", title="t", tables={"main": [{"a": 1}], "failed tasks": [{"task": "x"}]}),
               {}, None)
    assert (folder / "failed_tasks.csv").exists()
    (folder / "mine.csv").write_text("a user's file, never listed by lcnfast\n")
    store.save(ExperimentResult(name="d", title="t", tables={"main": [{"a": 2}]}), {}, None)
    assert sorted(p.name for p in folder.iterdir()) == ["main.csv", "mine.csv", "result.json"]
