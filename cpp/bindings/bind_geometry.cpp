#include <cstdint>

#include "common.hpp"
#include "lcnfast/roots.hpp"

void bind_geometry(py::module_& m) {
  using namespace lcnfast::bindings;
  m.attr("MAX_FAST_DEGREE") = lcnfast::kMaxFastDegree;
  m.def(
      "count_real_roots",
      [](const DoubleArray& V, int threads) {
        const std::ptrdiff_t B = rows_of(V, "v", -1);
        const std::ptrdiff_t k = V.shape(1);
        if (k < 1) throw std::invalid_argument("v: filters need at least one coefficient");
        if (k > (std::ptrdiff_t{1} << 20)) throw std::invalid_argument("v: filter too long");
        threads = checked_threads(threads);
        py::array_t<std::int64_t> total(B), odd(B);
        py::array_t<std::uint8_t> certified(B), zero_form(B);
        auto* t = total.mutable_data();
        auto* o = odd.mutable_data();
        auto* c = certified.mutable_data();
        auto* z = zero_form.mutable_data();
        const bool done = without_gil([&] {
          return lcnfast::count_real_roots_rows(V.data(), B, static_cast<int>(k), t, o, c, z, threads,
                                                python_signals());
        });
        if (!done) throw py::error_already_set();
        return py::make_tuple(total, odd, certified, zero_form);
      },
      py::arg("v"), py::arg("threads"),
      "Real roots of the binary forms v (B, k): (total with multiplicity, odd-multiplicity roots, "
      "certified, zero form). Uncertified rows must be decided exactly elsewhere.");
}
