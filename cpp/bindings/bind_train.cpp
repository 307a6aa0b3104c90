#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "common.hpp"
#include "lcnfast/loss.hpp"
#include "lcnfast/memory.hpp"
#include "lcnfast/train.hpp"

namespace lcnfast::bindings {
namespace {

void check_finite_scalar(double x, const char* name) {
  if (!std::isfinite(x)) throw std::invalid_argument(std::string(name) + ": must be finite");
}

py::array_t<double> empty_array(std::vector<py::ssize_t> shape) { return py::array_t<double>(shape); }

}  // namespace

// The options of one call of train(), with named fields (the typed boundary in _core.pyi).
struct TrainOptions {
  std::string method = "gd";
  double lr = 0.01;
  long steps = 1000;
  double tol = 0.0;
  double blowup = 1e10;
  double rtol = 1e-8;
  double atol = 1e-10;
  double t_max = 0.0;
  long record_every = 0;
  int threads = 1;
  bool specialised = true;
};

// What train() returns: arrays with the runs first; the recorded trajectories are None
// unless record_every > 0.
struct TrainOutput {
  py::array_t<double> theta, v, loss, grad_norm;
  py::array_t<int> status;
  py::array_t<long> steps;
  py::array_t<double> inv_initial, inv_final, inv_max_drift, inv_predicted;
  py::object rec_t = py::none(), rec_v = py::none(), rec_loss = py::none(), rec_inv = py::none();
};
}  // namespace lcnfast::bindings

void bind_train(py::module_& m) {
  using lcnfast::PatchMap;
  using lcnfast::ProductPlan;
  using lcnfast::Shape2;
  using lcnfast::bindings::TrainOptions;
  using lcnfast::bindings::TrainOutput;
  using namespace lcnfast::bindings;

  py::class_<PatchMap, std::shared_ptr<PatchMap>>(
      m, "PatchMap", "Where each end-to-end filter entry meets the input, for every output position.")
      .def(py::init<Shape2, Shape2, Shape2, Shape2, bool>(), py::arg("in_shape"), py::arg("out_shape"),
           py::arg("filter_shape"), py::arg("stride"), py::arg("circular"))
      .def_property_readonly("n_in", &PatchMap::n_in)
      .def_property_readonly("n_positions", &PatchMap::n_positions)
      .def_property_readonly("n_filter", &PatchMap::n_filter)
      .def(
          "gram",
          [](const PatchMap& pm, const DoubleArray& X, const DoubleArray& Y, int threads) {
            const std::ptrdiff_t N = rows_of(X, "X", pm.n_in());
            if (rows_of(Y, "Y", pm.n_positions()) != N)
              throw std::invalid_argument("Y: expected " + std::to_string(N) + " samples like X, got " +
                                          std::to_string(Y.shape(0)));
            if (N < 1) throw std::invalid_argument("X: needs at least one sample");
            threads = checked_threads(threads);
            const auto nf = static_cast<py::ssize_t>(pm.n_filter());
            auto G = empty_array({nf, nf});
            auto b = empty_array({nf});
            double c = 0.0;
            double* Gp = G.mutable_data();
            double* bp = b.mutable_data();
            const bool done = without_gil([&] {
              return pm.gram(X.data(), Y.data(), N, Gp, bp, &c, threads, python_signals());
            });
            if (!done) throw py::error_already_set();
            return py::make_tuple(G, b, c);
          },
          py::arg("X"), py::arg("Y"), py::arg("threads"), "(G, b, c) of the squared loss on (X, Y).")
      .def(
          "apply",
          [](const PatchMap& pm, const DoubleArray& X, const DoubleArray& v, int threads) {
            const std::ptrdiff_t N = rows_of(X, "X", pm.n_in());
            if (v.ndim() != 1 || v.shape(0) != pm.n_filter())
              throw std::invalid_argument("v: expected " + std::to_string(pm.n_filter()) + " entries");
            threads = checked_threads(threads);
            auto Y = empty_array({static_cast<py::ssize_t>(N), static_cast<py::ssize_t>(pm.n_positions())});
            double* Yp = Y.mutable_data();
            const bool done = without_gil([&] { return pm.apply(X.data(), N, v.data(), Yp, threads, python_signals()); });
            if (!done) throw py::error_already_set();
            return Y;
          },
          py::arg("X"), py::arg("v"), py::arg("threads"), "Y[n] = T_v X[n] for the flattened data.");

  py::class_<TrainOptions>(m, "TrainOptions",
                           "How train() runs: the method, its step and stopping rules, recording, threads.")
      .def(py::init([](const std::string& method, double lr, long steps, double tol, double blowup, double rtol,
                       double atol, double t_max, long record_every, int threads, bool specialised) {
             return TrainOptions{method, lr, steps, tol, blowup, rtol, atol, t_max, record_every, threads, specialised};
           }),
           py::kw_only(), py::arg("method") = "gd", py::arg("lr") = 0.01, py::arg("steps") = 1000,
           py::arg("tol") = 0.0, py::arg("blowup") = 1e10, py::arg("rtol") = 1e-8, py::arg("atol") = 1e-10,
           py::arg("t_max") = 0.0, py::arg("record_every") = 0, py::arg("threads") = 1,
           py::arg("specialised") = true)
      .def_readwrite("method", &TrainOptions::method, "'gd' or 'flow'")
      .def_readwrite("lr", &TrainOptions::lr, "GD step; the flow's first step")
      .def_readwrite("steps", &TrainOptions::steps, "GD steps; the flow's most Runge-Kutta steps")
      .def_readwrite("tol", &TrainOptions::tol, "a run converges when ||grad|| <= tol")
      .def_readwrite("blowup", &TrainOptions::blowup, "a run diverges when its loss exceeds blowup x its first")
      .def_readwrite("rtol", &TrainOptions::rtol, "flow: relative local error tolerance")
      .def_readwrite("atol", &TrainOptions::atol, "flow: absolute local error tolerance")
      .def_readwrite("t_max", &TrainOptions::t_max, "flow: the time to integrate to")
      .def_readwrite("record_every", &TrainOptions::record_every, "record every that many steps (0: none)")
      .def_readwrite("threads", &TrainOptions::threads, "worker threads")
      .def_readwrite("specialised", &TrainOptions::specialised,
                     "use the register-resident kernels where they apply (False: the general ones, for tests)");

  py::class_<TrainOutput>(m, "TrainOutput", "What train() computed, per run (arrays with the runs first).")
      .def_readonly("theta", &TrainOutput::theta)
      .def_readonly("v", &TrainOutput::v)
      .def_readonly("loss", &TrainOutput::loss)
      .def_readonly("grad_norm", &TrainOutput::grad_norm)
      .def_readonly("status", &TrainOutput::status)
      .def_readonly("steps", &TrainOutput::steps)
      .def_readonly("inv_initial", &TrainOutput::inv_initial)
      .def_readonly("inv_final", &TrainOutput::inv_final)
      .def_readonly("inv_max_drift", &TrainOutput::inv_max_drift)
      .def_readonly("inv_predicted", &TrainOutput::inv_predicted)
      .def_readonly("rec_t", &TrainOutput::rec_t)
      .def_readonly("rec_v", &TrainOutput::rec_v)
      .def_readonly("rec_loss", &TrainOutput::rec_loss)
      .def_readonly("rec_inv", &TrainOutput::rec_inv);

  m.def(
      "train",
      [](const ProductPlan& plan, const DoubleArray& theta0, const DoubleArray& G, const DoubleArray& b, double c,
         const TrainOptions& options, std::optional<py::function> progress) {
        const std::ptrdiff_t B = rows_of(theta0, "theta0", plan.n_params());
        const std::ptrdiff_t n = plan.n_out();
        if (B < 1) throw std::invalid_argument("theta0: needs at least one run");
        if (rows_of(G, "G", n) != n) throw std::invalid_argument("G: expected a square matrix of size " + std::to_string(n));
        if (b.ndim() != 1 || b.shape(0) != n) throw std::invalid_argument("b: expected " + std::to_string(n) + " entries");
        const double lr = options.lr, tol = options.tol, blowup = options.blowup, rtol = options.rtol;
        const double atol = options.atol, t_max = options.t_max;
        const long steps = options.steps, record_every = options.record_every;
        lcnfast::TrainView tv;
        if (options.method == "gd") {
          tv.method = lcnfast::kGradientDescent;
        } else if (options.method == "flow") {
          tv.method = lcnfast::kGradientFlow;
        } else {
          throw std::invalid_argument("method: expected 'gd' or 'flow', got '" + options.method + "'");
        }
        for (auto [x, name] : {std::pair{lr, "lr"}, {tol, "tol"}, {blowup, "blowup"}, {rtol, "rtol"}, {atol, "atol"},
                               {t_max, "t_max"}, {c, "c"}})
          check_finite_scalar(x, name);
        if (lr <= 0) throw std::invalid_argument("lr: must be > 0");
        if (steps < 0) throw std::invalid_argument("steps: must be >= 0");
        if (tol < 0) throw std::invalid_argument("tol: must be >= 0");
        if (blowup <= 1) throw std::invalid_argument("blowup: must be > 1");
        if (rtol <= 0 || atol < 0) throw std::invalid_argument("rtol: must be > 0 (and atol >= 0)");
        if (t_max < 0) throw std::invalid_argument("t_max: must be >= 0");
        if (record_every < 0) throw std::invalid_argument("record_every: must be >= 0");
        const int threads = checked_threads(options.threads);
        const auto L1 = static_cast<py::ssize_t>(plan.n_layers() - 1);
        const auto P = static_cast<py::ssize_t>(plan.n_params());
        const auto Bs = static_cast<py::ssize_t>(B);
        const long n_rec = record_every > 0 ? steps / record_every + 1 : 0;
        if (record_every > 0)
          lcnfast::check_memory(8.0 * static_cast<double>(B) * static_cast<double>(n_rec) * static_cast<double>(n + L1 + 2),
                                "record_every: the trajectories");

        TrainOutput out;
        out.theta = empty_array({Bs, P});
        out.v = empty_array({Bs, static_cast<py::ssize_t>(n)});
        out.loss = empty_array({Bs});
        out.grad_norm = empty_array({Bs});
        out.status = py::array_t<int>(Bs);
        out.steps = py::array_t<long>(Bs);
        out.inv_initial = empty_array({Bs, L1});
        out.inv_final = empty_array({Bs, L1});
        out.inv_max_drift = empty_array({Bs, L1});
        out.inv_predicted = empty_array({Bs, L1});

        tv.G = G.data();
        tv.b = b.data();
        tv.c = c;
        tv.lr = lr;
        tv.steps = steps;
        tv.tol = tol;
        tv.blowup = blowup;
        tv.rtol = rtol;
        tv.atol = atol;
        tv.t_max = t_max;
        tv.record_every = record_every;
        tv.specialised = options.specialised;
        tv.n_records = n_rec;
        tv.theta0 = theta0.data();
        tv.theta = out.theta.mutable_data();
        tv.v = out.v.mutable_data();
        tv.loss = out.loss.mutable_data();
        tv.grad_norm = out.grad_norm.mutable_data();
        tv.status = out.status.mutable_data();
        tv.steps_taken = out.steps.mutable_data();
        tv.inv_initial = out.inv_initial.mutable_data();
        tv.inv_final = out.inv_final.mutable_data();
        tv.inv_max_drift = out.inv_max_drift.mutable_data();
        tv.inv_predicted = out.inv_predicted.mutable_data();
        if (record_every > 0) {
          auto t_arr = empty_array({Bs, n_rec});
          auto v_arr = empty_array({Bs, n_rec, static_cast<py::ssize_t>(n)});
          auto l_arr = empty_array({Bs, n_rec});
          auto i_arr = empty_array({Bs, n_rec, L1});
          tv.rec_t = t_arr.mutable_data();
          tv.rec_v = v_arr.mutable_data();
          tv.rec_loss = l_arr.mutable_data();
          tv.rec_inv = i_arr.mutable_data();
          out.rec_t = t_arr;
          out.rec_v = v_arr;
          out.rec_loss = l_arr;
          out.rec_inv = i_arr;
        }

        // Called with the GIL released around it: reports progress, checks for Ctrl-C.
        lcnfast::TrainMonitor monitor = [&progress](long done) {
          py::gil_scoped_acquire gil;
          if (PyErr_CheckSignals() != 0) return true;
          if (progress) {
            try {
              (*progress)(done);
            } catch (py::error_already_set& e) {
              e.restore();
              return true;
            }
          }
          return false;
        };
        const int result = without_gil([&] { return lcnfast::train(plan, tv, B, threads, monitor); });
        raise_for_status(result, "theta0");
        return out;
      },
      py::arg("plan"), py::arg("theta0"), py::arg("G"), py::arg("b"), py::arg("c"), py::arg("options"),
      py::arg("progress") = py::none(),
      "Train many runs on the loss v^T G v - 2 b^T v + c with the given TrainOptions; returns a TrainOutput.");
}
