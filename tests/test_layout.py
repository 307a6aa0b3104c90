"""The package's layout rules (docs/architecture.md), checked on the source.

* No module imports another module's private names (``from .roots import _x``): what
  modules share is a named, documented interface; private modules (``_core``,
  ``_validation``, ``_progress``, ``_saving``, ``_newton``) hold the internal layer under
  public names.
* Every public module says what it exports (``__all__``) and exports only names it defines
  or re-exports on purpose.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import lcnfast

PACKAGE = Path(lcnfast.__file__).resolve().parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of a (possibly relative) ``from X import ...``."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def test_the_layout_test_sees_the_package():
    assert len(MODULES) >= 20 and any(p.name == "roots.py" for p in MODULES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_are_imported_across_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offending = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _resolve(path, node)
        if not source.startswith("lcnfast"):
            continue
        for alias in node.names:
            name = alias.name
            if not name.startswith("_") or name.startswith("__"):
                continue
            if _is_module(f"{source}.{name}"):  # a private module (the internal layer) is fine
                continue
            offending.append(f"line {node.lineno}: from {source} import {name}")
    assert not offending, f"{path.name} imports private names of other modules: {offending}"


def test_the_rule_catches_a_private_import(tmp_path):
    """The check above fails on a module written the forbidden way (it can fail)."""
    fake = PACKAGE / "geometry.py"
    tree = ast.parse("from .roots import _secret\nfrom . import _saving\n")
    found = [(_resolve(fake, n), a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert found == [("lcnfast.roots", "_secret"), ("lcnfast", "_saving")]
    assert not _is_module("lcnfast.roots._secret") and _is_module("lcnfast._saving")


@pytest.mark.parametrize("path", [p for p in MODULES if not p.name.startswith("_") or p.name == "__init__.py"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_public_modules_declare_what_they_export(path):
    if path.name == "__main__.py":
        return
    module = importlib.import_module(_module_name(path))
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{path.name} has no __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{path.name}: __all__ names {missing} that it does not define"


def _private_attributes_of_others(path: Path) -> list[str]:
    """``obj._name`` where ``obj`` is not ``self``/``cls`` or a module of lcnfast: another
    object's private state read from outside its class (``Architecture._plan`` was)."""
    allowed_bases = {"self", "cls", "other", "loss", "handler"}  # own class's objects; our attribute on a handler
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if isinstance(base, ast.Name) and (base.id in allowed_bases or base.id.startswith("_")
                                               or _is_module(f"lcnfast.{node.attr}")):
                continue
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_state_of_other_objects_is_read(path):
    assert not _private_attributes_of_others(path), _private_attributes_of_others(path)


def test_the_attribute_rule_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(arch):\n    return arch._plan\n")
    assert _private_attributes_of_others(bad) == ["line 2: arch._plan"]


#: The API rooms, bottom to top (docs/architecture.md): a room imports only rooms before it
#: and the internal modules (``_core``, ``_validation``, ``_progress``, ``_saving``, ``_newton``).
ROOMS = ["architecture", "parameterisation", "matrices", "losses", "roots", "factorization", "training", "strata",
         "strided", "geometry", "critical", "provenance", "torch_interop"]
INTERNAL = {"_core", "_validation", "_progress", "_saving", "_newton", "_homotopy"}


def _lcnfast_imports(path: Path) -> set[str]:
    """The lcnfast modules a module imports (top-level and inside functions), by short name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, node)
            if source == "lcnfast":
                found |= {a.name for a in node.names}
            elif source.startswith("lcnfast."):
                found.add(source.split(".")[1])
    return found


@pytest.mark.parametrize("room", ROOMS)
def test_dependencies_point_down(room):
    below = set(ROOMS[:ROOMS.index(room)]) | INTERNAL
    imported = _lcnfast_imports(PACKAGE / f"{room}.py") - {room}
    assert imported <= below, f"{room}.py imports {sorted(imported - below)}, which are not below it"


def test_the_internal_layer_reaches_only_the_rooms_it_must():
    """The internal layer may reach the rooms only where it must (``_saving`` builds
    ``Architecture`` objects and reads the provenance; ``_newton`` evaluates the loss)."""
    allowed = {"_saving": {"architecture", "provenance", "_core"}, "_newton": {"architecture", "losses",
                                                                                "parameterisation", "_core"},
               "_validation": {"_core"}, "_progress": set()}
    for name, ok in allowed.items():
        assert _lcnfast_imports(PACKAGE / f"{name}.py") <= ok | {name}, name


@pytest.mark.parametrize("path", sorted((PACKAGE / "_homotopy").glob("*.py")), ids=lambda p: p.name)
def test_the_engine_knows_no_family_and_no_room(path):
    """The critical-point engine (``_homotopy``) is written once for every family: it imports
    the compiled core and the file writer, never a room (a family lives in its room and
    plugs in through the contract of ``_homotopy.family``)."""
    assert _lcnfast_imports(path) <= {"_core", "_saving", "_homotopy"}, path.name
