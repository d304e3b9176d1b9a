#include "secret_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <span>

namespace healthd::config::detail {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  return out;
}

bool contains_any(std::string_view name, std::span<const std::string_view> words) {
  const auto text = upper(name);
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view word) { return text.find(word) != std::string::npos; });
}

// Always a secret: both the text as written and as it reads once decoded may appear in a message.
void add_always(std::string_view value, secret_set& secrets) {
  secrets.add(std::string(value));
  secrets.add(percent_decode_lenient(value));
}

void add_named_or_long(std::string_view name, std::string_view value, secret_set& secrets) {
  if (names_a_secret(name)) {
    add_always(value, secrets);
    return;
  }
  if (value.size() >= min_incidental_secret_length) secrets.add(std::string(value));
  if (const auto decoded = percent_decode_lenient(value); decoded.size() >= min_incidental_secret_length)
    secrets.add(decoded);
}

bool is_credential_header(std::string_view name) {
  constexpr std::array<std::string_view, 3> words{"AUTH", "COOKIE", "SESSION"};
  return names_a_secret(name) || contains_any(name, words);
}

bool is_negotiation_header(std::string_view name) {
  constexpr std::array<std::string_view, 12> names{
      "ACCEPT",           "ACCEPT-CHARSET", "ACCEPT-ENCODING", "ACCEPT-LANGUAGE",
      "CACHE-CONTROL",    "CONNECTION",     "CONTENT-LENGTH",  "CONTENT-TYPE",
      "CONTENT-ENCODING", "HOST",           "ORIGIN",          "USER-AGENT"};
  const auto text = upper(name);
  return std::find(names.begin(), names.end(), text) != names.end();
}

}  // namespace

bool names_a_secret(std::string_view name) {
  constexpr std::array<std::string_view, 5> words{"PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL"};
  return contains_any(name, words);
}

void add_url_secrets(std::string_view url, secret_set& secrets) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return;
  auto rest = url.substr(scheme_end + 3);
  if (const auto fragment = rest.find('#'); fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const auto authority = rest.substr(0, rest.find_first_of("/?"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    add_always(userinfo, secrets);
    if (const auto colon = userinfo.find(':'); colon != std::string_view::npos)
      add_always(userinfo.substr(colon + 1), secrets);
  }
  const auto query_start = rest.find('?');
  if (query_start == std::string_view::npos) return;
  auto query = rest.substr(query_start + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (const auto equals = pair.find('='); equals != std::string_view::npos)
      add_named_or_long(pair.substr(0, equals), pair.substr(equals + 1), secrets);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

void add_header_secrets(const std::map<std::string, std::string>& headers, secret_set& secrets) {
  for (const auto& [name, value] : headers) {
    const auto last_space = value.find_last_of(' ');
    const auto credential =
        last_space == std::string::npos ? std::string_view() : std::string_view(value).substr(last_space + 1);
    if (is_credential_header(name)) {
      secrets.add(value);
      secrets.add(std::string(credential));
    } else if (!is_negotiation_header(name)) {
      if (value.size() >= min_incidental_secret_length) secrets.add(value);
      if (credential.size() >= min_incidental_secret_length) secrets.add(std::string(credential));
    }
  }
}

void add_env_secrets(const std::map<std::string, std::string>& env, secret_set& secrets) {
  for (const auto& [name, value] : env) {
    if (names_a_secret(name) || value.size() >= min_incidental_secret_length) secrets.add(value);
  }
}

}  // namespace healthd::config::detail
