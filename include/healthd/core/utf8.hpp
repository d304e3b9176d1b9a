#pragma once
// Valid UTF-8 for every text that enters the daemon (probe and action messages, child output, peers' bytes, library
// error strings): made valid once, where it enters, so no document or audit write can fail on it. Pure functions,
// safe from any thread.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace healthd {

inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// `text` with every ill-formed sequence (stray continuation bytes, overlongs, surrogates, code points above
// U+10FFFF, sequences cut short) replaced by U+FFFD, one per maximal subpart (the Unicode Standard §3.9,
// as WHATWG's decoder does). At most `max_bytes` long: the text is cut before the first character that would not fit,
// never inside one.
[[nodiscard]] std::string valid_utf8(std::string_view text, std::size_t max_bytes = std::string_view::npos);

[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

// `value` with every string and every object key passed through valid_utf8. Keys that become equal after
// replacement keep the last value.
[[nodiscard]] nlohmann::json valid_utf8_json(const nlohmann::json& value);

// The compact JSON text of `value`, for every document and line written from state that holds untrusted text.
// Never throws on invalid UTF-8 (which the boundary should already have removed): bad bytes come out as U+FFFD.
[[nodiscard]] std::string json_text(const nlohmann::json& value);

}  // namespace healthd
