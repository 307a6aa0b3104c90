// Batched training kernels: gradient descent and gradient flow (Dormand-Prince 5(4)) on
// the exact quadratic loss l(v) = v^T G v - 2 b^T v + c of the end-to-end filter
// (docs/conventions.rst).
//
// A tile of kLanes runs is loaded once into structure-of-arrays scratch and stays there,
// in L1, for all its steps: every step is the product (forward_tile), one k x k
// matrix-vector product with G, and the adjoint (adjoint_tile), each vectorised across the
// runs. Runs are independent lanes, so a run that converges or diverges is frozen by a
// per-lane mask and never affects the others, and results do not depend on how runs are
// grouped into tiles or threads.
//
// Each loop is written once. Gradient descent is gd_loop (train_state.hpp) driving a step
// policy: TileGdStep below (any architecture) or, for small dense 1D chains after the
// tile's set-up, the register-resident DenseChain<...>::GdStep of train_dense.hpp (same
// results bit for bit). Gradient flow is flow_tile, the one Runge-Kutta driver (the
// register-resident step is GD-only, so it drives the general evaluation).
//
// Same rules as kernels.hpp (included first): no standard-library templates here.
#pragma once

#include "lcnfast/kernels.hpp"
#include "lcnfast/train_dense.hpp"
#include "lcnfast/train_state.hpp"

namespace lcnfast {
namespace LCNFAST_ISA {

// The Dormand-Prince 5(4) tableau (autonomous form: the nodes c_i are not needed).
struct DormandPrince {
  static constexpr double a[7][6] = {
      {0, 0, 0, 0, 0, 0},
      {1.0 / 5, 0, 0, 0, 0, 0},
      {3.0 / 40, 9.0 / 40, 0, 0, 0, 0},
      {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0},
      {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0},
      {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656, 0},
      {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
  // e = b (5th order, = a[6]) minus b* (4th order); the error estimate is h * sum e_i k_i.
  static constexpr double e[7] = {71.0 / 57600,      0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200,
                                  22.0 / 525,        -1.0 / 40};
};

static_assert(kFlowStages == 7, "the scratch holds the seven Dormand-Prince stages");

// The general step of gd_loop (train_state.hpp): a tile of kLanes runs in scratch, any
// architecture; its parameters live in s.params (evaluate reads them there).
struct TileGdStep {
  const PlanView& p;
  const TrainView& tv;
  const TrainScratch& t;
  index_t row0, nr;
  double* loss;
  double* gnorm2;

  void check() { check_lanes(tv, t, loss, gnorm2); }
  void record(index_t slot, double when) {
    for (int j = 0; j < nr; ++j) record_lane(p, tv, t, t.v, loss, row0 + j, j, slot, when);
  }
  bool running() const { return any_active(field(t, kActive)); }
  void advance() {
    const Scratch& s = t.base;
    const double* active = field(t, kActive);
    const index_t P = p.tap_begin[p.n_layers];
    // Predicted invariant drift of this step: lr^2 (||g_{l+1}||^2 - ||g_l||^2), with the
    // layers' gradient norms from the last evaluation.
    for (index_t l = 0; l + 1 < p.n_layers; ++l)
      masked_drift(t.pred + l * kLanes, t.gnorms + l * kLanes, t.gnorms + (l + 1) * kLanes, active, tv.lr * tv.lr);
    for (index_t q = 0; q < P; ++q) masked_step(s.params + q * kLanes, s.grad + q * kLanes, active, tv.lr);
    lanes_add(field(t, kSteps), active);
    track_drift(p, t, s.params);  // also leaves t.norms at the new parameters (records read them)
    evaluate(p, tv, t, loss, gnorm2);
  }
  void finish() {}
};

// The Runge-Kutta driver: gradient flow d theta / dt = -grad L by Dormand-Prince 5(4),
// FSAL, with per-run step sizes, on a tile of kLanes runs whose t.y and first evaluation
// the tile code has set up. Leaves the accepted state in t.y, t.v, loss and gnorm2.
// Returns false when interrupted.
LCNFAST_INLINE bool flow_tile(const PlanView& p, const TrainView& tv, const TrainScratch& t, index_t row0, index_t nr,
                              double* loss, double* gnorm2) {
  const Scratch& s = t.base;
  const index_t P = p.tap_begin[p.n_layers];
  const index_t n = p.n_out;
  const index_t PL = P * kLanes;
  double* k1 = t.k;
  for (index_t q = 0; q < P; ++q) lanes_negate(k1 + q * kLanes, s.grad + q * kLanes);
  lanes_copy(field(t, kCurLoss), loss);
  lanes_copy(field(t, kCurGradNorm2), gnorm2);
  for (index_t q = 0; q < n * kLanes; ++q) t.cur_v[q] = t.v[q];
  double* active = field(t, kActive);
  double* steps = field(t, kSteps);
  double* time = field(t, kTime);
  double* h = field(t, kStep);
  double* cur_loss = field(t, kCurLoss);
  double* cur_g2 = field(t, kCurGradNorm2);
  double* err = field(t, kErr);
  if (tv.record_every > 0)
    for (int j = 0; j < nr; ++j) record_lane(p, tv, t, t.cur_v, cur_loss, row0 + j, j, 0, 0.0);
  for (long attempt = 0;; ++attempt) {
    check_lanes(tv, t, cur_loss, cur_g2);
    for (int j = 0; j < kLanes; ++j)
      if (active[j] != 0.0 && time[j] >= tv.t_max) active[j] = 0.0;  // horizon reached: max_steps
    if (!any_active(active) || attempt == tv.steps) break;
    if ((attempt & 7) == 7 && stop_requested(tv)) return false;
    for (int j = 0; j < kLanes; ++j) {
      const double left = tv.t_max - time[j];
      if (h[j] > left) h[j] = left;
    }
    for (int stage = 1; stage < kFlowStages; ++stage) {
      for (index_t q = 0; q < P; ++q) {
        Native acc[kVectors] = {};
        for (int i = 0; i < stage; ++i) {
          const double a = DormandPrince::a[stage][i];
          if (a != 0.0) lanes_scale_add(acc, a, t.k + (index_t{i} * P + q) * kLanes);
        }
        double* x = s.params + q * kLanes;
        const double* y = t.y + q * kLanes;
        for (int v = 0; v < kVectors; ++v) nstore(x + v * kWidth, nload(y + v * kWidth) + nload(h + v * kWidth) * acc[v]);
      }
      evaluate(p, tv, t, loss, gnorm2);
      double* ks = t.k + index_t{stage} * PL;
      for (index_t q = 0; q < P; ++q) lanes_negate(ks + q * kLanes, s.grad + q * kLanes);
    }
    // s.params now holds the 5th-order solution (the last stage is evaluated there: FSAL).
    for (int j = 0; j < kLanes; ++j) err[j] = 0.0;
    for (index_t q = 0; q < P; ++q) {
      double acc[kLanes] = {};
      for (int i = 0; i < kFlowStages; ++i) {
        const double e = DormandPrince::e[i];
        if (e != 0.0) lanes_scale_add(acc, e, t.k + (index_t{i} * P + q) * kLanes);
      }
      const double* __restrict y = t.y + q * kLanes;
      const double* __restrict x = s.params + q * kLanes;
      for (int j = 0; j < kLanes; ++j) {
        const double ay = y[j] < 0.0 ? -y[j] : y[j];
        const double ax = x[j] < 0.0 ? -x[j] : x[j];
        const double sc = tv.atol + tv.rtol * (ay > ax ? ay : ax);
        const double ej = h[j] * acc[j] / sc;
        err[j] += ej * ej;
      }
    }
    for (int j = 0; j < kLanes; ++j) {
      if (active[j] == 0.0) continue;
      const double e = __builtin_sqrt(err[j] / static_cast<double>(P));
      const bool accept = is_finite(e) && e <= 1.0 && is_finite(loss[j]);
      if (accept) {
        time[j] += h[j];
        steps[j] += 1.0;
        for (index_t q = 0; q < P; ++q) t.y[q * kLanes + j] = s.params[q * kLanes + j];
        for (index_t q = 0; q < P; ++q) k1[q * kLanes + j] = t.k[((kFlowStages - 1) * P + q) * kLanes + j];
        for (index_t r = 0; r < n; ++r) t.cur_v[r * kLanes + j] = t.v[r * kLanes + j];
        cur_loss[j] = loss[j];
        cur_g2[j] = gnorm2[j];
      }
      // standard step-size control, factor clamped to [0.2, 5]
      double factor = 5.0;
      if (!is_finite(e)) {
        factor = 0.2;
      } else if (e > 0.0) {
        factor = 0.9 * __builtin_pow(e, -0.2);
        factor = factor < 0.2 ? 0.2 : (factor > 5.0 ? 5.0 : factor);
      }
      if (!accept && factor > 1.0) factor = 1.0;
      h[j] *= factor;
      const double floor = 1e-14 * (time[j] > 1.0 ? time[j] : 1.0);
      if (!accept && h[j] < floor) {  // the step size collapsed: the solution blows up
        field(t, kStatus)[j] = kDiverged;
        active[j] = 0.0;
      }
      if (accept && tv.record_every > 0 && static_cast<long>(steps[j]) % tv.record_every == 0) {
        layer_norms(p, t.y, t.norms);
        record_lane(p, tv, t, t.cur_v, cur_loss, row0 + j, j, static_cast<long>(steps[j]) / tv.record_every, time[j]);
      }
    }
    track_drift(p, t, t.y);
  }
  lanes_copy(loss, cur_loss);
  lanes_copy(gnorm2, cur_g2);
  for (index_t q = 0; q < n * kLanes; ++q) t.v[q] = t.cur_v[q];
  layer_norms(p, t.y, t.norms);
  if (tv.record_every > 0)
    for (int j = 0; j < nr; ++j)
      for (index_t slot = static_cast<long>(steps[j]) / tv.record_every + 1; slot < tv.n_records; ++slot)
        record_lane(p, tv, t, t.v, loss, row0 + j, j, slot, time[j]);
  return true;
}

// Trains rows [first_row, first_row + rows): returns a KernelStatus mask.
inline int train_rows(const PlanView& p, const TrainView& tv, index_t first_row, index_t rows, double* scratch) {
  const index_t P = p.tap_begin[p.n_layers];
  const index_t n = p.n_out;
  const index_t L1 = p.n_layers - 1;
  const TrainScratch t = carve_train(p, scratch);
  const Scratch& s = t.base;
  int status_mask = kOk;

  for (index_t r0 = 0; r0 < rows; r0 += kLanes) {
    const index_t row0 = first_row + r0;
    const index_t nr = rows - r0 < kLanes ? rows - r0 : kLanes;
    if (!load_tile(tv.theta0 + row0 * P, P, nr, P, t.y)) {
      status_mask |= kThetaNotFinite;
      continue;
    }
    double* active = field(t, kActive);
    double* steps = field(t, kSteps);
    for (int j = 0; j < kLanes; ++j) {
      active[j] = j < nr ? 1.0 : 0.0;
      field(t, kStatus)[j] = kMaxSteps;
      steps[j] = 0.0;
      field(t, kTime)[j] = 0.0;
      field(t, kStep)[j] = tv.lr;
    }
    layer_norms(p, t.y, t.norms);
    for (index_t l = 0; l < L1; ++l)
      for (int j = 0; j < kLanes; ++j) {
        t.delta0[l * kLanes + j] = t.norms[(l + 1) * kLanes + j] - t.norms[l * kLanes + j];
        t.pred[l * kLanes + j] = 0.0;
        t.drift[l * kLanes + j] = 0.0;
      }
    double* loss = field(t, kLoss);
    double* gnorm2 = field(t, kGradNorm2);
    for (index_t q = 0; q < P * kLanes; ++q) s.params[q] = t.y[q];
    evaluate(p, tv, t, loss, gnorm2);
    lanes_copy(field(t, kLoss0), loss);

    bool finished;
    if (tv.method == kGradientDescent) {
      // The register-resident step where the plan is a small dense chain, else the general one.
      const int dense = dense_gd_tile(p, tv, t, row0, nr);
      if (dense == 0) {
        TileGdStep step{p, tv, t, row0, nr, loss, gnorm2};
        finished = gd_loop(tv, step);
      } else {
        finished = dense > 0;
      }
      for (index_t q = 0; q < P * kLanes; ++q) t.y[q] = s.params[q];
      layer_norms(p, t.y, t.norms);
    } else {
      finished = flow_tile(p, tv, t, row0, nr, loss, gnorm2);
    }
    if (!finished) return status_mask | kInterrupted;

    // Results of the tile.
    store_tile(t.y, nullptr, nr, P, tv.theta + row0 * P, P);
    store_tile(t.v, nullptr, nr, n, tv.v + row0 * n, n);
    for (int j = 0; j < nr; ++j) {
      const index_t row = row0 + j;
      tv.loss[row] = loss[j];
      tv.grad_norm[row] = __builtin_sqrt(gnorm2[j]);
      tv.status[row] = static_cast<int>(field(t, kStatus)[j]);
      tv.steps_taken[row] = static_cast<long>(steps[j]);
      for (index_t l = 0; l < L1; ++l) {
        const index_t at = row * L1 + l;
        tv.inv_initial[at] = t.delta0[l * kLanes + j];
        tv.inv_final[at] = t.norms[(l + 1) * kLanes + j] - t.norms[l * kLanes + j];
        tv.inv_max_drift[at] = t.drift[l * kLanes + j];
        tv.inv_predicted[at] = t.pred[l * kLanes + j];
      }
    }
    if (tv.done != nullptr) __atomic_fetch_add(tv.done, static_cast<long>(nr), __ATOMIC_RELAXED);
  }
  return status_mask;
}

}  // namespace LCNFAST_ISA
}  // namespace lcnfast
