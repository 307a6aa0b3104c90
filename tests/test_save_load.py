"""Saving and loading results (one .npz file, no pickle) and their concise reprs."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import zipfile

import numpy as np
import pytest

import lcnfast
from lcnfast import (Architecture, Classification, Invariants, Landscape, LandscapePoint, QuadraticLoss, SquaredLoss,
                     StratumCriticalPoints, Trajectory, TrainResult)
from lcnfast import _saving

ARCHITECTURES = [
    Architecture([2, 2]),
    Architecture([3, 2, 2], [1, 2, 1]),
    Architecture([4], d0=9),
    Architecture([2, 3], kind="circular", d0=6),
    Architecture([2, 2], [2, 1], kind="circular", d0=8),
    Architecture([(2, 2), (3, 1)]),
    Architecture([(2, 2), (3, 2)], [(1, 1), (2, 1)], d0=(9, 7)),
    Architecture([(2, 3), (2, 2)], [(2, 1), (1, 1)], kind="circular", d0=(4, 6)),
]


# -- an exact, strict comparison --------------------------------------------------------------
def assert_same(a, b, where="obj"):
    """Equal field for field with the same types: arrays with the same dtype, shape and bytes
    (NaN payloads and signed zeros included), floats with the same repr."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), f"{where}: values differ"
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, (float, complex)):
        assert repr(a) == repr(b), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            assert_same(key, next(k for k in b if k == key), f"{where} key {key!r}")
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            if f.name != "provenance":
                assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_the_comparison_is_strict():
    x = np.array([1.0, -0.0, np.nan])
    assert_same(x, x.copy())
    for other in (x.astype(np.float32), np.array([1.0, 0.0, np.nan]), x[:2], list(x)):
        with pytest.raises(AssertionError):
            assert_same(x, other)
    with pytest.raises(AssertionError):
        assert_same((1, 2), [1, 2])
    with pytest.raises(AssertionError):
        assert_same(1, 1.0)


# -- real objects -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def teacher():
    arch = Architecture([2, 2], d0=8)
    X, Y = lcnfast.teacher_data(arch, np.array([1.0, 0.4, 0.9]), 40, noise=0.3, seed=3)
    return arch, SquaredLoss.from_data(arch, X, Y)


@pytest.fixture(scope="module")
def gd_result(teacher):
    arch, loss = teacher
    return lcnfast.train(arch, loss, batch=300, steps=400, record_every=50, seed=2, polish=True)


@pytest.fixture(scope="module")
def stratum():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((4, 4))
    G = A @ A.T + 0.5 * np.eye(4)  # positive definite
    return lcnfast.stratum_critical_points((2, 1), G, rng.standard_normal(4))


@pytest.fixture(scope="module")
def landscape(teacher):
    arch, loss = teacher
    return lcnfast.critical_points(arch, loss)


# -- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=repr)
def test_architecture_round_trip(arch, tmp_path):
    data = arch.to_dict()
    assert json.loads(json.dumps(data)) == data  # JSON-ready
    assert Architecture.from_dict(json.loads(json.dumps(data))) == arch
    loaded = Architecture.load(arch.save(tmp_path / "arch.npz"))
    assert loaded == arch and repr(loaded) == repr(arch)
    assert (loaded.k, loaded.s, loaded.kind, loaded.d0, loaded.ndim) == (arch.k, arch.s, arch.kind, arch.d0, arch.ndim)
    assert loaded.filter_shape == arch.filter_shape and loaded.dilations == arch.dilations
    meta = _saving.read_metadata(tmp_path / "arch.npz")
    assert meta["format"] == "lcnfast.Architecture" and meta["format_version"] == 1
    assert meta["architecture"] == data and meta["provenance"]["lcnfast"] == lcnfast.__version__


def test_architecture_from_dict_refuses_bad_input():
    with pytest.raises(TypeError, match="data: expected a dict"):
        Architecture.from_dict([2, 2])
    with pytest.raises(ValueError, match="unknown keys"):
        Architecture.from_dict({"k": [2, 2], "stride": [1, 1]})
    with pytest.raises(ValueError, match="k are missing"):
        Architecture.from_dict({"s": [1, 1]})
    with pytest.raises(ValueError, match="d0"):
        Architecture.from_dict({"k": [2, 2], "kind": "circular"})


def test_train_result_round_trip(gd_result, tmp_path):
    result = gd_result
    assert result.trajectory is not None and result.invariants.predicted_drift is not None
    assert result.provenance is None
    path = result.save(tmp_path / "train.npz")
    assert path == tmp_path / "train.npz"
    loaded = TrainResult.load(path)
    assert_same(result, loaded)
    assert loaded.status.dtype.kind == "U" and loaded.steps.dtype == np.int64 and loaded.polished.dtype == bool
    assert isinstance(loaded.invariants, Invariants) and isinstance(loaded.trajectory, Trajectory)
    assert loaded.provenance is not None and loaded.provenance["lcnfast"] == lcnfast.__version__
    # the arrays are plain entries of the archive, readable without lcnfast
    with np.load(path, allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["theta"], result.theta)
        np.testing.assert_array_equal(archive["trajectory.v"], result.trajectory.v)
        meta = json.loads(str(archive["__lcnfast__"]))
    assert meta["format"] == "lcnfast.TrainResult" and meta["architecture"] == result.arch.to_dict()
    assert meta["fields"]["method"] == "gd" and meta["fields"]["tol"] == result.tol


def test_a_loaded_result_keeps_its_provenance_when_saved_again(gd_result, tmp_path):
    loaded = TrainResult.load(gd_result.save(tmp_path / "first.npz"))
    first = dict(loaded.provenance)
    first["time"] = "2000-01-01T00:00:00+00:00"  # as if saved long ago
    old = dataclasses.replace(loaded, provenance=first)
    again = TrainResult.load(old.save(tmp_path / "second.npz"))
    assert again.provenance == first


def test_flow_result_without_trajectory_round_trip(teacher, tmp_path):
    arch, loss = teacher
    result = lcnfast.train(arch, loss, batch=5, steps=50, method="flow", seed=1)
    assert result.trajectory is None and result.invariants.predicted_drift is None
    loaded = TrainResult.load(str(result.save(str(tmp_path / "flow.npz"))))
    assert loaded.trajectory is None and loaded.invariants.predicted_drift is None
    assert_same(result, loaded)


@pytest.mark.parametrize("arch", [Architecture([3, 2, 2], [1, 2, 1], d0=20),
                                  Architecture([2, 3], kind="circular", d0=6),
                                  Architecture([(2, 2), (2, 1)], d0=(5, 5))], ids=repr)
def test_train_result_of_other_architectures_round_trip(arch, tmp_path):
    rng = np.random.default_rng(0)
    X, Y = lcnfast.teacher_data(arch, rng.standard_normal(arch.filter_shape), 30, noise=0.2, seed=1)
    result = lcnfast.train(arch, SquaredLoss.from_data(arch, X, Y), batch=7, steps=60, record_every=20, seed=3)
    loaded = TrainResult.load(result.save(tmp_path / "r.npz"))
    assert_same(result, loaded)
    assert loaded.arch == arch and loaded.v.shape == (7,) + arch.filter_shape


def test_stratum_round_trip(stratum, tmp_path):
    assert stratum.n_complex > 0 and stratum.v.dtype == np.complex128
    loaded = StratumCriticalPoints.load(stratum.save(tmp_path / "stratum.npz"))
    assert_same(stratum, loaded)
    assert loaded.partition == (2, 1) and type(loaded.partition) is tuple
    assert loaded.n_complex == stratum.n_complex and loaded.n_real == stratum.n_real
    np.testing.assert_array_equal(loaded.real_root_counts(), stratum.real_root_counts())
    assert loaded.provenance is not None and stratum.provenance is None


def test_stratum_with_roots_at_infinity_and_nan_round_trip(stratum, tmp_path):
    """Non-finite values and -0.0 come back bit for bit (JSON scalars and arrays alike)."""
    odd = dataclasses.replace(stratum, roots=np.where(np.arange(stratum.roots.size).reshape(stratum.roots.shape) == 0,
                                                      complex(np.inf), stratum.roots),
                              loss=np.concatenate(([np.nan, -0.0], stratum.loss[2:])),
                              path_counts={**stratum.path_counts, "extra": -1})
    assert_same(odd, StratumCriticalPoints.load(odd.save(tmp_path / "odd.npz")))


def test_landscape_round_trip(landscape, tmp_path):
    assert len(landscape.points) >= 2
    loaded = Landscape.load(landscape.save(tmp_path / "landscape.npz"))
    assert_same(landscape, loaded)
    assert all(type(p) is LandscapePoint for p in loaded.points)
    assert loaded.counts == landscape.counts and all(type(row["partition"]) is tuple for row in loaded.counts)
    assert loaded.complete == landscape.complete and loaded.provenance is not None


def test_nested_classifications_and_python_scalars_round_trip(landscape, tmp_path):
    """The generic writer keeps Classification objects (complex roots, tuples of layers),
    numpy scalars and Python scalars with their types."""
    arch = Architecture([2, 2], d0=8)
    point = landscape.points[0]
    c = lcnfast.classify(arch, QuadraticLoss(np.eye(3), point.v), point.lifts[0], tol=1e-4)
    c = dataclasses.replace(c, shared_roots=[(complex(-0.0, np.inf), (0, 1)), (1.5 - 2j, (1,))])
    weird = dataclasses.replace(landscape, counts=[{"partition": (2,), "x": np.float32(1.5), "y": np.int64(3),
                                                   "z": True, "c": c, "n": None, 4: "int key"}])
    path = _saving.save_dataclass(weird, tmp_path / "weird.npz", (LandscapePoint, Classification))
    loaded = _saving.load_dataclass(Landscape, path, (LandscapePoint, Classification))
    assert_same(weird, loaded)
    assert type(loaded.counts[0]["c"]) is Classification
    with pytest.raises(ValueError, match="unexpected object 'Classification'"):
        Landscape.load(path)  # only the classes a loader names are ever built


# -- refusals ---------------------------------------------------------------------------------
def _rewrite(path, change):
    """Rewrite a saved file with its metadata changed by ``change(meta)``."""
    with np.load(path, allow_pickle=False) as archive:
        entries = {key: archive[key] for key in archive.files}
    meta = json.loads(str(entries["__lcnfast__"]))
    change(meta)
    entries["__lcnfast__"] = np.array(json.dumps(meta))
    np.savez(path, **entries)


def test_load_refuses_another_class(gd_result, stratum, tmp_path):
    train_path = gd_result.save(tmp_path / "train.npz")
    with pytest.raises(ValueError, match=r"train\.npz: holds a TrainResult, not a StratumCriticalPoints"):
        StratumCriticalPoints.load(train_path)
    with pytest.raises(ValueError, match=r"holds a TrainResult, not a Landscape"):
        Landscape.load(train_path)
    with pytest.raises(ValueError, match=r"holds a TrainResult, not a Architecture"):
        Architecture.load(train_path)
    with pytest.raises(ValueError, match=r"stratum\.npz: holds a StratumCriticalPoints, not a TrainResult"):
        TrainResult.load(stratum.save(tmp_path / "stratum.npz"))


def test_load_refuses_a_newer_format_version(stratum, tmp_path):
    path = stratum.save(tmp_path / "future.npz")
    _rewrite(path, lambda meta: meta.update(format_version=999))
    with pytest.raises(ValueError, match=r"future\.npz: .*format version 999; this lcnfast reads format version 1"):
        StratumCriticalPoints.load(path)
    assert _saving.read_metadata(path)["format_version"] == 999  # still inspectable


@pytest.mark.parametrize("content", ["text", "npy", "plain-npz", "bad-json", "not-lcnfast-json", "empty", "zip"])
def test_load_refuses_files_that_are_not_lcnfast_files(content, tmp_path):
    path = tmp_path / "file.npz"
    if content == "text":
        path.write_text("theta = [1, 2, 3]\n")
    elif content == "npy":
        with open(path, "wb") as handle:
            np.save(handle, np.arange(3))
    elif content == "plain-npz":
        np.savez(path, theta=np.arange(3))
    elif content == "bad-json":
        np.savez(path, __lcnfast__=np.array("{not json"))
    elif content == "not-lcnfast-json":
        np.savez(path, __lcnfast__=np.array(json.dumps({"format": "numpy.Thing", "format_version": 1})))
    elif content == "empty":
        path.write_bytes(b"")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    for cls in (TrainResult, StratumCriticalPoints, Landscape, Architecture):
        with pytest.raises(ValueError, match=r"file\.npz: not an lcnfast file"):
            cls.load(path)


def test_load_refuses_damaged_files_and_never_unpickles(stratum, tmp_path):
    path = stratum.save(tmp_path / "s.npz")
    with np.load(path, allow_pickle=False) as archive:
        entries = {key: archive[key] for key in archive.files}
    np.savez(tmp_path / "missing.npz", **{k: v for k, v in entries.items() if k != "v"})
    with pytest.raises(ValueError, match=r"missing\.npz: not a valid lcnfast file: the array 'v' is missing"):
        StratumCriticalPoints.load(tmp_path / "missing.npz")
    # an object array (stored with pickle by numpy) is refused, never unpickled
    np.savez(tmp_path / "pickled.npz", **{**entries, "v": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match=r"pickled\.npz: not a valid lcnfast file"):
        StratumCriticalPoints.load(tmp_path / "pickled.npz")
    for change, message in [(lambda m: m["fields"].pop("paths"), r"missing fields \['paths'\]"),
                            (lambda m: m["fields"].update(extra=1), r"unknown fields \['extra'\]"),
                            (lambda m: m["fields"].update(paths={"$object": "os.system"}), "unexpected object")]:
        bad = tmp_path / "bad.npz"
        np.savez(bad, **entries)
        _rewrite(bad, change)
        with pytest.raises(ValueError, match=message):
            StratumCriticalPoints.load(bad)


def test_save_refuses_what_it_cannot_write_without_pickle(stratum, tmp_path):
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike"):
        stratum.save(b"s.npz")
    with pytest.raises(TypeError, match="an array of Python objects cannot be saved"):
        dataclasses.replace(stratum, v=np.array([None], dtype=object)).save(tmp_path / "o.npz")
    with pytest.raises(TypeError, match="cannot save a set"):
        dataclasses.replace(stratum, path_counts={1, 2}).save(tmp_path / "o.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        stratum.save(tmp_path / "no" / "such" / "folder.npz")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


# -- files: names, atomicity, links, permissions ---------------------------------------------
def test_save_writes_exactly_the_given_name(stratum, tmp_path):
    path = stratum.save(tmp_path / "result.data")  # no .npz added
    assert path == tmp_path / "result.data" and sorted(p.name for p in tmp_path.iterdir()) == ["result.data"]
    assert_same(stratum, StratumCriticalPoints.load(path))


def test_save_replaces_an_existing_file_atomically(stratum, gd_result, tmp_path, monkeypatch):
    path = stratum.save(tmp_path / "r.npz")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        gd_result.save(path)
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.npz"]  # and the temporary file is gone
    monkeypatch.undo()
    TrainResult.load(gd_result.save(path))


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_save_replaces_a_symbolic_link_instead_of_writing_through_it(stratum, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "result.npz"
    link.symlink_to(victim)
    stratum.save(link)
    assert victim.read_text() == "precious"  # the link's target is untouched
    assert not link.is_symlink() and link.is_file()
    assert_same(stratum, StratumCriticalPoints.load(link))


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_save_never_writes_through_a_planted_temporary_name(stratum, tmp_path, monkeypatch):
    """Whatever name the temporary file gets, a link already there is not followed: plant
    links at the names mkstemp will try first."""
    import tempfile

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    names = iter(["planted", "planted", "fresh"])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: names)
    (tmp_path / ".r.npz.planted.tmp").symlink_to(victim)
    path = stratum.save(tmp_path / "r.npz")
    assert victim.read_text() == "precious"
    assert (tmp_path / ".r.npz.planted.tmp").is_symlink()
    assert_same(stratum, StratumCriticalPoints.load(path))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saved_files_get_the_permissions_of_a_new_file(stratum, tmp_path):
    mask = os.umask(0o027)
    try:
        path = stratum.save(tmp_path / "r.npz")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o640


# -- reprs ------------------------------------------------------------------------------------
def _check_repr(obj, *expected):
    text = repr(obj)
    assert len(text) < 400, text
    assert text.count("\n") <= 2 and "array(" not in text, text
    for piece in expected:
        assert piece in text, f"{piece!r} not in {text!r}"
    return text


def test_reprs_show_counts_and_shapes_not_data(gd_result, stratum, landscape):
    counts = gd_result.counts()
    _check_repr(gd_result, "runs=300", f"converged={counts['converged']}", f"max_steps={counts['max_steps']}",
                f"diverged={counts['diverged']}", f"steps<={gd_result.steps.max()}", "records=9",
                repr(gd_result.arch))
    _check_repr(gd_result.invariants, "shape=(300, 1)", "predicted_drift=(300, 1)")
    _check_repr(gd_result.trajectory, "runs=300", "records=9", "v=(300, 9, 3)")
    _check_repr(stratum, "partition=(2, 1)", f"complex={stratum.n_complex}", f"real={stratum.n_real}")
    verdicts = [p.verdict for p in landscape.points]
    text = _check_repr(landscape, f"points={len(landscape.points)}", f"strata={len(landscape.counts)}")
    for verdict in set(verdicts):
        assert f"{verdict} {verdicts.count(verdict)}" in text
    point = landscape.points[0]
    _check_repr(point, f"lifts={len(point.lifts)}", f"verdict={point.verdict!r}", "v=(3,)")
    arch = Architecture([2, 2], d0=8)
    c = lcnfast.classify(arch, QuadraticLoss(np.eye(3), [1.0, 0.5, 1.0]), point.lifts[0])
    _check_repr(c, f"index={c.index}", "hessian=(4, 4)", f"verdict={c.verdict!r}")
    assert math.isfinite(point.loss)


def test_reprs_of_a_large_result_stay_short(teacher):
    arch, loss = teacher
    result = lcnfast.train(arch, loss, batch=5000, steps=3, record_every=1, seed=0)
    for obj in (result, result.invariants, result.trajectory):
        _check_repr(obj)
    assert "runs=5000" in repr(result)
