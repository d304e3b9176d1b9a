#pragma once
// How the http and websocket probes judge an answer: JSON rules and the whole http verdict. Pure: `now` is passed in.

#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/probe_result.hpp"
#include "healthd/core/status.hpp"
#include "healthd/io/http_client.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace healthd::probes {

struct rule_verdict {
  probe_status status = probe_status::critical;
  std::string message;   // "/entry/0/content/health is red", "/status not found", "body is not JSON"
  nlohmann::json value;  // the value found, null when none
};

// Maps the value at the rule's JSON pointer (as text: strings bare, other values as JSON) to a status.
[[nodiscard]] rule_verdict evaluate_json_rule(const config::json_rule& rule, const nlohmann::json& document);
[[nodiscard]] rule_verdict evaluate_json_body(const config::json_rule& rule, std::string_view body);

// The http probe's verdict on an exchange: the status range, the body text, the JSON rule, then the certificate's
// expiry as of `now` (expired: critical; fewer than cert_expiry_warn_days left: degraded). Latency is left to the
// caller.
[[nodiscard]] probe_result judge_http(const config::http_probe& options, const io::http_outcome& outcome,
                                      wall_time now);

}  // namespace healthd::probes
