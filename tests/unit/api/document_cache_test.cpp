#include "healthd/api/document_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace healthd::api {
namespace {

TEST(content_etag, is_quoted_stable_and_content_addressed) {
  const auto tag = content_etag("{\"a\":1}");
  EXPECT_EQ(tag.size(), 18U);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_EQ(tag, content_etag("{\"a\":1}"));
  EXPECT_NE(tag, content_etag("{\"a\":2}"));
  EXPECT_EQ(content_etag(""), "\"cbf29ce484222325\"");  // FNV-1a offset basis: the hash of nothing
}

TEST(etag_matches, accepts_exact_weak_listed_and_star) {
  const std::string tag = "\"0123456789abcdef\"";
  EXPECT_TRUE(etag_matches(tag, tag));
  EXPECT_TRUE(etag_matches("W/" + tag, tag));
  EXPECT_TRUE(etag_matches("\"x\", " + tag + " ,\"y\"", tag));
  EXPECT_TRUE(etag_matches("*", tag));
  EXPECT_FALSE(etag_matches("\"0123456789abcdee\"", tag));
  EXPECT_FALSE(etag_matches("", tag));
  EXPECT_FALSE(etag_matches("0123456789abcdef", tag));  // unquoted is a different opaque tag
}

TEST(document_cache, renders_once_per_version) {
  document_cache<int> cache;
  int renders = 0;
  const auto render = [&] {
    ++renders;
    return std::string("doc") + std::to_string(renders);
  };
  const auto a = cache.get("health", 1, render);
  const auto b = cache.get("health", 1, render);
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(a, b);  // the same published document, not a copy
  EXPECT_EQ(*a->body, "doc1");
  const auto c = cache.get("health", 2, render);
  EXPECT_EQ(renders, 2);
  EXPECT_EQ(*c->body, "doc2");
  EXPECT_NE(c->etag, a->etag);
  EXPECT_EQ(cache.renders_for_test(), 2U);
}

TEST(document_cache, concurrent_callers_render_a_version_once) {
  document_cache<int> cache;
  std::atomic<int> renders{0};
  std::latch start(8);
  {
    std::vector<std::jthread> threads;
    threads.reserve(8);
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        (void)cache.get("health", 1, [&] {
          ++renders;
          return std::string(4096, 'x');
        });
      });
    }
  }
  EXPECT_EQ(renders, 1);
}

TEST(document_cache, keys_are_cached_separately) {
  document_cache<int> cache;
  (void)cache.get("a", 1, [] { return std::string("A"); });
  (void)cache.get("b", 1, [] { return std::string("B"); });
  EXPECT_EQ(*cache.get("a", 1, [] { return std::string("wrong"); })->body, "A");
  EXPECT_EQ(*cache.get("b", 1, [] { return std::string("wrong"); })->body, "B");
}

TEST(document_cache, keys_sharing_a_slot_evict_each_other_never_answer_for_each_other) {
  document_cache<int> cache(1);
  (void)cache.get("a", 1, [] { return std::string("A"); });
  (void)cache.get("b", 1, [] { return std::string("B"); });  // the one slot now holds b
  EXPECT_EQ(*cache.get("b", 1, [] { return std::string("wrong"); })->body, "B");
  EXPECT_EQ(cache.find("a", 1), nullptr);
  EXPECT_EQ(*cache.get("a", 1, [] { return std::string("A again"); })->body, "A again");
  EXPECT_EQ(cache.renders_for_test(), 3U);
}

TEST(document_cache, find_never_renders_and_misses_another_version) {
  document_cache<int> cache;
  EXPECT_EQ(cache.find("health", 1), nullptr);
  const auto rendered = cache.get("health", 1, [] { return std::string("H"); });
  EXPECT_EQ(cache.find("health", 1), rendered);
  EXPECT_EQ(cache.find("health", 2), nullptr);
  EXPECT_EQ(cache.renders_for_test(), 1U);
}

}  // namespace
}  // namespace healthd::api
