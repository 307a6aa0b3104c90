// Exact counting of the real roots of binary forms with float64 coefficients.
//
// A filter v (length k) is the binary form sum_j v[j] x^j y^(k-1-j) (DESIGN.md 2.2). Its
// real roots, counted with multiplicity, are: x = 0 with the multiplicity of the leading
// zero coefficients, the point at infinity with the multiplicity of the trailing zero
// coefficients, and the real roots of the remaining polynomial p (p(0) != 0, full degree).
//
// Every float64 is a dyadic rational, so p is exactly an integer polynomial times a power
// of two, and "exact" means exact for those rationals. Two fast paths decide most inputs:
//
//  1. A Sturm chain in floating point with a rigorous running error bound on every
//     coefficient: when every leading coefficient is certified nonzero (its magnitude
//     exceeds its error bound) and the chain ends in a certified nonzero constant, p is
//     square-free and V(-inf) - V(+inf) is its exact number of real roots.
//  2. When the coefficients are small integers (after the exact power-of-two scaling):
//     exact Sturm chains over the integers in 128-bit arithmetic with overflow checks, for
//     p, g1 = gcd(p, p'), g2 = gcd(g1, g1'), ... (each chain ends in the next gcd). With
//     D_i the number of distinct real roots of g_i, a root of multiplicity m is counted by
//     D_0 .. D_{m-1}, so the total with multiplicity is sum_i D_i and the number of roots
//     of odd multiplicity is sum_i (-1)^i D_i.
//
// Inputs neither path can certify (near-multiple roots with non-integer coefficients,
// 128-bit overflow) are reported as uncertified; the Python layer then counts them exactly
// with python-flint.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lcnfast/parallel.hpp"

namespace lcnfast {

// Degree up to which the fast paths run (beyond, everything is left to the exact fallback).
inline constexpr int kMaxFastDegree = 64;

struct RootCount {
  std::int64_t total = 0;  // real roots with multiplicity (x = 0 and infinity included)
  std::int64_t odd = 0;    // distinct real roots of odd multiplicity (ditto)
  bool certified = false;  // false: total and odd are meaningless, decide exactly elsewhere
  bool zero_form = false;  // v = 0: every point is a root
};

namespace roots_detail {

constexpr double kUnit = 1.1102230246251565e-16;  // 2^-53
// Bounds are computed in floating point too; inflating every bound operation by a few
// units in the last place keeps them upper bounds despite their own rounding.
inline double up(double x) { return x * (1.0 + 8.0 * kUnit) + 1e-300; }

struct Interval {  // value and an upper bound of its absolute error
  double v, e;
};

inline bool certified_nonzero(const Interval& x) { return std::fabs(x.v) > x.e && std::isfinite(x.e); }

// Distinct real roots of p (degree n >= 1, coefficients c[0..n]) by a floating-point Sturm
// chain; returns -1 when it cannot certify (then p may have a multiple root).
inline int float_sturm_count(const double* c, int n) {
  if (n > kMaxFastDegree) return -1;
  std::vector<Interval> A(static_cast<std::size_t>(n + 1)), B(static_cast<std::size_t>(n));
  double scale = 0.0;
  for (int i = 0; i <= n; ++i) scale = std::fmax(scale, std::fabs(c[i]));
  int exp2 = 0;
  std::frexp(scale, &exp2);
  for (int i = 0; i <= n; ++i) A[static_cast<std::size_t>(i)] = {std::ldexp(c[i], -exp2), 0.0};  // exact
  for (int i = 1; i <= n; ++i) {
    const double d = static_cast<double>(i) * A[static_cast<std::size_t>(i)].v;
    B[static_cast<std::size_t>(i - 1)] = {d, up(kUnit * std::fabs(d))};
  }
  int degA = n, degB = n - 1;
  // sign of the leading coefficient and the degree of each chain element
  int lead_sign[kMaxFastDegree + 2];
  int degree[kMaxFastDegree + 2];
  int length = 0;
  lead_sign[length] = A[static_cast<std::size_t>(degA)].v > 0 ? 1 : -1;
  degree[length++] = degA;
  if (!certified_nonzero(B[static_cast<std::size_t>(degB)])) return -1;
  lead_sign[length] = B[static_cast<std::size_t>(degB)].v > 0 ? 1 : -1;
  degree[length++] = degB;
  while (degB > 0) {
    // A <- -(A mod B), with error propagation; B's leading coefficient is certified.
    const Interval lc = B[static_cast<std::size_t>(degB)];
    const double denom = std::fabs(lc.v) - lc.e;
    for (int i = degA; i >= degB; --i) {
      const Interval ai = A[static_cast<std::size_t>(i)];
      const double q = ai.v / lc.v;
      const double eq = up(up((ai.e + std::fabs(q) * lc.e) / denom) + kUnit * std::fabs(q));
      for (int j = 0; j < degB; ++j) {
        const Interval bj = B[static_cast<std::size_t>(j)];
        Interval& target = A[static_cast<std::size_t>(i - degB + j)];
        const double t = q * bj.v;
        const double et = up(std::fabs(q) * bj.e + std::fabs(bj.v) * eq + eq * bj.e + kUnit * std::fabs(t));
        const double r = target.v - t;
        target.e = up(target.e + et + kUnit * std::fabs(r));
        target.v = r;
      }
    }
    // the remainder has degree < degB; it must be exactly degB - 1 and certified
    const int degR = degB - 1;
    double rscale = 0.0;
    for (int j = 0; j <= degR; ++j) rscale = std::fmax(rscale, std::fabs(A[static_cast<std::size_t>(j)].v));
    if (!(rscale > 0.0) || !std::isfinite(rscale)) return -1;
    int rexp = 0;
    std::frexp(rscale, &rexp);
    for (int j = 0; j <= degR; ++j) {  // negate and rescale by a power of two (exact)
      Interval& x = A[static_cast<std::size_t>(j)];
      x.v = -std::ldexp(x.v, -rexp);
      x.e = std::ldexp(x.e, -rexp);
    }
    if (!certified_nonzero(A[static_cast<std::size_t>(degR)])) return -1;
    lead_sign[length] = A[static_cast<std::size_t>(degR)].v > 0 ? 1 : -1;
    degree[length++] = degR;
    // shift: (A, B) <- (B, R)
    std::vector<Interval> R(A.begin(), A.begin() + degR + 1);
    A.assign(B.begin(), B.begin() + degB + 1);
    B = R;
    degA = degB;
    degB = degR;
  }
  int changes_minus = 0, changes_plus = 0;
  for (int i = 1; i < length; ++i) {
    if (lead_sign[i] != lead_sign[i - 1]) ++changes_plus;
    const int s0 = (degree[i - 1] % 2 ? -1 : 1) * lead_sign[i - 1];
    const int s1 = (degree[i] % 2 ? -1 : 1) * lead_sign[i];
    if (s0 != s1) ++changes_minus;
  }
  return changes_minus - changes_plus;
}

// ---- exact integer path ------------------------------------------------------------------
using int128 = __int128;

inline bool mul_ok(int128 a, int128 b, int128& out) { return !__builtin_mul_overflow(a, b, &out); }
inline bool sub_ok(int128 a, int128 b, int128& out) { return !__builtin_sub_overflow(a, b, &out); }

inline int128 abs128(int128 x) { return x < 0 ? -x : x; }
inline int128 gcd128(int128 a, int128 b) {
  a = abs128(a);
  b = abs128(b);
  while (b != 0) {
    const int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

using IntPoly = std::vector<int128>;  // ascending coefficients, leading one nonzero

inline void make_primitive(IntPoly& p) {
  int128 g = 0;
  for (int128 x : p) g = gcd128(g, x);
  if (g > 1)
    for (int128& x : p) x /= g;
}

inline void trim(IntPoly& p) {
  while (p.size() > 1 && p.back() == 0) p.pop_back();
}

// R = -(positive multiple of) (A mod B) for the Sturm chain: multiplying A by
// |lc(B)|^(degA-degB+1) keeps signs, then the remainder is made primitive. Returns false on
// overflow.
inline bool sturm_remainder(IntPoly A, const IntPoly& B, IntPoly& R) {
  const std::size_t n = B.size() - 1;
  const int128 lc = B[n];
  const int128 alc = abs128(lc);
  const int sgn = lc > 0 ? 1 : -1;
  while (A.size() >= B.size() && !(A.size() == 1 && A[0] == 0)) {
    const std::size_t m = A.size() - 1;
    const int128 am = A[m];
    // A <- alc * A - sgn * am * x^(m-n) * B : kills the leading term, keeps the sign of the
    // remainder a positive multiple of the true remainder
    for (std::size_t i = 0; i <= m; ++i) {
      int128 t;
      if (!mul_ok(A[i], alc, t)) return false;
      if (i >= m - n) {
        int128 u;
        if (!mul_ok(am, B[i - (m - n)], u)) return false;
        if (sgn < 0) u = -u;
        if (!sub_ok(t, u, t)) return false;
      }
      A[i] = t;
    }
    A.pop_back();  // exactly zero now
    trim(A);
    make_primitive(A);
    if (A.empty()) A.push_back(0);
  }
  for (int128& x : A) x = -x;
  R = A;
  return true;
}

// Distinct real roots of p (degree >= 1) and gcd(p, p') (primitive, positive leading
// coefficient) by an exact Sturm chain; false on overflow.
inline bool int_sturm(const IntPoly& p, int& distinct, IntPoly& gcd) {
  IntPoly dp(p.size() - 1);
  for (std::size_t i = 1; i < p.size(); ++i)
    if (!mul_ok(p[i], static_cast<int128>(i), dp[i - 1])) return false;
  make_primitive(dp);
  std::vector<IntPoly> chain{p, dp};
  while (true) {
    const IntPoly& A = chain[chain.size() - 2];
    const IntPoly& B = chain.back();
    if (B.size() == 1) break;  // constant
    IntPoly R;
    if (!sturm_remainder(A, B, R)) return false;
    if (R.size() == 1 && R[0] == 0) break;  // B is the gcd
    chain.push_back(R);
  }
  int changes_minus = 0, changes_plus = 0;
  auto sign_at = [](const IntPoly& q, bool minus) {
    const int s = q.back() > 0 ? 1 : -1;
    return (minus && (q.size() - 1) % 2) ? -s : s;
  };
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (sign_at(chain[i], false) != sign_at(chain[i - 1], false)) ++changes_plus;
    if (sign_at(chain[i], true) != sign_at(chain[i - 1], true)) ++changes_minus;
  }
  distinct = changes_minus - changes_plus;
  gcd = chain.back();
  if (gcd.back() < 0)
    for (int128& x : gcd) x = -x;
  return true;
}

// Exact integer path: (total, odd) for p given as doubles, or false when it does not apply
// (non-integral after power-of-two scaling, too large, overflow).
inline bool integer_counts(const double* c, int n, std::int64_t& total, std::int64_t& odd) {
  int min_exp = 1 << 30;
  for (int i = 0; i <= n; ++i) {
    if (c[i] == 0.0) continue;
    int e = 0;
    const double m = std::frexp(c[i], &e);  // c = m 2^e, |m| in [0.5, 1), 53-bit mantissa
    // lowest set bit of the mantissa: c = odd * 2^(e - 53 + tz)
    const auto mant = static_cast<std::int64_t>(std::ldexp(m, 53));
    const int tz = __builtin_ctzll(static_cast<unsigned long long>(mant < 0 ? -mant : mant));
    min_exp = std::min(min_exp, e - 53 + tz);
  }
  IntPoly p(static_cast<std::size_t>(n + 1));
  for (int i = 0; i <= n; ++i) {
    const double scaled = std::ldexp(c[i], -min_exp);  // an integer, exactly
    if (std::fabs(scaled) >= 9.0e15) return false;     // keep room for the chain's growth
    p[static_cast<std::size_t>(i)] = static_cast<int128>(static_cast<std::int64_t>(scaled));
  }
  make_primitive(p);
  total = 0;
  odd = 0;
  int sign = 1;
  while (p.size() > 1) {
    int distinct = 0;
    IntPoly g;
    if (!int_sturm(p, distinct, g)) return false;
    total += distinct;
    odd += sign * distinct;
    sign = -sign;
    p = g;
  }
  return true;
}

}  // namespace roots_detail

// Counts the real roots of the binary form v[0..k-1].
inline RootCount count_real_roots(const double* v, int k) {
  RootCount out;
  int lo = 0, hi = k - 1;
  while (lo < k && v[lo] == 0.0) ++lo;
  if (lo == k) {
    out.zero_form = true;
    out.certified = true;
    return out;
  }
  while (v[hi] == 0.0) --hi;
  const std::int64_t at_zero = lo, at_infinity = k - 1 - hi;
  out.total = at_zero + at_infinity;
  out.odd = (at_zero % 2) + (at_infinity % 2);
  const int n = hi - lo;
  if (n == 0) {
    out.certified = true;
    return out;
  }
  const int fast = roots_detail::float_sturm_count(v + lo, n);
  if (fast >= 0) {
    out.total += fast;
    out.odd += fast;
    out.certified = true;
    return out;
  }
  std::int64_t total = 0, odd = 0;
  if (n <= kMaxFastDegree && roots_detail::integer_counts(v + lo, n, total, odd)) {
    out.total += total;
    out.odd += odd;
    out.certified = true;
  }
  return out;
}

// Batched: rows of V (B x k, row-major). Returns false if stop_check interrupted.
inline bool count_real_roots_rows(const double* V, std::ptrdiff_t B, int k, std::int64_t* total, std::int64_t* odd,
                                  std::uint8_t* certified, std::uint8_t* zero_form, int threads,
                                  const StopCheck& stop_check = {}) {
  return parallel_chunks(
      B, 512, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int) {
        for (std::ptrdiff_t i = b; i < e; ++i) {
          const RootCount r = count_real_roots(V + i * k, k);
          total[i] = r.total;
          odd[i] = r.odd;
          certified[i] = r.certified ? 1 : 0;
          zero_form[i] = r.zero_form ? 1 : 0;
        }
      },
      stop_check);
}

}  // namespace lcnfast
