#include "healthd/core/secrets.hpp"

#include "healthd/core/utf8.hpp"

#include <algorithm>
#include <cctype>

namespace healthd {

void secret_set::add(std::string secret) {
  if (secret.empty()) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.push_back(std::move(secret));
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void secret_set::merge(const secret_set& other) {
  for (const auto& s : other.secrets_)
    add(s);
}

std::string secret_set::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : secrets_) {
    std::size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), redacted_marker);
      pos += redacted_marker.size();
    }
  }
  return out;
}

std::string secret_set::sanitize(std::string_view text, std::size_t max_bytes) const {
  return valid_utf8(redact(text), max_bytes);
}

std::string percent_decode_lenient(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

namespace {

std::optional<std::string> uri_password(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  const auto rest = uri.substr(scheme_end + 3);
  const auto authority = rest.substr(0, rest.find_first_of("/?"));
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon != std::string_view::npos) return percent_decode_lenient(userinfo.substr(colon + 1));
  }
  const auto query_pos = rest.find('?');
  if (query_pos == std::string_view::npos) return std::nullopt;
  auto query = rest.substr(query_pos + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.starts_with("password=")) return percent_decode_lenient(pair.substr(9));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string> keyword_password(std::string_view text) {
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
  };
  while (i < text.size()) {
    skip_space();
    const auto key_start = i;
    while (i < text.size() && text[i] != '=' && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    const auto key = text.substr(key_start, i - key_start);
    skip_space();
    if (i >= text.size() || text[i] != '=') return std::nullopt;
    ++i;
    skip_space();
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      while (i < text.size() && text[i] != '\'') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i++]);
      }
      ++i;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i++]);
      }
    }
    if (key == "password") return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> conninfo_password(std::string_view conninfo) {
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) return uri_password(conninfo);
  return keyword_password(conninfo);
}

nlohmann::json sanitize_json(const nlohmann::json& value, const secret_set& secrets) {
  if (secrets.empty()) return valid_utf8_json(value);
  if (value.is_string()) return secrets.sanitize(value.get_ref<const std::string&>());
  if (value.is_array()) {
    auto out = nlohmann::json::array();
    for (const auto& item : value)
      out.push_back(sanitize_json(item, secrets));
    return out;
  }
  if (value.is_object()) {
    auto out = nlohmann::json::object();
    for (const auto& [key, item] : value.items())
      out[secrets.sanitize(key)] = sanitize_json(item, secrets);
    return out;
  }
  return value;
}

}  // namespace healthd
