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

}  // namespace
}  // namespace healthd
