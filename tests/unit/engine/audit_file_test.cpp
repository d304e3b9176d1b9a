#include "healthd/engine/audit_file.hpp"

#include "healthd/core/utf8.hpp"
#include "healthd/healing_log/entry_json.hpp"

#include "support/sync_gate.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

namespace healthd {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

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
  const auto second_line_at = json_text(to_json(entry(1))).size() + 1;
  EXPECT_NE(loaded.warnings[0].find(", byte " + std::to_string(second_line_at) + ": corrupt line skipped"),
            std::string::npos)
      << loaded.warnings[0];

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

// Restoring at start reads the file's tail only: audit_max_bytes may be large. The corrupt first line is never read,
// so it draws no warning.
TEST_F(audit_file_test, load_of_a_big_file_reads_only_the_tail) {
  constexpr std::uint64_t lines = 50'000;
  {
    std::ofstream out(file_, std::ios::binary);
    out << "{not json at the very start\n";
    for (std::uint64_t id = 2; id <= lines; ++id)
      out << json_text(to_json(entry(id))) << '\n';
  }
  const auto loaded = audit_file::load(file_, 200);
  EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front();
  ASSERT_EQ(loaded.entries.size(), 200U);
  EXPECT_EQ(loaded.entries.front().id, lines - 199);
  EXPECT_EQ(loaded.entries.back(), entry(lines));
  const auto line_size = json_text(to_json(entry(lines))).size() + 1;
  EXPECT_LT(loaded.bytes_read, 200 * line_size + 2 * 64 * 1024) << "of " << fs::file_size(file_);
}

TEST_F(audit_file_test, tail_load_skips_corrupt_lines_it_reads_and_still_returns_capacity_entries) {
  {
    std::ofstream out(file_, std::ios::binary);
    for (std::uint64_t id = 1; id <= 10; ++id) {
      out << json_text(to_json(entry(id))) << '\n';
      if (id == 8) out << "garbage\n\n";
    }
  }
  const auto loaded = audit_file::load(file_, 4);
  EXPECT_EQ(ids(loaded.entries), (std::vector<std::uint64_t>{7, 8, 9, 10}));
  ASSERT_EQ(loaded.warnings.size(), 1U);
  EXPECT_NE(loaded.warnings[0].find("not valid JSON"), std::string::npos) << loaded.warnings[0];
}

// The writer's thread and queue: a completion waits for its own write attempt, however long the sync takes.
class audit_writer_test : public audit_file_test {
protected:
  void SetUp() override {
    audit_file_test::SetUp();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    gate_->open();
    work_.reset();
    thread_.join();
    audit_file_test::TearDown();
  }

  // Appends on a strand of the test's io_context; `done` counts completions that ran on that strand.
  void append_async(audit_file& audit, std::uint64_t id, std::vector<std::error_code>& results) {
    audit.async_append(entry(id), {}, asio::bind_executor(strand_, [this, &results](std::error_code ec) {
                         on_strand_ = on_strand_ && strand_.running_in_this_thread();
                         results.push_back(ec);  // on the strand: no lock needed
                         ++done_;
                       }));
  }

  bool wait_done(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (done_.load() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  std::shared_ptr<test::sync_gate> gate_ = test::sync_gate::closed();
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::strand<asio::io_context::executor_type> strand_ = asio::make_strand(io_);
  std::thread thread_;
  std::atomic<std::size_t> done_{0};
  std::atomic<bool> on_strand_{true};
};

TEST_F(audit_writer_test, stuck_sync_is_acknowledged_as_durable_once_it_returns) {
  audit_file audit(file_, 1 << 20, gate_->function());
  std::vector<std::error_code> results;
  append_async(audit, 1, results);
  ASSERT_TRUE(gate_->wait_for_calls(1));
  EXPECT_EQ(done_.load(), 0U);  // no timeout answers for a write still in progress
  gate_->open();
  ASSERT_TRUE(wait_done(1));
  EXPECT_EQ(results, (std::vector<std::error_code>{{}}));
  EXPECT_TRUE(on_strand_.load());
  EXPECT_EQ(ids(audit_file::load(file_, 200).entries), (std::vector<std::uint64_t>{1}));
}

TEST_F(audit_writer_test, entries_queued_during_a_sync_share_the_next_one) {
  audit_file audit(file_, 1 << 20, gate_->function());
  std::vector<std::error_code> results;
  append_async(audit, 1, results);
  ASSERT_TRUE(gate_->wait_for_calls(1));
  for (std::uint64_t id = 2; id <= 11; ++id)
    append_async(audit, id, results);
  gate_->open();
  ASSERT_TRUE(wait_done(11));
  EXPECT_EQ(gate_->calls(), 2U);  // one for entry 1, one for the ten queued behind it
  EXPECT_EQ(results, std::vector<std::error_code>(11));
  EXPECT_TRUE(on_strand_.load());
  EXPECT_EQ(ids(audit_file::load(file_, 200).entries), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
}

TEST_F(audit_writer_test, hooks_run_in_queue_order_and_see_the_write_result) {
  gate_->open();
  gate_->fail_with(std::make_error_code(std::errc::io_error));
  audit_file audit(file_, 1 << 20, gate_->function());
  std::uint64_t next_id = 0;                                       // guarded by the audit file's queue lock (on_queued)
  std::vector<std::pair<std::uint64_t, std::error_code>> written;  // only the writer thread touches it
  std::vector<std::error_code> results;
  for (int i = 0; i < 3; ++i) {
    audit_file::hooks around;
    around.on_queued = [&next_id](healing_entry& e) { e.id = ++next_id; };
    around.on_written = [&written](const healing_entry& e, std::error_code ec) { written.emplace_back(e.id, ec); };
    audit.async_append(entry(0), std::move(around), asio::bind_executor(strand_, [&](std::error_code ec) {
                         results.push_back(ec);
                         ++done_;
                       }));
  }
  ASSERT_TRUE(wait_done(3));
  const auto eio = std::make_error_code(std::errc::io_error);
  EXPECT_EQ(results, std::vector<std::error_code>(3, eio));
  audit.stop();
  ASSERT_EQ(written.size(), 3U);
  for (std::uint64_t i = 0; i < 3; ++i)
    EXPECT_EQ(written[i], std::make_pair(i + 1, eio));
}

TEST_F(audit_writer_test, stop_drains_the_queue_and_later_appends_fail_at_once) {
  audit_file audit(file_, 1 << 20, gate_->function());
  std::vector<std::error_code> results;
  append_async(audit, 1, results);
  ASSERT_TRUE(gate_->wait_for_calls(1));
  append_async(audit, 2, results);
  std::thread stopper([&] { audit.stop(); });
  gate_->open();
  stopper.join();
  ASSERT_TRUE(wait_done(2));
  append_async(audit, 3, results);
  ASSERT_TRUE(wait_done(3));
  EXPECT_EQ(results, (std::vector<std::error_code>{{}, {}, audit_errc::stopped}));
  EXPECT_EQ(results[2].message(), "the audit writer has stopped");
  EXPECT_EQ(ids(audit_file::load(file_, 200).entries), (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(audit_writer_test, a_batch_across_a_rotation_is_durable_in_both_files) {
  const auto line_size = static_cast<std::int64_t>(to_json(entry(10)).dump().size() + 1);
  audit_file audit(file_, line_size * 4, gate_->function());
  std::vector<std::error_code> results;
  append_async(audit, 10, results);
  ASSERT_TRUE(gate_->wait_for_calls(1));
  for (std::uint64_t id = 11; id < 16; ++id)
    append_async(audit, id, results);
  gate_->open();
  ASSERT_TRUE(wait_done(6));
  EXPECT_EQ(results, std::vector<std::error_code>(6));
  EXPECT_EQ(gate_->calls(), 3U);  // entry 10; 11-13 before the rotation; 14-15 after it
  EXPECT_EQ(ids(audit_file::load(file_, 200).entries), (std::vector<std::uint64_t>{10, 11, 12, 13, 14, 15}));
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
