#include "healthd/api/static_files.hpp"

#include <gtest/gtest.h>

#define ZLIB_CONST
#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <variant>
#include <zlib.h>

namespace healthd::api {
namespace {

namespace fs = std::filesystem;

// What a browser would see after decoding the gzip stream: the test's own zlib inflate, not the code under test.
std::string gunzip(const std::string& packed) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return "<inflateInit2 failed>";
  stream.next_in = reinterpret_cast<const Bytef*>(packed.data());
  stream.avail_in = static_cast<uInt>(packed.size());
  std::string out;
  int status = Z_OK;
  while (status == Z_OK) {
    std::array<char, 4096> chunk{};
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - stream.avail_out);
  }
  (void)inflateEnd(&stream);
  return status == Z_STREAM_END && stream.avail_in == 0 ? out : "<not a complete gzip stream>";
}

std::string compressible_text() {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "function render_panel_" + std::to_string(i % 7) + "() { return document.body; }\n";
  return text;
}

http_request get(std::string target, std::vector<http_header> headers = {}) {
  return {"GET", std::move(target), std::move(headers), {}};
}

// <tmp>/site (the root) next to <tmp>/secret.txt (outside it).
class static_site_test : public ::testing::Test {
protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("healthd-static-" + std::to_string(std::random_device{}()));
    root_ = base_ / "site";
    fs::create_directories(root_ / "platform-health" / "assets");
    fs::create_directories(root_ / "platform-health" / "_next" / "static" / "chunks");
    write(root_ / "platform-health" / "index.html", "<html>dashboard</html>");
    write(root_ / "platform-health" / "assets" / "app.JS", "console.log(1)");
    write(root_ / "platform-health" / "_next" / "static" / "chunks" / "main-3f2a.js", compressible_text());
    write(root_ / "about.html", "<html>about</html>");
    write(root_ / "logo.svg", "<svg/>");
    write(root_ / "logo.png", std::string(300, 'p'));
    write(root_ / ".env", "SECRET=1");
    write(base_ / "secret.txt", "top secret");
    fs::create_directories(base_ / "outside-dir");
    write(base_ / "outside-dir" / "index.html", "outside");
    fs::create_symlink(base_ / "secret.txt", root_ / "leak.txt");
    fs::create_symlink(base_ / "outside-dir", root_ / "linked-dir");
    fs::create_symlink(root_ / "logo.svg", root_ / "alias.svg");
    fs::create_directory_symlink(root_, root_ / "platform-health" / "loop");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

  [[nodiscard]] std::shared_ptr<const static_site> load(const static_limits& limits = {}) const {
    auto result = load_static_site(root_, limits);
    EXPECT_TRUE(result.site) << result.error;
    return result.site;
  }

  [[nodiscard]] static_lookup resolve(std::string_view path) {
    if (!site_) site_ = load();
    return site_->resolve(path);
  }

  // The body found for `path`, or "" when not found.
  [[nodiscard]] std::string found(std::string_view path) {
    const auto lookup = resolve(path);
    const auto* entry = std::get_if<const static_entry*>(&lookup);
    return entry == nullptr ? std::string() : *(*entry)->body;
  }

  [[nodiscard]] bool not_found(std::string_view path) {
    return std::holds_alternative<static_not_found>(resolve(path));
  }

  http_response serve(http_request request) {
    if (!site_) site_ = load();
    const auto path = request.target;
    return serve_static(site_.get(), request, path);
  }

  fs::path base_;
  fs::path root_;
  std::shared_ptr<const static_site> site_;
};

TEST_F(static_site_test, directory_serves_its_index_html) {
  EXPECT_EQ(found("/platform-health/"), "<html>dashboard</html>");
  EXPECT_EQ(std::get<const static_entry*>(resolve("/platform-health/"))->content_type, "text/html; charset=utf-8");
}

TEST_F(static_site_test, directory_without_slash_redirects) {
  const auto lookup = resolve("/platform-health");
  ASSERT_TRUE(std::holds_alternative<static_redirect>(lookup));
  EXPECT_EQ(std::get<static_redirect>(lookup).status, 301);
  EXPECT_EQ(std::get<static_redirect>(lookup).location, "/platform-health/");
}

TEST_F(static_site_test, redirects_never_leave_the_host) {
  for (const char* path : {"//platform-health", "///platform-health", "/%2Fplatform-health", "//platform-health//"}) {
    const auto lookup = resolve(path);
    if (const auto* moved = std::get_if<static_redirect>(&lookup)) {
      EXPECT_EQ(moved->location, "/platform-health/") << path;
    } else {
      EXPECT_EQ(found(path), "<html>dashboard</html>") << path;
    }
  }
  fs::create_directories(root_ / "a b\\c");
  site_ = load();
  EXPECT_EQ(std::get<static_redirect>(resolve("//a%20b%5Cc")).location, "/a%20b%5Cc/");
}

TEST_F(static_site_test, root_redirects_to_the_dashboard) {
  for (const char* path : {"/", "//"}) {
    const auto lookup = resolve(path);
    ASSERT_TRUE(std::holds_alternative<static_redirect>(lookup)) << path;
    EXPECT_EQ(std::get<static_redirect>(lookup).status, 302);
    EXPECT_EQ(std::get<static_redirect>(lookup).location, "/platform-health/");
  }
}

TEST_F(static_site_test, files_get_their_mime_type) {
  EXPECT_EQ(std::get<const static_entry*>(resolve("/platform-health/assets/app.JS"))->content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(std::get<const static_entry*>(resolve("/logo.svg"))->content_type, "image/svg+xml");
  EXPECT_EQ(mime_type("x.woff2"), "font/woff2");
  EXPECT_EQ(mime_type("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type("x.json"), "application/json");
  EXPECT_EQ(mime_type("x.png"), "image/png");
  EXPECT_EQ(mime_type("x.unknown"), "application/octet-stream");
  EXPECT_EQ(mime_type("Makefile"), "application/octet-stream");
}

TEST_F(static_site_test, page_without_extension_falls_back_to_html) {
  EXPECT_EQ(found("/about"), "<html>about</html>");
}

TEST_F(static_site_test, percent_encoded_names_are_decoded) { EXPECT_EQ(found("/logo%2Esvg"), "<svg/>"); }

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

TEST_F(static_site_test, symlinks_leading_outside_are_never_loaded) {
  EXPECT_TRUE(not_found("/leak.txt"));
  EXPECT_TRUE(not_found("/linked-dir/"));
  EXPECT_TRUE(not_found("/linked-dir/index.html"));
  EXPECT_TRUE(not_found("/linked-dir"));
  // Nothing of what lies outside is in memory at all.
  const auto site = load();
  EXPECT_EQ(site->file_count(), 7U);  // index, app.JS, main-3f2a.js, about, logo.svg, logo.png, alias.svg
}

TEST_F(static_site_test, symlink_inside_the_root_is_served_and_a_loop_is_not_followed) {
  EXPECT_EQ(found("/alias.svg"), "<svg/>");
  EXPECT_TRUE(not_found("/platform-health/loop/logo.svg"));
}

TEST_F(static_site_test, dot_files_and_missing_files_are_not_found) {
  EXPECT_TRUE(not_found("/.env"));
  EXPECT_TRUE(not_found("/nope.js"));
  EXPECT_TRUE(not_found("/logo.svg/"));
  EXPECT_TRUE(not_found("relative"));
}

TEST_F(static_site_test, root_that_is_a_symlink_still_serves) {
  fs::create_directory_symlink(root_, base_ / "current");
  const auto result = load_static_site(base_ / "current");
  ASSERT_TRUE(result.site) << result.error;
  EXPECT_TRUE(std::holds_alternative<const static_entry*>(result.site->resolve("/logo.svg")));
}

TEST_F(static_site_test, too_many_files_are_refused_naming_directory_limit_and_count) {
  const auto result = load_static_site(root_, {.max_files = 5});
  EXPECT_FALSE(result.site);
  EXPECT_EQ(result.error, "static_dir \"" + root_.string() + "\": found 7 files, more than the limit of 5");
}

TEST_F(static_site_test, too_many_bytes_are_refused_naming_directory_limit_and_size) {
  write(root_ / "big.bin", std::string(2 * 1024 * 1024, 'x'));
  const auto result = load_static_site(root_, {.max_bytes = 1024 * 1024});
  EXPECT_FALSE(result.site);
  EXPECT_NE(result.error.find("static_dir \"" + root_.string() + "\": found 2.0 MiB ("), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find(" bytes) in 8 files, more than the limit of 1.0 MiB"), std::string::npos) << result.error;
}

TEST(static_site, missing_directory_is_refused) {
  const auto result = load_static_site("/nonexistent/healthd/frontend/out");
  EXPECT_FALSE(result.site);
  EXPECT_EQ(result.error, "static_dir \"/nonexistent/healthd/frontend/out\" is not a directory");
}

TEST_F(static_site_test, gzip_copy_decompresses_to_the_file_and_is_kept_only_when_smaller) {
  const auto site = load();
  const auto* js = std::get<const static_entry*>(site->resolve("/platform-health/_next/static/chunks/main-3f2a.js"));
  ASSERT_TRUE(js->gzip_body);
  EXPECT_LT(js->gzip_body->size(), js->body->size());
  EXPECT_TRUE(gunzip(*js->gzip_body) == compressible_text()) << gunzip(*js->gzip_body).substr(0, 80);
  EXPECT_NE(js->gzip_etag, js->etag);
  // Too small to shrink, and an image type: neither gets a copy.
  EXPECT_FALSE(std::get<const static_entry*>(site->resolve("/logo.svg"))->gzip_body);
  EXPECT_FALSE(std::get<const static_entry*>(site->resolve("/logo.png"))->gzip_body);
  EXPECT_EQ(site->gzip_count(), 1U);
}

TEST(accepts_gzip, honours_q_values) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("gzip;q=0.001"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("gzip;Q=0."));
  EXPECT_FALSE(accepts_gzip("*;q=1, gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("gzip;q=2"));    // malformed q: refused
  EXPECT_FALSE(accepts_gzip("gzip;q=1.5"));  // malformed q: refused
  EXPECT_FALSE(accepts_gzip("gzipx"));
}

TEST_F(static_site_test, gzip_is_served_to_clients_that_accept_it_with_its_own_etag) {
  const std::string js = "/platform-health/_next/static/chunks/main-3f2a.js";
  const auto plain = serve(get(js));
  const auto packed = serve(get(js, {{"Accept-Encoding", "gzip, deflate, br"}}));
  const auto refused = serve(get(js, {{"Accept-Encoding", "gzip;q=0, br"}}));
  EXPECT_EQ(plain.status, 200);
  EXPECT_FALSE(plain.header("Content-Encoding"));
  EXPECT_EQ(*plain.body, compressible_text());
  EXPECT_EQ(packed.header("Content-Encoding"), "gzip");
  EXPECT_TRUE(gunzip(*packed.body) == compressible_text()) << gunzip(*packed.body).substr(0, 80);
  EXPECT_EQ(packed.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_FALSE(refused.header("Content-Encoding"));
  EXPECT_EQ(refused.header("ETag"), plain.header("ETag"));
  EXPECT_NE(packed.header("ETag"), plain.header("ETag"));
  for (const auto* r : {&plain, &packed, &refused})
    EXPECT_EQ(r->header("Vary"), "Accept-Encoding");
  // A file without a gzip copy has one representation: no Vary.
  EXPECT_FALSE(serve(get("/logo.png", {{"Accept-Encoding", "gzip"}})).header("Vary"));
}

TEST_F(static_site_test, if_none_match_gives_304_per_encoding) {
  const std::string js = "/platform-health/_next/static/chunks/main-3f2a.js";
  const http_header gz{"Accept-Encoding", "gzip"};
  const auto plain_tag = std::string(*serve(get(js)).header("ETag"));
  const auto gzip_tag = std::string(*serve(get(js, {gz})).header("ETag"));
  const auto not_modified = serve(get(js, {gz, {"If-None-Match", gzip_tag}}));
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.body);
  EXPECT_EQ(not_modified.header("ETag"), gzip_tag);
  EXPECT_EQ(not_modified.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(not_modified.header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(serve(get(js, {{"If-None-Match", plain_tag}})).status, 304);
  // The other encoding's tag does not validate this one.
  EXPECT_EQ(serve(get(js, {gz, {"If-None-Match", plain_tag}})).status, 200);
  EXPECT_EQ(serve(get(js, {{"If-None-Match", gzip_tag}})).status, 200);
}

TEST_F(static_site_test, cache_headers_by_kind_of_path) {
  EXPECT_EQ(serve(get("/platform-health/_next/static/chunks/main-3f2a.js")).header("Cache-Control"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(serve(get("/platform-health/")).header("Cache-Control"), "no-cache");
  EXPECT_EQ(serve(get("/about")).header("Cache-Control"), "no-cache");
  EXPECT_EQ(serve(get("/logo.svg")).header("Cache-Control"), "no-cache");
  EXPECT_EQ(serve(get("/platform-health")).header("Cache-Control"), "no-store");
  EXPECT_EQ(cache_control_for("_next/static/css/a1.css", "text/css; charset=utf-8"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(cache_control_for("x/_next/static-ish/a.js", "text/javascript; charset=utf-8"), "no-cache");
  EXPECT_EQ(serve(get("/logo.svg")).header("X-Content-Type-Options"), "nosniff");
}

TEST_F(static_site_test, redirects_methods_and_missing_files_answer_with_status) {
  const auto moved = serve(get("/platform-health"));
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.header("Location"), "/platform-health/");
  const auto root = serve(get("/"));
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.header("Location"), "/platform-health/");
  EXPECT_EQ(serve(get("/nope.js")).status, 404);
  const auto post = serve({"POST", "/logo.svg", {}, {}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  EXPECT_EQ(serve({"DELETE", "/platform-health", {}, {}}).status, 405);
  const auto head = serve({"HEAD", "/logo.svg", {}, {}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body_size(), 6U);  // the router sets omit_body; the length is the file's
}

TEST(serve_static, without_a_site_everything_is_404) {
  const http_request request{"GET", "/", {}, {}};
  EXPECT_EQ(serve_static(nullptr, request, "/").status, 404);
  EXPECT_EQ(serve_static(nullptr, request, "/platform-health/").status, 404);
}

// ---- the store: what a reload swaps in, and what it keeps ------------------------------------------------------

TEST_F(static_site_test, files_are_read_once_at_load_never_per_request) {
  static_site_store store(root_);
  ASSERT_TRUE(store.load().replaced);
  const auto before = store.current();
  write(root_ / "logo.svg", "<svg>changed</svg>");
  fs::remove(root_ / "about.html");
  EXPECT_EQ(*std::get<const static_entry*>(store.current()->resolve("/logo.svg"))->body, "<svg/>");
  EXPECT_EQ(*std::get<const static_entry*>(store.current()->resolve("/about"))->body, "<html>about</html>");

  const auto report = store.load();
  EXPECT_TRUE(report.replaced) << report.message;
  EXPECT_EQ(*std::get<const static_entry*>(store.current()->resolve("/logo.svg"))->body, "<svg>changed</svg>");
  EXPECT_TRUE(std::holds_alternative<static_not_found>(store.current()->resolve("/about")));
  // A request that took the old set before the reload still holds it, whole.
  EXPECT_EQ(*std::get<const static_entry*>(before->resolve("/logo.svg"))->body, "<svg/>");
}

TEST_F(static_site_test, refused_reload_keeps_the_previous_set) {
  static_site_store store(root_, {.max_files = 7});
  ASSERT_TRUE(store.load().replaced);
  write(root_ / "one-too-many.txt", "x");
  const auto report = store.load();
  EXPECT_FALSE(report.replaced);
  EXPECT_EQ(report.message, "static_dir \"" + root_.string() +
                                "\": found 8 files, more than the limit of 7; still serving the 7 files loaded before");
  EXPECT_TRUE(std::holds_alternative<const static_entry*>(store.current()->resolve("/logo.svg")));
  EXPECT_TRUE(std::holds_alternative<static_not_found>(store.current()->resolve("/one-too-many.txt")));
}

TEST(static_site_store, refused_first_load_serves_no_dashboard) {
  static_site_store store("/nonexistent/healthd/frontend/out");
  const auto report = store.load();
  EXPECT_FALSE(report.replaced);
  EXPECT_EQ(report.message,
            "static_dir \"/nonexistent/healthd/frontend/out\" is not a directory; serving the API only, no dashboard");
  EXPECT_EQ(store.current(), nullptr);
}

}  // namespace
}  // namespace healthd::api
