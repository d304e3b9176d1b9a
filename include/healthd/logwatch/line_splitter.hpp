#pragma once
// Bytes in (chunks as a file read returns them), complete lines out. Sans-I/O and pure; not thread-safe (one per
// tailed file).
//
// Rules (docs/logwatch.md): a line ends at "\n"; a "\r" just before it is dropped too. A partial last line waits for
// its newline. A line longer than `max_line_bytes` is cut: its first `max_line_bytes` bytes come out at once, marked
// `truncated`, and the rest up to its newline is discarded, so memory stays bounded by `max_line_bytes` + 1 whatever
// the input. Bytes are not interpreted otherwise (invalid UTF-8 and NUL pass through).
//
// Use: feed(chunk), then next() until it returns nullopt; `chunk` must stay valid until then. A line's text is valid
// until the next call to feed(), next(), flush() or reset().

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace healthd::logwatch {

inline constexpr std::size_t default_max_line_bytes = std::size_t{64} * 1024;

struct line {
  std::string_view text;  // without its terminator
  bool truncated = false;
};

class line_splitter {
public:
  // `max_line_bytes` >= 1.
  explicit line_splitter(std::size_t max_line_bytes = default_max_line_bytes);

  void feed(std::string_view chunk);
  [[nodiscard]] std::optional<line> next();

  // The held partial line as a line of its own (it will never get its newline: the rotated file it came from was read
  // to its end), then reset(). nullopt when nothing is held.
  [[nodiscard]] std::optional<line> flush();

  // Forgets everything held (rotation, truncation). Offsets count from `offset` on.
  void reset(std::uint64_t offset = 0);

  // The stream offset where the first line not yet complete starts: just past the last newline consumed. What a
  // checkpoint saves, so a restart neither misses a line nor counts one twice (except the cut prefix of an overlong
  // line still waiting for its newline, which a restart emits again).
  [[nodiscard]] std::uint64_t line_start() const noexcept { return line_start_; }
  // Bytes held for the partial line (at most max_line_bytes + 1).
  [[nodiscard]] std::size_t held_bytes() const noexcept { return held_.size(); }
  [[nodiscard]] std::size_t max_line_bytes() const noexcept { return max_; }

private:
  void release_held() noexcept;
  line emit_held(std::size_t length, bool truncated);
  [[nodiscard]] std::uint64_t offset() const noexcept { return consumed_ + pos_; }

  std::size_t max_;
  std::string held_;         // the partial line so far, at most max_ + 1 bytes (the last one may be a "\r")
  bool clear_held_ = false;  // held_ was handed out as a line: clear it on the next call
  bool discarding_ = false;  // past an overlong line's cut, until its newline
  std::string_view input_;
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;  // stream offset of input_[0]
  std::uint64_t line_start_ = 0;
};

}  // namespace healthd::logwatch
