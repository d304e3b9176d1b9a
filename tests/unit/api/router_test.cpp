#include "healthd/api/router.hpp"

#include "support/manual_clock.hpp"
#include "unit/api/api_test_platform.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

namespace healthd::api {
namespace {

using namespace std::chrono_literals;
using test::api_test_platform;

constexpr const char* token = "let-me-heal";

http_request make(std::string method, std::string target, std::vector<http_header> headers = {},
                  std::string body = {}) {
  return {std::move(method), std::move(target), std::move(headers), std::move(body)};
}

// Runs the router's coroutine to completion on a private io_context: no sockets, no threads.
http_response call(router& r, http_request request) {
  boost::asio::io_context io;
  std::optional<http_response> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, r.handle(std::move(request)), [&](std::exception_ptr e, http_response response) {
    error = std::move(e);
    out = std::move(response);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

nlohmann::json body_of(const http_response& r) { return r.body ? nlohmann::json::parse(*r.body) : nlohmann::json(); }

std::string error_code(const http_response& r) { return body_of(r)["error"]["code"].get<std::string>(); }

class router_test : public ::testing::Test {
protected:
  http_response get(const std::string& target, std::vector<http_header> headers = {}) {
    return call(router_, make("GET", target, std::move(headers)));
  }
  http_response heal(const std::string& subsystem, std::vector<http_header> headers, std::string body = {}) {
    return call(router_, make("POST", "/api/v1/platform/heal/" + subsystem, std::move(headers), std::move(body)));
  }
  static std::vector<http_header> bearer(const std::string& t = token) { return {{"Authorization", "Bearer " + t}}; }

  api_test_platform platform_;
  router router_{platform_.context(), {.admin_token = token, .cors_origins = {"https://ops.example.com"}}};
};

TEST_F(router_test, health_answers_json_no_store_with_etag) {
  const auto r = get("/api/v1/platform/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  ASSERT_TRUE(r.header("ETag").has_value());
  const auto json = body_of(r);
  EXPECT_EQ(json["status"], "pending");
  EXPECT_TRUE(json["checked_at"].is_null());
  EXPECT_EQ(json["subsystems"].size(), 3U);
  EXPECT_EQ(json["subsystems"]["redis"]["status"], "pending");
  EXPECT_EQ(json["subsystems"]["redis"]["breaker"], "redis");
  EXPECT_EQ(json["subsystems"]["redis"]["breaker_state"], "closed");
  EXPECT_TRUE(json["subsystems"]["websocket"]["breaker"].is_null());
  EXPECT_TRUE(json["subsystems"]["websocket"]["breaker_state"].is_null());
  EXPECT_EQ(json["summary"]["pending"], 3);
  EXPECT_FALSE(json["version"].get<std::string>().empty());
  EXPECT_EQ(r.route, "/api/v1/platform/health");
}

TEST_F(router_test, if_none_match_with_current_tag_gives_304_without_body) {
  const auto first = get("/api/v1/platform/health");
  const auto again = get("/api/v1/platform/health", {{"If-None-Match", std::string(*first.header("ETag"))}});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body_size(), 0U);
  EXPECT_EQ(again.header("ETag"), first.header("ETag"));
  EXPECT_EQ(get("/api/v1/platform/health", {{"If-None-Match", "\"stale\""}}).status, 200);
}

TEST_F(router_test, state_change_gives_a_new_tag_and_document) {
  const auto before = get("/api/v1/platform/health");
  platform_.probe("database", probe_status::healthy, 3.25);
  const auto after = get("/api/v1/platform/health", {{"If-None-Match", std::string(*before.header("ETag"))}});
  EXPECT_EQ(after.status, 200);
  EXPECT_NE(after.header("ETag"), before.header("ETag"));
  const auto json = body_of(after);
  EXPECT_EQ(json["subsystems"]["database"]["status"], "healthy");
  EXPECT_EQ(json["subsystems"]["database"]["latency_ms"], 3.25);
  EXPECT_FALSE(json["checked_at"].is_null());
}

TEST_F(router_test, documents_render_once_per_state_change) {
  for (int i = 0; i < 50; ++i)
    (void)get("/api/v1/platform/health");
  EXPECT_EQ(router_.renders_for_test(), 1U);
  const auto a = get("/api/v1/platform/health");
  const auto b = get("/api/v1/platform/health");
  EXPECT_EQ(a.body, b.body);  // the very same cached bytes
  platform_.probe("redis", probe_status::critical);
  (void)get("/api/v1/platform/health");
  (void)get("/api/v1/platform/health");
  EXPECT_EQ(router_.renders_for_test(), 2U);
}

TEST_F(router_test, polling_unchanged_state_copies_no_breaker_snapshot) {
  const auto& breakers = *platform_.breakers;
  (void)get("/api/v1/platform/health");
  (void)get("/api/v1/platform/circuit-breakers");
  const auto renders = router_.renders_for_test();
  const auto copies = breakers.snapshot_copies_for_test();
  for (int i = 0; i < 20; ++i) {
    (void)get("/api/v1/platform/health");
    (void)get("/api/v1/platform/circuit-breakers");
    (void)get("/api/v1/platform/subsystems/redis");
  }
  const auto subsystem_renders = 1U;
  EXPECT_EQ(router_.renders_for_test(), renders + subsystem_renders);
  // Only the one render of the subsystem document looked at the breakers; the 60 cache hits did not.
  EXPECT_LE(breakers.snapshot_copies_for_test() - copies, 2U) << "the state version copies snapshots per request";
}

TEST_F(router_test, breaker_transition_and_probe_result_each_re_render) {
  const auto first = get("/api/v1/platform/health");
  const auto version = platform_.state.version();
  auto redis = platform_.breakers->find("redis");
  ASSERT_TRUE(redis);
  ASSERT_TRUE(redis->force_open(platform_.clock.now()).has_value());
  EXPECT_NE(platform_.state.version(), version);
  const auto opened = get("/api/v1/platform/health");
  EXPECT_NE(opened.header("ETag"), first.header("ETag"));
  EXPECT_EQ(body_of(opened)["subsystems"]["redis"]["breaker_state"], "open");
  EXPECT_EQ(router_.renders_for_test(), 2U);
  const auto before_probe = platform_.state.version();
  platform_.probe("websocket", probe_status::healthy);
  EXPECT_NE(platform_.state.version(), before_probe);
  const auto probed = get("/api/v1/platform/health");
  EXPECT_EQ(body_of(probed)["subsystems"]["websocket"]["status"], "healthy");
  EXPECT_EQ(router_.renders_for_test(), 3U);
  // A breaker's counters are shown too: a success that moves no state still re-renders /circuit-breakers.
  (void)get("/api/v1/platform/circuit-breakers");
  const auto ticket = redis->allow(platform_.clock.now());
  (void)ticket;
  (void)get("/api/v1/platform/circuit-breakers");
  EXPECT_EQ(router_.renders_for_test(), 5U);
}

TEST_F(router_test, circuit_breakers_lists_every_breaker) {
  const auto r = get("/api/v1/platform/circuit-breakers");
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.header("ETag").has_value());
  const auto json = body_of(r)["circuit_breakers"];
  ASSERT_EQ(json.size(), 2U);
  EXPECT_EQ(json["database"]["state"], "closed");
  EXPECT_EQ(json["redis"]["failure_threshold"], 2);
  EXPECT_TRUE(json["redis"]["opened_at"].is_null());
  EXPECT_EQ(get("/api/v1/platform/circuit-breakers", {{"If-None-Match", std::string(*r.header("ETag"))}}).status, 304);
}

TEST_F(router_test, breaker_change_invalidates_the_breaker_document) {
  const auto before = get("/api/v1/platform/circuit-breakers");
  platform_.breakers->find("redis")->force_open(platform_.clock.now());
  const auto after = get("/api/v1/platform/circuit-breakers", {{"If-None-Match", std::string(*before.header("ETag"))}});
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(body_of(after)["circuit_breakers"]["redis"]["state"], "open");
}

void add_entries(api_test_platform& p, int n) {
  for (int i = 0; i < n; ++i) {
    healing_entry e;
    e.subsystem = i % 2 == 0 ? "redis" : "database";
    e.action = "reconnect";
    p.log.append(e);
  }
}

TEST_F(router_test, healing_log_is_newest_first_with_default_limit) {
  add_entries(platform_, 5);
  const auto r = get("/api/v1/platform/healing-log");
  EXPECT_EQ(r.status, 200);
  const auto json = body_of(r);
  EXPECT_EQ(json["capacity"], 20);
  ASSERT_EQ(json["entries"].size(), 5U);
  EXPECT_EQ(json["entries"][0]["id"], 5);
  EXPECT_EQ(json["entries"][4]["id"], 1);
}

TEST_F(router_test, healing_log_filters_by_subsystem_since_id_and_limit) {
  add_entries(platform_, 10);
  auto json = body_of(get("/api/v1/platform/healing-log?subsystem=redis&limit=2"));
  ASSERT_EQ(json["entries"].size(), 2U);
  EXPECT_EQ(json["entries"][0]["id"], 9);
  EXPECT_EQ(json["entries"][1]["id"], 7);
  json = body_of(get("/api/v1/platform/healing-log?since_id=8"));
  ASSERT_EQ(json["entries"].size(), 2U);
  EXPECT_EQ(json["entries"][1]["id"], 9);
}

TEST_F(router_test, healing_log_shows_each_entrys_verification_or_null) {
  for (const auto verification : {std::optional{verification_result::passed},
                                  std::optional{verification_result::failed}, std::optional<verification_result>{}}) {
    healing_entry e;
    e.subsystem = "redis";
    e.action = "reconnect";
    e.result = verification == verification_result::passed ? heal_result::success : heal_result::failure;
    e.verification = verification;
    platform_.log.append(e);
  }
  const auto json = body_of(get("/api/v1/platform/healing-log"));
  ASSERT_EQ(json["entries"].size(), 3U);
  EXPECT_TRUE(json["entries"][0].contains("verification"));
  EXPECT_TRUE(json["entries"][0]["verification"].is_null());
  EXPECT_EQ(json["entries"][1]["verification"], "failed");
  EXPECT_EQ(json["entries"][1]["result"], "failure");
  EXPECT_EQ(json["entries"][2]["verification"], "passed");
  EXPECT_EQ(json["entries"][2]["result"], "success");
}

TEST_F(router_test, healing_log_limit_is_clamped_to_capacity) {
  add_entries(platform_, 25);
  const auto json = body_of(get("/api/v1/platform/healing-log?limit=1000"));
  EXPECT_EQ(json["entries"].size(), 20U);
}

TEST_F(router_test, healing_log_rejects_non_numeric_or_non_positive_parameters) {
  for (const char* query : {"limit=0", "limit=-1", "limit=abc", "limit=", "limit=1.5", "limit=%2B5", "since_id=0",
                            "since_id=x", "limit=99999999999999999999", "subsystem="}) {
    const auto r = get(std::string("/api/v1/platform/healing-log?") + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(error_code(r), "bad_request") << query;
  }
}

TEST_F(router_test, healing_log_document_changes_when_an_entry_is_added) {
  const auto before = get("/api/v1/platform/healing-log");
  EXPECT_EQ(get("/api/v1/platform/healing-log", {{"If-None-Match", std::string(*before.header("ETag"))}}).status, 304);
  add_entries(platform_, 1);
  EXPECT_EQ(get("/api/v1/platform/healing-log", {{"If-None-Match", std::string(*before.header("ETag"))}}).status, 200);
}

TEST_F(router_test, subsystem_shows_view_and_history) {
  platform_.probe("redis", probe_status::healthy, 1.0, "PONG");
  platform_.clock.advance(1s);
  platform_.probe("redis", probe_status::critical, 2000, "timeout");
  const auto r = get("/api/v1/platform/subsystems/redis");
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.header("ETag").has_value());
  const auto json = body_of(r);
  EXPECT_EQ(json["name"], "redis");
  EXPECT_EQ(json["description"], "Redis cache");
  EXPECT_EQ(json["depends_on"], nlohmann::json::array({"database"}));
  EXPECT_EQ(json["consecutive_failures"], 1);
  ASSERT_EQ(json["history"].size(), 2U);
  EXPECT_EQ(json["history"][0]["message"], "PONG");
  EXPECT_EQ(json["history"][1]["status"], "critical");
}

// Probe results, log entries and heal answers are made valid UTF-8 where their text enters the daemon; one that
// slips past (here put straight into the state) must still render, with U+FFFD for the bad bytes.
TEST_F(router_test, invalid_utf8_in_state_still_renders_with_replacement_characters) {
  probe_result result;
  result.status = probe_status::critical;
  result.message = "bad \xFF\xFE";
  result.details = {{"stderr", "cut \xE2\x82"}, {"key \xC0", 1}};
  platform_.state.record_probe("redis", result, platform_.clock.now().wall);

  const auto health = get("/api/v1/platform/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(body_of(health)["subsystems"]["redis"]["message"], "bad \uFFFD\uFFFD");

  const auto detail = get("/api/v1/platform/subsystems/redis");
  ASSERT_EQ(detail.status, 200);
  const auto json = body_of(detail);
  EXPECT_EQ(json["message"], "bad \uFFFD\uFFFD");
  EXPECT_EQ(json["details"]["stderr"], "cut \uFFFD");
  EXPECT_EQ(json["details"]["key \uFFFD"], 1);
  ASSERT_EQ(json["history"].size(), 1U);
  EXPECT_EQ(json["history"][0]["message"], "bad \uFFFD\uFFFD");
}

TEST_F(router_test, invalid_utf8_in_the_healing_log_and_heal_answers_still_renders) {
  healing_entry entry;
  entry.subsystem = "redis";
  entry.action = "exec:restart";
  entry.detail = "exit 1: \xFF";
  platform_.log.append(entry);
  const auto log = get("/api/v1/platform/healing-log");
  ASSERT_EQ(log.status, 200);
  EXPECT_EQ(body_of(log)["entries"][0]["detail"], "exit 1: \uFFFD");

  platform_.heal.set_answer([&](const manual_heal_request& request) -> manual_heal_outcome {
    manual_heal_done done;
    done.subsystem = request.subsystem;
    done.result = heal_result::failure;
    done.entries = {platform_.log.append(entry)};
    done.status = health_status::critical;
    return done;
  });
  const auto healed = heal("redis", bearer());
  ASSERT_EQ(healed.status, 200);
  EXPECT_EQ(body_of(healed)["entries"][0]["detail"], "exit 1: \uFFFD");

  platform_.heal.set_answer([](const manual_heal_request&) -> manual_heal_outcome {
    manual_heal_refused refused;
    refused.reason = heal_refusal::heal_in_progress;
    refused.message = "busy \xFF";
    return refused;
  });
  const auto refused = heal("redis", bearer());
  ASSERT_EQ(refused.status, 409);
  EXPECT_EQ(body_of(refused)["error"]["message"], "busy \uFFFD");
}

TEST_F(router_test, unknown_subsystem_is_404) {
  const auto r = get("/api/v1/platform/subsystems/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
}

TEST_F(router_test, unknown_paths_are_404_with_error_shape) {
  for (const char* target :
       {"/api/v1/platform/nope", "/api/v1/platform", "/api/v1/platform/health/", "/api/v2/x", "/nothing-here.js"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(error_code(r), "not_found") << target;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
  }
}

TEST(router_heal_deadline, is_the_longest_action_plus_the_probe_plus_the_margin) {
  config::subsystem_config s;
  s.probe.timeout_ms = 2000;
  EXPECT_EQ(heal_deadline(s, 2000ms), 4000ms);
  config::action_config quick;
  quick.timeout_ms = 500;
  config::action_config slow;
  slow.timeout_ms = 30000;
  s.heal.actions = {quick, slow};
  EXPECT_EQ(heal_deadline(s, 2000ms), 34000ms);
}

// A heal slower than its deadline: 504 heal_timeout with the entries written so far; the heal is not cancelled
// and its final entry reaches the log.
TEST(router_heal_deadline, slow_heal_answers_504_with_the_entries_so_far_and_goes_on) {
  auto c = test::api_test_config();
  c.subsystems[1].probe.timeout_ms = 10;
  config::action_config action;
  action.type = "exec";
  action.timeout_ms = 10;
  action.options = config::exec_action{{"sleep", "5"}, {}};
  c.subsystems[1].heal.actions = {action};
  api_test_platform platform(c);
  router r(platform.context(), {.admin_token = token, .heal_deadline_margin = 30ms});
  healing_entry early;
  early.subsystem = "redis";
  early.action = "exec";
  early.trigger = heal_trigger::manual;
  early.result = heal_result::failure;
  platform.heal.set_on_start([&](const manual_heal_request&) { (void)platform.log.append(early); });
  platform.heal.set_delay(300ms);
  // call() runs the io_context until everything on it ended: the heal too, after the 504 was produced.
  const auto response = call(r, make("POST", "/api/v1/platform/heal/redis", {{"Authorization", "Bearer let-me-heal"}}));
  EXPECT_EQ(response.status, 504);
  EXPECT_EQ(error_code(response), "heal_timeout");
  EXPECT_EQ(body_of(response)["error"]["entry_ids"], nlohmann::json::array({1}));
  EXPECT_EQ(response.route, "/api/v1/platform/heal/{subsystem}");
  EXPECT_EQ(platform.heal.finished, 1);
  EXPECT_EQ(platform.log.last_id(), 2U) << "the heal's own entry, written after the 504";
}

TEST(router_heal_deadline, router_may_go_away_while_the_timed_out_heal_goes_on) {
  auto c = test::api_test_config();
  c.subsystems[1].probe.timeout_ms = 10;
  api_test_platform platform(c);
  auto r =
      std::make_unique<router>(platform.context(), router_options{.admin_token = token, .heal_deadline_margin = 10ms});
  platform.heal.set_delay(200ms);
  boost::asio::io_context io;
  std::optional<http_response> out;
  boost::asio::co_spawn(
      io, r->handle(make("POST", "/api/v1/platform/heal/redis", {{"Authorization", "Bearer let-me-heal"}})),
      [&](const std::exception_ptr&, http_response response) { out = std::move(response); });
  while (!out && io.run_one() > 0) {
  }
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, 504);
  EXPECT_EQ(platform.heal.finished, 0);
  r.reset();  // the heal must hold nothing of the router (the sanitizer builds catch a use after free)
  io.run();
  EXPECT_EQ(platform.heal.finished, 1);
  EXPECT_EQ(platform.log.last_id(), 1U);
}

TEST(router_heal_deadline, heal_within_its_deadline_answers_200) {
  api_test_platform platform;
  router r(platform.context(), {.admin_token = token, .heal_deadline_margin = 5000ms});
  platform.heal.set_delay(20ms);
  const auto response = call(r, make("POST", "/api/v1/platform/heal/redis", {{"Authorization", "Bearer let-me-heal"}}));
  EXPECT_EQ(response.status, 200);
}

TEST_F(router_test, unknown_paths_are_404_and_allow_comes_from_the_route_table) {
  EXPECT_EQ(get("/api/v1/platform/nope").status, 404);
  EXPECT_EQ(get("/api/v1/platform/subsystems/").status, 404);
  EXPECT_EQ(get("/api/v1/platform/subsystems/redis/extra").status, 404);
  EXPECT_EQ(get("/api/v1/platformx").status, 404);
  const auto r = call(router_, make("DELETE", "/metrics"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(r.route, "/metrics");
  const auto heal = call(router_, make("GET", "/api/v1/platform/heal/redis"));
  EXPECT_EQ(heal.status, 405);
  EXPECT_EQ(heal.header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(heal.route, "/api/v1/platform/heal/{subsystem}");
}

TEST_F(router_test, wrong_method_is_405_with_allow) {
  auto r = call(router_, make("POST", "/api/v1/platform/health"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(error_code(r), "method_not_allowed");
  r = call(router_, make("DELETE", "/metrics"));
  EXPECT_EQ(r.status, 405);
  r = get("/api/v1/platform/heal/redis");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "POST, OPTIONS");
}

TEST_F(router_test, malformed_target_is_400) {
  EXPECT_EQ(get("/x?a=%zz").status, 400);
  EXPECT_EQ(get("http://example.com/").status, 400);
}

TEST_F(router_test, head_answers_like_get_without_body) {
  const auto r = call(router_, make("HEAD", "/api/v1/platform/health"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.omit_body);
  EXPECT_GT(r.body_size(), 0U);  // the server sends its Content-Length
}

TEST_F(router_test, livez_is_always_200) {
  const auto r = get("/livez");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["status"], "alive");
}

TEST_F(router_test, readyz_is_503_until_every_subsystem_has_a_result) {
  auto r = get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_code(r), "not_ready");
  platform_.probe("database", probe_status::healthy);
  platform_.probe("redis", probe_status::critical);
  EXPECT_EQ(get("/readyz").status, 503);
  platform_.probe("websocket", probe_status::degraded);
  r = get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["status"], "ready");
}

TEST_F(router_test, metrics_is_prometheus_text) {
  platform_.probe_all_healthy();
  platform_.metrics.record_request("/livez", 200);
  platform_.daemon.audit_write_failures = 2;
  const auto r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  ASSERT_TRUE(r.body);
  EXPECT_NE(r.body->find("healthd_platform_status{status=\"healthy\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body->find("healthd_http_requests_total{route=\"/livez\",code=\"200\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body->find("healthd_breaker_state{breaker=\"redis\",state=\"closed\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body->find("healthd_audit_write_failures_total 2\n"), std::string::npos);
}

// ---- POST /heal ------------------------------------------------------------------------------------------------

TEST_F(router_test, heal_without_token_is_401_with_www_authenticate) {
  const auto r = heal("redis", {});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "unauthorized");
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"platform-healthd\"");
  EXPECT_EQ(platform_.heal.started, 0);
}

TEST_F(router_test, heal_with_wrong_token_is_403) {
  const auto r = heal("redis", bearer("guess"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "forbidden");
  EXPECT_EQ(r.body->find("guess"), std::string::npos);
  EXPECT_EQ(r.body->find(token), std::string::npos);
}

TEST_F(router_test, heal_with_no_token_configured_is_disabled) {
  router disabled(platform_.context(), {});
  const auto r = call(disabled, make("POST", "/api/v1/platform/heal/redis", bearer()));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body_of(r)["error"]["message"], "admin endpoint disabled");
  EXPECT_EQ(platform_.heal.started, 0);
}

TEST_F(router_test, heal_with_right_token_answers_the_entries_it_created) {
  const auto r = heal("redis", bearer(), R"({"reason":"ticket 42"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  const auto json = body_of(r);
  EXPECT_EQ(json["subsystem"], "redis");
  EXPECT_EQ(json["result"], "success");
  EXPECT_EQ(json["status"], "healthy");
  ASSERT_EQ(json["entries"].size(), 1U);
  EXPECT_EQ(json["entries"][0]["trigger"], "manual");
  EXPECT_EQ(json["entries"][0]["detail"], "ticket 42");
  EXPECT_EQ(platform_.heal.finished, 1);
  EXPECT_EQ(r.route, "/api/v1/platform/heal/{subsystem}");
}

TEST_F(router_test, heal_body_is_optional) {
  EXPECT_EQ(heal("redis", bearer()).status, 200);
  EXPECT_EQ(heal("redis", bearer(), "  \n").status, 200);
  EXPECT_EQ(heal("redis", bearer(), "{}").status, 200);
}

TEST_F(router_test, heal_with_malformed_body_is_400) {
  for (const char* body : {"{", "[]", "\"x\"", R"({"reason":5})", R"({"why":"x"})", R"({"reason":"a","x":1})"}) {
    const auto r = heal("redis", bearer(), body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(error_code(r), "bad_request") << body;
  }
  EXPECT_EQ(heal("redis", bearer(), R"({"reason":")" + std::string(1001, 'x') + "\"}").status, 400);
  EXPECT_EQ(platform_.heal.started, 0);
}

TEST_F(router_test, heal_of_unknown_subsystem_is_404) {
  const auto r = heal("nope", bearer());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  EXPECT_EQ(platform_.heal.started, 0);
}

TEST_F(router_test, heal_auth_comes_before_anything_else) {
  EXPECT_EQ(heal("nope", {}, "{").status, 401);
  EXPECT_EQ(heal("nope", bearer("x"), "{").status, 403);
}

TEST_F(router_test, heal_without_engine_is_503_after_auth) {
  router no_engine(platform_.context(false), {.admin_token = token});
  EXPECT_EQ(call(no_engine, make("POST", "/api/v1/platform/heal/redis")).status, 401);
  const auto r = call(no_engine, make("POST", "/api/v1/platform/heal/redis", bearer()));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_code(r), "engine_unavailable");
}

TEST_F(router_test, eleventh_admin_heal_in_a_minute_is_429_with_retry_after) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(heal("redis", bearer()).status, 200) << i;
    platform_.clock.advance(1s);
  }
  auto r = heal("database", bearer());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(error_code(r), "rate_limited");
  EXPECT_EQ(r.header("Retry-After"), "50");
  EXPECT_EQ(platform_.heal.started, 10);
  platform_.clock.advance(50s);
  EXPECT_EQ(heal("database", bearer()).status, 200);
}

manual_heal_outcome refusal(heal_refusal reason, std::optional<std::chrono::seconds> retry = std::nullopt) {
  return manual_heal_refused{reason, "engine says no", retry};
}

TEST(heal_outcome_response, maps_each_refusal_to_its_status) {
  struct row {
    heal_refusal reason;
    int status;
    std::string code;
  };
  for (const auto& [reason, status, code] : std::vector<row>{
           {heal_refusal::unknown_subsystem, 404, "not_found"},
           {heal_refusal::heal_in_progress, 409, "heal_in_progress"},
           {heal_refusal::dependency_critical, 409, "dependency_critical"},
           {heal_refusal::no_heal_actions, 409, "no_heal_actions"},
           {heal_refusal::platform_cap_full, 503, "platform_cap_full"},
           {heal_refusal::audit_write_failed, 500, "audit_write_failed"},
       }) {
    const auto r = heal_outcome_response(refusal(reason));
    EXPECT_EQ(r.status, status) << code;
    EXPECT_EQ(error_code(r), code);
    EXPECT_EQ(body_of(r)["error"]["message"], "engine says no");
  }
}

TEST(heal_outcome_response, platform_cap_full_always_carries_retry_after) {
  EXPECT_EQ(heal_outcome_response(refusal(heal_refusal::platform_cap_full, 7s)).header("Retry-After"), "7");
  EXPECT_TRUE(heal_outcome_response(refusal(heal_refusal::platform_cap_full)).header("Retry-After").has_value());
  EXPECT_FALSE(heal_outcome_response(refusal(heal_refusal::heal_in_progress)).header("Retry-After").has_value());
}

TEST_F(router_test, heal_answer_shows_a_failed_verification_and_a_failed_result) {
  platform_.heal.set_answer([this](const manual_heal_request& request) {
    healing_entry e;
    e.subsystem = request.subsystem;
    e.action = "exec:restart-redis";
    e.trigger = heal_trigger::manual;
    e.result = heal_result::failure;
    e.verification = verification_result::failed;
    e.detail = "exit 0; verification failed: connect: Connection refused";
    manual_heal_done done;
    done.subsystem = request.subsystem;
    done.result = heal_result::failure;
    done.entries = {platform_.log.append(e)};
    done.status = health_status::critical;
    return manual_heal_outcome{std::move(done)};
  });
  const auto r = heal("redis", bearer());
  ASSERT_EQ(r.status, 200);
  const auto json = body_of(r);
  EXPECT_EQ(json["result"], "failure");
  ASSERT_EQ(json["entries"].size(), 1U);
  EXPECT_EQ(json["entries"][0]["result"], "failure");
  EXPECT_EQ(json["entries"][0]["verification"], "failed");
  // the healing log serves the same entry the same way
  EXPECT_EQ(body_of(get("/api/v1/platform/healing-log"))["entries"][0], json["entries"][0]);
}

TEST_F(router_test, engine_refusal_reaches_the_client) {
  platform_.heal.set_answer([](const manual_heal_request&) {
    return manual_heal_outcome{manual_heal_refused{heal_refusal::heal_in_progress, "redis is being healed", {}}};
  });
  const auto r = heal("redis", bearer());
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_code(r), "heal_in_progress");
  EXPECT_EQ(body_of(r)["error"]["message"], "redis is being healed");
}

// ---- CORS ------------------------------------------------------------------------------------------------------

TEST_F(router_test, allowed_origin_gets_cors_headers) {
  const auto r = get("/api/v1/platform/health", {{"Origin", "https://ops.example.com"}});
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://ops.example.com");
  EXPECT_EQ(r.header("Vary"), "Origin");
}

TEST_F(router_test, other_origins_get_no_cors_headers) {
  const auto r = get("/api/v1/platform/health", {{"Origin", "https://evil.example.com"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value());
}

TEST_F(router_test, preflight_from_allowed_origin_lists_methods_and_headers) {
  const auto r = call(router_, make("OPTIONS", "/api/v1/platform/heal/redis",
                                    {{"Origin", "https://ops.example.com"},
                                     {"Access-Control-Request-Method", "POST"},
                                     {"Access-Control-Request-Headers", "authorization"}}));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://ops.example.com");
  EXPECT_EQ(r.header("Access-Control-Allow-Methods"), "POST, OPTIONS");
  EXPECT_NE(r.header("Access-Control-Allow-Headers")->find("Authorization"), std::string::npos);
}

TEST_F(router_test, preflight_from_other_origin_gets_no_cors_headers) {
  const auto r =
      call(router_, make("OPTIONS", "/api/v1/platform/health",
                         {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "GET"}}));
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value());
  EXPECT_FALSE(r.header("Access-Control-Allow-Methods").has_value());
}

TEST(router_cors, star_allows_every_origin_by_echoing_it) {
  api_test_platform p;
  router r(p.context(), {.cors_origins = {"*"}});
  const auto response = call(r, make("GET", "/livez", {{"Origin", "http://anywhere.example"}}));
  EXPECT_EQ(response.header("Access-Control-Allow-Origin"), "http://anywhere.example");
  EXPECT_EQ(response.header("Vary"), "Origin");
}

TEST(router_cors, without_configured_origins_nothing_is_added) {
  api_test_platform p;
  router r(p.context(), {});
  const auto response = call(r, make("GET", "/livez", {{"Origin", "https://ops.example.com"}}));
  EXPECT_FALSE(response.header("Access-Control-Allow-Origin").has_value());
  EXPECT_FALSE(response.header("Vary").has_value());
}

// ---- static files ----------------------------------------------------------------------------------------------

class router_static_test : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("healthd-router-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_ / "platform-health");
    std::ofstream(dir_ / "platform-health" / "index.html") << "<html>ok</html>";
    std::ofstream(dir_ / "style.css") << "body{}";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  api_test_platform platform_;
};

TEST_F(router_static_test, root_redirects_to_the_dashboard) {
  router r(platform_.context(), {.static_dir = dir_});
  const auto response = call(r, make("GET", "/"));
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.header("Location"), "/platform-health/");
}

TEST_F(router_static_test, files_are_served_with_type_and_etag) {
  router r(platform_.context(), {.static_dir = dir_});
  const auto page = call(r, make("GET", "/platform-health/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(*page.body, "<html>ok</html>");
  const auto css = call(r, make("GET", "/style.css"));
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(call(r, make("GET", "/style.css", {{"If-None-Match", std::string(*css.header("ETag"))}})).status, 304);
  EXPECT_EQ(call(r, make("POST", "/style.css")).status, 405);
  EXPECT_EQ(call(r, make("GET", "/%2e%2e/etc/passwd")).status, 404);
}

// A Location of "//platform-health/" is protocol-relative: the browser would go to the host "platform-health".
TEST_F(router_static_test, redirect_location_is_always_a_path_on_this_host) {
  router r(platform_.context(), {.static_dir = dir_});
  for (const char* target : {"//platform-health", "///platform-health", "/%2Fplatform-health", "/./platform-health"}) {
    const auto response = call(r, make("GET", target));
    if (response.status != 301) continue;  // refused (404) is as good as a safe redirect
    const auto location = std::string(response.header("Location").value_or(""));
    EXPECT_EQ(location, "/platform-health/") << target;
  }
  EXPECT_EQ(call(r, make("GET", "//platform-health")).status, 301);
}

TEST_F(router_static_test, cors_adds_origin_to_the_files_vary_instead_of_replacing_it) {
  std::string css;
  for (int i = 0; i < 100; ++i)
    css += ".panel-" + std::to_string(i % 4) + " { color: var(--status-ok); }\n";
  std::ofstream(dir_ / "theme.css") << css;
  router r(platform_.context(), {.cors_origins = {"https://ops.example.com"}, .static_dir = dir_});
  const auto response = call(r, make("GET", "/theme.css", {{"Accept-Encoding", "gzip"}}));
  EXPECT_EQ(response.header("Content-Encoding"), "gzip");
  EXPECT_EQ(response.header("Vary"), "Accept-Encoding, Origin");
  EXPECT_EQ(call(r, make("GET", "/api/v1/platform/health")).header("Vary"), "Origin");
}

TEST_F(router_static_test, head_of_a_file_has_its_length_and_no_body) {
  router r(platform_.context(), {.static_dir = dir_});
  const auto response = call(r, make("HEAD", "/style.css"));
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.omit_body);
  EXPECT_EQ(response.body_size(), 6U);
}

TEST_F(router_static_test, missing_directory_serves_only_the_api) {
  router r(platform_.context(), {.static_dir = dir_ / "missing"});
  EXPECT_EQ(r.site()->current(), nullptr);
  EXPECT_EQ(call(r, make("GET", "/")).status, 404);
  EXPECT_EQ(call(r, make("GET", "/platform-health/")).status, 404);
  EXPECT_EQ(call(r, make("GET", "/api/v1/platform/health")).status, 200);
}

}  // namespace
}  // namespace healthd::api
