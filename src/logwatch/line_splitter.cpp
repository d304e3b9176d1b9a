#include "healthd/logwatch/line_splitter.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace healthd::logwatch {

line_splitter::line_splitter(std::size_t max_line_bytes) : max_(max_line_bytes) {
  if (max_ == 0) throw std::invalid_argument("line_splitter: max_line_bytes must be at least 1");
}

void line_splitter::release_held() noexcept {
  if (clear_held_) {
    held_.clear();
    clear_held_ = false;
  }
}

line line_splitter::emit_held(std::size_t length, bool truncated) {
  clear_held_ = true;
  return {std::string_view(held_).substr(0, length), truncated};
}

void line_splitter::feed(std::string_view chunk) {
  assert(pos_ == input_.size() && "feed() before next() returned nullopt drops the rest of the previous chunk");
  release_held();
  consumed_ += input_.size();
  input_ = chunk;
  pos_ = 0;
}

std::optional<line> line_splitter::next() {
  release_held();
  while (true) {
    if (held_.size() > max_) {
      // max_ + 1 bytes held: the line is too long unless that last byte is the "\r" of a "\r\n".
      if (held_.back() == '\r') {
        if (pos_ == input_.size()) return std::nullopt;
        if (input_[pos_] == '\n') {
          ++pos_;
          line_start_ = offset();
          return emit_held(max_, false);
        }
      }
      discarding_ = true;
      return emit_held(max_, true);
    }
    if (pos_ == input_.size()) return std::nullopt;

    const std::string_view rest = input_.substr(pos_);
    const std::size_t newline = rest.find('\n');
    if (discarding_) {
      if (newline == std::string_view::npos) {
        pos_ = input_.size();
        return std::nullopt;
      }
      pos_ += newline + 1;
      line_start_ = offset();
      discarding_ = false;
      continue;
    }
    if (newline == std::string_view::npos) {
      // One byte beyond the limit is kept: it decides between "too long" and "exactly the limit, then \r\n".
      const std::size_t take = std::min(rest.size(), max_ + 1 - held_.size());
      held_.append(rest.substr(0, take));
      pos_ += take;
      continue;
    }

    pos_ += newline + 1;
    line_start_ = offset();
    std::string_view piece = rest.substr(0, newline);
    if (held_.empty()) {
      // The whole line is in this chunk: hand out a view of it, no copy.
      if (piece.ends_with('\r')) piece.remove_suffix(1);
      if (piece.size() > max_) return line{piece.substr(0, max_), true};
      return line{piece, false};
    }
    const bool carriage_return = piece.empty() ? held_.back() == '\r' : piece.back() == '\r';
    const std::size_t length = held_.size() + piece.size() - (carriage_return ? 1 : 0);
    if (length > max_) {
      held_.append(piece.substr(0, max_ - held_.size()));
      return emit_held(max_, true);
    }
    held_.append(piece);
    return emit_held(length, false);
  }
}

std::optional<line> line_splitter::flush() {
  assert(pos_ == input_.size() && "flush() before next() returned nullopt");
  release_held();
  consumed_ += input_.size();
  input_ = {};
  pos_ = 0;
  line_start_ = consumed_;
  discarding_ = false;
  if (held_.empty()) return std::nullopt;
  std::size_t length = held_.size();
  if (held_.back() == '\r') --length;  // most likely half of a "\r\n" the writer never finished
  if (length > max_) return emit_held(max_, true);
  return emit_held(length, false);
}

void line_splitter::reset(std::uint64_t offset) {
  held_.clear();
  clear_held_ = false;
  discarding_ = false;
  input_ = {};
  pos_ = 0;
  consumed_ = offset;
  line_start_ = offset;
}

}  // namespace healthd::logwatch
