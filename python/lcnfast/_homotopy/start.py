"""Start systems: found once per family by monodromy, proven complete by the trace test, cached.

Once per family, the solutions at random complex parameters ``q0`` are found by monodromy
(a seed solution is made by choosing ``w`` for a random point, as the equations are linear
in ``w``; then loops through random parameters permute the solutions and reveal new ones
until the set stops growing): the *generic count* of the family. The set is then checked by
the trace test of Leykin, Rodriguez and Sottile (:func:`trace_test`); monodromy goes on while
the test fails. Start systems are kept in memory (:func:`family_for`) and in a cache folder
(:func:`start_system_cache`), validated when read back (a digest of the arrays, the count).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from .. import _core, _saving
from .family import TRACE_TOLERANCE, Family, PathKind, distinct_rows, random_parameters

__all__ = ["CACHE_FORMAT", "FAMILIES", "cache_file", "family_for", "family_rng", "fingerprint", "forget_start_systems", "load_start_system", "monodromy", "save_start_system", "start_system_cache", "trace_test", "warn_unverified", "weights_family", "WEIGHTS_FAMILIES"]

_log = logging.getLogger("lcnfast.strata")

MONODROMY_STABLE_LOOPS = 5
MONODROMY_MAX_LOOPS = 200
TRACE_ROUNDS = 4  # monodromy rounds (each until the set stops growing) before giving up
CACHE_FORMAT = 3  # version of the cached start systems (3: with a digest of the arrays)


def distinct_new(known: NDArray[np.complex128], candidates: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Rows of candidates (affine) that are not in known nor repeated among themselves."""
    out = known
    for c in candidates:
        if out.shape[0] == 0 or np.min(np.linalg.norm(out - c, axis=1)) > 1e-6 * (1.0 + np.linalg.norm(c)):
            out = np.vstack([out, c[None, :]])
    return out[known.shape[0]:]


def family_rng(family: Family) -> np.random.Generator:
    """The generator of a family's start system: fixed by the family, so the start system
    (and every result) does not depend on when or where it was computed."""
    return np.random.default_rng(zlib.crc32(family.seed_text.encode()))


def monodromy(family: Family, threads: int, weights: NDArray[np.complex128] | None = None) -> None:
    """Fills the family's start system: a seed solution at parameters built for it, then
    monodromy loops until the solution set has not grown for several loops, checked by the
    trace test; while the test fails, more loops (at most ``TRACE_ROUNDS`` rounds).

    With ``weights`` (a K x K symmetric ``Gc``), the start system is for those weights: the
    loops move ``w`` only, and the count is the number of critical points for those weights
    and generic ``w`` (the trace test moves ``w`` only in any case)."""
    rng = family_rng(family)
    K, n = family.K, family.n
    family.patch = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
    e_star = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    _, G0 = random_parameters(rng, K)
    if weights is not None:
        G0 = np.asarray(weights, dtype=complex)

    def loop_parameters() -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
        w, G = random_parameters(rng, K)
        return (w, G) if weights is None else (w, G0)
    p, P = family.numeric_jets(e_star)
    g = G0 @ p
    b = p @ g
    bk = 2.0 * (P.T @ g)
    M = P.T * b - 0.5 * np.outer(bk, p)  # row j: the coefficients of w in F_j (F is linear in w)
    _, _, vh = np.linalg.svd(M)
    null = vh[n:].conj().T
    w0 = null @ (rng.standard_normal(null.shape[1]) + 1j * rng.standard_normal(null.shape[1]))
    family.w0, family.G0 = w0, G0
    q0 = (w0, G0)
    known = e_star[None, :]
    loops = 0
    for round_ in range(TRACE_ROUNDS):
        quiet = 0
        while quiet < MONODROMY_STABLE_LOOPS * (round_ + 1) and loops < MONODROMY_MAX_LOOPS * (round_ + 1):
            loops += 1
            qa, qb = loop_parameters(), loop_parameters()
            z = np.array([family.on_patch(e) for e in known])
            for start_q, end_q in ((q0, qa), (qa, qb), (qb, q0)):
                z_end, kind, *_ = family.track(start_q, end_q, z, endgame=False, threads=threads)
                z = z_end[kind == PathKind.REGULAR]
                if z.shape[0] == 0:
                    break
            if z.shape[0] == 0:
                quiet += 1
                continue
            new = distinct_new(known, z[:, 1:] / z[:, :1])
            if new.shape[0]:
                known = np.vstack([known, new])
                quiet = 0
            else:
                quiet += 1
        family.starts = np.array([family.on_patch(e) for e in known])
        family.loops = loops
        family.trace, family.witnesses = trace_test(family, rng, MONODROMY_STABLE_LOOPS * (round_ + 1), threads)
        _log.info("%s: %d start solutions after %d loops, trace %.1e (%d witnesses)", family.label,
                  known.shape[0], loops, family.trace, family.witnesses)
        if family.verified:
            return


def warn_unverified(family: Family, stacklevel: int = 3) -> None:
    """Warn that a start system failed the trace test (its results are reported incomplete)."""
    if not family.verified:
        warnings.warn(f"lcnfast: the start system of the {family.label} ({family.starts.shape[0]} solutions) "
                      f"failed the trace test (trace {family.trace:.1e} > {TRACE_TOLERANCE:g}): the generic count "
                      "may be too small, and results on it are reported incomplete", RuntimeWarning,
                      stacklevel=stacklevel)


def trace_test(family: Family, rng: np.random.Generator, stable_loops: int, threads: int) -> tuple[float, int]:
    """The trace test (Leykin, Rodriguez and Sottile) of the family's start system.

    The curve ``C = {(z, t) : F(z; w0 + t dw, G0) = 0}`` over a random line of ``w`` (``F`` is
    linear in ``w``; the curve's main component is irreducible by Bertini's theorem) meets the
    hyperplane ``t = 0`` in the start system and a general hyperplane ``c . z = 0`` in the
    *witnesses* ``W``, found by monodromy in ``c`` (seeded from the start system: one path per
    start solution from a hyperplane through it). Along the pencil ``t (c . z) = -tau gamma``,
    the sum of the points of ``C`` is an affine function of ``tau`` exactly when the start
    system and ``W`` are complete; a missing point adds its own, non-affine, trace. Returns
    the relative second difference of the sum at ``tau = -0.1, 0, 0.1`` (0 for a complete
    set up to rounding; inf when paths were lost three times) and the number of witnesses.
    """
    N, K = family.N, family.K
    if N + 1 > _core.MAX_UNKNOWNS:
        # only (1, ..., 1) at D = 15: the stratum is a linear space, with one critical point
        return (0.0 if family.groups == [(1, family.n)] else math.inf), 0
    w1 = family.w0 + (rng.standard_normal(K) + 1j * rng.standard_normal(K))

    def track(c0: NDArray[np.complex128], c1: NDArray[np.complex128], alpha: complex, beta: complex,
              gamma: complex, Y: NDArray[np.complex128]) -> tuple[NDArray[np.complex128], NDArray[np.bool_]]:
        out = family.system().track_trace(family.w0, family.G0, w1, family.G0, c0, c1, alpha, beta, gamma,
                                          np.ascontiguousarray(Y, dtype=complex), threads)
        return out.y, out.kind == PathKind.REGULAR

    fibre = np.hstack([family.starts, np.zeros((family.starts.shape[0], 1), dtype=complex)])
    c = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    # a hyperplane through each start solution, moved to c: the first witnesses
    seeds = np.zeros((0, N + 1), dtype=complex)
    for y in fibre:
        through = c - (c @ y[:N]) / (family.patch @ y[:N]) * family.patch
        end, ok = track(through, c, 0.0, 1.0, 0.0, y[None, :])
        seeds = np.vstack([seeds, end[ok]])
    W = distinct_rows(seeds)
    quiet = 0
    while quiet < stable_loops and W.shape[0]:
        ca = rng.standard_normal(N) + 1j * rng.standard_normal(N)
        cb = rng.standard_normal(N) + 1j * rng.standard_normal(N)
        Y = W
        for c0, c1 in ((c, ca), (ca, cb), (cb, c)):
            end, ok = track(c0, c1, 0.0, 1.0, 0.0, Y)
            Y = end[ok]
        merged = distinct_rows(np.vstack([W, Y]))
        quiet = 0 if merged.shape[0] > W.shape[0] else quiet + 1
        W = merged
    S = np.vstack([fibre, W])
    for _ in range(3):
        gamma = np.exp(2j * np.pi * rng.random())
        ends = [track(c, c, 1.0, 0.0, tau * gamma, S) for tau in (0.1, -0.1)]
        if all(ok.all() for _, ok in ends):
            s0, s1, s2 = S.sum(axis=0), ends[0][0].sum(axis=0), ends[1][0].sum(axis=0)
            second = ((s1 - s0) - (s0 - s2)) / np.maximum(np.abs(s1 - s0), 1.0)
            return float(np.linalg.norm(second)), int(W.shape[0])
    return math.inf, int(W.shape[0])


# -- the families kept in memory and on disk ---------------------------------------------
FAMILIES: dict[tuple[Any, ...], Family] = {}


def forget_start_systems() -> None:
    """Drop the start systems kept in memory (the disk cache is untouched): the next solve of
    each family loads or computes its start system again (benchmarks time the one-off solve)."""
    FAMILIES.clear()
    WEIGHTS_FAMILIES.clear()


def start_system_cache() -> Path | None:
    """The folder where start systems are kept between sessions: ``LCNFAST_CACHE_DIR``, else
    ``~/.cache/lcnfast``; ``LCNFAST_CACHE_DIR=""`` (empty) turns the disk cache off (None)."""
    value = os.environ.get("LCNFAST_CACHE_DIR")
    if value is not None:
        return Path(value) if value else None
    return Path.home() / ".cache" / "lcnfast"


def cache_file(family: Family) -> Path | None:
    """Where the family's start system is cached (None: no disk cache)."""
    folder = start_system_cache()
    if folder is None:
        return None
    return folder / family.cache_name


def fingerprint(family: Family) -> str:
    """Ties a cached start system to the equations it solves (the form's terms and chart)."""
    text = repr((family.key, family.begin, family.exps, family.coeff, CACHE_FORMAT))
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(arrays: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(value.dtype).encode())
        h.update(repr(value.shape).encode())
        h.update(value.tobytes())
    return h.hexdigest()


def _stored(family: Family) -> dict[str, Any]:
    return {"patch": family.patch, "w0": family.w0, "G0": family.G0, "starts": family.starts,
            "loops": np.int64(family.loops), "trace": np.float64(family.trace),
            "witnesses": np.int64(family.witnesses)}


def load_start_system(family: Family, path: Path) -> str | None:
    """Reads a cached start system into ``family``; None when it was read and validated, else
    why it was refused (unreadable, another format or family, a digest that does not match
    its arrays, starts of the wrong shape or count). A start system that failed its trace
    test is kept as it was computed: results on it are reported incomplete."""
    try:
        # opened here, so that a file numpy cannot read is closed all the same
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fingerprint(family):
                return "it belongs to other equations or another format"
            arrays = {name: data[name] for name in ("patch", "w0", "G0", "starts", "loops", "trace", "witnesses")}
            digest, count = str(data["digest"]), int(data["count"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        return f"it could not be read ({type(exc).__name__})"
    if _digest(arrays) != digest:
        return "its arrays do not match their digest (a damaged or edited file)"
    starts = np.asarray(arrays["starts"])
    if starts.ndim != 2 or starts.shape[1] != family.N or starts.shape[0] != count or not np.all(np.isfinite(starts)):
        return "its start solutions have the wrong shape or count"
    family.patch, family.w0, family.G0 = arrays["patch"], arrays["w0"], arrays["G0"]
    family.starts, family.loops = starts, int(arrays["loops"])
    family.trace, family.witnesses = float(arrays["trace"]), int(arrays["witnesses"])
    return None


def save_start_system(family: Family, path: Path) -> None:
    """Writes the family's start system atomically, with its fingerprint and a digest."""
    arrays = _stored(family)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _saving.write_atomically(path, lambda out: np.savez(
            out, fingerprint=fingerprint(family), digest=_digest(arrays), count=np.int64(family.starts.shape[0]),
            **arrays))
    except OSError as exc:  # a read-only home is no reason to fail: the start system is recomputed
        warnings.warn(f"lcnfast: could not cache the start system in {path}: {exc}", RuntimeWarning, stacklevel=4)


#: start systems for given weights, most recently used last (kept in memory only: the weights
#: of data sets are many)
WEIGHTS_FAMILIES: dict[tuple[Any, ...], Family] = {}
WEIGHTS_KEPT = 64


def weights_family(family: Family, chart: int, Gc: NDArray[np.complex128], threads: int) -> Family:
    """The family's equations with a start system for the chart weights ``Gc`` (the user's
    weights in the chart, scaled): found by monodromy in ``w`` alone and proven by the trace
    test. Its paths to the data move ``w`` only, so for data ``u`` that is generic for these
    weights no path goes to the degenerate forms that special weights (Bombieri-Weyl, the
    identity, weights close to them) put in the paths of the generic start system."""
    Gc = np.ascontiguousarray(Gc, dtype=complex)
    key = (family.key, chart, hashlib.sha256(Gc.tobytes()).hexdigest())
    found = WEIGHTS_FAMILIES.pop(key, None)
    if found is None:
        found = family.blank()
        monodromy(found, threads, weights=Gc)
    # on every use, not only when it was computed: a result's warnings must not depend on
    # what this process solved before it (seen in the atlas: the ED tasks of one dilated
    # product warned or not depending on which of them computed the start system)
    warn_unverified(found, stacklevel=5)
    WEIGHTS_FAMILIES[key] = found
    while len(WEIGHTS_FAMILIES) > WEIGHTS_KEPT:
        WEIGHTS_FAMILIES.pop(next(iter(WEIGHTS_FAMILIES)))
    return found


def family_for(key: tuple[Any, ...], make: Callable[[], Family], threads: int) -> Family:
    """The family of ``key`` with its start system: from memory, else from the disk cache
    (validated), else computed by monodromy and cached. A cache file that is refused is
    recomputed and replaced, with a warning that says why."""
    family = FAMILIES.get(key)
    if family is not None:
        return family
    family = make()
    path = cache_file(family)
    why = None
    if path is not None and path.exists():
        why = load_start_system(family, path)
        if why is not None:
            warnings.warn(f"lcnfast: the cached start system {path} was not used: {why}; it is computed again",
                          RuntimeWarning, stacklevel=3)
            family = make()
    if path is None or not path.exists() or why is not None:
        monodromy(family, threads)
        if path is not None:
            save_start_system(family, path)
    FAMILIES[key] = family
    return family
