#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "common.hpp"
#include "lcnfast/loss.hpp"
#include "lcnfast/train.hpp"

namespace lcnfast::bindings {
namespace {

void check_finite_scalar(double x, const char* name) {
  if (!std::isfinite(x)) throw std::invalid_argument(std::string(name) + ": must be finite");
}

py::array_t<double> empty_array(std::vector<py::ssize_t> shape) { return py::array_t<double>(shape); }

}  // namespace
}  // namespace lcnfast::bindings

void bind_train(py::module_& m) {
  using lcnfast::PatchMap;
  using lcnfast::ProductPlan;
  using lcnfast::Shape2;
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

  m.def(
      "train",
      [](const ProductPlan& plan, const DoubleArray& theta0, const DoubleArray& G, const DoubleArray& b, double c,
         const std::string& method, double lr, long steps, double tol, double blowup, double rtol, double atol,
         double t_max, long record_every, int threads, std::optional<py::function> progress, bool specialised) {
        const std::ptrdiff_t B = rows_of(theta0, "theta0", plan.n_params());
        const std::ptrdiff_t n = plan.n_out();
        if (B < 1) throw std::invalid_argument("theta0: needs at least one run");
        if (rows_of(G, "G", n) != n) throw std::invalid_argument("G: expected a square matrix of size " + std::to_string(n));
        if (b.ndim() != 1 || b.shape(0) != n) throw std::invalid_argument("b: expected " + std::to_string(n) + " entries");
        lcnfast::TrainView tv;
        if (method == "gd") {
          tv.method = lcnfast::kGradientDescent;
        } else if (method == "flow") {
          tv.method = lcnfast::kGradientFlow;
        } else {
          throw std::invalid_argument("method: expected 'gd' or 'flow', got '" + method + "'");
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
        threads = checked_threads(threads);
        const auto L1 = static_cast<py::ssize_t>(plan.n_layers() - 1);
        const auto P = static_cast<py::ssize_t>(plan.n_params());
        const auto Bs = static_cast<py::ssize_t>(B);
        const long n_rec = record_every > 0 ? steps / record_every + 1 : 0;
        if (record_every > 0 && static_cast<double>(B) * static_cast<double>(n_rec) * static_cast<double>(n + L1 + 2) > 2e9)
          throw std::invalid_argument("record_every: the trajectories would hold more than 2e9 numbers");

        auto theta = empty_array({Bs, P});
        auto v = empty_array({Bs, static_cast<py::ssize_t>(n)});
        auto loss = empty_array({Bs});
        auto grad_norm = empty_array({Bs});
        py::array_t<int> status(Bs);
        py::array_t<long> steps_taken(Bs);
        auto inv_initial = empty_array({Bs, L1}), inv_final = empty_array({Bs, L1});
        auto inv_max_drift = empty_array({Bs, L1}), inv_predicted = empty_array({Bs, L1});
        py::object rec_t = py::none(), rec_v = py::none(), rec_loss = py::none(), rec_inv = py::none();

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
        tv.specialised = specialised;
        tv.n_records = n_rec;
        tv.theta0 = theta0.data();
        tv.theta = theta.mutable_data();
        tv.v = v.mutable_data();
        tv.loss = loss.mutable_data();
        tv.grad_norm = grad_norm.mutable_data();
        tv.status = status.mutable_data();
        tv.steps_taken = steps_taken.mutable_data();
        tv.inv_initial = inv_initial.mutable_data();
        tv.inv_final = inv_final.mutable_data();
        tv.inv_max_drift = inv_max_drift.mutable_data();
        tv.inv_predicted = inv_predicted.mutable_data();
        if (record_every > 0) {
          auto t_arr = empty_array({Bs, n_rec});
          auto v_arr = empty_array({Bs, n_rec, static_cast<py::ssize_t>(n)});
          auto l_arr = empty_array({Bs, n_rec});
          auto i_arr = empty_array({Bs, n_rec, L1});
          tv.rec_t = t_arr.mutable_data();
          tv.rec_v = v_arr.mutable_data();
          tv.rec_loss = l_arr.mutable_data();
          tv.rec_inv = i_arr.mutable_data();
          rec_t = t_arr;
          rec_v = v_arr;
          rec_loss = l_arr;
          rec_inv = i_arr;
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
        if (result & lcnfast::kInterrupted) throw py::error_already_set();
        if (result & lcnfast::kThetaNotFinite) throw std::invalid_argument("theta0: contains NaN or infinity");
        py::dict out;
        out["theta"] = theta;
        out["v"] = v;
        out["loss"] = loss;
        out["grad_norm"] = grad_norm;
        out["status"] = status;
        out["steps"] = steps_taken;
        out["inv_initial"] = inv_initial;
        out["inv_final"] = inv_final;
        out["inv_max_drift"] = inv_max_drift;
        out["inv_predicted"] = inv_predicted;
        out["rec_t"] = rec_t;
        out["rec_v"] = rec_v;
        out["rec_loss"] = rec_loss;
        out["rec_inv"] = rec_inv;
        return out;
      },
      py::arg("plan"), py::arg("theta0"), py::arg("G"), py::arg("b"), py::arg("c"), py::arg("method"), py::arg("lr"),
      py::arg("steps"), py::arg("tol"), py::arg("blowup"), py::arg("rtol"), py::arg("atol"), py::arg("t_max"),
      py::arg("record_every"), py::arg("threads"), py::arg("progress") = py::none(), py::arg("specialised") = true,
      "Train many runs on the loss v^T G v - 2 b^T v + c; returns a dict of arrays. specialised=False "
      "forces the general kernels (for tests: the register-resident ones must match them bit for bit).");
}
