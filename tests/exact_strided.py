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

A root at infinity (a factor whose top coefficient vanishes) is a patch of its own, where the
factor is monic of a lower degree (:func:`patch_counts`: every combination of such degree
drops; two factors may share the root at infinity and still be a point where the
parametrisation is an immersion, e.g. ``v = 1 + 4x`` for ``(2, 2, 2)`` with strides
``(1, 2, 1)``); the patches are disjoint, so their counts add up.

The points with ``c = 0`` or where the Jacobian of ``(c, t) -> v`` has rank below
``1 + sum_S D_S`` are removed by a Rabinowitsch variable: ``z c det(R J) - 1 = 0`` with ``J`` the
Jacobian (K x (n + 1)) and ``R`` a fixed random integer matrix, so ``det(R J)`` is a random
combination of the maximal minors (Cauchy-Binet): zero wherever the rank drops, and with
overwhelming probability at no full-rank critical point. (Factors sharing a root do not make
the rank drop in general: ``(1 + x)(x^2 - 1)`` is a smooth point of the 2 x 2 rank-one
matrices, the closure of ``Architecture([2, 2], [2, 1])``.) The number of distinct complex solutions is computed by msolve
(or Singular) over Q (tests/exact_strata.py's engines).
"""

from __future__ import annotations

import itertools
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


def strided_system(k: Sequence[int], s: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                   drop: dict[int, int] | None = None, separating: Sequence[int] | None = None,
                   tangent_matrix: list[list[str]] | None = None) -> tuple[list[str], list[str]]:
    """The variables and polynomials (msolve/Singular syntax) of the critical equations on one
    patch: each ``W_S`` monic of degree ``D_S - drop[S]`` (a root of multiplicity ``drop[S]``
    at infinity; its top coefficients are 0 at the point but still directions of the tangent
    space). ``tangent_matrix``, if given, receives the Jacobian's entries as strings."""
    degrees = dilation_degrees(k, s)
    return family_system([(S, 1, D) for S, D in degrees.items()], G, u,
                         drop=[(drop or {}).get(S, 0) for S in degrees], separating=separating,
                         tangent_matrix=tangent_matrix)


def family_system(factors: Sequence[tuple[int, int, int]], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                  drop: Sequence[int] | None = None, separating: Sequence[int] | None = None,
                  tangent_matrix: list[list[str]] | None = None) -> tuple[list[str], list[str]]:
    """The critical equations on one patch of a dilated product ``v = c prod_i q_i(x^S_i)^a_i``
    with ``factors`` ``(S_i, a_i, m_i)``: each ``q_i`` monic of degree ``m_i - drop[i]`` (a root
    of multiplicity ``drop[i]`` at infinity, whose top coefficients are still directions of the
    tangent space). The closure of a strided function space is the case ``a_i = 1``, one factor
    per dilation; a multiple-root sub-family has ``a_i > 1`` (the tangent direction of a
    coefficient of ``q_i`` is ``q_i^(a_i - 1) x^(S_i j) prod_(i' != i) q_i'^a_i'``)."""
    x = sympy.Symbol("x")
    c = sympy.Symbol("c")
    drops = list(drop) if drop is not None else [0] * len(factors)
    top = [m - d for (_, _, m), d in zip(factors, drops)]
    t = [[sympy.Symbol(f"t{i}_{j}") for j in range(top[i])] for i in range(len(factors))]
    q = [sympy.Poly(x**(S * top[i]) + sum(t[i][j] * x**(S * j) for j in range(top[i])), x)
         for i, (S, _, _) in enumerate(factors)]
    K = 1 + sum(S * a * m for S, a, m in factors)
    if len(u) != K or len(G) != K:
        raise ValueError("data of the wrong size")
    Gq = [[Fraction(a) for a in row] for row in G]
    uq = [Fraction(a) for a in u]

    def coefficients(poly: sympy.Poly) -> list[Any]:
        co = poly.all_coeffs()[::-1]
        return co + [0] * (K - len(co))

    product = sympy.Poly(1, x)
    for (_, a, _), qi in zip(factors, q):
        product = product * qi**a
    v = [c * a for a in coefficients(product)]
    residual = [sum(sympy.Rational(Gq[i][j].numerator, Gq[i][j].denominator) * (v[j] - sympy.Rational(
        uq[j].numerator, uq[j].denominator)) for j in range(K)) for i in range(K)]
    tangents = [coefficients(product)]
    for i, (S, a, m) in enumerate(factors):
        others = sympy.Poly(1, x)
        for i2, ((_, a2, _), q2) in enumerate(zip(factors, q)):
            if i2 != i:
                others = others * q2**a2
        qi_power = q[i]**(a - 1)
        for j in range(m + 1):
            if j == top[i]:
                continue  # the monic coefficient: its direction is c d/dc minus the others
            tangents.append(coefficients(others * qi_power * sympy.Poly(x**(S * j), x)))
    equations = [sympy.expand(sum(tv[i] * residual[i] for i in range(K))) for tv in tangents]
    if tangent_matrix is not None:  # the K x (n + 1) Jacobian of (c, t) -> v, for rank conditions
        tangent_matrix.extend([[str(sympy.expand(tv[i] if j == 0 else c * tv[i])).replace("**", "^")
                                for j, tv in enumerate(tangents)] for i in range(K)])
    # the guard: c != 0 and the Jacobian of (c, t) -> v of full rank n + 1, by the determinant
    # of R J for a fixed random integer R ((n + 1) x K): by Cauchy-Binet a random combination of
    # the maximal minors, zero where the rank drops and, with overwhelming probability, at no
    # full-rank critical point
    columns = len(tangents)
    draw = __import__("random").Random(7 * K + columns)
    R = sympy.Matrix(columns, K, lambda i, j: draw.randint(-9, 9))
    J = sympy.Matrix(K, columns, lambda i, j: tangents[j][i])
    guard = c * sympy.expand((R * J).det(method="berkowitz"))
    z = sympy.Symbol("z")
    equations.append(sympy.expand(z * guard - 1))
    variables = [c] + [v_ for row in t for v_ in row] + [z]
    if separating is not None:  # a linear form of v, to count distinct filters rather than lifts
        ell = sympy.Symbol("ell")
        equations.append(sympy.expand(ell - sum(int(r) * vi for r, vi in zip(separating, v))))
        variables.append(ell)
    # clear denominators so that every polynomial has integer coefficients
    polys = []
    for e in equations:
        numerator, _ = sympy.fraction(sympy.together(e))
        polys.append(str(sympy.expand(numerator)).replace("**", "^"))
    return [str(v_) for v_ in variables], polys


def exact_family_count(factors: Sequence[tuple[int, int, int]], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                       engine: str = "msolve") -> int:
    """Complex critical points of ``(v-u)^T G (v-u)`` on a dilated product with ``factors``
    ``(S_i, a_i, m_i)`` at the points where ``(c, q) -> v`` is an immersion: the sum over the
    disjoint patches (each factor's degree drop at infinity, 0..m_i). Distinct ``(S_i, a_i)``
    make ``(c, q) -> v`` one-to-one, so these are distinct filters."""
    count = {"msolve": count_msolve, "singular": count_singular}[engine]
    return sum(count(*family_system(factors, G, u, drop=list(drops)))[0]
               for drops in itertools.product(*[range(m + 1) for _, _, m in factors]))


def patch_counts(k: Sequence[int], s: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                 engine: str = "msolve") -> dict[tuple[int, ...], int]:
    """Critical points per patch, keyed by the multiplicities of the root at infinity of
    each factor ``W_S`` (in increasing ``S``; all 0: the affine patch). The patches are
    disjoint and cover every point where the Jacobian has full rank."""
    count = {"msolve": count_msolve, "singular": count_singular}[engine]
    degrees = dilation_degrees(k, s)
    out: dict[tuple[int, ...], int] = {}
    for drops in itertools.product(*[range(D + 1) for D in degrees.values()]):
        variables, polys = strided_system(k, s, G, u, drop=dict(zip(degrees, drops)))
        out[drops] = count(variables, polys)[0]
    return out


def distinct_filters(k: Sequence[int], s: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                     seed: int = 0) -> int:
    """The number of distinct critical filters ``v`` at the points where the parametrisation
    is an immersion (not of their lifts ``(c, t)``: special data can make one filter critical
    through several factorisations), exactly over Q with Singular.

    Per patch (:func:`patch_counts`), a random integer linear form ``ell`` of ``v`` is
    adjoined, the other variables are eliminated, and the square-free degree of the
    polynomial in ``ell`` counts the distinct filters (a random form separates them with
    overwhelming probability)."""
    import random
    import subprocess

    from .exact_strata import _ENV, _find_binary

    degrees = dilation_degrees(k, s)
    K = 1 + sum(S * D for S, D in degrees.items())
    draw = random.Random(seed)
    separating = [draw.randint(-97, 97) for _ in range(K)]
    total = 0
    for drops in itertools.product(*[range(D + 1) for D in degrees.values()]):
        variables, polys = strided_system(k, s, G, u, drop=dict(zip(degrees, drops)), separating=separating)
        others = "*".join(variables[:-1])
        lines = ['LIB "elim.lib";', f"ring R = 0,({','.join(variables)}),dp;",
                 "ideal I = " + ",\n".join(polys) + ";"]
        lines += [f"ideal E = eliminate(I, {others});",
                  "if (size(E) == 0) { print(\"POSDIM\"); quit; }",
                  "poly f = E[1];",
                  "if (deg(f) <= 0) { print(\"DEGREE 0\"); quit; }",
                  "poly g = f / gcd(f, diff(f, ell));",
                  'print("DEGREE " + string(deg(g)));',
                  "quit;"]
        out = subprocess.run([_find_binary("Singular"), "-q", "--no-tty", "--no-rc"], input="\n".join(lines),
                             capture_output=True, text=True, check=True, env=_ENV).stdout
        if "POSDIM" in out:
            raise ValueError("the critical set is positive-dimensional")
        found = [line for line in out.splitlines() if line.startswith("DEGREE")]
        if not found:
            raise RuntimeError(f"Singular gave no degree:\n{out}")
        total += max(int(found[0].split()[1]), 0)
    return total


def exact_strided_count(k: Sequence[int], s: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                        engine: str = "msolve") -> int:
    """Distinct complex critical points of ``(v-u)^T G (v-u)`` on the closure of the function
    space of ``(k, s)`` at its smooth, pairwise-coprime points (see the module docstring)."""
    return sum(patch_counts(k, s, G, u, engine=engine).values())
