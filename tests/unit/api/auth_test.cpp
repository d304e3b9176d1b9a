#include "healthd/api/auth.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace healthd::api {
namespace {

token_env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class token_file {
public:
  explicit token_file(const std::string& contents)
      : path_(std::filesystem::temp_directory_path() / ("healthd-token-" + std::to_string(::getpid()))) {
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~token_file() { std::filesystem::remove(path_); }
  token_file(const token_file&) = delete;
  token_file& operator=(const token_file&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

TEST(admin_token, env_variable_named_in_config_supplies_the_token) {
  config::server_config server;
  server.admin_token_env = "MY_TOKEN";
  EXPECT_EQ(load_admin_token(server, env_of({{"MY_TOKEN", "s3cret"}})), "s3cret");
  EXPECT_FALSE(load_admin_token(server, env_of({{"OTHER", "x"}})).has_value());
}

TEST(admin_token, empty_or_unconfigured_token_disables_the_endpoint) {
  config::server_config server;
  server.admin_token_env = "MY_TOKEN";
  EXPECT_FALSE(load_admin_token(server, env_of({{"MY_TOKEN", ""}})).has_value());
  server.admin_token_env.reset();
  EXPECT_FALSE(load_admin_token(server, env_of({{"HEALTHD_ADMIN_TOKEN", "x"}})).has_value());
}

TEST(admin_token, file_is_read_with_trailing_newlines_trimmed_and_wins_over_env) {
  const token_file file("file-token\r\n\n");
  config::server_config server;
  server.admin_token_env = "MY_TOKEN";
  server.admin_token_file = file.path();
  EXPECT_EQ(load_admin_token(server, env_of({{"MY_TOKEN", "env-token"}})), "file-token");
}

TEST(admin_token, unreadable_file_throws_naming_the_file_only) {
  config::server_config server;
  server.admin_token_file = "/nonexistent/healthd/token";
  try {
    (void)load_admin_token(server, env_of({}));
    FAIL() << "expected admin_token_error";
  } catch (const admin_token_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/healthd/token"), std::string::npos);
  }
}

TEST(check_admin, no_token_configured_is_disabled_whatever_is_sent) {
  EXPECT_EQ(check_admin("Bearer anything", std::nullopt), admin_auth::disabled);
  EXPECT_EQ(check_admin(std::nullopt, std::nullopt), admin_auth::disabled);
}

TEST(check_admin, absent_or_non_bearer_authorization_is_missing) {
  const std::optional<std::string> token = "t0ken";
  EXPECT_EQ(check_admin(std::nullopt, token), admin_auth::missing);
  EXPECT_EQ(check_admin("Basic dXNlcjpwYXNz", token), admin_auth::missing);
  EXPECT_EQ(check_admin("Bearer", token), admin_auth::missing);
  EXPECT_EQ(check_admin("Bearer    ", token), admin_auth::missing);
  EXPECT_EQ(check_admin("Bearert0ken", token), admin_auth::missing);
}

TEST(check_admin, right_token_is_granted_with_any_scheme_case) {
  const std::optional<std::string> token = "t0ken";
  EXPECT_EQ(check_admin("Bearer t0ken", token), admin_auth::granted);
  EXPECT_EQ(check_admin("bearer   t0ken ", token), admin_auth::granted);
  EXPECT_EQ(check_admin("BEARER t0ken", token), admin_auth::granted);
}

TEST(check_admin, wrong_token_is_wrong) {
  const std::optional<std::string> token = "t0ken";
  EXPECT_EQ(check_admin("Bearer t0ke", token), admin_auth::wrong);
  EXPECT_EQ(check_admin("Bearer t0ken2", token), admin_auth::wrong);
  EXPECT_EQ(check_admin("Bearer T0KEN", token), admin_auth::wrong);
}

TEST(constant_time_equal, compares_contents_and_lengths) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", ""));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0", 2), "a"));
}

}  // namespace
}  // namespace healthd::api
