// Register-resident gradient descent for small dense 1D chains: valid layers, stride one
// where it matters (PlanView::dense), 2 to kDenseMaxLayers layers of at most
// kDenseMaxTaps taps -- the architectures of most experiments.
//
// The general step (train_kernels.hpp) keeps a tile of kLanes runs in L1 and walks index
// lists; every multiply-add there reads two operands from memory. Here the sizes are
// compile-time constants, so a group of runs keeps its filters, partial products,
// end-to-end filter and gradients in registers (or in a few stack slots) for all its
// steps, and a step is straight-line code. Every lane does exactly the operations of the
// general step in the same order (every sum starting from its first term), so the
// results are bitwise identical to it.
//
// Architectures whose layers have fewer taps than the largest are padded with zero taps at
// the high end of each filter. The product's entries past the real ones are then zero, so
// each extra term is a product with an exact zero and changes no finite sum: the values
// are the general step's, except that a zero may differ in sign. The padded taps'
// gradients and the adjoint's entries past each stage's real length are masked to +0, so
// the pads stay exactly zero. (Only a run whose values overflow, which is diverging
// anyway, can see a NaN here where the general step has an infinity.)
//
// Same rules as kernels.hpp: no standard-library templates here.
#pragma once

#include "lcnfast/train_state.hpp"

namespace lcnfast {
namespace LCNFAST_ISA {

constexpr int kDenseMaxLayers = 4;
constexpr int kDenseMaxTaps = 5;

// The runs advanced together: a group of kDenseGroup native vectors, with the arithmetic
// written vector by vector through the operators below. (Measured on Zen 5 with AVX-512:
// GCC's own vector ternaries and oversized vector types compiled to code 1.4x and 2x
// slower; groups of one, two or four vectors run at the same speed, the step being bound
// by the floating-point pipes, not by its latency.)
constexpr int kDenseGroup = 2;
constexpr int kGroupLanes = kWidth * kDenseGroup;
static_assert(kLanes % kGroupLanes == 0, "a tile holds whole groups");

typedef long long NativeBits __attribute__((vector_size(sizeof(Native))));

struct Group {
  Native x[kDenseGroup];
};
struct GroupMask {
  NativeBits x[kDenseGroup];
};

#define LCNFAST_GROUP_OP(RESULT, NAME, A, B, EXPR)  \
  LCNFAST_INLINE RESULT NAME(A a, B b) {              \
    RESULT r;                                         \
    for (int u = 0; u < kDenseGroup; ++u) r.x[u] = EXPR; \
    return r;                                         \
  }
LCNFAST_GROUP_OP(Group, operator+, Group, Group, a.x[u] + b.x[u])
LCNFAST_GROUP_OP(Group, operator-, Group, Group, a.x[u] - b.x[u])
LCNFAST_GROUP_OP(Group, operator*, Group, Group, a.x[u] * b.x[u])
LCNFAST_GROUP_OP(Group, operator*, Native, Group, a * b.x[u])
LCNFAST_GROUP_OP(Group, operator*, double, Group, a * b.x[u])
LCNFAST_GROUP_OP(Group, operator-, Group, Native, a.x[u] - b)
LCNFAST_GROUP_OP(GroupMask, operator<, Group, Group, a.x[u] < b.x[u])
LCNFAST_GROUP_OP(GroupMask, operator>, Group, Group, a.x[u] > b.x[u])
LCNFAST_GROUP_OP(GroupMask, operator!=, Group, double, a.x[u] != b)
LCNFAST_GROUP_OP(GroupMask, operator&, GroupMask, GroupMask, a.x[u] & b.x[u])
LCNFAST_GROUP_OP(Group, keep_bits, Group, NativeBits, (Native)((NativeBits)a.x[u] & b))
#undef LCNFAST_GROUP_OP

LCNFAST_INLINE Group operator-(Group a) {
  for (int u = 0; u < kDenseGroup; ++u) a.x[u] = -a.x[u];
  return a;
}
// The lane-wise m ? a : b.
LCNFAST_INLINE Group select(GroupMask m, Group a, Group b) {
  for (int u = 0; u < kDenseGroup; ++u) a.x[u] = m.x[u] ? a.x[u] : b.x[u];
  return a;
}
LCNFAST_INLINE Group splat(double x) {
  Group r;
  for (int u = 0; u < kDenseGroup; ++u) r.x[u] = Native{} + x;
  return r;
}
LCNFAST_INLINE Group gload(const double* p) {
  Group r;
  for (int u = 0; u < kDenseGroup; ++u) r.x[u] = nload(p + u * kWidth);
  return r;
}
LCNFAST_INLINE void gstore(double* p, Group v) {
  for (int u = 0; u < kDenseGroup; ++u) nstore(p + u * kWidth, v.x[u]);
}
inline bool any_lane(Group active) {
  for (int u = 0; u < kDenseGroup; ++u)
    for (int i = 0; i < kWidth; ++i)
      if (active.x[u][i] != 0.0) return true;
  return false;
}

// GD on one group of runs of the chain with L layers of KM taps (Padded: some have fewer).
template <int L, int KM, bool Padded>
struct DenseChain {
  static constexpr int P = L * KM;            // padded parameters
  static constexpr int N = L * (KM - 1) + 1;  // padded end-to-end filter
  // Entries of stage l (the product of layers 0..l), padded.
  static constexpr int stage_len(int l) { return (l + 1) * (KM - 1) + 1; }

  // What every step reads, broadcast to vectors (memory operands of the arithmetic): G, b
  // and 2 b; then c, the real taps and the masks of real entries.
  struct Consts {
    Native G[N * N];
    Native b[N];
    Native b2[N];
    double c;
    int taps[L];
    NativeBits tap_mask[P];
    NativeBits stage_mask[L][N];
  };

  static void init(const PlanView& p, const TrainView& tv, Consts& k) {
    const int n = p.n_out;
    for (int r = 0; r < N; ++r) {
      const double br = r < n ? tv.b[r] : 0.0;
      k.b[r] = Native{} + br;
      k.b2[r] = Native{} + 2.0 * br;
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

  // The sums of squares of each layer's taps in tap order (layer_norms).
  static LCNFAST_INLINE void norms(const Group* w, Group* out) {
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
      Group acc = w[l * KM] * w[l * KM];
#pragma GCC unroll 8
      for (int t = 1; t < KM; ++t) acc = acc + w[l * KM + t] * w[l * KM + t];
      out[l] = acc;
    }
  }

  // evaluate() of train_kernels.hpp: v = mu(w), loss, grad, its squared norm per layer
  // (gn) and in all.
  static LCNFAST_INLINE void evaluate(const Consts& k, const Group* w, Group* v, Group* grad, Group* gn,
                                      Group& loss, Group& gnorm2) {
    Group st[L][N];
#pragma GCC unroll 8
    for (int t = 0; t < KM; ++t) st[0][t] = w[t];
#pragma GCC unroll 8
    for (int l = 1; l < L; ++l) {
      const int len = stage_len(l - 1), out = stage_len(l);
#pragma GCC unroll 32
      for (int m = 0; m < out; ++m) {
        const int lo = m - (len - 1) > 0 ? m - (len - 1) : 0;
        const int hi = m < KM - 1 ? m : KM - 1;
        Group acc = st[l - 1][m - lo] * w[l * KM + lo];
#pragma GCC unroll 8
        for (int t = lo + 1; t <= hi; ++t) acc = acc + st[l - 1][m - t] * w[l * KM + t];
        st[l][m] = acc;
      }
    }
    Group g[N];
    loss = splat(k.c);
#pragma GCC unroll 32
    for (int r = 0; r < N; ++r) {
      v[r] = st[L - 1][r];
    }
#pragma GCC unroll 32
    for (int r = 0; r < N; ++r) {
      Group acc = k.G[r * N] * v[0];
#pragma GCC unroll 32
      for (int q = 1; q < N; ++q) acc = acc + k.G[r * N + q] * v[q];
      loss = loss + v[r] * (acc - k.b2[r]);
      g[r] = 2.0 * (acc - k.b[r]);
    }
    // Adjoint: gb is the cotangent of the current stage.
    Group gb[N], gc[N];
#pragma GCC unroll 32
    for (int i = 0; i < N; ++i) gb[i] = g[i];
#pragma GCC unroll 8
    for (int l = L - 1; l >= 1; --l) {
      const int n = stage_len(l - 1);
#pragma GCC unroll 8
      for (int t = 0; t < KM; ++t) {
        Group acc = gb[t] * st[l - 1][0];
#pragma GCC unroll 32
        for (int i = 1; i < n; ++i) acc = acc + gb[i + t] * st[l - 1][i];
        grad[l * KM + t] = acc;
      }
#pragma GCC unroll 32
      for (int i = 0; i < n; ++i) {
        Group acc = gb[i] * w[l * KM];
#pragma GCC unroll 8
        for (int t = 1; t < KM; ++t) acc = acc + gb[i + t] * w[l * KM + t];
        gc[i] = Padded ? keep_bits(acc, k.stage_mask[l - 1][i]) : acc;
      }
#pragma GCC unroll 32
      for (int i = 0; i < n; ++i) gb[i] = gc[i];
    }
#pragma GCC unroll 8
    for (int t = 0; t < KM; ++t) grad[t] = gb[t];
    if (Padded) {
#pragma GCC unroll 32
      for (int q = 0; q < P; ++q) grad[q] = keep_bits(grad[q], k.tap_mask[q]);
    }
    norms(grad, gn);
    gnorm2 = gn[0];
#pragma GCC unroll 8
    for (int l = 1; l < L; ++l) gnorm2 = gnorm2 + gn[l];
  }

  // The register-resident step of gd_loop (train_state.hpp) on the lanes [off, off +
  // kGroupLanes) of the tile t, whose s.params, fields, delta0, pred and drift hold the
  // state after the general code's first evaluation; finish() leaves the state there as
  // the general step would.
  struct GdStep {
    const PlanView& p;
    const TrainView& tv;
    const TrainScratch& t;
    const Consts& k;
    const int off;
    const index_t row0;
    const int lanes;  // real runs among the group's lanes
    const double tol2, lr, lr2;
    Group w[P], v[N], grad[P], gn[L], loss, gnorm2, active, status, steps, blowup;
    Group pred[L - 1], drift[L - 1], delta0[L - 1], wn[L];

    LCNFAST_INLINE GdStep(const PlanView& p_, const TrainView& tv_, const TrainScratch& t_, const Consts& k_,
                          int off_, index_t row0_, index_t nr)
        : p(p_), tv(tv_), t(t_), k(k_), off(off_), row0(row0_),
          lanes(nr - off_ < kGroupLanes ? static_cast<int>(nr - off_) : kGroupLanes),
          tol2(tv_.tol * tv_.tol), lr(tv_.lr), lr2(tv_.lr * tv_.lr) {
      const Scratch& s = t.base;
#pragma GCC unroll 8
      for (int l = 0; l < L; ++l)
#pragma GCC unroll 8
        for (int q = 0; q < KM; ++q)
          w[l * KM + q] = q < k.taps[l] ? gload(s.params + index_t{p.tap_begin[l] + q} * kLanes + off) : splat(0.0);
      evaluate(k, w, v, grad, gn, loss, gnorm2);
      active = gload(field(t, kActive) + off);
      status = gload(field(t, kStatus) + off);
      steps = gload(field(t, kSteps) + off);
      for (int u = 0; u < kDenseGroup; ++u) blowup.x[u] = blowup_loss(tv, nload(field(t, kLoss0) + off + u * kWidth));
#pragma GCC unroll 8
      for (int l = 0; l + 1 < L; ++l) {
        pred[l] = gload(t.pred + index_t{l} * kLanes + off);
        drift[l] = gload(t.drift + index_t{l} * kLanes + off);
        delta0[l] = gload(t.delta0 + index_t{l} * kLanes + off);
      }
      norms(w, wn);
    }

    LCNFAST_INLINE void check() {
      for (int u = 0; u < kDenseGroup; ++u)
        stop_rule(loss.x[u], gnorm2.x[u], blowup.x[u], tol2, active.x[u], status.x[u]);
    }
    // Copies the state the records read (t.v, the loss, t.norms) into the tile.
    LCNFAST_INLINE void spill() {
      for (int r = 0; r < p.n_out; ++r) gstore(t.v + index_t{r} * kLanes + off, v[r]);
      gstore(field(t, kLoss) + off, loss);
      for (int l = 0; l < L; ++l) gstore(t.norms + index_t{l} * kLanes + off, wn[l]);
    }
    LCNFAST_INLINE void record(index_t slot, double when) {
      spill();
      for (int j = 0; j < lanes; ++j) record_lane(p, tv, t, t.v, field(t, kLoss), row0 + off + j, off + j, slot, when);
    }
    LCNFAST_INLINE bool running() const { return any_lane(active); }
    // masked_drift, masked_step and track_drift of train_state.hpp, on the registers
    LCNFAST_INLINE void advance() {
      const auto on = active != 0.0;
#pragma GCC unroll 8
      for (int l = 0; l + 1 < L; ++l) pred[l] = select(on, pred[l] + lr2 * (gn[l + 1] - gn[l]), pred[l]);
#pragma GCC unroll 32
      for (int q = 0; q < P; ++q) w[q] = select(on, w[q] - lr * grad[q], w[q]);
      steps = steps + active;
      norms(w, wn);
#pragma GCC unroll 8
      for (int l = 0; l + 1 < L; ++l) {
        Group d = (wn[l + 1] - wn[l]) - delta0[l];
        d = select(d < splat(0.0), -d, d);
        drift[l] = select(on & (d > drift[l]), d, drift[l]);
      }
      evaluate(k, w, v, grad, gn, loss, gnorm2);
    }
    LCNFAST_INLINE void finish() {
      spill();
      const Scratch& s = t.base;
      for (int l = 0; l < L; ++l)
        for (int q = 0; q < k.taps[l]; ++q)
          gstore(s.params + index_t{p.tap_begin[l] + q} * kLanes + off, w[l * KM + q]);
      gstore(field(t, kGradNorm2) + off, gnorm2);
      gstore(field(t, kActive) + off, active);
      gstore(field(t, kStatus) + off, status);
      gstore(field(t, kSteps) + off, steps);
      for (int l = 0; l + 1 < L; ++l) {
        gstore(t.pred + index_t{l} * kLanes + off, pred[l]);
        gstore(t.drift + index_t{l} * kLanes + off, drift[l]);
      }
    }
  };

  static int tile(const PlanView& p, const TrainView& tv, const TrainScratch& t, index_t row0, index_t nr) {
    Consts k;
    init(p, tv, k);
    for (int off = 0; off < nr; off += kGroupLanes) {
      GdStep step(p, tv, t, k, off, row0, nr);
      if (!gd_loop(tv, step)) return -1;
    }
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
