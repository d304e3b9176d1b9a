#pragma once
// Completion handler for background coroutines (reaping a child, an abandoned lookup): logs an escaped exception,
// never rethrows into the I/O loop.

#include <exception>

namespace healthd::io {

void log_background_failure(const char* what, const std::exception_ptr& error) noexcept;

}  // namespace healthd::io
