#pragma once
// What one run of a probe yields. `message` and `details` are already redacted of secrets and valid UTF-8.

#include "healthd/core/clock.hpp"
#include "healthd/core/status.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace healthd {

struct probe_result {
  probe_status status = probe_status::critical;
  millis_d latency{0};
  std::string message;  // the reason, human readable: "connect: Connection refused", "HTTP 503", ...
  nlohmann::json details = nlohmann::json::object();
  // False when the probe could not even start (e.g. its worker was still busy with an earlier, stuck job): the
  // breaker counts it as neither success nor failure.
  bool started = true;
};

}  // namespace healthd
