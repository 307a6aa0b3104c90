// Run-time choice of the kernel instruction set.
//
// Each instruction set has its own translation unit (src/kernels_<isa>.cpp) exporting a
// KernelTable; the active one is picked on first use from what the CPU supports and can
// be overridden (for tests and benchmarks) with set_backend or the LCNFAST_BACKEND
// environment variable. All tables compute bitwise identical results.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lcnfast/kernels_view.hpp"

namespace lcnfast {

// The table in use.
const KernelTable& kernels();
// Names of the backends this build has and this CPU can run, portable first.
std::vector<std::string> available_backends();
// Select a backend by name ("auto" = the fastest available); throws std::invalid_argument.
void set_backend(const std::string& name);

}  // namespace lcnfast
