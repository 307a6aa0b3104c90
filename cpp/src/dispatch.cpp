#include "lcnfast/dispatch.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace lcnfast {
namespace {

bool cpu_has_avx2() {
#if defined(LCNFAST_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(LCNFAST_HAVE_AVX512) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512dq") != 0 &&
         __builtin_cpu_supports("avx512vl") != 0;
#else
  return false;
#endif
}

const KernelTable* by_name(const std::string& name) {
  if (name == "generic") return &generic::kernel_table();
#ifdef LCNFAST_HAVE_AVX2
  if (name == "avx2" && cpu_has_avx2()) return &avx2::kernel_table();
#endif
#ifdef LCNFAST_HAVE_AVX512
  if (name == "avx512" && cpu_has_avx512()) return &avx512::kernel_table();
#endif
  return nullptr;
}

const KernelTable* best() {
#ifdef LCNFAST_HAVE_AVX512
  if (cpu_has_avx512()) return &avx512::kernel_table();
#endif
#ifdef LCNFAST_HAVE_AVX2
  if (cpu_has_avx2()) return &avx2::kernel_table();
#endif
  return &generic::kernel_table();
}

const KernelTable* initial() {
  if (const char* env = std::getenv("LCNFAST_BACKEND")) {
    const std::string name(env);
    if (!name.empty() && name != "auto") {
      if (const KernelTable* t = by_name(name)) return t;
    }
  }
  return best();
}

std::atomic<const KernelTable*>& active() {
  static std::atomic<const KernelTable*> table{initial()};
  return table;
}

}  // namespace

const KernelTable& kernels() { return *active().load(std::memory_order_acquire); }

std::vector<std::string> available_backends() {
  std::vector<std::string> names{"generic"};
  if (cpu_has_avx2()) names.emplace_back("avx2");
  if (cpu_has_avx512()) names.emplace_back("avx512");
  return names;
}

void set_backend(const std::string& name) {
  const KernelTable* t = name == "auto" ? best() : by_name(name);
  if (t == nullptr) {
    std::string have;
    for (const auto& n : available_backends()) have += (have.empty() ? "" : ", ") + n;
    throw std::invalid_argument("backend: '" + name + "' is not available here (available: auto, " + have + ")");
  }
  active().store(t, std::memory_order_release);
}

}  // namespace lcnfast
