#include <complex>
#include <cstdint>
#include <vector>

#include "common.hpp"
#include "lcnfast/homotopy.hpp"

void bind_homotopy(py::module_& m) {
  using namespace lcnfast::bindings;
  m.def(
      "solve_total_degree",
      [](int n, const std::vector<int>& term_begin, const std::vector<int>& exps,
         const py::array_t<std::complex<double>, py::array::c_style | py::array::forcecast>& coeff,
         const std::vector<int>& degree, std::complex<double> gamma, int threads, std::int64_t first,
         std::int64_t count) {
        lcnfast::PolySystem F;
        F.n = n;
        F.term_begin = term_begin;
        F.exps = exps;
        F.coeff.assign(coeff.data(), coeff.data() + coeff.size());
        F.degree = degree;
        checked_threads(threads);
        if (static_cast<int>(degree.size()) != n) throw std::invalid_argument("degree: needs one per equation");
        bool interrupted = false;
        std::vector<lcnfast::PathResult> results;
        {
          py::gil_scoped_release release;
          results = lcnfast::solve_total_degree(F, gamma, threads, python_signals(), interrupted, first, count);
        }
        if (interrupted) throw py::error_already_set();
        const auto P = static_cast<py::ssize_t>(results.size());
        py::array_t<std::complex<double>> z({P, static_cast<py::ssize_t>(n)});
        py::array_t<int> status(P);
        py::array_t<double> residual(P), condition(P);
        auto zz = z.mutable_unchecked<2>();
        for (py::ssize_t p = 0; p < P; ++p) {
          const auto& r = results[static_cast<std::size_t>(p)];
          for (int i = 0; i < n; ++i) zz(p, i) = r.z.size() == n ? r.z[i] : std::complex<double>(NAN, NAN);
          status.mutable_at(p) = r.status;
          residual.mutable_at(p) = r.residual;
          condition.mutable_at(p) = r.condition;
        }
        return py::make_tuple(z, status, residual, condition);
      },
      py::arg("n"), py::arg("term_begin"), py::arg("exps"), py::arg("coeff"), py::arg("degree"), py::arg("gamma"),
      py::arg("threads"), py::arg("first") = 0, py::arg("count") = -1,
      "Total-degree homotopy for a sparse square polynomial system along the start solutions [first, first + "
      "count) (count < 0: all from first): (z, status, residual, condition) per path "
      "(status 0 finite regular, 1 at infinity, 2 singular, 3 failed; residual: max_i |F_i(z)| / sum of |terms of "
      "F_i| at z; condition: of the Jacobian of F at z).");
}
