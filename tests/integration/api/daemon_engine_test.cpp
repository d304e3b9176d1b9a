// The real platform-healthd binary with its engine at work, observed only through its HTTP API: SIGHUP reloads
// (valid, invalid, a healing.mode change; what survives a reload and what a removal takes away), the time from `kill
// -9` of Redis to "not healthy" in GET /health with the default 30 s loops, and the daemon's own /metrics checked by
// `promtool check metrics`.

#include "support/daemon_process.hpp"
#include "support/http_test_client.hpp"
#include "support/throwaway_servers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

const fs::path daemon_binary{HEALTHD_DAEMON_PATH};

json get_json(std::uint16_t port, std::string_view target) {
  const auto reply = http_once(port, "GET", target);
  if (reply.status != 200) return json();
  return json::parse(reply.body);
}

std::string metrics_text(std::uint16_t port) { return http_once(port, "GET", "/metrics").body; }

bool has_line(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

// A platform of one subsystem whose probe always fails at once (nothing listens on port 1) and whose heal does
// nothing: with heal.after_failures 1 and no breaker, each failed round is one heal decision of `mode`.
std::string reload_config(std::string_view mode, bool with_queue) {
  std::string text = R"({
  "server": { "listen": "127.0.0.1:1", "static_dir": "/nonexistent/healthd", "admin_token_env": null },
  "loops": { "core": 0.2 },
  "healing": { "mode": ")" +
                     std::string(mode) +
                     R"(" },
  "subsystems": {
    "cache": { "retry_interval_s": 0.1,
               "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1, "timeout_ms": 500 },
               "heal": { "after_failures": 1, "cooldown_s": 0, "max_per_hour": 1000,
                         "actions": [ { "type": "exec", "name": "noop", "argv": ["true"] } ] } })";
  if (with_queue)
    text += R"(,
    "queue": { "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1, "timeout_ms": 500 } })";
  return text + "\n  }\n}\n";
}

void write_file(const fs::path& file, const std::string& text) {
  // Written beside and renamed, as an editor or config manager does, so a reload never reads half a file.
  const auto temp = fs::path(file.string() + ".new");
  std::ofstream(temp) << text;
  fs::rename(temp, file);
}

// The healing-log entries of `cache` with an id above `after_id`, newest first.
json entries_since(std::uint16_t port, std::int64_t after_id) {
  std::string target = "/api/v1/platform/healing-log?subsystem=cache&limit=200";
  if (after_id > 0) target += "&since_id=" + std::to_string(after_id);  // since_id must be positive
  const auto log = get_json(port, target);
  return log.is_null() ? json::array() : log["entries"];
}

std::int64_t newest_id(std::uint16_t port) {
  const auto log = get_json(port, "/api/v1/platform/healing-log?limit=1");
  return log["entries"].empty() ? 0 : log["entries"][0]["id"].get<std::int64_t>();
}

// platform-healthd on a free port with the given config, killed by the destructor unless the test stopped it.
struct live_daemon {
  explicit live_daemon(const std::string& config_text)
      : config(write_config(dir.path() / "config.json", config_text)) {}

  static fs::path write_config(const fs::path& file, const std::string& text) {
    write_file(file, text);
    return file;
  }
  [[nodiscard]] std::string log_text() const { return file_text(log); }

  scratch_dir dir;
  fs::path config;
  fs::path log = dir.path() / "log";
  std::uint16_t port = free_loopback_port();
  daemon_process process{
      daemon_binary, {"--config", config.string(), "--listen", "127.0.0.1:" + std::to_string(port)}, {}, log};
};

TEST(daemon_engine, sighup_applies_a_valid_config_and_keeps_the_running_one_when_invalid) {
  live_daemon d(reload_config("off", false));
  ASSERT_TRUE(eventually_serving(d.port, 20s)) << d.log_text();

  // healing.mode off: the subsystem keeps failing and nothing is healed.
  ASSERT_TRUE(eventually([&] {
    return get_json(d.port, "/api/v1/platform/health")["subsystems"]["cache"]["consecutive_failures"] >= 5;
  })) << d.log_text();
  EXPECT_TRUE(entries_since(d.port, 0).empty());

  // A valid config switches to dry_run: the same decisions are logged as skipped "dry run".
  write_file(d.config, reload_config("dry_run", false));
  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return !entries_since(d.port, 0).empty(); })) << d.log_text();
  const auto dry = entries_since(d.port, 0)[0];
  EXPECT_EQ(dry["result"], "skipped");
  EXPECT_NE(dry["detail"].get<std::string>().find("dry run"), std::string::npos) << dry;
  EXPECT_TRUE(has_line(metrics_text(d.port), R"(healthd_config_reloads_total{result="applied"} 1)"));

  // An invalid config is rejected and the running one (dry_run, one subsystem) kept.
  write_file(d.config, R"({ "healing": { "mode": "sometimes" } })");
  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return has_line(metrics_text(d.port), R"(healthd_config_reloads_total{result="rejected"} 1)");
  })) << d.log_text();
  EXPECT_TRUE(has_line(metrics_text(d.port), "healthd_config_last_reload_successful 0"));
  EXPECT_NE(d.log_text().find("reload rejected"), std::string::npos);
  EXPECT_NE(d.log_text().find("healing.mode"), std::string::npos);
  const auto mark = newest_id(d.port);
  ASSERT_TRUE(eventually([&] { return !entries_since(d.port, mark).empty(); })) << d.log_text();
  for (const auto& e : entries_since(d.port, mark))
    EXPECT_EQ(e["result"], "skipped") << e;
  EXPECT_EQ(get_json(d.port, "/api/v1/platform/health")["subsystems"].size(), 1U);

  // Back to auto with a subsystem added: it appears, and the heal now runs for real.
  write_file(d.config, reload_config("auto", true));
  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return get_json(d.port, "/api/v1/platform/health")["subsystems"].contains("queue"); }))
      << d.log_text();
  const auto auto_mark = newest_id(d.port);
  ASSERT_TRUE(eventually([&] {
    for (const auto& e : entries_since(d.port, auto_mark)) {
      // Ran for real, not skipped (its result follows the verification, which fails here: nothing listens).
      if (e["result"] != "skipped" && e["action"] == "exec:noop") return true;
    }
    return false;
  })) << d.log_text();
  EXPECT_TRUE(has_line(metrics_text(d.port), "healthd_config_last_reload_successful 1"));
  EXPECT_TRUE(has_line(metrics_text(d.port), R"(healthd_config_reloads_total{result="applied"} 2)"));

  d.process.signal(SIGTERM);
  EXPECT_EQ(d.process.wait_exit(10s), 0) << d.log_text();
}

// Three failing subsystems (nothing listens on port 1): `cache` behind a breaker that opens after 2 failures and
// then stays open for 10 minutes (so its state and counters stand still), `queue` without a breaker healed after
// every failure by a two-rung ladder (so its entries keep coming, and once the ladder reached `exec:second` it stays
// there for the episode), and `gone` behind its own breaker, dropped with that breaker when `with_gone` is false.
std::string survival_config(int max_concurrent, int gone_timeout_ms, bool with_gone) {
  std::string text = R"({
  "server": { "listen": "127.0.0.1:1", "static_dir": "/nonexistent/healthd", "admin_token_env": null },
  "loops": { "core": 0.2 },
  "healing": { "mode": "auto", "max_concurrent": )" +
                     std::to_string(max_concurrent) + R"( },
  "healing_log": { "capacity": 1000 },
  "breakers": {
    "cache_breaker": { "failure_threshold": 2, "recovery_timeout_s": 600, "jitter": 0 })";
  if (with_gone)
    text += R"(,
    "gone_breaker": { "failure_threshold": 2, "recovery_timeout_s": 600, "jitter": 0 })";
  text += R"(
  },
  "subsystems": {
    "cache": { "breaker": "cache_breaker", "retry_interval_s": 0.1,
               "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1, "timeout_ms": 500 },
               "heal": { "actions": [ { "type": "exec", "name": "noop", "argv": ["true"] } ] } },
    "queue": { "retry_interval_s": 0.1,
               "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1, "timeout_ms": 500 },
               "heal": { "after_failures": 1, "cooldown_s": 0, "max_per_hour": 1000,
                         "actions": [ { "type": "exec", "name": "first", "argv": ["true"] },
                                      { "type": "exec", "name": "second", "argv": ["true"] } ] } })";
  if (with_gone)
    text += R"(,
    "gone": { "breaker": "gone_breaker", "retry_interval_s": 0.1,
              "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1, "timeout_ms": )" +
            std::to_string(gone_timeout_ms) + R"( } })";
  return text + "\n  }\n}\n";
}

json breakers_of(std::uint16_t port) { return get_json(port, "/api/v1/platform/circuit-breakers")["circuit_breakers"]; }

// Every entry in the log (its capacity is never reached here), newest first.
json all_entries(std::uint16_t port) { return get_json(port, "/api/v1/platform/healing-log?limit=1000")["entries"]; }

// The ids of `entries` (newest first) run down by one to 1: nothing lost, nothing renumbered.
bool ids_run_down_to_one(const json& entries) {
  if (entries.empty()) return false;
  auto expected = entries[0]["id"].get<std::int64_t>();
  for (const auto& e : entries) {
    if (e["id"].get<std::int64_t>() != expected--) return false;
  }
  return expected == 0;
}

std::int64_t newest_id_of(std::uint16_t port, std::string_view subsystem) {
  auto log = get_json(port, "/api/v1/platform/healing-log?limit=1&subsystem=" + std::string(subsystem));
  return log.is_null() || log["entries"].empty() ? 0 : log["entries"][0]["id"].get<std::int64_t>();
}

TEST(daemon_engine, sighup_keeps_breakers_ladders_and_log_and_drops_what_was_removed) {
  live_daemon d(survival_config(2, 500, true));
  ASSERT_TRUE(eventually_serving(d.port, 20s)) << d.log_text();

  // Before any reload: both breakers open (once), cache healed once, queue's ladder on its last rung.
  const auto opened_once = [](const json& b) {
    return b.is_object() && b.value("state", "") == "open" && b.value("times_opened", 0) == 1;
  };
  ASSERT_TRUE(eventually([&] {
    auto b = breakers_of(d.port);
    return !b.is_null() && opened_once(b["cache_breaker"]) && opened_once(b["gone_breaker"]);
  })) << d.log_text();
  ASSERT_TRUE(eventually([&] { return newest_id_of(d.port, "cache") > 0; })) << d.log_text();
  ASSERT_TRUE(eventually([&] {
    auto log = get_json(d.port, "/api/v1/platform/healing-log?limit=1&subsystem=queue");
    return !log.is_null() && !log["entries"].empty() && log["entries"][0]["action"] == "exec:second";
  })) << d.log_text();
  auto cache_before = breakers_of(d.port)["cache_breaker"];
  ASSERT_FALSE(cache_before["opened_at"].is_null()) << cache_before;
  ASSERT_GE(cache_before["failures"].get<std::int64_t>(), 2) << cache_before;
  const auto rejected_before = cache_before["rejected"].get<std::int64_t>();
  auto cache_entry_before = entries_since(d.port, 0)[0];
  auto before_reload = all_entries(d.port);
  ASSERT_TRUE(ids_run_down_to_one(before_reload)) << before_reload;
  const auto mark = before_reload[0]["id"].get<std::int64_t>();

  // A reload that changes things unrelated to cache and queue (the heal cap, gone's probe timeout).
  write_file(d.config, survival_config(3, 400, true));
  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return has_line(metrics_text(d.port), R"(healthd_config_reloads_total{result="applied"} 1)");
  })) << d.log_text();
  // queue heals on after the reload: its entries continue the ids, and its ladder stays on the last rung.
  ASSERT_TRUE(eventually([&] {
    auto log = get_json(d.port, "/api/v1/platform/healing-log?subsystem=queue&since_id=" + std::to_string(mark));
    return !log.is_null() && log["entries"].size() >= 3;
  })) << d.log_text();
  auto after_reload = all_entries(d.port);
  EXPECT_TRUE(ids_run_down_to_one(after_reload)) << after_reload;
  ASSERT_GT(after_reload.size(), before_reload.size());
  // The entries from before the reload are still there, unchanged.
  EXPECT_EQ(after_reload[after_reload.size() - before_reload.size()], before_reload[0]);
  EXPECT_EQ(after_reload[after_reload.size() - 1], before_reload[before_reload.size() - 1]);
  for (const auto& e : after_reload) {
    if (e["id"].get<std::int64_t>() > mark && e["subsystem"] == "queue") {
      EXPECT_EQ(e["action"], "exec:second") << e;
    }
  }
  // cache's breaker was neither reset nor reopened: the same open period and the same counters; cache was not
  // healed again (its only heal came when the breaker opened).
  auto cache_after = breakers_of(d.port)["cache_breaker"];
  EXPECT_EQ(cache_after["state"], "open") << cache_after;
  EXPECT_EQ(cache_after["opened_at"], cache_before["opened_at"]) << cache_after;
  EXPECT_EQ(cache_after["next_attempt_at"], cache_before["next_attempt_at"]) << cache_after;
  EXPECT_EQ(cache_after["times_opened"], cache_before["times_opened"]) << cache_after;
  EXPECT_EQ(cache_after["failures"], cache_before["failures"]) << cache_after;
  EXPECT_EQ(cache_after["successes"], cache_before["successes"]) << cache_after;
  EXPECT_GE(cache_after["rejected"].get<std::int64_t>(), rejected_before) << cache_after;
  EXPECT_EQ(entries_since(d.port, 0).size(), 1U);
  EXPECT_EQ(entries_since(d.port, 0)[0], cache_entry_before);
  EXPECT_EQ(get_json(d.port, "/api/v1/platform/health")["subsystems"]["cache"]["breaker_state"], "open");

  // A reload that removes gone and its breaker: both disappear, the rest stays as it was.
  ASSERT_EQ(http_once(d.port, "GET", "/api/v1/platform/subsystems/gone").status, 200);
  write_file(d.config, survival_config(3, 400, false));
  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return has_line(metrics_text(d.port), R"(healthd_config_reloads_total{result="applied"} 2)");
  })) << d.log_text();
  auto health = get_json(d.port, "/api/v1/platform/health");
  EXPECT_FALSE(health["subsystems"].contains("gone")) << health;
  EXPECT_TRUE(health["subsystems"].contains("cache")) << health;
  EXPECT_TRUE(health["subsystems"].contains("queue")) << health;
  EXPECT_EQ(http_once(d.port, "GET", "/api/v1/platform/subsystems/gone").status, 404);
  auto breakers = breakers_of(d.port);
  EXPECT_FALSE(breakers.contains("gone_breaker")) << breakers;
  ASSERT_TRUE(breakers.contains("cache_breaker")) << breakers;
  EXPECT_EQ(breakers["cache_breaker"]["opened_at"], cache_before["opened_at"]) << breakers;
  EXPECT_EQ(breakers["cache_breaker"]["times_opened"], cache_before["times_opened"]) << breakers;
  EXPECT_EQ(breakers["cache_breaker"]["failures"], cache_before["failures"]) << breakers;
  EXPECT_EQ(metrics_text(d.port).find(R"(breaker="gone_breaker")"), std::string::npos);
  EXPECT_EQ(metrics_text(d.port).find(R"(subsystem="gone")"), std::string::npos);
  const auto final_mark = newest_id(d.port);
  // and the daemon heals on, its ids still running on
  ASSERT_TRUE(eventually([&] { return newest_id(d.port) > final_mark; })) << d.log_text();
  EXPECT_TRUE(ids_run_down_to_one(all_entries(d.port)));

  d.process.signal(SIGTERM);
  EXPECT_EQ(d.process.wait_exit(10s), 0) << d.log_text();
}

// The dashboard is read at start and on SIGHUP only: a file changed on disk is served once the daemon reloads, with
// its new ETag; a reload that is refused (the directory gone) keeps the files being served.
TEST(daemon_engine, sighup_reloads_the_dashboard_and_keeps_it_when_the_reload_is_refused) {
  scratch_dir site;
  const auto site_dir = site.path() / "out";
  fs::create_directories(site_dir / "platform-health");
  write_file(site_dir / "platform-health" / "index.html", "<html>v1</html>");
  auto config = reload_config("off", false);
  const std::string placeholder = R"("static_dir": "/nonexistent/healthd")";
  config.replace(config.find(placeholder), placeholder.size(), R"("static_dir": ")" + site_dir.string() + "\"");
  live_daemon d(config);
  ASSERT_TRUE(eventually_serving(d.port, 20s)) << d.log_text();

  const auto v1 = http_once(d.port, "GET", "/platform-health/");
  ASSERT_EQ(v1.status, 200) << d.log_text();
  EXPECT_EQ(v1.body, "<html>v1</html>");
  write_file(site_dir / "platform-health" / "index.html", "<html>v2</html>");
  EXPECT_EQ(http_once(d.port, "GET", "/platform-health/").body, "<html>v1</html>");  // no read per request

  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return http_once(d.port, "GET", "/platform-health/").body == "<html>v2</html>"; }))
      << d.log_text();
  const auto v2 = http_once(d.port, "GET", "/platform-health/");
  EXPECT_NE(v2.header("ETag"), v1.header("ETag"));
  EXPECT_EQ(http_once(d.port, "GET", "/platform-health/", {{"If-None-Match", *v1.header("ETag")}}).status, 200);
  EXPECT_EQ(http_once(d.port, "GET", "/platform-health/", {{"If-None-Match", *v2.header("ETag")}}).status, 304);

  fs::remove_all(site_dir);
  d.process.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return d.log_text().find("dashboard reload refused") != std::string::npos; }))
      << d.log_text();
  EXPECT_NE(d.log_text().find("still serving the 1 file loaded before"), std::string::npos) << d.log_text();
  EXPECT_EQ(http_once(d.port, "GET", "/platform-health/").body, "<html>v2</html>");
}

TEST(daemon_engine, killed_redis_is_not_healthy_in_the_api_well_before_the_next_tick) {
  become_subreaper();
  throwaway_redis redis;
  redis.start();
  // The default loops: redis is probed every 30 s, so only event-driven detection can see the kill quickly.
  live_daemon d(R"({
  "server": { "listen": "127.0.0.1:1", "static_dir": "/nonexistent/healthd", "admin_token_env": null },
  "breakers": { "redis": {} },
  "subsystems": {
    "redis": { "breaker": "redis", "probe": { "type": "redis", "host": "127.0.0.1", "port": )" +
                std::to_string(redis.port()) + R"(, "timeout_ms": 2000 } }
  }
})");
  ASSERT_TRUE(eventually_serving(d.port, 20s)) << d.log_text();
  const auto redis_status = [&] {
    return get_json(d.port, "/api/v1/platform/health")["subsystems"]["redis"]["status"];
  };
  ASSERT_TRUE(eventually([&] { return redis_status() == "healthy"; })) << d.log_text();
  // Let the first round finish handing the connection back, so the watch is armed as in steady state.
  std::this_thread::sleep_for(300ms);

  const auto killed_at = std::chrono::steady_clock::now();
  redis.kill();
  ASSERT_TRUE(eventually([&] { return redis_status() != "healthy"; }, 15s)) << d.log_text();
  const auto seen = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed_at).count();
  std::printf("[ figure ] kill -9 redis-server -> not healthy in GET /health (30 s loops): %.1f ms\n", seen);
  // Polled every 20 ms; without event-driven detection this takes up to the 30 s loop interval.
  EXPECT_LT(seen, 5000.0);
  EXPECT_TRUE(has_line(metrics_text(d.port), "healthd_connection_watch_wakeups_total 1"));

  d.process.signal(SIGTERM);
  EXPECT_EQ(d.process.wait_exit(10s), 0) << d.log_text();
}

// POST /heal past its deadline through the real engine: the forced heal queues behind a probe round (which the
// probe announces by touching a file), then its verification probe takes as long again, so the heal needs about
// 2 x 3.8 s while the request's deadline is 200 ms (action) + 4000 ms (probe) + 2 s. The answer is 504, the heal is
// not cancelled, and its entry reaches the healing log afterwards.
TEST(daemon_engine, heal_past_its_deadline_answers_504_and_its_entry_is_logged_when_it_ends) {
  scratch_dir scratch;
  const auto started = scratch.path() / "round-started";
  const auto token = scratch.path() / "token";
  std::ofstream(token) << "heal-token\n";
  live_daemon d(R"({
  "server": { "listen": "127.0.0.1:1", "static_dir": "/nonexistent/healthd", "admin_token_env": null,
              "admin_token_file": ")" +
                token.string() + R"(" },
  "loops": { "core": 0.5 },
  "subsystems": {
    "slow": { "probe": { "type": "exec", "argv": ["/bin/sh", "-c", "touch )" +
                started.string() + R"(; sleep 3.8"], "timeout_ms": 4000 },
              "heal": { "actions": [ { "type": "exec", "name": "noop", "argv": ["true"], "timeout_ms": 200 } ] } }
  }
})");
  ASSERT_TRUE(eventually_serving(d.port, 20s)) << d.log_text();
  // Catch the start of a round: the heal then waits for the rest of it.
  ASSERT_TRUE(eventually([&] { return fs::exists(started); }, 15s)) << d.log_text();
  fs::remove(started);
  ASSERT_TRUE(eventually([&] { return fs::exists(started); }, 15s)) << d.log_text();

  http_test_client client(d.port, 20s);
  const auto sent = std::chrono::steady_clock::now();
  const auto reply = client.request("POST", "/api/v1/platform/heal/slow", {{"Authorization", "Bearer heal-token"}},
                                    R"({"reason":"deadline test"})");
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  std::printf("[ figure ] POST /heal answered after %lld ms (deadline 6200 ms)\n",
              static_cast<long long>(waited.count()));
  ASSERT_EQ(reply.status, 504) << reply.body;
  const auto error = json::parse(reply.body)["error"];
  EXPECT_EQ(error["code"], "heal_timeout");
  EXPECT_TRUE(error["entry_ids"].is_array()) << reply.body;
  EXPECT_GE(waited, 6200ms);

  const auto manual_entry = [&] {
    const auto log = get_json(d.port, "/api/v1/platform/healing-log?subsystem=slow&limit=10");
    if (log.is_null()) return false;
    for (const auto& entry : log["entries"]) {
      if (entry["trigger"] == "manual" && entry["verification"] == "passed") return true;
    }
    return false;
  };
  EXPECT_TRUE(eventually(manual_entry, 10s)) << d.log_text();
  d.process.signal(SIGTERM);
  EXPECT_EQ(d.process.wait_exit(10s), 0) << d.log_text();
}

// Runs `promtool check metrics` with `text` on its standard input; its exit status. Its output goes to
// `scratch`/promtool.out.
int promtool_check(const std::string& promtool, const fs::path& scratch, const std::string& text) {
  const auto input = scratch / "metrics.txt";
  const auto output = scratch / "promtool.out";
  std::ofstream(input) << text;
  fs::remove(output);
  return run_program({promtool, "check", "metrics"}, output, input);
}

TEST(daemon_engine, metrics_pass_promtool_check_metrics) {
  // scripts/test fetches promtool (Debian's prometheus package, unpacked, not installed) and names it here.
  const char* promtool = std::getenv("HEALTHD_PROMTOOL");
  if (promtool == nullptr || *promtool == '\0') GTEST_SKIP() << "HEALTHD_PROMTOOL is not set (scripts/test sets it)";
  live_daemon d(reload_config("auto", true));
  ASSERT_TRUE(eventually_serving(d.port, 20s)) << d.log_text();
  // Every family populated: probe results, heals, HTTP requests.
  ASSERT_TRUE(eventually([&] { return !entries_since(d.port, 0).empty(); })) << d.log_text();
  const auto text = metrics_text(d.port);
  ASSERT_TRUE(has_line(text, R"(healthd_subsystem_status{subsystem="queue",status="critical"} 1)")) << text;
  EXPECT_EQ(promtool_check(promtool, d.dir.path(), text), 0) << file_text(d.dir.path() / "promtool.out") << text;
  // The check can fail: a counter without `_total` is refused.
  EXPECT_NE(promtool_check(promtool, d.dir.path(), "# HELP x h\n# TYPE x counter\nx 1\n"), 0);
}

}  // namespace
}  // namespace healthd::test
