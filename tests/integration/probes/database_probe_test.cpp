// postgres and redis probes against throwaway servers.

#include "probe_harness.hpp"
#include "support/fake_peers.hpp"
#include "support/throwaway_servers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <poll.h>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;

config::postgres_probe pg_options(std::string conninfo) {
  config::postgres_probe options;
  options.conninfo = std::move(conninfo);
  return options;
}

config::redis_probe redis_options(std::uint16_t port) {
  config::redis_probe options;
  options.port = port;
  return options;
}

// True when the descriptor becomes readable (the server closed the idle connection) within `timeout`.
bool becomes_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// ---- postgres -----------------------------------------------------------------------------------------------------
class postgres_probe_test : public ::testing::Test {
protected:
  // A running server: the shared one from scripts/test when there is one, else our own.
  std::string running_conninfo() {
    if (auto shared = shared_postgres_conninfo()) return *shared;
    own_ = std::make_unique<throwaway_postgres>();
    own_->start();
    return own_->conninfo();
  }

  probe_harness h_;
  std::unique_ptr<throwaway_postgres> own_;
};

TEST_F(postgres_probe_test, running_server_is_healthy_with_details) {
  auto probe = h_.make(pg_options(running_conninfo()));
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.message.rfind("PostgreSQL 15", 0), 0U) << r.result.message;
  EXPECT_GE(r.result.details["connections"].get<int>(), 1);
  EXPECT_GT(r.result.details["max_connections"].get<int>(), 0);
  EXPECT_TRUE(probe->idle_socket().has_value());
  const auto again = h_.run(*probe);
  EXPECT_EQ(again.result.status, probe_status::healthy);
}

TEST_F(postgres_probe_test, connections_above_the_threshold_are_degraded) {
  auto options = pg_options(running_conninfo());
  options.max_connections_pct = 0.1;
  auto probe = h_.make(options);
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::degraded);
  EXPECT_NE(r.result.message.find("above 0% of max_connections"), std::string::npos) << r.result.message;
}

TEST_F(postgres_probe_test, failing_query_is_critical_with_the_reason) {
  auto options = pg_options(running_conninfo());
  options.query = "SELECT * FROM no_such_table";
  auto probe = h_.make(options);
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "query: relation \"no_such_table\" does not exist");
}

TEST_F(postgres_probe_test, refused_port_fails_fast_with_the_reason) {
  auto probe = h_.make(pg_options("host=127.0.0.1 port=" + std::to_string(free_port()) + " user=postgres"));
  const auto r = h_.run(*probe);
  print_figure("postgres refused", r.elapsed);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "connect: Connection refused");
  EXPECT_LT(r.elapsed, 1000ms);
}

TEST_F(postgres_probe_test, silent_server_times_out_by_the_deadline) {
  auto server = make_silent_server();
  auto probe = h_.make(pg_options("host=127.0.0.1 port=" + std::to_string(server->port()) + " user=postgres"), 1000);
  const auto r = h_.run(*probe);
  // libpq's connect_timeout has a 2 s floor: the worker stays blocked up to 2 s, the result still comes at 1 s.
  print_figure("postgres silent server, timeout 1000 ms", r.elapsed);
  EXPECT_EQ(r.result.message, "timeout after 1000 ms");
  EXPECT_LE(r.elapsed, 2000ms);
  const auto busy = h_.run(*probe);
  EXPECT_EQ(busy.result.message, "timeout (worker busy)");
  EXPECT_FALSE(busy.result.started);
  EXPECT_TRUE(r.result.started);
  EXPECT_LT(busy.elapsed, 100ms);
}

TEST_F(postgres_probe_test, killed_server_fails_the_next_probe_and_recovery_reconnects) {
  throwaway_postgres server;
  server.start();
  auto probe = h_.make(pg_options(server.conninfo()));
  ASSERT_EQ(h_.run(*probe).result.status, probe_status::healthy);
  const auto fd = probe->idle_socket();
  ASSERT_TRUE(fd);
  server.kill();
  EXPECT_TRUE(becomes_readable(*fd, 3s)) << "the idle connection did not signal the server's death";
  const auto failed = h_.run(*probe);
  EXPECT_EQ(failed.result.status, probe_status::critical);
  EXPECT_EQ(failed.result.message.rfind("query: ", 0), 0U) << failed.result.message;
  EXPECT_FALSE(probe->idle_socket());
  const auto down = h_.run(*probe);
  EXPECT_EQ(down.result.message, "connect: Connection refused");
  server.start();
  const auto back = h_.run(*probe);
  EXPECT_EQ(back.result.status, probe_status::healthy) << back.result.message;
  EXPECT_TRUE(probe->idle_socket());
}

TEST_F(postgres_probe_test, reconnect_drops_the_kept_connection) {
  auto probe = h_.make(pg_options(running_conninfo()));
  ASSERT_EQ(h_.run(*probe).result.status, probe_status::healthy);
  ASSERT_TRUE(probe->idle_socket());
  probe->reconnect();
  EXPECT_FALSE(probe->idle_socket());
  EXPECT_EQ(h_.run(*probe).result.status, probe_status::healthy);
  EXPECT_TRUE(probe->idle_socket());
}

// ---- redis --------------------------------------------------------------------------------------------------------
class redis_probe_test : public ::testing::Test {
protected:
  std::uint16_t running_port() {
    if (auto shared = shared_redis_port()) return *shared;
    own_ = std::make_unique<throwaway_redis>();
    own_->start();
    return own_->port();
  }

  probe_harness h_;
  std::unique_ptr<throwaway_redis> own_;
};

TEST_F(redis_probe_test, running_server_is_healthy_with_details) {
  auto probe = h_.make(redis_options(running_port()));
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.details["role"], "master");
  EXPECT_GE(r.result.details["connected_clients"].get<double>(), 1.0);
  EXPECT_GT(r.result.details["used_memory"].get<double>(), 0.0);
  EXPECT_TRUE(probe->idle_socket());
  EXPECT_EQ(h_.run(*probe).result.status, probe_status::healthy);
}

TEST_F(redis_probe_test, memory_above_the_threshold_is_degraded) {
  throwaway_redis server;
  server.start({"--maxmemory", "100mb"});
  auto options = redis_options(server.port());
  options.max_memory_pct = 0.01;
  auto probe = h_.make(options);
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::degraded) << r.result.message;
  EXPECT_GT(r.result.details["memory_pct"].get<double>(), 0.01);
}

TEST_F(redis_probe_test, password_comes_from_password_env_and_noauth_is_reported) {
  throwaway_redis server;
  server.start({"--requirepass", "redis-pw-123"});
  auto without = h_.make(redis_options(server.port()));
  const auto denied = h_.run(*without);
  EXPECT_EQ(denied.result.status, probe_status::critical);
  EXPECT_EQ(denied.result.message, "redis: NOAUTH Authentication required.");
  ::setenv("HEALTHD_TEST_REDIS_PASSWORD", "redis-pw-123", 1);
  auto options = redis_options(server.port());
  options.password_env = "HEALTHD_TEST_REDIS_PASSWORD";
  options.db = 2;
  auto with = h_.make(options);
  const auto ok = h_.run(*with);
  EXPECT_EQ(ok.result.status, probe_status::healthy) << ok.result.message;
  ::unsetenv("HEALTHD_TEST_REDIS_PASSWORD");
}

// Redis never echoes a password, so a server that does stands in for any error text that would carry it: the
// password read through password_env must come out redacted (issue 9, defect 5: the old check could not fail).
TEST_F(redis_probe_test, password_echoed_by_the_server_is_redacted) {
  fake_server echoing([](peer_connection& peer) {
    // AUTH arrives as *2 $4 AUTH $n <password>: five lines.
    std::string password;
    for (int line = 0; line < 5; ++line) {
      const auto text = peer.read_until("\r\n");
      if (!text) return;
      if (line == 4) password = text->substr(0, text->size() - 2);
    }
    (void)peer.write("-ERR invalid password '" + password + "'\r\n");
  });
  ::setenv("HEALTHD_TEST_REDIS_PASSWORD", "wrong-pw-456", 1);
  auto options = redis_options(echoing.port());
  options.password_env = "HEALTHD_TEST_REDIS_PASSWORD";
  auto probe = h_.make(options);
  const auto r = h_.run(*probe);
  ::unsetenv("HEALTHD_TEST_REDIS_PASSWORD");
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "redis: ERR invalid password '***'");
  EXPECT_EQ(r.result.message.find("wrong-pw-456"), std::string::npos);
}

TEST_F(redis_probe_test, refused_port_fails_fast_with_the_reason) {
  auto probe = h_.make(redis_options(free_port()));
  const auto r = h_.run(*probe);
  print_figure("redis refused", r.elapsed);
  EXPECT_EQ(r.result.message, "connect: Connection refused");
  EXPECT_LT(r.elapsed, 1000ms);
}

TEST_F(redis_probe_test, silent_server_times_out_by_the_deadline) {
  auto server = make_silent_server();
  auto probe = h_.make(redis_options(server->port()), 500);
  const auto r = h_.run(*probe);
  print_figure("redis silent server, timeout 500 ms", r.elapsed);
  EXPECT_EQ(r.result.message, "timeout after 500 ms");
  EXPECT_LE(r.elapsed, 1500ms);
}

TEST_F(redis_probe_test, killed_server_fails_the_next_probe_and_recovery_reconnects) {
  throwaway_redis server;
  server.start();
  auto probe = h_.make(redis_options(server.port()));
  ASSERT_EQ(h_.run(*probe).result.status, probe_status::healthy);
  const auto fd = probe->idle_socket();
  ASSERT_TRUE(fd);
  server.kill();
  EXPECT_TRUE(becomes_readable(*fd, 3s));
  const auto failed = h_.run(*probe);
  EXPECT_EQ(failed.result.status, probe_status::critical);
  EXPECT_FALSE(probe->idle_socket());
  server.start();
  const auto back = h_.run(*probe);
  EXPECT_EQ(back.result.status, probe_status::healthy) << back.result.message;
}

}  // namespace
}  // namespace healthd::test
