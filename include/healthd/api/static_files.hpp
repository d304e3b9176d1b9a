#pragma once
// The dashboard's static files under `server.static_dir`. A request path resolves to a regular file inside the
// directory or to nothing: `..` segments, dot-files, encoded traversal and symlinks leading outside are refused.
// Thread-safe after construction (resolve only reads the file system).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace healthd::api {

struct static_file {
  std::filesystem::path path;  // canonical, inside the root
  std::string_view content_type;
};

// A directory requested without its trailing slash: redirect so that the page's relative links resolve.
struct static_redirect {
  std::string location;
};

struct static_not_found {};

using static_lookup = std::variant<static_file, static_redirect, static_not_found>;

class static_site {
public:
  // `root` need not exist: then available() is false and every lookup is not found.
  explicit static_site(const std::filesystem::path& root);

  [[nodiscard]] bool available() const noexcept { return !root_.empty(); }
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

  // `url_path`: the path of the request target, still percent-encoded, starting with '/'. A directory serves its
  // index.html; "/x" falls back to "/x.html" (static-export style).
  [[nodiscard]] static_lookup resolve(std::string_view url_path) const;

private:
  [[nodiscard]] std::optional<std::filesystem::path> inside_root(const std::filesystem::path& candidate) const;

  std::filesystem::path root_;  // canonical; empty when the directory does not exist
};

// By file extension, case-insensitively; application/octet-stream when unknown.
[[nodiscard]] std::string_view mime_type(const std::filesystem::path& path);

}  // namespace healthd::api
