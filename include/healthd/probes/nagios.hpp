#pragma once
// The exec probe's reading of a Nagios plugin: exit code and output. Pure.

#include "healthd/core/status.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace healthd::probes {

// Nagios plugin exit codes: 0 healthy, 1 degraded, 2 critical, anything else critical ("unknown").
[[nodiscard]] probe_status nagios_status(int exit_code) noexcept;

struct nagios_output {
  std::string message;                                 // the first line of output, before any '|'
  nlohmann::json perfdata = nlohmann::json::object();  // label -> {value, uom, warn, crit, min, max}
};

// `text` is the plugin's stdout. Perf data after '|' on the first line and on later lines ("long output | more perf")
// is parsed; malformed items are skipped.
[[nodiscard]] nagios_output parse_nagios_output(std::string_view text);
[[nodiscard]] nlohmann::json parse_perfdata(std::string_view text);

}  // namespace healthd::probes
