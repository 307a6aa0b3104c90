// Instantiates the kernels for the 'avx512' instruction set (compiled with -mavx512f -mavx512dq
// -mavx512vl by CMakeLists.txt; dispatch.cpp calls it only on CPUs that report all three).
// Include nothing else here: see kernels_view.hpp.
#define LCNFAST_ISA avx512
#include "lcnfast/kernels.hpp"
#include "lcnfast/train_kernels.hpp"

namespace lcnfast {
namespace avx512 {

const KernelTable& kernel_table() {
  static const KernelTable table{"avx512", kLanes, &end_to_end_rows, &vjp_rows, &train_rows};
  return table;
}

}  // namespace avx512
}  // namespace lcnfast
