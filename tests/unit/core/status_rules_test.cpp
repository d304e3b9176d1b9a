#include "healthd/core/status_rules.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace healthd {
namespace {

using ps = probe_status;
using bs = breaker_state;
using hs = health_status;

struct subsystem_row {
  std::optional<ps> last_probe;
  std::optional<bs> breaker;
  bool heal_running;
  bool verifying;
  hs expected;
};

// The table in docs/status-rules.md, row by row.
const std::vector<subsystem_row> subsystem_table = {
    // never probed: pending, whatever else holds
    {std::nullopt, bs::closed, false, false, hs::pending},
    {std::nullopt, bs::open, true, false, hs::pending},
    {std::nullopt, std::nullopt, false, false, hs::pending},
    // recovering: half_open, a heal running, or verification pending
    {ps::critical, bs::half_open, false, false, hs::recovering},
    {ps::healthy, bs::half_open, false, false, hs::recovering},
    {ps::critical, bs::open, true, false, hs::recovering},
    {ps::critical, bs::open, false, true, hs::recovering},
    {ps::critical, std::nullopt, true, false, hs::recovering},
    {ps::healthy, bs::closed, false, true, hs::recovering},
    // critical: breaker open, or no breaker and the last probe failed
    {ps::critical, bs::open, false, false, hs::critical},
    {ps::healthy, bs::open, false, false, hs::critical},
    {ps::degraded, bs::open, false, false, hs::critical},
    {ps::critical, std::nullopt, false, false, hs::critical},
    // degraded: passed but slow or partial, or failed while the breaker is still closed
    {ps::degraded, bs::closed, false, false, hs::degraded},
    {ps::degraded, std::nullopt, false, false, hs::degraded},
    {ps::critical, bs::closed, false, false, hs::degraded},
    // healthy
    {ps::healthy, bs::closed, false, false, hs::healthy},
    {ps::healthy, std::nullopt, false, false, hs::healthy},
};

TEST(status_rules, never_probed_but_refused_by_its_breaker_follows_the_breaker) {
  const auto refused = [](std::optional<bs> breaker) {
    subsystem_facts facts;
    facts.breaker = breaker;
    facts.refused_by_breaker = true;
    return subsystem_status(facts);
  };
  EXPECT_EQ(refused(bs::open), hs::critical);
  EXPECT_EQ(refused(bs::half_open), hs::recovering);
  EXPECT_EQ(refused(bs::closed), hs::pending);  // it will be probed at once
}

TEST(status_rules, dependency_rule_names_the_first_blocking_dependency) {
  const std::vector<std::string> deps = {"cache", "database", "queue"};
  const auto lookup = [](std::string_view name) -> std::optional<hs> {
    if (name == "cache") return hs::degraded;
    if (name == "database") return hs::recovering;
    if (name == "queue") return hs::critical;
    return std::nullopt;
  };
  const auto blocking = blocking_dependency(deps, lookup);
  ASSERT_TRUE(blocking.has_value());
  EXPECT_EQ(blocking->first, "database");
  EXPECT_EQ(blocking->second, hs::recovering);
  EXPECT_EQ(dependency_message(blocking->first, blocking->second), "dependency database is recovering");
  EXPECT_FALSE(blocking_dependency({"cache", "unknown"}, lookup).has_value());
  for (auto s : {hs::pending, hs::healthy, hs::degraded})
    EXPECT_FALSE(blocks_dependents(s));
  EXPECT_EQ(healing_exhausted_message(6), "healing exhausted: 6 attempts in the last hour");
}

TEST(status_rules, subsystem_status_follows_the_table) {
  for (std::size_t i = 0; i < subsystem_table.size(); ++i) {
    const auto& row = subsystem_table[i];
    const subsystem_facts facts{row.last_probe, row.breaker, row.heal_running, row.verifying};
    EXPECT_EQ(subsystem_status(facts), row.expected) << "row " << i << " expected " << to_string(row.expected);
  }
}

struct platform_row {
  std::vector<platform_member> members;
  hs expected;
};

const std::vector<platform_row> platform_table = {
    {{}, hs::pending},
    {{{hs::pending, true}, {hs::pending, false}}, hs::pending},
    {{{hs::healthy, false}, {hs::pending, true}}, hs::healthy},
    {{{hs::healthy, false}, {hs::healthy, true}}, hs::healthy},
    // a critical subsystem marked critical: true makes the platform critical
    {{{hs::critical, true}, {hs::healthy, false}, {hs::healthy, false}, {hs::healthy, false}}, hs::critical},
    // one non-critical-flagged of four down: degraded
    {{{hs::critical, false}, {hs::healthy, true}, {hs::healthy, false}, {hs::healthy, false}}, hs::degraded},
    // at least half of the probed ones critical: critical
    {{{hs::critical, false}, {hs::critical, false}, {hs::healthy, false}, {hs::healthy, false}}, hs::critical},
    {{{hs::critical, false}, {hs::healthy, false}, {hs::pending, false}, {hs::pending, false}}, hs::critical},
    {{{hs::critical, false}, {hs::healthy, false}, {hs::healthy, false}}, hs::degraded},
    // recovering beats degraded, loses to critical
    {{{hs::recovering, false}, {hs::degraded, false}, {hs::healthy, false}}, hs::recovering},
    {{{hs::recovering, true}, {hs::critical, true}, {hs::healthy, false}}, hs::critical},
    {{{hs::recovering, false}, {hs::critical, false}, {hs::healthy, false}}, hs::recovering},
    {{{hs::degraded, true}, {hs::healthy, false}}, hs::degraded},
    // a recovering critical-flagged subsystem is not critical
    {{{hs::recovering, true}, {hs::healthy, false}, {hs::healthy, false}}, hs::recovering},
};

TEST(status_rules, platform_status_follows_the_table) {
  for (std::size_t i = 0; i < platform_table.size(); ++i) {
    const auto& row = platform_table[i];
    EXPECT_EQ(platform_status(row.members), row.expected) << "row " << i << " expected " << to_string(row.expected);
  }
}

TEST(status_rules, wire_names_are_stable) {
  EXPECT_EQ(to_string(hs::pending), "pending");
  EXPECT_EQ(to_string(hs::recovering), "recovering");
  EXPECT_EQ(to_string(bs::half_open), "half_open");
  EXPECT_EQ(to_string(ps::degraded), "degraded");
  EXPECT_EQ(parse_probe_status("critical"), ps::critical);
  EXPECT_FALSE(parse_probe_status("Critical").has_value());
}

}  // namespace
}  // namespace healthd
