// Batched kernels of the parameterisation map mu and of its adjoint, vectorised across
// the batch.
//
// Rows (parameter sets) are processed in tiles of kLanes: a tile is transposed into a
// structure-of-arrays scratch buffer (entry i of lane j at [i*kLanes + j]) so that the
// innermost loop of every product runs over kLanes independent samples with unit stride,
// which the compiler turns into full-width SIMD for whatever instruction set this file is
// compiled for. Every lane does the same operations in the same order as a scalar loop
// would, and -ffp-contract=off forbids fused multiply-adds, so all instruction sets give
// bitwise identical results.
//
// This header is included by one translation unit per instruction set with LCNFAST_ISA
// set to a distinct namespace name; see kernels_view.hpp for why it includes no standard
// templates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lcnfast/kernels_view.hpp"

#if defined(__AVX__)
#include <immintrin.h>  // C intrinsics only (always inlined): safe under the rule above
#endif

#ifndef LCNFAST_ISA
#error "define LCNFAST_ISA (the namespace of this instruction set) before including kernels.hpp"
#endif

namespace lcnfast {
namespace LCNFAST_ISA {

constexpr int kLanes = kTileLanes;
using index_t = std::ptrdiff_t;

// Operations on one tile column (kLanes doubles, one per sample), written on native GCC
// vectors (a built-in type, not a template) so that they are SIMD on every target: plain
// loops were left scalar whenever the auto-vectoriser gave up in a larger function.
#if defined(__AVX512F__)
typedef double Native __attribute__((vector_size(64)));
#elif defined(__AVX__)
typedef double Native __attribute__((vector_size(32)));
#else
typedef double Native __attribute__((vector_size(16)));
#endif
constexpr int kWidth = static_cast<int>(sizeof(Native) / sizeof(double));

inline Native nload(const double* p) {
  Native v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void nstore(double* p, Native v) { __builtin_memcpy(p, &v, sizeof v); }

inline void lanes_copy(double* __restrict o, const double* __restrict a) {
  for (int j = 0; j < kLanes; ++j) o[j] = a[j];
}
inline void lanes_zero(double* __restrict o) {
  for (int j = 0; j < kLanes; ++j) o[j] = 0.0;
}
inline void lanes_add(double* __restrict o, const double* __restrict a) {
  for (int j = 0; j < kLanes; ++j) o[j] += a[j];
}
// (Plain loops here: in the product kernels, where these run with local accumulator arrays,
// the compiler vectorises them and schedules them better than the explicit forms.)
inline void lanes_mul_add(double* __restrict acc, const double* __restrict a, const double* __restrict b) {
  for (int j = 0; j < kLanes; ++j) acc[j] += a[j] * b[j];
}
inline void lanes_scale_add(double* __restrict acc, double s, const double* __restrict a) {
  for (int j = 0; j < kLanes; ++j) acc[j] += s * a[j];
}
// Sums start from their first term (not from 0 + it: one add fewer per sum, and a -0 term
// stays -0), in every kernel alike, so all paths round the same way.
inline void lanes_mul(double* __restrict acc, const double* __restrict a, const double* __restrict b) {
  for (int j = 0; j < kLanes; ++j) acc[j] = a[j] * b[j];
}

// Accumulators kept in registers: `Native acc[kVectors] = {}` and these overloads.
constexpr int kVectors = kLanes / kWidth;
inline void lanes_mul_add(Native* acc, const double* a, const double* b) {
  for (int i = 0; i < kVectors; ++i) acc[i] += nload(a + i * kWidth) * nload(b + i * kWidth);
}
inline void lanes_scale_add(Native* acc, double s, const double* a) {
  for (int i = 0; i < kVectors; ++i) acc[i] += s * nload(a + i * kWidth);
}
inline void lanes_mul(Native* acc, const double* a, const double* b) {
  for (int i = 0; i < kVectors; ++i) acc[i] = nload(a + i * kWidth) * nload(b + i * kWidth);
}
inline void lanes_scale(Native* acc, double s, const double* a) {
  for (int i = 0; i < kVectors; ++i) acc[i] = s * nload(a + i * kWidth);
}
inline void lanes_copy(double* o, const Native* acc) {
  for (int i = 0; i < kVectors; ++i) nstore(o + i * kWidth, acc[i]);
}

// The product's fields of a tile's scratch (scratch_layout.hpp says where each lives).
struct Scratch {
  double* params;  // [n_params]
  double* stages;  // [n_layers][full_len]: stage l = prod_{m <= l} w_m
  double* adj_a;   // [full_len]
  double* adj_b;   // [full_len]
  double* out;     // [n_out]
  double* grad;    // [n_params]
  double* rows;    // [n_out]: one output tile, row-major, before it is streamed out
};

inline Scratch carve(const ScratchLayout& at, double* s) {
  Scratch r;
  r.params = s + at.params * kLanes;
  r.stages = s + at.stages * kLanes;
  r.adj_a = s + at.adj_a * kLanes;
  r.adj_b = s + at.adj_b * kLanes;
  r.out = s + at.out * kLanes;
  r.grad = s + at.grad * kLanes;
  r.rows = s + at.rows * kLanes;
  return r;
}

#if defined(__AVX__)
// 4x4 transposes built from 128-bit halves: the halves are loaded (or stored) straight from
// (to) memory and only in-lane unpacks remain, which is cheaper than four lane-crossing
// permutes.

// Columns c0..c3 of the 4x4 block whose rows start at a, b, c, d.
inline void load_transposed4(const double* a, const double* b, const double* c, const double* d, __m256d& c0,
                             __m256d& c1, __m256d& c2, __m256d& c3) {
  const __m256d ac01 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(a)), _mm_loadu_pd(c), 1);
  const __m256d bd01 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(b)), _mm_loadu_pd(d), 1);
  const __m256d ac23 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(a + 2)), _mm_loadu_pd(c + 2), 1);
  const __m256d bd23 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(b + 2)), _mm_loadu_pd(d + 2), 1);
  c0 = _mm256_unpacklo_pd(ac01, bd01);  // a0 b0 c0 d0
  c1 = _mm256_unpackhi_pd(ac01, bd01);  // a1 b1 c1 d1
  c2 = _mm256_unpacklo_pd(ac23, bd23);
  c3 = _mm256_unpackhi_pd(ac23, bd23);
}

// Stores the columns c0..c3 (entry i of each belongs to row i) as the rows a, b, c, d.
inline void store_transposed4(__m256d c0, __m256d c1, __m256d c2, __m256d c3, double* a, double* b, double* c,
                              double* d) {
  const __m256d ac01 = _mm256_unpacklo_pd(c0, c1);  // a0 a1 | c0 c1
  const __m256d bd01 = _mm256_unpackhi_pd(c0, c1);  // b0 b1 | d0 d1
  const __m256d ac23 = _mm256_unpacklo_pd(c2, c3);
  const __m256d bd23 = _mm256_unpackhi_pd(c2, c3);
  _mm_storeu_pd(a, _mm256_castpd256_pd128(ac01));
  _mm_storeu_pd(a + 2, _mm256_castpd256_pd128(ac23));
  _mm_storeu_pd(b, _mm256_castpd256_pd128(bd01));
  _mm_storeu_pd(b + 2, _mm256_castpd256_pd128(bd23));
  _mm_storeu_pd(c, _mm256_extractf128_pd(ac01, 1));
  _mm_storeu_pd(c + 2, _mm256_extractf128_pd(ac23, 1));
  _mm_storeu_pd(d, _mm256_extractf128_pd(bd01, 1));
  _mm_storeu_pd(d + 2, _mm256_extractf128_pd(bd23, 1));
}
#endif

// rows x cols block of a row-major matrix (leading dimension ld; ld = 0 repeats one row)
// into SoA; missing lanes are zero so they stay finite and harmless. The transposes are
// pure data movement, so the SIMD and scalar versions agree bit for bit. Returns whether
// every value read was finite: checking here, while the data passes through registers
// anyway, saves the caller a separate pass over the whole input (x * 0 is NaN exactly
// when x is NaN or infinite).
inline bool load_tile(const double* __restrict src, index_t ld, index_t rows, index_t cols,
                      double* __restrict dst) {
  index_t c0 = 0;
  double probe = 0.0;
#if defined(__AVX__)
  if (rows == kLanes && ld != 0) {
    const __m256d zero = _mm256_setzero_pd();
    __m256d acc = zero;
    // A ragged last block is moved as the overlapping block [cols - 4, cols): columns
    // moved twice get the same values, and no scalar tail is needed.
    for (index_t next = 0; next < cols && cols >= 4; next += 4) {
      c0 = next + 4 <= cols ? next : cols - 4;
      for (int j = 0; j < kLanes; j += 4) {
        __m256d r0, r1, r2, r3;
        load_transposed4(src + (j + 0) * ld + c0, src + (j + 1) * ld + c0, src + (j + 2) * ld + c0,
                         src + (j + 3) * ld + c0, r0, r1, r2, r3);
        // (each value is multiplied by zero on its own: a sum first could overflow)
        acc = _mm256_add_pd(acc, _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(r0, zero), _mm256_mul_pd(r1, zero)),
                                               _mm256_add_pd(_mm256_mul_pd(r2, zero), _mm256_mul_pd(r3, zero))));
        _mm256_storeu_pd(dst + (c0 + 0) * kLanes + j, r0);
        _mm256_storeu_pd(dst + (c0 + 1) * kLanes + j, r1);
        _mm256_storeu_pd(dst + (c0 + 2) * kLanes + j, r2);
        _mm256_storeu_pd(dst + (c0 + 3) * kLanes + j, r3);
      }
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, acc);
    probe = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    if (cols >= 4) c0 = cols;
  }
#endif
  if (c0 == cols) return probe == 0.0;
  if (rows < kLanes)
    for (index_t i = c0 * kLanes; i < cols * kLanes; ++i) dst[i] = 0.0;
  for (index_t j = 0; j < rows; ++j) {
    const double* row = src + j * ld;
    for (index_t c = c0; c < cols; ++c) {
      dst[c * kLanes + j] = row[c];
      probe += row[c] * 0.0;
    }
  }
  return probe == 0.0;
}

// Writes output column r of each of `rows` rows: entry entries[r] of the SoA array src
// (entries == nullptr: entry r; a negative entry: zero).
inline void store_tile(const double* __restrict src, const int* __restrict entries, index_t rows, index_t cols,
                       double* __restrict dst, index_t ld) {
  index_t c0 = 0;
#if defined(__AVX__)
  if (rows == kLanes) {
    const __m256d zero = _mm256_setzero_pd();
    for (index_t next = 0; next < cols && cols >= 4; next += 4) {  // overlapping last block, as above
      c0 = next + 4 <= cols ? next : cols - 4;
      index_t e[4];
      for (int q = 0; q < 4; ++q) e[q] = entries == nullptr ? c0 + q : index_t{entries[c0 + q]};
      for (int j = 0; j < kLanes; j += 4) {
        __m256d r0 = e[0] < 0 ? zero : _mm256_loadu_pd(src + e[0] * kLanes + j);
        __m256d r1 = e[1] < 0 ? zero : _mm256_loadu_pd(src + e[1] * kLanes + j);
        __m256d r2 = e[2] < 0 ? zero : _mm256_loadu_pd(src + e[2] * kLanes + j);
        __m256d r3 = e[3] < 0 ? zero : _mm256_loadu_pd(src + e[3] * kLanes + j);
        store_transposed4(r0, r1, r2, r3, dst + (j + 0) * ld + c0, dst + (j + 1) * ld + c0, dst + (j + 2) * ld + c0,
                          dst + (j + 3) * ld + c0);
      }
    }
    if (cols >= 4) c0 = cols;
  }
#endif
  if (c0 == cols) return;
  for (index_t j = 0; j < rows; ++j) {
    double* row = dst + j * ld;
    for (index_t c = c0; c < cols; ++c) {
      const index_t e = entries == nullptr ? c : index_t{entries[c]};
      row[c] = e < 0 ? 0.0 : src[e * kLanes + j];
    }
  }
}

// dst[0..n) = src[0..n). With AVX the aligned middle is written with non-temporal stores:
// a large batch's output is not read again soon, and streaming it saves the read-for-
// ownership traffic that ordinary stores cost (the kernels are memory-bound).
inline void stream_copy(double* __restrict dst, const double* __restrict src, index_t n) {
  index_t i = 0;
#if defined(__AVX__)
  // Only whole 64-byte lines are streamed: a partially streamed line would be merged in
  // memory, which costs more than the ordinary store it replaces.
  while (i < n && (reinterpret_cast<std::uintptr_t>(dst + i) & 63u) != 0) {
    dst[i] = src[i];
    ++i;
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_stream_pd(dst + i, _mm256_loadu_pd(src + i));
    _mm256_stream_pd(dst + i + 4, _mm256_loadu_pd(src + i + 4));
  }
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

inline void stream_fence() {
#if defined(__AVX__)
  _mm_sfence();  // make the streamed stores visible before the caller's threads join
#endif
}

// Dense 1D chains (stride one where it matters): the same products and correlations as
// the general kernels, as plain convolution loops without index lists.
inline void forward_dense(const PlanView& p, const Scratch& s) {
  const index_t full = p.full_len;
  double* cur = s.stages;
  index_t len = p.tap_begin[1] - p.tap_begin[0];
  for (index_t t = 0; t < len; ++t) lanes_copy(cur + t * kLanes, s.params + (p.tap_begin[0] + t) * kLanes);
  for (int l = 1; l < p.n_layers; ++l) {
    double* nxt = s.stages + l * full * kLanes;
    const double* w = s.params + index_t{p.tap_begin[l]} * kLanes;
    const index_t k = p.tap_begin[l + 1] - p.tap_begin[l];
    const index_t out = len + k - 1;
    for (index_t m = 0; m < out; ++m) {
      double acc[kLanes];
      const index_t lo = m - (len - 1) > 0 ? m - (len - 1) : 0;
      const index_t hi = m < k - 1 ? m : k - 1;
      lanes_mul(acc, cur + (m - lo) * kLanes, w + lo * kLanes);
      for (index_t t = lo + 1; t <= hi; ++t) lanes_mul_add(acc, cur + (m - t) * kLanes, w + t * kLanes);
      lanes_copy(nxt + m * kLanes, acc);
    }
    cur = nxt;
    len = out;
  }
}

// stages[l] = prod_{m <= l} w_m for the tile in s.params.
inline void forward_tile(const PlanView& p, const Scratch& s) {
  if (p.dense) {
    forward_dense(p, s);
    return;
  }
  const index_t full = p.full_len;
  double* cur = s.stages;
  for (int t = p.tap_begin[0]; t < p.tap_begin[1]; ++t) {
    double* __restrict o = cur + index_t{p.tap_offsets[t]} * kLanes;
    const double* __restrict w = s.params + index_t{t} * kLanes;
    lanes_copy(o, w);
  }
  for (int l = 1; l < p.n_layers; ++l) {
    double* nxt = s.stages + l * full * kLanes;
    for (int i = p.support_begin[l]; i < p.support_begin[l + 1]; ++i) {
      double acc[kLanes];
      const int* term = p.gather_terms + 2 * index_t{p.gather_begin[i]};
      const int* const end = p.gather_terms + 2 * index_t{p.gather_begin[i + 1]};
      lanes_mul(acc, cur + term[0], s.params + term[1]);  // every support entry has a term
      for (term += 2; term != end; term += 2) lanes_mul_add(acc, cur + term[0], s.params + term[1]);
      double* __restrict o = nxt + index_t{p.supports[i]} * kLanes;
      lanes_copy(o, acc);
    }
    cur = nxt;
  }
}

// out[r] = sum of the last stage over the preimage of r under the circular fold.
inline void fold_tile(const PlanView& p, const Scratch& s, double* out) {
  const double* last = s.stages + index_t{p.n_layers - 1} * p.full_len * kLanes;
  for (index_t r = 0; r < p.n_out; ++r) {
    double* __restrict o = out + r * kLanes;
    const int b = p.fold_begin[r], e = p.fold_begin[r + 1];
    if (b == e) {
      lanes_zero(o);
      continue;
    }
    const double* __restrict a = last + index_t{p.fold_index[b]} * kLanes;
    lanes_copy(o, a);
    for (int i = b + 1; i < e; ++i) {
      const double* __restrict c = last + index_t{p.fold_index[i]} * kLanes;
      lanes_add(o, c);
    }
  }
}

// Reverse mode through the chain of products. On entry s.out holds the output cotangent g;
// `grad` receives the gradient of <g, mu(theta)> in SoA layout.
// grad (layer l, tap t) = sum_n gbar_l[n + off_t] * stage_{l-1}[n], and
// gbar_{l-1}[n] = sum_t gbar_l[n + off_t] * w_l[t]: correlations with the prefix products.
inline void adjoint_tile(const PlanView& p, const Scratch& s, double* __restrict grad) {
  const index_t full = p.full_len;
  double* gb = s.adj_a;
  double* gn = s.adj_b;
  // Unfold the cotangent onto the support of the last stage (each entry has one image).
  for (index_t r = 0; r < p.n_out; ++r) {
    const double* __restrict g = s.out + r * kLanes;
    for (int i = p.fold_begin[r]; i < p.fold_begin[r + 1]; ++i) {
      double* __restrict o = gb + index_t{p.fold_index[i]} * kLanes;
      lanes_copy(o, g);
    }
  }
  if (p.dense) {
    // stage l-1 is [0, n), layer l has k taps at offsets 0..k-1, gb covers [0, n + k - 1)
    for (int l = p.n_layers - 1; l >= 1; --l) {
      const double* prev = s.stages + (l - 1) * full * kLanes;
      const index_t n = p.support_begin[l] - p.support_begin[l - 1];
      const index_t k = p.tap_begin[l + 1] - p.tap_begin[l];
      const double* w = s.params + index_t{p.tap_begin[l]} * kLanes;
      for (index_t t = 0; t < k; ++t) {
        double acc[kLanes];
        lanes_mul(acc, gb + t * kLanes, prev);
        for (index_t i = 1; i < n; ++i) lanes_mul_add(acc, gb + (i + t) * kLanes, prev + i * kLanes);
        lanes_copy(grad + (p.tap_begin[l] + t) * kLanes, acc);
      }
      for (index_t i = 0; i < n; ++i) {
        double acc[kLanes];
        lanes_mul(acc, gb + i * kLanes, w);
        for (index_t t = 1; t < k; ++t) lanes_mul_add(acc, gb + (i + t) * kLanes, w + t * kLanes);
        lanes_copy(gn + i * kLanes, acc);
      }
      double* tmp = gb;
      gb = gn;
      gn = tmp;
    }
  }
  for (int l = p.dense ? 0 : p.n_layers - 1; l >= 1; --l) {
    const double* prev = s.stages + (l - 1) * full * kLanes;
    const int sb = p.support_begin[l - 1], se = p.support_begin[l];
    for (int t = p.tap_begin[l]; t < p.tap_begin[l + 1]; ++t) {
      const double* shifted = gb + index_t{p.tap_offsets[t]} * kLanes;
      double acc[kLanes];
      lanes_mul(acc, shifted + index_t{p.supports[sb]} * kLanes, prev + index_t{p.supports[sb]} * kLanes);
      for (int i = sb + 1; i < se; ++i) {  // (a support is never empty)
        const index_t n = p.supports[i];
        const double* __restrict g = shifted + n * kLanes;
        const double* __restrict a = prev + n * kLanes;
        lanes_mul_add(acc, g, a);
      }
      double* __restrict d = grad + index_t{t} * kLanes;
      lanes_copy(d, acc);
    }
    for (int i = sb; i < se; ++i) {
      const index_t n = p.supports[i];
      double acc[kLanes];
      const int first = p.tap_begin[l];  // (every layer has a tap)
      lanes_mul(acc, gb + (n + p.tap_offsets[first]) * kLanes, s.params + index_t{first} * kLanes);
      for (int t = first + 1; t < p.tap_begin[l + 1]; ++t) {
        const double* __restrict g = gb + (n + p.tap_offsets[t]) * kLanes;
        const double* __restrict w = s.params + index_t{t} * kLanes;
        lanes_mul_add(acc, g, w);
      }
      double* __restrict o = gn + n * kLanes;
      lanes_copy(o, acc);
    }
    double* tmp = gb;
    gb = gn;
    gn = tmp;
  }
  for (int t = p.tap_begin[0]; t < p.tap_begin[1]; ++t) {
    const double* __restrict g = gb + index_t{p.tap_offsets[t]} * kLanes;
    double* __restrict d = grad + index_t{t} * kLanes;
    lanes_copy(d, g);
  }
}

// v[b, :] = mu(theta[b, :]) for b < rows. Returns kThetaNotFinite if theta had a NaN or
// an infinity (v is then unspecified), else 0. With `stream`, v is written around the
// caches (for outputs too large to stay in them).
inline int end_to_end_rows(const PlanView& p, const double* theta, index_t ldt, index_t rows, double* v,
                           index_t ldv, bool stream, double* scratch) {
  const Scratch s = carve(p.layout, scratch);
  bool finite = true;
  const index_t n_params = p.tap_begin[p.n_layers];
  for (index_t r0 = 0; r0 < rows; r0 += kLanes) {
    const index_t nr = rows - r0 < kLanes ? rows - r0 : kLanes;
    finite &= load_tile(theta + r0 * ldt, ldt, nr, n_params, s.params);
    forward_tile(p, s);
    const double* src = s.out;
    const int* entries = nullptr;
    if (p.folded) {
      fold_tile(p, s, s.out);
    } else {
      // valid layers: each output is one entry of the last stage (or zero in a 2D hole)
      src = s.stages + index_t{p.n_layers - 1} * p.full_len * kLanes;
      entries = p.out_entry;
    }
    if (stream && nr == kLanes && ldv == p.n_out) {
      store_tile(src, entries, nr, p.n_out, s.rows, p.n_out);
      stream_copy(v + r0 * ldv, s.rows, kLanes * index_t{p.n_out});
    } else {
      store_tile(src, entries, nr, p.n_out, v + r0 * ldv, ldv);
    }
  }
  if (stream) stream_fence();
  return finite ? 0 : kThetaNotFinite;
}

// grad[b, :] = d/dtheta <g[b, :], mu(theta[b, :])>. With g == nullptr the cotangent of
// row b is the unit vector e_{(first_row + b) mod n_out}: rows of a Jacobian. Returns a
// mask of kThetaNotFinite and kCotangentNotFinite.
inline int vjp_rows(const PlanView& p, const double* theta, index_t ldt, const double* g, index_t ldg,
                    index_t first_row, index_t rows, double* grad, index_t ldgrad, double* scratch) {
  const Scratch s = carve(p.layout, scratch);
  bool theta_finite = true, g_finite = true;
  const index_t n_params = p.tap_begin[p.n_layers];
  for (index_t r0 = 0; r0 < rows; r0 += kLanes) {
    const index_t nr = rows - r0 < kLanes ? rows - r0 : kLanes;
    theta_finite &= load_tile(theta + r0 * ldt, ldt, nr, n_params, s.params);
    forward_tile(p, s);
    if (g != nullptr) {
      g_finite &= load_tile(g + r0 * ldg, ldg, nr, p.n_out, s.out);
    } else {
      for (index_t i = 0; i < index_t{p.n_out} * kLanes; ++i) s.out[i] = 0.0;
      for (index_t j = 0; j < nr; ++j) s.out[((first_row + r0 + j) % p.n_out) * kLanes + j] = 1.0;
    }
    adjoint_tile(p, s, s.grad);
    store_tile(s.grad, nullptr, nr, n_params, grad + r0 * ldgrad, ldgrad);
  }
  return (theta_finite ? 0 : kThetaNotFinite) | (g_finite ? 0 : kCotangentNotFinite);
}

}  // namespace LCNFAST_ISA
}  // namespace lcnfast
