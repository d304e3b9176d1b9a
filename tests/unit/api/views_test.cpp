#include "healthd/api/views.hpp"

#include "healthd/healing_log/entry_json.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace healthd::api {
namespace {

using namespace std::chrono;

wall_time at(int h, int m, int s, int ms = 0) {
  return sys_days{year{2026} / 11 / 28} + hours{h} + minutes{m} + seconds{s} + milliseconds{ms};
}

TEST(views, pending_subsystem_without_breaker_has_nulls_and_empty_details) {
  subsystem_view s;
  s.name = "websocket";
  s.loop = "integrations";
  const auto json = subsystem_json(s);
  EXPECT_EQ(json.dump(),
            R"({"status":"pending","critical":false,"loop":"integrations","breaker":null,"breaker_state":null,)"
            R"("last_check":null,"latency_ms":null,"consecutive_failures":0,"message":"","details":{}})");
}

TEST(views, health_document_matches_the_documented_shape) {
  platform_view view;
  view.status = health_status::degraded;
  view.checked_at = at(7, 17, 22, 123);
  view.started_at = at(7, 0, 0);
  subsystem_view redis;
  redis.name = "redis";
  redis.loop = "core";
  redis.breaker = "redis";
  redis.breaker_state = breaker_state::open;
  redis.status = health_status::critical;
  redis.last_check = at(7, 17, 22, 123);
  redis.latency_ms = 0.41034500000000004;
  redis.consecutive_failures = 5;
  redis.message = "circuit open";
  redis.details = {{"error", "refused"}};
  view.subsystems = {redis};
  view.summary.critical = 1;

  const auto json = health_json(view, "1.2.3");
  EXPECT_EQ(json.dump(),
            R"({"status":"degraded","checked_at":"2026-11-28T07:17:22.123Z","started_at":"2026-11-28T07:00:00.000Z",)"
            R"("version":"1.2.3","subsystems":{"redis":{"status":"critical","critical":false,"loop":"core",)"
            R"("breaker":"redis","breaker_state":"open","last_check":"2026-11-28T07:17:22.123Z","latency_ms":0.41,)"
            R"("consecutive_failures":5,"message":"circuit open","details":{"error":"refused"}}},)"
            R"("summary":{"healthy":0,"degraded":0,"critical":1,"recovering":0,"pending":0}})");
}

TEST(views, health_document_before_any_probe_has_null_checked_at) {
  platform_view view;
  view.started_at = at(7, 0, 0);
  const auto json = health_json(view, "0.1.0");
  EXPECT_TRUE(json["checked_at"].is_null());
  EXPECT_EQ(json["status"], "pending");
  EXPECT_TRUE(json["subsystems"].is_object());
}

TEST(views, subsystems_keep_config_order) {
  platform_view view;
  for (const char* name : {"zeta", "alpha", "mid"}) {
    subsystem_view s;
    s.name = name;
    view.subsystems.push_back(s);
  }
  const auto json = health_json(view, "x");
  std::vector<std::string> order;
  for (const auto& [name, value] : json["subsystems"].items())
    order.push_back(name);
  EXPECT_EQ(order, (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

TEST(views, breaker_document_has_every_field) {
  breaker_snapshot b;
  b.name = "database";
  b.state = breaker_state::open;
  b.failure_count = 5;
  b.failure_threshold = 5;
  b.recovery_timeout_s = 60;
  b.current_recovery_timeout_s = 120;
  b.opened_at = at(7, 1, 0);
  b.next_attempt_at = at(7, 3, 0);
  b.last_failure_at = at(7, 1, 0);
  b.last_failure = "connect: Connection refused";
  b.times_opened = 2;
  b.successes = 120;
  b.failures = 3;
  b.rejected = 7;
  breaker_snapshot closed;
  closed.name = "redis";
  const auto json = breakers_json({b, closed});
  EXPECT_EQ(json["circuit_breakers"]["database"].dump(),
            R"({"state":"open","failure_count":5,"failure_threshold":5,"recovery_timeout_s":60,)"
            R"("current_recovery_timeout_s":120,"opened_at":"2026-11-28T07:01:00.000Z",)"
            R"("next_attempt_at":"2026-11-28T07:03:00.000Z","last_failure_at":"2026-11-28T07:01:00.000Z",)"
            R"("last_failure":"connect: Connection refused","times_opened":2,"successes":120,"failures":3,)"
            R"("rejected":7})");
  const auto& r = json["circuit_breakers"]["redis"];
  EXPECT_EQ(r["state"], "closed");
  EXPECT_TRUE(r["opened_at"].is_null());
  EXPECT_TRUE(r["next_attempt_at"].is_null());
  EXPECT_TRUE(r["last_failure_at"].is_null());
  EXPECT_TRUE(r["last_failure"].is_null());
}

healing_entry entry(std::uint64_t id) {
  healing_entry e;
  e.id = id;
  e.timestamp = at(7, 2, 0);
  e.subsystem = "redis";
  e.action = "exec:restart-redis";
  e.trigger = heal_trigger::automatic;
  e.result = heal_result::success;
  e.detail = "restarted";
  e.platform_status = health_status::degraded;
  return e;
}

TEST(views, healing_log_document_lists_entries_as_given) {
  const auto json = healing_log_json(200, {entry(17), entry(16)});
  EXPECT_EQ(json["capacity"], 200);
  ASSERT_EQ(json["entries"].size(), 2U);
  EXPECT_EQ(
      json["entries"][0].dump(),
      R"({"id":17,"timestamp":"2026-11-28T07:02:00.000Z","subsystem":"redis","action":"exec:restart-redis",)"
      R"("trigger":"auto","result":"success","verification":null,"detail":"restarted","platform_status":"degraded"})");
  EXPECT_EQ(json["entries"][1]["id"], 16);
}

TEST(views, healing_log_document_shows_passed_and_failed_verifications) {
  auto passed = entry(17);
  passed.verification = verification_result::passed;
  auto failed = entry(16);
  failed.result = heal_result::failure;
  failed.verification = verification_result::failed;
  const auto json = healing_log_json(200, {passed, failed});
  EXPECT_EQ(json["entries"][0]["verification"], "passed");
  EXPECT_EQ(json["entries"][1]["verification"], "failed");
  EXPECT_EQ(json["entries"][1]["result"], "failure");
}

TEST(views, heal_done_document_carries_result_entries_and_status) {
  manual_heal_done done;
  done.subsystem = "redis";
  done.result = heal_result::failure;
  done.entries = {entry(3)};
  done.entries[0].result = heal_result::failure;
  done.entries[0].verification = verification_result::failed;
  done.status = health_status::critical;
  const auto json = heal_done_json(done);
  EXPECT_EQ(json["subsystem"], "redis");
  EXPECT_EQ(json["result"], "failure");
  EXPECT_EQ(json["status"], "critical");
  ASSERT_EQ(json["entries"].size(), 1U);
  EXPECT_EQ(json["entries"][0]["id"], 3);
  EXPECT_EQ(json["entries"][0]["verification"], "failed");
}

TEST(views, subsystem_detail_adds_identity_and_history) {
  subsystem_view s;
  s.name = "redis";
  s.description = "Redis cache";
  s.depends_on = {"database"};
  probe_sample sample;
  sample.at = at(7, 5, 0);
  sample.status = probe_status::degraded;
  sample.latency_ms = 12.3456;
  sample.message = "slow";
  const auto json = subsystem_detail_json(s, {sample});
  EXPECT_EQ(json["name"], "redis");
  EXPECT_EQ(json["description"], "Redis cache");
  EXPECT_EQ(json["depends_on"], nlohmann::ordered_json::array({"database"}));
  EXPECT_EQ(json["history"][0].dump(),
            R"({"at":"2026-11-28T07:05:00.000Z","status":"degraded","latency_ms":12.346,"message":"slow"})");
  EXPECT_EQ(json["status"], "pending");
  EXPECT_EQ(json["last_hour"].dump(), R"({"probes":0,"passed":0,"availability":null,"p50_ms":null,"p95_ms":null})");
}

TEST(views, subsystem_detail_shows_last_hour_statistics) {
  subsystem_view s;
  s.name = "database";
  s.last_hour = {60, 57, 0.95, 1.25, 40.0};
  const auto json = subsystem_detail_json(s, {});
  EXPECT_EQ(json["last_hour"].dump(), R"({"probes":60,"passed":57,"availability":0.95,"p50_ms":1.25,"p95_ms":40})");
}

TEST(views, healing_entry_has_the_audit_file_values_in_documented_order) {
  auto e = entry(9);
  e.verification = verification_result::passed;
  const auto api = healing_entry_json(e);
  EXPECT_EQ(nlohmann::json(api), to_json(e));  // same members and values as the audit file's shape
  std::vector<std::string> keys;
  for (const auto& [key, value] : api.items())
    keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "timestamp", "subsystem", "action", "trigger", "result",
                                            "verification", "detail", "platform_status"}));
}

}  // namespace
}  // namespace healthd::api
