// The HTTP API over real sockets on 127.0.0.1: routes and status codes, limits, deadlines, connection cap,
// concurrency and graceful shutdown.

#include "api_server_fixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <latch>
#include <random>
#include <sys/resource.h>
#include <unistd.h>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

header_list bearer(const std::string& token = admin_token) { return {{"Authorization", "Bearer " + token}}; }

std::string error_code(const http_reply& r) {
  return nlohmann::json::parse(r.body)["error"]["code"].get<std::string>();
}

template <typename Predicate>
bool eventually(Predicate p, std::chrono::milliseconds limit = 5s) {
  const auto deadline = clock_type::now() + limit;
  while (clock_type::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

double elapsed_ms(clock_type::time_point since) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - since).count();
}

TEST(api_server, start_on_a_taken_port_throws_system_error) {
  api_server first;
  boost::asio::io_context io;
  api::server_options options;
  options.port = first.port();
  api::http_server second(
      io.get_executor(), options,
      [](api::http_request) -> boost::asio::awaitable<api::http_response> { co_return api::http_response{}; });
  EXPECT_THROW(second.start(), std::system_error);
}

TEST(api_server, every_platform_route_answers_over_loopback) {
  api_server api;
  http_test_client client(api.port());

  auto r = client.get("/api/v1/platform/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_TRUE(r.header("ETag").has_value());
  EXPECT_EQ(nlohmann::json::parse(r.body)["subsystems"]["database"]["status"], "pending");

  r = client.get("/api/v1/platform/circuit-breakers");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["circuit_breakers"].size(), 2U);

  r = client.get("/api/v1/platform/healing-log?limit=5");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["capacity"], 20);
  EXPECT_EQ(client.get("/api/v1/platform/healing-log?limit=zero").status, 400);

  r = client.get("/api/v1/platform/subsystems/redis");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["name"], "redis");
  EXPECT_EQ(client.get("/api/v1/platform/subsystems/nope").status, 404);

  r = client.request("POST", "/api/v1/platform/heal/redis", bearer(), R"({"reason":"integration"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["entries"][0]["detail"], "integration");

  EXPECT_EQ(client.get("/livez").status, 200);
  EXPECT_EQ(client.get("/readyz").status, 503);
  api.platform.probe_all_healthy();
  EXPECT_EQ(client.get("/readyz").status, 200);

  r = client.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("healthd_http_requests_total{route=\"/livez\",code=\"200\"} 1"), std::string::npos);
  EXPECT_NE(r.body.find("healthd_http_connections 1"), std::string::npos);

  r = client.get("/api/v1/platform/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  r = client.request("DELETE", "/api/v1/platform/health");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");
}

TEST(api_server, etag_round_trip_gives_304_until_the_state_changes) {
  api_server api;
  http_test_client client(api.port());
  const auto first = client.get("/api/v1/platform/health");
  const auto tag = *first.header("ETag");
  auto r = client.get("/api/v1/platform/health", {{"If-None-Match", tag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("ETag"), tag);
  api.platform.probe("redis", probe_status::degraded);
  r = client.get("/api/v1/platform/health", {{"If-None-Match", tag}});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.header("ETag"), tag);
}

TEST(api_server, head_gets_the_headers_and_length_without_body) {
  api_server api;
  http_test_client client(api.port());
  const auto get = client.get("/api/v1/platform/health");
  const auto head = client.request("HEAD", "/api/v1/platform/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size()));
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(client.get("/livez").status, 200);  // the connection is still in step
}

TEST(api_server, heal_auth_missing_wrong_right_and_disabled) {
  api_server api;
  http_test_client client(api.port());
  auto r = client.request("POST", "/api/v1/platform/heal/redis");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"platform-healthd\"");
  EXPECT_EQ(client.request("POST", "/api/v1/platform/heal/redis", bearer("wrong")).status, 403);
  EXPECT_EQ(client.request("POST", "/api/v1/platform/heal/redis", bearer()).status, 200);

  api_server disabled({}, {});
  http_test_client other(disabled.port());
  r = other.request("POST", "/api/v1/platform/heal/redis", bearer());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["message"], "admin endpoint disabled");
}

TEST(api_server, heal_statuses_reach_the_client) {
  api_server api;
  http_test_client client(api.port());
  api.platform.heal.set_answer([](const manual_heal_request&) {
    return manual_heal_outcome{manual_heal_refused{heal_refusal::platform_cap_full, "two heals running", 3s}};
  });
  auto r = client.request("POST", "/api/v1/platform/heal/redis", bearer());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("Retry-After"), "3");
  api.platform.heal.set_answer([](const manual_heal_request&) {
    return manual_heal_outcome{manual_heal_refused{heal_refusal::dependency_critical, "database is critical", {}}};
  });
  r = client.request("POST", "/api/v1/platform/heal/redis", bearer());
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_code(r), "dependency_critical");
  EXPECT_EQ(client.request("POST", "/api/v1/platform/heal/nope", bearer()).status, 404);
  EXPECT_EQ(client.request("POST", "/api/v1/platform/heal/redis", bearer(), "{not json").status, 400);
  for (int i = 2; i < 10; ++i)
    (void)client.request("POST", "/api/v1/platform/heal/redis", bearer());
  r = client.request("POST", "/api/v1/platform/heal/redis", bearer());
  EXPECT_EQ(r.status, 429);
  EXPECT_TRUE(r.header("Retry-After").has_value());
}

TEST(api_server, heal_past_its_deadline_gets_504_and_its_entry_appears_later) {
  // redis: an action of 100 ms and a probe of 100 ms, plus a 200 ms margin: the deadline is 400 ms; the heal
  // (the fake engine) takes 1.5 s and writes one entry as it starts, one as it ends.
  auto c = api_test_config();
  c.subsystems[1].probe.timeout_ms = 100;
  config::action_config action;
  action.type = "exec";
  action.timeout_ms = 100;
  action.options = config::exec_action{{"sleep", "30"}, {}};
  c.subsystems[1].heal.actions = {action};
  auto options = api_server::default_router();
  options.heal_deadline_margin = 200ms;
  api_server api(options, c, 2);
  healing_entry first;
  first.subsystem = "redis";
  first.action = "exec";
  first.trigger = heal_trigger::manual;
  first.result = heal_result::failure;
  api.platform.heal.set_on_start([&](const manual_heal_request&) { (void)api.platform.log.append(first); });
  api.platform.heal.set_delay(1500ms);
  http_test_client client(api.port());
  const auto started = clock_type::now();
  const auto r = client.request("POST", "/api/v1/platform/heal/redis", bearer());
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(error_code(r), "heal_timeout");
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["entry_ids"], nlohmann::json::array({1}));
  EXPECT_GE(elapsed_ms(started), 390);
  EXPECT_LT(elapsed_ms(started), 1400) << "answered only when the heal ended";
  EXPECT_EQ(api.platform.heal.finished, 0);
  // The heal goes on; its final entry reaches the healing log.
  EXPECT_TRUE(eventually([&] { return api.platform.heal.finished == 1; }));
  const auto log = nlohmann::json::parse(client.get("/api/v1/platform/healing-log").body);
  ASSERT_EQ(log["entries"].size(), 2U);
  EXPECT_EQ(log["entries"][0]["id"], 2);
  EXPECT_EQ(log["entries"][0]["result"], "success");
}

class api_server_static : public ::testing::Test {
protected:
  void SetUp() override {
    base_ = std::filesystem::temp_directory_path() / ("healthd-api-static-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(base_ / "site" / "platform-health");
    std::ofstream(base_ / "site" / "platform-health" / "index.html") << "<html>dashboard</html>";
    std::ofstream(base_ / "site" / "app.js") << "let x = 1;";
    std::ofstream(base_ / "secret.txt") << "secret";
    std::filesystem::create_symlink(base_ / "secret.txt", base_ / "site" / "leak.txt");
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  [[nodiscard]] api::router_options options() const {
    auto o = api_server::default_router();
    o.static_dir = base_ / "site";
    return o;
  }

  std::filesystem::path base_;
};

TEST_F(api_server_static, dashboard_is_served_with_mime_types_and_root_redirects) {
  api_server api({}, options());
  http_test_client client(api.port());
  auto r = client.get("/");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("Location"), "/platform-health/");
  r = client.get("/platform-health/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<html>dashboard</html>");
  r = client.get("/platform-health");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location"), "/platform-health/");
  r = client.get("/app.js");
  EXPECT_EQ(r.header("Content-Type"), "text/javascript; charset=utf-8");
}

TEST_F(api_server_static, traversal_attempts_are_404) {
  api_server api({}, options());
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/platform-health/..%2f..%2fsecret.txt",
        "/platform-health/../../secret.txt", "/leak.txt", "/.%2e/secret.txt", "/%252e%252e/secret.txt"}) {
    const auto r = http_once(api.port(), "GET", target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << target;
  }
}

TEST_F(api_server_static, gzip_etag_304_and_head_over_the_wire) {
  std::string script;
  for (int i = 0; i < 100; ++i)
    script += "let panel_" + std::to_string(i % 5) + " = document.createElement('section');\n";
  std::ofstream(base_ / "site" / "big.js") << script;
  api_server api({}, options());
  http_test_client client(api.port());
  const header_list gzip{{"Accept-Encoding", "gzip, br"}};
  const auto packed = client.get("/big.js", gzip);
  EXPECT_EQ(packed.status, 200);
  EXPECT_EQ(packed.header("Content-Encoding"), "gzip");
  EXPECT_EQ(packed.header("Vary"), "Accept-Encoding");
  EXPECT_LT(packed.body.size(), script.size());
  EXPECT_EQ(packed.body.substr(0, 2), "\x1f\x8b");  // the gzip magic (the unit tests inflate it)
  const auto plain = client.get("/big.js", {{"Accept-Encoding", "gzip;q=0"}});
  EXPECT_FALSE(plain.header("Content-Encoding"));
  EXPECT_EQ(plain.body, script);
  EXPECT_NE(plain.header("ETag"), packed.header("ETag"));
  const auto not_modified =
      client.get("/big.js", {{"Accept-Encoding", "gzip"}, {"If-None-Match", *packed.header("ETag")}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  client.send_raw("HEAD /big.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  const auto head = client.read_reply(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(packed.body.size()));
  EXPECT_EQ(client.get("/app.js").status, 200);  // the connection survived the HEAD
}

TEST_F(api_server_static, files_are_served_from_memory_not_read_per_request) {
  api_server api({}, options());
  std::filesystem::remove(base_ / "site" / "app.js");
  std::ofstream(base_ / "site" / "platform-health" / "index.html") << "<html>overwritten</html>";
  EXPECT_EQ(http_once(api.port(), "GET", "/app.js").body, "let x = 1;");
  EXPECT_EQ(http_once(api.port(), "GET", "/platform-health/").body, "<html>dashboard</html>");
  // Until the store loads again.
  ASSERT_TRUE(api.router().site()->load().replaced);
  EXPECT_EQ(http_once(api.port(), "GET", "/app.js").status, 404);
  EXPECT_EQ(http_once(api.port(), "GET", "/platform-health/").body, "<html>overwritten</html>");
}

TEST_F(api_server_static, double_slash_redirect_stays_on_this_host) {
  api_server api({}, options());
  const auto r = http_once(api.port(), "GET", "//platform-health");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location"), "/platform-health/");
}

TEST(api_server, oversized_header_gets_431) {
  api_server api;
  http_test_client client(api.port());
  const auto r = client.get("/livez", {{"X-Padding", std::string(9000, 'a')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(error_code(r), "headers_too_large");
  EXPECT_TRUE(client.wait_closed(2s));
}

TEST(api_server, oversized_body_gets_413) {
  api_server api;
  http_test_client client(api.port());
  const auto r =
      client.request("POST", "/api/v1/platform/heal/redis", bearer(), std::string(std::size_t{70} * 1024, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code(r), "payload_too_large");
  EXPECT_EQ(api.platform.heal.started, 0);
}

TEST(api_server, oversized_chunked_body_gets_413) {
  api_server api;
  http_test_client client(api.port());
  std::string request =
      "POST /api/v1/platform/heal/redis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Authorization: Bearer integration-token\r\n\r\n";
  for (int i = 0; i < 20; ++i)
    request += "1000\r\n" + std::string(0x1000, 'x') + "\r\n";
  request += "0\r\n\r\n";
  client.send_raw(request);
  const auto r = client.read_reply();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(api.platform.heal.started, 0);
}

TEST(api_server, expect_100_continue_is_honoured) {
  api_server api;
  http_test_client client(api.port());
  client.send_raw(
      "POST /api/v1/platform/heal/redis HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer integration-token\r\n"
      "Expect: 100-continue\r\nContent-Length: 15\r\n\r\n");
  client.send_raw(R"({"reason":"go"})");
  const auto r = client.read_reply();  // skips the 100
  EXPECT_EQ(r.status, 200);
}

TEST(api_server, malformed_request_gets_400_and_close) {
  api_server api;
  http_test_client client(api.port());
  client.send_raw("GET /livez HTTP/9.9\r\nHost: x\r\n\r\n");
  const auto r = client.read_reply();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "bad_request");
  EXPECT_TRUE(client.wait_closed(2s));
}

TEST(api_server, two_host_headers_get_400_and_close) {
  // RFC 9112 section 3.2: a request with more than one Host field is answered 400.
  api_server api;
  http_test_client client(api.port());
  client.send_raw("GET /livez HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n");
  const auto r = client.read_reply();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "bad_request");
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(client.wait_closed(2s));
}

TEST(api_server, transfer_encoding_not_ending_in_chunked_gets_400_and_close) {
  // RFC 9112 section 6.3: a request whose final transfer coding is not chunked has no knowable length.
  for (const std::string coding : {"gzip", "chunked, gzip", "identity"}) {
    SCOPED_TRACE(coding);
    api_server api;
    http_test_client client(api.port());
    client.send_raw("POST /api/v1/platform/heal/redis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                    "\r\nAuthorization: Bearer integration-token\r\n\r\n0\r\n\r\n");
    const auto r = client.read_reply();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(client.wait_closed(2s));
    EXPECT_EQ(api.platform.heal.started, 0);
  }
}

TEST(api_server, request_target_over_4_kib_gets_414) {
  api_server api;
  http_test_client client(api.port());
  const auto r = client.get("/api/v1/platform/healing-log?subsystem=" + std::string(4200, 'a'));
  EXPECT_EQ(r.status, 414);
  EXPECT_EQ(error_code(r), "uri_too_long");
  EXPECT_TRUE(client.wait_closed(2s));
  // Longer than the whole header limit: still 414, not 431.
  http_test_client longer(api.port());
  EXPECT_EQ(longer.get("/livez?pad=" + std::string(9000, 'a')).status, 414);
  // 4 KiB itself is still served.
  http_test_client other(api.port());
  const std::string prefix = "/api/v1/platform/healing-log?subsystem=";
  EXPECT_EQ(other.get(prefix + std::string(4096 - prefix.size(), 'a')).status, 200);
}

TEST(api_server, pipelined_requests_are_answered_in_order) {
  api_server api;
  http_test_client client(api.port());
  client.send_raw(
      "GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /api/v1/platform/health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read_reply().status, 200);
  EXPECT_EQ(client.read_reply().status, 404);
  const auto health = client.read_reply();
  EXPECT_EQ(health.status, 200);
  EXPECT_TRUE(health.header("ETag").has_value());
}

TEST(api_server, connection_close_is_honoured) {
  api_server api;
  http_test_client client(api.port());
  const auto r = client.get("/livez", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(client.wait_closed(2s));
}

TEST(api_server, exception_in_a_handler_is_a_500_and_the_server_keeps_serving) {
  api_server api;
  api.throw_on_target = "/boom";
  http_test_client client(api.port());
  const auto r = client.get("/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_code(r), "internal_error");
  EXPECT_EQ(client.get("/livez").status, 200);
  EXPECT_EQ(http_once(api.port(), "GET", "/livez").status, 200);
}

TEST(api_server, half_request_is_closed_by_the_deadline_while_others_are_served) {
  api::server_options options;
  options.header_timeout = 200ms;
  api_server api(options);
  http_test_client stalled(api.port());
  const auto start = clock_type::now();
  stalled.send_raw("GET /api/v1/platform/health HTTP/1.1\r\nHost: x\r\nX-Half: ");

  // Meanwhile other clients are answered promptly, on a kept-alive and on fresh connections.
  http_test_client other(api.port());
  double slowest_ms = 0;
  for (int i = 0; i < 10; ++i) {
    const auto t = clock_type::now();
    EXPECT_EQ(other.get("/api/v1/platform/health").status, 200);
    EXPECT_EQ(http_once(api.port(), "GET", "/livez").status, 200);
    slowest_ms = std::max(slowest_ms, elapsed_ms(t));
  }
  EXPECT_TRUE(stalled.wait_closed(2s));
  const double closed_after = elapsed_ms(start);
  EXPECT_GE(closed_after, 150.0);
  EXPECT_LT(closed_after, 1000.0);
  EXPECT_LT(slowest_ms, 150.0);
  std::printf("half request closed after %.0f ms; slowest other request pair %.1f ms\n", closed_after, slowest_ms);
}

TEST(api_server, silent_connection_is_closed_by_the_header_deadline) {
  api::server_options options;
  options.header_timeout = 150ms;
  api_server api(options);
  http_test_client silent(api.port());
  const auto start = clock_type::now();
  EXPECT_TRUE(silent.wait_closed(2s));
  EXPECT_LT(elapsed_ms(start), 1000.0);
}

TEST(api_server, idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
  api::server_options options;
  options.idle_timeout = 200ms;
  api_server api(options);
  http_test_client client(api.port());
  EXPECT_EQ(client.get("/livez").status, 200);
  EXPECT_FALSE(client.wait_closed(100ms));
  EXPECT_TRUE(client.wait_closed(2s));
}

TEST(api_server, connections_beyond_the_limit_get_503_and_close) {
  api::server_options options;
  options.max_connections = 2;
  api_server api(options);
  http_test_client a(api.port());
  http_test_client b(api.port());
  EXPECT_EQ(a.get("/livez").status, 200);
  EXPECT_EQ(b.get("/livez").status, 200);
  ASSERT_TRUE(eventually([&] { return api.server().open_connections() == 2; }));

  http_test_client c(api.port());
  const auto r = c.get("/livez");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_code(r), "overloaded");
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_EQ(api.platform.metrics.read().connections_rejected, 1U);

  // A freed slot is usable again.
  EXPECT_EQ(a.get("/livez", {{"Connection", "close"}}).status, 200);
  ASSERT_TRUE(eventually([&] { return api.server().open_connections() == 1; }));
  EXPECT_EQ(http_once(api.port(), "GET", "/livez").status, 200);
}

TEST(api_server, two_hundred_concurrent_keep_alive_clients) {
  api_server api;
  constexpr int clients = 200;
  constexpr int requests_each = 10;
  std::latch all_connected(clients);
  std::atomic<int> ok{0};
  std::atomic<int> failures{0};
  std::atomic<std::size_t> open_at_peak{0};
  const auto start = clock_type::now();
  {
    std::vector<std::jthread> threads;
    threads.reserve(clients);
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&] {
        try {
          http_test_client client(api.port(), 30s);
          for (int n = 0; n < requests_each; ++n) {
            const auto r = client.get(n % 2 == 0 ? "/api/v1/platform/health" : "/api/v1/platform/circuit-breakers");
            if (r.status == 200) ++ok;
            if (n == 0) {
              all_connected.arrive_and_wait();
              open_at_peak = std::max(open_at_peak.load(), api.server().open_connections());
            }
          }
        } catch (const std::exception&) {
          ++failures;
          all_connected.count_down();
        }
      });
    }
  }
  const double ms = elapsed_ms(start);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(ok, clients * requests_each);
  EXPECT_EQ(open_at_peak, static_cast<std::size_t>(clients));  // all were open at once, kept alive
  EXPECT_LE(api.router().renders_for_test(), 2U);              // two documents, rendered once each
  std::printf("%d keep-alive clients x %d requests: %.0f ms (%.0f requests/s)\n", clients, requests_each, ms,
              clients * requests_each / (ms / 1000.0));
}

TEST(api_server, graceful_shutdown_lets_a_request_in_flight_finish) {
  api_server api;
  api.platform.heal.set_delay(400ms);
  http_test_client idle(api.port());
  EXPECT_EQ(idle.get("/livez").status, 200);

  http_reply in_flight;
  std::jthread poster([&] {
    http_test_client client(api.port());
    in_flight = client.request("POST", "/api/v1/platform/heal/redis", bearer(), R"({"reason":"before shutdown"})");
  });
  ASSERT_TRUE(eventually([&] { return api.platform.heal.started == 1; }));

  const auto start = clock_type::now();
  auto done = api.begin_shutdown();
  EXPECT_TRUE(idle.wait_closed(1s));                                    // idle connections go at once
  EXPECT_THROW(http_test_client late(api.port()), std::runtime_error);  // no longer accepting
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  const double ms = elapsed_ms(start);
  poster.join();
  EXPECT_EQ(in_flight.status, 200);
  EXPECT_EQ(in_flight.header("Connection"), "close");
  EXPECT_EQ(nlohmann::json::parse(in_flight.body)["entries"][0]["detail"], "before shutdown");
  EXPECT_LT(ms, 2000.0);
  std::printf("shutdown with a 400 ms request in flight took %.0f ms\n", ms);
}

TEST(api_server, shutdown_closes_requests_that_outlast_the_grace_period) {
  api::server_options options;
  options.shutdown_grace = 200ms;
  api_server api(options);
  api.platform.heal.set_delay(30s);
  std::atomic<bool> closed{false};
  std::jthread poster([&] {
    http_test_client client(api.port(), 10s);
    try {
      (void)client.request("POST", "/api/v1/platform/heal/redis", bearer());
    } catch (const std::runtime_error&) {
      closed = true;
    }
  });
  ASSERT_TRUE(eventually([&] { return api.platform.heal.started == 1; }));
  const auto start = clock_type::now();
  ASSERT_TRUE(api.shutdown(5s));
  const double ms = elapsed_ms(start);
  poster.join();
  EXPECT_TRUE(closed);
  EXPECT_GE(ms, 150.0);
  EXPECT_LT(ms, 2000.0);
  EXPECT_EQ(api.platform.heal.finished, 0);
}

// Holds the soft RLIMIT_NOFILE at a lower value for a test and restores it, even when the test fails.
class open_file_limit {
public:
  explicit open_file_limit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~open_file_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  open_file_limit(const open_file_limit&) = delete;
  open_file_limit& operator=(const open_file_limit&) = delete;

private:
  rlimit saved_{};
};

TEST(api_server, out_of_descriptors_backs_off_instead_of_spinning) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check verifies an object through a pipe of its own; with every descriptor taken it cannot, and
  // reports each virtual call (Asio's scheduler, spdlog) as a bad one. The default build runs this test.
  GTEST_SKIP() << "needs every file descriptor, which the sanitizer runtime itself uses";
#endif
  api_server api;
  std::vector<int> fillers;
  std::optional<http_test_client> client;
  {
    rlimit current{};
    ::getrlimit(RLIMIT_NOFILE, &current);
    int highest = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
      highest = std::max(highest, std::stoi(entry.path().filename().string()));
    const open_file_limit limit(static_cast<rlim_t>(highest) + 64);
    // Use up every descriptor but one, which the client's socket takes: the server cannot accept it.
    for (;;) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fillers.push_back(fd);
    }
    ASSERT_FALSE(fillers.empty());
    ::close(fillers.back());
    fillers.pop_back();
    client.emplace(api.port());
    client->send_raw("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(350ms);
    const auto backoffs = api.platform.metrics.read().accept_backoffs;
    EXPECT_GE(backoffs, 1U);
    EXPECT_LE(backoffs, 8U);  // about one per 100 ms, not a busy loop
    for (const int fd : fillers)
      ::close(fd);
  }
  // Descriptors are back: the waiting connection is accepted and answered.
  EXPECT_EQ(client->read_reply().status, 200);
}

}  // namespace
}  // namespace healthd::test
