#include <memory>
#include <optional>
#include <vector>

#include "common.hpp"
#include "lcnfast/product.hpp"

namespace lcnfast::bindings {
namespace {

py::array_t<double> new_array(std::vector<py::ssize_t> shape) { return py::array_t<double>(shape); }

double* output_buffer(std::optional<py::array_t<double, py::array::c_style>>& out, std::ptrdiff_t rows,
                      std::ptrdiff_t cols, py::array_t<double>& result) {
  if (!out) {
    result = new_array({rows, cols});
    return result.mutable_data();
  }
  if (out->ndim() != 2 || out->shape(0) != rows || out->shape(1) != cols)
    throw std::invalid_argument("out: expected shape (" + std::to_string(rows) + ", " + std::to_string(cols) + ")");
  if (!out->writeable()) throw std::invalid_argument("out: array is read-only");
  result = *out;
  return out->mutable_data();
}

}  // namespace
}  // namespace lcnfast::bindings

void bind_poly(py::module_& m) {
  using lcnfast::ProductPlan;
  using lcnfast::Shape2;
  using namespace lcnfast::bindings;

  py::class_<ProductPlan, std::shared_ptr<ProductPlan>>(m, "ProductPlan",
                                                         "Precomputed parameterisation map of one architecture.")
      .def(py::init([](const std::vector<Shape2>& filter_shapes, const std::vector<Shape2>& strides, Shape2 modulus) {
             // a large plan takes seconds: built without the GIL, stopped by Ctrl-C
             try {
               return without_gil([&] {
                 return std::make_shared<ProductPlan>(filter_shapes, strides, modulus, python_signals());
               });
             } catch (const lcnfast::PlanInterrupted&) {
               throw py::error_already_set();
             }
           }),
           py::arg("filter_shapes"), py::arg("strides"), py::arg("modulus"))
      .def_property_readonly("n_layers", &ProductPlan::n_layers)
      .def_property_readonly("n_params", &ProductPlan::n_params)
      .def_property_readonly("n_out", &ProductPlan::n_out)
      .def_property_readonly("full_shape", &ProductPlan::full_shape)
      .def_property_readonly("out_shape", &ProductPlan::out_shape)
      .def_property_readonly("circular", &ProductPlan::circular)
      .def(
          "end_to_end",
          [](const ProductPlan& plan, const DoubleArray& theta, int threads,
             std::optional<py::array_t<double, py::array::c_style>> out) {
            const std::ptrdiff_t B = rows_of(theta, "theta", plan.n_params());
            threads = checked_threads(threads);
            py::array_t<double> result;
            double* v = output_buffer(out, B, plan.n_out(), result);
            const int status = without_gil([&] {
              return lcnfast::end_to_end(plan, theta.data(), B, v, threads, python_signals());
            });
            raise_for_status(status);
            return result;
          },
          py::arg("theta"), py::arg("threads"), py::arg("out") = py::none(),
          "v[b] = mu(theta[b]) for theta of shape (B, n_params); returns (B, n_out).")
      .def(
          "vjp",
          [](const ProductPlan& plan, const DoubleArray& theta, const DoubleArray& g, int threads) {
            const std::ptrdiff_t B = rows_of(theta, "theta", plan.n_params());
            if (rows_of(g, "g", plan.n_out()) != B)
              throw std::invalid_argument("g: expected " + std::to_string(B) + " rows like theta, got " +
                                          std::to_string(g.shape(0)));
            threads = checked_threads(threads);
            auto grad = new_array({B, static_cast<py::ssize_t>(plan.n_params())});
            double* out = grad.mutable_data();
            const int status = without_gil([&] {
              return lcnfast::vjp(plan, theta.data(), g.data(), B, out, threads, python_signals());
            });
            raise_for_status(status);
            return grad;
          },
          py::arg("theta"), py::arg("g"), py::arg("threads"),
          "Gradient of <g[b], mu(theta[b])> with respect to theta[b]; returns (B, n_params).")
      .def(
          "jacobian",
          [](const ProductPlan& plan, const DoubleArray& theta, int threads) {
            const std::ptrdiff_t B = rows_of(theta, "theta", plan.n_params());
            threads = checked_threads(threads);
            auto jac = new_array({B, static_cast<py::ssize_t>(plan.n_out()), static_cast<py::ssize_t>(plan.n_params())});
            double* out = jac.mutable_data();
            const int status = without_gil([&] {
              return lcnfast::jacobian(plan, theta.data(), B, out, threads, python_signals());
            });
            raise_for_status(status);
            return jac;
          },
          py::arg("theta"), py::arg("threads"), "Jacobians d mu / d theta; returns (B, n_out, n_params).");
}
