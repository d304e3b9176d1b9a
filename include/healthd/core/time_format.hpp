#pragma once
// RFC 3339 timestamps in UTC with millisecond precision ("2026-11-28T07:17:22.123Z"), the only format shown to
// people and written to the audit file.

#include "healthd/core/clock.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace healthd {

[[nodiscard]] std::string format_rfc3339_ms(wall_time t);

// Accepts exactly what format_rfc3339_ms writes (and whole seconds without the fraction); nullopt otherwise.
[[nodiscard]] std::optional<wall_time> parse_rfc3339(std::string_view text);

}  // namespace healthd
