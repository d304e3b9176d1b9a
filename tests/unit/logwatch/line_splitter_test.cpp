#include "healthd/logwatch/line_splitter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace healthd::logwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct owned_line {
  std::string text;
  bool truncated = false;
  friend bool operator==(const owned_line&, const owned_line&) = default;
  friend std::ostream& operator<<(std::ostream& os, const owned_line& l) {
    return os << '"' << l.text.substr(0, 40) << (l.text.size() > 40 ? "..." : "") << "\" (" << l.text.size() << " bytes"
              << (l.truncated ? ", truncated" : "") << ")";
  }
};

owned_line whole(std::string text) { return {std::move(text), false}; }
owned_line cut(std::string text) { return {std::move(text), true}; }

std::vector<owned_line> drain(line_splitter& splitter) {
  std::vector<owned_line> out;
  while (auto l = splitter.next())
    out.push_back({std::string(l->text), l->truncated});
  return out;
}

std::vector<owned_line> split(line_splitter& splitter, const std::vector<std::string>& chunks) {
  std::vector<owned_line> out;
  for (const std::string& chunk : chunks) {
    splitter.feed(chunk);
    for (auto& l : drain(splitter))
      out.push_back(std::move(l));
  }
  return out;
}

std::vector<owned_line> split(const std::vector<std::string>& chunks, std::size_t max = default_max_line_bytes) {
  line_splitter splitter(max);
  return split(splitter, chunks);
}

TEST(line_splitter, complete_lines_come_out_without_terminators) {
  EXPECT_THAT(split({"one\ntwo\r\n\nthree\n"}), ElementsAre(whole("one"), whole("two"), whole(""), whole("three")));
}

TEST(line_splitter, partial_last_line_waits_for_its_newline) {
  line_splitter splitter;
  EXPECT_THAT(split(splitter, {"first\nsecond half"}), ElementsAre(whole("first")));
  EXPECT_EQ(splitter.held_bytes(), 11U);
  EXPECT_EQ(splitter.line_start(), 6U);
  EXPECT_THAT(split(splitter, {" and more", "\n"}), ElementsAre(whole("second half and more")));
  EXPECT_EQ(splitter.line_start(), 27U);
  EXPECT_EQ(splitter.held_bytes(), 0U);
}

TEST(line_splitter, a_carriage_return_alone_is_part_of_the_line) {
  EXPECT_THAT(split({"a\rb\n\r\r\n"}), ElementsAre(whole("a\rb"), whole("\r")));
}

// The same text split in two at every position, and byte by byte, gives the same lines.
TEST(line_splitter, every_chunk_boundary_gives_the_same_lines) {
  const std::string text = "alpha\r\nbeta\n\n0123456789abc\r\n0123456789\r\n012345678\r\nxyz\rq\n\r\nlast";
  const std::size_t max = 10;
  const std::vector<owned_line> expected = {whole("alpha"),      whole("beta"),      whole(""),       cut("0123456789"),
                                            whole("0123456789"), whole("012345678"), whole("xyz\rq"), whole("")};
  ASSERT_EQ(split({text}, max), expected);
  for (std::size_t at = 0; at <= text.size(); ++at) {
    EXPECT_EQ(split({text.substr(0, at), text.substr(at)}, max), expected) << "split at " << at;
  }
  std::vector<std::string> bytes;
  for (const char c : text)
    bytes.emplace_back(1, c);
  EXPECT_EQ(split(bytes, max), expected);
  for (std::size_t a = 0; a <= text.size(); ++a) {
    for (std::size_t b = a; b <= text.size(); ++b) {
      ASSERT_EQ(split({text.substr(0, a), text.substr(a, b - a), text.substr(b)}, max), expected)
          << "split at " << a << " and " << b;
    }
  }
}

TEST(line_splitter, line_of_exactly_the_limit_is_whole_with_either_terminator) {
  EXPECT_THAT(split({"abcd\n", "abcd\r\n", "abcde\n", "abcd\r", "\n", "abcd\rx\n"}, 4),
              ElementsAre(whole("abcd"), whole("abcd"), cut("abcd"), whole("abcd"), cut("abcd")));
}

TEST(line_splitter, one_mebibyte_line_is_cut_at_the_limit_and_the_rest_discarded) {
  line_splitter splitter;
  const std::string mebibyte(1024 * 1024, 'x');
  std::vector<owned_line> lines = split(splitter, {"before\n"});
  // Fed in 4 KiB chunks, as a file read returns them; the held part never exceeds the limit + 1.
  std::size_t most_held = 0;
  const std::string text = mebibyte + "\nafter\n";
  for (std::size_t at = 0; at < text.size(); at += 4096) {
    splitter.feed(std::string_view(text).substr(at, 4096));
    for (auto& l : drain(splitter))
      lines.push_back(std::move(l));
    most_held = std::max(most_held, splitter.held_bytes());
  }
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0], whole("before"));
  EXPECT_EQ(lines[1], cut(std::string(default_max_line_bytes, 'x')));
  EXPECT_EQ(lines[2], whole("after"));
  EXPECT_LE(most_held, default_max_line_bytes + 1);
  EXPECT_EQ(splitter.line_start(), 7 + text.size());
}

TEST(line_splitter, overlong_line_in_one_chunk_is_cut_without_copying_the_rest) {
  EXPECT_THAT(split({std::string(100, 'y') + "\nz\n"}, 8), ElementsAre(cut("yyyyyyyy"), whole("z")));
}

TEST(line_splitter, line_start_stays_at_an_overlong_line_until_its_newline) {
  line_splitter splitter(4);
  EXPECT_THAT(split(splitter, {"ok\n", "toolong"}), ElementsAre(whole("ok"), cut("tool")));
  EXPECT_EQ(splitter.line_start(), 3U);
  EXPECT_THAT(split(splitter, {"still\n"}), IsEmpty());
  EXPECT_EQ(splitter.line_start(), 16U);
}

TEST(line_splitter, flush_hands_out_the_partial_line_once) {
  line_splitter splitter;
  EXPECT_THAT(split(splitter, {"a\nno newline\r"}), ElementsAre(whole("a")));
  const auto flushed = splitter.flush();
  ASSERT_TRUE(flushed.has_value());
  EXPECT_EQ(flushed->text, "no newline");
  EXPECT_FALSE(flushed->truncated);
  EXPECT_EQ(splitter.line_start(), 13U);
  EXPECT_FALSE(splitter.flush().has_value());
}

TEST(line_splitter, reset_forgets_the_partial_line_and_restarts_offsets) {
  line_splitter splitter;
  EXPECT_THAT(split(splitter, {"half of a li"}), IsEmpty());
  splitter.reset(100);
  EXPECT_EQ(splitter.held_bytes(), 0U);
  EXPECT_EQ(splitter.line_start(), 100U);
  EXPECT_THAT(split(splitter, {"new\n"}), ElementsAre(whole("new")));
  EXPECT_EQ(splitter.line_start(), 104U);
}

TEST(line_splitter, reset_ends_the_discarding_of_an_overlong_line) {
  line_splitter splitter(2);
  EXPECT_THAT(split(splitter, {"abcdef"}), ElementsAre(cut("ab")));
  splitter.reset();
  EXPECT_THAT(split(splitter, {"ok\n"}), ElementsAre(whole("ok")));
}

TEST(line_splitter, invalid_utf8_and_nul_bytes_pass_through) {
  const std::string raw("\xFF\0\xC3\n", 4);
  EXPECT_THAT(split({raw}), ElementsAre(whole(std::string("\xFF\0\xC3", 3))));
}

TEST(line_splitter, zero_limit_is_refused) { EXPECT_THROW(line_splitter{0}, std::invalid_argument); }

}  // namespace
}  // namespace healthd::logwatch
