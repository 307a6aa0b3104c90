// Shared by every binding file: pybind11 with numpy and Eigen casters, and the helpers
// that turn numpy buffers into checked raw pointers. Bindings convert and validate; the
// maths lives in cpp/include/lcnfast.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "lcnfast/kernels_view.hpp"
#include "lcnfast/parallel.hpp"

namespace py = pybind11;

namespace lcnfast::bindings {

// C-contiguous float64; other real dtypes and layouts are converted by pybind11.
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Checks that `a` is 2-D with `cols` columns (cols < 0: any) and returns its row count.
inline std::ptrdiff_t rows_of(const DoubleArray& a, const char* name, std::ptrdiff_t cols) {
  if (a.ndim() != 2)
    throw std::invalid_argument(std::string(name) + ": expected a 2-D array, got " + std::to_string(a.ndim()) + "-D");
  if (cols >= 0 && a.shape(1) != cols)
    throw std::invalid_argument(std::string(name) + ": expected " + std::to_string(cols) + " columns, got " +
                                std::to_string(a.shape(1)));
  return a.shape(0);
}

// At least 1; more threads than the hardware has are clamped (each thread has its own
// scratch memory, and results do not depend on the number).
inline int checked_threads(int threads) {
  if (threads < 1) throw std::invalid_argument("threads: must be >= 1, got " + std::to_string(threads));
  return std::min(threads, lcnfast::hardware_threads());
}

// Runs f() with the GIL released and takes the GIL back afterwards -- in ordinary code, not
// in a destructor like py::gil_scoped_release does. When the interpreter shuts down while a
// daemon thread is in here, taking the GIL ends that thread by pthread_exit, which unwinds
// its stack with a "forced unwind"; through a destructor (implicitly noexcept) that calls
// std::terminate and aborts the whole process. Here the unwind passes through: the worker
// threads are stopped and joined on the way (JoinedThreads), and the dying thread never
// holds the GIL.
template <class F>
auto without_gil(F&& f) -> decltype(f()) {
  PyThreadState* state = PyEval_SaveThread();
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      PyEval_RestoreThread(state);
    } else {
      auto result = f();
      PyEval_RestoreThread(state);
      return result;
    }
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    throw;  // the thread is being ended; it did not get the GIL back
#endif
  } catch (...) {
    PyEval_RestoreThread(state);
    throw;
  }
}

// Polled by the kernels' calling thread while the GIL is released: true after Ctrl-C (the
// KeyboardInterrupt is then pending and error_already_set raises it).
inline StopCheck python_signals() {
  return [] {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
  };
}

// The one place a KernelStatus mask becomes the Python exception the user should see:
// Ctrl-C (the pending KeyboardInterrupt), or a ValueError naming the argument that held
// NaN/inf (``theta_name``: "theta", or "theta0" for training).
inline void raise_for_status(int status, const char* theta_name = "theta") {
  if (status & lcnfast::kInterrupted) throw py::error_already_set();
  if (status & lcnfast::kThetaNotFinite) throw std::invalid_argument(std::string(theta_name) + ": contains NaN or infinity");
  if (status & lcnfast::kCotangentNotFinite) throw std::invalid_argument("g: contains NaN or infinity");
}

}  // namespace lcnfast::bindings

void bind_poly(py::module_& m);
void bind_train(py::module_& m);
void bind_geometry(py::module_& m);
void bind_homotopy(py::module_& m);
