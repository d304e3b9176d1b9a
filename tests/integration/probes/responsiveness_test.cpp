// Probes never block the I/O thread, and never leak secrets.

#include "probe_harness.hpp"
#include "support/fake_peers.hpp"
#include "support/throwaway_servers.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;

TEST(probes, eight_probes_hanging_on_silent_servers_do_not_delay_an_asio_timer) {
  probe_harness h;
  auto silent = make_silent_server();
  const auto port = silent->port();
  const auto at = [&](const std::string& scheme) { return scheme + "://127.0.0.1:" + std::to_string(port) + "/"; };
  constexpr int timeout_ms = 1500;
  std::vector<std::unique_ptr<probes::probe>> hanging;
  const auto pg = "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres";
  hanging.push_back(h.make(config::postgres_probe{pg}, timeout_ms, 0, "database"));
  hanging.push_back(h.make(config::postgres_probe{pg}, timeout_ms, 0, "database_replica"));
  config::redis_probe redis;
  redis.port = port;
  hanging.push_back(h.make(redis, timeout_ms, 0, "redis"));
  config::http_probe http;
  http.url = at("http");
  hanging.push_back(h.make(http, timeout_ms, 0, "siem"));
  http.url = at("https");
  hanging.push_back(h.make(http, timeout_ms, 0, "threat_intel"));
  config::websocket_probe ws;
  ws.url = at("ws");
  hanging.push_back(h.make(ws, timeout_ms, 0, "websocket"));
  ws.url = at("wss");
  hanging.push_back(h.make(ws, timeout_ms, 0, "websocket_tls"));
  config::exec_probe exec;
  exec.argv = {"sleep", "10"};
  hanging.push_back(h.make(exec, timeout_ms, 0, "pipeline"));

  std::vector<std::optional<timed_result>> results(hanging.size());
  std::size_t done = 0;
  std::chrono::steady_clock::duration worst_lag{};
  int ticks = 0;
  // The timer's schedule starts before the probes do, so whatever a probe does on the thread while starting (such
  // as loading a CA bundle) shows up as lag.
  boost::asio::co_spawn(
      h.io,
      [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer timer(h.io);
        auto next = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < hanging.size(); ++i) {
          const auto start = std::chrono::steady_clock::now();
          boost::asio::co_spawn(h.io, hanging[i]->run(), [&, i, start](const std::exception_ptr&, probe_result r) {
            results[i] = timed_result{std::move(r), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::steady_clock::now() - start)};
            ++done;
          });
        }
        while (done < hanging.size()) {
          next += 50ms;
          timer.expires_at(next);
          co_await timer.async_wait(boost::asio::use_awaitable);
          worst_lag = std::max(worst_lag, std::chrono::steady_clock::now() - next);
          ++ticks;
        }
      },
      [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
      });
  h.io.run();

  const auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(worst_lag);
  print_figure("worst timer lag over " + std::to_string(ticks) + " ticks with 8 hanging probes", lag);
  EXPECT_LT(lag, 250ms);
  EXPECT_GT(ticks, 20);
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i]) << "probe " << i;
    print_figure("hanging probe " + std::to_string(i) + " (" + results[i]->result.message + ")", results[i]->elapsed);
    EXPECT_EQ(results[i]->result.status, probe_status::critical);
    EXPECT_EQ(results[i]->result.message.rfind("timeout after 1500 ms", 0), 0U) << results[i]->result.message;
    EXPECT_LE(results[i]->elapsed, std::chrono::milliseconds(timeout_ms + 1000) + sanitizer_slack);
  }
}

bool leaks(const probe_result& r, const std::vector<std::string>& secrets) {
  const auto text = r.message + " " + r.details.dump();
  for (const auto& s : secrets)
    if (text.find(s) != std::string::npos) return true;
  return false;
}

TEST(probes, no_message_or_detail_contains_a_conninfo_password_or_substituted_value) {
  probe_harness h;
  const std::string pg_password = "pg-Secr3t";
  const std::string token = "tok-9876";  // as if substituted from ${FEED_TOKEN}
  h.secrets.add(token);
  const std::vector<std::string> secrets = {pg_password, token};
  std::vector<probe_result> results;

  // The probe finds the conninfo password itself; the query echoes it back in the server's error.
  std::unique_ptr<throwaway_postgres> own;
  std::string conninfo;
  if (auto shared = shared_postgres_conninfo()) {
    conninfo = *shared;
  } else {
    own = std::make_unique<throwaway_postgres>();
    own->start();
    conninfo = own->conninfo();
  }
  config::postgres_probe pg;
  pg.conninfo = conninfo + " password=" + pg_password;
  pg.query = "SELECT '" + pg_password + "'::int";
  results.push_back(h.run(*h.make(pg)).result);
  EXPECT_NE(results.back().message.find("***"), std::string::npos) << results.back().message;
  pg.conninfo = "postgresql://postgres:" + pg_password + "@127.0.0.1:" + std::to_string(free_port()) + "/postgres";
  results.push_back(h.run(*h.make(pg)).result);

  // A header value that the server reflects into the JSON the rule reads.
  auto server = make_http_server([](const seen_request& request) {
    return canned_response{200, R"({"who":")" + request.headers.at("authorization") + R"("})", "application/json"};
  });
  config::http_probe http;
  http.url = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
  http.headers = {{"Authorization", "Bearer " + token}};
  http.rule = config::json_rule{"/who", {}, probe_status::critical};
  results.push_back(h.run(*h.make(http)).result);
  EXPECT_EQ(results.back().message, "/who is Bearer ***");

  // A plugin that prints its environment.
  config::exec_probe exec;
  exec.argv = {"/bin/sh", "-c", "echo \"token is $FEED_TOKEN | len=8\"; echo \"$FEED_TOKEN\" >&2; exit 2"};
  exec.env = {{"FEED_TOKEN", token}};
  results.push_back(h.run(*h.make(exec)).result);
  EXPECT_EQ(results.back().message, "token is ***");

  for (const auto& r : results)
    EXPECT_FALSE(leaks(r, secrets)) << r.message << " " << r.details.dump();
}

}  // namespace
}  // namespace healthd::test
