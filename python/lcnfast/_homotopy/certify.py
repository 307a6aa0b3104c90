"""Certification of endpoints: Krawczyk tests on the exact critical equations.

Every returned point is proven by the Krawczyk test on the exact critical equations (the
float64 data are exact rationals and the family's form and chart are dyadic): first for all
points at once in C++ interval arithmetic (``lcnfast._core.CriticalSystem.certify``:
round-to-nearest operations widened by one ulp, data enclosed in float64 intervals); a point
this does not prove is tried again in 128-bit ball arithmetic (python-flint ``acb``). A box
around the point holds exactly one solution; a real point's box is symmetric under
conjugation, so its unique solution is real; and the box is proven to avoid the degenerate
forms (``a = 0``, ``b = 0``, and the family's own degeneracies,
:meth:`Family.box_nondegenerate`), so it is a true point of the family.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .family import Family

__all__ = ["Certifier", "boxes_apart", "enclosures", "exact_chart_data"]

@functools.lru_cache(maxsize=8)
def exact_chart_data(R_exact: tuple[tuple[Fraction, ...], ...], G_bytes: bytes, u_bytes: bytes) -> tuple[Any, ...]:
    """``(R, wq, Gcq, w, G, intervals)`` for float64 data ``G`` (K x K) and ``u`` (K,)
    given as bytes: the chart matrix, the exact chart parameters ``w = R^T G u`` and
    ``Gc = R^T G R`` (python-flint ``fmpq_mat``), the same as balls (``acb_mat``, rounded
    once, to 128 bits), and as float64 enclosures ``(w_lo, w_hi, G_lo, G_hi)`` for the Krawczyk tests in
    C++ (None beyond the float64 range, where the ball arithmetic still works)."""
    import flint

    def exact(x: Any) -> Any:
        q = Fraction(x)
        return flint.fmpq(q.numerator, q.denominator)

    K = len(R_exact)
    G = np.frombuffer(G_bytes, dtype=float).reshape(K, K)
    u = np.frombuffer(u_bytes, dtype=float)
    R = flint.fmpq_mat(K, K, [exact(x) for row in R_exact for x in row])
    Gq = flint.fmpq_mat(K, K, [exact(float(x)) for row in G for x in row])
    uq = flint.fmpq_mat(K, 1, [exact(float(x)) for x in u])
    wq = (R.transpose() * (Gq * uq)).transpose()
    Gcq = R.transpose() * Gq * R
    intervals: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None
    try:
        w_lo, w_hi = enclosures([wq[0, i] for i in range(K)])
        G_lo, G_hi = enclosures([Gcq[i, j] for i in range(K) for j in range(K)])
        intervals = (w_lo, w_hi, G_lo.reshape(K, K), G_hi.reshape(K, K))
    except OverflowError:
        intervals = None
    # the balls at the precision of the ball Krawczyk test (128 bits): rounded at the default
    # 53 bits, the data alone made F's enclosure 1e-16 of its terms wide, which near b = 0
    # (Bombieri-Weyl weights, terms 1e5 times F's size) the test could not absorb
    saved = flint.ctx.prec
    flint.ctx.prec = 128
    try:
        w_balls, G_balls = flint.acb_mat(wq), flint.acb_mat(Gcq)
    finally:
        flint.ctx.prec = saved
    return R, wq, Gcq, w_balls, G_balls, intervals


class Certifier:
    """Krawczyk tests of a family's critical equations, for exact data, in one chart.

    Holds the exact data of the chart and, between a proof and the questions about it
    (:meth:`nondegenerate`, the family's ``exact_degeneracy``), the last proven box."""

    def __init__(self, family: Family, chart: int, G: NDArray[np.float64], u: NDArray[np.float64]) -> None:
        import flint

        self.flint = flint
        self.family = family
        # the exact chart parameters depend on the data and the chart, not on the stratum:
        # shared by the strata of one data set
        data = exact_chart_data(family.chart_matrix(chart), np.ascontiguousarray(G, dtype=float).tobytes(),
                                 np.ascontiguousarray(u, dtype=float).tobytes())
        self.R, self.wq, self.Gcq, self.w, self.G = data[:5]
        self.intervals: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                              NDArray[np.float64]] | None = data[5]
        self.R_inverse: Any = None
        self.box_bounds: NDArray[np.float64] | None = None  # the last box taken from certify_many
        self.centre: NDArray[np.complex128] = np.zeros(0, dtype=complex)
        self._box: list[Any] | None = []  # the last proven box (None: build it from box_bounds)
        self.ab_nonzero = False   # whether a = w.p and b = p.Gc p exclude 0 on it
        # per proven row of the last certify_many: centre, radius, box, a and b nonzero, and
        # nondegenerate() when decided for all rows at once (None: decided per point)
        self.batch: dict[int, tuple[NDArray[np.complex128], float, NDArray[np.float64], bool, bool | None]] = {}
        self._nondegenerate: bool | None = None  # nondegenerate() of the last proven box

    def _evaluate(self, e: list[Any], second: bool) -> tuple[Any, Any, Any, Any, Any]:
        fl = self.flint
        fam = self.family
        K, n = fam.K, fam.n
        p, P, P2 = fam.jets(e, fl.acb_poly, second)
        pm = fl.acb_mat(K, 1, [fl.acb(x) for x in p])
        Pm = fl.acb_mat(K, n, [fl.acb(P[j][a]) for a in range(K) for j in range(n)])
        g = self.G * pm
        a = (self.w * pm)[0, 0]
        b = (pm.transpose() * g)[0, 0]
        ak = self.w * Pm  # 1 x n
        bk = (g.transpose() * Pm) * 2  # 1 x n
        F = [ak[0, j] * b - a * bk[0, j] / 2 for j in range(n)]
        J = None
        if second:
            P2m = fl.acb_mat(K, n * n, [fl.acb(P2[j][k][al]) for al in range(K) for j in range(n) for k in range(n)])
            A2 = self.w * P2m
            B2 = g.transpose() * P2m
            PtGP = Pm.transpose() * (self.G * Pm)
            J = fl.acb_mat(n, n)
            for j in range(n):
                for k in range(n):
                    bjk = (B2[0, j * n + k] + PtGP[j, k]) * 2
                    J[j, k] = A2[0, j * n + k] * b + ak[0, j] * bk[0, k] - (ak[0, k] * bk[0, j] + a * bjk) / 2
        return F, J, a, b, pm

    def certify_many(self, E: NDArray[np.complex128], real: NDArray[np.bool_], threads: int
                     ) -> NDArray[np.bool_]:
        """Krawczyk tests around every row of ``E`` at once, in C++ interval arithmetic
        (``lcnfast._core.CriticalSystem.certify``); which were proven. Rows not proven here
        may still be proven by :meth:`certify` (128-bit balls). A proven row's box, refined
        point and whether ``a``, ``b`` exclude 0 on the box are kept for :meth:`take` and
        :meth:`nondegenerate`."""
        self.batch = {}
        if self.intervals is None or E.shape[0] == 0:
            return np.zeros(E.shape[0], dtype=bool)
        fam = self.family
        found = fam.system().certify(*self.intervals, np.ascontiguousarray(E, dtype=complex),
                                     [bool(r) for r in real], threads)
        proven, radius, centre, box = found.proven, found.radius, found.centre, found.box
        a_ok, b_ok = found.a_nonzero, found.b_nonzero
        decided: NDArray[np.bool_] | None = None
        quick = fam.batch_nondegenerate(np.asarray(box, dtype=float)) if E.shape[0] else None
        if quick is not None:  # nondegenerate() for all rows at once
            decided = np.asarray(a_ok, dtype=bool) & np.asarray(b_ok, dtype=bool) & quick
        for i in np.flatnonzero(proven):
            self.batch[int(i)] = (centre[i], float(radius[i]), box[i], bool(a_ok[i] and b_ok[i]),
                                  None if decided is None else bool(decided[i]))
        return np.asarray(proven, dtype=bool)

    def take(self, i: int) -> tuple[bool, float]:
        """Makes row ``i`` of the last :meth:`certify_many` the last proven point (as
        :meth:`certify` does): ``(proven, radius)``."""
        if i not in self.batch:
            return False, 0.0
        centre, radius, box, ab_ok, decided = self.batch[i]
        self.centre = centre
        self._box = None  # as balls when needed (nondegenerate, exact_degeneracy)
        self.box_bounds = np.asarray(box, dtype=float)
        self.ab_nonzero = ab_ok
        self._nondegenerate = decided
        return True, radius

    @property
    def box(self) -> list[Any]:
        """The last proven box as python-flint complex balls (one per unknown)."""
        if self._box is None:
            fl = self.flint

            def ball(lo: float, hi: float) -> Any:
                return fl.arb(lo).union(fl.arb(hi))

            assert self.box_bounds is not None
            self._box = [fl.acb(ball(b[0], b[1]), ball(b[2], b[3])) for b in self.box_bounds]
        return self._box

    def certify(self, x: NDArray[np.complex128], real: bool) -> tuple[bool, float]:
        """Krawczyk test around ``x``: (proven, radius). With ``real``, the box is centred on
        the real line, so the unique solution it holds is real.

        The centre is polished by Newton steps with residuals in 128-bit ball arithmetic
        until the step is below ``1e-10`` relative (the tracker's endpoints, refined to double
        precision, usually are at once); the box around that centre then grows from
        four times the last Newton step by epsilon-inflation (Rump) until the Krawczyk
        operator maps it into its interior. The Krawczyk operator may be taken at any point
        of the box, so the box need not be centred on the solution: it only has to hold it,
        and its size is what the test proves. The point returned (``self.centre``) is the
        centre minus the last Newton step."""
        fl = self.flint
        n = self.family.n
        saved = fl.ctx.prec
        fl.ctx.prec = 128
        try:
            centre = np.real(x).astype(complex) if real else np.asarray(x, dtype=complex)
            Y = None
            for _ in range(4):
                point = [fl.acb(complex(c)) for c in centre]
                F, J, _, _, _ = self._evaluate(point, True)
                assert J is not None
                Jmid = np.array([[complex(J[j, k].mid()) for k in range(n)] for j in range(n)])
                try:
                    Y = np.linalg.inv(Jmid)
                except np.linalg.LinAlgError:
                    return False, 0.0
                step = Y @ np.array([complex(f.mid()) for f in F])
                if real:
                    step = step.real.astype(complex)
                if not np.all(np.isfinite(step)):
                    return False, 0.0
                if np.linalg.norm(step) <= 1e-10 * (1.0 + np.linalg.norm(centre)):
                    break  # close: F and Y above belong to this centre
                centre = centre - step
            else:
                point = [fl.acb(complex(c)) for c in centre]
                F, _, _, _, _ = self._evaluate(point, False)
            assert Y is not None
            correction = Y @ np.array([complex(f.mid()) for f in F])
            if real:
                correction = correction.real.astype(complex)
            delta = np.abs(correction)
            radii = 4.0 * delta + 1e-13 * (1.0 + np.abs(centre))  # 1e-15 failed first and grew
            Ym = fl.acb_mat(n, n, [fl.acb(complex(Y[j, k])) for j in range(n) for k in range(n)])
            Fm = fl.acb_mat(n, 1, F)
            identity = fl.acb_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
            base = fl.acb_mat(n, 1, point) - Ym * Fm
            for _ in range(12):
                box = [fl.acb(fl.arb(c.real, r), fl.arb(c.imag, r)) for c, r in zip(centre, radii)]
                _, JX, a, b, _ = self._evaluate(box, True)
                assert JX is not None
                offset = fl.acb_mat(n, 1, [box[i] - point[i] for i in range(n)])
                Kx = base + (identity - Ym * JX) * offset
                if all(box[i].contains_interior(Kx[i, 0]) for i in range(n)):
                    self.centre = centre - correction if np.all(np.isfinite(correction)) else centre
                    self._box = box  # for nondegenerate()
                    self.box_bounds = None
                    self._nondegenerate = None
                    self.ab_nonzero = not (a.contains(0) or b.contains(0))
                    return True, float(np.max(radii))
                reach = np.array([float((Kx[i, 0] - point[i]).abs_upper()) for i in range(n)])
                if not np.all(np.isfinite(reach)):
                    return False, 0.0
                with np.errstate(over="ignore"):
                    radii = 2.0 * np.maximum(radii, reach)
                if not np.all(np.isfinite(radii)):
                    return False, 0.0
            return False, 0.0
        finally:
            fl.ctx.prec = saved

    def nondegenerate(self) -> bool:
        """Whether every point of the box of the last proven :meth:`certify` (which holds its
        unique solution) is a point of the stratum: ``a, b != 0`` there (enclosures from the
        Krawczyk test's own evaluation on the box) and the roots of the groups pairwise
        distinct (discriminants and resultants exclude 0)."""
        if self._nondegenerate is None:
            self._nondegenerate = self._decide_nondegenerate()
        return self._nondegenerate

    def _decide_nondegenerate(self) -> bool:
        if self.box_bounds is None and not self._box:
            raise RuntimeError("nondegenerate() needs a proven certify() first")
        if not self.ab_nonzero:
            return False
        if self.box_bounds is not None:
            quick = self.family.batch_nondegenerate(self.box_bounds[None])
            if quick is not None:
                return bool(quick[0])
        return self.family.box_nondegenerate(self.box)

    def exact_equations(self, e: list[Any]) -> tuple[list[Any], Any, Any]:
        """The critical equations ``a_j b - a b_j / 2`` at rational unknowns, and ``a = w.p``,
        ``b = p.Gc p`` there, exactly."""
        fl = self.flint
        fam = self.family
        p, P, _ = fam.jets(e, fl.fmpq_poly, False)
        pm = fl.fmpq_mat(fam.K, 1, p)
        Pm = fl.fmpq_mat(fam.K, fam.n, [P[j][k] for k in range(fam.K) for j in range(fam.n)])
        g = self.Gcq * pm
        a = (self.wq * pm)[0, 0]
        b = (pm.transpose() * g)[0, 0]
        ak = self.wq * Pm
        gk = g.transpose() * Pm
        return [ak[0, j] * b - a * gk[0, j] for j in range(fam.n)], a, b


def boxes_apart(boxes: ArrayLike) -> NDArray[np.bool_]:
    """For boxes of shape (P, n, 4) (per unknown: re lo, re hi, im lo, im hi), whether the
    n rectangles of each box are pairwise disjoint, by exact comparisons of their bounds."""
    b = np.asarray(boxes, dtype=float)
    apart = ((b[:, :, None, 1] < b[:, None, :, 0]) | (b[:, None, :, 1] < b[:, :, None, 0])
             | (b[:, :, None, 3] < b[:, None, :, 2]) | (b[:, None, :, 3] < b[:, :, None, 2]))
    upper = np.triu(np.ones((b.shape[1], b.shape[1]), dtype=bool), 1)
    return np.asarray(np.all(apart | ~upper, axis=(1, 2)), dtype=bool)


def enclosures(values: list[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Float64 bounds ``lo <= q <= hi`` of exact rationals (python-flint ``fmpq``), each at
    most one ulp from ``q``. Raises ``OverflowError`` beyond the float64 range."""
    lo = np.empty(len(values))
    hi = np.empty(len(values))
    for i, x in enumerate(values):
        q = Fraction(int(x.p), int(x.q))
        f = float(q)  # correctly rounded (integer true division)
        if not math.isfinite(f):
            raise OverflowError("beyond float64")
        lo[i] = f if Fraction(f) <= q else math.nextafter(f, -math.inf)
        hi[i] = f if Fraction(f) >= q else math.nextafter(f, math.inf)
    return lo, hi
