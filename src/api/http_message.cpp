#include "healthd/api/http_message.hpp"

#include "healthd/api/views.hpp"
#include "healthd/core/utf8.hpp"

#include <algorithm>
#include <cctype>

namespace healthd::api {

namespace {

char lower(char c) noexcept { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string_view> find_header(const std::vector<http_header>& headers, std::string_view name) {
  auto it = std::find_if(headers.begin(), headers.end(), [&](const http_header& h) { return iequals(h.name, name); });
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->value);
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<std::string_view> http_request::header(std::string_view name) const { return find_header(headers, name); }

std::optional<std::string_view> http_response::header(std::string_view name) const {
  return find_header(headers, name);
}

void http_response::set_header(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const http_header& h) { return iequals(h.name, name); });
  headers.push_back({std::string(name), std::move(value)});
}

http_response json_response(int status, std::shared_ptr<const std::string> body) {
  http_response response;
  response.status = status;
  response.headers = {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
  response.body = std::move(body);
  return response;
}

http_response error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, std::make_shared<const std::string>(json_text(error_json(code, message))));
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    const char c = static_cast<char>(high * 16 + low);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

std::optional<parsed_target> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  parsed_target parsed;
  const auto question = target.find('?');
  parsed.path = std::string(target.substr(0, question));
  if (question == std::string_view::npos) return parsed;
  std::string_view query = target.substr(question + 1);
  if (const auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    parsed.query.emplace(std::move(*name), std::move(*value));
  }
  return parsed;
}

}  // namespace healthd::api
