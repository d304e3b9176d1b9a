#pragma once
// What one run of a probe yields. `message` and `details` are already redacted of secrets.

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
};

}  // namespace healthd
