#include "healthd/api/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <variant>

namespace healthd::api {
namespace {

namespace fs = std::filesystem;

// <tmp>/site (the root) next to <tmp>/secret.txt (outside it).
class static_site_test : public ::testing::Test {
protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("healthd-static-" + std::to_string(std::random_device{}()));
    root_ = base_ / "site";
    fs::create_directories(root_ / "platform-health" / "assets");
    write(root_ / "platform-health" / "index.html", "<html>dashboard</html>");
    write(root_ / "platform-health" / "assets" / "app.JS", "console.log(1)");
    write(root_ / "about.html", "<html>about</html>");
    write(root_ / "logo.svg", "<svg/>");
    write(root_ / ".env", "SECRET=1");
    write(base_ / "secret.txt", "top secret");
    fs::create_directories(base_ / "outside-dir");
    write(base_ / "outside-dir" / "index.html", "outside");
    fs::create_symlink(base_ / "secret.txt", root_ / "leak.txt");
    fs::create_symlink(base_ / "outside-dir", root_ / "linked-dir");
    fs::create_symlink(root_ / "logo.svg", root_ / "alias.svg");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

  [[nodiscard]] static_lookup resolve(std::string_view path) const { return static_site(root_).resolve(path); }

  [[nodiscard]] fs::path found(std::string_view path) const {
    const auto lookup = resolve(path);
    const auto* file = std::get_if<static_file>(&lookup);
    return file == nullptr ? fs::path{} : file->path;
  }

  [[nodiscard]] bool not_found(std::string_view path) const {
    return std::holds_alternative<static_not_found>(resolve(path));
  }

  fs::path base_;
  fs::path root_;
};

TEST_F(static_site_test, directory_serves_its_index_html) {
  EXPECT_EQ(found("/platform-health/"), fs::canonical(root_ / "platform-health" / "index.html"));
  const auto lookup = resolve("/platform-health/");
  EXPECT_EQ(std::get<static_file>(lookup).content_type, "text/html; charset=utf-8");
}

TEST_F(static_site_test, directory_without_slash_redirects) {
  const auto lookup = resolve("/platform-health");
  ASSERT_TRUE(std::holds_alternative<static_redirect>(lookup));
  EXPECT_EQ(std::get<static_redirect>(lookup).location, "/platform-health/");
}

TEST_F(static_site_test, files_get_their_mime_type) {
  EXPECT_EQ(std::get<static_file>(resolve("/platform-health/assets/app.JS")).content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(std::get<static_file>(resolve("/logo.svg")).content_type, "image/svg+xml");
  EXPECT_EQ(mime_type("x.woff2"), "font/woff2");
  EXPECT_EQ(mime_type("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type("x.json"), "application/json");
  EXPECT_EQ(mime_type("x.png"), "image/png");
  EXPECT_EQ(mime_type("x.unknown"), "application/octet-stream");
  EXPECT_EQ(mime_type("Makefile"), "application/octet-stream");
}

TEST_F(static_site_test, page_without_extension_falls_back_to_html) {
  EXPECT_EQ(found("/about"), fs::canonical(root_ / "about.html"));
}

TEST_F(static_site_test, percent_encoded_names_are_decoded) {
  EXPECT_EQ(found("/logo%2Esvg"), fs::canonical(root_ / "logo.svg"));
}

TEST_F(static_site_test, dot_dot_traversal_is_not_found) {
  EXPECT_TRUE(not_found("/../secret.txt"));
  EXPECT_TRUE(not_found("/platform-health/../../secret.txt"));
  EXPECT_TRUE(not_found("/platform-health/./index.html"));
}

TEST_F(static_site_test, encoded_traversal_is_not_found) {
  EXPECT_TRUE(not_found("/%2e%2e/secret.txt"));
  EXPECT_TRUE(not_found("/%2E%2E%2Fsecret.txt"));
  EXPECT_TRUE(not_found("/platform-health/..%2f..%2fsecret.txt"));
  EXPECT_TRUE(not_found("/%2e%2e%5csecret.txt"));
  EXPECT_TRUE(not_found("/logo.svg%00.html"));
  EXPECT_TRUE(not_found("/bad%zzescape"));
}

TEST_F(static_site_test, symlinks_leading_outside_are_not_found) {
  EXPECT_TRUE(not_found("/leak.txt"));
  EXPECT_TRUE(not_found("/linked-dir/"));
  EXPECT_TRUE(not_found("/linked-dir/index.html"));
}

TEST_F(static_site_test, symlink_inside_the_root_is_served) {
  EXPECT_EQ(found("/alias.svg"), fs::canonical(root_ / "logo.svg"));
}

TEST_F(static_site_test, dot_files_and_missing_files_are_not_found) {
  EXPECT_TRUE(not_found("/.env"));
  EXPECT_TRUE(not_found("/nope.js"));
  EXPECT_TRUE(not_found("/logo.svg/"));
  EXPECT_TRUE(not_found("relative"));
}

TEST_F(static_site_test, root_that_is_a_symlink_still_serves) {
  fs::create_directory_symlink(root_, base_ / "current");
  const static_site site(base_ / "current");
  ASSERT_TRUE(site.available());
  EXPECT_TRUE(std::holds_alternative<static_file>(site.resolve("/logo.svg")));
}

TEST(static_site, missing_directory_is_unavailable_and_finds_nothing) {
  const static_site site("/nonexistent/healthd/frontend/out");
  EXPECT_FALSE(site.available());
  EXPECT_TRUE(std::holds_alternative<static_not_found>(site.resolve("/index.html")));
}

}  // namespace
}  // namespace healthd::api
