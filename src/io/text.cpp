#include "healthd/io/text.hpp"

#include "healthd/core/utf8.hpp"

#include <cctype>

namespace healthd::io {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string first_line(std::string_view text) { return std::string(trim(text.substr(0, text.find('\n')))); }

std::string timeout_message(std::chrono::milliseconds timeout) {
  return "timeout after " + std::to_string(timeout.count()) + " ms";
}

// A UTF-8 character is at most 4 bytes: keeping 3 past the limit shows whether the one at the limit is whole.
constexpr std::size_t utf8_lookahead = 3;

void capped_buffer::append(std::string_view data) {
  total_ += data.size();
  const auto room = limit_ + utf8_lookahead;
  if (kept_.size() < room) kept_.append(data.substr(0, room - kept_.size()));
}

std::string capped_buffer::text() const { return valid_utf8(kept_, limit_); }

}  // namespace healthd::io
