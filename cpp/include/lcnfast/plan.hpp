// The parameterisation map mu of an LCN as a precomputed "product plan".
//
// Every architecture lcnfast supports (1D or 2D, any strides, valid or circular) has an
// end-to-end filter that is a product of dilated layer filters (docs/conventions.rst):
//
//     v(x, z) = prod_l w_l(x^{D_l}, z^{D'_l}),   D_l = s_1 ... s_{l-1}  (D_1 = 1),
//
// reduced modulo (x^n - 1, z^n' - 1) for circular layers. We store every filter, the
// end-to-end one included, row-major in an array of the *final* width K', so that the
// tap (j, j') of layer l sits at the flat offset  j D_l K' + j' D'_l.  Because no
// partial product is wider than K', multiplying by layer l is then a 1D sparse
// convolution with these offsets, and the 1D case is simply K' = 1. The plan holds the
// offsets, the support (non-zero pattern) of every partial product and the folding map
// of the circular reduction; the kernels in kernels.hpp only walk these lists.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lcnfast/kernels_view.hpp"
#include "lcnfast/memory.hpp"

namespace lcnfast {

// Limits that keep every index an int and every allocation sane. An architecture beyond
// them is "absurd" for this library and is rejected with std::invalid_argument.
inline constexpr std::int64_t kMaxFilterEntries = std::int64_t{1} << 20;  // end-to-end K*K'
inline constexpr std::int64_t kMaxParams = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxLayers = 4096;

using Shape2 = std::array<std::int64_t, 2>;

// A plan construction stopped by its stop check (Ctrl-C).
struct PlanInterrupted : std::exception {
  const char* what() const noexcept override { return "plan construction interrupted"; }
};

class ProductPlan {
 public:
  // filter_shapes[l] = (k_l, k'_l), strides[l] = (s_l, s'_l), modulus = (n, n') for
  // circular layers (the input width d_0), or (0, 0) for valid layers. 1D is k'_l = s'_l = 1
  // and n' = 1 (or 0).
  // `stop` (optional) is polled between layers of the longer loops below: when it returns
  // true the construction ends with PlanInterrupted.
  ProductPlan(const std::vector<Shape2>& filter_shapes, const std::vector<Shape2>& strides,
              Shape2 modulus, const std::function<bool()>& stop = {}) {
    if (filter_shapes.empty()) throw std::invalid_argument("k: an architecture needs at least one layer");
    if (filter_shapes.size() != strides.size())
      throw std::invalid_argument("s: expected one stride per layer (" + std::to_string(filter_shapes.size()) +
                                  "), got " + std::to_string(strides.size()));
    if (static_cast<std::int64_t>(filter_shapes.size()) > kMaxLayers)
      throw std::invalid_argument("k: more than " + std::to_string(kMaxLayers) + " layers");
    const bool circular = modulus[0] != 0 || modulus[1] != 0;
    if (circular && (modulus[0] < 1 || modulus[1] < 1))
      throw std::invalid_argument("d0: circular input width must be >= 1, got (" + std::to_string(modulus[0]) +
                                  ", " + std::to_string(modulus[1]) + ")");

    // End-to-end size K = 1 + sum (k_l - 1) D_l, computed with overflow checks.
    Shape2 dil{1, 1}, full{1, 1};
    std::int64_t n_params = 0;
    std::vector<Shape2> dilations;
    for (std::size_t l = 0; l < filter_shapes.size(); ++l) {
      for (int a = 0; a < 2; ++a) {
        const std::int64_t k = filter_shapes[l][static_cast<std::size_t>(a)];
        const std::int64_t s = strides[l][static_cast<std::size_t>(a)];
        if (k < 1) throw std::invalid_argument("k: filter sizes must be >= 1, layer " + std::to_string(l + 1) + " has " + std::to_string(k));
        if (s < 1) throw std::invalid_argument("s: strides must be >= 1, layer " + std::to_string(l + 1) + " has " + std::to_string(s));
        if (k > kMaxFilterEntries ||
            (k > 1 && (dil[static_cast<std::size_t>(a)] > kMaxFilterEntries ||
                       (k - 1) > (kMaxFilterEntries - full[static_cast<std::size_t>(a)]) / dil[static_cast<std::size_t>(a)])))
          throw std::invalid_argument("k: end-to-end filter larger than " + std::to_string(kMaxFilterEntries) + " entries");
        full[static_cast<std::size_t>(a)] += (k - 1) * dil[static_cast<std::size_t>(a)];
      }
      dilations.push_back(dil);
      n_params += filter_shapes[l][0] * filter_shapes[l][1];
      if (n_params > kMaxParams) throw std::invalid_argument("k: more than " + std::to_string(kMaxParams) + " parameters");
      for (int a = 0; a < 2; ++a) {
        auto& d = dil[static_cast<std::size_t>(a)];
        const std::int64_t s = strides[l][static_cast<std::size_t>(a)];
        // Later dilations only matter if a later layer has k > 1; cap to avoid overflow.
        d = (d > kMaxFilterEntries / s) ? kMaxFilterEntries + 1 : d * s;
      }
    }
    if (full[0] * full[1] > kMaxFilterEntries)
      throw std::invalid_argument("k: end-to-end filter larger than " + std::to_string(kMaxFilterEntries) + " entries");
    full_shape_ = full;
    out_shape_ = full;
    if (circular) out_shape_ = {std::min(full[0], modulus[0]), std::min(full[1], modulus[1])};
    filter_shapes_ = filter_shapes;
    strides_ = strides;
    modulus_ = circular ? modulus : Shape2{0, 0};

    const std::int64_t width = full[1];
    const std::size_t L = filter_shapes.size();
    tap_begin_.assign(L + 1, 0);
    for (std::size_t l = 0; l < L; ++l) {
      const auto [k, kp] = filter_shapes[l];
      tap_begin_[l + 1] = tap_begin_[l] + static_cast<int>(k * kp);
      for (std::int64_t j = 0; j < k; ++j)
        for (std::int64_t jp = 0; jp < kp; ++jp)
          tap_offsets_.push_back(static_cast<int>(j * dilations[l][0] * width + jp * dilations[l][1]));
    }

    // Supports of the partial products prod_{m <= l} w_m (sorted, unique).
    support_begin_.assign(L + 1, 0);
    std::vector<char> mark(static_cast<std::size_t>(full[0] * full[1]), 0);
    std::vector<int> current(tap_offsets_.begin(), tap_offsets_.begin() + tap_begin_[1]);
    std::sort(current.begin(), current.end());
    supports_ = current;
    support_begin_[1] = static_cast<int>(supports_.size());
    for (std::size_t l = 1; l < L; ++l) {
      if (stop && stop()) throw PlanInterrupted();
      std::vector<int> next;
      for (int n : current)
        for (int t = tap_begin_[l]; t < tap_begin_[l + 1]; ++t) {
          const int m = n + tap_offsets_[static_cast<std::size_t>(t)];
          if (!mark[static_cast<std::size_t>(m)]) {
            mark[static_cast<std::size_t>(m)] = 1;
            next.push_back(m);
          }
        }
      for (int m : next) mark[static_cast<std::size_t>(m)] = 0;
      std::sort(next.begin(), next.end());
      supports_.insert(supports_.end(), next.begin(), next.end());
      support_begin_[l + 1] = static_cast<int>(supports_.size());
      current = std::move(next);
    }

    // Gather lists: entry m of stage l is sum over (n, t) with n + off_t = m of
    // stage_{l-1}[n] * w_l[t]. Listing the pairs per output (in increasing n) lets the
    // kernel keep each sum in registers instead of scattering into memory.
    // Their size is known now: one pair of ints per (support entry, tap), held twice while
    // the lists are sorted by output. Refuse before allocating what the machine cannot hold.
    {
      double pairs = 0.0;
      for (std::size_t l = 1; l < L; ++l)
        pairs += static_cast<double>(support_begin_[l] - support_begin_[l - 1]) *
                 static_cast<double>(tap_begin_[l + 1] - tap_begin_[l]);
      check_memory(pairs * 4.0 * static_cast<double>(sizeof(int)) +
                       static_cast<double>(supports_.size()) * static_cast<double>(sizeof(int)),
                   "k: the product plan of this architecture");
    }
    gather_begin_.assign(supports_.size() + 1, 0);
    {
      std::vector<std::vector<std::array<int, 2>>> terms(static_cast<std::size_t>(full[0] * full[1]));
      for (std::size_t l = 1; l < L; ++l) {
        if (stop && stop()) throw PlanInterrupted();
        for (int i = support_begin_[l - 1]; i < support_begin_[l]; ++i) {
          const int n = supports_[static_cast<std::size_t>(i)];
          for (int t = tap_begin_[l]; t < tap_begin_[l + 1]; ++t)
            terms[static_cast<std::size_t>(n + tap_offsets_[static_cast<std::size_t>(t)])].push_back({n, t});
        }
        for (int i = support_begin_[l]; i < support_begin_[l + 1]; ++i) {
          auto& list = terms[static_cast<std::size_t>(supports_[static_cast<std::size_t>(i)])];
          for (const auto& term : list) {
            gather_terms_.push_back(term[0] * kTileLanes);
            gather_terms_.push_back(term[1] * kTileLanes);
          }
          list.clear();
          gather_begin_[static_cast<std::size_t>(i) + 1] = static_cast<int>(gather_terms_.size() / 2);
        }
      }
    }

    // Folding of the final support onto the output (identity for valid layers).
    const std::int64_t n_out = out_shape_[0] * out_shape_[1];
    std::vector<std::vector<int>> pre(static_cast<std::size_t>(n_out));
    for (int n : current) {
      std::int64_t a = n / width, b = n % width;
      if (circular) {
        a %= modulus[0];
        b %= modulus[1];
      }
      pre[static_cast<std::size_t>(a * out_shape_[1] + b)].push_back(n);
    }
    fold_begin_.assign(static_cast<std::size_t>(n_out) + 1, 0);
    out_entry_.assign(static_cast<std::size_t>(n_out), -1);
    for (std::size_t r = 0; r < pre.size(); ++r) {
      fold_index_.insert(fold_index_.end(), pre[r].begin(), pre[r].end());
      fold_begin_[r + 1] = static_cast<int>(fold_index_.size());
      if (!pre[r].empty()) out_entry_[r] = pre[r].front();
    }

    view_.n_layers = static_cast<int>(L);
    view_.tap_begin = tap_begin_.data();
    view_.tap_offsets = tap_offsets_.data();
    view_.support_begin = support_begin_.data();
    view_.supports = supports_.data();
    view_.full_len = static_cast<int>(full[0] * full[1]);
    view_.n_out = static_cast<int>(n_out);
    view_.fold_begin = fold_begin_.data();
    view_.fold_index = fold_index_.data();
    view_.gather_begin = gather_begin_.data();
    view_.gather_terms = gather_terms_.data();
    view_.out_entry = out_entry_.data();
    view_.folded = circular;
    {
      bool dense = !circular && full[1] == 1;
      for (std::size_t l = 0; l < L; ++l)
        if (filter_shapes[l][0] > 1 && dilations[l][0] != 1) dense = false;
      view_.dense = dense;
    }
    view_.layout = layout_of(view_);
  }

  // Copying would leave view_ pointing into the source; plans are shared by pointer.
  ProductPlan(const ProductPlan&) = delete;
  ProductPlan& operator=(const ProductPlan&) = delete;

  std::size_t n_layers() const { return filter_shapes_.size(); }
  std::int64_t n_params() const { return tap_begin_.back(); }
  std::int64_t n_out() const { return view_.n_out; }
  Shape2 full_shape() const { return full_shape_; }
  Shape2 out_shape() const { return out_shape_; }
  Shape2 modulus() const { return modulus_; }
  bool circular() const { return modulus_[0] != 0; }
  const std::vector<Shape2>& filter_shapes() const { return filter_shapes_; }
  const std::vector<Shape2>& strides() const { return strides_; }
  const PlanView& view() const { return view_; }

  // Doubles of scratch one product or vjp call needs for a tile of `lanes` rows, and one
  // training call (the product's fields, then the training state): scratch_layout.hpp.
  std::size_t scratch_size(int lanes) const {
    return static_cast<std::size_t>(lanes) * static_cast<std::size_t>(view_.layout.product_size);
  }
  std::size_t train_scratch_size(int lanes) const {
    return static_cast<std::size_t>(lanes) * static_cast<std::size_t>(view_.layout.train_size);
  }

 private:
  // The fields of a tile's scratch, one after the other (scratch_layout.hpp).
  static ScratchLayout layout_of(const PlanView& p) {
    const std::ptrdiff_t P = p.tap_begin[p.n_layers], L = p.n_layers, full = p.full_len, n = p.n_out;
    ScratchLayout s{};
    std::ptrdiff_t at = 0;
    const auto take = [&at](std::ptrdiff_t size) {
      const std::ptrdiff_t here = at;
      at += size;
      return here;
    };
    s.params = take(P);
    s.stages = take(L * full);
    s.adj_a = take(full);
    s.adj_b = take(full);
    s.out = take(n);
    s.grad = take(P);
    s.rows = take(n);
    s.product_size = at;
    s.y = take(P);
    s.k = take(kFlowStages * P);
    s.v = take(n);
    s.cur_v = take(n);
    s.lane = take(kLaneFields);
    s.norms = take(L);
    s.gnorms = take(L);
    s.delta0 = take(L - 1);
    s.pred = take(L - 1);
    s.drift = take(L - 1);
    s.train_size = at;
    return s;
  }

  std::vector<Shape2> filter_shapes_, strides_;
  Shape2 modulus_{0, 0}, full_shape_{1, 1}, out_shape_{1, 1};
  std::vector<int> tap_begin_, tap_offsets_, support_begin_, supports_, fold_begin_, fold_index_;
  std::vector<int> gather_begin_, gather_terms_, out_entry_;
  PlanView view_{};
};

}  // namespace lcnfast
