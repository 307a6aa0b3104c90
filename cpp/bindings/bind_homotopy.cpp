// The critical-point engine's compiled half (lcnfast._homotopy documents the system): one
// class per compiled family, CriticalSystem, with its three concerns as methods (track the
// paths of a parameter homotopy, certify points by Krawczyk tests, track the trace test's
// paths), named options (TrackerOptions) and result objects (TrackedPaths, Certificates,
// TracePaths), and the path outcomes as an enum (PathKind) with the names of the Python one.
#include <cmath>
#include <complex>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "lcnfast/krawczyk.hpp"
#include "lcnfast/stratum_homotopy.hpp"

namespace {

using namespace lcnfast::bindings;
using ComplexArray = py::array_t<std::complex<double>, py::array::c_style | py::array::forcecast>;
using Groups = std::vector<std::pair<int, int>>;

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

std::vector<lcnfast::HVec> rows_from(const ComplexArray& a, int width, const char* name) {
  if (a.ndim() != 2 || a.shape(1) != width)
    throw std::invalid_argument(std::string(name) + ": expected shape (paths, " + std::to_string(width) + ")");
  std::vector<lcnfast::HVec> out(static_cast<std::size_t>(a.shape(0)));
  for (py::ssize_t i = 0; i < a.shape(0); ++i) {
    auto& z = out[static_cast<std::size_t>(i)];
    z.resize(width);
    for (int j = 0; j < width; ++j) z[j] = a.data()[i * width + j];
    if (!z.allFinite()) throw std::invalid_argument(std::string(name) + ": must be finite");
  }
  return out;
}

// A family's critical equations, compiled once: the form's terms (and optional product
// structure) and the random linear patch that closes the square system.
struct CriticalSystem {
  lcnfast::StratumFamily family;

  CriticalSystem(int N, int K, std::vector<int> begin, std::vector<int> exps, std::vector<double> coeff,
                 const ComplexArray& patch, const Groups& groups, std::vector<int> dilations,
                 std::vector<double> group_map) {
    if (patch.ndim() != 1) throw std::invalid_argument("patch: expected a 1-D array");
    for (const auto& [part, count] : groups) {
      family.group_part.push_back(part);
      family.group_count.push_back(count);
    }
    family.group_dilation = std::move(dilations);
    family.group_map = std::move(group_map);
    family.N = N;
    family.K = K;
    family.begin = std::move(begin);
    family.exps = std::move(exps);
    family.coeff = std::move(coeff);
    family.patch.assign(patch.data(), patch.data() + patch.size());
    family.check();
    if (!family.group_part.empty()) {  // the homotopy checks the product against the terms: once, here
      lcnfast::StratumParams q;
      q.w = lcnfast::CVec::Zero(K);
      q.G = lcnfast::CMat::Identity(K, K);
      const lcnfast::StratumHomotopy probe(family, q, q);
      static_cast<void>(probe);
    }
  }
};

// The tracker's named options, validated where they are set.
struct Options {
  lcnfast::TrackerOptions tracker;
  int threads = 1;
};

// Per path: endpoint (homogeneous coordinates), outcome, endgame winding number, steps,
// condition, accuracy and why it failed.
struct TrackedPaths {
  py::array_t<std::complex<double>> z;
  py::array_t<int> kind, winding, steps, failure;
  py::array_t<double> condition, accuracy;
};

struct Certificates {
  py::array_t<bool> proven, a_nonzero, b_nonzero;
  py::array_t<double> radius, box;
  py::array_t<std::complex<double>> centre;
};

struct TracePaths {
  py::array_t<std::complex<double>> y;
  py::array_t<int> kind;
};

TrackedPaths track(const CriticalSystem& self, const ComplexArray& w0, const ComplexArray& G0, const ComplexArray& w1,
                   const ComplexArray& G1, const ComplexArray& starts, const Options& options) {
  const auto& family = self.family;
  const int N = family.N, K = family.K;
  const auto q0 = params_from(w0, G0, K, "q0");
  const auto q1 = params_from(w1, G1, K, "q1");
  const std::vector<lcnfast::HVec> z0 = rows_from(starts, N, "starts");
  const int threads = checked_threads(options.threads);
  bool interrupted = false;
  const std::vector<lcnfast::TrackedPath> results = without_gil([&] {
    return lcnfast::track_stratum_paths(family, q0, q1, z0, options.tracker, threads, python_signals(), interrupted);
  });
  if (interrupted) throw py::error_already_set();
  const auto P = static_cast<py::ssize_t>(results.size());
  TrackedPaths out{py::array_t<std::complex<double>>({P, static_cast<py::ssize_t>(N)}),
                   py::array_t<int>(P), py::array_t<int>(P), py::array_t<int>(P), py::array_t<int>(P),
                   py::array_t<double>(P), py::array_t<double>(P)};
  auto zz = out.z.mutable_unchecked<2>();
  for (py::ssize_t p = 0; p < P; ++p) {
    const auto& r = results[static_cast<std::size_t>(p)];
    for (int i = 0; i < N; ++i) zz(p, i) = r.z.size() == N ? r.z[i] : std::complex<double>(NAN, NAN);
    out.kind.mutable_at(p) = r.kind;
    out.winding.mutable_at(p) = r.winding;
    out.steps.mutable_at(p) = r.steps;
    out.failure.mutable_at(p) = r.failure;
    out.condition.mutable_at(p) = r.condition;
    out.accuracy.mutable_at(p) = r.accuracy;
  }
  return out;
}

Certificates certify(const CriticalSystem& self, const DoubleArray& w_lo, const DoubleArray& w_hi,
                     const DoubleArray& G_lo, const DoubleArray& G_hi, const ComplexArray& centres,
                     const std::vector<bool>& real, int threads) {
  const auto& family = self.family;
  threads = checked_threads(threads);
  const auto uK = static_cast<py::ssize_t>(family.K);
  if (w_lo.ndim() != 1 || w_lo.shape(0) != uK || w_hi.ndim() != 1 || w_hi.shape(0) != uK)
    throw std::invalid_argument("w_lo, w_hi: expected K entries each");
  if (G_lo.ndim() != 2 || G_lo.shape(0) != uK || G_lo.shape(1) != uK || G_hi.ndim() != 2 || G_hi.shape(0) != uK ||
      G_hi.shape(1) != uK)
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
  const int n = family.N - 1;
  if (centres.ndim() != 2 || centres.shape(1) != n)
    throw std::invalid_argument("centres: expected shape (points, N - 1)");
  const auto M = static_cast<std::size_t>(centres.shape(0));
  if (real.size() != M) throw std::invalid_argument("real: expected one flag per centre");
  std::vector<Eigen::VectorXcd> points(M);
  for (std::size_t i = 0; i < M; ++i)
    points[i] = Eigen::Map<const Eigen::VectorXcd>(centres.data() + i * static_cast<std::size_t>(n), n);
  bool interrupted = false;
  const std::vector<lcnfast::CertifiedPoint> results = without_gil([&] {
    return lcnfast::certify_stratum_points(family, data, points, real, threads, python_signals(), interrupted);
  });
  if (interrupted) throw py::error_already_set();
  const auto P = static_cast<py::ssize_t>(M);
  Certificates out{py::array_t<bool>(P), py::array_t<bool>(P), py::array_t<bool>(P), py::array_t<double>(P),
                   py::array_t<double>({P, static_cast<py::ssize_t>(n), py::ssize_t{4}}),
                   py::array_t<std::complex<double>>({P, static_cast<py::ssize_t>(n)})};
  auto bx = out.box.mutable_unchecked<3>();
  auto cc = out.centre.mutable_unchecked<2>();
  for (py::ssize_t p = 0; p < P; ++p) {
    const auto& r = results[static_cast<std::size_t>(p)];
    out.proven.mutable_at(p) = r.proven;
    out.a_nonzero.mutable_at(p) = r.a_nonzero;
    out.b_nonzero.mutable_at(p) = r.b_nonzero;
    out.radius.mutable_at(p) = r.radius;
    const bool has = r.box.size() == static_cast<std::size_t>(n);
    for (int i = 0; i < n; ++i) {
      cc(p, i) = r.centre.size() == n ? r.centre[i] : std::complex<double>(NAN, NAN);
      const auto u = static_cast<std::size_t>(i);
      bx(p, i, 0) = has ? r.box[u].re.lo : NAN;
      bx(p, i, 1) = has ? r.box[u].re.hi : NAN;
      bx(p, i, 2) = has ? r.box[u].im.lo : NAN;
      bx(p, i, 3) = has ? r.box[u].im.hi : NAN;
    }
  }
  return out;
}

TracePaths track_trace(const CriticalSystem& self, const ComplexArray& w0, const ComplexArray& G0,
                       const ComplexArray& w1, const ComplexArray& G1, const ComplexArray& c0, const ComplexArray& c1,
                       std::complex<double> alpha, std::complex<double> beta, std::complex<double> gamma,
                       const ComplexArray& starts, int threads) {
  const auto& family = self.family;
  const int N = family.N, K = family.K;
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
  if (N + 1 > lcnfast::kMaxUnknowns) throw std::invalid_argument("N: the trace test needs N <= 15");
  const std::vector<lcnfast::HVec> y0 = rows_from(starts, N + 1, "starts");
  bool interrupted = false;
  const std::vector<lcnfast::TrackedPath> results = without_gil([&] {
    return lcnfast::track_trace_paths(family, q0, q1, cc0, cc1, alpha, beta, gamma, y0, threads, python_signals(),
                                      interrupted);
  });
  if (interrupted) throw py::error_already_set();
  const auto P = static_cast<py::ssize_t>(results.size());
  TracePaths out{py::array_t<std::complex<double>>({P, static_cast<py::ssize_t>(N + 1)}), py::array_t<int>(P)};
  auto yy = out.y.mutable_unchecked<2>();
  for (py::ssize_t p = 0; p < P; ++p) {
    const auto& r = results[static_cast<std::size_t>(p)];
    for (int i = 0; i <= N; ++i) yy(p, i) = r.z.size() == N + 1 ? r.z[i] : std::complex<double>(NAN, NAN);
    out.kind.mutable_at(p) = r.kind;
  }
  return out;
}

}  // namespace

void bind_homotopy(py::module_& m) {
  m.attr("MAX_UNKNOWNS") = lcnfast::kMaxUnknowns;
  py::enum_<lcnfast::EndpointKind>(m, "PathKind",
                                   "How a homotopy path ended (the tracker's codes; DEGENERATE is the engine's "
                                   "verdict afterwards, never the tracker's).")
      .value("REGULAR", lcnfast::kEndRegular)
      .value("AT_INFINITY", lcnfast::kEndInfinity)
      .value("SINGULAR", lcnfast::kEndSingular)
      .value("FAILED", lcnfast::kEndFailed)
      .value("DEGENERATE", lcnfast::kEndDegenerate);
  py::enum_<lcnfast::PathFailure>(m, "PathFailure", "Why a path failed (TrackedPaths.failure).")
      .value("NONE", lcnfast::kFailNone)
      .value("STEP_SIZE", lcnfast::kFailStepSize)
      .value("STEP_BUDGET", lcnfast::kFailStepBudget)
      .value("NOT_CLOSED", lcnfast::kFailNotClosed)
      .value("NOT_CONVERGED", lcnfast::kFailNotConverged);

  py::class_<Options>(m, "TrackerOptions", "The path tracker's options.")
      .def(py::init([](bool endgame, double endgame_start, int max_steps, double predictor_tolerance, int threads) {
             if (!(endgame_start > 0.0 && endgame_start < 1.0))
               throw std::invalid_argument("endgame_start: must be in (0, 1)");
             if (max_steps < 1) throw std::invalid_argument("max_steps: must be >= 1");
             if (!(predictor_tolerance > 0.0 && predictor_tolerance < 1.0))
               throw std::invalid_argument("predictor_tolerance: must be in (0, 1)");
             Options o;
             o.tracker.endgame = endgame;
             o.tracker.endgame_start = endgame_start;
             o.tracker.max_steps = max_steps;
             o.tracker.predictor_tolerance = predictor_tolerance;
             o.threads = checked_threads(threads);
             return o;
           }),
           py::kw_only(), py::arg("endgame") = true, py::arg("endgame_start") = 0.9, py::arg("max_steps") = 20000,
           py::arg("predictor_tolerance") = 1e-5, py::arg("threads") = 1,
           "endgame: run the Cauchy endgame from endgame_start on when a path does not end regularly (False: "
           "such a path is FAILED); max_steps: per path; predictor_tolerance: the predictor's local error, "
           "relative, before the endgame zone (1e-6 in it); threads: over the paths (results do not depend on it).")
      .def_property_readonly("endgame", [](const Options& o) { return o.tracker.endgame; })
      .def_property_readonly("endgame_start", [](const Options& o) { return o.tracker.endgame_start; })
      .def_property_readonly("max_steps", [](const Options& o) { return o.tracker.max_steps; })
      .def_property_readonly("predictor_tolerance", [](const Options& o) { return o.tracker.predictor_tolerance; })
      .def_property_readonly("threads", [](const Options& o) { return o.threads; });

  py::class_<TrackedPaths>(m, "TrackedPaths", "The paths of CriticalSystem.track, one entry per start point.")
      .def_readonly("z", &TrackedPaths::z, "endpoints, homogeneous coordinates (paths, N); NaN when none")
      .def_readonly("kind", &TrackedPaths::kind, "PathKind codes")
      .def_readonly("winding", &TrackedPaths::winding, "the endgame's winding number (1 for a regular end)")
      .def_readonly("steps", &TrackedPaths::steps, "accepted predictor-corrector steps")
      .def_readonly("condition", &TrackedPaths::condition, "condition number of the Jacobian at the end")
      .def_readonly("accuracy", &TrackedPaths::accuracy, "relative change of the endpoint in its last refinement")
      .def_readonly("failure", &TrackedPaths::failure, "PathFailure codes");
  py::class_<Certificates>(m, "Certificates", "The Krawczyk tests of CriticalSystem.certify, one entry per centre.")
      .def_readonly("proven", &Certificates::proven, "the box holds exactly one solution")
      .def_readonly("radius", &Certificates::radius, "the proven box's largest half-width")
      .def_readonly("centre", &Certificates::centre, "the point minus one Newton step on the exact data")
      .def_readonly("box", &Certificates::box, "(points, n, 4): re lo, re hi, im lo, im hi per unknown")
      .def_readonly("a_nonzero", &Certificates::a_nonzero, "a = w.p excludes 0 on the box")
      .def_readonly("b_nonzero", &Certificates::b_nonzero, "b = p.Gc p excludes 0 on the box");
  py::class_<TracePaths>(m, "TracePaths", "The paths of CriticalSystem.track_trace.")
      .def_readonly("y", &TracePaths::y, "endpoints (paths, N + 1): z, then lambda")
      .def_readonly("kind", &TracePaths::kind, "PathKind codes (REGULAR or not)");

  py::class_<CriticalSystem>(m, "CriticalSystem",
                             "A family's critical equations (terms of the form p in N homogeneous unknowns, K "
                             "coefficients) with the linear patch that closes the square system, checked once.")
      .def(py::init<int, int, std::vector<int>, std::vector<int>, std::vector<double>, const ComplexArray&,
                    const Groups&, std::vector<int>, std::vector<double>>(),
           py::arg("N"), py::arg("K"), py::arg("begin"), py::arg("exps"), py::arg("coeff"), py::arg("patch"),
           py::arg("groups") = Groups{}, py::arg("dilations") = std::vector<int>{},
           py::arg("group_map") = std::vector<double>{},
           "begin, exps, coeff: the form's terms (exact in float64); patch: N entries; groups: optional (part, "
           "count) pairs giving the form as a product prod_g q_g(x^S_g)^part (faster evaluation; checked against "
           "the terms); dilations: the S_g (default all 1); group_map: the coefficients of each q_g as linear "
           "forms in the N unknowns, sum (count + 1) rows of N, row-major (default: the strata's q_g = (h, "
           "e...)).")
      .def_property_readonly("N", [](const CriticalSystem& s) { return s.family.N; })
      .def_property_readonly("K", [](const CriticalSystem& s) { return s.family.K; })
      .def("track", &track, py::arg("w0"), py::arg("G0"), py::arg("w1"), py::arg("G1"), py::arg("starts"),
           py::arg("options"),
           "Parameter homotopy from (w0, G0) to (w1, G1) along the rows of starts (homogeneous coordinates): "
           "TrackedPaths.")
      .def("certify", &certify, py::arg("w_lo"), py::arg("w_hi"), py::arg("G_lo"), py::arg("G_hi"),
           py::arg("centres"), py::arg("real"), py::arg("threads"),
           "Krawczyk tests in interval arithmetic (affine unknowns, h = 1) for real data enclosed by [w_lo, w_hi] "
           "and [G_lo, G_hi], around each row of centres (real: a box symmetric under conjugation): Certificates.")
      .def("track_trace", &track_trace, py::arg("w0"), py::arg("G0"), py::arg("w1"), py::arg("G1"), py::arg("c0"),
           py::arg("c1"), py::arg("alpha"), py::arg("beta"), py::arg("gamma"), py::arg("starts"), py::arg("threads"),
           "Paths on the trace-test curve {(z, lambda) : F(z; q0 + lambda (q1 - q0)) = 0} cut by (alpha lambda + "
           "beta) (c(s) . z) + s gamma = 0, c(s) = c0 + s (c1 - c0), from s = 0 to 1 along the rows of starts (z, "
           "then lambda): TracePaths.");
}
