#include "healthd/breaker/breaker_registry.hpp"

#include "breaker_fixture.hpp"
#include "support/manual_clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace healthd {
namespace {

using test::manual_clock;
using test::pinned;
using test::transition_log;

config::breaker_config named(std::string name, int threshold = 1, double recovery_s = 60) {
  auto c = test::consecutive_settings(threshold, recovery_s);
  c.name = std::move(name);
  return c;
}

std::vector<config::breaker_config> named_all(const std::vector<std::string>& names) {
  std::vector<config::breaker_config> out;
  out.reserve(names.size());
  for (const auto& n : names)
    out.push_back(named(n));
  return out;
}

std::vector<std::string> names_of(const breaker_registry& r) {
  std::vector<std::string> out;
  for (const auto& b : r.all())
    out.push_back(b->name());
  return out;
}

std::vector<std::string> seven() {
  return {"database", "redis", "siem_sentinel", "siem_splunk", "threat_intel", "advisory_feeds", "ml_pipeline"};
}

TEST(breaker_registry, keeps_config_order) {
  breaker_registry r(named_all(seven()));
  EXPECT_EQ(names_of(r), seven());
  std::vector<std::string> snapshot_names;
  for (const auto& s : r.snapshots()) {
    snapshot_names.push_back(s.name);
    EXPECT_EQ(s.state, breaker_state::closed);
  }
  EXPECT_EQ(snapshot_names, seven());
}

TEST(breaker_registry, find_returns_named_breaker_or_null) {
  breaker_registry r(named_all(seven()));
  const auto b = r.find("siem_splunk");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->name(), "siem_splunk");
  EXPECT_EQ(r.find("siem_splunk"), b);
  EXPECT_EQ(r.find("rediss"), nullptr);
  EXPECT_EQ(r.find(""), nullptr);
}

TEST(breaker_registry, apply_keeps_state_and_counters_of_remaining) {
  manual_clock clock;
  breaker_registry r({named("database"), named("redis")});
  const auto db = r.find("database");
  db->record_failure(clock.now(), "down");
  ASSERT_EQ(db->allow(clock.now()), admission::rejected);

  r.apply({named("database", 4, 30), named("redis")});
  EXPECT_EQ(r.find("database"), db);
  const auto s = db->snapshot();
  EXPECT_EQ(s.state, breaker_state::open);
  EXPECT_EQ(s.failures, 1U);
  EXPECT_EQ(s.rejected, 1U);
  EXPECT_EQ(s.times_opened, 1U);
  EXPECT_EQ(s.failure_threshold, 4);
  EXPECT_DOUBLE_EQ(s.recovery_timeout_s, 30);
  EXPECT_DOUBLE_EQ(db->settings().recovery_timeout_s, 30);
}

TEST(breaker_registry, apply_adds_new_breakers_closed_in_config_order) {
  manual_clock clock;
  breaker_registry r({named("database"), named("redis")});
  r.find("redis")->record_failure(clock.now(), "down");
  r.apply({named("threat_intel"), named("database"), named("redis"), named("ml_pipeline")});
  EXPECT_EQ(names_of(r), (std::vector<std::string>{"threat_intel", "database", "redis", "ml_pipeline"}));
  EXPECT_EQ(r.find("threat_intel")->state(), breaker_state::closed);
  EXPECT_EQ(r.find("ml_pipeline")->snapshot().version, 0U);
  EXPECT_EQ(r.find("redis")->state(), breaker_state::open);
}

TEST(breaker_registry, version_moves_on_every_breaker_change_and_list_change_only) {
  manual_clock clock;
  breaker_registry r({named("database"), named("redis", 2)});
  const auto v0 = r.version();
  r.apply({named("database"), named("redis", 2)});
  EXPECT_EQ(r.version(), v0) << "an unchanged reload";
  r.find("redis")->record_failure(clock.now(), "down");  // a counter, no transition
  const auto v1 = r.version();
  EXPECT_GT(v1, v0);
  r.find("redis")->record_failure(clock.now(), "down");  // closed -> open
  EXPECT_GT(r.version(), v1);
  const auto v2 = r.version();
  r.apply({named("database")});
  EXPECT_GT(r.version(), v2) << "a breaker left the list";
  const auto copies = r.snapshot_copies_for_test();
  (void)r.version();
  EXPECT_EQ(r.snapshot_copies_for_test(), copies);
}

TEST(breaker_registry, apply_drops_removed_breakers_but_holders_keep_them) {
  manual_clock clock;
  breaker_registry r({named("database"), named("redis")});
  const auto held = r.find("redis");
  r.apply({named("database")});
  EXPECT_EQ(r.find("redis"), nullptr);
  EXPECT_EQ(names_of(r), (std::vector<std::string>{"database"}));
  EXPECT_EQ(r.snapshots().size(), 1U);
  // A probe that held it across the reload can still report.
  EXPECT_EQ(held->allow(clock.now()), admission::admitted);
  held->record_failure(clock.now(), "down");
  EXPECT_EQ(held->state(), breaker_state::open);
}

TEST(breaker_registry, removed_then_readded_breaker_starts_fresh) {
  manual_clock clock;
  breaker_registry r({named("redis")});
  r.find("redis")->record_failure(clock.now(), "down");
  r.apply({});
  EXPECT_TRUE(r.all().empty());
  r.apply({named("redis")});
  const auto s = r.find("redis")->snapshot();
  EXPECT_EQ(s.state, breaker_state::closed);
  EXPECT_EQ(s.failures, 0U);
}

TEST(breaker_registry, listener_reaches_initial_and_added_breakers) {
  manual_clock clock;
  transition_log log;
  breaker_registry r({named("database")}, log.listener());
  r.find("database")->record_failure(clock.now(), "down");
  r.apply({named("database"), named("redis")});
  r.find("redis")->record_failure(clock.now(), "down");
  const auto seen = log.all();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].name, "database");
  EXPECT_EQ(seen[1].name, "redis");
  EXPECT_EQ(seen[1].to, breaker_state::open);
}

TEST(breaker_registry, random_source_reaches_breakers) {
  manual_clock clock;
  auto c = named("database");
  c.jitter = 0.1;
  breaker_registry r({c}, {}, pinned(1));
  r.find("database")->record_failure(clock.now(), "down");
  const auto s = r.find("database")->snapshot();
  EXPECT_NEAR(seconds_d(*s.next_attempt_steady - clock.now().steady).count(), 66, 1e-6);
}

TEST(breaker_registry, duplicate_names_are_rejected_without_change) {
  EXPECT_THROW(breaker_registry({named("redis"), named("redis")}), std::invalid_argument);
  breaker_registry r({named("database"), named("redis")});
  const auto db = r.find("database");
  EXPECT_THROW(r.apply({named("database", 9), named("ml_pipeline"), named("ml_pipeline")}), std::invalid_argument);
  EXPECT_EQ(names_of(r), (std::vector<std::string>{"database", "redis"}));
  EXPECT_EQ(r.find("database"), db);
  EXPECT_EQ(db->settings().failure_threshold, 1);
}

TEST(breaker_registry, concurrent_reload_and_lookup_are_safe) {
  manual_clock clock;
  breaker_registry r(named_all(seven()));
  std::atomic<bool> done{false};
  std::thread reloader([&] {
    for (int i = 0; i <= 300; ++i) {  // ends on an even i: all seven
      auto configs = named_all(seven());
      if (i % 2 == 1) configs.pop_back();
      configs[0].failure_threshold = 1 + i % 4;
      r.apply(configs);
    }
    done = true;
  });
  std::uint64_t seen = 0;
  do {
    if (auto b = r.find("database")) {
      if (b->allow(clock.now()) == admission::admitted) b->record_failure(clock.now(), "down");
      b->reset(clock.now());
    }
    if (auto b = r.find("ml_pipeline")) b->record_success(clock.now());
    for (const auto& s : r.snapshots())
      seen += s.version;
  } while (!done.load());
  reloader.join();
  EXPECT_EQ(names_of(r), seven());
  EXPECT_GT(seen, 0U);
}

}  // namespace
}  // namespace healthd
