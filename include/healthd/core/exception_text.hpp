#pragma once
// What an escaped exception says, for the completion handlers that log it: `what()` for a std::exception, else
// "unknown exception". Empty for a null pointer.

#include <exception>
#include <string>

namespace healthd {

[[nodiscard]] inline std::string exception_text(const std::exception_ptr& error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace healthd
