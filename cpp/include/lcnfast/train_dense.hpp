// Register-resident gradient descent for small dense 1D chains: valid layers, stride one
// where it matters (PlanView::dense), 2 to kDenseMaxLayers layers of at most
// kDenseMaxTaps taps -- the architectures of most experiments.
//
// The general step (train_kernels.hpp) keeps a tile of kLanes runs in L1 and walks index
// lists; every multiply-add there reads two operands from memory. Here the sizes are
// compile-time constants, so one SIMD vector of runs keeps its filters, partial products,
// end-to-end filter and gradients in registers (or in a few stack slots) for all its
// steps, and a step is straight-line code. Every lane does exactly the operations of the
// general step in the same order, so the results are bitwise identical to it.
//
// Architectures whose layers have fewer taps than the largest are padded with zero taps at
// the high end of each filter. The product's entries past the real ones are then zero, so
// each extra term is a product with an exact zero and changes no finite sum (at most the
// sign of a zero result). The padded taps' gradients and the adjoint's entries past each
// stage's real length are masked to +0, so the pads stay exactly zero. (Only a run whose
// values overflow, which is diverging anyway, can see a NaN here where the general step
// has an infinity.)
//
// Same rules as kernels.hpp: no standard-library templates here.
#pragma once

#include "lcnfast/train_state.hpp"

namespace lcnfast {
namespace LCNFAST_ISA {

constexpr int kDenseMaxLayers = 4;
constexpr int kDenseMaxTaps = 5;

typedef long long NativeBits __attribute__((vector_size(sizeof(Native))));

inline Native keep_bits(Native x, NativeBits mask) { return (Native)((NativeBits)x & mask); }

inline bool any_lane(Native active) {
  for (int i = 0; i < kWidth; ++i)
    if (active[i] != 0.0) return true;
  return false;
}

// GD on one vector of runs of the chain with L layers of KM taps (Padded: some have fewer).
template <int L, int KM, bool Padded>
struct DenseChain {
  static constexpr int P = L * KM;            // padded parameters
  static constexpr int N = L * (KM - 1) + 1;  // padded end-to-end filter
  // Entries of stage l (the product of layers 0..l), padded.
  static constexpr int stage_len(int l) { return (l + 1) * (KM - 1) + 1; }

  // What every step reads: G with each entry broadcast to a vector (a memory operand of
  // the multiplies), b, c, the real taps and stage lengths, and the masks of real entries.
  struct Consts {
    Native G[N * N];
    double b[N];
    double c;
    int taps[L];
    NativeBits tap_mask[P];
    NativeBits stage_mask[L][N];
  };

  static void init(const PlanView& p, const TrainView& tv, Consts& k) {
    const int n = p.n_out;
    for (int r = 0; r < N; ++r) {
      k.b[r] = r < n ? tv.b[r] : 0.0;
      for (int q = 0; q < N; ++q) k.G[r * N + q] = Native{} + (r < n && q < n ? tv.G[r * n + q] : 0.0);
    }
    k.c = tv.c;
    int len = 1;
    for (int l = 0; l < L; ++l) {
      k.taps[l] = p.tap_begin[l + 1] - p.tap_begin[l];
      len += k.taps[l] - 1;
      for (int t = 0; t < KM; ++t) k.tap_mask[l * KM + t] = NativeBits{} - (t < k.taps[l] ? 1 : 0);
      for (int i = 0; i < N; ++i) k.stage_mask[l][i] = NativeBits{} - (i < len ? 1 : 0);
    }
  }

  // The sums of squares of each layer's taps (layer_norms), from 0 in tap order.
  static inline __attribute__((always_inline)) void norms(const Native* w, Native* out) {
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      Native acc = Native{};
#pragma GCC unroll 8
      for (int t = 0; t < KM; ++t) acc = acc + w[l * KM + t] * w[l * KM + t];
      out[l] = acc;
    }
  }

  // evaluate() of train_kernels.hpp: v = mu(w), loss, grad and ||grad||^2.
  static inline __attribute__((always_inline)) void evaluate(const Consts& k, const Native* w, Native* v,
                                                             Native* grad, Native& loss, Native& gnorm2) {
    Native st[L][N];
#pragma GCC unroll 8
    for (int t = 0; t < KM; ++t) st[0][t] = w[t];
#pragma GCC unroll 8
    for (int l = 1; l < L; ++l) {
      const int len = stage_len(l - 1), out = stage_len(l);
#pragma GCC unroll 32
      for (int m = 0; m < out; ++m) {
        Native acc = Native{};
        const int lo = m - (len - 1) > 0 ? m - (len - 1) : 0;
        const int hi = m < KM - 1 ? m : KM - 1;
#pragma GCC unroll 8
        for (int t = lo; t <= hi; ++t) acc = acc + st[l - 1][m - t] * w[l * KM + t];
        st[l][m] = acc;
      }
    }
    Native g[N];
    loss = Native{} + k.c;
#pragma GCC unroll 32
    for (int r = 0; r < N; ++r) {
      v[r] = st[L - 1][r];
    }
#pragma GCC unroll 32
    for (int r = 0; r < N; ++r) {
      Native acc = Native{};
#pragma GCC unroll 32
      for (int q = 0; q < N; ++q) acc = acc + k.G[r * N + q] * v[q];
      loss = loss + v[r] * (acc - 2.0 * k.b[r]);
      g[r] = 2.0 * (acc - k.b[r]);
    }
    // Adjoint: gb is the cotangent of the current stage.
    Native gb[N], gn[N];
#pragma GCC unroll 32
    for (int i = 0; i < N; ++i) gb[i] = g[i];
#pragma GCC unroll 8
    for (int l = L - 1; l >= 1; --l) {
      const int n = stage_len(l - 1);
#pragma GCC unroll 8
      for (int t = 0; t < KM; ++t) {
        Native acc = Native{};
#pragma GCC unroll 32
        for (int i = 0; i < n; ++i) acc = acc + gb[i + t] * st[l - 1][i];
        grad[l * KM + t] = acc;
      }
#pragma GCC unroll 32
      for (int i = 0; i < n; ++i) {
        Native acc = Native{};
#pragma GCC unroll 8
        for (int t = 0; t < KM; ++t) acc = acc + gb[i + t] * w[l * KM + t];
        gn[i] = Padded ? keep_bits(acc, k.stage_mask[l - 1][i]) : acc;
      }
#pragma GCC unroll 32
      for (int i = 0; i < n; ++i) gb[i] = gn[i];
    }
#pragma GCC unroll 8
    for (int t = 0; t < KM; ++t) grad[t] = gb[t];
    if (Padded) {
#pragma GCC unroll 32
      for (int q = 0; q < P; ++q) grad[q] = keep_bits(grad[q], k.tap_mask[q]);
    }
    gnorm2 = Native{};
#pragma GCC unroll 32
    for (int q = 0; q < P; ++q) gnorm2 = gnorm2 + grad[q] * grad[q];
  }

  // GD on the lanes [off, off + kWidth) of the tile t, whose s.params, fields, delta0,
  // pred and drift hold the state after the general code's first evaluation; leaves the
  // state there as the general loop would. Returns false when interrupted.
  static bool run(const PlanView& p, const TrainView& tv, const TrainScratch& t, const Consts& k, int off,
                  index_t row0, index_t nr) {
    const Scratch& s = t.base;
    const int n_out = p.n_out;
    Native w[P];
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l)
#pragma GCC unroll 8
      for (int q = 0; q < KM; ++q)
        w[l * KM + q] = q < k.taps[l] ? nload(s.params + index_t{p.tap_begin[l] + q} * kLanes + off) : Native{};
    Native v[N], grad[P], loss, gnorm2;
    evaluate(k, w, v, grad, loss, gnorm2);
    Native active = nload(field(t, kActive) + off);
    Native status = nload(field(t, kStatus) + off);
    Native steps = nload(field(t, kSteps) + off);
    const Native loss0 = nload(field(t, kLoss0) + off);
    const Native blowup = tv.blowup * (loss0 > 1e-300 ? loss0 : Native{} + 1e-300);
    const double tol2 = tv.tol * tv.tol, lr = tv.lr, lr2 = tv.lr * tv.lr;
    Native pred[L - 1], drift[L - 1], delta0[L - 1], wn[L], gn[L];
#pragma GCC unroll 8
    for (int l = 0; l + 1 < L; ++l) {
      pred[l] = nload(t.pred + index_t{l} * kLanes + off);
      drift[l] = nload(t.drift + index_t{l} * kLanes + off);
      delta0[l] = nload(t.delta0 + index_t{l} * kLanes + off);
    }
    norms(w, wn);
    const int lanes = nr - off < kWidth ? static_cast<int>(nr - off) : kWidth;
    // Copies the state the records read (t.v, the loss, t.norms) into the tile.
    auto spill = [&] {
      for (int r = 0; r < n_out; ++r) nstore(t.v + index_t{r} * kLanes + off, v[r]);
      nstore(field(t, kLoss) + off, loss);
      for (int l = 0; l < L; ++l) nstore(t.norms + index_t{l} * kLanes + off, wn[l]);
    };
    index_t next_slot = 0;
    for (long step = 0;; ++step) {
      {  // check_lanes
        const auto on = active != 0.0;
        const auto finite = ((loss - loss) == 0.0) & ((gnorm2 - gnorm2) == 0.0);
        const auto diverged = on & (~finite | (loss > blowup));
        const auto converged = on & ~diverged & (gnorm2 <= tol2);
        status = diverged ? Native{} + double{kDiverged} : (converged ? Native{} + double{kConverged} : status);
        active = (diverged | converged) ? Native{} : active;
      }
      if (tv.record_every > 0 && step % tv.record_every == 0) {
        spill();
        for (int j = 0; j < lanes; ++j)
          record_lane(p, tv, t, t.v, field(t, kLoss), row0 + off + j, off + j, next_slot, static_cast<double>(step));
        ++next_slot;
      }
      if (step == tv.steps || !any_lane(active)) break;
      if ((step & 31) == 31 && stop_requested(tv)) return false;
      const auto on = active != 0.0;
      norms(grad, gn);
#pragma GCC unroll 8
      for (int l = 0; l + 1 < L; ++l) pred[l] = on ? pred[l] + lr2 * (gn[l + 1] - gn[l]) : pred[l];
#pragma GCC unroll 32
      for (int q = 0; q < P; ++q) w[q] = on ? w[q] - lr * grad[q] : w[q];
      steps = steps + active;
      norms(w, wn);
#pragma GCC unroll 8
      for (int l = 0; l + 1 < L; ++l) {
        Native d = (wn[l + 1] - wn[l]) - delta0[l];
        d = d < 0.0 ? -d : d;
        drift[l] = on & (d > drift[l]) ? d : drift[l];
      }
      evaluate(k, w, v, grad, loss, gnorm2);
    }
    spill();
    for (int l = 0; l < L; ++l)
      for (int q = 0; q < k.taps[l]; ++q) nstore(s.params + index_t{p.tap_begin[l] + q} * kLanes + off, w[l * KM + q]);
    nstore(field(t, kGradNorm2) + off, gnorm2);
    nstore(field(t, kActive) + off, active);
    nstore(field(t, kStatus) + off, status);
    nstore(field(t, kSteps) + off, steps);
    for (int l = 0; l + 1 < L; ++l) {
      nstore(t.pred + index_t{l} * kLanes + off, pred[l]);
      nstore(t.drift + index_t{l} * kLanes + off, drift[l]);
    }
    // When these runs all stopped early, they stay where they are for the rest.
    if (tv.record_every > 0)
      for (; next_slot < tv.n_records; ++next_slot)
        for (int j = 0; j < lanes; ++j)
          record_lane(p, tv, t, t.v, field(t, kLoss), row0 + off + j, off + j, next_slot,
                      static_cast<double>(next_slot * tv.record_every));
    return true;
  }

  static int tile(const PlanView& p, const TrainView& tv, const TrainScratch& t, index_t row0, index_t nr) {
    Consts k;
    init(p, tv, k);
    for (int off = 0; off < nr; off += kWidth)
      if (!run(p, tv, t, k, off, row0, nr)) return -1;
    return 1;
  }
};

// GD steps of one tile (after the general code's set-up and first evaluation) by the
// register-resident kernel, when the plan is a small dense chain: returns 0 when it does
// not apply, 1 when done, -1 when interrupted.
inline int dense_gd_tile(const PlanView& p, const TrainView& tv, const TrainScratch& t, index_t row0, index_t nr) {
  const int L = p.n_layers;
  if (!tv.specialised || !p.dense || tv.method != kGradientDescent || L < 2 || L > kDenseMaxLayers) return 0;
  int km = 0, len = 1;
  for (int l = 0; l < L; ++l) {
    const int k = p.tap_begin[l + 1] - p.tap_begin[l];
    km = k > km ? k : km;
    len += k - 1;
  }
  if (km < 2 || km > kDenseMaxTaps || p.n_out != len) return 0;
  for (int r = 0; r < p.n_out; ++r)  // the output is the last stage as it is
    if (p.fold_begin[r + 1] - p.fold_begin[r] != 1 || p.fold_index[p.fold_begin[r]] != r) return 0;
  bool padded = false;
  for (int l = 0; l < L; ++l) padded |= p.tap_begin[l + 1] - p.tap_begin[l] != km;
#define LCNFAST_DENSE_CASE(NL, KM)                                                       \
  case (NL) * 8 + (KM):                                                                  \
    return padded ? DenseChain<NL, KM, true>::tile(p, tv, t, row0, nr)                   \
                  : DenseChain<NL, KM, false>::tile(p, tv, t, row0, nr);
  switch (L * 8 + km) {
    LCNFAST_DENSE_CASE(2, 2)
    LCNFAST_DENSE_CASE(2, 3)
    LCNFAST_DENSE_CASE(2, 4)
    LCNFAST_DENSE_CASE(2, 5)
    LCNFAST_DENSE_CASE(3, 2)
    LCNFAST_DENSE_CASE(3, 3)
    LCNFAST_DENSE_CASE(3, 4)
    LCNFAST_DENSE_CASE(3, 5)
    LCNFAST_DENSE_CASE(4, 2)
    LCNFAST_DENSE_CASE(4, 3)
    LCNFAST_DENSE_CASE(4, 4)
    LCNFAST_DENSE_CASE(4, 5)
    default:
      return 0;
  }
#undef LCNFAST_DENSE_CASE
}

}  // namespace LCNFAST_ISA
}  // namespace lcnfast
