#include "healthd/logwatch/checkpoint.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace healthd::logwatch {
namespace {

const checkpoint example = {
    .files = {{.path = "/var/log/postgresql/main.log", .identity = {2049, 1311}, .offset = 73210},
              {.path = "/var/log/redis/redis.log", .identity = {2049, 18446744073709551615ULL}, .offset = 0}},
    .journal_cursor = "s=0123;i=42;b=ab;m=1f;t=5e;x=77"};

checkpoint parsed(std::string_view text) {
  auto result = parse_checkpoint(text);
  if (auto* error = std::get_if<checkpoint_error>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<checkpoint>(std::move(result));
}

std::string refusal(std::string_view text) {
  auto result = parse_checkpoint(text);
  if (!std::holds_alternative<checkpoint_error>(result)) {
    ADD_FAILURE() << "accepted: " << text;
    return {};
  }
  return std::get<checkpoint_error>(result).message;
}

TEST(checkpoint, round_trips_through_its_text) {
  EXPECT_EQ(parsed(to_json_text(example)), example);
  const checkpoint no_journal = {.files = {{.path = "/a", .identity = {1, 2}, .offset = 3}}};
  EXPECT_EQ(parsed(to_json_text(no_journal)), no_journal);
  EXPECT_EQ(parsed(to_json_text(checkpoint{})), checkpoint{});
}

TEST(checkpoint, text_is_the_documented_shape) {
  const checkpoint one = {.files = {{.path = "/a.log", .identity = {1, 2}, .offset = 3}}};
  EXPECT_EQ(to_json_text(one), R"({"format":"platform-healthd/logwatch-checkpoint","version":1,)"
                               R"("files":[{"path":"/a.log","device":1,"inode":2,"offset":3}],"journal_cursor":null})"
                               "\n");
}

TEST(checkpoint, path_with_invalid_utf8_is_written_as_valid_text) {
  const checkpoint odd = {.files = {{.path = "/var/log/\xFF.log", .identity = {1, 2}, .offset = 3}}};
  const checkpoint back = parsed(to_json_text(odd));
  ASSERT_EQ(back.files.size(), 1U);
  EXPECT_EQ(back.files[0].path, "/var/log/\xEF\xBF\xBD.log");
  EXPECT_EQ(back.files[0].identity, (file_identity{1, 2}));
}

struct corrupt_case {
  const char* name;
  std::string text;
  const char* message;  // a part of the error that names what is wrong
};

class checkpoint_refuses : public ::testing::TestWithParam<corrupt_case> {};

TEST_P(checkpoint_refuses, naming_what_is_wrong) {
  const std::string message = refusal(GetParam().text);
  EXPECT_NE(message.find(GetParam().message), std::string::npos) << message;
}

const std::string head = R"({"format":"platform-healthd/logwatch-checkpoint","version":1,)";
const std::string good_file = R"({"path":"/a","device":1,"inode":2,"offset":3})";

INSTANTIATE_TEST_SUITE_P(
    texts, checkpoint_refuses,
    ::testing::Values(
        corrupt_case{"empty", "", "not JSON"}, corrupt_case{"cut_short", head + R"("files":[)", "not JSON"},
        corrupt_case{"binary", std::string("\x00\xFF\xFE", 3), "not JSON"},
        corrupt_case{"array", "[1,2]", "expected a JSON object"},
        corrupt_case{"foreign", R"({"format":"something-else","version":1})", "format: not a log healer checkpoint"},
        corrupt_case{"no_format", R"({"files":[]})", "format: not a log healer checkpoint"},
        corrupt_case{
            "future_version",
            R"({"format":"platform-healthd/logwatch-checkpoint","version":2,"files":[],"journal_cursor":null})",
            "version: unsupported"},
        corrupt_case{
            "version_as_text",
            R"({"format":"platform-healthd/logwatch-checkpoint","version":"1","files":[],"journal_cursor":null})",
            "version: unsupported"},
        corrupt_case{"unknown_key", head + R"("files":[],"journal_cursor":null,"extra":1})", "extra: unknown key"},
        corrupt_case{"missing_files", head + R"("journal_cursor":null})", "files: missing"},
        corrupt_case{"files_not_array", head + R"("files":{},"journal_cursor":null})", "files: expected an array"},
        corrupt_case{"file_not_object", head + R"("files":[)" + good_file + R"(,7],"journal_cursor":null})",
                     "files[1]: expected an object"},
        corrupt_case{"negative_inode",
                     head + R"("files":[{"path":"/a","device":1,"inode":-2,"offset":3}],"journal_cursor":null})",
                     "files[0].inode: expected a non-negative integer"},
        corrupt_case{"fractional_offset",
                     head + R"("files":[{"path":"/a","device":1,"inode":2,"offset":3.5}],"journal_cursor":null})",
                     "files[0].offset: expected a non-negative integer"},
        corrupt_case{"huge_device",
                     head + R"("files":[{"path":"/a","device":18446744073709551616,"inode":2,"offset":3}],)"
                            R"("journal_cursor":null})",
                     "files[0].device: expected a non-negative integer"},
        corrupt_case{"missing_offset", head + R"("files":[{"path":"/a","device":1,"inode":2}],"journal_cursor":null})",
                     "files[0].offset: missing"},
        corrupt_case{
            "extra_file_key",
            head + R"("files":[{"path":"/a","device":1,"inode":2,"offset":3,"size":9}],"journal_cursor":null})",
            "files[0].size: unknown key"},
        corrupt_case{"empty_path",
                     head + R"("files":[{"path":"","device":1,"inode":2,"offset":3}],"journal_cursor":null})",
                     "files[0].path: expected a non-empty string"},
        corrupt_case{"duplicate_path",
                     head + R"("files":[)" + good_file + "," + good_file + R"(],"journal_cursor":null})",
                     "files[1].path: the same path as files[0]"},
        corrupt_case{"cursor_number", head + R"("files":[],"journal_cursor":5})", "journal_cursor: expected"},
        corrupt_case{"cursor_empty", head + R"("files":[],"journal_cursor":""})", "journal_cursor: expected"}),
    [](const auto& test_case) { return std::string(test_case.param.name); });

// Resuming: the saved file was (dev 8, inode 100) at offset 500 under the watched name "app.log".
const file_position saved{.path = "/var/log/app.log", .identity = {8, 100}, .offset = 500};

TEST(plan_resume, same_file_reads_on_from_the_offset) {
  const std::vector<candidate_file> folder = {{"app.log.1", {8, 99}, 4000}, {"app.log", {8, 100}, 900}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::same_file);
  EXPECT_EQ(plan.watched_from, 500U);
  EXPECT_FALSE(plan.rotated_name.has_value());
  EXPECT_FALSE(plan.gap);
}

TEST(plan_resume, same_file_unchanged_reads_nothing_twice) {
  const std::vector<candidate_file> folder = {{"app.log", {8, 100}, 500}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::same_file);
  EXPECT_EQ(plan.watched_from, 500U);
}

TEST(plan_resume, same_file_shorter_than_the_offset_was_copytruncated) {
  const std::vector<candidate_file> folder = {{"app.log.1", {8, 101}, 500}, {"app.log", {8, 100}, 120}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::truncated);
  EXPECT_EQ(plan.watched_from, 0U);
  EXPECT_FALSE(plan.gap);
}

TEST(plan_resume, rotated_sibling_is_found_by_identity_and_read_first) {
  const std::vector<candidate_file> folder = {
      {"app.log", {8, 200}, 50}, {"app.log.2.gz", {8, 7}, 100}, {"app.log.1", {8, 100}, 800}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::rotated);
  EXPECT_EQ(plan.rotated_name, "app.log.1");
  EXPECT_EQ(plan.rotated_from, 500U);
  EXPECT_EQ(plan.watched_from, 0U);
  EXPECT_FALSE(plan.gap);
}

TEST(plan_resume, rotated_before_the_new_file_exists) {
  const std::vector<candidate_file> folder = {{"app.log.1", {8, 100}, 500}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::rotated);
  EXPECT_EQ(plan.rotated_name, "app.log.1");
  EXPECT_EQ(plan.rotated_from, 500U);
  EXPECT_EQ(plan.watched_from, 0U);
}

TEST(plan_resume, same_inode_on_another_device_is_not_the_file) {
  const std::vector<candidate_file> folder = {{"app.log", {9, 100}, 900}, {"app.log.1", {9, 100}, 900}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::lost);
  EXPECT_TRUE(plan.gap);
}

TEST(plan_resume, file_not_found_reads_the_new_one_from_its_start_with_a_gap) {
  const std::vector<candidate_file> folder = {{"app.log", {8, 300}, 60}, {"app.log.1.gz", {8, 301}, 40}};
  const resume_plan plan = plan_resume(saved, "app.log", folder);
  EXPECT_EQ(plan.kind, resume_case::lost);
  EXPECT_EQ(plan.watched_from, 0U);
  EXPECT_FALSE(plan.rotated_name.has_value());
  EXPECT_TRUE(plan.gap);
  EXPECT_EQ(plan_resume(saved, "app.log", {}).kind, resume_case::lost);
}

}  // namespace
}  // namespace healthd::logwatch
