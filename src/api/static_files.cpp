#include "healthd/api/static_files.hpp"

#include "healthd/api/document_cache.hpp"
#include "healthd/io/text.hpp"

#define ZLIB_CONST
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <utility>
#include <vector>
#include <zlib.h>

namespace healthd::api {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view cache_immutable = "public, max-age=31536000, immutable";
constexpr std::string_view cache_revalidate = "no-cache";
constexpr std::string_view dashboard_page = "/platform-health/";
// Past the limits the walk goes on counting, without reading, so that the refusal can say what it found; this far.
constexpr std::size_t count_beyond_limit_factor = 10;

// "4.1 MiB", or "12.0 KiB" below a MiB (where "0.0 MiB" would say nothing).
std::string mib(std::uintmax_t bytes) {
  constexpr double kib = 1024.0;
  std::array<char, 32> text{};
  if (bytes < std::uintmax_t{1024} * 1024) {
    (void)std::snprintf(text.data(), text.size(), "%.1f KiB", static_cast<double>(bytes) / kib);
  } else {
    (void)std::snprintf(text.data(), text.size(), "%.1f MiB", static_cast<double>(bytes) / (kib * kib));
  }
  return text.data();
}

std::string count_files(std::size_t n) { return std::to_string(n) + (n == 1 ? " file" : " files"); }

std::string quoted(const fs::path& path) { return "\"" + path.string() + "\""; }

bool inside(const fs::path& root, const fs::path& real) {
  const auto [root_end, real_it] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
  return root_end == root.end();
}

bool compressible(std::string_view content_type) {
  static constexpr std::array<std::string_view, 5> types{"application/json", "application/manifest+json",
                                                         "application/xml", "image/svg+xml", "application/wasm"};
  return content_type.starts_with("text/") ||
         std::any_of(types.begin(), types.end(), [&](std::string_view t) { return t == content_type; });
}

// A gzip stream (RFC 1952; mtime 0, so the bytes and their ETag are the same on every load), or nullopt.
std::optional<std::string> gzip(std::string_view bytes) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(bytes.size())), '\0');
  stream.next_in = reinterpret_cast<const Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  (void)deflateEnd(&stream);
  if (status != Z_STREAM_END) return std::nullopt;
  return out;
}

// A path segment as it may appear in a Location: unreserved characters and the sub-delims a path allows stay, the
// rest (including '\', which browsers read as '/') is percent-encoded.
void append_encoded(std::string& out, std::string_view segment) {
  static constexpr std::string_view safe = "-._~!$&'()*+,;=:@";
  constexpr std::string_view hex = "0123456789ABCDEF";
  for (const char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || safe.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4U]);
      out.push_back(hex[u & 0xfU]);
    }
  }
}

// An RFC 9110 qvalue in thousandths ("0.5" -> 500); nullopt when malformed.
std::optional<int> qvalue(std::string_view text) {
  if (text.empty() || (text.front() != '0' && text.front() != '1')) return std::nullopt;
  const int whole = text.front() - '0';
  text.remove_prefix(1);
  if (text.empty()) return whole * 1000;
  if (text.front() != '.' || text.size() > 4) return std::nullopt;
  text.remove_prefix(1);
  int fraction = 0;
  int scale = 100;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    fraction += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && fraction != 0) return std::nullopt;
  return whole * 1000 + fraction;
}

http_response method_not_allowed(const http_request& request) {
  auto response = error_response(405, "method_not_allowed", "method " + request.method + " not allowed here");
  response.set_header("Allow", "GET, HEAD");
  return response;
}

struct candidate {
  std::string key;  // "platform-health/index.html"
  fs::path real;
  std::uintmax_t size = 0;
};

// The first pass: which files there are and how big, without reading them.
class directory_walk {
public:
  directory_walk(fs::path root, const static_limits& limits) : root_(std::move(root)), limits_(limits) {}

  void run() {
    std::vector<fs::path> ancestors{root_};
    walk(root_, "", ancestors);
  }

  [[nodiscard]] const std::optional<std::string>& error() const { return error_; }
  [[nodiscard]] bool over_limits() const {
    return files_found_ > limits_.max_files || bytes_found_ > limits_.max_bytes;
  }
  [[nodiscard]] bool stopped_counting() const { return stopped_; }
  [[nodiscard]] std::size_t files_found() const { return files_found_; }
  [[nodiscard]] std::uintmax_t bytes_found() const { return bytes_found_; }
  std::vector<candidate>& files() { return files_; }
  std::set<std::string, std::less<>>& directories() { return directories_; }

private:
  bool keep_walking() {
    if (error_) return false;
    const auto cap = limits_.max_files * count_beyond_limit_factor;
    if (files_found_ + directories_.size() > cap) stopped_ = true;
    return !stopped_;
  }

  void walk(const fs::path& dir, const std::string& prefix, std::vector<fs::path>& ancestors) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      error_ = "cannot read " + quoted(dir) + ": " + ec.message();
      return;
    }
    for (; it != fs::directory_iterator{} && keep_walking(); it.increment(ec)) {
      const auto name = it->path().filename().string();
      // Dot-files (.git, .env) and "."/".." are never served, so never loaded.
      if (name.empty() || name.front() == '.') continue;
      fs::path real = it->path();
      if (it->is_symlink(ec)) {
        real = fs::canonical(it->path(), ec);
        // A dangling link or one leading outside the root is left out, as if it were not there.
        if (ec || !inside(root_, real)) {
          ec.clear();
          continue;
        }
      }
      const auto status = fs::status(real, ec);
      if (ec) {
        error_ = "cannot read " + quoted(it->path()) + ": " + ec.message();
        return;
      }
      const std::string key = prefix + name;
      if (fs::is_regular_file(status)) {
        const auto size = fs::file_size(real, ec);
        if (ec) {
          error_ = "cannot read " + quoted(it->path()) + ": " + ec.message();
          return;
        }
        ++files_found_;
        bytes_found_ += size;
        if (!over_limits()) files_.push_back({key, real, size});
      } else if (fs::is_directory(status)) {
        // A link to a directory that contains it would loop.
        if (std::find(ancestors.begin(), ancestors.end(), real) != ancestors.end()) continue;
        directories_.insert(key);
        ancestors.push_back(real);
        walk(real, key + "/", ancestors);
        ancestors.pop_back();
      }
    }
    if (ec && !error_) error_ = "cannot read " + quoted(dir) + ": " + ec.message();
  }

  const fs::path root_;
  const static_limits& limits_;
  std::vector<candidate> files_;
  std::set<std::string, std::less<>> directories_;
  std::size_t files_found_ = 0;
  std::uintmax_t bytes_found_ = 0;
  bool stopped_ = false;
  std::optional<std::string> error_;
};

// The file, but no more than one chunk past `budget` (enough to tell that it holds more); nullopt when unreadable.
std::optional<std::string> read_at_most(const fs::path& path, std::uintmax_t budget) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes;
  std::vector<char> chunk(std::size_t{64} * 1024);
  while (in && bytes.size() <= budget) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    bytes.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return bytes;
}

}  // namespace

struct static_site_builder {
  static static_load_result load(const fs::path& configured, const static_limits& limits) {
    std::error_code ec;
    const auto root = fs::canonical(configured, ec);
    if (ec || !fs::is_directory(root, ec)) {
      return {nullptr, "static_dir " + quoted(configured) + " is not a directory"};
    }
    directory_walk walk(root, limits);
    walk.run();
    const auto refused = [&](const std::string& why) {
      return static_load_result{nullptr, "static_dir " + quoted(configured) + ": " + why};
    };
    if (walk.error()) return refused(*walk.error());
    const std::string at_least = walk.stopped_counting() ? "at least " : "";
    if (walk.files_found() > limits.max_files) {
      return refused("found " + at_least + count_files(walk.files_found()) + ", more than the limit of " +
                     std::to_string(limits.max_files));
    }
    if (walk.bytes_found() > limits.max_bytes) {
      return refused("found " + at_least + mib(walk.bytes_found()) + " (" + std::to_string(walk.bytes_found()) +
                     " bytes) in " + count_files(walk.files_found()) + ", more than the limit of " +
                     mib(limits.max_bytes));
    }

    auto site = std::make_shared<static_site>();
    site->root_ = root;
    site->directories_ = std::move(walk.directories());
    site->directories_.insert("");
    for (auto& file : walk.files()) {
      const auto budget = limits.max_bytes - site->total_bytes_;
      auto bytes = read_at_most(file.real, budget);
      if (!bytes) return refused("cannot read " + quoted(file.real));
      if (bytes->size() > budget) {
        return refused(quoted(file.real) + " grew while loading: more than the limit of " + mib(limits.max_bytes) +
                       " in all");
      }
      site->total_bytes_ += bytes->size();
      static_entry entry;
      entry.content_type = mime_type(file.key);
      entry.cache_control = cache_control_for(file.key, entry.content_type);
      entry.etag = content_etag(*bytes);
      if (compressible(entry.content_type)) {
        if (auto packed = gzip(*bytes); packed && packed->size() < bytes->size()) {
          entry.gzip_etag = content_etag(*packed);
          entry.gzip_body = std::make_shared<const std::string>(std::move(*packed));
          ++site->gzip_count_;
        }
      }
      entry.body = std::make_shared<const std::string>(std::move(*bytes));
      site->files_.insert_or_assign(std::move(file.key), std::move(entry));
    }
    return {std::move(site), {}};
  }
};

static_load_result load_static_site(const fs::path& root, const static_limits& limits) {
  return static_site_builder::load(root, limits);
}

static_lookup static_site::resolve(std::string_view url_path) const {
  if (url_path.empty() || url_path.front() != '/') return static_not_found{};
  const auto decoded = percent_decode(url_path);
  if (!decoded) return static_not_found{};
  const bool trailing_slash = decoded->back() == '/';

  // Decoded first, so "%2e%2e" and "%2f" land here too; empty segments ("//") collapse.
  std::string key;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (segment.empty()) continue;
    // "..", "." and dot-files (.git, .env) are never served.
    if (segment.front() == '.') return static_not_found{};
    if (!key.empty()) key += '/';
    key += segment;
  }

  if (key.empty()) return static_redirect{302, std::string(dashboard_page)};
  const auto entry = [this](std::string_view k) -> static_lookup {
    const auto it = files_.find(k);
    if (it == files_.end()) return static_not_found{};
    return &it->second;
  };
  if (directories_.contains(key)) {
    if (trailing_slash) return entry(key + "/index.html");
    // Built from the segments, never from the request's text: "//host" must not become a protocol-relative URL.
    std::string location;
    std::string_view segments = key;
    while (!segments.empty()) {
      const auto slash = segments.find('/');
      location += '/';
      append_encoded(location, segments.substr(0, slash));
      segments = slash == std::string_view::npos ? std::string_view{} : segments.substr(slash + 1);
    }
    return static_redirect{301, location + "/"};
  }
  if (trailing_slash) return static_not_found{};
  if (auto found = entry(key); !std::holds_alternative<static_not_found>(found)) return found;
  return entry(key + ".html");
}

static_site_store::static_site_store(fs::path root, static_limits limits) : root_(std::move(root)), limits_(limits) {}

static_load_report static_site_store::load() {
  std::lock_guard load_lock(load_mutex_);
  if (root_.empty()) return {false, "no server.static_dir: serving the API only, no dashboard"};
  auto result = load_static_site(root_, limits_);
  const auto previous = current();
  if (!result.site) {
    const auto kept = previous ? "; still serving the " + count_files(previous->file_count()) + " loaded before"
                               : std::string("; serving the API only, no dashboard");
    return {false, result.error + kept};
  }
  const auto& site = *result.site;
  std::string message = count_files(site.file_count()) + " (" + mib(site.total_bytes()) + ", " +
                        std::to_string(site.gzip_count()) + " with a gzip copy) from " + quoted(root_);
  {
    std::lock_guard lock(mutex_);
    current_ = std::move(result.site);
  }
  return {true, std::move(message)};
}

std::shared_ptr<const static_site> static_site_store::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

bool accepts_gzip(std::string_view accept_encoding) {
  std::optional<bool> gzip_listed;
  std::optional<bool> star;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const auto semicolon = item.find(';');
    const auto coding = io::trim(item.substr(0, semicolon));
    if (coding.empty()) continue;
    std::optional<int> q = 1000;
    std::string_view params = semicolon == std::string_view::npos ? std::string_view{} : item.substr(semicolon + 1);
    while (!params.empty()) {
      const auto next = params.find(';');
      const auto param = io::trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      const auto eq = param.find('=');
      if (eq == std::string::npos || !iequals(io::trim(param.substr(0, eq)), "q")) continue;
      q = qvalue(io::trim(param.substr(eq + 1)));
    }
    const bool accepted = q.value_or(0) > 0;
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip_listed = gzip_listed.value_or(false) || accepted;
    } else if (coding == "*") {
      star = star.value_or(false) || accepted;
    }
  }
  return gzip_listed ? *gzip_listed : star.value_or(false);
}

http_response serve_static(const static_site* site, const http_request& request, std::string_view url_path) {
  if (site == nullptr) {
    if (url_path == "/") {
      return error_response(404, "not_found", "no dashboard is installed; the API is under /api/v1/platform");
    }
    return error_response(404, "not_found", "no such file");
  }
  const auto lookup = site->resolve(url_path);
  const bool readable = request.method == "GET" || request.method == "HEAD";
  if (const auto* moved = std::get_if<static_redirect>(&lookup)) {
    if (!readable) return method_not_allowed(request);
    http_response response;
    response.status = moved->status;
    response.set_header("Location", moved->location);
    response.set_header("Cache-Control", "no-store");
    return response;
  }
  if (std::holds_alternative<static_not_found>(lookup)) return error_response(404, "not_found", "no such file");
  if (!readable) return method_not_allowed(request);

  const auto& entry = *std::get<const static_entry*>(lookup);
  const auto accept = request.header("Accept-Encoding");
  const bool gzipped = entry.gzip_body && accept && accepts_gzip(*accept);
  const auto& etag = gzipped ? entry.gzip_etag : entry.etag;
  http_response response;
  response.set_header("ETag", etag);
  response.set_header("Cache-Control", std::string(entry.cache_control));
  // Only a file with a gzip copy has two representations for caches to tell apart.
  if (entry.gzip_body) response.set_header("Vary", "Accept-Encoding");
  if (const auto tags = request.header("If-None-Match"); tags && etag_matches(*tags, etag)) {
    response.status = 304;
    return response;
  }
  response.set_header("Content-Type", std::string(entry.content_type));
  if (gzipped) response.set_header("Content-Encoding", "gzip");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.body = gzipped ? entry.gzip_body : entry.body;
  return response;
}

std::string_view cache_control_for(std::string_view relative_path, std::string_view content_type) {
  // Next.js names these by content hash, so a name never changes meaning; everything else (HTML, icons, data) may
  // be replaced in place by an upgrade and is revalidated (a 304 costs one small round trip).
  const bool hashed =
      relative_path.starts_with("_next/static/") || relative_path.find("/_next/static/") != std::string_view::npos;
  if (hashed && !content_type.starts_with("text/html")) return cache_immutable;
  return cache_revalidate;
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
