// A plain view of a ProductPlan for the SIMD kernels.
//
// The kernels are compiled once per instruction set (kernels_generic.cpp, kernels_avx2.cpp)
// and must not instantiate any standard-library template: the linker merges identical
// inline functions across translation units and could hand AVX2 code to the portable
// path. So they see the plan only through this struct of raw pointers.
#pragma once

#include <cstddef>

#include "lcnfast/scratch_layout.hpp"

namespace lcnfast {

// Samples per SIMD tile in every backend (the gather lists are premultiplied by it).
inline constexpr int kTileLanes = 16;

struct PlanView {
  int n_layers = 0;
  const int* tap_begin = nullptr;      // [L+1]; taps of layer l are [tap_begin[l], tap_begin[l+1]),
                                       // which is also where layer l starts in theta
  const int* tap_offsets = nullptr;    // flat offset of each tap in the end-to-end array
  const int* support_begin = nullptr;  // [L+1]; support of prod_{m<=l} w_m is
                                       // supports[support_begin[l] .. support_begin[l+1])
  const int* supports = nullptr;
  int full_len = 0;                    // K*K' before the circular reduction
  int n_out = 0;                       // entries of the (reduced) end-to-end filter
  const int* fold_begin = nullptr;     // [n_out+1]; output r sums stage L at fold_index[...]
  const int* fold_index = nullptr;
  const int* gather_begin = nullptr;   // [#supports+1]; the terms of support entry i are the
  const int* gather_terms = nullptr;   // pairs (n, t) * kTileLanes at gather_terms[2q], [2q+1]
                                       // for q in [gather_begin[i], gather_begin[i+1]) (layers >= 2)
  const int* out_entry = nullptr;      // [n_out]; valid layers: the stage entry of output r, or -1
  bool folded = false;                 // circular: some outputs sum several entries
  bool dense = false;                  // 1D valid with every tap at offset t (dilation 1 where
                                       // k > 1): stage l is the contiguous [0, 1 + sum (k_m - 1))
  ScratchLayout layout{};              // where a kernel's fields live in its tile's scratch
};

// One batched training problem (train_kernels.hpp): the loss l(v) = v^T G v - 2 b^T v + c
// over the n_out entries of the end-to-end filter, the method and its settings, and where
// each run's results go (row-major, one row per run; the record arrays may be null).
struct TrainView {
  const double* G = nullptr;  // [n_out * n_out], symmetric
  const double* b = nullptr;  // [n_out]
  double c = 0.0;
  int method = 0;             // kGradientDescent or kGradientFlow
  double lr = 0.0;            // GD step; the flow's first step
  long steps = 0;             // GD: steps; flow: most Runge-Kutta steps attempted
  double tol = 0.0;           // converged when ||grad L|| <= tol
  double blowup = 0.0;        // diverged when loss > blowup * max(initial loss, tiny)
  double rtol = 0.0, atol = 0.0, t_max = 0.0;  // flow: error control and time horizon
  bool specialised = true;    // use the register-resident kernels (train_dense.hpp) where they apply
  long record_every = 0;      // 0: no trajectory
  long n_records = 0;
  const double* theta0 = nullptr;  // [B * P] initial parameters
  double* theta = nullptr;         // [B * P] final parameters
  double* v = nullptr;             // [B * n_out]
  double* loss = nullptr;          // [B]
  double* grad_norm = nullptr;     // [B]
  int* status = nullptr;           // [B] kConverged, kMaxSteps or kDiverged
  long* steps_taken = nullptr;     // [B] GD steps / accepted flow steps
  double* inv_initial = nullptr;   // [B * (L-1)] delta_l = ||w_{l+1}||^2 - ||w_l||^2
  double* inv_final = nullptr;
  double* inv_max_drift = nullptr;
  double* inv_predicted = nullptr;  // GD: sum of lr^2 (||g_{l+1}||^2 - ||g_l||^2)
  double* rec_t = nullptr;          // [B * n_records]: step number (GD) or time (flow)
  double* rec_v = nullptr;          // [B * n_records * n_out]
  double* rec_loss = nullptr;       // [B * n_records]
  double* rec_inv = nullptr;        // [B * n_records * (L-1)]
  const int* stop = nullptr;        // polled: non-zero asks the kernel to return early
  long* done = nullptr;             // rows finished, for progress reports (atomic add)
};

enum TrainMethod : int { kGradientDescent = 0, kGradientFlow = 1 };
enum RunStatus : int { kConverged = 0, kMaxSteps = 1, kDiverged = 2 };

// Bits of the status the kernels and the batched functions return.
enum KernelStatus : int {
  kOk = 0,
  kThetaNotFinite = 1,      // a parameter was NaN or infinite
  kCotangentNotFinite = 2,  // a cotangent g was NaN or infinite
  kInterrupted = 4,         // the stop check (Ctrl-C) ended the computation early
};

// The entry points of one instruction set's kernels (see kernels.hpp for what they do).
struct KernelTable {
  const char* name;
  int lanes;
  int (*end_to_end_rows)(const PlanView&, const double* theta, std::ptrdiff_t ldt, std::ptrdiff_t rows,
                         double* v, std::ptrdiff_t ldv, bool stream, double* scratch);
  int (*vjp_rows)(const PlanView&, const double* theta, std::ptrdiff_t ldt, const double* g, std::ptrdiff_t ldg,
                  std::ptrdiff_t first_row, std::ptrdiff_t rows, double* grad, std::ptrdiff_t ldgrad,
                  double* scratch);
  int (*train_rows)(const PlanView&, const TrainView&, std::ptrdiff_t first_row, std::ptrdiff_t rows,
                    double* scratch);
};

namespace generic {
const KernelTable& kernel_table();
}
namespace avx2 {  // only built on x86-64 (LCNFAST_HAVE_AVX2)
const KernelTable& kernel_table();
}
namespace avx512 {  // only built on x86-64 (LCNFAST_HAVE_AVX512)
const KernelTable& kernel_table();
}

}  // namespace lcnfast
