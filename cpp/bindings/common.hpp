// Shared by every binding file: pybind11 with numpy and Eigen casters, and the helpers
// that turn numpy buffers into checked raw pointers. Bindings convert and validate; the
// maths lives in cpp/include/lcnfast.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <stdexcept>
#include <string>

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

inline int checked_threads(int threads) {
  if (threads < 1) throw std::invalid_argument("threads: must be >= 1, got " + std::to_string(threads));
  return threads;
}

// Polled by the kernels' calling thread while the GIL is released: true after Ctrl-C (the
// KeyboardInterrupt is then pending and error_already_set raises it).
inline StopCheck python_signals() {
  return [] {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
  };
}

}  // namespace lcnfast::bindings

void bind_poly(py::module_& m);
void bind_train(py::module_& m);
void bind_geometry(py::module_& m);
void bind_homotopy(py::module_& m);
void bind_stratum_homotopy(py::module_& m);
