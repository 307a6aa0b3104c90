// Exact reduction of the squared loss on data to a quadratic form in the end-to-end filter
// (docs/conventions.rst):
//
//   (1/N) sum_n ||T_v x_n - y_n||^2 = v^T G v - 2 b^T v + c,
//   G = (1/N) sum_n P_n^T P_n,  b = (1/N) sum_n P_n^T y_n,  c = (1/N) sum_n ||y_n||^2,
//
// where the patch matrix P_n has P_n[i, m] = x_n[S i + m] (indices modulo d_0 for circular
// layers; in 2D i and m are row-major pairs), so that T_v x_n = P_n v. Patches of many
// samples are stacked and G accumulated with Eigen's matrix products: O(N d_L k^2).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "lcnfast/parallel.hpp"
#include "lcnfast/plan.hpp"

namespace lcnfast {

// Where each filter entry meets the input, for every output position of the end-to-end
// convolution: index[o * n_filter + m] is the flat input index multiplied by v[m] to form
// output o.
class PatchMap {
 public:
  // in_shape (d_0, d_0'), out_shape (d_L, d_L'), filter_shape (K, K') (after any circular
  // reduction), stride (S, S'); 1D is d_0' = d_L' = K' = S' = 1.
  PatchMap(Shape2 in_shape, Shape2 out_shape, Shape2 filter_shape, Shape2 stride, bool circular)
      : in_shape_(in_shape), out_shape_(out_shape), filter_shape_(filter_shape) {
    for (int a = 0; a < 2; ++a) {
      const auto i = static_cast<std::size_t>(a);
      if (in_shape[i] < 1 || out_shape[i] < 1 || filter_shape[i] < 1 || stride[i] < 1)
        throw std::invalid_argument("d0: shapes and strides of the data map must be >= 1");
      const std::int64_t reach = stride[i] * (out_shape[i] - 1) + filter_shape[i];
      if (!circular && reach > in_shape[i])
        throw std::invalid_argument("d0: the end-to-end filter does not fit the input width");
    }
    const std::int64_t n_pos = out_shape[0] * out_shape[1], n_filter = filter_shape[0] * filter_shape[1];
    if (n_pos * n_filter > (std::int64_t{1} << 31))
      throw std::invalid_argument("d0: data map too large (" + std::to_string(n_pos * n_filter) + " entries)");
    index_.resize(static_cast<std::size_t>(n_pos * n_filter));
    std::size_t at = 0;
    for (std::int64_t i = 0; i < out_shape[0]; ++i)
      for (std::int64_t ip = 0; ip < out_shape[1]; ++ip)
        for (std::int64_t m = 0; m < filter_shape[0]; ++m)
          for (std::int64_t mp = 0; mp < filter_shape[1]; ++mp) {
            std::int64_t r = stride[0] * i + m, c = stride[1] * ip + mp;
            if (circular) {
              r %= in_shape[0];
              c %= in_shape[1];
            }
            index_[at++] = static_cast<std::int32_t>(r * in_shape[1] + c);
          }
  }

  std::int64_t n_in() const { return in_shape_[0] * in_shape_[1]; }
  std::int64_t n_positions() const { return out_shape_[0] * out_shape_[1]; }
  std::int64_t n_filter() const { return filter_shape_[0] * filter_shape_[1]; }

  // G (n_filter x n_filter, row-major), b (n_filter), c from X (N x n_in) and Y
  // (N x n_positions), row-major. Per-chunk partial sums are added in chunk order, so the
  // result does not depend on the thread count. Returns false if stop_check interrupted.
  bool gram(const double* X, const double* Y, std::ptrdiff_t N, double* G, double* b, double* c, int threads,
            const StopCheck& stop_check = {}) const {
    using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const std::ptrdiff_t nf = n_filter(), np = n_positions(), ni = n_in();
    // samples per chunk: a patch block of about 2 MB
    const std::ptrdiff_t chunk = std::max<std::ptrdiff_t>(1, (std::ptrdiff_t{1} << 18) / std::max<std::ptrdiff_t>(1, np * nf));
    const std::ptrdiff_t n_chunks = (N + chunk - 1) / chunk;
    std::vector<RowMatrix> G_parts(static_cast<std::size_t>(n_chunks));
    std::vector<Eigen::VectorXd> b_parts(static_cast<std::size_t>(n_chunks));
    std::vector<double> c_parts(static_cast<std::size_t>(n_chunks), 0.0);
    const bool done = parallel_chunks(
        n_chunks, 1, threads,
        [&](std::ptrdiff_t first, std::ptrdiff_t last, int) {
          for (std::ptrdiff_t k = first; k < last; ++k) {
            const std::ptrdiff_t s0 = k * chunk, s1 = std::min(N, s0 + chunk);
            RowMatrix patches((s1 - s0) * np, nf);
            Eigen::VectorXd targets((s1 - s0) * np);
            for (std::ptrdiff_t s = s0; s < s1; ++s) {
              const double* x = X + s * ni;
              for (std::ptrdiff_t o = 0; o < np; ++o) {
                const std::int32_t* idx = index_.data() + o * nf;
                double* row = patches.data() + ((s - s0) * np + o) * nf;
                for (std::ptrdiff_t m = 0; m < nf; ++m) row[m] = x[idx[m]];
                targets[(s - s0) * np + o] = Y[s * np + o];
              }
            }
            const auto kk = static_cast<std::size_t>(k);
            G_parts[kk].noalias() = patches.transpose() * patches;
            b_parts[kk].noalias() = patches.transpose() * targets;
            c_parts[kk] = targets.squaredNorm();
          }
        },
        stop_check);
    if (!done) return false;
    Eigen::Map<RowMatrix> G_out(G, nf, nf);
    Eigen::Map<Eigen::VectorXd> b_out(b, nf);
    G_out.setZero();
    b_out.setZero();
    double c_sum = 0.0;
    for (std::ptrdiff_t k = 0; k < n_chunks; ++k) {
      G_out += G_parts[static_cast<std::size_t>(k)];
      b_out += b_parts[static_cast<std::size_t>(k)];
      c_sum += c_parts[static_cast<std::size_t>(k)];
    }
    const double inv_n = 1.0 / static_cast<double>(N);
    G_out *= inv_n;
    // G is symmetric in exact arithmetic; make it so in floating point too.
    G_out = (0.5 * (G_out + G_out.transpose())).eval();
    b_out *= inv_n;
    *c = c_sum * inv_n;
    return true;
  }

  // Y[n, o] = sum_m v[m] X[n, index[o, m]]: the end-to-end convolution applied to data.
  bool apply(const double* X, std::ptrdiff_t N, const double* v, double* Y, int threads,
             const StopCheck& stop_check = {}) const {
    const std::ptrdiff_t nf = n_filter(), np = n_positions(), ni = n_in();
    return parallel_chunks(
        N, std::max<std::ptrdiff_t>(1, 4096 / std::max<std::ptrdiff_t>(1, np)), threads,
        [&](std::ptrdiff_t first, std::ptrdiff_t last, int) {
          for (std::ptrdiff_t s = first; s < last; ++s) {
            const double* x = X + s * ni;
            for (std::ptrdiff_t o = 0; o < np; ++o) {
              const std::int32_t* idx = index_.data() + o * nf;
              double acc = 0.0;
              for (std::ptrdiff_t m = 0; m < nf; ++m) acc += v[m] * x[idx[m]];
              Y[s * np + o] = acc;
            }
          }
        },
        stop_check);
  }

 private:
  Shape2 in_shape_, out_shape_, filter_shape_;
  std::vector<std::int32_t> index_;
};

}  // namespace lcnfast
