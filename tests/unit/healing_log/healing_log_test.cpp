#include "healthd/healing_log/healing_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace healthd {
namespace {

healing_entry entry(std::string subsystem, heal_result result = heal_result::success) {
  healing_entry e;
  e.subsystem = std::move(subsystem);
  e.action = "reconnect";
  e.result = result;
  return e;
}

std::vector<std::uint64_t> ids(const std::vector<healing_entry>& entries) {
  std::vector<std::uint64_t> out;
  for (const auto& e : entries)
    out.push_back(e.id);
  return out;
}

TEST(healing_log, append_assigns_increasing_ids) {
  healing_log log(10);
  auto stored = entry("redis");
  stored.id = 99;  // ignored
  EXPECT_EQ(log.append(stored).id, 1U);
  EXPECT_EQ(log.append(entry("redis")).id, 2U);
  EXPECT_EQ(log.last_id(), 2U);
}

TEST(healing_log, ring_keeps_only_the_newest_capacity_entries) {
  healing_log log(3);
  for (int i = 0; i < 5; ++i)
    log.append(entry("redis"));
  EXPECT_EQ(log.size(), 3U);
  EXPECT_EQ(ids(log.query({.limit = 10})), (std::vector<std::uint64_t>{5, 4, 3}));
}

TEST(healing_log, query_is_newest_first_and_limited) {
  healing_log log(200);
  for (int i = 0; i < 10; ++i)
    log.append(entry("redis"));
  EXPECT_EQ(ids(log.query({.limit = 3})), (std::vector<std::uint64_t>{10, 9, 8}));
}

TEST(healing_log, limit_is_clamped_to_capacity) {
  healing_log log(4);
  for (int i = 0; i < 10; ++i)
    log.append(entry("redis"));
  EXPECT_EQ(log.query({.limit = 1000}).size(), 4U);
}

TEST(healing_log, subsystem_filter_applies_before_the_limit) {
  healing_log log(200);
  for (int i = 0; i < 6; ++i)
    log.append(entry(i % 2 == 0 ? "redis" : "database"));
  EXPECT_EQ(ids(log.query({.limit = 2, .subsystem = "redis"})), (std::vector<std::uint64_t>{5, 3}));
  EXPECT_TRUE(log.query({.subsystem = "websocket"}).empty());
}

TEST(healing_log, since_id_returns_the_newest_limit_entries_after_it) {
  healing_log log(200);
  for (int i = 0; i < 10; ++i)
    log.append(entry("redis"));
  EXPECT_EQ(ids(log.query({.limit = 50, .since_id = 7})), (std::vector<std::uint64_t>{10, 9, 8}));
  EXPECT_EQ(ids(log.query({.limit = 2, .since_id = 4})), (std::vector<std::uint64_t>{10, 9}));
  EXPECT_TRUE(log.query({.since_id = 10}).empty());
}

TEST(healing_log, restore_refills_and_ids_continue) {
  healing_log log(3);
  std::vector<healing_entry> durable;
  for (std::uint64_t id : {40U, 41U, 42U, 43U}) {
    auto e = entry("redis");
    e.id = id;
    durable.push_back(e);
  }
  log.restore(durable);
  EXPECT_EQ(ids(log.query({})), (std::vector<std::uint64_t>{43, 42, 41}));
  EXPECT_EQ(log.append(entry("redis")).id, 44U);
}

TEST(healing_log, restore_skips_duplicate_ids) {
  healing_log log(10);
  std::vector<healing_entry> durable;
  for (std::uint64_t id : {3U, 1U, 2U, 2U, 3U}) {
    auto e = entry("redis");
    e.id = id;
    durable.push_back(e);
  }
  log.restore(durable);
  EXPECT_EQ(ids(log.query({})), (std::vector<std::uint64_t>{3, 2, 1}));
}

TEST(healing_log, counts_survive_eviction) {
  healing_log log(2);
  log.append(entry("redis", heal_result::failure));
  log.append(entry("redis", heal_result::failure));
  log.append(entry("redis", heal_result::success));
  log.append(entry("database", heal_result::skipped));
  const auto counts = log.counts();
  ASSERT_EQ(counts.size(), 3U);
  EXPECT_EQ(counts[0].subsystem, "database");
  EXPECT_EQ(counts[1].result, heal_result::success);
  EXPECT_EQ(counts[2].result, heal_result::failure);
  EXPECT_EQ(counts[2].count, 2U);
}

TEST(healing_log, concurrent_appends_get_unique_ids) {
  healing_log log(1000);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!go.load())
        std::this_thread::yield();
      for (int i = 0; i < 100; ++i)
        log.append(entry("redis"));
    });
  }
  go = true;
  for (auto& t : threads)
    t.join();
  const auto all = ids(log.query({.limit = 1000}));
  const std::set<std::uint64_t> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), 400U);
  EXPECT_EQ(log.last_id(), 400U);
}

TEST(healing_log, wire_names_round_trip) {
  for (auto t : {heal_trigger::automatic, heal_trigger::manual, heal_trigger::log, heal_trigger::maintenance}) {
    EXPECT_EQ(parse_heal_trigger(to_string(t)), t);
  }
  for (auto r : {heal_result::success, heal_result::failure, heal_result::skipped}) {
    EXPECT_EQ(parse_heal_result(to_string(r)), r);
  }
  EXPECT_EQ(to_string(heal_trigger::automatic), "auto");
  EXPECT_FALSE(parse_heal_result("ok").has_value());
}

}  // namespace
}  // namespace healthd
