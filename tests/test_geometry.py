"""Function-space dimension and filling, against the theorems and independent computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import lcnfast
from lcnfast import Architecture, FunctionSpace

from . import reference as ref

STRIDE_ONE = [list(k) for L in range(1, 5) for k in itertools.product(range(1, 6), repeat=L)]


def _numpy_rank(arch, seed):
    """Rank of the reference Jacobian (mu is multilinear) at a random real point, by SVD."""
    rng = np.random.default_rng(seed)
    filters = [rng.standard_normal(shape) for shape in arch.layer_shapes]
    modulus = None
    if arch.is_circular:
        modulus = arch.d0 if isinstance(arch.d0, tuple) else (arch.d0, 1)
    J = ref.jacobian(filters, list(arch.k), list(arch.s), modulus)
    return int(np.linalg.matrix_rank(J))


def _factorable_with_minimal_real_roots(k):
    """Can a degree-D polynomial with distinct roots, D // 2 conjugate pairs and D % 2 real
    roots, be split into real factors of degrees k_l - 1? Pairs must stay together, so this
    is a packing of {2, ..., 2, (1)} into bins of sizes k_l - 1: a bin of size b takes j real
    roots with b - j even, the rest in pairs (dynamic programming over the real roots left)."""
    degrees = [kl - 1 for kl in k]
    D = sum(degrees)
    reachable = {D % 2}  # real roots still to place
    for b in degrees:
        reachable = {left - j for left in reachable for j in range(0, min(b, left) + 1) if (b - j) % 2 == 0}
    return 0 in reachable


@pytest.mark.parametrize("k", STRIDE_ONE, ids=str)
def test_filling_matches_root_distribution(k):
    """Filling iff even the polynomials with the fewest real roots factor (docs/theory.rst)."""
    fs = FunctionSpace(Architecture(k))
    assert fs.is_filling == _factorable_with_minimal_real_roots(k)
    assert fs.is_filling == (sum(1 for x in k if x % 2 == 0) <= 1)


@pytest.mark.parametrize("k", STRIDE_ONE, ids=str)
def test_stride_one_dimension_is_full_and_equals_jacobian_rank(k):
    arch = Architecture(k)
    fs = FunctionSpace(arch)
    assert fs.dim == fs.ambient_dim == arch.filter_size
    assert lcnfast.generic_jacobian_rank(arch) == fs.dim == _numpy_rank(arch, 1)
    assert fs.is_thick


@pytest.mark.parametrize(
    ("k", "s"),
    [([3, 3], [2, 1]), ([3, 2, 2], [1, 2, 1]), ([2, 3, 2], [2, 2, 1]), ([3, 1, 3], [1, 3, 1]),
     ([2, 2], [3, 1]), ([1, 3], [2, 1]), ([3, 3, 3], [1, 1, 2])],
    ids=str,
)
def test_strided_dimension_formula(k, s):
    arch = Architecture(k, s)
    fs = FunctionSpace(arch)
    assert fs.dim == sum(k) - (len(k) - 1)
    assert fs.dim == lcnfast.generic_jacobian_rank(arch) == _numpy_rank(arch, 2)
    thick = all((kl - 1) * (S - 1) == 0 for kl, S in zip(k, arch.dilations))
    assert fs.is_thick == thick == (fs.dim == fs.ambient_dim)


@pytest.mark.parametrize(
    ("k", "s"),
    [([(2, 2), (3, 2)], [(1, 1), (2, 1)]), ([(2, 2), (2, 2)], None), ([(3, 3), (2, 2), (2, 2)], None),
     ([(1, 3), (3, 1)], None), ([(2, 1), (1, 2), (2, 2)], None), ([(3, 2), (2, 3)], [(2, 1), (1, 2)])],
    ids=str,
)
def test_2d_dimension_is_the_generic_jacobian_rank(k, s):
    arch = Architecture(k, s)
    fs = FunctionSpace(arch)
    assert fs.dim == _numpy_rank(arch, 3)
    both = sum(1 for a, b in k if a > 1 and b > 1)
    if both >= 2:
        assert fs.dim == sum(a * b for a, b in k) - (len(k) - 1)
        assert not fs.is_thick and not fs.is_filling


@pytest.mark.parametrize("seed", range(8))
def test_2d_stride_one_dimension_formula_against_the_numerical_rank(seed):
    """``dim = P - (L - 1)`` for stride-one 2D (unique factorisation in R[x, y]), checked on
    random architectures (1x1, 1xn, nx1 and square layers, up to four layers) against the
    numerical rank of the Jacobian at random points; a large one answers at once."""
    rng = np.random.default_rng(seed)
    k = [(int(a), int(b)) for a, b in rng.integers(1, 4, size=(int(rng.integers(1, 5)), 2))]
    arch = Architecture(k)
    assert FunctionSpace(arch).dim == _numpy_rank(arch, seed) == lcnfast.generic_jacobian_rank(arch)
    assert FunctionSpace(Architecture([(64, 64), (2, 2)])).dim == 64 * 64 + 4 - 1


@pytest.mark.parametrize(("k", "d0"), [([3, 3], 4), ([2, 2], 3), ([3, 2, 2], 5), ([4, 4], 4)], ids=str)
def test_circular_dimension_is_the_generic_jacobian_rank(k, d0):
    arch = Architecture(k, kind="circular", d0=d0)
    fs = FunctionSpace(arch)
    assert fs.dim == _numpy_rank(arch, 4)
    assert fs.ambient_dim == min(arch.full_filter_size, d0)


def test_examples_from_the_issue():
    assert FunctionSpace(Architecture([3, 3])).is_filling
    assert FunctionSpace(Architecture([2, 3])).is_filling
    assert not FunctionSpace(Architecture([2, 2, 2])).is_filling
    assert not FunctionSpace(Architecture([2, 2])).is_filling
    text = FunctionSpace(Architecture([2, 2])).describe()
    assert "filling            no" in text and "e = 2 real roots" in text


def test_jacobian_rank_numeric():
    arch = Architecture([2, 2])
    # repeated filters: w2 proportional to w1 -> the filters share a root -> rank drops by 1
    assert lcnfast.jacobian_rank(arch, [1.0, 2.0, 2.0, 4.0]) == 2
    assert lcnfast.jacobian_rank(arch, [1.0, 2.0, 3.0, 1.0]) == 3
    assert list(lcnfast.jacobian_rank(arch, [[1.0, 2.0, 2.0, 4.0], [1.0, 2.0, 3.0, 1.0]])) == [2, 3]
    assert lcnfast.jacobian_rank(arch, np.zeros(4)) == 0
    with pytest.raises(TypeError, match="arch: expected an lcnfast.Architecture"):
        FunctionSpace([2, 2])
