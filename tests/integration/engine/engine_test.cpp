// The engine against real servers: redis-server and PostgreSQL killed and healed, escalation, limits, dependencies,
// forced heals, the audit file across restarts, maintenance, and how fast a killed server is noticed.

#include "healthd/engine/engine.hpp"

#include "healthd/io/blocking_pool.hpp"

#include "support/fake_peers.hpp"
#include "support/sync_gate.hpp"
#include "support/throwaway_servers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

namespace healthd {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

config::action_config exec_action(std::string name, std::vector<std::string> argv, int timeout_ms = 5000) {
  config::action_config a;
  a.type = "exec";
  a.name = std::move(name);
  a.timeout_ms = timeout_ms;
  a.options = config::exec_action{std::move(argv), {}};
  return a;
}

config::breaker_config fast_breaker(std::string name) {
  config::breaker_config b;
  b.name = std::move(name);
  b.failure_threshold = 2;
  b.recovery_timeout_s = 0.3;
  b.max_recovery_timeout_s = 0.6;
  b.jitter = 0;
  return b;
}

config::subsystem_config redis_subsystem(std::uint16_t port, std::vector<config::action_config> ladder) {
  config::subsystem_config s;
  s.name = "redis";
  s.loop = "core";
  s.breaker = "redis";
  s.retry_interval_s = 0.05;
  s.probe.type = "redis";
  s.probe.timeout_ms = 1000;
  s.probe.degraded_latency_ms = 900;
  config::redis_probe options;
  options.port = port;
  s.probe.options = options;
  s.heal.actions = std::move(ladder);
  s.heal.cooldown_s = 0;
  s.heal.max_per_hour = 20;
  return s;
}

config::subsystem_config tcp_subsystem(std::string name, std::uint16_t port) {
  config::subsystem_config s;
  s.name = std::move(name);
  s.loop = "core";
  s.retry_interval_s = 0.05;
  s.probe.type = "tcp";
  s.probe.timeout_ms = 500;
  s.probe.degraded_latency_ms = 400;
  s.probe.options = config::tcp_probe{"127.0.0.1", port};
  return s;
}

std::vector<config::loop_config> loops(double core_s) {
  return {{"core", core_s}, {"integrations", 60}, {"pipelines", 120}, {"optimization", 3600}};
}

// redis-server as a restart script starts it: daemonized on the same port, returning once it answers PING (as
// `systemctl restart` returns once the service is up).
std::vector<std::string> redis_start_argv(std::uint16_t port, const fs::path& dir, const std::string& delay = "0") {
  const auto p = std::to_string(port);
  const auto command = "sleep " + delay + "; redis-server --port " + p +
                       " --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile " +
                       (dir / "healed.pid").string() + " --logfile " + (dir / "healed.log").string() +
                       "; for i in $(seq 100); do redis-cli -p " + p +
                       " ping 2>/dev/null | grep -q PONG && exit 0; sleep 0.05; done; exit 1";
  return {"/bin/sh", "-c", command};
}

class engine_test : public ::testing::Test {
protected:
  static constexpr std::size_t pool_threads = 4;

  void SetUp() override {
    test::become_subreaper();
    dir_ = fs::temp_directory_path() / ("healthd-engine-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }

  void TearDown() override {
    if (audit_gate_) audit_gate_->open();  // a failed assertion must not leave the audit writer stuck
    stop_engine();
    for (auto port : healed_redis_ports_) {
      (void)test::run_program({"redis-cli", "-p", std::to_string(port), "shutdown", "nosave"});
    }
    fs::remove_all(dir_);
  }

  void start_engine(std::shared_ptr<config::daemon_config> cfg, std::vector<healing_entry> restored = {}) {
    config_ = cfg;
    breakers_ = std::make_shared<breaker_registry>(cfg->breakers);
    log_ = std::make_shared<healing_log>(static_cast<std::size_t>(cfg->healing_log.capacity));
    log_->restore(std::move(restored));
    state_ = std::make_shared<platform_state>(cfg, breakers_, clock_.now().wall);
    pool_ = std::make_shared<io::blocking_pool>(pool_threads);
    if (cfg->healing_log.audit_file) {
      audit_ = std::make_shared<audit_file>(*cfg->healing_log.audit_file, cfg->healing_log.audit_max_bytes,
                                            audit_gate_ ? audit_gate_->function() : audit_file::sync_function{});
    }
    work_.emplace(io_.get_executor());
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io_.run(); });
    engine_dependencies deps{io_.get_executor(), breakers_, log_, state_, pool_, audit_, &clock_};
    engine_ = std::make_unique<engine>(deps, cfg);
    engine_->start();
  }

  void stop_engine() {
    if (engine_) engine_->stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
    engine_.reset();
    io_.restart();
  }

  // A healthy redis with a no-op heal and an audit file: the shape of the audit writer tests.
  std::shared_ptr<config::daemon_config> audited_redis_config(std::uint16_t redis_port) {
    auto cfg = base_config();
    cfg->breakers = {fast_breaker("redis")};
    cfg->subsystems = {redis_subsystem(redis_port, {exec_action("noop", {"/bin/true"})})};
    cfg->healing_log.audit_file = (dir_ / "audit.jsonl").string();
    return cfg;
  }

  std::shared_ptr<config::daemon_config> base_config() {
    auto cfg = std::make_shared<config::daemon_config>();
    cfg->loops = loops(0.2);
    return cfg;
  }

  health_status status(const std::string& name) const { return state_->status_of(name); }

  std::vector<healing_entry> entries(const std::string& subsystem) const {
    auto all = log_->query({.limit = 200, .subsystem = subsystem});
    std::reverse(all.begin(), all.end());  // oldest first
    return all;
  }

  static std::vector<std::string> actions_of(const std::vector<healing_entry>& list) {
    std::vector<std::string> out;
    for (const auto& e : list)
      out.push_back(e.action + "/" + std::string(to_string(e.result)));
    return out;
  }

  bool has_entry(const std::string& subsystem, const std::string& action) const {
    for (const auto& e : entries(subsystem)) {
      if (e.action == action) return true;
    }
    return false;
  }

  manual_heal_outcome force_heal(std::string subsystem, std::string reason) {
    auto future = asio::co_spawn(io_, engine_->heal({std::move(subsystem), std::move(reason)}), asio::use_future);
    return future.get();
  }

  fs::path dir_;
  system_clock clock_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::shared_ptr<config::daemon_config> config_;
  std::shared_ptr<breaker_registry> breakers_;
  std::shared_ptr<healing_log> log_;
  std::shared_ptr<platform_state> state_;
  std::shared_ptr<io::blocking_pool> pool_;
  std::shared_ptr<audit_file> audit_;
  std::shared_ptr<test::sync_gate> audit_gate_;  // set before start_engine to hold the audit file's syncs
  std::unique_ptr<engine> engine_;
  std::vector<std::uint16_t> healed_redis_ports_;
};

TEST_F(engine_test, killed_redis_is_healed_by_exec_restart) {
  test::throwaway_redis redis;
  redis.start();
  healed_redis_ports_.push_back(redis.port());
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("redis")};
  cfg->subsystems = {
      redis_subsystem(redis.port(), {exec_action("restart-redis", redis_start_argv(redis.port(), dir_, "0.3"))})};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));

  redis.kill();
  std::vector<health_status> seen;
  const bool healed = test::eventually(
      [&] {
        const auto s = status("redis");
        if (seen.empty() || seen.back() != s) seen.push_back(s);
        return has_entry("redis", "recovered") && s == health_status::healthy;
      },
      15s);
  ASSERT_TRUE(healed) << "entries: " << testing::PrintToString(actions_of(entries("redis")));
  // healthy -> (degraded, critical) -> recovering -> healthy
  const auto recovering = std::find(seen.begin(), seen.end(), health_status::recovering);
  ASSERT_NE(recovering, seen.end()) << "statuses seen: " << seen.size();
  EXPECT_GE(recovering - seen.begin(), 1);
  EXPECT_EQ(seen.back(), health_status::healthy);
  EXPECT_EQ(actions_of(entries("redis")),
            (std::vector<std::string>{"exec:restart-redis/success", "recovered/success"}));
  EXPECT_NE(entries("redis")[0].detail.find("verification passed"), std::string::npos) << entries("redis")[0].detail;
  EXPECT_EQ(breakers_->find("redis")->state(), breaker_state::closed);
  EXPECT_TRUE(redis.accepting());
}

TEST_F(engine_test, killed_postgres_is_healed_by_pg_ctl_start) {
  test::throwaway_postgres pg;
  pg.start();
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("database")};
  config::subsystem_config s;
  s.name = "database";
  s.loop = "core";
  s.breaker = "database";
  s.critical = true;
  s.retry_interval_s = 0.05;
  s.probe.type = "postgres";
  s.probe.timeout_ms = 3000;
  s.probe.degraded_latency_ms = 2500;
  s.probe.options = config::postgres_probe{pg.conninfo(), "SELECT 1", 90};
  s.heal.actions = {config::action_config{"reconnect", std::nullopt, 2000, config::reconnect_action{}},
                    exec_action("pg-ctl-start", pg.start_argv(), 30000)};
  s.heal.cooldown_s = 0;
  cfg->subsystems = {s};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("database") == health_status::healthy; }));

  pg.kill();
  ASSERT_TRUE(test::eventually([&] { return status("database") != health_status::healthy; }, 5s));
  ASSERT_TRUE(test::eventually([&] { return has_entry("database", "recovered"); }, 30s))
      << testing::PrintToString(actions_of(entries("database")));
  EXPECT_EQ(actions_of(entries("database")),
            (std::vector<std::string>{"reconnect/failure", "exec:pg-ctl-start/success", "recovered/success"}));
  EXPECT_EQ(entries("database")[0].verification, verification_result::failed);
  EXPECT_TRUE(test::eventually([&] { return status("database") == health_status::healthy; }));
  EXPECT_TRUE(pg.accepting());
}

TEST_F(engine_test, escalation_walks_the_ladder_when_the_first_action_does_not_help) {
  test::throwaway_redis redis;
  redis.start();
  healed_redis_ports_.push_back(redis.port());
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("redis")};
  cfg->subsystems = {
      redis_subsystem(redis.port(), {config::action_config{"reconnect", std::nullopt, 2000, config::reconnect_action{}},
                                     exec_action("restart-redis", redis_start_argv(redis.port(), dir_))})};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));

  redis.kill();
  ASSERT_TRUE(test::eventually([&] { return has_entry("redis", "recovered"); }, 15s))
      << testing::PrintToString(actions_of(entries("redis")));
  const auto log = entries("redis");
  EXPECT_EQ(actions_of(log),
            (std::vector<std::string>{"reconnect/failure", "exec:restart-redis/success", "recovered/success"}));
  EXPECT_NE(log[0].detail.find("verification failed"), std::string::npos) << log[0].detail;
  EXPECT_EQ(log[0].verification, verification_result::failed);
  EXPECT_EQ(log[1].verification, verification_result::passed);
  EXPECT_FALSE(log[2].verification.has_value());
  EXPECT_NE(log[1].detail.find("verification passed"), std::string::npos) << log[1].detail;
  EXPECT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
}

TEST_F(engine_test, cooldown_and_hourly_limit_hold) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("redis")};
  cfg->breakers[0].recovery_timeout_s = 0.1;
  cfg->breakers[0].max_recovery_timeout_s = 0.1;
  auto s = redis_subsystem(redis.port(), {exec_action("does-not-help", {"/bin/false"})});
  s.heal.cooldown_s = 0.8;
  s.heal.max_per_hour = 2;
  cfg->subsystems = {s};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));

  redis.kill();
  ASSERT_TRUE(test::eventually([&] { return entries("redis").size() >= 3; }, 10s));
  std::this_thread::sleep_for(1500ms);  // many more failed trials: no more entries may appear
  const auto log = entries("redis");
  ASSERT_EQ(actions_of(log), (std::vector<std::string>{"exec:does-not-help/failure", "exec:does-not-help/failure",
                                                       "exec:does-not-help/skipped"}));
  EXPECT_EQ(log[2].detail, "healing exhausted: 2 attempts in the last hour");
  // Entries are stamped when the action ends and the cooldown runs from when it starts, so the gap is the cooldown
  // give or take the difference between two runs of /bin/false (milliseconds; tens under ASan). Without the cooldown
  // the second attempt would follow the 0.1 s recovery timeout.
  EXPECT_GE(log[1].timestamp - log[0].timestamp, 700ms);
  EXPECT_EQ(state_->subsystem("redis")->message, "healing exhausted: 2 attempts in the last hour");
  EXPECT_EQ(status("redis"), health_status::critical);
  EXPECT_GT(breakers_->find("redis")->snapshot().rejected, 0U);
}

TEST_F(engine_test, dependent_subsystem_is_not_healed_while_its_dependency_is_down) {
  const auto closed_port = test::free_port();
  auto cfg = base_config();
  auto base = tcp_subsystem("base", closed_port);
  auto app = tcp_subsystem("app", closed_port);
  app.depends_on = {"base"};
  app.heal.after_failures = 3;  // base has certainly been probed by then
  app.heal.cooldown_s = 0;
  app.heal.actions = {exec_action("touch", {"/bin/touch", (dir_ / "healed").string()})};
  cfg->subsystems = {base, app};
  start_engine(cfg);

  ASSERT_TRUE(test::eventually([&] { return !entries("app").empty(); }));
  std::this_thread::sleep_for(600ms);  // several more failures of app
  const auto log = entries("app");
  ASSERT_EQ(actions_of(log), (std::vector<std::string>{"exec:touch/skipped"}));
  EXPECT_EQ(log[0].detail, "dependency base is critical");
  EXPECT_FALSE(fs::exists(dir_ / "healed"));
  EXPECT_EQ(state_->subsystem("app")->message, "dependency base is critical");
}

TEST_F(engine_test, forced_heal_carries_the_reason_and_a_concurrent_one_gets_409) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("redis")};
  cfg->subsystems = {redis_subsystem(redis.port(), {exec_action("slow-noop", {"/bin/sleep", "0.5"})})};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));

  auto first = asio::co_spawn(io_, engine_->heal({"redis", "testing the ladder"}), asio::use_future);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::recovering; }));
  const auto second = force_heal("redis", "again");
  const auto done = first.get();

  ASSERT_TRUE(std::holds_alternative<manual_heal_refused>(second));
  EXPECT_EQ(std::get<manual_heal_refused>(second).reason, heal_refusal::heal_in_progress);
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(done));
  const auto& ok = std::get<manual_heal_done>(done);
  EXPECT_EQ(ok.result, heal_result::success);
  EXPECT_EQ(ok.status, health_status::healthy) << state_->subsystem("redis")->message;
  ASSERT_EQ(ok.entries.size(), 1U);  // it was healthy before: no "recovered" entry
  EXPECT_EQ(ok.entries[0].trigger, heal_trigger::manual);
  EXPECT_EQ(ok.entries[0].action, "exec:slow-noop");
  EXPECT_NE(ok.entries[0].detail.find("reason: testing the ladder"), std::string::npos) << ok.entries[0].detail;

  const auto unknown = force_heal("nope", "");
  ASSERT_TRUE(std::holds_alternative<manual_heal_refused>(unknown));
  EXPECT_EQ(std::get<manual_heal_refused>(unknown).reason, heal_refusal::unknown_subsystem);
}

TEST_F(engine_test, forced_heal_verification_is_the_breaker_trial) {
  test::throwaway_redis redis;
  redis.start();
  healed_redis_ports_.push_back(redis.port());
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("redis")};
  cfg->breakers[0].recovery_timeout_s = 60;  // no automatic trial during the test
  cfg->breakers[0].max_recovery_timeout_s = 60;
  auto s = redis_subsystem(redis.port(), {exec_action("does-not-help", {"/bin/false"}),
                                          exec_action("restart-redis", redis_start_argv(redis.port(), dir_))});
  cfg->subsystems = {s};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
  redis.kill();
  ASSERT_TRUE(test::eventually([&] { return !entries("redis").empty(); }));  // breaker opened, rung 0 failed
  ASSERT_EQ(breakers_->find("redis")->state(), breaker_state::open);

  const auto outcome = force_heal("redis", "operator restart");
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(outcome));
  const auto& done = std::get<manual_heal_done>(outcome);
  EXPECT_EQ(done.status, health_status::healthy);
  EXPECT_EQ(actions_of(done.entries), (std::vector<std::string>{"exec:restart-redis/success", "recovered/success"}));
  EXPECT_EQ(breakers_->find("redis")->state(), breaker_state::closed);
}

TEST_F(engine_test, audit_file_survives_a_restart_and_ids_continue) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = audited_redis_config(redis.port());
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(force_heal("redis", "one")));
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(force_heal("redis", "two")));
  stop_engine();
  audit_.reset();

  // a crash in the middle of writing a third entry
  { std::ofstream(dir_ / "audit.jsonl", std::ios::app) << R"({"id":3,"timestamp":"2026-)"; }
  const auto loaded = audit_file::load(dir_ / "audit.jsonl", 200);
  EXPECT_EQ(loaded.warnings.size(), 1U);
  start_engine(cfg, loaded.entries);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
  const auto third = force_heal("redis", "three");
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(third));
  EXPECT_EQ(std::get<manual_heal_done>(third).entries.at(0).id, 3U);
  const auto reloaded = audit_file::load(dir_ / "audit.jsonl", 200);
  ASSERT_EQ(reloaded.entries.size(), 3U);
  EXPECT_NE(reloaded.entries[2].detail.find("reason: three"), std::string::npos);
}

// Regression (issue 9, defect 2): audit writes ran on the probe pool under a 5 s timeout. A slow fsync answered the
// forced heal 500 audit_write_failed although the entry was written later, and the stuck job kept the pool key
// "audit:redis" so the subsystem's next entry got `busy` and was never written.
TEST_F(engine_test, forced_heal_with_a_slow_audit_sync_is_answered_once_its_entry_is_durable) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = audited_redis_config(redis.port());
  audit_gate_ = test::sync_gate::closed();
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));

  auto first = asio::co_spawn(io_, engine_->heal({"redis", "slow disk"}), asio::use_future);
  ASSERT_TRUE(audit_gate_->wait_for_calls(1));
  // Past the old timeout nothing may be answered: the write has not ended, so it has neither failed nor succeeded.
  EXPECT_EQ(first.wait_for(5500ms), std::future_status::timeout);
  audit_gate_->open();
  const auto done = first.get();
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(done))
      << static_cast<int>(std::get<manual_heal_refused>(done).reason);
  ASSERT_TRUE(std::holds_alternative<manual_heal_done>(force_heal("redis", "right after")));

  EXPECT_EQ(engine_->counters().audit_write_failures, 0U);
  const auto loaded = audit_file::load(dir_ / "audit.jsonl", 200);
  ASSERT_EQ(loaded.entries.size(), 2U);
  EXPECT_NE(loaded.entries[0].detail.find("reason: slow disk"), std::string::npos) << loaded.entries[0].detail;
  EXPECT_NE(loaded.entries[1].detail.find("reason: right after"), std::string::npos) << loaded.entries[1].detail;
  EXPECT_EQ(entries("redis").size(), 2U);
}

// Regression (issue 9, defect 2): stuck audit writes held blocking-pool threads, so the redis probe's pool job
// expired and a healthy redis was reported failing. Audit writes have their own thread now.
TEST_F(engine_test, redis_probes_keep_running_while_audit_syncs_are_stuck) {
  test::throwaway_redis redis;
  redis.start();
  const auto closed_port = test::free_port();
  auto cfg = audited_redis_config(redis.port());
  for (std::size_t i = 0; i < pool_threads + 1; ++i) {
    auto s = tcp_subsystem("down-" + std::to_string(i), closed_port);
    s.heal.after_failures = 1;
    s.heal.cooldown_s = 0;
    s.heal.max_per_hour = 50;
    s.heal.actions = {exec_action("noop", {"/bin/true"})};
    cfg->subsystems.push_back(s);
  }
  audit_gate_ = test::sync_gate::closed();
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
  ASSERT_TRUE(audit_gate_->wait_for_calls(1));
  // Within the window every failing subsystem reaches its first heal entry and waits for it; redis probes on.
  const auto before = state_->subsystem("redis")->last_check;
  const auto watch_until = std::chrono::steady_clock::now() + 2500ms;  // > the redis probe's 1 s timeout
  while (std::chrono::steady_clock::now() < watch_until) {
    ASSERT_EQ(status("redis"), health_status::healthy) << state_->subsystem("redis")->message;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(state_->subsystem("redis")->last_check, before);
  EXPECT_EQ(audit_gate_->calls(), 1U);  // one writer thread, still stuck on its first sync
  EXPECT_EQ(log_->size(), 0U);          // an entry enters the healing log once its write attempt ended

  audit_gate_->open();
  EXPECT_TRUE(test::eventually([&] {
    for (std::size_t i = 0; i < pool_threads + 1; ++i) {
      if (entries("down-" + std::to_string(i)).empty()) return false;
    }
    return true;
  }));
  EXPECT_EQ(engine_->counters().audit_write_failures, 0U);
}

// A failing sync is counted and reported, but never stops a heal: the entry is still in the healing log.
TEST_F(engine_test, failing_audit_sync_is_counted_and_the_heal_still_completes) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = audited_redis_config(redis.port());
  audit_gate_ = test::sync_gate::opened();
  audit_gate_->fail_with(std::make_error_code(std::errc::io_error));
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));

  const auto outcome = force_heal("redis", "bad disk");
  ASSERT_TRUE(std::holds_alternative<manual_heal_refused>(outcome));
  EXPECT_EQ(std::get<manual_heal_refused>(outcome).reason, heal_refusal::audit_write_failed);
  EXPECT_EQ(engine_->counters().audit_write_failures, 1U);
  ASSERT_EQ(entries("redis").size(), 1U);
  EXPECT_NE(entries("redis")[0].detail.find("reason: bad disk"), std::string::npos);
  EXPECT_EQ(status("redis"), health_status::healthy);
  ASSERT_TRUE(std::holds_alternative<manual_heal_refused>(force_heal("redis", "still bad")));
  EXPECT_EQ(engine_->counters().audit_write_failures, 2U);
  EXPECT_EQ(entries("redis").size(), 2U);
}

TEST_F(engine_test, dry_run_logs_what_it_would_do) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = base_config();
  cfg->healing.mode = config::healing_mode::dry_run;
  cfg->breakers = {fast_breaker("redis")};
  cfg->subsystems = {redis_subsystem(redis.port(), {exec_action("touch", {"/bin/touch", (dir_ / "ran").string()})})};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
  redis.kill();
  ASSERT_TRUE(test::eventually([&] { return !entries("redis").empty(); }));
  const auto e = entries("redis").front();
  EXPECT_EQ(e.action, "exec:touch");
  EXPECT_EQ(e.result, heal_result::skipped);
  EXPECT_EQ(e.detail, "dry run");
  EXPECT_FALSE(fs::exists(dir_ / "ran"));
}

TEST_F(engine_test, maintenance_tasks_run_on_the_optimization_loop) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = base_config();
  cfg->loops = {{"core", 30}, {"optimization", 0.3}};
  cfg->breakers = {fast_breaker("redis")};
  cfg->subsystems = {redis_subsystem(redis.port(), {})};
  config::action_config purge;
  purge.type = "redis";
  purge.options = config::redis_action{{"MEMORY", "PURGE"}, std::nullopt};
  cfg->maintenance = {{"purge-memory", "redis", purge}};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return entries("redis").size() >= 2; }));
  const auto e = entries("redis").front();
  EXPECT_EQ(e.action, "redis:purge-memory");
  EXPECT_EQ(e.trigger, heal_trigger::maintenance);
  EXPECT_EQ(e.result, heal_result::success) << e.detail;
  EXPECT_TRUE(test::eventually([&] { return state_->subsystem("redis")->last_hour.probes > 0; }));
}

TEST_F(engine_test, killed_redis_is_noticed_long_before_the_next_tick) {
  test::throwaway_redis redis;
  redis.start();
  auto cfg = base_config();
  cfg->loops = loops(30);
  cfg->breakers = {fast_breaker("redis")};
  cfg->subsystems = {redis_subsystem(redis.port(), {})};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("redis") == health_status::healthy; }));
  std::this_thread::sleep_for(200ms);  // the first round is over; the connection is idle and watched

  const auto killed = std::chrono::steady_clock::now();
  redis.kill();
  ASSERT_TRUE(test::eventually([&] { return status("redis") != health_status::healthy; }, 5s));
  const auto noticed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed).count();
  std::printf("[ figure ] kill -9 of redis-server to not healthy with 30 s loops: %.1f ms\n", noticed_ms);
  EXPECT_LT(noticed_ms, 2000);
  EXPECT_GE(engine_->counters().watch_wakeups, 1U);
}

config::subsystem_config exec_subsystem(std::string name, std::vector<std::string> argv) {
  config::subsystem_config s;
  s.name = std::move(name);
  s.loop = "core";
  s.retry_interval_s = 0.05;
  s.probe.type = "exec";
  s.probe.timeout_ms = 2000;
  s.probe.degraded_latency_ms = 1900;
  s.probe.options = config::exec_probe{std::move(argv), {}};
  return s;
}

// Regression (issue 8, defect 1): while one subsystem holds the half-open trial of a breaker it shares, the other's
// refused rounds asked to probe again at once and never suspended — a core at 100 %, and the strand never freed.
TEST_F(engine_test, refused_rounds_on_a_shared_breaker_do_not_spin) {
  auto cfg = base_config();
  cfg->breakers = {fast_breaker("shared")};
  cfg->breakers[0].failure_threshold = 1;
  cfg->breakers[0].recovery_timeout_s = 0.2;
  cfg->breakers[0].max_recovery_timeout_s = 0.2;
  // A slow failing probe: whoever holds the trial holds it for 0.6 s.
  auto a = exec_subsystem("a", {"/bin/sh", "-c", "sleep 0.6; exit 2"});
  auto b = exec_subsystem("b", {"/bin/sh", "-c", "sleep 0.6; exit 2"});
  a.breaker = b.breaker = "shared";
  cfg->subsystems = {a, b};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return breakers_->find("shared")->state() != breaker_state::closed; }));
  const auto before = engine_->counters().probes_rejected;
  std::this_thread::sleep_for(2s);
  const auto rejected = engine_->counters().probes_rejected - before;
  std::printf("[ figure ] rounds refused by the shared breaker in 2 s: %llu\n",
              static_cast<unsigned long long>(rejected));
  EXPECT_LT(rejected, 200U);
  EXPECT_GT(breakers_->find("shared")->snapshot().times_opened, 1U);  // trials kept running
}

// Regression (issue 8, defects 2 and 3): an action printing invalid UTF-8 made the audit write throw after the heal
// slot was taken, which leaked the slot; with healing.max_concurrent 1 no automatic heal ran again. Now the text is
// made valid where it enters, and slots are leases that no exception can keep.
TEST_F(engine_test, heals_keep_running_after_an_action_prints_invalid_utf8) {
  const auto closed_port = test::free_port();
  auto cfg = base_config();
  cfg->healing.max_concurrent = 1;
  cfg->healing_log.audit_file = (dir_ / "audit.jsonl").string();
  std::vector<config::subsystem_config> subsystems;
  for (const auto* name : {"a", "b"}) {
    auto s = tcp_subsystem(name, closed_port);
    s.heal.after_failures = 1;
    s.heal.cooldown_s = 0;
    s.heal.max_per_hour = 50;
    s.heal.actions = {exec_action("garbled", {"/usr/bin/printf", "\\377\\376 done"})};
    subsystems.push_back(s);
  }
  cfg->subsystems = subsystems;
  start_engine(cfg);
  const bool both_healed_twice =
      test::eventually([&] { return entries("a").size() >= 2 && entries("b").size() >= 2; }, 10s);
  EXPECT_TRUE(both_healed_twice) << "a: " << testing::PrintToString(actions_of(entries("a")))
                                 << " b: " << testing::PrintToString(actions_of(entries("b")));
  EXPECT_EQ(engine_->counters().audit_write_failures, 0U);
  const auto e = entries("a").at(0);
  EXPECT_NE(e.detail.find("\xEF\xBF\xBD"), std::string::npos) << e.detail;  // U+FFFD where the bad bytes were
  EXPECT_EQ(audit_file::load(dir_ / "audit.jsonl", 200).warnings.size(), 0U);
}

// Regression (issue 8, defect 4): a reload that removed a subsystem while its maintenance task was suspended freed
// the runner under the task (a use after free, caught by the ASan build).
TEST_F(engine_test, removing_a_subsystem_during_its_maintenance_task_is_safe) {
  const auto closed_port = test::free_port();
  auto cfg = base_config();
  cfg->loops = {{"core", 30}, {"optimization", 0.2}};
  auto keep = tcp_subsystem("keep", closed_port);
  auto gone = tcp_subsystem("gone", closed_port);
  cfg->subsystems = {keep, gone};
  const auto started = dir_ / "started";
  config::action_config slow = exec_action("slow", {"/bin/sh", "-c", "touch " + started.string() + "; sleep 0.5"});
  cfg->maintenance = {{"slow-task", "gone", slow}};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return fs::exists(started); }));
  auto next = std::make_shared<config::daemon_config>(*cfg);
  next->subsystems = {keep};
  next->maintenance.clear();
  engine_->apply_config(next);
  EXPECT_FALSE(state_->find_status("gone").has_value());
  // The task ends by itself and is still logged.
  EXPECT_TRUE(test::eventually([&] { return has_entry("gone", "exec:slow"); }, 5s));
}

TEST_F(engine_test, log_trigger_runs_its_own_action_then_refuses_inside_the_cooldown) {
  auto listener = test::make_silent_server();  // accepts: the tcp probe passes
  auto cfg = base_config();
  auto app = tcp_subsystem("app", listener->port());
  app.heal.cooldown_s = 60;
  app.heal.actions = {exec_action("never", {"/bin/false"})};
  cfg->subsystems = {app};
  start_engine(cfg);
  ASSERT_TRUE(test::eventually([&] { return status("app") == health_status::healthy; }));
  const auto touched = dir_ / "touched";
  auto own = engine_->build_action("app", exec_action("touch", {"/bin/touch", touched.string()}));
  const auto fire = [&] {
    trigger_request request{"app", heal_trigger::log, "rule oom matched",
                            heal_override_action{own, "exec:touch", 5000}};
    return asio::co_spawn(io_, engine_->trigger(std::move(request)), asio::use_future).get();
  };
  const auto first = fire();
  ASSERT_TRUE(std::holds_alternative<trigger_started>(first));
  const auto& done = std::get<trigger_started>(first);
  EXPECT_EQ(done.result, heal_result::success);
  ASSERT_EQ(done.entries.size(), 1U);
  EXPECT_EQ(done.entries[0].action, "exec:touch");
  EXPECT_EQ(done.entries[0].trigger, heal_trigger::log);
  EXPECT_EQ(done.entries[0].verification, verification_result::passed);
  EXPECT_TRUE(fs::exists(touched));
  const auto second = fire();
  ASSERT_TRUE(std::holds_alternative<trigger_refused>(second));
  EXPECT_EQ(std::get<trigger_refused>(second).reason, heal_refusal::cooldown);
}

}  // namespace
}  // namespace healthd
