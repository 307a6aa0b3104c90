#include "common.hpp"
#include "lcnfast/dispatch.hpp"
#include "lcnfast/memory.hpp"
#include "lcnfast/parallel.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "lcnfast's compiled core (private: use the lcnfast package).";
  m.attr("__version__") = LCNFAST_VERSION;
  m.def("hardware_threads", &lcnfast::hardware_threads, "Number of hardware threads (at least 1).");
  m.def("memory_budget", &lcnfast::memory_budget,
        "Bytes one structure may take: LCNFAST_MEMORY_LIMIT, else four fifths of the least of the physical memory, the "
        "available memory and the cgroup limit (0: unknown).");
  m.def("memory_limit_from_env", &lcnfast::memory_limit_from_env,
        "LCNFAST_MEMORY_LIMIT in bytes: 0 when unset, -1 when it is not a positive size.");
  m.def("available_backends", &lcnfast::available_backends,
        "SIMD kernel backends this build has and this CPU can run, portable first.");
  m.def(
      "backend", [] { return std::string(lcnfast::kernels().name); }, "Name of the SIMD kernel backend in use.");
  m.def("set_backend", &lcnfast::set_backend, py::arg("name"),
        "Select the SIMD kernel backend ('auto', 'generic', 'avx2'); all give identical results.");
  bind_poly(m);
  bind_train(m);
  bind_geometry(m);
  bind_homotopy(m);
}
