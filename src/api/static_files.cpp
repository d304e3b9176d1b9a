#include "healthd/api/static_files.hpp"

#include "healthd/api/http_message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace healthd::api {

namespace fs = std::filesystem;

static_site::static_site(const fs::path& root) {
  std::error_code ec;
  auto canonical = fs::canonical(root, ec);
  if (!ec && fs::is_directory(canonical, ec)) root_ = std::move(canonical);
}

std::optional<fs::path> static_site::inside_root(const fs::path& candidate) const {
  // canonical() resolves every symlink, so a link pointing outside fails the prefix test below.
  std::error_code ec;
  auto real = fs::canonical(candidate, ec);
  if (ec) return std::nullopt;
  const auto [root_end, real_it] = std::mismatch(root_.begin(), root_.end(), real.begin(), real.end());
  if (root_end != root_.end()) return std::nullopt;
  return real;
}

static_lookup static_site::resolve(std::string_view url_path) const {
  if (!available() || url_path.empty() || url_path.front() != '/') return static_not_found{};
  const auto decoded = percent_decode(url_path);
  if (!decoded) return static_not_found{};
  const bool trailing_slash = decoded->back() == '/';

  fs::path relative;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (segment.empty()) continue;
    // "..", "." and dot-files (.git, .env) are never served; decoding came first, so "%2e%2e" lands here too.
    if (segment.front() == '.') return static_not_found{};
    relative /= fs::path(segment);
  }

  const fs::path candidate = root_ / relative;
  std::error_code ec;
  auto real = inside_root(candidate);
  if (!real) {
    if (trailing_slash || relative.empty()) return static_not_found{};
    fs::path html = candidate;
    html += ".html";
    auto page = inside_root(html);
    if (!page || !fs::is_regular_file(*page, ec)) return static_not_found{};
    return static_file{*page, mime_type(*page)};
  }
  if (fs::is_directory(*real, ec)) {
    if (!trailing_slash) return static_redirect{std::string(url_path) + "/"};
    auto index = inside_root(*real / "index.html");
    if (!index || !fs::is_regular_file(*index, ec)) return static_not_found{};
    return static_file{*index, mime_type(*index)};
  }
  if (trailing_slash || !fs::is_regular_file(*real, ec)) return static_not_found{};
  return static_file{*real, mime_type(*real)};
}

std::string_view mime_type(const fs::path& path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> types{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".wasm", "application/wasm"},
      {".pdf", "application/pdf"},
  }};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  for (const auto& [ext, type] : types) {
    if (ext == extension) return type;
  }
  return "application/octet-stream";
}

}  // namespace healthd::api
