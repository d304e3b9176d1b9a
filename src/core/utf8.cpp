#include "healthd/core/utf8.hpp"

#include <algorithm>

namespace healthd {

namespace {

struct sequence {
  std::size_t length = 1;  // bytes consumed: the character, or the maximal subpart to replace
  bool valid = false;
};

// The sequence at the start of non-empty `text`, by the table of well-formed byte sequences (the Unicode Standard,
// §3.9, table 3-7). An ill-formed one ends before the first byte that cannot continue it, so that byte starts the next
// one.
sequence next_sequence(std::string_view text) noexcept {
  const auto byte = [text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {1, true};
  std::size_t length = 0;
  unsigned char low = 0x80;  // the range of the second byte; later ones are always 80..BF
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return {1, false};  // continuation byte, C0/C1 (overlong), F5..FF
  }
  for (std::size_t i = 1; i < length; ++i) {
    if (i >= text.size() || byte(i) < low || byte(i) > high) return {i, false};
    low = 0x80;
    high = 0xBF;
  }
  return {length, true};
}

}  // namespace

std::string valid_utf8(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  while (!text.empty()) {
    const auto next = next_sequence(text);
    const auto piece = next.valid ? text.substr(0, next.length) : replacement_character;
    if (piece.size() > max_bytes - out.size()) break;
    out += piece;
    text.remove_prefix(next.length);
  }
  return out;
}

bool is_valid_utf8(std::string_view text) noexcept {
  while (!text.empty()) {
    const auto next = next_sequence(text);
    if (!next.valid) return false;
    text.remove_prefix(next.length);
  }
  return true;
}

nlohmann::json valid_utf8_json(const nlohmann::json& value) {
  if (value.is_string()) return valid_utf8(value.get_ref<const std::string&>());
  if (value.is_array()) {
    auto out = nlohmann::json::array();
    for (const auto& item : value)
      out.push_back(valid_utf8_json(item));
    return out;
  }
  if (value.is_object()) {
    auto out = nlohmann::json::object();
    for (const auto& [key, item] : value.items())
      out[valid_utf8(key)] = valid_utf8_json(item);
    return out;
  }
  return value;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace healthd
