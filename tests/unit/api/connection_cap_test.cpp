#include "healthd/api/server.hpp"

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

}  // namespace
}  // namespace healthd::api
