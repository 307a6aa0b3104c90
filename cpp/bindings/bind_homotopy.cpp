#include <cmath>
#include <complex>
#include <cstdint>
#include <utility>
#include <vector>

#include "common.hpp"
#include "lcnfast/homotopy.hpp"
#include "lcnfast/krawczyk.hpp"
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

lcnfast::StratumFamily family_from(int N, int K, const std::vector<int>& begin, const std::vector<int>& exps,
                                   const std::vector<double>& coeff, std::vector<std::complex<double>> patch,
                                   const std::vector<std::pair<int, int>>& groups = {}) {
  lcnfast::StratumFamily family;
  for (const auto& [part, count] : groups) {
    family.group_part.push_back(part);
    family.group_count.push_back(count);
  }
  family.N = N;
  family.K = K;
  family.begin = begin;
  family.exps = exps;
  family.coeff = coeff;
  family.patch = std::move(patch);
  family.check();
  return family;
}

}  // namespace

void bind_stratum_homotopy(py::module_& m) {
  using namespace lcnfast::bindings;
  m.def(
      "track_stratum_paths",
      [](int N, int K, const std::vector<int>& begin, const std::vector<int>& exps, const std::vector<double>& coeff,
         const ComplexArray& patch, const ComplexArray& w0, const ComplexArray& G0, const ComplexArray& w1,
         const ComplexArray& G1, const ComplexArray& starts, bool endgame, double endgame_start, int max_steps,
         int threads, double predictor_tolerance, const std::vector<std::pair<int, int>>& groups) {
        if (patch.ndim() != 1) throw std::invalid_argument("patch: expected a 1-D array");
        const lcnfast::StratumFamily family = family_from(
            N, K, begin, exps, coeff, std::vector<std::complex<double>>(patch.data(), patch.data() + patch.size()), groups);
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
      py::arg("endgame_start"), py::arg("max_steps"), py::arg("threads"), py::arg("predictor_tolerance") = 1e-5,
      py::arg("groups") = std::vector<std::pair<int, int>>{},
      "Parameter homotopy of a stratum's critical equations from (w0, G0) to (w1, G1) along the start solutions "
      "(rows of starts, homogeneous coordinates): (z, kind, winding, steps, condition, accuracy, failure) per path "
      "(kind 0 regular, 1 at infinity, 2 singular, 3 failed), failure (0 none, 1 step size collapsed, 2 step "
      "budget, 3 endgame loops did not close, 4 endgame did not converge). predictor_tolerance: the predictor's "
      "local error, relative, for s < endgame_start (1e-6 from there on). groups: optional (part, count) pairs "
      "describing the form as the product of the groups' polynomials (faster evaluation; checked against the "
      "terms).");
  m.def(
      "certify_stratum_points",
      [](int N, int K, const std::vector<int>& begin, const std::vector<int>& exps, const std::vector<double>& coeff,
         const DoubleArray& w_lo, const DoubleArray& w_hi, const DoubleArray& G_lo, const DoubleArray& G_hi,
         const ComplexArray& centres, const std::vector<bool>& real, int threads) {
        const lcnfast::StratumFamily family =  // the patch is not used here
            family_from(N, K, begin, exps, coeff, std::vector<std::complex<double>>(static_cast<std::size_t>(std::max(N, 0)), 1.0));
        threads = checked_threads(threads);
        const auto uK = static_cast<py::ssize_t>(K);
        if (w_lo.ndim() != 1 || w_lo.shape(0) != uK || w_hi.ndim() != 1 || w_hi.shape(0) != uK)
          throw std::invalid_argument("w_lo, w_hi: expected K entries each");
        if (G_lo.ndim() != 2 || G_lo.shape(0) != uK || G_lo.shape(1) != uK || G_hi.ndim() != 2 ||
            G_hi.shape(0) != uK || G_hi.shape(1) != uK)
          throw std::invalid_argument("G_lo, G_hi: expected K x K each");
        lcnfast::CertifyData data;
        for (py::ssize_t i = 0; i < uK; ++i) {
          if (!(w_lo.data()[i] <= w_hi.data()[i])) throw std::invalid_argument("w_lo, w_hi: need w_lo <= w_hi");
          data.w.push_back({w_lo.data()[i], w_hi.data()[i]});
        }
        for (py::ssize_t i = 0; i < uK * uK; ++i) {
          if (!(G_lo.data()[i] <= G_hi.data()[i])) throw std::invalid_argument("G_lo, G_hi: need G_lo <= G_hi");
          data.G.push_back({G_lo.data()[i], G_hi.data()[i]});
        }
        const int n = N - 1;
        if (centres.ndim() != 2 || centres.shape(1) != n)
          throw std::invalid_argument("centres: expected shape (points, N - 1)");
        const auto M = static_cast<std::size_t>(centres.shape(0));
        std::vector<Eigen::VectorXcd> points(M);
        for (std::size_t i = 0; i < M; ++i)
          points[i] = Eigen::Map<const Eigen::VectorXcd>(centres.data() + i * static_cast<std::size_t>(n), n);
        bool interrupted = false;
        const std::vector<lcnfast::CertifiedPoint> results = without_gil([&] {
          return lcnfast::certify_stratum_points(family, data, points, real, threads, python_signals(), interrupted);
        });
        if (interrupted) throw py::error_already_set();
        const auto P = static_cast<py::ssize_t>(M);
        py::array_t<bool> proven(P), a_nonzero(P), b_nonzero(P);
        py::array_t<double> radius(P), box({P, static_cast<py::ssize_t>(n), py::ssize_t{4}});
        py::array_t<std::complex<double>> centre({P, static_cast<py::ssize_t>(n)});
        auto bx = box.mutable_unchecked<3>();
        auto cc = centre.mutable_unchecked<2>();
        for (py::ssize_t p = 0; p < P; ++p) {
          const auto& r = results[static_cast<std::size_t>(p)];
          proven.mutable_at(p) = r.proven;
          a_nonzero.mutable_at(p) = r.a_nonzero;
          b_nonzero.mutable_at(p) = r.b_nonzero;
          radius.mutable_at(p) = r.radius;
          for (int i = 0; i < n; ++i) {
            cc(p, i) = r.centre[i];
            const auto u = static_cast<std::size_t>(i);
            const bool has = r.box.size() == static_cast<std::size_t>(n);
            bx(p, i, 0) = has ? r.box[u].re.lo : NAN;
            bx(p, i, 1) = has ? r.box[u].re.hi : NAN;
            bx(p, i, 2) = has ? r.box[u].im.lo : NAN;
            bx(p, i, 3) = has ? r.box[u].im.hi : NAN;
          }
        }
        return py::make_tuple(proven, radius, centre, box, a_nonzero, b_nonzero);
      },
      py::arg("N"), py::arg("K"), py::arg("begin"), py::arg("exps"), py::arg("coeff"), py::arg("w_lo"),
      py::arg("w_hi"), py::arg("G_lo"), py::arg("G_hi"), py::arg("centres"), py::arg("real"), py::arg("threads"),
      "Krawczyk tests in interval arithmetic of a stratum's critical equations (affine unknowns, h = 1) for real "
      "data enclosed by [w_lo, w_hi] and [G_lo, G_hi], around each row of centres (a real flag: a box symmetric "
      "under conjugation): (proven, radius, centre, box, a_nonzero, b_nonzero) per point; box[p, i] = (re lo, re "
      "hi, im lo, im hi); centre is the point minus one Newton step on the exact data.");
  m.attr("MAX_UNKNOWNS") = lcnfast::kMaxUnknowns;
  m.def(
      "track_trace_paths",
      [](int N, int K, const std::vector<int>& begin, const std::vector<int>& exps, const std::vector<double>& coeff,
         const ComplexArray& patch, const ComplexArray& w0, const ComplexArray& G0, const ComplexArray& w1,
         const ComplexArray& G1, const ComplexArray& c0, const ComplexArray& c1, std::complex<double> alpha,
         std::complex<double> beta, std::complex<double> gamma, const ComplexArray& starts, int threads,
         const std::vector<std::pair<int, int>>& groups) {
        if (patch.ndim() != 1) throw std::invalid_argument("patch: expected a 1-D array");
        const lcnfast::StratumFamily family = family_from(
            N, K, begin, exps, coeff, std::vector<std::complex<double>>(patch.data(), patch.data() + patch.size()), groups);
        threads = checked_threads(threads);
        const auto q0 = params_from(w0, G0, K, "q0");
        const auto q1 = params_from(w1, G1, K, "q1");
        for (const ComplexArray* c : {&c0, &c1})
          if (c->ndim() != 1 || c->shape(0) != N) throw std::invalid_argument("c0, c1: expected N entries each");
        const lcnfast::CVec cc0 = Eigen::Map<const lcnfast::CVec>(c0.data(), N);
        const lcnfast::CVec cc1 = Eigen::Map<const lcnfast::CVec>(c1.data(), N);
        if (!cc0.allFinite() || !cc1.allFinite() || !std::isfinite(std::abs(alpha)) || !std::isfinite(std::abs(beta)) ||
            !std::isfinite(std::abs(gamma)))
          throw std::invalid_argument("c0, c1, alpha, beta, gamma: must be finite");
        if (starts.ndim() != 2 || starts.shape(1) != N + 1)
          throw std::invalid_argument("starts: expected shape (paths, N + 1)");
        std::vector<lcnfast::HVec> y0(static_cast<std::size_t>(starts.shape(0)));
        for (py::ssize_t i = 0; i < starts.shape(0); ++i) {
          auto& y = y0[static_cast<std::size_t>(i)];
          if (N + 1 > lcnfast::kMaxUnknowns) throw std::invalid_argument("N: the trace test needs N <= 15");
          y.resize(N + 1);
          for (int j = 0; j <= N; ++j) y[j] = starts.data()[i * (N + 1) + j];
          if (!y.allFinite()) throw std::invalid_argument("starts: must be finite");
        }
        bool interrupted = false;
        const std::vector<lcnfast::TrackedPath> results = without_gil([&] {
          return lcnfast::track_trace_paths(family, q0, q1, cc0, cc1, alpha, beta, gamma, y0, threads,
                                            python_signals(), interrupted);
        });
        if (interrupted) throw py::error_already_set();
        const auto P = static_cast<py::ssize_t>(results.size());
        py::array_t<std::complex<double>> y({P, static_cast<py::ssize_t>(N + 1)});
        py::array_t<int> kind(P);
        auto yy = y.mutable_unchecked<2>();
        for (py::ssize_t p = 0; p < P; ++p) {
          const auto& r = results[static_cast<std::size_t>(p)];
          for (int i = 0; i <= N; ++i) yy(p, i) = r.z.size() == N + 1 ? r.z[i] : std::complex<double>(NAN, NAN);
          kind.mutable_at(p) = r.kind;
        }
        return py::make_tuple(y, kind);
      },
      py::arg("N"), py::arg("K"), py::arg("begin"), py::arg("exps"), py::arg("coeff"), py::arg("patch"),
      py::arg("w0"), py::arg("G0"), py::arg("w1"), py::arg("G1"), py::arg("c0"), py::arg("c1"), py::arg("alpha"),
      py::arg("beta"), py::arg("gamma"), py::arg("starts"), py::arg("threads"),
      py::arg("groups") = std::vector<std::pair<int, int>>{},
      "Paths on the trace-test curve {(z, lambda) : F(z; q0 + lambda (q1 - q0)) = 0} cut by "
      "(alpha lambda + beta) (c(s) . z) + s gamma = 0, c(s) = c0 + s (c1 - c0), from s = 0 to 1 along the "
      "start points (rows of starts: z, then lambda): (y, kind) per path (kind 0 regular; anything else failed). "
      "groups: as for track_stratum_paths.");
}
