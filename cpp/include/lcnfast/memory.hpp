// How much memory a computation may allocate, and a check made before allocating: a request
// the machine cannot hold is refused with std::invalid_argument (a ValueError in Python that
// names the argument and says how much would be needed) instead of being attempted.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace lcnfast {

// Bytes lcnfast lets one structure take: the LCNFAST_MEMORY_LIMIT environment variable
// (bytes) if set, otherwise the physical memory of the machine (0: unknown, no limit).
inline std::uint64_t memory_budget() {
  if (const char* env = std::getenv("LCNFAST_MEMORY_LIMIT")) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0' && value > 0) return value;
  }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 5) {
    bytes /= 1000.0;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3g %s", bytes, units[u]);
  return text;
}

// Throws std::invalid_argument("<what> would need <bytes>, more than ...") when `bytes`
// exceeds the budget. `what` starts with the argument's name, e.g. "k: the product plan".
inline void check_memory(double bytes, const std::string& what) {
  const std::uint64_t budget = memory_budget();
  if (budget > 0 && bytes > static_cast<double>(budget))
    throw std::invalid_argument(what + " would need " + format_bytes(bytes) + " of memory, more than the " +
                                format_bytes(static_cast<double>(budget)) +
                                " this machine has (LCNFAST_MEMORY_LIMIT sets another limit)");
}

}  // namespace lcnfast
