// A small fork-join loop over fixed chunks, with cooperative cancellation.
//
// Chunk boundaries depend only on the problem size, never on the number of threads, and
// every chunk writes its own rows, so results are identical for any thread count. The
// calling thread polls `stop_check` (e.g. "did the user press Ctrl-C?") between chunks,
// at most every few milliseconds, and all threads stop after their current chunk.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace lcnfast {

// Returns true when the running computation should stop. Called only on the calling thread.
using StopCheck = std::function<bool()>;

// Worker threads that are always joined: when the calling thread leaves a loop below by an
// exception or by a forced unwind -- a daemon Python thread calling back into Python while
// the interpreter shuts down is ended by pthread_exit, which unwinds its stack -- the
// workers are told to stop and joined before they are destroyed (destroying a joinable
// std::thread calls std::terminate and aborts the process).
class JoinedThreads {
 public:
  template <class Stop>
  explicit JoinedThreads(Stop stop) : stop_(std::move(stop)) {}
  JoinedThreads(const JoinedThreads&) = delete;
  JoinedThreads& operator=(const JoinedThreads&) = delete;
  ~JoinedThreads() {
    if (std::any_of(threads_.begin(), threads_.end(), [](const std::thread& t) { return t.joinable(); })) stop_();
    join();
  }
  template <class F, class... Args>
  void start(F&& f, Args&&... args) {
    threads_.emplace_back(std::forward<F>(f), std::forward<Args>(args)...);
  }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  bool empty() const { return threads_.empty(); }

 private:
  std::function<void()> stop_;
  std::vector<std::thread> threads_;
};

inline int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Runs body(begin, end, worker) over [0, n) in chunks of `chunk` items on up to `threads`
// threads (worker in [0, threads)). Returns false when stop_check asked to stop, in which
// case some chunks did not run. Rethrows the first exception a body threw.
template <class Body>
bool parallel_chunks(std::ptrdiff_t n, std::ptrdiff_t chunk, int threads, const Body& body,
                     const StopCheck& stop_check) {
  if (n <= 0) return true;
  chunk = std::max<std::ptrdiff_t>(chunk, 1);
  const std::ptrdiff_t n_chunks = (n + chunk - 1) / chunk;
  const int workers = static_cast<int>(std::min<std::ptrdiff_t>(std::max(threads, 1), n_chunks));

  std::atomic<std::ptrdiff_t> next{0};
  std::atomic<bool> stop{false};
  bool interrupted = false;
  std::exception_ptr error;
  std::mutex error_mutex;

  auto run = [&](int worker, bool caller) {
    using clock = std::chrono::steady_clock;
    auto last_poll = clock::now();
    while (!stop.load(std::memory_order_relaxed)) {
      const std::ptrdiff_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_chunks) break;
      try {
        body(i * chunk, std::min(n, (i + 1) * chunk), worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        stop.store(true);
      }
      if (caller && stop_check) {
        const auto now = clock::now();
        if (now - last_poll > std::chrono::milliseconds(20)) {
          last_poll = now;
          if (stop_check()) {
            interrupted = true;
            stop.store(true);
          }
        }
      }
    }
  };

  JoinedThreads pool([&stop] { stop.store(true); });
  for (int w = 1; w < workers; ++w) {
    try {
      pool.start(run, w, false);
    } catch (const std::system_error&) {
      break;  // could not start another thread: the others take its chunks
    }
  }
  run(0, true);
  pool.join();
  if (error) std::rethrow_exception(error);
  if (!interrupted && stop_check && stop_check()) interrupted = true;
  return !interrupted;
}

// For long jobs (training): runs body(begin, end, worker, stop) on `threads` worker threads
// while the calling thread only supervises: every 20 ms it calls monitor() (which may
// report progress and check for Ctrl-C) and, when that returns true, sets *stop, which the
// bodies poll and honour within a few steps. Returns false when stopped that way.
template <class Body>
bool parallel_supervised(std::ptrdiff_t n, std::ptrdiff_t chunk, int threads, const Body& body,
                         const StopCheck& monitor, int* stop) {
  if (n <= 0) return true;
  chunk = std::max<std::ptrdiff_t>(chunk, 1);
  const std::ptrdiff_t n_chunks = (n + chunk - 1) / chunk;
  const int workers = static_cast<int>(std::min<std::ptrdiff_t>(std::max(threads, 1), n_chunks));

  std::atomic<std::ptrdiff_t> next{0};
  std::atomic<int> running{workers};
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable finished;

  auto run = [&](int worker) {
    while (__atomic_load_n(stop, __ATOMIC_RELAXED) == 0) {
      const std::ptrdiff_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_chunks) break;
      try {
        body(i * chunk, std::min(n, (i + 1) * chunk), worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        __atomic_store_n(stop, 1, __ATOMIC_RELAXED);
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (--running == 0) finished.notify_all();
  };

  JoinedThreads pool([stop] { __atomic_store_n(stop, 1, __ATOMIC_RELAXED); });
  for (int w = 0; w < workers; ++w) {
    try {
      pool.start(run, w);
    } catch (const std::system_error&) {
      std::lock_guard<std::mutex> lock(mutex);
      running -= workers - w;  // the threads that did start take all the chunks
      break;
    }
  }
  bool interrupted = false;
  if (pool.empty()) {
    running = 1;
    run(0);  // could not start any thread: work here, polling only at the end
  } else {
    std::unique_lock<std::mutex> lock(mutex);
    while (running > 0) {
      if (finished.wait_for(lock, std::chrono::milliseconds(20), [&] { return running == 0; })) break;
      lock.unlock();
      const bool stop_now = monitor && monitor();
      lock.lock();
      if (stop_now) {
        interrupted = true;
        __atomic_store_n(stop, 1, __ATOMIC_RELAXED);
      }
    }
  }
  pool.join();
  if (error) std::rethrow_exception(error);
  if (!interrupted && monitor && monitor()) interrupted = true;
  return !interrupted;
}

}  // namespace lcnfast
