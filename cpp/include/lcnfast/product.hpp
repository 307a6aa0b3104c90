// Batched parameterisation map mu, its adjoint (vjp) and its Jacobian, on top of the
// instruction-set kernels. Arrays are row-major and contiguous:
//   theta (batch, n_params), v and g (batch, n_out), grad (batch, n_params),
//   jac (batch, n_out, n_params).
// Each function returns a KernelStatus mask (kernels_view.hpp): kOk, or bits saying that
// an input held NaN/inf or that stop_check interrupted the call; the output is then
// unspecified.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lcnfast/dispatch.hpp"
#include "lcnfast/parallel.hpp"
#include "lcnfast/plan.hpp"

namespace lcnfast {

// Outputs above this many bytes are written with non-temporal stores.
inline constexpr std::size_t kStreamingBytes = std::size_t{64} << 20;

// Per-thread scratch above this is refused rather than attempted.
inline constexpr std::size_t kMaxScratchBytes = std::size_t{1} << 30;

namespace detail {

// One scratch block per thread, each starting on its own cache line with a guard line
// between blocks: adjacent heap blocks written by two threads would share a cache line
// and bounce it between the cores on every tile (measured: two threads slower than one).
class ThreadScratch {
 public:
  ThreadScratch(std::size_t n, int threads) {
    if (n * sizeof(double) > kMaxScratchBytes)
      throw std::invalid_argument("k: architecture too large for the batched kernels (needs " +
                                  std::to_string(n * sizeof(double) >> 20) + " MiB of scratch per thread)");
    constexpr std::size_t line = 64 / sizeof(double);
    stride_ = (n + line - 1) / line * line + 2 * line;
    buffer_.assign(stride_ * static_cast<std::size_t>(std::max(threads, 1)) + line, 0.0);
    const auto address = reinterpret_cast<std::uintptr_t>(buffer_.data());
    offset_ = ((64 - address % 64) % 64) / sizeof(double);
  }
  double* operator[](int worker) { return buffer_.data() + offset_ + stride_ * static_cast<std::size_t>(worker); }

 private:
  std::vector<double> buffer_;
  std::size_t stride_ = 0, offset_ = 0;
};

// Rows per chunk: a multiple of the SIMD tile, a few hundred kB of traffic per chunk.
inline std::ptrdiff_t rows_per_chunk(const ProductPlan& plan) {
  const std::ptrdiff_t per_row = plan.n_params() + plan.n_out();
  const std::ptrdiff_t rows = std::max<std::ptrdiff_t>(8, (std::ptrdiff_t{1} << 15) / std::max<std::ptrdiff_t>(per_row, 1));
  return (rows + 7) / 8 * 8;
}

}  // namespace detail

// Runs rows_fn(begin, end, scratch) over chunks of rows and merges the kernels' statuses.
template <class RowsFn>
int run_chunks(const ProductPlan& plan, std::ptrdiff_t n, std::ptrdiff_t chunk, int threads, const RowsFn& rows_fn,
               const StopCheck& stop_check) {
  detail::ThreadScratch scratch(plan.scratch_size(kernels().lanes), threads);
  std::atomic<int> status{kOk};
  const bool finished = parallel_chunks(
      n, chunk, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int w) {
        const int s = rows_fn(b, e, scratch[w]);
        if (s != kOk) status.fetch_or(s, std::memory_order_relaxed);
      },
      stop_check);
  return status.load() | (finished ? kOk : kInterrupted);
}

inline int end_to_end(const ProductPlan& plan, const double* theta, std::ptrdiff_t batch, double* v, int threads,
                      const StopCheck& stop_check = {}) {
  const KernelTable& k = kernels();
  const std::ptrdiff_t P = plan.n_params(), n_out = plan.n_out();
  // An output larger than the last-level cache is streamed to memory; a smaller one is
  // left in cache for whoever reads it next.
  const bool stream = static_cast<std::size_t>(batch * n_out) * sizeof(double) > kStreamingBytes;
  return run_chunks(
      plan, batch, detail::rows_per_chunk(plan), threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, double* scratch) {
        return k.end_to_end_rows(plan.view(), theta + b * P, P, e - b, v + b * n_out, n_out, stream, scratch);
      },
      stop_check);
}

inline int vjp(const ProductPlan& plan, const double* theta, const double* g, std::ptrdiff_t batch, double* grad,
               int threads, const StopCheck& stop_check = {}) {
  const KernelTable& k = kernels();
  const std::ptrdiff_t P = plan.n_params(), n_out = plan.n_out();
  return run_chunks(
      plan, batch, detail::rows_per_chunk(plan), threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, double* scratch) {
        return k.vjp_rows(plan.view(), theta + b * P, P, g + b * n_out, n_out, 0, e - b, grad + b * P, P, scratch);
      },
      stop_check);
}

// Row r of the Jacobian of sample b is the vjp of e_r: the kernel runs the n_out unit
// cotangents of one sample across its SIMD lanes, reading the same theta row (ldt = 0).
inline int jacobian(const ProductPlan& plan, const double* theta, std::ptrdiff_t batch, double* jac, int threads,
                    const StopCheck& stop_check = {}) {
  const KernelTable& k = kernels();
  const std::ptrdiff_t P = plan.n_params(), n_out = plan.n_out();
  const std::ptrdiff_t chunk = std::max<std::ptrdiff_t>(1, detail::rows_per_chunk(plan) / n_out);
  return run_chunks(
      plan, batch, chunk, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, double* scratch) {
        int status = kOk;
        for (std::ptrdiff_t i = b; i < e; ++i)
          status |= k.vjp_rows(plan.view(), theta + i * P, 0, nullptr, 0, 0, n_out, jac + i * n_out * P, P, scratch);
        return status;
      },
      stop_check);
}

}  // namespace lcnfast
