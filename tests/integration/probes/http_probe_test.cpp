// tcp, http and websocket probes against local fake peers.

#include "healthd/io/http_client.hpp"

#include "probe_harness.hpp"
#include "support/fake_peers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;

std::string local_url(const std::string& scheme, std::uint16_t port, const std::string& target = "/") {
  return scheme + "://127.0.0.1:" + std::to_string(port) + target;
}

std::uint16_t closed_port() { return free_port(); }

config::http_probe http_options(std::string url) {
  config::http_probe options;
  options.url = std::move(url);
  return options;
}

// ---- tcp --------------------------------------------------------------------------------------------------------
TEST(tcp_probe, listening_port_is_healthy) {
  probe_harness h;
  auto server = make_silent_server();
  auto probe = h.make(config::tcp_probe{"127.0.0.1", server->port()});
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.details["port"], server->port());
}

TEST(tcp_probe, refused_port_fails_fast_with_the_reason) {
  probe_harness h;
  auto probe = h.make(config::tcp_probe{"127.0.0.1", closed_port()});
  const auto r = h.run(*probe);
  print_figure("tcp refused", r.elapsed);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "connect: Connection refused");
  EXPECT_LT(r.elapsed, 1000ms);
}

TEST(tcp_probe, host_names_are_resolved) {
  probe_harness h;
  auto server = make_silent_server();
  auto probe = h.make(config::tcp_probe{"localhost", server->port()});
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
}

// ---- http -------------------------------------------------------------------------------------------------------
TEST(http_probe, ok_answer_is_healthy_and_the_connection_is_kept) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; });
  auto probe = h.make(http_options(local_url("http", server->port(), "/health")));
  const auto first = h.run(*probe);
  const auto second = h.run(*probe);
  EXPECT_EQ(first.result.status, probe_status::healthy) << first.result.message;
  EXPECT_EQ(first.result.message, "HTTP 200");
  EXPECT_EQ(second.result.status, probe_status::healthy) << second.result.message;
  EXPECT_EQ(first.result.details["reused_connection"], false);
  EXPECT_EQ(second.result.details["reused_connection"], true);
  EXPECT_EQ(server->accepted(), 1);
}

TEST(http_probe, reconnect_drops_the_kept_connection) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; });
  auto probe = h.make(http_options(local_url("http", server->port())));
  (void)h.run(*probe);
  probe->reconnect();
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy);
  EXPECT_EQ(r.result.details["reused_connection"], false);
  EXPECT_EQ(server->accepted(), 2);
}

TEST(http_probe, kept_connection_closed_by_the_server_is_retried_on_a_fresh_one) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) {
    canned_response reply{200, "ok"};
    reply.drop_after = true;
    return reply;
  });
  auto probe = h.make(http_options(local_url("http", server->port())));
  EXPECT_EQ(h.run(*probe).result.status, probe_status::healthy);
  std::this_thread::sleep_for(50ms);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(server->accepted(), 2);
}

TEST(http_probe, unexpected_status_is_critical_with_the_code) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{503, "down"}; });
  auto probe = h.make(http_options(local_url("http", server->port())));
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "HTTP 503");
  EXPECT_EQ(r.result.details["expected_status"], "200-299");
}

TEST(http_probe, expect_status_list_accepts_listed_codes) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{404, ""}; });
  auto options = http_options(local_url("http", server->port()));
  options.expect_status = {{200, 299}, {404, 404}};
  auto probe = h.make(options);
  EXPECT_EQ(h.run(*probe).result.status, probe_status::healthy);
}

TEST(http_probe, refused_port_fails_fast_with_the_reason) {
  probe_harness h;
  auto probe = h.make(http_options(local_url("http", closed_port())));
  const auto r = h.run(*probe);
  print_figure("http refused", r.elapsed);
  EXPECT_EQ(r.result.message, "connect: Connection refused");
  EXPECT_LT(r.elapsed, 1000ms);
}

TEST(http_probe, silent_server_times_out_by_the_deadline) {
  probe_harness h;
  auto server = make_silent_server();
  auto probe = h.make(http_options(local_url("http", server->port())), 500);
  const auto r = h.run(*probe);
  print_figure("http silent server, timeout 500 ms", r.elapsed);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "timeout after 500 ms");
  EXPECT_GE(r.elapsed, 450ms);
  EXPECT_LE(r.elapsed, 1500ms);
}

TEST(http_probe, method_headers_and_body_are_sent) {
  probe_harness h;
  std::mutex mutex;
  seen_request seen;
  auto server = make_http_server([&](const seen_request& request) {
    std::lock_guard lock(mutex);
    seen = request;
    return canned_response{200, "ok"};
  });
  auto options = http_options(local_url("http", server->port(), "/api/v1/check?x=1"));
  options.method = "POST";
  options.headers = {{"Authorization", "Bearer abc"}};
  options.body = R"({"q":1})";
  auto probe = h.make(options);
  EXPECT_EQ(h.run(*probe).result.status, probe_status::healthy);
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/check?x=1");
  EXPECT_EQ(seen.headers["authorization"], "Bearer abc");
  EXPECT_EQ(seen.body, R"({"q":1})");
}

TEST(http_probe, body_must_contain_the_expected_text) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "status: STARTING"}; });
  auto options = http_options(local_url("http", server->port()));
  options.expect_body_contains = "AVAILABLE";
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "body does not contain \"AVAILABLE\"");
}

TEST(http_probe, json_rule_maps_splunk_green_yellow_red) {
  probe_harness h;
  std::mutex mutex;
  std::string colour = "green";
  auto server = make_http_server([&](const seen_request& request) {
    std::lock_guard lock(mutex);
    if (request.target != "/services/server/health/splunkd?output_mode=json") return canned_response{404, ""};
    return canned_response{200, R"({"links":{},"entry":[{"name":"splunkd","content":{"health":")" + colour + R"("}}]})",
                           "application/json"};
  });
  auto options = http_options(local_url("http", server->port(), "/services/server/health/splunkd?output_mode=json"));
  config::json_rule rule;
  rule.pointer = "/entry/0/content/health";
  rule.values = {{"green", probe_status::healthy}, {"yellow", probe_status::degraded}, {"red", probe_status::critical}};
  options.rule = rule;
  auto probe = h.make(options);
  const auto set = [&](std::string c) {
    std::lock_guard lock(mutex);
    colour = std::move(c);
  };
  EXPECT_EQ(h.run(*probe).result.status, probe_status::healthy);
  set("yellow");
  const auto yellow = h.run(*probe);
  EXPECT_EQ(yellow.result.status, probe_status::degraded);
  EXPECT_EQ(yellow.result.message, "/entry/0/content/health is yellow");
  set("red");
  const auto red = h.run(*probe);
  EXPECT_EQ(red.result.status, probe_status::critical);
  EXPECT_EQ(red.result.message, "/entry/0/content/health is red");
  EXPECT_EQ(red.result.details["rule_value"], "red");
}

TEST(http_probe, body_is_capped_at_max_body_bytes) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, std::string(100000, 'a')}; });
  auto options = http_options(local_url("http", server->port()));
  options.max_body_bytes = 1000;
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy);
  EXPECT_EQ(r.result.details["body_bytes"], 1000);
  EXPECT_EQ(r.result.details["body_truncated"], true);
}

TEST(http_probe, slow_answer_is_degraded_and_says_so) {
  probe_harness h;
  auto server = make_http_server([](const seen_request&) {
    std::this_thread::sleep_for(150ms);
    return canned_response{200, "ok"};
  });
  auto probe = h.make(http_options(local_url("http", server->port())), 2000, 50);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::degraded);
  EXPECT_NE(r.result.message.find("slow: "), std::string::npos) << r.result.message;
  EXPECT_NE(r.result.message.find("> 50 ms"), std::string::npos) << r.result.message;
  EXPECT_GE(r.result.latency.count(), 150.0);
}

// ---- https ------------------------------------------------------------------------------------------------------
TEST(https_probe, unknown_ca_fails_with_verification_on) {
  probe_harness h;
  test_ca ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  auto probe = h.make(http_options(local_url("https", server->port())));
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "tls: certificate verify failed");
}

TEST(https_probe, test_ca_passes_and_certificate_expiry_is_reported) {
  probe_harness h;
  test_ca ca(365);
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  auto options = http_options(local_url("https", server->port()));
  options.ca_file = ca.ca_file();
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  ASSERT_TRUE(r.result.details.contains("certificate_days_left"));
  EXPECT_GT(r.result.details["certificate_days_left"].get<double>(), 363.0);
  EXPECT_TRUE(r.result.details.contains("certificate_expires"));
  // And by host name, which is in the certificate too.
  options.url = "https://localhost:" + std::to_string(server->port()) + "/";
  auto by_name = h.make(options);
  EXPECT_EQ(h.run(*by_name).result.status, probe_status::healthy);
}

TEST(https_probe, insecure_skip_verify_passes_without_the_ca) {
  probe_harness h;
  test_ca ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  auto options = http_options(local_url("https", server->port()));
  options.insecure_skip_verify = true;
  auto probe = h.make(options);
  EXPECT_EQ(h.run(*probe).result.status, probe_status::healthy);
}

TEST(https_probe, certificate_expiring_within_warn_days_is_degraded) {
  probe_harness h;
  test_ca ca(5);
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  auto options = http_options(local_url("https", server->port()));
  options.ca_file = ca.ca_file();
  options.cert_expiry_warn_days = 14;
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::degraded);
  EXPECT_EQ(r.result.message, "certificate expires in 4 days");
}

// The probe's config error, or "" when the probe was built.
template <typename Options>
std::string construction_error(probe_harness& h, const Options& options) {
  try {
    (void)h.make(options);
  } catch (const probes::probe_config_error& e) {
    return e.what();
  }
  return "";
}

TEST(https_probe, missing_ca_file_fails_at_construction_naming_the_file) {
  probe_harness h;
  auto options = http_options("https://127.0.0.1:1/");
  options.ca_file = "/nonexistent/ca.pem";
  const auto error = construction_error(h, options);
  EXPECT_NE(error.find("cannot load ca_file \"/nonexistent/ca.pem\""), std::string::npos) << error;
  // Plain http never reads it; insecure_skip_verify does not either.
  options.url = "http://127.0.0.1:1/";
  EXPECT_EQ(construction_error(h, options), "");
  options.url = "https://127.0.0.1:1/";
  options.insecure_skip_verify = true;
  EXPECT_EQ(construction_error(h, options), "");
}

TEST(https_probe, ca_file_is_loaded_once_at_construction_and_reused_by_every_run) {
  probe_harness h;
  test_ca ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  auto options = http_options(local_url("https", server->port()));
  options.ca_file = ca.ca_file();
  const auto built_before = io::tls_contexts_built_for_test();
  auto probe = h.make(options);
  EXPECT_EQ(io::tls_contexts_built_for_test(), built_before + 1);
  // Gone after construction: a run that loaded it again could not verify the server.
  ASSERT_TRUE(std::filesystem::remove(ca.ca_file()));
  for (int run = 0; run < 3; ++run) {
    probe->reconnect();  // a fresh connection and TLS handshake every time
    const auto r = h.run(*probe);
    EXPECT_EQ(r.result.status, probe_status::healthy) << "run " << run << ": " << r.result.message;
    EXPECT_FALSE(r.result.details.value("reused_connection", true)) << "run " << run;
  }
  EXPECT_EQ(io::tls_contexts_built_for_test(), built_before + 1);
}

TEST(https_probe, system_store_is_loaded_once_at_construction) {
  probe_harness h;
  test_ca ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  const auto built_before = io::tls_contexts_built_for_test();
  const auto start = std::chrono::steady_clock::now();
  auto probe = h.make(http_options(local_url("https", server->port())));
  // What each https run used to cost the I/O thread.
  print_figure("building the probe (loads the system CA store)",
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
  EXPECT_EQ(io::tls_contexts_built_for_test(), built_before + 1);
  for (int run = 0; run < 2; ++run)
    EXPECT_EQ(h.run(*probe).result.message, "tls: certificate verify failed");
  EXPECT_EQ(io::tls_contexts_built_for_test(), built_before + 1);
}

// ---- the client API the http heal action uses --------------------------------------------------------------------
TEST(send_http_request, one_shot_request_returns_status_headers_and_body) {
  boost::asio::io_context io;
  auto server = make_http_server([](const seen_request& request) {
    return canned_response{200, "reloaded " + request.body, "text/plain"};
  });
  io::http_request request;
  request.method = "POST";
  request.url = local_url("http", server->port(), "/reload");
  request.body = "model-7";
  std::optional<io::http_outcome> outcome;
  boost::asio::co_spawn(io, io::send_http_request(io.get_executor(), request),
                        [&](const std::exception_ptr&, io::http_outcome o) { outcome = std::move(o); });
  io.run();
  ASSERT_TRUE(outcome && outcome->ok()) << (outcome ? outcome->error : "no outcome");
  EXPECT_EQ(outcome->response->status, 200);
  EXPECT_EQ(outcome->response->body, "reloaded model-7");
  bool has_type = false;
  for (const auto& [name, value] : outcome->response->headers)
    has_type = has_type || (name == "Content-Type" && value == "text/plain");
  EXPECT_TRUE(has_type);
}

TEST(send_http_request, https_reuses_the_prebuilt_context) {
  boost::asio::io_context io;
  test_ca ca;
  auto server = make_http_server([](const seen_request&) { return canned_response{200, "ok"}; }, &ca);
  io::http_request request;
  request.url = local_url("https", server->port());
  const auto send = [&] {
    std::optional<io::http_outcome> outcome;
    boost::asio::co_spawn(io, io::send_http_request(io.get_executor(), request),
                          [&](const std::exception_ptr&, io::http_outcome o) { outcome = std::move(o); });
    io.restart();
    io.run();
    return outcome.value_or(io::http_outcome{std::nullopt, "no outcome"});
  };
  EXPECT_EQ(send().error, "tls: no TLS context for an https url");

  request.tls = io::make_tls_context({ca.ca_file(), false});
  const auto built = io::tls_contexts_built_for_test();
  ASSERT_TRUE(std::filesystem::remove(ca.ca_file()));
  for (int call = 0; call < 2; ++call) {
    const auto outcome = send();
    ASSERT_TRUE(outcome.ok()) << "call " << call << ": " << outcome.error;
    EXPECT_EQ(outcome.response->status, 200);
    EXPECT_TRUE(outcome.response->certificate_expiry.has_value());
  }
  EXPECT_EQ(io::tls_contexts_built_for_test(), built);
}

TEST(tls_context, unreadable_ca_file_throws_naming_the_file) {
  const auto missing = std::filesystem::temp_directory_path() / "healthd-no-such-ca.pem";
  try {
    (void)io::make_tls_context({missing.string(), false});
    ADD_FAILURE() << "no exception";
  } catch (const io::tls_context_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW((void)io::make_tls_context({missing.string(), true}));  // insecure: the file is not read
}

// ---- websocket --------------------------------------------------------------------------------------------------
TEST(websocket_probe, handshake_and_ping_pong_is_healthy) {
  probe_harness h;
  auto server = make_websocket_echo_server();
  config::websocket_probe options;
  options.url = local_url("ws", server->port(), "/ws");
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.message, "pong received");
}

TEST(websocket_probe, send_and_expect_checks_the_echo) {
  probe_harness h;
  auto server = make_websocket_echo_server();
  config::websocket_probe options;
  options.url = local_url("ws", server->port(), "/ws");
  options.send = R"({"type":"subscribe","channel":"alerts"})";
  options.expect = "subscribe";
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.details["reply"], *options.send);
}

TEST(websocket_probe, binary_reply_with_invalid_utf8_comes_out_valid) {
  probe_harness h;
  auto server = make_websocket_binary_reply_server("state \xFF\xFE ok \xC3");
  config::websocket_probe options;
  options.url = local_url("ws", server->port(), "/ws");
  options.send = "status?";
  options.expect = "ok";
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.details["reply"], "state \uFFFD\uFFFD ok \uFFFD");
  EXPECT_NO_THROW((void)r.result.details.dump());
}

TEST(websocket_probe, long_reply_is_cut_to_200_bytes_on_a_character_boundary) {
  probe_harness h;
  std::string reply(199, 'x');
  reply += "\xC3\xA9 tail";  // a 2-byte character across the 200-byte cut
  auto server = make_websocket_binary_reply_server(reply);
  config::websocket_probe options;
  options.url = local_url("ws", server->port(), "/ws");
  options.send = "status?";
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.details["reply"], std::string(199, 'x'));
}

TEST(websocket_probe, reply_without_the_expected_text_times_out) {
  probe_harness h;
  auto server = make_websocket_echo_server();
  config::websocket_probe options;
  options.url = local_url("ws", server->port(), "/ws");
  options.send = "hello";
  options.expect = "welcome";
  auto probe = h.make(options, 500);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "timeout after 500 ms (no reply containing \"welcome\")");
}

TEST(websocket_probe, server_that_never_answers_the_handshake_times_out) {
  probe_harness h;
  auto server = make_silent_server();
  config::websocket_probe options;
  options.url = local_url("ws", server->port(), "/ws");
  auto probe = h.make(options, 500);
  const auto r = h.run(*probe);
  print_figure("websocket silent handshake, timeout 500 ms", r.elapsed);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "timeout after 500 ms");
  EXPECT_LE(r.elapsed, 1500ms);
}

TEST(websocket_probe, refused_port_fails_fast) {
  probe_harness h;
  config::websocket_probe options;
  options.url = local_url("ws", closed_port());
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.message, "connect: Connection refused");
  EXPECT_LT(r.elapsed, 1000ms);
}

TEST(websocket_probe, wss_with_the_test_ca_is_healthy) {
  probe_harness h;
  test_ca ca;
  auto server = make_websocket_echo_server(&ca);
  config::websocket_probe options;
  options.url = local_url("wss", server->port(), "/ws");
  options.ca_file = ca.ca_file();
  options.send = "ping-message";
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_TRUE(r.result.details.contains("certificate_expires"));
  options.ca_file.reset();
  auto unverified = h.make(options);
  EXPECT_EQ(h.run(*unverified).result.message, "tls: certificate verify failed");
}

TEST(websocket_probe, wss_ca_file_is_loaded_once_at_construction) {
  probe_harness h;
  test_ca ca;
  auto server = make_websocket_echo_server(&ca);
  config::websocket_probe options;
  options.url = local_url("wss", server->port(), "/ws");
  options.ca_file = ca.ca_file();
  const auto built_before = io::tls_contexts_built_for_test();
  auto probe = h.make(options);
  EXPECT_EQ(io::tls_contexts_built_for_test(), built_before + 1);
  ASSERT_TRUE(std::filesystem::remove(ca.ca_file()));
  for (int run = 0; run < 2; ++run) {
    const auto r = h.run(*probe);
    EXPECT_EQ(r.result.status, probe_status::healthy) << "run " << run << ": " << r.result.message;
  }
  EXPECT_EQ(io::tls_contexts_built_for_test(), built_before + 1);
}

TEST(websocket_probe, missing_ca_file_fails_at_construction_naming_the_file) {
  probe_harness h;
  config::websocket_probe options;
  options.url = "wss://127.0.0.1:1/ws";
  options.ca_file = "/nonexistent/ws-ca.pem";
  const auto error = construction_error(h, options);
  EXPECT_NE(error.find("cannot load ca_file \"/nonexistent/ws-ca.pem\""), std::string::npos) << error;
}

}  // namespace
}  // namespace healthd::test
