#include "healthd/io/background.hpp"

#include <spdlog/spdlog.h>

namespace healthd::io {

void log_background_failure(const char* what, const std::exception_ptr& error) noexcept {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::warn("io: {} failed: {}", what, e.what());
  } catch (...) {
    spdlog::warn("io: {} failed", what);
  }
}

}  // namespace healthd::io
