#include "healthd/app/server_options.hpp"

#include "healthd/config/config_error.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

namespace healthd::app {
namespace {

TEST(server_options_from, takes_listen_address_and_connection_limit) {
  config::server_config server;
  server.listen = "[::1]:9090";
  server.max_connections = 50;
  const auto options = server_options_from(server);
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 9090);
  EXPECT_EQ(options.max_connections, 50U);
  EXPECT_EQ(options.header_limit, 8U * 1024);
  EXPECT_EQ(options.body_limit, 64U * 1024);
  EXPECT_EQ(options.header_timeout, std::chrono::seconds{10});
  EXPECT_EQ(options.idle_timeout, std::chrono::seconds{30});
  EXPECT_EQ(options.shutdown_grace, std::chrono::seconds{5});
  EXPECT_FALSE(options.open_file_limit);  // measured by raise_open_file_limit, not from the config
}

TEST(server_options_from, bad_listen_address_names_the_key) {
  config::server_config server;
  server.listen = "localhost";
  try {
    (void)server_options_from(server);
    FAIL() << "expected config_error";
  } catch (const config::config_error& e) {
    EXPECT_EQ(e.path(), "server.listen");
  }
}

TEST(raise_open_file_limit, soft_limit_reaches_the_hard_one) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  const auto reported = raise_open_file_limit();
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_GE(after.rlim_cur, before.rlim_cur);
  if (before.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
    EXPECT_EQ(reported, after.rlim_cur);
  }
}

}  // namespace
}  // namespace healthd::app
