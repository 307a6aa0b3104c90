// Instantiates the kernels for the 'generic' instruction set (the build's baseline, e.g. SSE2 on x86-64).
// Include nothing else here: see kernels_view.hpp.
#define LCNFAST_ISA generic
#include "lcnfast/kernels.hpp"
#include "lcnfast/train_kernels.hpp"

namespace lcnfast {
namespace generic {

const KernelTable& kernel_table() {
  static const KernelTable table{"generic", kLanes, &end_to_end_rows, &vjp_rows, &train_rows};
  return table;
}

}  // namespace generic
}  // namespace lcnfast
