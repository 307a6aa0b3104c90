// How much memory a computation may allocate, and a check made before allocating: a request
// the machine cannot hold is refused with std::invalid_argument (a ValueError in Python that
// names the argument and says how much would be needed) instead of being attempted.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace lcnfast {

// LCNFAST_MEMORY_LIMIT as bytes: a positive number, in plain or scientific notation, with an
// optional unit K, M, G or T (powers of 1000; "B" and "iB" forms accepted, KiB etc. powers of
// 1024). 0 when unset; -1 when set but not such a number (the Python package warns, naming it).
inline double memory_limit_from_env() {
  const char* env = std::getenv("LCNFAST_MEMORY_LIMIT");
  if (env == nullptr || *env == '\0') return 0.0;
  char* end = nullptr;
  double value = std::strtod(env, &end);
  if (end == env || !(value > 0.0) || !(value < 1e30)) return -1.0;
  std::string unit(end);
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string prefixes = "KMGT";
  if (unit.empty() || unit == "B") return value;
  const auto at = prefixes.find(unit[0]);
  if (at == std::string::npos) return -1.0;
  const std::string rest = unit.substr(1);
  double base = 1000.0;
  if (rest == "IB") base = 1024.0;
  else if (!(rest.empty() || rest == "B")) return -1.0;
  for (std::size_t i = 0; i <= at; ++i) value *= base;
  return value;
}

// The first number in a file (e.g. a cgroup's memory.max), 0 when absent or "max".
inline double number_in_file(const char* path) {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return 0.0;
  double value = 0.0;
  if (std::fscanf(f, "%lf", &value) != 1) value = 0.0;
  std::fclose(f);
  return value;
}

// MemAvailable of /proc/meminfo in bytes (0 when unknown).
inline double available_memory() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return 0.0;
  char line[256];
  double kb = 0.0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "MemAvailable: %lf kB", &kb) == 1) break;
  std::fclose(f);
  return kb * 1024.0;
}

// Bytes lcnfast lets one structure take: LCNFAST_MEMORY_LIMIT if set (see above), otherwise
// four fifths of the least of the physical memory, the memory available now (MemAvailable)
// and the process's cgroup limit (v2 memory.max, v1 memory.limit_in_bytes) where these are
// known (0: nothing known, no limit).
inline std::uint64_t memory_budget() {
  const double limit = memory_limit_from_env();
  if (limit > 0.0) return static_cast<std::uint64_t>(limit);
  double budget = 0.0;
  const auto least = [&budget](double value) {
    if (value > 0.0 && value < 1e30 && (budget == 0.0 || value < budget)) budget = value;
  };
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) least(static_cast<double>(pages) * static_cast<double>(page));
#endif
  least(available_memory());
  least(number_in_file("/sys/fs/cgroup/memory.max"));
  least(number_in_file("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
  // a fifth is kept for everything else (the interpreter, numpy's temporaries, the system)
  return static_cast<std::uint64_t>(0.8 * budget);
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
                                " lcnfast may use here (four fifths of the memory available; LCNFAST_MEMORY_LIMIT sets another "
                                "limit)");
}

}  // namespace lcnfast
