// A plain view of a ProductPlan for the SIMD kernels.
//
// The kernels are compiled once per instruction set (kernels_generic.cpp, kernels_avx2.cpp)
// and must not instantiate any standard-library template: the linker merges identical
// inline functions across translation units and could hand AVX2 code to the portable
// path. So they see the plan only through this struct of raw pointers.
#pragma once

#include <cstddef>

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
};

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
};

namespace generic {
const KernelTable& kernel_table();
}
namespace avx2 {  // only built on x86-64 (LCNFAST_HAVE_AVX2)
const KernelTable& kernel_table();
}

}  // namespace lcnfast
