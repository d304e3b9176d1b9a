#include "healthd/io/background.hpp"

#include "healthd/core/exception_text.hpp"

#include <spdlog/spdlog.h>

namespace healthd::io {

void log_background_failure(const char* what, const std::exception_ptr& error) noexcept {
  if (error) spdlog::warn("io: {} failed: {}", what, exception_text(error));
}

}  // namespace healthd::io
