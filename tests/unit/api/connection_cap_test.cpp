#include "healthd/api/server.hpp"
#include "healthd/config/loader.hpp"

#include <gtest/gtest.h>

namespace healthd::api {
namespace {

TEST(connection_cap, stays_below_the_open_file_limit) {
  EXPECT_EQ(connection_cap(10000, 1024), 922U);  // reserve 102
  EXPECT_EQ(connection_cap(10000, 200), 168U);   // reserve at least 32
  EXPECT_EQ(connection_cap(10000, 1048576), 10000U);
  EXPECT_EQ(connection_cap(10000, 10500), 9476U);  // reserve at most 1024
  EXPECT_EQ(connection_cap(10000, 100000), 10000U);
  EXPECT_EQ(connection_cap(10000, 20), 1U);  // never zero
}

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

}  // namespace
}  // namespace healthd::api
