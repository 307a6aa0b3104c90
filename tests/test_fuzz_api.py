"""Fuzzing every public entry point (issue 16).

Each function in ``lcnfast.__all__`` (and the methods of ``FunctionSpace``, the loss
constructors and ``Architecture``) is called with arguments drawn per parameter name from a
mix of valid values and hostile ones: wrong types, bools for numbers, NaN and infinity,
huge and negative integers, empty and mis-shaped arrays, complex and object arrays,
mismatched architectures and losses. The oracle is the outcome class only: the call
returns, or raises ``ValueError``/``TypeError`` whose message names an argument of the call
(or ``NotImplementedError`` for a documented unsupported case). Any other exception, a
crash of the interpreter or a call that does not return within a minute fails the test.
Sizes are kept small so that the whole module fits CI's time. The examples are
derandomised (the same 25 per entry point in every CI run, so that CI is reproducible);
run with ``--hypothesis-seed=N`` and the setting removed to explore further (16 seeds were
explored while writing it).
"""

from __future__ import annotations

import inspect
import re
import signal
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lcnfast

pytestmark = pytest.mark.filterwarnings("ignore")  # warnings (e.g. incomplete enumerations) are not errors here

ARCHS = [
    lcnfast.Architecture([2, 2], d0=7),
    lcnfast.Architecture([3, 2], d0=9),
    lcnfast.Architecture([2, 2], [2, 1], d0=8),
    lcnfast.Architecture([3, 3], kind="circular", d0=6),
    lcnfast.Architecture([(2, 2), (2, 1)], d0=(5, 4)),
    lcnfast.Architecture([1]),
]

HOSTILE = [None, True, "x", b"bytes", 1.5, -1, 0, 2**70, float("nan"), float("inf"), [], [[]], {}, object(),
           1j, np.array([]), np.array([np.nan]), np.array(["a", "b"]), np.array([1 + 2j]), np.zeros((0, 3)),
           np.array([1.0, 2.0], dtype=object), np.random.default_rng(0)]


def _size(arch: lcnfast.Architecture) -> int:
    return int(np.prod(arch.filter_shape))


def _arrays(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[Any]:
    """Arrays of the given shapes (valid) or of nearby shapes, dtypes and values (hostile),
    finite values of extreme magnitude included (1e300 next to 5e-324: exact answers about
    such filters need thousands of bits; they used to take minutes, issue 16)."""
    special = [0.0, 1e300, -1e300, 5e-324, np.nan, np.inf]
    moderate = st.floats(-4, 4, allow_nan=False)
    elements = moderate | st.sampled_from(special)
    shape = st.sampled_from(shapes) | st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple)
    dtype = st.sampled_from([np.float64, np.float64, np.float64, np.float32, np.int64, np.bool_, np.complex128])

    @st.composite
    def build(draw: Any) -> Any:
        s = draw(shape)
        n = int(np.prod(s)) if s else 1
        values = draw(st.lists(elements, min_size=n, max_size=n))
        a = np.array(values, dtype=np.float64).reshape(s)
        kind = draw(dtype)
        with np.errstate(all="ignore"):
            a = a.astype(kind)
        return a if draw(st.booleans()) else a.tolist()

    return build()


def _value(name: str, arch: lcnfast.Architecture, draw: Any) -> Any:
    """A value for the parameter ``name`` of a call on ``arch``: mostly plausible, sometimes hostile."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(HOSTILE))
    K, P = _size(arch), arch.n_params
    if name == "arch":
        return arch
    if name == "loss":
        size = draw(st.sampled_from([K, K, K + 1]))
        return lcnfast.QuadraticLoss(np.eye(size), np.ones(size))
    if name in ("theta", "theta0"):
        return draw(_arrays([(P,), (2, P), (3, P)]))
    if name in ("v", "v_star", "u", "w"):
        return draw(_arrays([arch.filter_shape, (K,), (2, K), (3,)]))
    if name == "g":
        return draw(_arrays([arch.filter_shape, (2,) + arch.filter_shape]))
    if name == "G":
        return draw(st.sampled_from([np.eye(K), np.eye(K) * 2.0, np.ones((K, K)), np.eye(K + 1), -np.eye(K),
                                     np.eye(5), np.eye(4), np.zeros((K, K))]))
    if name in ("X", "Y"):
        return draw(_arrays([(6, 7), (6, 8), (6, 9), (6, 5, 4), (0, 7), (6,)]))
    if name == "partition":
        # degree <= 5: a larger stratum's one-off start solve takes minutes (legitimately)
        return draw(st.lists(st.integers(-1, 3), min_size=0, max_size=4).filter(lambda p: sum(p) <= 5).map(tuple)
                    | st.sampled_from([(2, 1), (3,), (1, 1, 1), (2, 2), (4,), "21", (1.5,), (True,)]))
    if name in ("threads", "batch", "steps", "N", "trials", "record_every", "retries", "limit", "starts"):
        return draw(st.integers(-2, 6) | st.sampled_from([None, 2**40, np.int64(3), 2.0, True]))
    if name in ("seed",):
        return draw(st.integers(-2, 2**40) | st.sampled_from([np.random.default_rng(1), np.int32(4), 1.0]))
    if name in ("d_in", "d0", "stride"):
        return draw(st.integers(-1, 9) | st.sampled_from([None, (5, 4), (0, 3), 2**40, 1.5]))
    if name in ("tol", "rtol", "atol", "lr", "scale", "noise", "t_max", "blowup"):
        return draw(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([None, "auto", 0, 1e-3, -1]))
    if name in ("circular", "exact", "certify", "polish", "progress"):
        return draw(st.sampled_from([True, False, 0, 1, "yes", None]))
    if name == "init":
        return draw(st.sampled_from(["gaussian", "balanced", "xavier", 3]))
    if name == "method":
        return draw(st.sampled_from(["gd", "flow", "adam", None]))
    if name == "kind":
        return draw(st.sampled_from(["valid", "circular", "same", 1]))
    if name in ("k", "s"):
        return draw(st.lists(st.integers(-1, 4), min_size=0, max_size=3) | st.sampled_from([[(2, 2)], "22", None]))
    if name == "out":
        return None
    return draw(st.sampled_from(HOSTILE))


def _fs_method(method: str) -> Callable[..., Any]:
    def call(arch: lcnfast.Architecture, **kwargs: Any) -> Any:
        return getattr(lcnfast.FunctionSpace(arch), method)(**kwargs)

    call.__signature__ = inspect.signature(getattr(lcnfast.FunctionSpace, method)).replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("arch", inspect.Parameter.KEYWORD_ONLY)]
        + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
           for p in list(inspect.signature(getattr(lcnfast.FunctionSpace, method)).parameters.values())[1:]])
    return call


# functions whose cost grows fast with their input, kept to small cases by their strategies
SKIP = {"from_torch", "to_torch"}  # need the optional torch (tests/test_torch.py)
ENTRY_POINTS: dict[str, Callable[..., Any]] = {
    name: getattr(lcnfast, name) for name in lcnfast.__all__
    if callable(getattr(lcnfast, name)) and not isinstance(getattr(lcnfast, name), type) and name not in SKIP}
ENTRY_POINTS.update({
    "Architecture": lcnfast.Architecture,
    "QuadraticLoss": lcnfast.QuadraticLoss,
    "QuadraticLoss.from_coefficients": lcnfast.QuadraticLoss.from_coefficients,
    "SquaredLoss.from_data": lcnfast.SquaredLoss.from_data,
})
for _method in ("contains", "is_interior", "is_boundary", "locate", "factorizations", "factorize", "nearest",
                "distance_to_boundary"):
    if hasattr(lcnfast.FunctionSpace, _method):
        ENTRY_POINTS[f"FunctionSpace.{_method}"] = _fs_method(_method)


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang()


def _parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    params = list(inspect.signature(func).parameters.values())
    return [p for p in params if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_entry_point_fails_only_by_naming_an_argument(name, data):
    func = ENTRY_POINTS[name]
    params = _parameters(func)
    arch = data.draw(st.sampled_from(ARCHS), label="arch for the call")
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.default is not inspect.Parameter.empty and data.draw(st.booleans(), label=f"default {p.name}"):
            continue
        kwargs[p.name] = _value_for(p.name, arch, data)
    if name in ("train",):  # keep the work small: few runs, few steps
        kwargs["steps"] = min(kwargs["steps"], 60) if isinstance(kwargs.get("steps"), int) and not isinstance(
            kwargs.get("steps"), bool) else kwargs.get("steps", 30)
        if isinstance(kwargs.get("batch"), int) and not isinstance(kwargs.get("batch"), bool):
            kwargs["batch"] = min(kwargs["batch"], 4)
    if name == "teacher_data" and isinstance(kwargs.get("N"), int) and not isinstance(kwargs.get("N"), bool):
        kwargs["N"] = min(kwargs["N"], 12)
    positional = [p for p in params if p.kind == p.POSITIONAL_ONLY]
    args = [kwargs.pop(p.name) for p in positional if p.name in kwargs]
    names = {p.name for p in params} | {"arch"}
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            func(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        named = [n for n in names if re.search(rf"(^|[^A-Za-z_]){re.escape(n)}\b", message)]
        assert named, f"{name}({kwargs}) raised {type(exc).__name__} naming no argument: {message!r}"
    except NotImplementedError:
        pass  # documented unsupported cases (e.g. the landscape of a strided architecture)
    except _Hang:
        pytest.fail(f"{name}({kwargs}) did not return within a minute")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _value_for(name: str, arch: lcnfast.Architecture, data: Any) -> Any:
    return _value(name, arch, lambda strategy: data.draw(strategy, label=name))
