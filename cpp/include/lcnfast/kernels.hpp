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

#include "lcnfast/kernels_view.hpp"

#ifndef LCNFAST_ISA
#error "define LCNFAST_ISA (the namespace of this instruction set) before including kernels.hpp"
#endif

namespace lcnfast {
namespace LCNFAST_ISA {

constexpr int kLanes = 8;
using index_t = std::ptrdiff_t;

// Scratch layout (in units of kLanes doubles); ProductPlan::scratch_size gives the total.
struct Scratch {
  double* params;  // [n_params]
  double* stages;  // [n_layers][full_len]: stage l = prod_{m <= l} w_m
  double* adj_a;   // [full_len]
  double* adj_b;   // [full_len]
  double* out;     // [n_out]
  double* grad;    // [n_params]
};

inline Scratch carve(const PlanView& p, double* s) {
  const index_t n_params = p.tap_begin[p.n_layers];
  const index_t full = p.full_len;
  Scratch r;
  r.params = s;
  r.stages = r.params + n_params * kLanes;
  r.adj_a = r.stages + p.n_layers * full * kLanes;
  r.adj_b = r.adj_a + full * kLanes;
  r.out = r.adj_b + full * kLanes;
  r.grad = r.out + index_t{p.n_out} * kLanes;
  return r;
}

// rows x cols block of a row-major matrix (leading dimension ld; ld = 0 repeats one row)
// into SoA; missing lanes are zero so they stay finite and harmless.
inline void load_tile(const double* __restrict src, index_t ld, index_t rows, index_t cols,
                      double* __restrict dst) {
  for (index_t i = 0; i < cols * kLanes; ++i) dst[i] = 0.0;
  for (index_t j = 0; j < rows; ++j) {
    const double* row = src + j * ld;
    for (index_t c = 0; c < cols; ++c) dst[c * kLanes + j] = row[c];
  }
}

inline void store_tile(const double* __restrict src, index_t rows, index_t cols, double* __restrict dst,
                       index_t ld) {
  for (index_t j = 0; j < rows; ++j) {
    double* row = dst + j * ld;
    for (index_t c = 0; c < cols; ++c) row[c] = src[c * kLanes + j];
  }
}

// stages[l] = prod_{m <= l} w_m for the tile in s.params.
inline void forward_tile(const PlanView& p, const Scratch& s) {
  const index_t full = p.full_len;
  double* cur = s.stages;
  for (int t = p.tap_begin[0]; t < p.tap_begin[1]; ++t) {
    double* __restrict o = cur + index_t{p.tap_offsets[t]} * kLanes;
    const double* __restrict w = s.params + index_t{t} * kLanes;
    for (int j = 0; j < kLanes; ++j) o[j] = w[j];
  }
  for (int l = 1; l < p.n_layers; ++l) {
    double* nxt = s.stages + l * full * kLanes;
    for (int i = p.support_begin[l]; i < p.support_begin[l + 1]; ++i) {
      double* __restrict o = nxt + index_t{p.supports[i]} * kLanes;
      for (int j = 0; j < kLanes; ++j) o[j] = 0.0;
    }
    for (int i = p.support_begin[l - 1]; i < p.support_begin[l]; ++i) {
      const index_t n = p.supports[i];
      const double* __restrict a = cur + n * kLanes;
      for (int t = p.tap_begin[l]; t < p.tap_begin[l + 1]; ++t) {
        const double* __restrict w = s.params + index_t{t} * kLanes;
        double* __restrict o = nxt + (n + p.tap_offsets[t]) * kLanes;
        for (int j = 0; j < kLanes; ++j) o[j] += a[j] * w[j];
      }
    }
    cur = nxt;
  }
}

// s.out[r] = sum of the last stage over the preimage of r under the circular fold.
inline void fold_tile(const PlanView& p, const Scratch& s) {
  const double* last = s.stages + index_t{p.n_layers - 1} * p.full_len * kLanes;
  for (index_t r = 0; r < p.n_out; ++r) {
    double* __restrict o = s.out + r * kLanes;
    const int b = p.fold_begin[r], e = p.fold_begin[r + 1];
    if (b == e) {
      for (int j = 0; j < kLanes; ++j) o[j] = 0.0;
      continue;
    }
    const double* __restrict a = last + index_t{p.fold_index[b]} * kLanes;
    for (int j = 0; j < kLanes; ++j) o[j] = a[j];
    for (int i = b + 1; i < e; ++i) {
      const double* __restrict c = last + index_t{p.fold_index[i]} * kLanes;
      for (int j = 0; j < kLanes; ++j) o[j] += c[j];
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
      for (int j = 0; j < kLanes; ++j) o[j] = g[j];
    }
  }
  for (int l = p.n_layers - 1; l >= 1; --l) {
    const double* prev = s.stages + (l - 1) * full * kLanes;
    for (int t = p.tap_begin[l]; t < p.tap_begin[l + 1]; ++t) {
      double* __restrict d = grad + index_t{t} * kLanes;
      for (int j = 0; j < kLanes; ++j) d[j] = 0.0;
    }
    for (int i = p.support_begin[l - 1]; i < p.support_begin[l]; ++i) {
      const index_t n = p.supports[i];
      const double* __restrict a = prev + n * kLanes;
      double* __restrict o = gn + n * kLanes;
      for (int j = 0; j < kLanes; ++j) o[j] = 0.0;
      for (int t = p.tap_begin[l]; t < p.tap_begin[l + 1]; ++t) {
        const double* __restrict g = gb + (n + p.tap_offsets[t]) * kLanes;
        const double* __restrict w = s.params + index_t{t} * kLanes;
        double* __restrict d = grad + index_t{t} * kLanes;
        for (int j = 0; j < kLanes; ++j) {
          d[j] += g[j] * a[j];
          o[j] += g[j] * w[j];
        }
      }
    }
    double* tmp = gb;
    gb = gn;
    gn = tmp;
  }
  for (int t = p.tap_begin[0]; t < p.tap_begin[1]; ++t) {
    const double* __restrict g = gb + index_t{p.tap_offsets[t]} * kLanes;
    double* __restrict d = grad + index_t{t} * kLanes;
    for (int j = 0; j < kLanes; ++j) d[j] = g[j];
  }
}

// v[b, :] = mu(theta[b, :]) for b < rows.
inline void end_to_end_rows(const PlanView& p, const double* theta, index_t ldt, index_t rows, double* v,
                            index_t ldv, double* scratch) {
  const Scratch s = carve(p, scratch);
  const index_t n_params = p.tap_begin[p.n_layers];
  for (index_t r0 = 0; r0 < rows; r0 += kLanes) {
    const index_t nr = rows - r0 < kLanes ? rows - r0 : kLanes;
    load_tile(theta + r0 * ldt, ldt, nr, n_params, s.params);
    forward_tile(p, s);
    fold_tile(p, s);
    store_tile(s.out, nr, p.n_out, v + r0 * ldv, ldv);
  }
}

// grad[b, :] = d/dtheta <g[b, :], mu(theta[b, :])>. With g == nullptr the cotangent of
// row b is the unit vector e_{(first_row + b) mod n_out}: rows of a Jacobian.
inline void vjp_rows(const PlanView& p, const double* theta, index_t ldt, const double* g, index_t ldg,
                     index_t first_row, index_t rows, double* grad, index_t ldgrad, double* scratch) {
  const Scratch s = carve(p, scratch);
  const index_t n_params = p.tap_begin[p.n_layers];
  for (index_t r0 = 0; r0 < rows; r0 += kLanes) {
    const index_t nr = rows - r0 < kLanes ? rows - r0 : kLanes;
    load_tile(theta + r0 * ldt, ldt, nr, n_params, s.params);
    forward_tile(p, s);
    if (g != nullptr) {
      load_tile(g + r0 * ldg, ldg, nr, p.n_out, s.out);
    } else {
      for (index_t i = 0; i < index_t{p.n_out} * kLanes; ++i) s.out[i] = 0.0;
      for (index_t j = 0; j < nr; ++j) s.out[((first_row + r0 + j) % p.n_out) * kLanes + j] = 1.0;
    }
    adjoint_tile(p, s, s.grad);
    store_tile(s.grad, nr, n_params, grad + r0 * ldgrad, ldgrad);
  }
}

}  // namespace LCNFAST_ISA
}  // namespace lcnfast
