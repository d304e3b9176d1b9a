#include "healthd/probes/http_checks.hpp"

#include "healthd/core/time_format.hpp"
#include "healthd/io/url.hpp"

#include <cmath>
#include <optional>

namespace healthd::probes {

rule_verdict evaluate_json_rule(const config::json_rule& rule, const nlohmann::json& document) {
  rule_verdict verdict;
  nlohmann::json::json_pointer pointer;
  try {
    pointer = nlohmann::json::json_pointer(rule.pointer);
  } catch (const nlohmann::json::exception&) {
    verdict.message = "invalid JSON pointer " + rule.pointer;
    return verdict;
  }
  if (!document.contains(pointer)) {
    verdict.status = rule.otherwise;
    verdict.message = rule.pointer + " not found";
    return verdict;
  }
  verdict.value = document.at(pointer);
  const std::string text = verdict.value.is_string() ? verdict.value.get<std::string>() : verdict.value.dump();
  const auto it = rule.values.find(text);
  verdict.status = it == rule.values.end() ? rule.otherwise : it->second;
  verdict.message = rule.pointer + " is " + text;
  return verdict;
}

rule_verdict evaluate_json_body(const config::json_rule& rule, std::string_view body) {
  auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    rule_verdict verdict;
    verdict.message = "body is not JSON";
    return verdict;
  }
  return evaluate_json_rule(rule, document);
}

probe_result judge_http(const config::http_probe& options, const io::http_outcome& outcome, wall_time now) {
  probe_result result;
  result.status = probe_status::critical;
  if (!outcome.ok()) {
    result.message = outcome.error;
    return result;
  }
  const auto& response = *outcome.response;
  nlohmann::json details = {{"status", response.status},
                            {"body_bytes", response.body.size()},
                            {"body_truncated", response.body_truncated},
                            {"reused_connection", response.reused_connection}};
  std::optional<double> days_left;
  if (response.certificate_expiry) {
    days_left = std::chrono::duration<double>(*response.certificate_expiry - now).count() / 86400.0;
    details["certificate_expires"] = format_rfc3339_ms(*response.certificate_expiry);
    details["certificate_days_left"] = std::floor(*days_left * 10) / 10;
  }
  const std::string status_text = "HTTP " + std::to_string(response.status);
  if (!io::status_matches(response.status, options.expect_status)) {
    details["expected_status"] = io::describe_statuses(options.expect_status);
    result.message = status_text;
    result.details = std::move(details);
    return result;
  }
  if (options.expect_body_contains && response.body.find(*options.expect_body_contains) == std::string::npos) {
    result.message = "body does not contain \"" + *options.expect_body_contains + "\"";
    result.details = std::move(details);
    return result;
  }
  result.status = probe_status::healthy;
  result.message = status_text;
  if (options.rule) {
    const auto verdict = evaluate_json_body(*options.rule, response.body);
    details["rule_value"] = verdict.value;
    result.status = verdict.status;
    result.message = verdict.message;
  }
  if (days_left) {
    if (*days_left < 0) {
      result.status = probe_status::critical;
      result.message = "certificate expired";
    } else if (*days_left < options.cert_expiry_warn_days && result.status == probe_status::healthy) {
      result.status = probe_status::degraded;
      result.message = "certificate expires in " + std::to_string(static_cast<int>(*days_left)) + " days";
    }
  }
  result.details = std::move(details);
  return result;
}

}  // namespace healthd::probes
