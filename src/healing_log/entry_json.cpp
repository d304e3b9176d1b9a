#include "healthd/healing_log/entry_json.hpp"

#include "healthd/core/time_format.hpp"

namespace healthd {

nlohmann::json to_json(const healing_entry& e) {
  return {{"id", e.id},
          {"timestamp", format_rfc3339_ms(e.timestamp)},
          {"subsystem", e.subsystem},
          {"action", e.action},
          {"trigger", to_string(e.trigger)},
          {"result", to_string(e.result)},
          {"verification", e.verification ? nlohmann::json(to_string(*e.verification)) : nlohmann::json(nullptr)},
          {"detail", e.detail},
          {"platform_status", to_string(e.platform_status)}};
}

namespace {

std::optional<health_status> parse_health_status(std::string_view text) {
  for (auto s : {health_status::pending, health_status::healthy, health_status::degraded, health_status::critical,
                 health_status::recovering}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

const std::string* string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

std::optional<healing_entry> entry_from_json(const nlohmann::json& j, std::string* error) {
  const auto fail = [&](std::string what) -> std::optional<healing_entry> {
    if (error != nullptr) *error = std::move(what);
    return std::nullopt;
  };
  if (!j.is_object()) return fail("not an object");
  healing_entry e;
  auto id = j.find("id");
  if (id == j.end() || !id->is_number_unsigned() || id->get<std::uint64_t>() == 0)
    return fail("id: expected a positive integer");
  e.id = id->get<std::uint64_t>();

  const auto* timestamp = string_field(j, "timestamp");
  const auto parsed_time = timestamp != nullptr ? parse_rfc3339(*timestamp) : std::nullopt;
  if (!parsed_time) return fail("timestamp: expected an RFC 3339 UTC time");
  e.timestamp = *parsed_time;

  const auto* subsystem = string_field(j, "subsystem");
  const auto* action = string_field(j, "action");
  const auto* detail = string_field(j, "detail");
  if (subsystem == nullptr || action == nullptr || detail == nullptr)
    return fail("subsystem, action, detail: expected strings");
  e.subsystem = *subsystem;
  e.action = *action;
  e.detail = *detail;

  const auto* trigger = string_field(j, "trigger");
  const auto* result = string_field(j, "result");
  const auto* platform = string_field(j, "platform_status");
  const auto t = trigger != nullptr ? parse_heal_trigger(*trigger) : std::nullopt;
  const auto r = result != nullptr ? parse_heal_result(*result) : std::nullopt;
  const auto p = platform != nullptr ? parse_health_status(*platform) : std::nullopt;
  if (!t || !r || !p) return fail("trigger, result, platform_status: expected known values");
  e.trigger = *t;
  e.result = *r;
  e.platform_status = *p;

  // Lines written before the field existed have no key: no verification is known for them.
  if (auto v = j.find("verification"); v != j.end() && !v->is_null()) {
    const auto parsed = v->is_string() ? parse_verification_result(v->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) return fail("verification: expected \"passed\", \"failed\" or null");
    e.verification = *parsed;
  }
  return e;
}

}  // namespace healthd
