#pragma once
// The pure pieces of the probes: no I/O, no clocks, unit-tested on their own.

#include "healthd/config/config.hpp"
#include "healthd/core/secrets.hpp"
#include "healthd/core/status.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthd::probes {

// ---- http ------------------------------------------------------------------------------------------------------
[[nodiscard]] bool status_matches(int status, const std::vector<config::status_range>& expected) noexcept;
// "200-299", "200, 204", "200-299, 304".
[[nodiscard]] std::string describe(const std::vector<config::status_range>& expected);

struct rule_verdict {
  probe_status status = probe_status::critical;
  std::string message;   // "/entry/0/content/health is red", "/status not found", "body is not JSON"
  nlohmann::json value;  // the value found, null when none
};

// Maps the value at the rule's JSON pointer (as text: strings bare, other values as JSON) to a status.
[[nodiscard]] rule_verdict evaluate_json_rule(const config::json_rule& rule, const nlohmann::json& document);
[[nodiscard]] rule_verdict evaluate_json_body(const config::json_rule& rule, std::string_view body);

struct parsed_url {
  std::string scheme;  // http, https, ws, wss
  std::string host;    // without IPv6 brackets
  std::uint16_t port = 0;
  std::string target = "/";  // path and query
  [[nodiscard]] bool tls() const noexcept { return scheme == "https" || scheme == "wss"; }
  [[nodiscard]] std::string host_header() const;  // "host:port" (brackets for IPv6), port omitted when default
};

// nullopt for anything but http(s)/ws(s) URLs with a host and a valid port.
[[nodiscard]] std::optional<parsed_url> parse_url(std::string_view url);

// ---- exec ------------------------------------------------------------------------------------------------------
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

// ---- postgres, redis -------------------------------------------------------------------------------------------
// Adds connect_timeout = max(2, ceil(timeout_ms / 1000) + 1) to a key=value or URI conninfo that has none (libpq
// waits forever without it, and its whole-second clock can end the attempt up to 1 s early).
[[nodiscard]] std::string with_connect_timeout(std::string conninfo, int timeout_ms);

// A libpq error's first line, with "connection to server at ... failed: " removed.
[[nodiscard]] std::string short_libpq_error(std::string_view what);

// INFO reply -> field map ("role" -> "master", "used_memory" -> "1234", ...).
[[nodiscard]] std::map<std::string, std::string, std::less<>> parse_redis_info(std::string_view info);

// ---- all -------------------------------------------------------------------------------------------------------
[[nodiscard]] std::string first_line(std::string_view text);
// Every string (and key) in `value` passed through `secrets.sanitize`: redacted and valid UTF-8.
[[nodiscard]] nlohmann::json sanitize_json(const nlohmann::json& value, const secret_set& secrets);

}  // namespace healthd::probes
