#pragma once
// The dashboard's static files under `server.static_dir`, served from memory. The directory is read whole at start
// and again on SIGHUP (load_static_site, off the I/O threads); each loaded set is immutable, so requests only look
// up bytes, ETags and gzip copies prepared at load. A request path resolves to a loaded file or to nothing: `..`
// segments, dot-files, encoded traversal and symlinks leading outside the directory are never loaded or served.

#include "healthd/api/http_message.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

namespace healthd::api {

struct static_limits {
  std::uintmax_t max_bytes = std::uintmax_t{64} * 1024 * 1024;  // the files' bytes; gzip copies come on top
  std::size_t max_files = 10'000;                               // also bounds the directories walked
};

// One file as it is served: both representations are prepared at load.
struct static_entry {
  std::string_view content_type;
  std::string_view cache_control;
  std::shared_ptr<const std::string> body;
  std::string etag;  // strong, quoted, from the bytes
  // Present only for text types whose gzip stream is smaller than the file.
  std::shared_ptr<const std::string> gzip_body;
  std::string gzip_etag;
};

// A directory requested without its trailing slash: redirect so that the page's relative links resolve. The
// location is always a path on this host (one leading '/').
struct static_redirect {
  int status = 301;  // 302 from "/" to the dashboard's page
  std::string location;
};

struct static_not_found {};

using static_lookup = std::variant<const static_entry*, static_redirect, static_not_found>;

// One loaded export. Immutable, so thread-safe; entries live as long as the site.
class static_site {
public:
  // `url_path`: the path of the request target, still percent-encoded, starting with '/'. A path ending in '/'
  // serves that directory's index.html; "/x" falls back to "/x.html" (static-export style).
  [[nodiscard]] static_lookup resolve(std::string_view url_path) const;

  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }
  [[nodiscard]] std::size_t file_count() const noexcept { return files_.size(); }
  [[nodiscard]] std::uintmax_t total_bytes() const noexcept { return total_bytes_; }
  [[nodiscard]] std::size_t gzip_count() const noexcept { return gzip_count_; }

private:
  friend struct static_site_builder;

  std::filesystem::path root_;                              // canonical
  std::map<std::string, static_entry, std::less<>> files_;  // "platform-health/index.html"
  std::set<std::string, std::less<>> directories_;          // "platform-health"; the root is ""
  std::uintmax_t total_bytes_ = 0;
  std::size_t gzip_count_ = 0;
};

// The outcome of reading a directory: the site, or why it was refused (naming the directory, the limit and what
// was found).
struct static_load_result {
  std::shared_ptr<const static_site> site;  // null when refused
  std::string error;
};

// Reads every file under `root` (blocking: call it off the I/O threads). Symlinks are followed only when their
// target lies inside the root (a link to a directory that contains it is skipped); dot-files and dot-directories
// are left out.
[[nodiscard]] static_load_result load_static_site(const std::filesystem::path& root, const static_limits& limits = {});

// What a (re)load did, for the log.
struct static_load_report {
  bool replaced = false;  // the new set is being served now
  std::string message;    // "N files (B bytes, G gzip copies) from DIR", or what was wrong and what is served now
};

// The set being served, replaced as a whole by load(). current() and load() are thread-safe; a request keeps the
// set it got from current() even when load() replaces it meanwhile.
class static_site_store {
public:
  // Loads nothing yet. `root` empty: no dashboard, ever.
  explicit static_site_store(std::filesystem::path root, static_limits limits = {});

  // Reads `root` again (blocking). On success the new set replaces the current one; on failure the current one
  // (possibly none) stays.
  static_load_report load();

  [[nodiscard]] std::shared_ptr<const static_site> current() const;
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

private:
  const std::filesystem::path root_;
  const static_limits limits_;
  std::mutex load_mutex_;  // one load at a time
  mutable std::mutex mutex_;
  std::shared_ptr<const static_site> current_;
};

// The answer for a static path (GET, HEAD or another method) from `site` (null: no dashboard): the entry's bytes or
// its gzip copy (by Accept-Encoding, q-values honoured), 304 on a matching If-None-Match, 301 for a directory
// without its slash, 302 from "/" to the dashboard, 404 or 405 otherwise. Reads nothing from disk.
[[nodiscard]] http_response serve_static(const static_site* site, const http_request& request,
                                         std::string_view url_path);

// Whether an Accept-Encoding value accepts gzip: "gzip" or "x-gzip" with q > 0, or "*" with q > 0 when gzip is not
// listed. Malformed q-values refuse.
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding);

// By file extension, case-insensitively; application/octet-stream when unknown.
[[nodiscard]] std::string_view mime_type(const std::filesystem::path& path);

// The Cache-Control of a file: immutable for Next.js's hashed assets (under "_next/static/"), no-cache otherwise.
[[nodiscard]] std::string_view cache_control_for(std::string_view relative_path, std::string_view content_type);

}  // namespace healthd::api
