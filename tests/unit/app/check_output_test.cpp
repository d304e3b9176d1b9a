// What `--check` prints (describe_config of the loaded file) holds none of the config's secrets, of any kind, and
// keeps hosts from the environment readable where it shows them.

#include "healthd/app/daemon.hpp"
#include "healthd/config/loader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace healthd::app {
namespace {

class check_output : public ::testing::Test {
protected:
  void SetUp() override {
    file_ = std::filesystem::temp_directory_path() / ("healthd-check-" + std::to_string(::getpid()) + ".json");
    ::setenv("CHECK_DB_PASSWORD", "env-db-pw", 1);
    ::setenv("CHECK_REDIS_PW", "redis-env-pw", 1);
    ::setenv("HEALTHD_ADMIN_TOKEN", "admin-env-token", 1);
    ::setenv("CHECK_HOST", "redis.internal", 1);
  }
  void TearDown() override { std::filesystem::remove(file_); }

  std::string check(const std::string& text) {
    std::ofstream(file_) << text;
    const auto cfg = load_effective_config({.config_file = file_});
    // Every kind of secret is in the set: otherwise the test would pass for the wrong reason.
    for (const auto& value : secrets_)
      EXPECT_EQ(cfg.secrets.redact(value).find(value), std::string::npos) << value;
    return describe_config(cfg);
  }

  std::filesystem::path file_;
  const std::vector<std::string> secrets_{"pg-conninfo-pw", "env-db-pw",   "redis-env-pw", "admin-env-token",
                                          "hdr-bearer-tok", "url-user-pw", "q-api-key",    "exec-env-pw"};
};

TEST_F(check_output, holds_no_secret_of_any_kind) {
  const auto out = check(R"({"subsystems": {
      "database": {"description": "db", "probe": {"type": "postgres", "conninfo": "host=h password=pg-conninfo-pw"},
                   "heal": {"actions": [{"type": "sql", "statement": "SELECT 1",
                                         "conninfo": "host=h password=${CHECK_DB_PASSWORD}"}]}},
      "redis": {"probe": {"type": "redis", "host": "${CHECK_HOST}", "password_env": "CHECK_REDIS_PW"}},
      "api": {"probe": {"type": "http", "url": "http://svc:url-user-pw@h/health?api_key=q-api-key",
                        "headers": {"Authorization": "Bearer hdr-bearer-tok"}}},
      "script": {"probe": {"type": "exec", "argv": ["/bin/true"], "env": {"SCRIPT_PASSWORD": "exec-env-pw"}}}}})");
  EXPECT_NE(out.find("database: probe postgres"), std::string::npos) << out;
  for (const auto& value : secrets_)
    EXPECT_EQ(out.find(value), std::string::npos) << value << " in:\n" << out;
}

}  // namespace
}  // namespace healthd::app
