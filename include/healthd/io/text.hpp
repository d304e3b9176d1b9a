#pragma once
// Text helpers shared by everything that reports what a child, a peer or a library said. No I/O.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace healthd::io {

// `s` without leading and trailing white space.
[[nodiscard]] std::string_view trim(std::string_view s);

// The first line of `text`, trimmed.
[[nodiscard]] std::string first_line(std::string_view text);

// "timeout after 2000 ms": the one wording every deadline uses.
[[nodiscard]] std::string timeout_message(std::chrono::milliseconds timeout);

// Keeps the first `limit` bytes appended (as valid UTF-8, cut on a character boundary) and counts them all.
class capped_buffer {
public:
  explicit capped_buffer(std::size_t limit) : limit_(limit) {}
  void append(std::string_view data);
  // What was kept, made valid UTF-8 and at most `limit` bytes: a character the limit would split is left out.
  [[nodiscard]] std::string text() const;
  [[nodiscard]] std::size_t total() const noexcept { return total_; }
  [[nodiscard]] bool truncated() const noexcept { return total_ > limit_; }

private:
  std::size_t limit_;
  std::string kept_;
  std::size_t total_ = 0;
};

}  // namespace healthd::io
