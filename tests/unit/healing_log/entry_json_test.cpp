#include "healthd/healing_log/entry_json.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace healthd {
namespace {

healing_entry verified_entry(std::optional<verification_result> verification) {
  healing_entry e;
  e.id = 7;
  e.timestamp = wall_time{std::chrono::sys_days{std::chrono::year{2026} / 1 / 2}};
  e.subsystem = "redis";
  e.action = "exec:restart-redis";
  e.trigger = heal_trigger::automatic;
  e.result = verification == verification_result::failed ? heal_result::failure : heal_result::success;
  e.verification = verification;
  e.detail = "exit 0";
  e.platform_status = health_status::degraded;
  return e;
}

// An audit line as written before entries had a `verification` member.
constexpr const char* old_line = R"({"id":3,"timestamp":"2026-01-02T00:00:00.000Z","subsystem":"redis",)"
                                 R"("action":"reconnect","trigger":"auto","result":"success",)"
                                 R"("detail":"reconnected; verification passed","platform_status":"degraded"})";

TEST(entry_json, round_trips_and_rejects_bad_fields) {
  healing_entry e;
  e.id = 7;
  e.timestamp = wall_time{std::chrono::sys_days{std::chrono::year{2026} / 1 / 2}};
  e.subsystem = "database";
  e.action = "recovered";
  e.trigger = heal_trigger::manual;
  e.result = heal_result::skipped;
  e.detail = "dry run";
  e.platform_status = health_status::recovering;
  const auto j = to_json(e);
  EXPECT_EQ(j["trigger"], "manual");
  EXPECT_EQ(j["timestamp"], "2026-01-02T00:00:00.000Z");
  EXPECT_EQ(entry_from_json(j), e);

  std::string error;
  auto bad = j;
  bad["result"] = "ok";
  EXPECT_FALSE(entry_from_json(bad, &error).has_value());
  EXPECT_NE(error.find("result"), std::string::npos);
  bad = j;
  bad["id"] = -1;
  EXPECT_FALSE(entry_from_json(bad, &error).has_value());
  EXPECT_FALSE(entry_from_json(nlohmann::json::array(), &error).has_value());
}

TEST(entry_json, passed_verification_is_written_and_read_back) {
  const auto e = verified_entry(verification_result::passed);
  const auto j = to_json(e);
  EXPECT_EQ(j.at("verification"), "passed");
  EXPECT_EQ(entry_from_json(j), e);
}

TEST(entry_json, failed_verification_is_written_and_read_back) {
  const auto e = verified_entry(verification_result::failed);
  const auto j = to_json(e);
  EXPECT_EQ(j.at("verification"), "failed");
  EXPECT_EQ(entry_from_json(j), e);
}

TEST(entry_json, no_verification_is_written_as_null_and_read_back) {
  const auto e = verified_entry(std::nullopt);
  const auto j = to_json(e);
  ASSERT_TRUE(j.contains("verification"));
  EXPECT_TRUE(j.at("verification").is_null());
  const auto back = entry_from_json(j);
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->verification.has_value());
  EXPECT_EQ(back, e);
}

TEST(entry_json, verification_is_part_of_equality) {
  EXPECT_NE(verified_entry(verification_result::passed), verified_entry(std::nullopt));
  auto passed = verified_entry(verification_result::passed);
  auto failed = passed;
  failed.verification = verification_result::failed;
  EXPECT_NE(passed, failed);
}

TEST(entry_json, line_without_verification_from_an_older_version_reads_as_null) {
  std::string error;
  const auto e = entry_from_json(nlohmann::json::parse(old_line), &error);
  ASSERT_TRUE(e.has_value()) << error;
  EXPECT_EQ(e->id, 3U);
  EXPECT_EQ(e->result, heal_result::success);
  EXPECT_FALSE(e->verification.has_value());
}

TEST(entry_json, bad_verification_value_is_an_error_naming_the_field) {
  const auto j = to_json(verified_entry(verification_result::passed));
  for (const auto& value : {nlohmann::json("ok"), nlohmann::json("PASSED"), nlohmann::json(true), nlohmann::json(1),
                            nlohmann::json::object(), nlohmann::json::array()}) {
    auto bad = j;
    bad["verification"] = value;
    std::string error;
    EXPECT_FALSE(entry_from_json(bad, &error).has_value()) << value.dump();
    EXPECT_NE(error.find("verification"), std::string::npos) << value.dump() << ": " << error;
  }
}

TEST(entry_json, verification_wire_names_round_trip) {
  for (auto v : {verification_result::passed, verification_result::failed}) {
    EXPECT_EQ(parse_verification_result(to_string(v)), v);
  }
  EXPECT_EQ(to_string(verification_result::passed), "passed");
  EXPECT_EQ(to_string(verification_result::failed), "failed");
  EXPECT_FALSE(parse_verification_result("").has_value());
  EXPECT_FALSE(parse_verification_result("null").has_value());
}

}  // namespace
}  // namespace healthd
