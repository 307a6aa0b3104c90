// Batched training kernels: gradient descent and gradient flow (Dormand-Prince 5(4)) on
// the exact quadratic loss l(v) = v^T G v - 2 b^T v + c of the end-to-end filter
// (DESIGN.md 2.4, 2.5).
//
// A tile of kLanes runs is loaded once into structure-of-arrays scratch and stays there,
// in L1, for all its steps: every step is the product (forward_tile), one k x k
// matrix-vector product with G, and the adjoint (adjoint_tile), each vectorised across the
// runs. Runs are independent lanes, so a run that converges or diverges is frozen by a
// per-lane mask and never affects the others, and results do not depend on how runs are
// grouped into tiles or threads.
//
// Same rules as kernels.hpp (included first): no standard-library templates here.
#pragma once

#include "lcnfast/kernels.hpp"

namespace lcnfast {
namespace LCNFAST_ISA {

// Per-tile training state, in units of kLanes doubles (train_scratch_size in plan.hpp).
struct TrainScratch {
  Scratch base;
  double* y;        // [P] current parameters (flow: the accepted point)
  double* k;        // [7][P] flow stages (GD: unused)
  double* v;        // [n_out] end-to-end filter at the last evaluation
  double* cur_v;    // [n_out] ... at the current parameters (flow)
  double* lane;     // [kLaneFields] per-run scalars, see LaneField
  double* norms;    // [L] ||w_l||^2
  double* gnorms;   // [L] ||g_l||^2
  double* delta0;   // [L-1]
  double* pred;     // [L-1]
  double* drift;    // [L-1] max |delta - delta0|
};

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

inline index_t train_extra_lanes(const PlanView& p) {
  const index_t P = p.tap_begin[p.n_layers];
  return 9 * P + 2 * index_t{p.n_out} + kLaneFields + 5 * index_t{p.n_layers};
}

inline TrainScratch carve_train(const PlanView& p, double* scratch, index_t base_size) {
  const index_t P = p.tap_begin[p.n_layers];
  TrainScratch t;
  t.base = carve(p, scratch);
  double* s = scratch + base_size;
  t.y = s;
  t.k = t.y + P * kLanes;
  t.v = t.k + 7 * P * kLanes;
  t.cur_v = t.v + index_t{p.n_out} * kLanes;
  t.lane = t.cur_v + index_t{p.n_out} * kLanes;
  t.norms = t.lane + index_t{kLaneFields} * kLanes;
  t.gnorms = t.norms + index_t{p.n_layers} * kLanes;
  t.delta0 = t.gnorms + index_t{p.n_layers} * kLanes;
  t.pred = t.delta0 + index_t{p.n_layers} * kLanes;
  t.drift = t.pred + index_t{p.n_layers} * kLanes;
  return t;
}

inline double* field(const TrainScratch& t, int f) { return t.lane + index_t{f} * kLanes; }

inline bool is_finite(double x) { return x - x == 0.0; }

// norms[l] = sum over layer l's taps of w^2, for the SoA parameters w.
inline void layer_norms(const PlanView& p, const double* __restrict w, double* __restrict norms) {
  for (int l = 0; l < p.n_layers; ++l) {
    Native acc[kVectors] = {};
    for (int t = p.tap_begin[l]; t < p.tap_begin[l + 1]; ++t) lanes_mul_add(acc, w + index_t{t} * kLanes, w + index_t{t} * kLanes);
    lanes_copy(norms + index_t{l} * kLanes, acc);
  }
}

// loss += v (Gv - 2 b), out = 2 (Gv - b) for one entry of the filter, across the lanes.
inline void loss_and_gradient(double* loss, double* out, const double* v, const Native* Gv, double b) {
  for (int j = 0; j < kLanes; j += kWidth) {
    const Native g = Gv[j / kWidth];
    nstore(loss + j, nload(loss + j) + nload(v + j) * (g - 2.0 * b));
    nstore(out + j, 2.0 * (g - b));
  }
}

// w -= lr * g where the lane is active (a select, so inactive lanes keep their exact bits).
inline void masked_step(double* w, const double* g, const double* active, double lr) {
  for (int j = 0; j < kLanes; j += kWidth) {
    const Native w0 = nload(w + j);
    const Native stepped = w0 - lr * nload(g + j);
    nstore(w + j, nload(active + j) != 0.0 ? stepped : w0);
  }
}

// pred += lr^2 (b - a) where the lane is active.
inline void masked_drift(double* pred, const double* a, const double* b, const double* active, double lr2) {
  for (int j = 0; j < kLanes; j += kWidth) {
    const Native p0 = nload(pred + j);
    const Native next = p0 + lr2 * (nload(b + j) - nload(a + j));
    nstore(pred + j, nload(active + j) != 0.0 ? next : p0);
  }
}

// At the parameters in s.base.params: t.v = mu(theta), loss, ||grad||^2, and the gradient
// of L = l o mu in s.base.grad (the function-space gradient 2 (G v - b) pulled back by the
// exact adjoint).
inline void evaluate(const PlanView& p, const TrainView& tv, const TrainScratch& t, double* __restrict loss,
                     double* __restrict gnorm2) {
  const Scratch& s = t.base;
  forward_tile(p, s);
  fold_tile(p, s, t.v);
  const index_t n = p.n_out;
  for (int j = 0; j < kLanes; ++j) loss[j] = tv.c;
  for (index_t r = 0; r < n; ++r) {
    Native acc[kVectors] = {};
    const double* Grow = tv.G + r * n;
    for (index_t q = 0; q < n; ++q) lanes_scale_add(acc, Grow[q], t.v + q * kLanes);
    loss_and_gradient(loss, s.out + r * kLanes, t.v + r * kLanes, acc, tv.b[r]);
  }
  adjoint_tile(p, s, s.grad);
  const index_t P = p.tap_begin[p.n_layers];
  Native acc[kVectors] = {};
  for (index_t q = 0; q < P; ++q) lanes_mul_add(acc, s.grad + q * kLanes, s.grad + q * kLanes);
  lanes_copy(gnorm2, acc);
}

// Decides, per active lane, whether the run has converged or diverged at its last evaluation.
inline void check_lanes(const TrainView& tv, const TrainScratch& t, const double* loss, const double* gnorm2) {
  // Branch-free across the lanes: x - x is 0 exactly when x is finite.
  double* active = field(t, kActive);
  double* status = field(t, kStatus);
  const double* loss0 = field(t, kLoss0);
  for (int j = 0; j < kLanes; j += kWidth) {
    const Native l = nload(loss + j), g = nload(gnorm2 + j), l0 = nload(loss0 + j), on = nload(active + j);
    const Native scale = l0 > 1e-300 ? l0 : Native{} + 1e-300;
    const auto finite = ((l - l) == 0.0) & ((g - g) == 0.0);
    const auto diverged = (on != 0.0) & (~finite | (l > tv.blowup * scale));
    const auto converged = (on != 0.0) & ~diverged & (g <= tv.tol * tv.tol);
    const Native st = nload(status + j);
    nstore(status + j, diverged ? Native{} + double{kDiverged} : (converged ? Native{} + double{kConverged} : st));
    nstore(active + j, (diverged | converged) ? Native{} : on);
  }
}

// For the parameters y: delta_l = norms[l+1] - norms[l]; drift = max(drift, |delta - delta0|)
// for active lanes.
inline void track_drift(const PlanView& p, const TrainScratch& t, const double* y) {
  layer_norms(p, y, t.norms);
  const double* active = field(t, kActive);
  for (int l = 0; l + 1 < p.n_layers; ++l) {
    const double* a = t.norms + index_t{l} * kLanes;
    const double* b = t.norms + index_t{l + 1} * kLanes;
    const double* d0 = t.delta0 + index_t{l} * kLanes;
    double* dr = t.drift + index_t{l} * kLanes;
    for (int j = 0; j < kLanes; j += kWidth) {
      Native d = (nload(b + j) - nload(a + j)) - nload(d0 + j);
      d = d < 0.0 ? -d : d;
      const Native old = nload(dr + j);
      nstore(dr + j, (nload(active + j) != 0.0) & (d > old) ? d : old);
    }
  }
}

// Writes lane j's current state into record slot `slot` (t.v and the given loss).
inline void record_lane(const PlanView& p, const TrainView& tv, const TrainScratch& t, const double* v,
                        const double* loss, index_t row, int j, index_t slot, double when) {
  if (tv.rec_loss == nullptr || slot >= tv.n_records) return;
  const index_t n = p.n_out, L1 = p.n_layers - 1;
  const index_t at = row * tv.n_records + slot;
  tv.rec_t[at] = when;
  tv.rec_loss[at] = loss[j];
  for (index_t r = 0; r < n; ++r) tv.rec_v[at * n + r] = v[r * kLanes + j];
  for (index_t l = 0; l < L1; ++l)
    tv.rec_inv[at * L1 + l] = t.norms[(l + 1) * kLanes + j] - t.norms[l * kLanes + j];
}

inline void lanes_negate(double* __restrict o, const double* __restrict a) {
  for (int j = 0; j < kLanes; ++j) o[j] = -a[j];
}

inline bool any_active(const double* active) {
  Native any = Native{};
  for (int j = 0; j < kLanes; j += kWidth) any += nload(active + j);
  for (int i = 0; i < kWidth; ++i)
    if (any[i] != 0.0) return true;
  return false;
}

inline bool stop_requested(const TrainView& tv) {
  return tv.stop != nullptr && __atomic_load_n(tv.stop, __ATOMIC_RELAXED) != 0;
}

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

// Trains rows [first_row, first_row + rows): returns a KernelStatus mask.
inline int train_rows(const PlanView& p, const TrainView& tv, index_t first_row, index_t rows, double* scratch) {
  const index_t P = p.tap_begin[p.n_layers];
  const index_t n = p.n_out;
  const index_t L1 = p.n_layers - 1;
  // the base scratch comes first; its size is what carve() lays out
  const index_t base_size =
      kLanes * (2 * P + index_t{p.n_layers} * p.full_len + 2 * index_t{p.full_len} + 2 * n);
  const TrainScratch t = carve_train(p, scratch, base_size);
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
    bool interrupted = false;

    if (tv.method == kGradientDescent) {
      index_t next_slot = 0;  // all runs of a tile step together, so they share the slots
      for (long step = 0;; ++step) {
        check_lanes(tv, t, loss, gnorm2);
        if (tv.record_every > 0 && step % tv.record_every == 0) {
          for (int j = 0; j < nr; ++j)
            record_lane(p, tv, t, t.v, loss, row0 + j, j, next_slot, static_cast<double>(step));
          ++next_slot;
        }
        if (step == tv.steps || !any_active(active)) break;
        if ((step & 31) == 31 && stop_requested(tv)) {
          interrupted = true;
          break;
        }
        // Predicted invariant drift of this step: lr^2 (||g_{l+1}||^2 - ||g_l||^2).
        layer_norms(p, s.grad, t.gnorms);
        for (index_t l = 0; l < L1; ++l)
          masked_drift(t.pred + l * kLanes, t.gnorms + l * kLanes, t.gnorms + (l + 1) * kLanes, active,
                       tv.lr * tv.lr);
        // GD keeps its parameters in s.params itself (evaluate reads them there).
        for (index_t q = 0; q < P; ++q) masked_step(s.params + q * kLanes, s.grad + q * kLanes, active, tv.lr);
        lanes_add(steps, active);
        track_drift(p, t, s.params);
        evaluate(p, tv, t, loss, gnorm2);
      }
      for (index_t q = 0; q < P * kLanes; ++q) t.y[q] = s.params[q];
      layer_norms(p, t.y, t.norms);
      // When every run of the tile stopped early, they stay where they are for the rest.
      if (tv.record_every > 0)
        for (; next_slot < tv.n_records; ++next_slot)
          for (int j = 0; j < nr; ++j)
            record_lane(p, tv, t, t.v, loss, row0 + j, j, next_slot, static_cast<double>(next_slot * tv.record_every));
    } else {
      // Gradient flow d theta / dt = -grad L by Dormand-Prince 5(4), FSAL, per-run steps.
      const index_t PL = P * kLanes;
      double* k1 = t.k;
      for (index_t q = 0; q < P; ++q) lanes_negate(k1 + q * kLanes, s.grad + q * kLanes);
      lanes_copy(field(t, kCurLoss), loss);
      lanes_copy(field(t, kCurGradNorm2), gnorm2);
      for (index_t q = 0; q < n * kLanes; ++q) t.cur_v[q] = t.v[q];
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
        bool any = false;
        for (int j = 0; j < kLanes; ++j) any |= active[j] != 0.0;
        if (!any || attempt == tv.steps) break;
        if ((attempt & 7) == 7 && stop_requested(tv)) {
          interrupted = true;
          break;
        }
        for (int j = 0; j < kLanes; ++j) {
          const double left = tv.t_max - time[j];
          if (h[j] > left) h[j] = left;
        }
        for (int stage = 1; stage < 7; ++stage) {
          for (index_t q = 0; q < P; ++q) {
            Native acc[kVectors] = {};
            for (int i = 0; i < stage; ++i) {
              const double a = DormandPrince::a[stage][i];
              if (a != 0.0) lanes_scale_add(acc, a, t.k + (index_t{i} * P + q) * kLanes);
            }
            double* x = s.params + q * kLanes;
            const double* y = t.y + q * kLanes;
            for (int v = 0; v < kVectors; ++v)
              nstore(x + v * kWidth, nload(y + v * kWidth) + nload(h + v * kWidth) * acc[v]);
          }
          evaluate(p, tv, t, loss, gnorm2);
          double* ks = t.k + index_t{stage} * PL;
          for (index_t q = 0; q < P; ++q) lanes_negate(ks + q * kLanes, s.grad + q * kLanes);
        }
        // s.params now holds the 5th-order solution (stage 7 is evaluated there: FSAL).
        for (int j = 0; j < kLanes; ++j) err[j] = 0.0;
        for (index_t q = 0; q < P; ++q) {
          double acc[kLanes] = {};
          for (int i = 0; i < 7; ++i) {
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
            for (index_t q = 0; q < P; ++q) k1[q * kLanes + j] = t.k[(6 * P + q) * kLanes + j];
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
            record_lane(p, tv, t, t.cur_v, cur_loss, row0 + j, j, static_cast<long>(steps[j]) / tv.record_every,
                        time[j]);
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
    }
    if (interrupted) return status_mask | kInterrupted;

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
