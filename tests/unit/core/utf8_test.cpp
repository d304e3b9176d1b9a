#include "healthd/core/utf8.hpp"

#include "healthd/core/secrets.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace healthd {
namespace {

const std::string fffd(replacement_character);

struct replacement_case {
  const char* name;
  std::string input;
  std::string expected;
};

// The cases of the Unicode Standard's "U+FFFD substitution of maximal subparts" (§3.9, tables 3-8 to 3-11) and
// Markus Kuhn's decoder stress test.
const std::vector<replacement_case>& replacement_cases() {
  static const std::vector<replacement_case> cases = {
      {"empty", "", ""},
      {"ascii", "plain text\n\t", "plain text\n\t"},
      {"nul_is_valid", std::string("a\0b", 3), std::string("a\0b", 3)},
      {"two_byte", "\xC3\xA9", "\xC3\xA9"},
      {"three_byte", "\xE2\x82\xAC", "\xE2\x82\xAC"},
      {"four_byte", "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"largest_code_point", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"},
      {"last_before_surrogates", "\xED\x9F\xBF", "\xED\x9F\xBF"},
      {"first_after_surrogates", "\xEE\x80\x80", "\xEE\x80\x80"},
      {"byte_ff", "\xFF", fffd},
      {"bytes_ff_fe", "\xFF\xFE", fffd + fffd},
      {"f5_and_above", "\xF5\xF8\xFC", fffd + fffd + fffd},
      {"stray_continuation", "a\x80z", "a" + fffd + "z"},
      {"stray_continuations", "\x80\xBF", fffd + fffd},
      {"overlong_c0", "\xC0\xAF", fffd + fffd},
      {"overlong_c1", "\xC1\xBF", fffd + fffd},
      {"overlong_e0", "\xE0\x80\xAF", fffd + fffd + fffd},
      {"overlong_f0", "\xF0\x80\x80\xAF", fffd + fffd + fffd + fffd},
      {"surrogate_high", "\xED\xA0\x80", fffd + fffd + fffd},
      {"surrogate_low", "\xED\xBF\xBF", fffd + fffd + fffd},
      {"above_10ffff", "\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},
      {"truncated_two_at_end", "a\xC3", "a" + fffd},
      {"truncated_three_at_end", "a\xE2\x82", "a" + fffd},
      {"truncated_four_at_end", "a\xF0\x9F\x98", "a" + fffd},
      {"truncated_then_ascii", "\xE2\x82z", fffd + "z"},
      {"truncated_then_lead", "\xF0\x9F\xC3\xA9", fffd + "\xC3\xA9"},
      {"truncated_then_truncated", "\xE2\x82\xE2\x82", fffd + fffd},
      // Table 3-8 of the standard: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d.
      {"standard_table_3_8", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + fffd + fffd + fffd + "b" + fffd + "c" + fffd + fffd + "d"},
      {"latin1_text", "caf\xE9 cr\xE8me", "caf" + fffd + " cr" + fffd + "me"},
      {"valid_around_invalid", "\xC3\xA9\xFF\xE2\x82\xAC", "\xC3\xA9" + fffd + "\xE2\x82\xAC"},
  };
  return cases;
}

TEST(utf8, invalid_sequences_become_one_replacement_per_maximal_subpart) {
  for (const auto& c : replacement_cases()) {
    SCOPED_TRACE(c.name);
    const auto out = valid_utf8(c.input);
    EXPECT_EQ(out, c.expected);
    EXPECT_TRUE(is_valid_utf8(out));
    EXPECT_EQ(is_valid_utf8(c.input), c.input == c.expected);
  }
}

struct cut_case {
  const char* name;
  std::string input;
  std::size_t max_bytes;
  std::string expected;
};

TEST(utf8, max_bytes_cuts_before_the_first_character_that_does_not_fit) {
  const std::vector<cut_case> cases = {
      {"ascii", "abcdef", 3, "abc"},
      {"zero", "abc", 0, ""},
      {"fits_exactly", "a\xC3\xA9", 3, "a\xC3\xA9"},
      {"two_byte_across_the_cut", "a\xC3\xA9", 2, "a"},
      {"three_byte_across_the_cut", "ab\xE2\x82\xAC", 4, "ab"},
      {"four_byte_across_the_cut", "a\xF0\x9F\x98\x80", 4, "a"},
      {"four_byte_fits", "a\xF0\x9F\x98\x80", 5, "a\xF0\x9F\x98\x80"},
      {"replacement_does_not_fit", "ab\xFF", 4, "ab"},
      {"replacement_fits", "ab\xFF", 5, "ab" + fffd},
      {"truncated_input_at_the_end", "abc\xE2\x82", 5, "abc"},
      {"longer_than_input", "abc", 100, "abc"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto out = valid_utf8(c.input, c.max_bytes);
    EXPECT_EQ(out, c.expected);
    EXPECT_LE(out.size(), c.max_bytes);
  }
}

TEST(utf8, a_four_kib_cut_in_a_multi_byte_character_stays_on_a_boundary) {
  std::string text(4094, 'x');
  text += "\xE2\x82\xAC";  // bytes 4094..4096: the cap at 4096 falls inside it
  const auto out = valid_utf8(text, 4096);
  EXPECT_EQ(out, std::string(4094, 'x'));
  EXPECT_TRUE(is_valid_utf8(out));
}

TEST(utf8, every_single_byte_and_every_pair_comes_out_valid) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    ASSERT_TRUE(is_valid_utf8(valid_utf8(one))) << a;
    EXPECT_EQ(is_valid_utf8(one), a < 0x80) << a;
    for (int b = 0; b < 256; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      const auto out = valid_utf8(two);
      ASSERT_TRUE(is_valid_utf8(out)) << a << " " << b;
      const bool pair_valid = (a < 0x80 && b < 0x80) || (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
      EXPECT_EQ(out == two, pair_valid) << a << " " << b;
    }
  }
}

TEST(utf8, is_valid_utf8_agrees_with_nlohmann) {
  for (const auto& c : replacement_cases()) {
    SCOPED_TRACE(c.name);
    bool dumps = true;
    try {
      (void)nlohmann::json(c.input).dump();
    } catch (const nlohmann::json::type_error&) {
      dumps = false;
    }
    EXPECT_EQ(is_valid_utf8(c.input), dumps);
  }
}

TEST(utf8, json_strings_and_keys_are_made_valid) {
  nlohmann::json value = {{"message", "bad \xFF"},
                          {"key \xFE", 1},
                          {"list", {"ok", "\xC0\xAF", 3}},
                          {"nested", {{"deep", "\xED\xA0\x80"}}},
                          {"n", 5},
                          {"null", nullptr}};
  const auto out = valid_utf8_json(value);
  EXPECT_EQ(out["message"], "bad " + fffd);
  EXPECT_EQ(out["key " + fffd], 1);
  EXPECT_EQ(out["list"][1], fffd + fffd);
  EXPECT_EQ(out["list"][2], 3);
  EXPECT_EQ(out["nested"]["deep"], fffd + fffd + fffd);
  EXPECT_EQ(out["n"], 5);
  EXPECT_TRUE(out["null"].is_null());
  EXPECT_NO_THROW((void)out.dump());
}

TEST(utf8, json_text_replaces_instead_of_throwing) {
  const nlohmann::json value = {{"message", "bad \xFF"}};
  EXPECT_THROW((void)value.dump(), nlohmann::json::type_error);
  const auto text = json_text(value);
  EXPECT_EQ(text, "{\"message\":\"bad " + fffd + "\"}");
  EXPECT_EQ(nlohmann::json::parse(text)["message"], "bad " + fffd);
}

TEST(utf8, json_text_keeps_valid_text_unescaped) {
  EXPECT_EQ(json_text({{"m", "caf\xC3\xA9"}}), "{\"m\":\"caf\xC3\xA9\"}");
}

TEST(secret_set, sanitize_redacts_then_makes_valid_utf8) {
  secret_set s;
  s.add("hunter2");
  EXPECT_EQ(s.sanitize("pw=hunter2\xFF"), "pw=***" + fffd);
  EXPECT_EQ(s.sanitize("\xFFhunter2\xC3"), fffd + "***" + fffd);
  EXPECT_EQ(s.sanitize("pw=hunter2 and more", 6), "pw=***");
  EXPECT_EQ(s.sanitize("pw=hunter2", 4), "pw=*");
}

}  // namespace
}  // namespace healthd
