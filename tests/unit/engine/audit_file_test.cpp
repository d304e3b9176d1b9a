#include "healthd/engine/audit_file.hpp"

#include "healthd/healing_log/entry_json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>

namespace healthd {
namespace {

namespace fs = std::filesystem;

class audit_file_test : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("healthd-audit-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    file_ = dir_ / "audit.jsonl";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static healing_entry entry(std::uint64_t id, std::string detail = "restarted") {
    healing_entry e;
    e.id = id;
    e.timestamp = wall_time{std::chrono::sys_days{std::chrono::year{2026} / 11 / 28}} + std::chrono::milliseconds{id};
    e.subsystem = "redis";
    e.action = "exec:restart-redis";
    e.trigger = heal_trigger::automatic;
    e.result = heal_result::success;
    e.detail = std::move(detail);
    e.platform_status = health_status::degraded;
    return e;
  }

  static std::vector<std::uint64_t> ids(const std::vector<healing_entry>& entries) {
    std::vector<std::uint64_t> out;
    for (const auto& e : entries)
      out.push_back(e.id);
    return out;
  }

  fs::path dir_;
  fs::path file_;
};

TEST_F(audit_file_test, appended_entries_load_back_equal) {
  {
    audit_file audit(file_, 1 << 20);
    for (std::uint64_t id = 1; id <= 3; ++id)
      ASSERT_FALSE(audit.append(entry(id)));
  }
  const auto loaded = audit_file::load(file_, 200);
  EXPECT_TRUE(loaded.warnings.empty());
  ASSERT_EQ(loaded.entries.size(), 3U);
  EXPECT_EQ(loaded.entries[2], entry(3));
}

// Action messages are made valid UTF-8 where they enter; an entry that slips past still makes a line that parses.
TEST_F(audit_file_test, invalid_utf8_in_the_detail_is_written_as_replacement_characters) {
  {
    audit_file audit(file_, 1 << 20);
    ASSERT_FALSE(audit.append(entry(1, "exit 1: \xFF\xFE cut \xE2\x82")));
    ASSERT_FALSE(audit.append(entry(2)));
  }
  std::ifstream in(file_);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto parsed = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << line;
  EXPECT_EQ(parsed["detail"], "exit 1: \uFFFD\uFFFD cut \uFFFD");
  const auto loaded = audit_file::load(file_, 200);
  EXPECT_TRUE(loaded.warnings.empty());
  ASSERT_EQ(loaded.entries.size(), 2U);
  EXPECT_EQ(loaded.entries[0].detail, "exit 1: \uFFFD\uFFFD cut \uFFFD");
  EXPECT_EQ(loaded.entries[1], entry(2));
}

TEST_F(audit_file_test, restart_continues_ids_through_the_healing_log) {
  {
    audit_file audit(file_, 1 << 20);
    for (std::uint64_t id = 1; id <= 5; ++id)
      ASSERT_FALSE(audit.append(entry(id)));
  }
  healing_log log(3);
  log.restore(audit_file::load(file_, log.capacity()).entries);
  EXPECT_EQ(ids(log.query({})), (std::vector<std::uint64_t>{5, 4, 3}));
  EXPECT_EQ(log.append(entry(0)).id, 6U);
}

TEST_F(audit_file_test, truncated_last_line_is_skipped_and_the_next_append_starts_fresh) {
  {
    audit_file audit(file_, 1 << 20);
    ASSERT_FALSE(audit.append(entry(1)));
    ASSERT_FALSE(audit.append(entry(2)));
  }
  const auto full = fs::file_size(file_);
  fs::resize_file(file_, full - 20);  // a crash in the middle of writing entry 2
  auto loaded = audit_file::load(file_, 200);
  EXPECT_EQ(ids(loaded.entries), (std::vector<std::uint64_t>{1}));
  ASSERT_EQ(loaded.warnings.size(), 1U);
  EXPECT_NE(loaded.warnings[0].find(":2: corrupt line skipped"), std::string::npos) << loaded.warnings[0];

  {
    audit_file audit(file_, 1 << 20);
    ASSERT_FALSE(audit.append(entry(3)));
  }
  loaded = audit_file::load(file_, 200);
  EXPECT_EQ(ids(loaded.entries), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(loaded.warnings.size(), 1U);
}

TEST_F(audit_file_test, rotates_at_max_bytes_keeping_one_old_file) {
  const auto line_size = static_cast<std::int64_t>(to_json(entry(10)).dump().size() + 1);
  audit_file audit(file_, line_size * 4);
  for (std::uint64_t id = 10; id < 20; ++id)
    ASSERT_FALSE(audit.append(entry(id)));
  EXPECT_TRUE(fs::exists(audit_file::rotated(file_)));
  EXPECT_LE(static_cast<std::int64_t>(fs::file_size(file_)), line_size * 4);
  EXPECT_LE(static_cast<std::int64_t>(fs::file_size(audit_file::rotated(file_))), line_size * 4);
  // ten entries, four per file: the oldest two rotated away for good
  const auto loaded = audit_file::load(file_, 200);
  EXPECT_EQ(ids(loaded.entries), (std::vector<std::uint64_t>{14, 15, 16, 17, 18, 19}));
}

TEST_F(audit_file_test, rotated_file_is_read_only_when_the_live_one_is_short) {
  const auto line_size = static_cast<std::int64_t>(to_json(entry(10)).dump().size() + 1);
  audit_file audit(file_, line_size * 3);
  for (std::uint64_t id = 1; id <= 5; ++id)
    ASSERT_FALSE(audit.append(entry(id)));
  EXPECT_EQ(ids(audit_file::load(file_, 2).entries), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(ids(audit_file::load(file_, 4).entries), (std::vector<std::uint64_t>{2, 3, 4, 5}));
}

TEST_F(audit_file_test, missing_file_loads_empty) {
  const auto loaded = audit_file::load(dir_ / "nope.jsonl", 200);
  EXPECT_TRUE(loaded.entries.empty());
  EXPECT_TRUE(loaded.warnings.empty());
}

TEST_F(audit_file_test, unopenable_path_throws_naming_the_file) {
  try {
    audit_file audit(dir_ / "missing-dir" / "audit.jsonl", 1 << 20);
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing-dir/audit.jsonl"), std::string::npos) << e.what();
  }
}

TEST_F(audit_file_test, failed_append_reports_the_error) {
  audit_file audit("/dev/full", 1 << 20);  // every write fails with ENOSPC
  const auto ec = audit.append(entry(1));
  EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.message();
}

TEST_F(audit_file_test, line_from_an_older_version_without_verification_loads_as_null) {
  {
    std::ofstream out(file_);
    out << R"({"id":4,"timestamp":"2026-11-28T00:00:00.004Z","subsystem":"redis","action":"exec:restart-redis",)"
        << R"("trigger":"auto","result":"success","detail":"restarted","platform_status":"degraded"})" << '\n';
  }
  {
    auto current = entry(5);
    current.verification = verification_result::failed;
    current.result = heal_result::failure;
    audit_file audit(file_, 1 << 20);
    ASSERT_FALSE(audit.append(current));
  }
  const auto loaded = audit_file::load(file_, 200);
  EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front();
  ASSERT_EQ(ids(loaded.entries), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(loaded.entries[0], entry(4));  // every field as written, verification null
  EXPECT_FALSE(loaded.entries[0].verification.has_value());
  EXPECT_EQ(loaded.entries[1].verification, verification_result::failed);
  EXPECT_EQ(loaded.entries[1].result, heal_result::failure);
}

}  // namespace
}  // namespace healthd
