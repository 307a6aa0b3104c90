"""PyTorch interop (runs when torch is installed; the torch extra)."""

from __future__ import annotations

import numpy as np
import pytest

import lcnfast

torch = pytest.importorskip("torch")

CASES = [
    ([3, 2, 2], [1, 2, 1], "valid", 20),
    ([2, 3], None, "circular", 6),
    ([(2, 2), (3, 2)], [(1, 1), (2, 1)], "valid", (9, 7)),
    ([(2, 3), (2, 2)], None, "circular", (4, 5)),
]


@pytest.mark.parametrize(("k", "s", "kind", "d0"), CASES, ids=str)
def test_to_torch_computes_the_network_matrix(k, s, kind, d0):
    arch = lcnfast.Architecture(k, s, kind=kind, d0=d0)
    theta = np.random.default_rng(0).standard_normal(arch.n_params)
    model = lcnfast.to_torch(arch, theta)
    shape = (d0,) if arch.ndim == 1 else d0
    X = np.random.default_rng(1).standard_normal((5, 1) + shape)
    with torch.no_grad():
        Y = model(torch.tensor(X)).numpy().reshape(5, -1)
    T = lcnfast.network_matrix(arch, theta)
    np.testing.assert_allclose(Y, X.reshape(5, -1) @ T.T, rtol=1e-12, atol=1e-12)
    arch2, theta2 = lcnfast.from_torch(model, d0=d0 if kind == "circular" else None)
    assert arch2.k == arch.k and arch2.s == arch.s and arch2.kind == arch.kind
    np.testing.assert_array_equal(theta2, theta)


def test_from_torch_refuses_what_is_not_an_lcn():
    with pytest.raises(ValueError, match=r"module\[0\]: has a bias"):
        lcnfast.from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3)))
    with pytest.raises(ValueError, match=r"module\[1\]: expected Conv1d/Conv2d"):
        lcnfast.from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, bias=False), torch.nn.ReLU()))
    with pytest.raises(ValueError, match="one input and one output channel"):
        lcnfast.from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, bias=False)))
    with pytest.raises(TypeError, match="module: expected a torch.nn.Sequential"):
        lcnfast.from_torch(torch.nn.Conv1d(1, 1, 3, bias=False))
