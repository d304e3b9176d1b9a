#include "healthd/api/http_message.hpp"

#include <gtest/gtest.h>

namespace healthd::api {
namespace {

TEST(http_message, parse_target_splits_path_and_decodes_query) {
  const auto t = parse_target("/api/v1/platform/healing-log?limit=5&subsystem=re%64is&flag&limit=7");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/api/v1/platform/healing-log");
  EXPECT_EQ(t->query.at("limit"), "5");  // the first occurrence wins
  EXPECT_EQ(t->query.at("subsystem"), "redis");
  EXPECT_EQ(t->query.at("flag"), "");
}

TEST(http_message, parse_target_keeps_path_encoded) {
  const auto t = parse_target("/a%2Fb?x=1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/a%2Fb");
}

TEST(http_message, parse_target_rejects_non_origin_form_and_bad_escapes) {
  EXPECT_FALSE(parse_target("").has_value());
  EXPECT_FALSE(parse_target("*").has_value());
  EXPECT_FALSE(parse_target("http://example.com/").has_value());
  EXPECT_FALSE(parse_target("/x?limit=%zz").has_value());
  EXPECT_FALSE(parse_target("/x?limit=%4").has_value());
}

TEST(http_message, percent_decode_rejects_nul_and_truncated_escapes) {
  EXPECT_EQ(percent_decode("%2e%2E/%41"), "../A");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_FALSE(percent_decode("%00").has_value());
  EXPECT_FALSE(percent_decode("abc%").has_value());
  EXPECT_FALSE(percent_decode("abc%1").has_value());
}

TEST(http_message, header_lookup_ignores_case) {
  http_request request;
  request.headers = {{"If-None-Match", "\"x\""}, {"authorization", "Bearer t"}};
  EXPECT_EQ(request.header("if-none-match"), "\"x\"");
  EXPECT_EQ(request.header("Authorization"), "Bearer t");
  EXPECT_FALSE(request.header("Origin").has_value());
}

TEST(http_message, set_header_replaces_every_same_named_header) {
  http_response response;
  response.headers = {{"vary", "a"}, {"Vary", "b"}, {"ETag", "\"1\""}};
  response.set_header("VARY", "Origin");
  ASSERT_EQ(response.headers.size(), 2U);
  EXPECT_EQ(response.header("Vary"), "Origin");
}

TEST(http_message, error_response_has_the_error_shape_and_no_store) {
  const auto response = error_response(404, "not_found", "no \"such\" route");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_EQ(response.header("Cache-Control"), "no-store");
  ASSERT_TRUE(response.body);
  EXPECT_EQ(*response.body, R"({"error":{"code":"not_found","message":"no \"such\" route"}})");
}

}  // namespace
}  // namespace healthd::api
