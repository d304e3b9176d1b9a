#include "healthd/core/secrets.hpp"

#include <gtest/gtest.h>

namespace healthd {
namespace {

TEST(secret_set, redact_replaces_every_occurrence) {
  secret_set s;
  s.add("hunter2");
  EXPECT_EQ(s.redact("auth hunter2 failed (hunter2)"), "auth *** failed (***)");
}

TEST(secret_set, longer_secrets_are_redacted_first) {
  secret_set s;
  s.add("abc");
  s.add("abcdef");
  EXPECT_EQ(s.redact("key=abcdef"), "key=***");
}

TEST(secret_set, empty_secret_is_ignored) {
  secret_set s;
  s.add("");
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.redact("text"), "text");
}

TEST(secret_set, merge_adds_the_other_sets_secrets) {
  secret_set a;
  secret_set b;
  a.add("one1");
  b.add("two2");
  a.merge(b);
  EXPECT_EQ(a.redact("one1 two2"), "*** ***");
  EXPECT_EQ(a.size(), 2U);
}

TEST(conninfo_password, keyword_form) {
  EXPECT_EQ(conninfo_password("host=db port=5432 password=s3cret user=x"), "s3cret");
  EXPECT_EQ(conninfo_password("host=db password = 'two words' user=x"), "two words");
  EXPECT_EQ(conninfo_password("password='it\\'s'"), "it's");
  EXPECT_FALSE(conninfo_password("host=db user=x").has_value());
  EXPECT_FALSE(conninfo_password("passwordless=1").has_value());
}

TEST(conninfo_password, uri_form) {
  EXPECT_EQ(conninfo_password("postgresql://app:p%40ss@db:5432/main"), "p@ss");
  EXPECT_EQ(conninfo_password("postgres://db/main?user=app&password=abc"), "abc");
  EXPECT_FALSE(conninfo_password("postgresql://app@db/main").has_value());
}

TEST(redaction, every_string_and_key_in_details_is_redacted) {
  secret_set secrets;
  secrets.add("hunter2");
  const nlohmann::json details = {{"a", "pw=hunter2"}, {"hunter2", 1}, {"list", {"x", "hunter2"}}, {"n", 5}};
  const auto out = sanitize_json(details, secrets);
  EXPECT_EQ(out.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(out["a"], "pw=***");
  EXPECT_EQ(out["n"], 5);
}

TEST(redaction, details_are_made_valid_utf8_with_or_without_secrets) {
  const nlohmann::json details = {{"stderr", "bad \xFF"}, {"key \xC0", {"x\xE2\x82"}}};
  for (const bool with_secret : {false, true}) {
    secret_set secrets;
    if (with_secret) secrets.add("hunter2");
    const auto out = sanitize_json(details, secrets);
    EXPECT_EQ(out["stderr"], "bad \uFFFD");
    EXPECT_EQ(out["key \uFFFD"][0], "x\uFFFD");
  }
}

}  // namespace
}  // namespace healthd
