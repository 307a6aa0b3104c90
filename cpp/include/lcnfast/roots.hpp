// Exact counting of the real roots of binary forms with float64 coefficients.
//
// A filter v (length k) is the binary form sum_j v[j] x^j y^(k-1-j) (docs/conventions.rst). Its
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
#include <algorithm>
#include <cstdint>
#include <limits>
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

// Sturm chains run in double first and, when that cannot certify, again in long double
// (64-bit mantissa on x86-64), whose smaller rounding errors certify most of the rest.
template <class T>
struct Arith {
  static constexpr T unit = std::numeric_limits<T>::epsilon() / 2;
  // Bounds are computed in floating point too; inflating every bound operation by a few
  // units in the last place keeps them upper bounds despite their own rounding.
  static T up(T x) { return x * (T(1) + T(8) * unit) + std::numeric_limits<T>::denorm_min() * T(1e10); }
};

template <class T>
struct Interval {  // value and an upper bound of its absolute error
  T v, e;
};

template <class T>
inline bool certified_nonzero(const Interval<T>& x) {
  using std::fabs;
  return fabs(x.v) > x.e && x.e < std::numeric_limits<T>::max();
}

// Distinct real roots of p (degree n >= 1, coefficients c[0..n]) by a Sturm chain in T with
// rigorous error bounds; returns -1 when it cannot certify (then p may have a multiple root).
template <class T>
inline int float_sturm_count(const double* c, int n) {
  using std::fabs;
  using A = Arith<T>;
  constexpr T u = A::unit;
  if (n > kMaxFastDegree) return -1;
  // the chain's last two elements, on the stack; the remainder is formed in P's buffer
  Interval<T> storage[2][kMaxFastDegree + 1];
  Interval<T>* P = storage[0];
  Interval<T>* Q = storage[1];
  double scale = 0.0;
  for (int i = 0; i <= n; ++i) scale = std::fmax(scale, std::fabs(c[i]));
  int exp2 = 0;
  std::frexp(scale, &exp2);
  for (int i = 0; i <= n; ++i) P[i] = {T(std::ldexp(c[i], -exp2)), T(0)};  // exact
  for (int i = 1; i <= n; ++i) {
    const T d = T(i) * P[i].v;
    Q[i - 1] = {d, A::up(u * fabs(d))};
  }
  int degP = n, degQ = n - 1;
  int lead_sign[kMaxFastDegree + 2];
  int degree[kMaxFastDegree + 2];
  int length = 0;
  lead_sign[length] = P[degP].v > 0 ? 1 : -1;
  degree[length++] = degP;
  if (!certified_nonzero(Q[degQ])) return -1;
  lead_sign[length] = Q[degQ].v > 0 ? 1 : -1;
  degree[length++] = degQ;
  while (degQ > 0) {
    // P <- -(P mod Q), with error propagation; Q's leading coefficient is certified.
    const Interval<T> lc = Q[degQ];
    const T denom = fabs(lc.v) - lc.e;
    for (int i = degP; i >= degQ; --i) {
      const Interval<T> pi = P[i];
      const T q = pi.v / lc.v;
      const T eq = A::up(A::up((pi.e + fabs(q) * lc.e) / denom) + u * fabs(q));
      for (int j = 0; j < degQ; ++j) {
        const Interval<T> qj = Q[j];
        Interval<T>& target = P[i - degQ + j];
        const T t = q * qj.v;
        const T et = A::up(fabs(q) * qj.e + fabs(qj.v) * eq + eq * qj.e + u * fabs(t));
        const T r = target.v - t;
        target.e = A::up(target.e + et + u * fabs(r));
        target.v = r;
      }
    }
    // the remainder has degree < degQ; it must be exactly degQ - 1 and certified
    const int degR = degQ - 1;
    T rscale = 0;
    for (int j = 0; j <= degR; ++j) rscale = std::max(rscale, fabs(P[j].v));
    if (!(rscale > 0) || !(rscale < std::numeric_limits<T>::max())) return -1;
    int rexp = 0;
    std::frexp(static_cast<double>(rscale), &rexp);
    const T factor = T(std::ldexp(1.0, -rexp));  // a power of two: exact rescaling
    for (int j = 0; j <= degR; ++j) {
      Interval<T>& x = P[j];
      x.v = -(x.v * factor);
      x.e = x.e * factor;
    }
    if (!certified_nonzero(P[degR])) return -1;
    lead_sign[length] = P[degR].v > 0 ? 1 : -1;
    degree[length++] = degR;
    // (P, Q) <- (Q, remainder): the remainder is in P's buffer
    Interval<T>* remainder = P;
    P = Q;
    Q = remainder;
    degP = degQ;
    degQ = degR;
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

// Integer polynomials on the stack: coefficients c[0..deg], c[deg] != 0 unless zero.
struct IntPoly {
  int128 c[kMaxFastDegree + 1];
  int deg = 0;
  bool is_zero() const { return deg == 0 && c[0] == 0; }
};

inline void make_primitive(IntPoly& p) {
  int128 g = 0;
  for (int i = 0; i <= p.deg && g != 1; ++i) g = gcd128(g, p.c[i]);
  if (g > 1)
    for (int i = 0; i <= p.deg; ++i) p.c[i] /= g;
}

// A <- -(positive multiple of) (A mod B), for the Sturm chain: multiplying A by |lc(B)|
// before each elimination keeps the sign, and the remainder is made primitive. Returns
// false on overflow.
inline bool sturm_remainder(IntPoly& A, const IntPoly& B) {
  const int n = B.deg;
  const int128 lc = B.c[n];
  const int128 alc = abs128(lc);
  const bool negative = lc < 0;
  while (A.deg >= n && !A.is_zero()) {
    const int m = A.deg;
    const int128 am = A.c[m];
    for (int i = 0; i < m; ++i) {  // the leading term cancels exactly
      int128 t;
      if (!mul_ok(A.c[i], alc, t)) return false;
      if (i >= m - n) {
        int128 u;
        if (!mul_ok(am, B.c[i - (m - n)], u)) return false;
        if (negative) u = -u;
        if (!sub_ok(t, u, t)) return false;
      }
      A.c[i] = t;
    }
    A.c[m] = 0;
    A.deg = m - 1;
    while (A.deg > 0 && A.c[A.deg] == 0) --A.deg;
    make_primitive(A);
  }
  for (int i = 0; i <= A.deg; ++i) A.c[i] = -A.c[i];
  return true;
}

// Distinct real roots of p (degree >= 1) by an exact Sturm chain, and gcd(p, p') (primitive,
// positive leading coefficient) in g; false on overflow.
inline bool int_sturm(const IntPoly& p, int& distinct, IntPoly& g) {
  IntPoly buffers[2];
  IntPoly* A = &buffers[0];
  IntPoly* B = &buffers[1];
  *A = p;
  B->deg = p.deg - 1;
  for (int i = 1; i <= p.deg; ++i)
    if (!mul_ok(p.c[i], static_cast<int128>(i), B->c[i - 1])) return false;
  make_primitive(*B);
  int sign_plus[kMaxFastDegree + 2], sign_minus[kMaxFastDegree + 2];
  int length = 0;
  auto record = [&](const IntPoly& q) {
    const int s = q.c[q.deg] > 0 ? 1 : -1;
    sign_plus[length] = s;
    sign_minus[length] = (q.deg % 2) ? -s : s;
    ++length;
  };
  record(*A);
  record(*B);
  while (B->deg > 0) {
    if (!sturm_remainder(*A, *B)) return false;  // A <- -(A mod B)
    if (A->is_zero()) break;                     // B is the gcd
    record(*A);
    IntPoly* t = A;
    A = B;
    B = t;
  }
  int changes_minus = 0, changes_plus = 0;
  for (int i = 1; i < length; ++i) {
    changes_plus += sign_plus[i] != sign_plus[i - 1];
    changes_minus += sign_minus[i] != sign_minus[i - 1];
  }
  distinct = changes_minus - changes_plus;
  g = *B;
  if (g.c[g.deg] < 0)
    for (int i = 0; i <= g.deg; ++i) g.c[i] = -g.c[i];
  return true;
}

// Exact integer path: (total, odd) for p given as doubles, or false when it does not apply
// (non-integral after power-of-two scaling, too large, overflow). With small_only, only
// inputs whose integers stay below 2^24 are taken (these are cheap and exact here, and the
// floating chain would fail on their exact multiple roots anyway).
inline bool integer_counts(const double* c, int n, std::int64_t& total, std::int64_t& odd, bool small_only) {
  int min_exp = 1 << 30;
  for (int i = 0; i <= n; ++i) {
    if (c[i] == 0.0) continue;
    int e = 0;
    const double m = std::frexp(c[i], &e);  // c = m 2^e, |m| in [0.5, 1), 53-bit mantissa
    const auto mant = static_cast<std::int64_t>(std::ldexp(m, 53));
    const int tz = __builtin_ctzll(static_cast<unsigned long long>(mant < 0 ? -mant : mant));
    min_exp = std::min(min_exp, e - 53 + tz);
  }
  const double limit = small_only ? 16777216.0 : 9.0e15;
  IntPoly p;
  p.deg = n;
  for (int i = 0; i <= n; ++i) {
    const double scaled = std::ldexp(c[i], -min_exp);  // an integer, exactly
    if (!(std::fabs(scaled) < limit)) return false;
    p.c[i] = static_cast<int128>(static_cast<std::int64_t>(scaled));
  }
  make_primitive(p);
  total = 0;
  odd = 0;
  int sign = 1;
  while (p.deg > 0) {
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
  if (n > kMaxFastDegree) return out;
  std::int64_t total = 0, odd = 0;
  // small integers (after exact power-of-two scaling): exact chains straight away
  if (roots_detail::integer_counts(v + lo, n, total, odd, true)) {
    out.total += total;
    out.odd += odd;
    out.certified = true;
    return out;
  }
  int fast = roots_detail::float_sturm_count<double>(v + lo, n);
  if (fast < 0 && sizeof(long double) > sizeof(double)) fast = roots_detail::float_sturm_count<long double>(v + lo, n);
  if (fast >= 0) {
    out.total += fast;
    out.odd += fast;
    out.certified = true;
    return out;
  }
  if (roots_detail::integer_counts(v + lo, n, total, odd, false)) {
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
