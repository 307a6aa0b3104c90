// Where everything lives in the scratch buffer of one tile of rows: the single layout the
// plan computes once (ProductPlan::layout_of, which also sizes the per-thread buffers) and the
// product kernels (Scratch, kernels.hpp) and training kernels (TrainScratch,
// train_state.hpp) read from PlanView::layout.
//
// Offsets and sizes count "lane rows": one double per row of the tile, so a field of n
// entries at offset o occupies [o * lanes, (o + n) * lanes) doubles for a tile of `lanes`
// rows, entry i of row j at (o + i) * lanes + j (structure of arrays).
//
// The kernels see this header, so the rules of kernels_view.hpp hold here, and more
// strictly: types and constants only, no functions (an inline function here would be
// compiled once per instruction set and merged by the linker).
#pragma once

#include <cstddef>

namespace lcnfast {

// Runge-Kutta stages the flow keeps (Dormand-Prince 5(4) with FSAL, train_kernels.hpp).
inline constexpr int kFlowStages = 7;

// The per-run scalars of the training kernels, one lane row each (TrainScratch::lane).
enum LaneField : int {
  kActive = 0,   // 1.0 while the run is advancing
  kStatus,       // RunStatus as a double
  kSteps,        // steps taken (accepted)
  kLoss,         // loss at the last evaluation
  kGradNorm2,    // ||grad L||^2 at the last evaluation
  kLoss0,        // initial loss
  kTime,         // flow: t
  kStep,         // flow: h
  kCurLoss,      // flow: loss at the accepted point
  kCurGradNorm2,
  kErr,          // flow: scaled error of the last attempt
  kLaneFields
};

struct ScratchLayout {
  // The product and its adjoint (every kernel call).
  std::ptrdiff_t params;  // [P] the tile's parameters
  std::ptrdiff_t stages;  // [L][full_len] stage l = prod_{m <= l} w_m (the vjp reads them all back)
  std::ptrdiff_t adj_a;   // [full_len] adjoint buffers
  std::ptrdiff_t adj_b;   // [full_len]
  std::ptrdiff_t out;     // [n_out] end-to-end filter; the cotangent in the vjp
  std::ptrdiff_t grad;    // [P]
  std::ptrdiff_t rows;    // [n_out] one output tile, row-major, before it is streamed out
  std::ptrdiff_t product_size;
  // Training, after the product's fields.
  std::ptrdiff_t y;       // [P] current parameters (flow: the accepted point)
  std::ptrdiff_t k;       // [kFlowStages][P] flow stages (GD: unused)
  std::ptrdiff_t v;       // [n_out] end-to-end filter at the last evaluation
  std::ptrdiff_t cur_v;   // [n_out] ... at the current parameters (flow)
  std::ptrdiff_t lane;    // [kLaneFields] per-run scalars
  std::ptrdiff_t norms;   // [L] ||w_l||^2
  std::ptrdiff_t gnorms;  // [L] ||g_l||^2
  std::ptrdiff_t delta0;  // [L-1] initial invariants
  std::ptrdiff_t pred;    // [L-1] predicted drift (GD)
  std::ptrdiff_t drift;   // [L-1] max |delta - delta0|
  std::ptrdiff_t train_size;
};

}  // namespace lcnfast
