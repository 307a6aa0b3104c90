"""Saving and loading lcnfast objects: one ``.npz`` file, no pickle.

A saved file is an ordinary numpy ``.npz`` archive. Every array of the object is one entry,
named after where it lives (``theta``, ``invariants.initial``, ``points.0.lifts.1``), so
``numpy.load`` reads it without lcnfast. One more entry, ``__lcnfast__``, is a JSON string:

* ``format``: ``"lcnfast.<ClassName>"``, and ``format_version`` (:data:`FORMAT_VERSION`);
* ``architecture``: the object's :class:`~lcnfast.Architecture` as
  :meth:`~lcnfast.Architecture.to_dict` gives it (k, s, kind, d0), or null;
* ``fields``: every field of the object, with the scalars, strings, tuples, lists, dicts and
  nested objects written out and each array replaced by a reference ``{"$array": name}``;
* ``provenance``: :func:`lcnfast.provenance` (versions, machine, command, time).

Loading uses ``allow_pickle=False`` and builds only the classes the caller names, so a file
cannot make lcnfast run code. Tagged JSON values (``{"$tuple": [...]}``, ``{"$complex": [re,
im]}``, ...) keep the Python types, and ``.npy`` entries keep the arrays' dtypes and bits, so
an object comes back equal field for field.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar, Union

import numpy as np
from numpy.typing import NDArray

__all__ = ["FORMAT_VERSION", "load_dataclass", "load_file", "read_metadata", "save_dataclass", "save_file",
           "write_atomically"]

#: Version of the file layout written by this lcnfast; files of a newer version are refused.
FORMAT_VERSION = 1
#: Name of the ``.npz`` entry that holds the JSON metadata.
META_KEY = "__lcnfast__"
#: Name of the dataclass field that carries a loaded object's provenance (never saved as a field).
PROVENANCE_FIELD = "provenance"

PathLike = Union[str, "os.PathLike[str]"]
T = TypeVar("T")

_TAGS = ("$array", "$scalar", "$complex", "$tuple", "$dict", "$architecture", "$object")

#: classes saved as their own dictionary form, by tag (``$tag``): filled by
#: :func:`saved_by_dict` in the classes' modules, so that this module imports none of them
_BY_DICT: dict[str, Any] = {}

_C = TypeVar("_C")


def saved_by_dict(tag: str) -> Callable[[_C], _C]:
    """Class decorator: instances are saved as ``{"$tag": obj.to_dict()}`` and loaded with
    ``cls.from_dict(...)`` (the class's own validated round trip)."""
    if f"${tag}" not in _TAGS:
        raise ValueError(f"tag: ${tag} is not a tag of the file format")

    def register(cls: _C) -> _C:
        _BY_DICT[tag] = cls
        return cls
    return register


def _as_path(path: Any) -> Path:
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    return Path(os.fspath(path))


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (``os.umask`` sets
    it, which races with other threads creating files)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file atomically: ``write(handle)`` fills a new temporary file in the same folder,
    which then replaces ``path``.

    The temporary file is made by ``tempfile.mkstemp`` (created exclusively: never through an
    existing name or a symbolic link someone planted there), gets the permissions a new file
    would get (``0o666`` less the umask), and is renamed over ``path`` by ``os.replace``, so
    a symbolic link at ``path`` is replaced rather than followed and an interrupted write
    never leaves half a file.

    Parameters
    ----------
    path : str or os.PathLike
        The destination; its folder must exist.
    write : callable
        Called once with the open binary file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> target = write_atomically(pathlib.Path(folder) / "hello.bin", lambda f: f.write(b"hi"))
    >>> target.read_bytes()
    b'hi'
    """
    target = _as_path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{target}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with contextlib.suppress(OSError, AttributeError):  # no fchmod on Windows
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


# -- encoding ---------------------------------------------------------------------------------
class _Encoder:
    """Turns a value into JSON, collecting its arrays under path-like names."""

    def __init__(self, types: Iterable[type]) -> None:
        self.arrays: dict[str, NDArray[Any]] = {}
        self.types = {cls.__name__: cls for cls in types}

    def _store(self, value: NDArray[Any], where: str) -> str:
        if value.dtype.hasobject:
            raise TypeError(f"{where}: an array of Python objects cannot be saved without pickle")
        if where in self.arrays or where == META_KEY:  # field names are identifiers: cannot happen
            raise ValueError(f"{where}: two arrays would share one name in the file")
        self.arrays[where] = value
        return where

    def encode(self, value: Any, where: str) -> Any:
        if isinstance(value, np.ndarray):
            return {"$array": self._store(value, where)}
        if isinstance(value, np.generic):  # before float: np.float64 is a float
            return {"$scalar": self._store(np.asarray(value), where)}
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is complex:
            return {"$complex": [value.real, value.imag]}
        if type(value) is tuple:
            return {"$tuple": [self.encode(x, f"{where}.{i}") for i, x in enumerate(value)]}
        if type(value) is list:
            return [self.encode(x, f"{where}.{i}") for i, x in enumerate(value)]
        if type(value) is dict:
            return {"$dict": [[self.encode(k, f"{where}.{i}.key"), self.encode(v, f"{where}.{i}")]
                              for i, (k, v) in enumerate(value.items())]}
        for tag, cls in _BY_DICT.items():
            if isinstance(value, cls):
                return {f"${tag}": value.to_dict()}
        if dataclasses.is_dataclass(value) and self.types.get(type(value).__name__) is type(value):
            return {"$object": type(value).__name__, "fields": self.fields(value, where)}
        raise TypeError(f"{where}: cannot save a {type(value).__name__}")

    def fields(self, obj: Any, where: str = "") -> dict[str, Any]:
        prefix = f"{where}." if where else ""
        return {f.name: self.encode(getattr(obj, f.name), prefix + f.name)
                for f in dataclasses.fields(obj) if f.name != PROVENANCE_FIELD}


class _Decoder:
    """The inverse of :class:`_Encoder`, reading arrays from an open ``.npz``."""

    def __init__(self, path: Path, archive: Mapping[str, NDArray[Any]], types: Iterable[type]) -> None:
        self.path = path
        self.archive = archive
        self.types = {cls.__name__: cls for cls in types}

    def fail(self, why: str) -> ValueError:
        return ValueError(f"{self.path}: not a valid lcnfast file: {why}")

    def array(self, key: Any) -> NDArray[Any]:
        if not isinstance(key, str) or key == META_KEY or key not in self.archive:
            raise self.fail(f"the array {key!r} is missing")
        return self.archive[key]

    def decode(self, value: Any) -> Any:
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is list:
            return [self.decode(x) for x in value]
        if type(value) is not dict or len(value) not in (1, 2) or not any(tag in value for tag in _TAGS):
            raise self.fail(f"unexpected value {str(value)[:80]}")
        if "$array" in value:
            return self.array(value["$array"])
        if "$scalar" in value:
            scalar = self.array(value["$scalar"])
            if scalar.ndim != 0:
                raise self.fail(f"the scalar {value['$scalar']!r} is not 0-dimensional")
            return scalar[()]
        if "$complex" in value:
            parts = value["$complex"]
            if not (isinstance(parts, list) and len(parts) == 2 and all(type(x) is float for x in parts)):
                raise self.fail(f"bad complex number {parts!r}")
            return complex(parts[0], parts[1])
        if "$tuple" in value:
            return tuple(self.decode(x) for x in self._list(value["$tuple"]))
        if "$dict" in value:
            items = self._list(value["$dict"])
            if not all(isinstance(item, list) and len(item) == 2 for item in items):
                raise self.fail("bad dict entries")
            try:
                return {self.decode(k): self.decode(v) for k, v in items}
            except TypeError as exc:  # a key that is not hashable
                raise self.fail(f"bad dict key: {exc}") from None
        for tag, cls in _BY_DICT.items():
            if f"${tag}" in value:
                try:
                    return cls.from_dict(value[f"${tag}"])
                except (TypeError, ValueError) as exc:
                    raise self.fail(f"bad {tag}: {exc}") from exc
        name = value.get("$object")
        cls = self.types.get(name) if isinstance(name, str) else None
        if cls is None:
            raise self.fail(f"unexpected object {name!r} (expected one of {', '.join(self.types)})")
        return self.build(cls, value.get("fields"))

    def _list(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(f"expected a list, got {str(value)[:80]}")
        return value

    def build(self, cls: type[T], fields: Any, provenance: Any = None) -> T:
        if not isinstance(fields, dict):
            raise self.fail(f"the fields of {cls.__name__} are missing")
        declared = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        names = declared - {PROVENANCE_FIELD}
        # a field added later with a default may be absent from an older file
        optional = {f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                    if f.init and (f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)}
        if not (names - optional <= set(fields) <= names):
            missing, unknown = sorted(names - optional - set(fields)), sorted(set(fields) - names)
            raise self.fail(f"{cls.__name__}: missing fields {missing}, unknown fields {unknown}")
        kwargs = {name: self.decode(value) for name, value in fields.items()}
        if PROVENANCE_FIELD in declared and isinstance(provenance, dict):
            kwargs[PROVENANCE_FIELD] = provenance
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"{cls.__name__}: {exc}") from exc


# -- files ------------------------------------------------------------------------------------
def save_file(path: PathLike, name: str, fields: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]], *,
              architecture: Any = None, provenance: Mapping[str, Any] | None = None) -> Path:
    """Write one lcnfast ``.npz`` file (the low-level writer behind every ``save``).

    Parameters
    ----------
    path : str or os.PathLike
        Written atomically (:func:`write_atomically`), exactly at this name (no suffix added).
    name : str
        The class, recorded as ``"format": "lcnfast.<name>"``.
    fields : mapping
        JSON-ready encoded fields.
    arrays : mapping of str to ndarray
        The ``.npz`` entries the fields refer to.
    architecture : Architecture, optional
        Recorded in the metadata as :meth:`~lcnfast.Architecture.to_dict`.
    provenance : mapping, optional
        Default: :func:`lcnfast.provenance` now.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "numbers.npz"
    >>> _ = save_file(target, "Numbers", {"x": {"$array": "x"}}, {"x": np.arange(3)})
    >>> read_metadata(target)["format"]
    'lcnfast.Numbers'
    >>> load_file(target, "Numbers")[0]["x"]
    array([0, 1, 2])
    """
    from .provenance import provenance as current_provenance

    target = _as_path(path)
    meta = {
        "format": f"lcnfast.{name}",
        "format_version": FORMAT_VERSION,
        "architecture": None if architecture is None else architecture.to_dict(),
        "fields": dict(fields),
        "provenance": dict(current_provenance() if provenance is None else provenance),
    }
    text = json.dumps(meta, allow_nan=True)
    if META_KEY in arrays:
        raise ValueError(f"arrays: {META_KEY!r} is reserved for the metadata")
    entries: dict[str, Any] = {META_KEY: np.array(text), **arrays}
    return write_atomically(target, lambda handle: np.savez(handle, **entries))


def _open(path: Path) -> Any:
    """``numpy.load`` of an lcnfast file, or ``ValueError`` naming ``path`` if it is not one."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile, UnicodeError) as exc:
        raise ValueError(f"{path}: not an lcnfast file (not a numpy .npz archive: {exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an lcnfast file (a single numpy array, not an .npz archive)")
    if META_KEY not in archive.files:
        archive.close()
        raise ValueError(f"{path}: not an lcnfast file (a numpy .npz archive without the {META_KEY!r} entry)")
    return archive


def _metadata(path: Path, archive: Any) -> dict[str, Any]:
    try:
        entry = archive[META_KEY]
        meta = json.loads(str(entry[()])) if entry.ndim == 0 and entry.dtype.kind == "U" else None
    except (ValueError, OSError, zipfile.BadZipFile, RecursionError) as exc:
        raise ValueError(f"{path}: not an lcnfast file (unreadable {META_KEY!r} entry: {exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), str) \
            or not meta["format"].startswith("lcnfast.") or type(meta.get("format_version")) is not int:
        raise ValueError(f"{path}: not an lcnfast file (its {META_KEY!r} entry has no lcnfast format and version)")
    return meta


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The metadata of a saved lcnfast file, whatever class it holds, without its arrays.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by an lcnfast ``save``.

    Returns
    -------
    dict
        ``format`` (``"lcnfast.<ClassName>"``), ``format_version``, ``architecture`` (a dict
        or None), ``fields`` (encoded) and ``provenance``.

    Raises
    ------
    ValueError
        ``path`` is not an lcnfast file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from lcnfast import Architecture
    >>> target = Architecture([2, 2]).save(pathlib.Path(tempfile.mkdtemp()) / "arch.npz")
    >>> meta = read_metadata(target)
    >>> meta["format"], meta["format_version"], meta["architecture"]["k"]
    ('lcnfast.Architecture', 1, [2, 2])
    """
    target = _as_path(path)
    with _open(target) as archive:
        return _metadata(target, archive)


def load_file(path: PathLike, name: str, types: Iterable[type] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read an lcnfast file that must hold a ``name``: its decoded fields and its metadata.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_file`.
    name : str
        The class the file must hold.
    types : iterable of type
        The dataclasses nested objects may be (nothing else is ever built).

    Returns
    -------
    fields, metadata : dict
        Arrays are read into memory (the file is closed on return).

    Raises
    ------
    ValueError
        Naming ``path``: not an lcnfast file, a file of another class, or of a format version
        this lcnfast does not read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "pair.npz"
    >>> _ = save_file(target, "Pair", {"p": {"$tuple": [1, 2.5]}}, {})
    >>> load_file(target, "Pair")[0]
    {'p': (1, 2.5)}
    >>> load_file(target, "Other")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...pair.npz: holds a Pair, not a Other
    """
    fields, meta, _ = _load(path, name, types, None)
    return fields, meta


def _check_format(path: Path, meta: dict[str, Any], name: str) -> None:
    found = meta["format"].removeprefix("lcnfast.")
    if found != name:
        raise ValueError(f"{path}: holds a {found}, not a {name}")
    version = meta["format_version"]
    if version != FORMAT_VERSION:
        newer = "a newer lcnfast wrote it: upgrade lcnfast" if version > FORMAT_VERSION else "unknown version"
        raise ValueError(f"{path}: lcnfast.{name} file of format version {version}; this lcnfast reads format "
                         f"version {FORMAT_VERSION} only ({newer})")


def _load(path: PathLike, name: str, types: Iterable[type], cls: type[T] | None
          ) -> tuple[dict[str, Any], dict[str, Any], T | None]:
    target = _as_path(path)
    with _open(target) as archive:
        meta = _metadata(target, archive)
        _check_format(target, meta, name)
        try:
            decoder = _Decoder(target, {key: archive[key] for key in archive.files if key != META_KEY}, types)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"{target}: not a valid lcnfast file: unreadable array ({exc})") from None
        provenance = meta.get("provenance")
        try:
            if cls is not None:
                return {}, meta, decoder.build(cls, meta.get("fields"), provenance)
            fields = meta.get("fields")
            if not isinstance(fields, dict):
                raise decoder.fail("the fields are missing")
            return {key: decoder.decode(value) for key, value in fields.items()}, meta, None
        except RecursionError:
            raise decoder.fail("its fields are nested too deeply") from None


def save_dataclass(obj: Any, path: PathLike, types: Iterable[type] = ()) -> Path:
    """Save a dataclass result (``TrainResult``, ``Landscape``, ...): every field except
    ``provenance``; nested objects must be of ``types``. The provenance recorded is the
    object's own (a loaded object keeps where it came from) or, if it has none, the current
    one. The first :class:`~lcnfast.Architecture` field is also recorded as ``architecture``."""
    from .architecture import Architecture

    encoder = _Encoder([type(obj), *types])
    fields = encoder.fields(obj)
    arch = next((getattr(obj, f.name) for f in dataclasses.fields(obj)
                 if isinstance(getattr(obj, f.name), Architecture)), None)
    return save_file(path, type(obj).__name__, fields, encoder.arrays, architecture=arch,
                     provenance=getattr(obj, PROVENANCE_FIELD, None))


def load_dataclass(cls: type[T], path: PathLike, types: Iterable[type] = ()) -> T:
    """Load what :func:`save_dataclass` wrote: a ``cls``, with its ``provenance`` field set
    from the file (if it has one)."""
    _, _, obj = _load(path, cls.__name__, [cls, *types], cls)
    assert obj is not None
    return obj
