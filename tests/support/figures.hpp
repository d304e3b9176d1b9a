#pragma once
// Helpers for tests that measure time: room for sanitizer builds, and figures printed next to the test's output.

#include <chrono>
#include <cstdio>
#include <string>

namespace healthd::test {

// Sanitizer builds run several times slower; on a loaded machine their completion chains need extra room beyond
// the "timeout + 1 s" bound, which plain builds keep.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr std::chrono::milliseconds sanitizer_slack{2000};
#else
inline constexpr std::chrono::milliseconds sanitizer_slack{0};
#endif

// Prints a measured figure next to the test's output, so timeouts can be read off the log.
inline void print_figure(const std::string& what, std::chrono::milliseconds value) {
  std::printf("[ figure   ] %s: %lld ms\n", what.c_str(), static_cast<long long>(value.count()));
}

}  // namespace healthd::test
