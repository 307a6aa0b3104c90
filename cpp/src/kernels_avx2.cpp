// Instantiates the kernels for the 'avx2' instruction set (compiled with -mavx2 by CMakeLists.txt;
// dispatch.cpp calls it only on CPUs that report AVX2).
// Include nothing else here: see kernels_view.hpp.
#define LCNFAST_ISA avx2
#include "lcnfast/kernels.hpp"
#include "lcnfast/train_kernels.hpp"

namespace lcnfast {
namespace avx2 {

const KernelTable& kernel_table() {
  static const KernelTable table{"avx2", kLanes, &end_to_end_rows, &vjp_rows, &train_rows};
  return table;
}

}  // namespace avx2
}  // namespace lcnfast
