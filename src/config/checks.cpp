// The small validators every section reader uses: names, URLs, headers, environment maps, argv.

#include "env_substitution.hpp"
#include "sections.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace healthd::config::detail {

std::string quoted(std::string_view value, const context& ctx) { return quoted(value, ctx.secrets); }

std::string known_list(const std::vector<std::string>& names) {
  return names.empty() ? "none are defined" : "known: " + join(names);
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void check_name(std::string_view name, const std::string& path, std::string_view what) {
  const bool ok = !name.empty() && name.size() <= max_name_length && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
  if (!ok)
    fail(path, "invalid " + std::string(what) + " name: expected 1.." + std::to_string(max_name_length) +
                   " letters, digits, '_' or '-'");
}

void check_env_name(std::string_view name, const std::string& path) {
  if (!is_env_name(name))
    fail(path, "expected an environment variable name (letters, digits and _, not a digit first)");
}

void check_non_empty(std::string_view value, const std::string& path, std::string_view expected) {
  if (value.empty()) fail(path, "expected " + std::string(expected) + ", got an empty string");
}

namespace {

// scheme://host[:port][/...]; the URL itself is never echoed since it may carry a token.
bool valid_url(std::string_view url, std::initializer_list<std::string_view> schemes) {
  if (std::any_of(url.begin(), url.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isspace(u) != 0 || std::iscntrl(u) != 0;
      }))
    return false;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) return false;
  auto authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return false;
  // Host and optional port: the listen-address rules, with the port optional.
  if (authority.find(':') == std::string_view::npos || (authority.front() == '[' && authority.back() == ']')) {
    const auto host = authority.front() == '[' ? authority.substr(1, authority.size() - 2) : authority;
    return !host.empty();
  }
  return parse_listen_address(authority).has_value();
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

void check_url(std::string_view url, const std::string& path, std::initializer_list<std::string_view> schemes,
               std::string_view example) {
  if (valid_url(url, schemes)) return;
  std::string names;
  for (const auto s : schemes) {
    if (!names.empty()) names += " or ";
    names += std::string(s) + "://";
  }
  // "an http://", "a ws://"
  const auto article = names.starts_with('h') ? "an " : "a ";
  fail(path, "expected " + std::string(article) + names + " URL with a host, e.g. \"" + std::string(example) + "\"");
}

void check_method(std::string_view method, const std::string& path) {
  constexpr std::array methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  if (std::find(methods.begin(), methods.end(), method) == methods.end())
    fail(path, "expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
}

void check_headers(const std::map<std::string, std::string>& headers, const std::string& path) {
  for (const auto& [name, value] : headers) {
    const auto header_path = child_path(path, name);
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
      fail(header_path, "invalid header name: expected letters, digits and !#$%&'*+-.^_`|~");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      fail(header_path, "expected a header value without CR, LF or NUL");
  }
}

void check_env_map(const std::map<std::string, std::string>& env, const std::string& path) {
  for (const auto& [name, value] : env)
    check_env_name(name, child_path(path, name));
}

void check_argv(const std::vector<std::string>& argv, const std::string& path) {
  if (argv.empty()) fail(path, "expected a non-empty array of strings (the program, then its arguments)");
  check_non_empty(argv.front(), index_path(path, 0), "a program name or path");
}

probe_status read_probe_status(const json& value, const std::string& path) {
  const auto status = parse_probe_status(as_string(value, path));
  if (!status) fail(path, "expected \"healthy\", \"degraded\" or \"critical\"");
  return *status;
}

std::string required_string(object_reader& r, std::string_view key, std::string_view expected) {
  auto value = as_string(r.require(key, expected), r.path_of(key));
  check_non_empty(value, r.path_of(key), expected);
  return value;
}

void read_optional_non_empty(object_reader& r, std::string_view key, std::optional<std::string>& out,
                             std::string_view expected) {
  r.read(key, out);
  if (out) check_non_empty(*out, r.path_of(key), expected);
}

}  // namespace healthd::config::detail
