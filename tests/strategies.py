"""Hypothesis strategies for architectures and parameters."""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def architectures(draw, *, ndim=None, kind=None, max_layers=4, max_k=5, max_s=3):
    """(k, s, kind, d0) for a random valid-width architecture, 1D or 2D."""
    ndim = draw(st.sampled_from([1, 2])) if ndim is None else ndim
    kind = draw(st.sampled_from(["valid", "circular"])) if kind is None else kind
    L = draw(st.integers(1, max_layers if ndim == 1 else min(max_layers, 3)))
    hi_k = max_k if ndim == 1 else min(max_k, 3)
    hi_s = max_s if ndim == 1 else min(max_s, 2)
    if ndim == 1:
        k = [draw(st.integers(1, hi_k)) for _ in range(L)]
        s = [draw(st.integers(1, hi_s)) for _ in range(L)]
    else:
        k = [(draw(st.integers(1, hi_k)), draw(st.integers(1, hi_k))) for _ in range(L)]
        s = [(draw(st.integers(1, hi_s)), draw(st.integers(1, hi_s))) for _ in range(L)]
    pairs_k = [x if isinstance(x, tuple) else (x, 1) for x in k]
    pairs_s = [x if isinstance(x, tuple) else (x, 1) for x in s]
    d0 = []
    for a in range(2 if ndim == 2 else 1):
        if kind == "circular":
            total = 1
            for sl in pairs_s:
                total *= sl[a]
            d0.append(total * draw(st.integers(1, 3)))
        else:
            # smallest input that fits every layer, plus some slack
            need = 1
            for kl, sl in reversed(list(zip(pairs_k, pairs_s))):
                need = (need - 1) * sl[a] + kl[a]
            d0.append(need + draw(st.integers(0, 4)))
    return k, s, kind, (d0[0] if ndim == 1 else tuple(d0))
