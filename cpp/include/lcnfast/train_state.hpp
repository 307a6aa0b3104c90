// Per-tile state of the batched training kernels (train_kernels.hpp), the lane-wise
// operations both the general and the register-resident (train_dense.hpp) steps use, and
// the gradient-descent loop both run (gd_loop).
//
// Same rules as kernels.hpp (included first): no standard-library templates here.
#pragma once

#include "lcnfast/kernels.hpp"

namespace lcnfast {
namespace LCNFAST_ISA {

// The training fields of a tile's scratch (scratch_layout.hpp says where each lives).
struct TrainScratch {
  Scratch base;     // the product's fields
  double* y;        // [P] current parameters (flow: the accepted point)
  double* k;        // [kFlowStages][P] flow stages (GD: unused)
  double* v;        // [n_out] end-to-end filter at the last evaluation
  double* cur_v;    // [n_out] ... at the current parameters (flow)
  double* lane;     // [kLaneFields] per-run scalars, see LaneField
  double* norms;    // [L] ||w_l||^2
  double* gnorms;   // [L] ||g_l||^2
  double* delta0;   // [L-1]
  double* pred;     // [L-1]
  double* drift;    // [L-1] max |delta - delta0|
};

inline TrainScratch carve_train(const PlanView& p, double* scratch) {
  const ScratchLayout& at = p.layout;
  TrainScratch t;
  t.base = carve(at, scratch);
  t.y = scratch + at.y * kLanes;
  t.k = scratch + at.k * kLanes;
  t.v = scratch + at.v * kLanes;
  t.cur_v = scratch + at.cur_v * kLanes;
  t.lane = scratch + at.lane * kLanes;
  t.norms = scratch + at.norms * kLanes;
  t.gnorms = scratch + at.gnorms * kLanes;
  t.delta0 = scratch + at.delta0 * kLanes;
  t.pred = scratch + at.pred * kLanes;
  t.drift = scratch + at.drift * kLanes;
  return t;
}

inline double* field(const TrainScratch& t, int f) { return t.lane + index_t{f} * kLanes; }

inline bool is_finite(double x) { return x - x == 0.0; }

// norms[l] = sum over layer l's taps of w^2, for the SoA parameters w.
inline void layer_norms(const PlanView& p, const double* __restrict w, double* __restrict norms) {
  for (int l = 0; l < p.n_layers; ++l) {
    Native acc[kVectors];
    const int first = p.tap_begin[l];
    lanes_mul(acc, w + index_t{first} * kLanes, w + index_t{first} * kLanes);
    for (int t = first + 1; t < p.tap_begin[l + 1]; ++t) lanes_mul_add(acc, w + index_t{t} * kLanes, w + index_t{t} * kLanes);
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

// At the parameters in s.base.params: t.v = mu(theta), loss, the gradient of L = l o mu in
// s.base.grad (the function-space gradient 2 (G v - b) pulled back by the exact adjoint),
// its squared norm per layer in t.gnorms and in all, ||grad||^2 = sum_l t.gnorms[l].
inline void evaluate(const PlanView& p, const TrainView& tv, const TrainScratch& t, double* __restrict loss,
                     double* __restrict gnorm2) {
  const Scratch& s = t.base;
  forward_tile(p, s);
  fold_tile(p, s, t.v);
  const index_t n = p.n_out;
  for (int j = 0; j < kLanes; ++j) loss[j] = tv.c;
  for (index_t r = 0; r < n; ++r) {
    Native acc[kVectors];
    const double* Grow = tv.G + r * n;
    lanes_scale(acc, Grow[0], t.v);
    for (index_t q = 1; q < n; ++q) lanes_scale_add(acc, Grow[q], t.v + q * kLanes);
    loss_and_gradient(loss, s.out + r * kLanes, t.v + r * kLanes, acc, tv.b[r]);
  }
  adjoint_tile(p, s, s.grad);
  layer_norms(p, s.grad, t.gnorms);
  lanes_copy(gnorm2, t.gnorms);
  for (int l = 1; l < p.n_layers; ++l) lanes_add(gnorm2, t.gnorms + index_t{l} * kLanes);
}

// The stopping rule, for one vector of runs at their last evaluation (both training
// kernels use it): an active run whose loss or ||grad||^2 is not finite, or whose loss
// exceeds blowup_at, has diverged; else one with ||grad||^2 <= tol2 has converged. Either
// stops it. Branch-free across the lanes: x - x is 0 exactly when x is finite.
inline void stop_rule(Native loss, Native gnorm2, Native blowup_at, double tol2, Native& active, Native& status) {
  const auto on = active != 0.0;
  const auto finite = ((loss - loss) == 0.0) & ((gnorm2 - gnorm2) == 0.0);
  const auto diverged = on & (~finite | (loss > blowup_at));
  const auto converged = on & ~diverged & (gnorm2 <= tol2);
  status = diverged ? Native{} + double{kDiverged} : (converged ? Native{} + double{kConverged} : status);
  active = (diverged | converged) ? Native{} : active;
}

// The loss above which a run counts as diverged: blowup x its initial loss (or a tiny one).
inline Native blowup_loss(const TrainView& tv, Native loss0) {
  return tv.blowup * (loss0 > 1e-300 ? loss0 : Native{} + 1e-300);
}

// Decides, per active lane of the tile, whether the run has converged or diverged.
inline void check_lanes(const TrainView& tv, const TrainScratch& t, const double* loss, const double* gnorm2) {
  double* active = field(t, kActive);
  double* status = field(t, kStatus);
  const double* loss0 = field(t, kLoss0);
  for (int j = 0; j < kLanes; j += kWidth) {
    Native on = nload(active + j), st = nload(status + j);
    stop_rule(nload(loss + j), nload(gnorm2 + j), blowup_loss(tv, nload(loss0 + j)), tv.tol * tv.tol, on, st);
    nstore(status + j, st);
    nstore(active + j, on);
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
      nstore(dr + j, ((nload(active + j) != 0.0) & (d > old)) ? d : old);
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

#define LCNFAST_INLINE inline __attribute__((always_inline))

// The gradient-descent loop, written once for both steps. `Step` advances a set of runs
// held as lanes: TileGdStep (train_kernels.hpp: the general product/adjoint step on a tile
// in scratch) or DenseChain<...>::GdStep (train_dense.hpp: a group of runs of a small
// dense chain in registers). It provides
//   check()          the stopping rule (stop_rule) on every lane at its last evaluation;
//   record(slot, t)  writes slot `slot` of the trajectory, stamped t, for its runs;
//   running()        whether any lane is still active;
//   advance()        one masked GD step of the active lanes, then the evaluation;
//   finish()         leaves the state where the tile code reads it.
// Every run of a step's lanes shares the record slots: when all of them stop early, they
// stay where they are for the remaining slots. Returns false when interrupted (the
// outputs are then partial).
template <class Step>
LCNFAST_INLINE bool gd_loop(const TrainView& tv, Step& step_of) {
  index_t next_slot = 0;
  for (long step = 0;; ++step) {
    step_of.check();
    if (tv.record_every > 0 && step % tv.record_every == 0) step_of.record(next_slot++, static_cast<double>(step));
    if (step == tv.steps || !step_of.running()) break;
    if ((step & 31) == 31 && stop_requested(tv)) return false;
    step_of.advance();
  }
  step_of.finish();
  if (tv.record_every > 0)
    for (; next_slot < tv.n_records; ++next_slot)
      step_of.record(next_slot, static_cast<double>(next_slot * tv.record_every));
  return true;
}

}  // namespace LCNFAST_ISA
}  // namespace lcnfast
