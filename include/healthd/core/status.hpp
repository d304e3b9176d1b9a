#pragma once
// Status vocabularies shared by every component, with their wire names.

#include <optional>
#include <string_view>

namespace healthd {

// What a single probe said.
enum class probe_status { healthy, degraded, critical };

// A subsystem's or the platform's status. `pending` means "not probed yet".
enum class health_status { pending, healthy, degraded, critical, recovering };

enum class breaker_state { closed, open, half_open };

[[nodiscard]] std::string_view to_string(probe_status s) noexcept;
[[nodiscard]] std::string_view to_string(health_status s) noexcept;
[[nodiscard]] std::string_view to_string(breaker_state s) noexcept;

[[nodiscard]] std::optional<probe_status> parse_probe_status(std::string_view text) noexcept;

// "Passed" means the probe said healthy or degraded.
[[nodiscard]] constexpr bool passed(probe_status s) noexcept { return s != probe_status::critical; }

}  // namespace healthd
