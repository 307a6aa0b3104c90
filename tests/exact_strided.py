"""Independent exact reference: the number of critical points of a weighted distance on the
Zariski closure of a strided LCN's function space.

This module is test-side reference code. It does not import lcnfast.

Mathematics (docs/conventions.rst, docs/theory.rst)
--------------------------------------------------
With dilations ``S_l = s_1 ... s_(l-1)``, the end-to-end filter is
``v(x) = prod_l w_l(x^(S_l))``. Layers with one dilation ``S`` multiply to a polynomial
``W_S(y)`` (``y = x^S``) of degree ``D_S = sum (k_l - 1)``, dense among polynomials of that
degree, so the Zariski closure is ``V = {c prod_S W_S(x^S)}``. On its affine patch where every
``W_S`` has a non-zero top coefficient, ``W_S = y^(D_S) + t_(S,D_S-1) y^(D_S-1) + ... + t_(S,0)``
(monic) and ``v = c prod_S W_S(x^S)`` is a one-to-one parametrisation of the filters whose
factors ``W_S(x^S)`` are pairwise coprime (a common factor lets roots move between
factors). There the Jacobian of ``(c, t) -> v`` has full rank, so ``v`` is a smooth point of
the parametrised variety, and ``v`` is critical for ``l(v) = (v-u)^T G (v-u)`` exactly when
``dv^T G (v - u) = 0`` for the ``1 + sum_S D_S`` tangent vectors ``dv/dc = prod_S W_S(x^S)``
and ``dv/dt_(S,i) = c x^(S i) prod_(S' != S) W_S'(x^S')`` (divided by ``c``).

The points with ``c = 0`` or with two factors sharing a root are removed by a Rabinowitsch
variable: ``z c prod_(S < S') Res_y(W_S(y), W_S'(y^(S'/S))) - 1 = 0`` (``W_S(x^S)`` and
``W_S'(x^S')`` share a root ``x`` iff ``W_S`` and ``W_S'(y^(S'/S))`` share the root ``x^S``;
dilations divide each other). The number of distinct complex solutions is computed by msolve
(or Singular) over Q (tests/exact_strata.py's engines). Data whose critical points have a
factor with top coefficient 0 would be missed by the patch: the tests use generic integer
data, for which that has probability zero.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import sympy

from .exact_strata import count_msolve, count_singular


def dilation_degrees(k: Sequence[int], s: Sequence[int]) -> dict[int, int]:
    """``{S: D_S}`` over the layers with ``k_l > 1``, in increasing ``S``."""
    out: dict[int, int] = {}
    S = 1
    for kl, sl in zip(k, s):
        if kl > 1:
            out[S] = out.get(S, 0) + kl - 1
        S *= sl
    return dict(sorted(out.items()))


def strided_system(k: Sequence[int], s: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any]
                   ) -> tuple[list[str], list[str]]:
    """The variables and polynomials (msolve/Singular syntax) of the critical equations."""
    x = sympy.Symbol("x")
    degrees = dilation_degrees(k, s)
    c = sympy.Symbol("c")
    t = {S: [sympy.Symbol(f"t{S}_{i}") for i in range(D)] for S, D in degrees.items()}
    W = {S: sympy.Poly(x**(S * D) + sum(t[S][i] * x**(S * i) for i in range(D)), x) for S, D in degrees.items()}
    K = 1 + sum(S * D for S, D in degrees.items())
    if len(u) != K or len(G) != K:
        raise ValueError("data of the wrong size")
    Gq = [[Fraction(a) for a in row] for row in G]
    uq = [Fraction(a) for a in u]

    def coefficients(poly: sympy.Poly) -> list[Any]:
        co = poly.all_coeffs()[::-1]
        return co + [0] * (K - len(co))

    product = sympy.Poly(1, x)
    for S in degrees:
        product = product * W[S]
    v = [c * a for a in coefficients(product)]
    residual = [sum(sympy.Rational(Gq[i][j].numerator, Gq[i][j].denominator) * (v[j] - sympy.Rational(
        uq[j].numerator, uq[j].denominator)) for j in range(K)) for i in range(K)]
    tangents = [coefficients(product)]
    for S, D in degrees.items():
        others = sympy.Poly(1, x)
        for S2 in degrees:
            if S2 != S:
                others = others * W[S2]
        for i in range(D):
            tangents.append(coefficients(others * sympy.Poly(x**(S * i), x)))
    equations = [sympy.expand(sum(tv[i] * residual[i] for i in range(K))) for tv in tangents]
    y = sympy.Symbol("y")
    guard = c
    dilations = list(degrees)
    for a in range(len(dilations)):
        for b in range(a + 1, len(dilations)):
            S, S2 = dilations[a], dilations[b]
            Wa = sum(t[S][i] * y**i for i in range(degrees[S])) + y**degrees[S]
            Wb = sum(t[S2][i] * y**((S2 // S) * i) for i in range(degrees[S2])) + y**((S2 // S) * degrees[S2])
            guard = guard * sympy.resultant(Wa, Wb, y)
    z = sympy.Symbol("z")
    equations.append(sympy.expand(z * guard - 1))
    variables = [c] + [v_ for S in degrees for v_ in t[S]] + [z]
    # clear denominators so that every polynomial has integer coefficients
    polys = []
    for e in equations:
        numerator, _ = sympy.fraction(sympy.together(e))
        polys.append(str(sympy.expand(numerator)).replace("**", "^"))
    return [str(v_) for v_ in variables], polys


def exact_strided_count(k: Sequence[int], s: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                        engine: str = "msolve") -> int:
    """Distinct complex critical points of ``(v-u)^T G (v-u)`` on the closure of the function
    space of ``(k, s)`` at its smooth, pairwise-coprime points (see the module docstring)."""
    variables, polys = strided_system(k, s, G, u)
    distinct, _ = {"msolve": count_msolve, "singular": count_singular}[engine](variables, polys)
    return distinct
