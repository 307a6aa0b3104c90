"""Architecture: derived sizes against the definitions in docs/conventions.rst."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lcnfast
from lcnfast import Architecture

from . import reference as ref
from .strategies import architectures


def test_paper_examples():
    arch = Architecture([3, 2, 2], [1, 2, 1], d0=32)
    assert arch.L == 3 and arch.ndim == 1
    assert arch.k == (3, 2, 2) and arch.s == (1, 2, 1)
    assert arch.dilations == (1, 1, 2)
    assert arch.filter_size == 1 + 2 * 1 + 1 * 1 + 1 * 2
    assert arch.stride == 2
    assert arch.n_params == 7
    assert arch.n_even == 2
    assert arch.widths() == [32, 30, 15, 14]
    assert arch.widths(10) == [10, 8, 4, 3]


def test_two_d_example_from_issue():
    arch = Architecture([(2, 2), (3, 2)], [(1, 1), (2, 1)])
    assert arch.ndim == 2 and arch.L == 2
    assert arch.filter_size == (1 + 1 + 2, 1 + 1 + 1)
    assert arch.filter_shape == (4, 3)
    assert arch.stride == (2, 1)
    assert arch.n_params == 4 + 6
    assert arch.n_even is None
    assert arch.layer_shapes == ((2, 2), (3, 2))
    assert arch.widths((9, 7)) == [(9, 7), (8, 6), (3, 5)]
    assert arch.widths(9) == [(9, 9), (8, 8), (3, 7)]


def test_circular_filter_is_reduced():
    arch = Architecture([3, 3], kind="circular", d0=4)
    assert arch.full_filter_size == 5
    assert arch.filter_size == 4
    assert arch.widths() == [4, 4, 4]
    arch = Architecture([2, 2], [2, 2], kind="circular", d0=8)
    assert arch.widths() == [8, 4, 2]
    assert arch.filter_size == 1 + 1 + 2


@given(spec=architectures())
def test_widths_follow_layer_definition(spec):
    """widths() equals the output sizes of the layers applied by their definition."""
    k, s, kind, d0 = spec
    arch = Architecture(k, s, kind=kind, d0=d0)
    kp, sp = ref.as_pairs(k, s)
    x = np.zeros(d0 if isinstance(d0, tuple) else (d0, 1))
    shapes = [x.shape]
    for kl, sl in zip(kp, sp):
        x = ref.apply_layer(x, np.ones(kl), sl, kind == "circular")
        shapes.append(x.shape)
    widths = arch.widths()
    expected = shapes if arch.ndim == 2 else [sh[0] for sh in shapes]
    assert widths == expected
    assert arch.n_params == sum(a * b for a, b in kp)


@given(spec=architectures(), batch=st.sampled_from([None, 1, 5]))
def test_split_join_roundtrip(spec, batch):
    k, s, kind, d0 = spec
    arch = Architecture(k, s, kind=kind, d0=d0)
    rng = np.random.default_rng(0)
    shape = (arch.n_params,) if batch is None else (batch, arch.n_params)
    theta = rng.standard_normal(shape)
    filters = arch.split(theta)
    assert len(filters) == arch.L
    for w, layer_shape in zip(filters, arch.layer_shapes):
        assert w.shape == (layer_shape if batch is None else (batch,) + layer_shape)
    np.testing.assert_array_equal(arch.join(filters), theta)
    # the layout: layers concatenated, 2D filters row-major
    if batch is None:
        np.testing.assert_array_equal(np.concatenate([w.ravel() for w in filters]), theta)


def test_equality_hash_repr_pickle():
    a = Architecture([3, 2], [1, 2], d0=10)
    b = Architecture((3, 2), (1, 2), d0=10)
    assert a == b and hash(a) == hash(b)
    assert a != Architecture([3, 2], [1, 2])
    assert eval(repr(a), {"Architecture": Architecture}) == a
    c = pickle.loads(pickle.dumps(Architecture([(2, 2)], kind="circular", d0=(4, 6))))
    assert c == Architecture([(2, 2)], kind="circular", d0=(4, 6))
    np.testing.assert_array_equal(lcnfast.end_to_end(c, np.ones(4)), np.ones((2, 2)))


def test_summary_contents():
    info = Architecture([3, 2, 2], [1, 2, 1]).summary(d0=32)
    assert info["filter_size"] == 6 and info["stride"] == 2 and info["n_even"] == 2
    assert info["widths"] == [32, 30, 15, 14]


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"k": []}, ValueError, "k: an architecture needs at least one layer"),
        ({"k": [3, 0]}, ValueError, "k[1]: must be >= 1"),
        ({"k": [3, -2]}, ValueError, "k[1]"),
        ({"k": [3, 2], "s": [1, 0]}, ValueError, "s[1]: must be >= 1"),
        ({"k": [3, 2], "s": [1]}, ValueError, "s: expected one entry per layer (2)"),
        ({"k": [3.0, 2]}, TypeError, "k[0]: expected an integer"),
        ({"k": [True, 2]}, TypeError, "k[0]"),
        ({"k": "32"}, TypeError, "k:"),
        ({"k": 3}, TypeError, "k:"),
        ({"k": [3, (2, 2)]}, ValueError, "k: mixes integers"),
        ({"k": [(2, 2, 2)]}, ValueError, "k[0]: a 2D entry must be a pair"),
        ({"k": [(2, 2)], "s": [2]}, ValueError, "s: filter sizes are 2D but strides are 1D"),
        ({"k": [3, 3], "kind": "same"}, ValueError, "kind"),
        ({"k": [3, 3], "kind": "circular"}, ValueError, "d0: circular layers need"),
        ({"k": [3, 3], "d0": 4}, ValueError, "d0: too small"),
        ({"k": [3, 3], "d0": 0}, ValueError, "d0: must be >= 1"),
        ({"k": [3, 3], "s": [2, 1], "kind": "circular", "d0": 5}, ValueError, "does not divide"),
        ({"k": [2**21]}, ValueError, "MAX_FILTER_ENTRIES"),
        ({"k": [2] * 30, "s": [2] * 30}, ValueError, "MAX_FILTER_ENTRIES"),
        ({"k": [(2**11, 2**11)]}, ValueError, "MAX_FILTER_ENTRIES"),
        ({"k": [3, 3], "s": [10**30, 10**30]}, None, None),  # huge strides are fine: k_L - 1 = 2 ...
    ],
)
def test_invalid_architectures(kwargs, exc, words):
    k = kwargs.pop("k")
    s = kwargs.pop("s", None)
    if exc is None:
        # ... until they would place a tap beyond the size limit
        with pytest.raises(ValueError, match="MAX_FILTER_ENTRIES"):
            Architecture(k, s, **kwargs)
        return
    with pytest.raises(exc) as info:
        Architecture(k, s, **kwargs)
    assert words in str(info.value)


def test_large_strides_with_trailing_unit_filters_are_valid():
    arch = Architecture([3, 1, 1], [10**30, 10**30, 1])
    assert arch.filter_size == 3
    np.testing.assert_array_equal(lcnfast.end_to_end(arch, [1.0, 2.0, 3.0, 2.0, 0.5]), [1.0, 2.0, 3.0])


def test_split_join_errors():
    arch = Architecture([3, 2])
    with pytest.raises(ValueError, match=r"theta: expected shape \(5,\)"):
        arch.split(np.zeros(4))
    with pytest.raises(ValueError, match="filters: expected 2 filters"):
        arch.join([np.zeros(3)])
    with pytest.raises(ValueError, match=r"filters\[1\]: batch shape"):
        arch.join([np.zeros((4, 3)), np.zeros((5, 2))])
    with pytest.raises(ValueError, match=r"filters\[0\]: expected shape"):
        arch.join([np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match="d0: this architecture has no input width"):
        arch.widths()


@pytest.mark.parametrize("args, kwargs, expected", [
    (([3, 2],), {}, True),
    (([4],), {}, True),
    (([3, 2], [1, 1]), {}, True),
    (([3, 2], [2, 1]), {}, False),          # a stride > 1 before the last layer dilates it
    (([3, 2], [1, 3]), {}, False),          # the last stride changes nothing in mu, but the space is strided
    (([3, 2],), {"kind": "circular", "d0": 6}, False),
    (([(2, 2), (3, 1)],), {}, False),       # 2D
    (([(2, 1), (3, 1)],), {}, False),       # 2D even with trivial second sizes
])
def test_is_stride_one_1d_is_the_setting_of_the_stride_one_theorems(args, kwargs, expected):
    arch = lcnfast.Architecture(*args, **kwargs)
    assert arch.is_stride_one_1d is expected
    # and the function space agrees: its stride-one-only tests run exactly there
    fs = lcnfast.FunctionSpace(arch)
    v = np.ones(arch.filter_shape)
    if expected:
        low, high = fs.distance_to_boundary(v)
        assert 0.0 <= low <= high
    else:
        with pytest.raises(NotImplementedError, match="stride-one 1D valid"):
            fs.distance_to_boundary(v)
