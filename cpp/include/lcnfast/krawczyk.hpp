// Krawczyk test of a stratum's critical equations in interval arithmetic (the proof behind
// `certified` in StratumCriticalPoints; strata.py documents the system).
//
// Interval arithmetic without switching the rounding mode: every operation is computed in
// round-to-nearest and its bounds are then moved one ulp outwards (next_up, next_down). A
// round-to-nearest result is within half an ulp of the exact one (in the subnormal range
// within half of the smallest subnormal), so the widened interval contains the exact result
// of the operation on any points of the operands. An operation that overflows or meets a NaN
// gives the whole line, and a test whose intervals are not finite is not proven.
//
// The system, for affine unknowns e (h = 1) and exact real data enclosed by intervals w (K)
// and Gc (K x K): p(e) the chart coefficients of the form (terms as in StratumFamily),
// a = w.p, g = Gc p, b = g.p, and for every unknown e_j
//     F_j = a_j b - a b_j / 2,   a_j = w.P_j,   b_j = 2 g.P_j,
//     dF_j/de_k = a_jk b + a_j b_k - (a_k b_j + a b_jk) / 2,  b_jk = 2 (g.P_jk + P_j.Gc P_k).
// Krawczyk (complex version, Rump): for a box X, a point x in X and any matrix Y,
//     K(X) = x - Y F(x) + (I - Y J(X)) (X - x);
// K(X) inside the interior of X proves that X holds exactly one solution. With real data and
// a box symmetric under conjugation, that solution is real.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "lcnfast/parallel.hpp"
#include "lcnfast/stratum_homotopy.hpp"

namespace lcnfast {

namespace interval {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Ival {
  double lo = 0.0, hi = 0.0;
};

inline Ival whole() { return {-kInf, kInf}; }
inline Ival point(double x) { return {x, x}; }
// The next double above x (x itself for +inf and NaN): std::nextafter without its
// floating-point exception handling, which made it the larger part of every operation.
inline double next_up(double x) {
  if (!(x < kInf)) return x;
  if (x == 0.0) return std::numeric_limits<double>::denorm_min();
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits = x > 0.0 ? bits + 1 : bits - 1;
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}
inline double next_down(double x) { return -next_up(-x); }
inline Ival outward(double lo, double hi) {
  if (std::isnan(lo) || std::isnan(hi)) return whole();
  return {next_down(lo), next_up(hi)};
}
inline Ival operator+(Ival a, Ival b) { return outward(a.lo + b.lo, a.hi + b.hi); }
inline Ival operator-(Ival a, Ival b) { return outward(a.lo - b.hi, a.hi - b.lo); }
inline Ival operator-(Ival a) { return {-a.hi, -a.lo}; }  // exact
inline Ival operator*(Ival a, Ival b) {
  const double p0 = a.lo * b.lo, p1 = a.lo * b.hi, p2 = a.hi * b.lo, p3 = a.hi * b.hi;
  // a NaN product (0 * inf: an unbounded operand) makes the sum NaN, as does inf - inf
  // (operands with infinite bounds): either way the whole line, a valid enclosure
  if (std::isnan(p0 + p1 + p2 + p3)) return whole();
  return outward(std::min(std::min(p0, p1), std::min(p2, p3)), std::max(std::max(p0, p1), std::max(p2, p3)));
}
// x a for a double x: two products instead of four.
inline Ival scale(double x, Ival a) {
  if (std::isnan(x * a.lo + x * a.hi)) return whole();
  return x >= 0.0 ? outward(x * a.lo, x * a.hi) : outward(x * a.hi, x * a.lo);
}
inline bool finite(Ival a) { return std::isfinite(a.lo) && std::isfinite(a.hi); }
inline bool contains_zero(Ival a) { return a.lo <= 0.0 && 0.0 <= a.hi; }
inline double mag(Ival a) { return std::max(std::abs(a.lo), std::abs(a.hi)); }
// Whether b lies in the interior of a.
inline bool inside(Ival b, Ival a) { return a.lo < b.lo && b.hi < a.hi; }

// Complex rectangles.
struct CIval {
  Ival re, im;
};

inline CIval cpoint(cplx z) { return {point(z.real()), point(z.imag())}; }
inline CIval operator+(const CIval& a, const CIval& b) { return {a.re + b.re, a.im + b.im}; }
inline CIval operator-(const CIval& a, const CIval& b) { return {a.re - b.re, a.im - b.im}; }
inline CIval operator*(const CIval& a, const CIval& b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
inline CIval scale(double x, const CIval& a) { return {scale(x, a.re), scale(x, a.im)}; }
// A real interval times a complex one (the data are real).
inline CIval operator*(Ival r, const CIval& a) { return {r * a.re, r * a.im}; }
inline bool finite(const CIval& a) { return finite(a.re) && finite(a.im); }
inline bool excludes_zero(const CIval& a) { return !contains_zero(a.re) || !contains_zero(a.im); }
inline cplx mid(const CIval& a) { return {0.5 * a.re.lo + 0.5 * a.re.hi, 0.5 * a.im.lo + 0.5 * a.im.hi}; }

}  // namespace interval

// Exact real data of one certification: enclosures of w (K) and Gc (K x K, row-major).
struct CertifyData {
  std::vector<interval::Ival> w;
  std::vector<interval::Ival> G;
};

struct CertifiedPoint {
  bool proven = false;
  bool a_nonzero = false;  // a = w.p excludes 0 on the proven box
  bool b_nonzero = false;  // b = p.Gc p excludes 0 on the proven box
  double radius = 0.0;     // largest half-width of the proven box
  Eigen::VectorXcd centre;                  // the point minus one Newton step on the exact data
  std::vector<interval::CIval> box;         // the proven box (n rectangles)
};

namespace krawczyk_detail {

using interval::CIval;
using interval::Ival;

// F (n) and, with `jacobian`, J (n x n, row-major) of the affine system on the box e (n),
// and a, b; intervals enclosing their values at every point of the box.
inline void evaluate(const StratumFamily& f, const CertifyData& d, const std::vector<CIval>& e, bool jacobian,
                     std::vector<CIval>& F, std::vector<CIval>& J, CIval& a, CIval& b) {
  const int N = f.N, K = f.K, n = N - 1;
  const auto uN = static_cast<std::size_t>(N), uK = static_cast<std::size_t>(K), un = static_cast<std::size_t>(n);
  int max_exp = 0;
  for (int x : f.exps) max_exp = std::max(max_exp, x);
  const auto stride = static_cast<std::size_t>(max_exp) + 1;
  // powers of the affine unknowns (h = 1 exactly: its powers are 1 and are left out)
  std::vector<CIval> pw(un * stride);
  for (std::size_t v = 0; v < un; ++v) {
    pw[v * stride] = interval::cpoint(1.0);
    for (std::size_t k = 1; k < stride; ++k) pw[v * stride + k] = pw[v * stride + k - 1] * e[v];
  }
  const CIval zero = interval::cpoint(0.0);
  std::vector<CIval> p(uK, zero), P(uK * un, zero), P2(jacobian ? uK * un * un : 0, zero);
  // per term: prefix and suffix products of its factors (pre[v] = c prod_{u<v}, suf[v] =
  // prod_{u>=v}), so that its value and derivatives take O(n) and O(n^2) products, as in
  // StratumHomotopy::eval
  CIval pre[kMaxUnknowns + 1], suf[kMaxUnknowns + 1];
  for (std::size_t al = 0; al < uK; ++al)
    for (int t = f.begin[al]; t < f.begin[al + 1]; ++t) {
      const int* ex = &f.exps[static_cast<std::size_t>(t) * uN] + 1;  // the affine unknowns' exponents
      const auto power = [&](std::size_t v, int k) -> const CIval& { return pw[v * stride + static_cast<std::size_t>(k)]; };
      pre[0] = interval::cpoint(f.coeff[static_cast<std::size_t>(t)]);
      for (std::size_t v = 0; v < un; ++v) pre[v + 1] = ex[v] == 0 ? pre[v] : pre[v] * power(v, ex[v]);
      suf[un] = interval::cpoint(1.0);
      for (std::size_t v = un; v-- > 0;) suf[v] = ex[v] == 0 ? suf[v + 1] : suf[v + 1] * power(v, ex[v]);
      p[al] = p[al] + pre[un];
      for (std::size_t j = 0; j < un; ++j) {
        if (ex[j] == 0) continue;
        // pre[j] e_j^(ex_j - 1) ex_j: the factors before j, differentiated in e_j
        const CIval left = interval::scale(static_cast<double>(ex[j]), ex[j] == 1 ? pre[j] : pre[j] * power(j, ex[j] - 1));
        P[al * un + j] = P[al * un + j] + (left * suf[j + 1]);
        if (!jacobian) continue;
        if (ex[j] >= 2) {
          const CIval second = interval::scale(static_cast<double>(ex[j] * (ex[j] - 1)),
                                               ex[j] == 2 ? pre[j] : pre[j] * power(j, ex[j] - 2));
          P2[(al * un + j) * un + j] = P2[(al * un + j) * un + j] + second * suf[j + 1];
        }
        CIval mid = left;  // times the factors strictly between j and k
        for (std::size_t k = j + 1; k < un; ++k) {
          if (ex[k] != 0) {
            const CIval right = interval::scale(static_cast<double>(ex[k]), ex[k] == 1 ? suf[k + 1] : power(k, ex[k] - 1) * suf[k + 1]);
            P2[(al * un + j) * un + k] = P2[(al * un + j) * un + k] + mid * right;
            mid = mid * power(k, ex[k]);
          }
        }
      }
    }
  const auto wI = [&](std::size_t al) { return d.w[al]; };
  const auto GI = [&](std::size_t i, std::size_t j) { return d.G[i * uK + j]; };
  std::vector<CIval> g(uK, zero);
  a = zero;
  b = zero;
  for (std::size_t i = 0; i < uK; ++i) {
    for (std::size_t j = 0; j < uK; ++j) g[i] = g[i] + GI(i, j) * p[j];
    a = a + wI(i) * p[i];
  }
  for (std::size_t i = 0; i < uK; ++i) b = b + g[i] * p[i];
  std::vector<CIval> ak(un, zero), bk(un, zero);
  for (std::size_t j = 0; j < un; ++j) {
    for (std::size_t al = 0; al < uK; ++al) {
      ak[j] = ak[j] + wI(al) * P[al * un + j];
      bk[j] = bk[j] + g[al] * P[al * un + j];
    }
    bk[j] = interval::scale(2.0, bk[j]);
  }
  const CIval half = interval::cpoint(0.5);
  F.assign(un, zero);
  for (std::size_t j = 0; j < un; ++j) F[j] = ak[j] * b - half * (a * bk[j]);
  if (!jacobian) return;
  std::vector<CIval> GP(uK * un, zero);  // Gc P
  for (std::size_t i = 0; i < uK; ++i)
    for (std::size_t k = 0; k < un; ++k)
      for (std::size_t al = 0; al < uK; ++al) GP[i * un + k] = GP[i * un + k] + GI(i, al) * P[al * un + k];
  J.assign(un * un, zero);
  for (std::size_t j = 0; j < un; ++j)
    for (std::size_t k = j; k < un; ++k) {
      // w.p_jk and g.p_jk are symmetric in j, k: once per pair
      CIval a2 = zero, b2 = zero, pgp_jk = zero, pgp_kj = zero;
      for (std::size_t al = 0; al < uK; ++al) {
        const CIval second = P2[(al * un + j) * un + k];
        a2 = a2 + wI(al) * second;
        b2 = b2 + g[al] * second;
        pgp_jk = pgp_jk + P[al * un + j] * GP[al * un + k];
        if (k != j) pgp_kj = pgp_kj + P[al * un + k] * GP[al * un + j];
      }
      const CIval a2b = a2 * b;
      J[j * un + k] = a2b + ak[j] * bk[k] - half * (ak[k] * bk[j] + a * interval::scale(2.0, b2 + pgp_jk));
      if (k != j)
        J[k * un + j] = a2b + ak[k] * bk[j] - half * (ak[j] * bk[k] + a * interval::scale(2.0, b2 + pgp_kj));
    }
}

inline CIval around(cplx c, double r, bool real) {
  using interval::outward;
  // a real point's box is exactly symmetric under conjugation: [-r', r'] with r' = r widened
  const Ival im = real ? Ival{std::nextafter(-r, -interval::kInf), std::nextafter(r, interval::kInf)}
                       : outward(c.imag() - r, c.imag() + r);
  return {outward(c.real() - r, c.real() + r), im};
}

// `sys`: the same equations in floating point at the midpoints of the data (its s = 0 end),
// for the preconditioner Y (any matrix is valid in the Krawczyk operator; an approximate
// inverse of the Jacobian at x makes the test succeed): the interval evaluation at the point
// then needs F only, not the second derivatives, which are most of its cost.
inline CertifiedPoint certify_one(const StratumFamily& f, const CertifyData& d, const StratumHomotopy& sys,
                                  Eigen::VectorXcd x, bool real) {
  using namespace interval;
  const int n = f.N - 1;
  const auto un = static_cast<std::size_t>(n);
  CertifiedPoint out;
  out.centre = x;
  if (real) x = x.real().cast<cplx>();
  if (!x.allFinite()) return out;
  std::vector<CIval> pt(un), F, J, X, Jx;
  CIval a, b;
  for (std::size_t i = 0; i < un; ++i) pt[i] = cpoint(x[static_cast<Eigen::Index>(i)]);
  evaluate(f, d, pt, false, F, Jx, a, b);
  HVec z(f.N), H, Hs;
  HMat Hz;
  z[0] = 1.0;
  for (int i = 0; i < n; ++i) z[i + 1] = x[i];
  sys.eval(z, cplx(0.0), H, Hz, Hs);
  Eigen::MatrixXcd Jm(n, n);
  Eigen::VectorXcd Fm(n);
  for (int j = 0; j < n; ++j) {
    Fm[j] = mid(F[static_cast<std::size_t>(j)]);
    for (int k = 0; k < n; ++k) Jm(j, k) = Hz(j, k + 1);  // d F_j / d e_k at h = 1
  }
  if (!Jm.allFinite() || !Fm.allFinite()) return out;
  const Eigen::FullPivLU<Eigen::MatrixXcd> lu(Jm);
  if (!lu.isInvertible()) return out;
  const Eigen::MatrixXcd Y = lu.inverse();
  Eigen::VectorXcd correction = Y * Fm;
  if (real) correction = correction.real().cast<cplx>();
  if (!Y.allFinite() || !correction.allFinite()) return out;
  // base = x - Y F(x), the part of K(X) that does not depend on X
  std::vector<CIval> base(un);
  for (std::size_t i = 0; i < un; ++i) {
    CIval s = cpoint(0.0);
    for (std::size_t j = 0; j < un; ++j) s = s + cpoint(Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j))) * F[j];
    base[i] = pt[i] - s;
  }
  // The first box: four times the reach of x - Y F(x) from x, which covers the Newton
  // correction and the rounding of F(x) (the box must hold K's value at x itself: starting
  // from the correction alone took about six doublings per point, from 1e-13 to 1e-11)
  std::vector<double> radii(un);
  for (std::size_t i = 0; i < un; ++i) {
    const auto I = static_cast<Eigen::Index>(i);
    const CIval off = base[i] - pt[i];
    const double reach = next_up(std::hypot(mag(off.re), mag(off.im)));
    radii[i] = 4.0 * std::max(std::abs(correction[I]), reach) + 1e-13 * (1.0 + std::abs(x[I]));
  }
  for (int round = 0; round < 12; ++round) {
    X.resize(un);
    for (std::size_t i = 0; i < un; ++i) X[i] = around(x[static_cast<Eigen::Index>(i)], radii[i], real);
    evaluate(f, d, X, true, F, J, a, b);
    bool contained = true, bounded = true;
    std::vector<double> reach(un, 0.0);
    for (std::size_t i = 0; i < un; ++i) {
      CIval k = base[i];
      for (std::size_t m = 0; m < un; ++m) {
        // (I - Y J(X))_im
        CIval M = cpoint(i == m ? 1.0 : 0.0);
        for (std::size_t j = 0; j < un; ++j)
          M = M - cpoint(Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j))) * J[j * un + m];
        k = k + M * (X[m] - pt[m]);
      }
      if (!finite(k)) bounded = false;
      contained = contained && inside(k.re, X[i].re) && inside(k.im, X[i].im);
      const CIval dist = k - pt[i];
      reach[i] = next_up(std::hypot(mag(dist.re), mag(dist.im)));
    }
    if (!bounded) return out;
    if (contained) {
      out.proven = true;
      out.a_nonzero = excludes_zero(a);
      out.b_nonzero = excludes_zero(b);
      out.radius = *std::max_element(radii.begin(), radii.end());
      out.centre = x - correction;
      out.box = X;
      return out;
    }
    for (std::size_t i = 0; i < un; ++i) radii[i] = 2.0 * std::max(radii[i], reach[i]);
  }
  return out;
}

}  // namespace krawczyk_detail

// Krawczyk tests around the points `centres` (affine unknowns e), independently per point
// (threads do not change the answers).
inline std::vector<CertifiedPoint> certify_stratum_points(const StratumFamily& family, const CertifyData& data,
                                                          const std::vector<Eigen::VectorXcd>& centres,
                                                          const std::vector<bool>& real, int threads,
                                                          const StopCheck& stop_check, bool& interrupted) {
  family.check();
  const auto K = static_cast<std::size_t>(family.K);
  if (data.w.size() != K || data.G.size() != K * K)
    throw std::invalid_argument("data: w needs K intervals and G K x K");
  if (real.size() != centres.size()) throw std::invalid_argument("real: needs one flag per point");
  for (const auto& c : centres)
    if (c.size() != family.N - 1) throw std::invalid_argument("centres: each point needs N - 1 entries");
  // the data's midpoints, for the preconditioners
  StratumParams mid_data;
  mid_data.w.resize(family.K);
  mid_data.G.resize(family.K, family.K);
  for (std::size_t i = 0; i < K; ++i) {
    mid_data.w[static_cast<Eigen::Index>(i)] = interval::mid({data.w[i], interval::point(0.0)});
    for (std::size_t j = 0; j < K; ++j)
      mid_data.G(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
          interval::mid({data.G[i * K + j], interval::point(0.0)});
  }
  const StratumHomotopy sys(family, mid_data, mid_data);
  std::vector<CertifiedPoint> out(centres.size());
  const bool done = parallel_chunks(
      static_cast<std::ptrdiff_t>(centres.size()), 4, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int) {
        for (std::ptrdiff_t i = b; i < e; ++i) {
          const auto u = static_cast<std::size_t>(i);
          out[u] = krawczyk_detail::certify_one(family, data, sys, centres[u], real[u]);
        }
      },
      stop_check);
  interrupted = !done;
  return out;
}

}  // namespace lcnfast
