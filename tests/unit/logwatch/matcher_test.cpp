#include "healthd/logwatch/matcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace healthd::logwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

matcher compiled(const std::vector<rule_patterns>& rules) {
  auto result = matcher::compile(rules);
  if (auto* error = std::get_if<pattern_error>(&result)) {
    ADD_FAILURE() << "rule " << error->rule.value_or(999) << " " << error->field() << ": " << error->message;
    return std::get<matcher>(matcher::compile({}));
  }
  return std::get<matcher>(std::move(result));
}

pattern_error refused(const std::vector<rule_patterns>& rules) {
  auto result = matcher::compile(rules);
  if (!std::holds_alternative<pattern_error>(result)) {
    ADD_FAILURE() << "compiled, expected a refusal";
    return {};
  }
  return std::get<pattern_error>(std::move(result));
}

const std::vector<rule_patterns> postgres_rules = {
    {.pattern = "FATAL: +sorry, too many clients already"},
    {.pattern = "(?i)out of memory", .ignore = "CUDA"},
    {.pattern = "certificate has expired"},
};

TEST(matcher, each_rule_matches_only_its_lines) {
  matcher m = compiled(postgres_rules);
  EXPECT_EQ(m.rule_count(), 3U);
  EXPECT_THAT(m.match("2026-12-02 FATAL:  sorry, too many clients already").matched, ElementsAre(0U));
  EXPECT_THAT(m.match("kernel: Out Of Memory: killed process 12").matched, ElementsAre(1U));
  EXPECT_THAT(m.match("x509: certificate has expired or is not yet valid").matched, ElementsAre(2U));
  const line_matches none = m.match("LOG:  checkpoint complete");
  EXPECT_THAT(none.matched, IsEmpty());
  EXPECT_THAT(none.ignored, IsEmpty());
}

TEST(matcher, one_line_matching_several_rules_reports_all_ascending) {
  matcher m = compiled({{.pattern = "b"}, {.pattern = "a"}, {.pattern = "zzz"}, {.pattern = "^ab"}});
  EXPECT_THAT(m.match("ab ab").matched, ElementsAre(0U, 1U, 3U));
}

TEST(matcher, ignore_excludes_the_line_from_its_rule_only) {
  matcher m = compiled({{.pattern = "out of memory", .ignore = "CUDA"}, {.pattern = "memory"}});
  const line_matches hit = m.match("CUDA out of memory");
  EXPECT_THAT(hit.matched, ElementsAre(0U, 1U));
  EXPECT_THAT(hit.ignored, ElementsAre(0U));
  EXPECT_FALSE(hit.counts(0));
  EXPECT_TRUE(hit.is_ignored(0));
  EXPECT_TRUE(hit.counts(1));

  const line_matches plain = m.match("out of memory");
  EXPECT_TRUE(plain.counts(0));
  EXPECT_FALSE(plain.is_ignored(0));

  // An ignore matching without its pattern is reported, and does not count either way.
  const line_matches only_ignore = m.match("CUDA ok");
  EXPECT_THAT(only_ignore.matched, IsEmpty());
  EXPECT_THAT(only_ignore.ignored, ElementsAre(0U));
  EXPECT_FALSE(only_ignore.counts(0));
}

TEST(matcher, reused_result_is_cleared_between_lines) {
  matcher m = compiled(postgres_rules);
  line_matches out;
  m.match("certificate has expired", out);
  EXPECT_THAT(out.matched, ElementsAre(2U));
  m.match("nothing here", out);
  EXPECT_THAT(out.matched, IsEmpty());
}

struct refusal_case {
  const char* name;
  std::vector<rule_patterns> rules;
  std::size_t rule;
  pattern_error::expression which;
  const char* message_part;
};

class matcher_refuses : public ::testing::TestWithParam<refusal_case> {};

TEST_P(matcher_refuses, naming_the_rule_the_expression_and_why) {
  const refusal_case& c = GetParam();
  const pattern_error error = refused(c.rules);
  EXPECT_EQ(error.rule, c.rule);
  EXPECT_EQ(error.which, c.which);
  EXPECT_NE(error.message.find(c.message_part), std::string::npos) << error.message;
}

INSTANTIATE_TEST_SUITE_P(
    patterns, matcher_refuses,
    ::testing::Values(
        refusal_case{"backreference",
                     {{.pattern = "ok"}, {.pattern = "(a)\\1"}},
                     1,
                     pattern_error::expression::pattern,
                     "Back-references"},
        refusal_case{"lookahead", {{.pattern = "foo(?=bar)"}}, 0, pattern_error::expression::pattern, "not supported"},
        refusal_case{"lookbehind",
                     {{.pattern = "a"}, {.pattern = "b"}, {.pattern = "c"}, {.pattern = "x", .ignore = "(?<!y)z"}},
                     3,
                     pattern_error::expression::ignore,
                     "not supported"},
        refusal_case{"too_big",
                     {{.pattern = "a", .ignore = "b"}, {.pattern = "a{1000000}"}},
                     1,
                     pattern_error::expression::pattern,
                     "too large"},
        refusal_case{"unbalanced", {{.pattern = "(abc"}}, 0, pattern_error::expression::pattern, "parenthes"},
        refusal_case{"matches_every_line",
                     {{.pattern = "a", .ignore = "x*"}},
                     0,
                     pattern_error::expression::ignore,
                     "matches an empty line"},
        refusal_case{
            "nul_byte", {{.pattern = std::string("a\0b", 3)}}, 0, pattern_error::expression::pattern, "NUL byte"}),
    [](const auto& test_case) { return std::string(test_case.param.name); });

TEST(matcher, refusal_names_the_config_field) {
  EXPECT_EQ(refused({{.pattern = "(a)\\1"}}).field(), "pattern");
  EXPECT_EQ(refused({{.pattern = "a", .ignore = "(a)\\1"}}).field(), "ignore");
}

TEST(matcher, catastrophic_backtracking_pattern_does_not_match_and_returns) {
  matcher m = compiled({{.pattern = "^(a+)+$"}});
  const std::string hostile = std::string(40000, 'a') + "b";
  EXPECT_THAT(m.match(hostile).matched, IsEmpty());
  EXPECT_THAT(m.match(std::string(40000, 'a')).matched, ElementsAre(0U));
}

TEST(matcher, invalid_utf8_and_nul_bytes_are_matched_as_bytes) {
  matcher m = compiled({{.pattern = "too many clients"}, {.pattern = "\\x00\\xFF"}, {.pattern = "^caf\xC3\xA9$"}});
  const char raw[] = "\xFF\xFE\0\xC3 too many clients \xED\xA0\x80";
  const std::string hostile(raw, sizeof raw - 1);
  EXPECT_THAT(m.match(hostile).matched, ElementsAre(0U));
  EXPECT_THAT(m.match(std::string("x\0\xFFy", 4)).matched, ElementsAre(1U));
  EXPECT_THAT(m.match("caf\xC3\xA9").matched, ElementsAre(2U));
  EXPECT_THAT(m.match("").matched, IsEmpty());
}

TEST(matcher, empty_rule_list_matches_nothing) {
  matcher m = compiled({});
  EXPECT_EQ(m.rule_count(), 0U);
  EXPECT_THAT(m.match("anything").matched, IsEmpty());
}

TEST(matcher, copies_match_independently_on_their_own_threads) {
  const matcher original = compiled(postgres_rules);
  std::vector<std::size_t> hits(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < hits.size(); ++t) {
    threads.emplace_back([copy = original, &count = hits[t]]() mutable {
      for (int i = 0; i < 2000; ++i) {
        if (copy.match(i % 2 == 0 ? "certificate has expired" : "fine").counts(2)) ++count;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_THAT(hits, ElementsAre(1000U, 1000U, 1000U, 1000U));
}

}  // namespace
}  // namespace healthd::logwatch
