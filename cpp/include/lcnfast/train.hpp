// Batched training driver: many runs of gradient descent or gradient flow on one quadratic
// loss, split over threads in fixed chunks of runs (every run is independent, so results
// do not depend on the thread count), with progress and cancellation.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "lcnfast/dispatch.hpp"
#include "lcnfast/parallel.hpp"
#include "lcnfast/plan.hpp"
#include "lcnfast/product.hpp"

namespace lcnfast {

// Called by the supervising thread about every 20 ms with the number of runs finished;
// returning true stops the training (the outputs are then partial).
using TrainMonitor = std::function<bool(long done)>;

// Trains `batch` runs described by tv (whose pointers the caller has set, except stop and
// done). Returns a KernelStatus mask.
inline int train(const ProductPlan& plan, TrainView tv, std::ptrdiff_t batch, int threads,
                 const TrainMonitor& monitor = {}) {
  const KernelTable& k = kernels();
  int stop = 0;
  long done = 0;
  tv.stop = &stop;
  tv.done = &done;
  detail::ThreadScratch scratch(plan.train_scratch_size(k.lanes), threads);
  std::atomic<int> status{kOk};
  const StopCheck check = [&] { return monitor ? monitor(__atomic_load_n(&done, __ATOMIC_RELAXED)) : false; };
  const bool finished = parallel_supervised(
      batch, k.lanes, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int w) {
        const int s = k.train_rows(plan.view(), tv, b, e - b, scratch[w]);
        if (s != kOk) status.fetch_or(s, std::memory_order_relaxed);
      },
      check, &stop);
  int result = status.load();
  if (!finished) result |= kInterrupted;
  return result;
}

}  // namespace lcnfast
