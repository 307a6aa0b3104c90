#include <complex>
#include <cstdint>
#include <vector>

#include "common.hpp"
#include "lcnfast/homotopy.hpp"
#include "lcnfast/stratum_homotopy.hpp"

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
        threads = checked_threads(threads);
        if (static_cast<int>(degree.size()) != n) throw std::invalid_argument("degree: needs one per equation");
        bool interrupted = false;
        const std::vector<lcnfast::PathResult> results = without_gil([&] {
          return lcnfast::solve_total_degree(F, gamma, threads, python_signals(), interrupted, first, count);
        });
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

namespace {

using ComplexArray = py::array_t<std::complex<double>, py::array::c_style | py::array::forcecast>;

lcnfast::StratumParams params_from(const ComplexArray& w, const ComplexArray& G, int K, const char* name) {
  if (w.ndim() != 1 || w.shape(0) != K)
    throw std::invalid_argument(std::string(name) + ": w must have K = " + std::to_string(K) + " entries");
  if (G.ndim() != 2 || G.shape(0) != K || G.shape(1) != K)
    throw std::invalid_argument(std::string(name) + ": G must be K x K");
  lcnfast::StratumParams q;
  q.w = Eigen::Map<const lcnfast::CVec>(w.data(), K);
  q.G.resize(K, K);
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < K; ++j) q.G(i, j) = G.data()[i * K + j];
  if (!q.w.allFinite() || !q.G.allFinite()) throw std::invalid_argument(std::string(name) + ": must be finite");
  return q;
}

}  // namespace

void bind_stratum_homotopy(py::module_& m) {
  using namespace lcnfast::bindings;
  m.def(
      "track_stratum_paths",
      [](int N, int K, const std::vector<int>& begin, const std::vector<int>& exps, const std::vector<double>& coeff,
         const ComplexArray& patch, const ComplexArray& w0, const ComplexArray& G0, const ComplexArray& w1,
         const ComplexArray& G1, const ComplexArray& starts, bool endgame, double endgame_start, int max_steps,
         int threads, double predictor_tolerance) {
        lcnfast::StratumFamily family;
        family.N = N;
        family.K = K;
        family.begin = begin;
        family.exps = exps;
        family.coeff = coeff;
        if (patch.ndim() != 1) throw std::invalid_argument("patch: expected a 1-D array");
        family.patch.assign(patch.data(), patch.data() + patch.size());
        family.check();
        threads = checked_threads(threads);
        if (!(endgame_start > 0.0 && endgame_start < 1.0))
          throw std::invalid_argument("endgame_start: must be in (0, 1)");
        if (max_steps < 1) throw std::invalid_argument("max_steps: must be >= 1");
        if (!(predictor_tolerance > 0.0 && predictor_tolerance < 1.0))
          throw std::invalid_argument("predictor_tolerance: must be in (0, 1)");
        const auto q0 = params_from(w0, G0, K, "q0");
        const auto q1 = params_from(w1, G1, K, "q1");
        if (starts.ndim() != 2 || starts.shape(1) != N)
          throw std::invalid_argument("starts: expected shape (paths, N)");
        std::vector<lcnfast::HVec> z0(static_cast<std::size_t>(starts.shape(0)));
        for (py::ssize_t i = 0; i < starts.shape(0); ++i) {
          z0[static_cast<std::size_t>(i)].resize(N);
          for (int j = 0; j < N; ++j) z0[static_cast<std::size_t>(i)][j] = starts.data()[i * N + j];
          if (!z0[static_cast<std::size_t>(i)].allFinite()) throw std::invalid_argument("starts: must be finite");
        }
        lcnfast::TrackerOptions opt;
        opt.endgame = endgame;
        opt.endgame_start = endgame_start;
        opt.max_steps = max_steps;
        opt.predictor_tolerance = predictor_tolerance;
        bool interrupted = false;
        const std::vector<lcnfast::TrackedPath> results = without_gil([&] {
          return lcnfast::track_stratum_paths(family, q0, q1, z0, opt, threads, python_signals(), interrupted);
        });
        if (interrupted) throw py::error_already_set();
        const auto P = static_cast<py::ssize_t>(results.size());
        py::array_t<std::complex<double>> z({P, static_cast<py::ssize_t>(N)});
        py::array_t<int> kind(P), winding(P), steps(P), failure(P);
        py::array_t<double> condition(P), accuracy(P);
        auto zz = z.mutable_unchecked<2>();
        for (py::ssize_t p = 0; p < P; ++p) {
          const auto& r = results[static_cast<std::size_t>(p)];
          for (int i = 0; i < N; ++i) zz(p, i) = r.z.size() == N ? r.z[i] : std::complex<double>(NAN, NAN);
          kind.mutable_at(p) = r.kind;
          failure.mutable_at(p) = r.failure;
          winding.mutable_at(p) = r.winding;
          steps.mutable_at(p) = r.steps;
          condition.mutable_at(p) = r.condition;
          accuracy.mutable_at(p) = r.accuracy;
        }
        return py::make_tuple(z, kind, winding, steps, condition, accuracy, failure);
      },
      py::arg("N"), py::arg("K"), py::arg("begin"), py::arg("exps"), py::arg("coeff"), py::arg("patch"),
      py::arg("w0"), py::arg("G0"), py::arg("w1"), py::arg("G1"), py::arg("starts"), py::arg("endgame"),
      py::arg("endgame_start"), py::arg("max_steps"), py::arg("threads"), py::arg("predictor_tolerance") = 1e-6,
      "Parameter homotopy of a stratum's critical equations from (w0, G0) to (w1, G1) along the start solutions "
      "(rows of starts, homogeneous coordinates): (z, kind, winding, steps, condition, accuracy, failure) per path "
      "(kind 0 regular, 1 at infinity, 2 singular, 3 failed), failure (0 none, 1 step size collapsed, 2 step "
      "budget, 3 endgame loops did not close, 4 endgame did not converge).");
}
