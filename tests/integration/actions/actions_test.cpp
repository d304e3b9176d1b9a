// Heal actions (reconnect, exec, http, sql, redis) created through the builtin registry and run against real local
// servers: fake HTTP/HTTPS peers, the shared (or a throwaway) PostgreSQL and Redis, and real child processes.

#include "healthd/actions/action.hpp"
#include "healthd/actions/registry.hpp"
#include "healthd/io/blocking_pool.hpp"
#include "healthd/probes/probe.hpp"
#include "healthd/probes/registry.hpp"

#include "support/fake_peers.hpp"
#include "support/figures.hpp"
#include "support/throwaway_servers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;

struct timed_outcome {
  actions::action_outcome outcome;
  std::chrono::milliseconds elapsed{0};  // from the start of run() to its completion, on the steady clock
};

// A private io_context and blocking pool; actions are made through action_registry::builtin().
class action_harness {
public:
  boost::asio::io_context io;
  io::blocking_pool pool{4};

  [[nodiscard]] actions::action_context context(std::string subsystem = "subsystem") {
    actions::action_context c;
    c.executor = io.get_executor();
    c.pool = &pool;
    c.subsystem = std::move(subsystem);
    return c;
  }

  template <typename Options>
  [[nodiscard]] static config::action_config config_of(std::string type, Options options, int timeout_ms = 2000) {
    config::action_config cfg;
    cfg.type = std::move(type);
    cfg.timeout_ms = timeout_ms;
    cfg.options = std::move(options);
    return cfg;
  }

  template <typename Options>
  [[nodiscard]] std::unique_ptr<actions::action> make(std::string type, Options options, int timeout_ms = 2000) {
    return actions::action_registry::builtin().create(config_of(std::move(type), std::move(options), timeout_ms),
                                                      context());
  }

  // Runs one action to completion (and whatever it left on the io_context, e.g. reaping a killed child).
  timed_outcome run(actions::action& a) {
    std::optional<timed_outcome> out;
    const auto start = std::chrono::steady_clock::now();
    boost::asio::co_spawn(io, a.run(), [&](const std::exception_ptr& e, actions::action_outcome o) {
      if (e) std::rethrow_exception(e);
      out = timed_outcome{std::move(o), std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - start)};
    });
    io.restart();
    io.run();
    if (!out) throw std::logic_error("action did not complete");
    return std::move(*out);
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string local_url(const std::string& scheme, std::uint16_t port, const std::string& target = "/") {
  return scheme + "://127.0.0.1:" + std::to_string(port) + target;
}

config::http_action http_options(std::string url) {
  config::http_action options;
  options.url = std::move(url);
  return options;
}

// ---- registry -----------------------------------------------------------------------------------------------------
TEST(action_registry, builtin_has_the_five_types) {
  EXPECT_EQ(actions::action_registry::builtin().types(),
            (std::vector<std::string>{"exec", "http", "reconnect", "redis", "sql"}));
}

TEST(action_registry, unknown_type_and_mismatched_options_are_config_errors) {
  action_harness h;
  EXPECT_THROW((void)h.make("restart-the-world", config::exec_action{{"/bin/true"}, {}}), actions::action_config_error);
  try {
    (void)h.make("exec", http_options("http://127.0.0.1:1/"));
    ADD_FAILURE() << "exec with http options was accepted";
  } catch (const actions::action_config_error& e) {
    EXPECT_EQ(std::string(e.what()), "exec action: options of another action type");
  }
}

// ---- http ---------------------------------------------------------------------------------------------------------
TEST(http_action, expected_status_is_success_naming_the_status) {
  action_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{202, "queued"}; });
  auto action = h.make("http", http_options(local_url("http", server->port(), "/refresh")));
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "HTTP 202");
}

TEST(http_action, unexpected_status_is_failure_naming_the_status) {
  action_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{503, "busy"}; });
  auto action = h.make("http", http_options(local_url("http", server->port(), "/refresh")));
  const auto r = h.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message.rfind("HTTP 503 (expected ", 0), 0U) << r.outcome.message;
  EXPECT_TRUE(contains(r.outcome.message, "200")) << r.outcome.message;
}

TEST(http_action, configured_expect_status_decides) {
  action_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{409, "already running"}; });
  auto options = http_options(local_url("http", server->port(), "/refresh"));
  options.expect_status = {{409, 409}};
  auto action = h.make("http", options);
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "HTTP 409");
}

TEST(http_action, silent_server_fails_by_the_deadline) {
  action_harness h;
  auto server = make_silent_server();
  auto action = h.make("http", http_options(local_url("http", server->port(), "/refresh")), 500);
  const auto r = h.run(*action);
  print_figure("http action, silent server, timeout 500 ms", r.elapsed);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "timeout after 500 ms");
  EXPECT_GE(r.elapsed, 450ms);
  EXPECT_LT(r.elapsed, 1500ms + sanitizer_slack);
}

TEST(http_action, refused_port_fails_with_the_reason) {
  action_harness h;
  auto action = h.make("http", http_options(local_url("http", free_port(), "/refresh")));
  const auto r = h.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "connect: Connection refused");
}

TEST(http_action, method_headers_and_body_reach_the_server) {
  action_harness h;
  std::mutex mutex;
  std::vector<seen_request> seen;
  auto server = make_http_server([&](const seen_request& request) {
    const std::lock_guard lock(mutex);
    seen.push_back(request);
    return canned_response{200, "reloaded"};
  });
  auto options = http_options(local_url("http", server->port(), "/admin/reload?model=fraud"));
  options.method = "PUT";
  options.headers = {{"X-Heal-Token", "token-123"}, {"Content-Type", "application/json"}};
  options.body = R"({"reload":true})";
  auto action = h.make("http", options);
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  const std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/admin/reload?model=fraud");
  EXPECT_EQ(seen[0].headers["x-heal-token"], "token-123");
  EXPECT_EQ(seen[0].headers["content-type"], "application/json");
  EXPECT_EQ(seen[0].body, R"({"reload":true})");
}

TEST(http_action, default_method_is_post) {
  action_harness h;
  std::mutex mutex;
  std::string method;
  auto server = make_http_server([&](const seen_request& request) {
    const std::lock_guard lock(mutex);
    method = request.method;
    return canned_response{204, ""};
  });
  auto action = h.make("http", http_options(local_url("http", server->port(), "/refresh")));
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  const std::lock_guard lock(mutex);
  EXPECT_EQ(method, "POST");
}

TEST(http_action, long_answer_body_does_not_fail_the_action) {
  action_harness h;
  auto server = make_http_server([](const seen_request&) {
    return canned_response{200, std::string(std::size_t{64} * 1024, 'x')};
  });
  auto action = h.make("http", http_options(local_url("http", server->port(), "/refresh")));
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "HTTP 200");
}

TEST(https_action, test_ca_in_ca_file_is_trusted) {
  action_harness h;
  const test_ca ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  auto options = http_options(local_url("https", server->port(), "/reload"));
  options.ca_file = ca.ca_file();
  auto action = h.make("http", options);
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "HTTP 200");
}

TEST(https_action, certificate_of_another_ca_fails) {
  action_harness h;
  const test_ca server_ca;
  const test_ca other_ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &server_ca);
  auto options = http_options(local_url("https", server->port(), "/reload"));
  options.ca_file = other_ca.ca_file();
  auto action = h.make("http", options);
  const auto r = h.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message.rfind("tls: ", 0), 0U) << r.outcome.message;
}

TEST(https_action, unreadable_ca_file_is_a_config_error_naming_the_file) {
  action_harness h;
  auto options = http_options("https://127.0.0.1:1/reload");
  options.ca_file = "/nonexistent/heal-ca.pem";
  try {
    (void)h.make("http", options);
    ADD_FAILURE() << "an unreadable ca_file was accepted";
  } catch (const actions::action_config_error& e) {
    EXPECT_TRUE(contains(e.what(), "cannot load ca_file \"/nonexistent/heal-ca.pem\"")) << e.what();
  }
}

// ---- sql ----------------------------------------------------------------------------------------------------------
class sql_action_test : public ::testing::Test {
protected:
  // A running server: the shared one from scripts/test when there is one, else our own.
  std::string running_conninfo() {
    if (auto shared = shared_postgres_conninfo()) return *shared;
    own_ = std::make_unique<throwaway_postgres>();
    own_->start();
    return own_->conninfo();
  }

  static config::sql_action sql(std::string statement, std::optional<std::string> conninfo) {
    return config::sql_action{std::move(statement), std::move(conninfo)};
  }

  std::unique_ptr<throwaway_postgres> own_;
  action_harness h_;
};

TEST_F(sql_action_test, statement_succeeds_with_the_rows_it_changed) {
  auto action = h_.make("sql", sql("CREATE TEMP TABLE heal_t (x int); INSERT INTO heal_t SELECT generate_series(1, 3); "
                                   "DELETE FROM heal_t WHERE x > 0",
                                   running_conninfo()));
  const auto r = h_.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  // The last statement's count.
  EXPECT_EQ(r.outcome.message, "3 rows affected");
}

TEST_F(sql_action_test, terminate_of_no_sessions_succeeds) {
  auto action =
      h_.make("sql", sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE false", running_conninfo()));
  const auto r = h_.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "0 rows returned");
}

TEST_F(sql_action_test, select_reports_its_row_count) {
  auto action = h_.make("sql", sql("SELECT generate_series(1, 3)", running_conninfo()));
  const auto r = h_.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "3 rows returned");
  auto one = h_.make("sql", sql("SELECT 1", running_conninfo()));
  EXPECT_EQ(h_.run(*one).outcome.message, "1 row returned");
}

TEST_F(sql_action_test, conninfo_defaults_to_the_subsystem_postgres_probe) {
  auto context = h_.context("orders-db");
  config::postgres_probe probe;
  probe.conninfo = running_conninfo();
  context.subsystem_probe.type = "postgres";
  context.subsystem_probe.options = probe;
  auto action = actions::action_registry::builtin().create(
      action_harness::config_of("sql", sql("SELECT pg_sleep(0)", std::nullopt)), context);
  const auto r = h_.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
}

TEST_F(sql_action_test, no_conninfo_and_no_postgres_probe_is_a_config_error) {
  auto context = h_.context("cache");
  context.subsystem_probe.type = "tcp";
  context.subsystem_probe.options = config::tcp_probe{"127.0.0.1", 6379};
  EXPECT_THROW((void)actions::action_registry::builtin().create(
                   action_harness::config_of("sql", sql("SELECT 1", std::nullopt)), context),
               actions::action_config_error);
}

TEST_F(sql_action_test, bad_statement_fails_with_postgres_reason) {
  auto action = h_.make("sql", sql("SELEC 1", running_conninfo()));
  const auto r = h_.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_TRUE(contains(r.outcome.message, "syntax error at or near \"SELEC\"")) << r.outcome.message;
}

TEST_F(sql_action_test, silent_server_fails_by_the_deadline) {
  auto server = make_silent_server();
  auto action = h_.make(
      "sql",
      sql("SELECT 1", "host=127.0.0.1 port=" + std::to_string(server->port()) + " user=postgres dbname=postgres"), 500);
  const auto r = h_.run(*action);
  print_figure("sql action, silent server, timeout 500 ms", r.elapsed);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "timeout after 500 ms");
  EXPECT_GE(r.elapsed, 450ms);
  EXPECT_LT(r.elapsed, 1500ms + sanitizer_slack);
}

TEST_F(sql_action_test, run_while_the_previous_one_is_still_stuck_is_refused_at_once) {
  auto server = make_silent_server();
  auto action = h_.make(
      "sql",
      sql("SELECT 1", "host=127.0.0.1 port=" + std::to_string(server->port()) + " user=postgres dbname=postgres"), 500);
  const auto first = h_.run(*action);
  EXPECT_EQ(first.outcome.message, "timeout after 500 ms");
  // The first job still waits for the silent server (libpq connect_timeout is 2 s): the subsystem's sql key is busy.
  const auto second = h_.run(*action);
  print_figure("sql action, second run while the first is stuck", second.elapsed);
  EXPECT_FALSE(second.outcome.success);
  EXPECT_EQ(second.outcome.message, "an earlier sql action of this subsystem is still running");
  EXPECT_LT(second.elapsed, 400ms + sanitizer_slack);
}

TEST_F(sql_action_test, conninfo_password_never_appears_in_the_message) {
  // One identifier, so that a syntax error echoes it whole.
  const std::string password = "healpw6731";
  // Refused: whatever libpq says about the connection attempt.
  auto refused = h_.make("sql", sql("SELECT 1", "host=127.0.0.1 port=" + std::to_string(free_port()) +
                                                    " user=postgres password=" + password + " dbname=postgres"));
  const auto r1 = h_.run(*refused);
  EXPECT_FALSE(r1.outcome.success);
  EXPECT_FALSE(r1.outcome.message.empty());
  EXPECT_FALSE(contains(r1.outcome.message, password)) << r1.outcome.message;
  // PostgreSQL echoes the offending token of a syntax error: here the password itself (trust auth ignores it).
  auto echoed = h_.make("sql", sql(password, running_conninfo() + " password=" + password));
  const auto r2 = h_.run(*echoed);
  EXPECT_FALSE(r2.outcome.success);
  EXPECT_TRUE(contains(r2.outcome.message, "syntax error at or near")) << r2.outcome.message;
  EXPECT_TRUE(contains(r2.outcome.message, "***")) << r2.outcome.message;
  EXPECT_FALSE(contains(r2.outcome.message, password)) << r2.outcome.message;
}

// ---- redis --------------------------------------------------------------------------------------------------------
class redis_action_test : public ::testing::Test {
protected:
  std::uint16_t running_port() {
    if (auto shared = shared_redis_port()) return *shared;
    own_ = std::make_unique<throwaway_redis>();
    own_->start();
    return own_->port();
  }

  static config::redis_action redis(std::vector<std::string> argv, std::optional<std::uint16_t> port) {
    config::redis_action options;
    options.argv = std::move(argv);
    if (port) {
      config::redis_probe target;
      target.port = *port;
      options.target = target;
    }
    return options;
  }

  std::unique_ptr<throwaway_redis> own_;
  action_harness h_;
};

TEST_F(redis_action_test, command_succeeds_and_its_effect_is_visible) {
  const auto port = running_port();
  const std::string key = "healthd-actions-test:" + std::to_string(::getpid());
  auto set = h_.make("redis", redis({"SET", key, "healed"}, port));
  const auto r1 = h_.run(*set);
  EXPECT_TRUE(r1.outcome.success) << r1.outcome.message;
  EXPECT_EQ(r1.outcome.message, "SET: OK");
  auto get = h_.make("redis", redis({"GET", key}, port));
  const auto r2 = h_.run(*get);
  EXPECT_TRUE(r2.outcome.success) << r2.outcome.message;
  EXPECT_EQ(r2.outcome.message, "GET: healed");
  auto del = h_.make("redis", redis({"DEL", key}, port));
  const auto r3 = h_.run(*del);
  EXPECT_TRUE(r3.outcome.success) << r3.outcome.message;
  EXPECT_EQ(r3.outcome.message, "DEL: 1");
}

TEST_F(redis_action_test, target_defaults_to_the_subsystem_redis_probe) {
  auto context = h_.context("cache");
  config::redis_probe probe;
  probe.port = running_port();
  context.subsystem_probe.type = "redis";
  context.subsystem_probe.options = probe;
  auto action = actions::action_registry::builtin().create(
      action_harness::config_of("redis", redis({"PING"}, std::nullopt)), context);
  const auto r = h_.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "PING: PONG");
}

TEST_F(redis_action_test, refused_port_fails_fast_with_the_reason) {
  auto action = h_.make("redis", redis({"PING"}, free_port()));
  const auto r = h_.run(*action);
  print_figure("redis action, refused port", r.elapsed);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "connect: Connection refused");
  EXPECT_LT(r.elapsed, 1000ms + sanitizer_slack);
}

TEST_F(redis_action_test, error_reply_is_a_failure) {
  auto action = h_.make("redis", redis({"NOSUCHCOMMAND", "x"}, running_port()));
  const auto r = h_.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message.rfind("redis: ERR unknown command", 0), 0U) << r.outcome.message;
}

TEST_F(redis_action_test, reply_is_made_valid_utf8_and_cut_on_a_character_boundary) {
  auto invalid = h_.make("redis", redis({"ECHO", "ok \xFF"}, running_port()));
  const auto r1 = h_.run(*invalid);
  EXPECT_TRUE(r1.outcome.success) << r1.outcome.message;
  EXPECT_EQ(r1.outcome.message, "ECHO: ok \uFFFD");
  std::string long_reply(199, 'x');
  long_reply += "\xC3\xA9";  // a 2-byte character across the 200-byte cut
  auto cut = h_.make("redis", redis({"ECHO", long_reply}, running_port()));
  const auto r2 = h_.run(*cut);
  EXPECT_TRUE(r2.outcome.success) << r2.outcome.message;
  EXPECT_EQ(r2.outcome.message, "ECHO: " + std::string(199, 'x'));
}

TEST_F(redis_action_test, silent_server_fails_by_the_deadline) {
  auto server = make_silent_server();
  auto action = h_.make("redis", redis({"PING"}, server->port()), 500);
  const auto r = h_.run(*action);
  print_figure("redis action, silent server, timeout 500 ms", r.elapsed);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "timeout after 500 ms");
  EXPECT_LT(r.elapsed, 1500ms + sanitizer_slack);
}

TEST_F(redis_action_test, password_comes_from_password_env_and_never_appears) {
  const std::string password = "heal-redis-pw-4417";
  throwaway_redis server;
  server.start({"--requirepass", password});
  auto options = redis({"PING"}, server.port());
  options.target->password_env = "HEALTHD_TEST_ACTION_REDIS_PASSWORD";
  ::unsetenv("HEALTHD_TEST_ACTION_REDIS_PASSWORD");
  auto unset = h_.make("redis", options);
  const auto r0 = h_.run(*unset);
  EXPECT_FALSE(r0.outcome.success);
  EXPECT_EQ(r0.outcome.message, "password_env HEALTHD_TEST_ACTION_REDIS_PASSWORD is not set");
  ::setenv("HEALTHD_TEST_ACTION_REDIS_PASSWORD", password.c_str(), 1);
  const auto r1 = h_.run(*unset);
  EXPECT_TRUE(r1.outcome.success) << r1.outcome.message;
  EXPECT_EQ(r1.outcome.message, "PING: PONG");
  // The server echoes the unknown command's argument: the password itself.
  options.argv = {"NOSUCHCOMMAND", password};
  auto echoed = h_.make("redis", options);
  const auto r2 = h_.run(*echoed);
  ::unsetenv("HEALTHD_TEST_ACTION_REDIS_PASSWORD");
  EXPECT_FALSE(r2.outcome.success);
  EXPECT_TRUE(contains(r2.outcome.message, "***")) << r2.outcome.message;
  EXPECT_FALSE(contains(r2.outcome.message, password)) << r2.outcome.message;
}

TEST_F(redis_action_test, empty_argv_is_a_config_error) {
  EXPECT_THROW((void)h_.make("redis", redis({}, 6379)), actions::action_config_error);
}

// ---- exec ---------------------------------------------------------------------------------------------------------
config::exec_action exec_options(std::vector<std::string> argv) { return config::exec_action{std::move(argv), {}}; }

TEST(exec_action, exit_zero_is_success_with_the_output) {
  action_harness h;
  auto action = h.make("exec", exec_options({"/bin/sh", "-c", "echo redis restarted; echo second line"}));
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "exit 0: redis restarted");
}

TEST(exec_action, invalid_utf8_output_comes_out_as_replacement_characters) {
  action_harness h;
  auto action = h.make("exec", exec_options({"/bin/sh", "-c", "printf 'restarted \\377\\376\\n'"}));
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "exit 0: restarted \uFFFD\uFFFD");
}

TEST(exec_action, exit_one_is_failure_with_stderr) {
  action_harness h;
  auto action = h.make("exec", exec_options({"/bin/sh", "-c", "echo cannot restart >&2; exit 1"}));
  const auto r = h.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "exit 1: cannot restart");
}

TEST(exec_action, configured_env_reaches_the_child) {
  action_harness h;
  auto options = exec_options({"/bin/sh", "-c", "echo \"$HEAL_TARGET\""});
  options.env = {{"HEAL_TARGET", "orders-db"}};
  auto action = h.make("exec", options);
  const auto r = h.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "exit 0: orders-db");
}

TEST(exec_action, missing_program_fails) {
  action_harness h;
  auto action = h.make("exec", exec_options({"/nonexistent/restart-redis"}));
  const auto r = h.run(*action);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_FALSE(r.outcome.message.empty());
  EXPECT_EQ(r.outcome.message.rfind("spawn: /nonexistent/restart-redis: ", 0), 0U) << r.outcome.message;
}

TEST(exec_action, child_outliving_the_timeout_is_killed_by_the_deadline) {
  action_harness h;
  const auto marker =
      std::filesystem::temp_directory_path() / ("healthd-exec-action-" + std::to_string(::getpid()) + ".marker");
  std::filesystem::remove(marker);
  // The marker would appear only if the child (or its sleep, in the same process group) survived the kill.
  auto action = h.make("exec", exec_options({"/bin/sh", "-c", "sleep 1.5; touch " + marker.string()}), 300);
  const auto r = h.run(*action);
  print_figure("exec action, child sleeping past timeout 300 ms", r.elapsed);
  EXPECT_FALSE(r.outcome.success);
  EXPECT_EQ(r.outcome.message, "timeout after 300 ms");
  EXPECT_LT(r.elapsed, 1300ms + sanitizer_slack);
  std::this_thread::sleep_for(2s);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the child survived its timeout";
  std::filesystem::remove(marker);
}

TEST(exec_action, daemonizing_command_that_keeps_stdout_is_a_success_and_its_server_survives) {
  action_harness h;
  const auto pid_file =
      std::filesystem::temp_directory_path() / ("healthd-exec-daemon-" + std::to_string(::getpid()) + ".pid");
  std::filesystem::remove(pid_file);
  const auto server_pid = [&] {
    std::ifstream in(pid_file);
    int pid = 0;
    in >> pid;
    return pid;
  };
  struct cleanup {
    std::function<void()> run;
    ~cleanup() { run(); }
  } kill_server{[&] {
    if (const int pid = server_pid(); pid > 0) ::kill(pid, SIGKILL);
    std::filesystem::remove(pid_file);
  }};
  // Like `pg_ctl start` without -l: the started "server" inherits the action's stdout and stderr.
  auto action = h.make(
      "exec", exec_options({"/bin/sh", "-c", "sleep 30 & echo $! > " + pid_file.string() + "; echo server started"}),
      5000);
  const auto r = h.run(*action);
  print_figure("exec action, daemonizing command holding stdout, timeout 5 s", r.elapsed);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "exit 0: server started");
  EXPECT_LT(r.elapsed, 2s);
  const int pid = server_pid();
  ASSERT_GT(pid, 0);
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  EXPECT_FALSE(line.empty()) << "the started server was killed";
  EXPECT_EQ(line.find(") Z"), std::string::npos) << "the started server was killed (zombie)";
}

TEST(exec_action, empty_argv_is_a_config_error) {
  action_harness h;
  EXPECT_THROW((void)h.make("exec", exec_options({})), actions::action_config_error);
}

// ---- reconnect ----------------------------------------------------------------------------------------------------
class reconnect_action_test : public redis_action_test {};

TEST_F(reconnect_action_test, drops_the_probe_connection_and_the_next_probe_reconnects) {
  config::redis_probe options;
  options.port = running_port();
  config::probe_config probe_cfg;
  probe_cfg.type = "redis";
  probe_cfg.timeout_ms = 2000;
  probe_cfg.options = options;
  auto probe = probes::probe_registry::builtin().create(
      probe_cfg, probes::probe_context{h_.io.get_executor(), &h_.pool, {}, "cache"});

  const auto run_probe = [&] {
    std::optional<probe_result> out;
    boost::asio::co_spawn(h_.io, probe->run(), [&](const std::exception_ptr& e, probe_result r) {
      if (e) std::rethrow_exception(e);
      out = std::move(r);
    });
    h_.io.restart();
    h_.io.run();
    if (!out) throw std::logic_error("probe did not complete");
    return std::move(*out);
  };

  const auto first = run_probe();
  ASSERT_EQ(first.status, probe_status::healthy) << first.message;
  ASSERT_TRUE(probe->idle_socket().has_value());

  auto context = h_.context("cache");
  context.probe = probe.get();
  context.subsystem_probe = probe_cfg;
  auto action = actions::action_registry::builtin().create(
      action_harness::config_of("reconnect", config::reconnect_action{}), context);
  const auto r = h_.run(*action);
  EXPECT_TRUE(r.outcome.success) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "connections dropped");
  EXPECT_FALSE(probe->idle_socket().has_value()) << "the kept connection survived the reconnect action";

  const auto second = run_probe();
  EXPECT_EQ(second.status, probe_status::healthy) << second.message;
  EXPECT_TRUE(probe->idle_socket().has_value());
}

TEST(reconnect_action, without_a_probe_is_a_config_error) {
  action_harness h;
  EXPECT_THROW((void)h.make("reconnect", config::reconnect_action{}), actions::action_config_error);
}

}  // namespace
}  // namespace healthd::test
