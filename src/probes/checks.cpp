#include "healthd/probes/checks.hpp"

#include "healthd/core/utf8.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace healthd::probes {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

std::optional<double> to_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  double value = 0;
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// A perf value: number when it parses, else the text (thresholds may be ranges such as "10:20" or "@5").
nlohmann::json perf_field(std::string_view s) {
  s = trim(s);
  if (s.empty()) return nullptr;
  if (auto n = to_number(s)) return *n;
  return std::string(s);
}

}  // namespace

bool status_matches(int status, const std::vector<config::status_range>& expected) noexcept {
  return std::any_of(expected.begin(), expected.end(),
                     [status](const config::status_range& r) { return status >= r.low && status <= r.high; });
}

std::string describe(const std::vector<config::status_range>& expected) {
  std::string out;
  for (const auto& r : expected) {
    if (!out.empty()) out += ", ";
    out += std::to_string(r.low);
    if (r.high != r.low) out += "-" + std::to_string(r.high);
  }
  return out;
}

rule_verdict evaluate_json_rule(const config::json_rule& rule, const nlohmann::json& document) {
  rule_verdict verdict;
  nlohmann::json::json_pointer pointer;
  try {
    pointer = nlohmann::json::json_pointer(rule.pointer);
  } catch (const nlohmann::json::exception&) {
    verdict.message = "invalid JSON pointer " + rule.pointer;
    return verdict;
  }
  if (!document.contains(pointer)) {
    verdict.status = rule.otherwise;
    verdict.message = rule.pointer + " not found";
    return verdict;
  }
  verdict.value = document.at(pointer);
  const std::string text = verdict.value.is_string() ? verdict.value.get<std::string>() : verdict.value.dump();
  const auto it = rule.values.find(text);
  verdict.status = it == rule.values.end() ? rule.otherwise : it->second;
  verdict.message = rule.pointer + " is " + text;
  return verdict;
}

rule_verdict evaluate_json_body(const config::json_rule& rule, std::string_view body) {
  auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    rule_verdict verdict;
    verdict.message = "body is not JSON";
    return verdict;
  }
  return evaluate_json_rule(rule, document);
}

std::string parsed_url::host_header() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  const bool default_port = (tls() && port == 443) || (!tls() && port == 80);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::optional<parsed_url> parse_url(std::string_view url) {
  parsed_url out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  for (char c : url.substr(0, scheme_end))
    out.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (out.scheme != "http" && out.scheme != "https" && out.scheme != "ws" && out.scheme != "wss") return std::nullopt;
  auto rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // credentials belong in headers
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  if (port_text.empty()) {
    out.port = out.tls() ? 443 : 80;
  } else {
    unsigned port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (ec != std::errc{} || ptr != end || port == 0 || port > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(port);
  }
  if (authority_end != std::string_view::npos) {
    auto target = rest.substr(authority_end);
    target = target.substr(0, target.find('#'));
    out.target = std::string(target);
    if (out.target.starts_with('?')) out.target.insert(0, "/");
    if (out.target.empty()) out.target = "/";
  }
  return out;
}

probe_status nagios_status(int exit_code) noexcept {
  switch (exit_code) {
    case 0: return probe_status::healthy;
    case 1: return probe_status::degraded;
    default: return probe_status::critical;
  }
}

nlohmann::json parse_perfdata(std::string_view text) {
  auto out = nlohmann::json::object();
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i >= text.size()) break;
    std::string label;
    if (text[i] == '\'') {
      ++i;
      while (i < text.size()) {
        if (text[i] == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          label.push_back('\'');
          i += 2;
        } else if (text[i] == '\'') {
          ++i;
          break;
        } else {
          label.push_back(text[i++]);
        }
      }
    } else {
      while (i < text.size() && text[i] != '=' && !std::isspace(static_cast<unsigned char>(text[i])))
        label.push_back(text[i++]);
    }
    if (i >= text.size() || text[i] != '=') {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
      continue;
    }
    ++i;
    const auto value_start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    const auto item = text.substr(value_start, i - value_start);
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (true) {
      const auto semi = item.find(';', start);
      fields.push_back(item.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
      if (semi == std::string_view::npos) break;
      start = semi + 1;
    }
    // value[UOM]: the number is the longest numeric prefix.
    const auto value_text = fields[0];
    std::size_t number_end = 0;
    while (number_end < value_text.size() &&
           (std::isdigit(static_cast<unsigned char>(value_text[number_end])) || value_text[number_end] == '.' ||
            value_text[number_end] == '-' || value_text[number_end] == '+' || value_text[number_end] == 'e' ||
            value_text[number_end] == 'E'))
      ++number_end;
    // An exponent letter at the end belongs to the unit ("5e" is not a number with unit "").
    auto number = to_number(value_text.substr(0, number_end));
    while (!number && number_end > 0) {
      --number_end;
      number = to_number(value_text.substr(0, number_end));
    }
    if (label.empty() || !number) continue;
    nlohmann::json entry = {{"value", *number}, {"uom", std::string(value_text.substr(number_end))}};
    static constexpr const char* names[] = {"warn", "crit", "min", "max"};
    for (std::size_t f = 1; f < fields.size() && f <= 4; ++f) {
      auto field = perf_field(fields[f]);
      if (!field.is_null()) entry[names[f - 1]] = std::move(field);
    }
    out[label] = std::move(entry);
  }
  return out;
}

nagios_output parse_nagios_output(std::string_view text) {
  nagios_output out;
  const auto newline = text.find('\n');
  const auto first = text.substr(0, newline);
  const auto bar = first.find('|');
  out.message = std::string(trim(first.substr(0, bar)));
  std::string perf;
  if (bar != std::string_view::npos) perf = std::string(first.substr(bar + 1));
  if (newline != std::string_view::npos) {
    // Long output: perf data continues after the first '|' in the following lines.
    const auto rest = text.substr(newline + 1);
    const auto more = rest.find('|');
    if (more != std::string_view::npos) perf += " " + std::string(rest.substr(more + 1));
  }
  out.perfdata = parse_perfdata(perf);
  return out;
}

// A UTF-8 character is at most 4 bytes: keeping 3 past the limit shows whether the one at the limit is whole.
constexpr std::size_t utf8_lookahead = 3;

void capped_buffer::append(std::string_view data) {
  total_ += data.size();
  const auto room = limit_ + utf8_lookahead;
  if (kept_.size() < room) kept_.append(data.substr(0, room - kept_.size()));
}

std::string capped_buffer::text() const { return valid_utf8(kept_, limit_); }

std::string with_connect_timeout(std::string conninfo, int timeout_ms) {
  if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
  // libpq reads the clock in whole seconds, so its timeout can end up to 1 s early: one more second keeps it from
  // ending the attempt before the probe's own deadline, which reports "timeout after N ms".
  const int seconds = std::max(2, (timeout_ms + 999) / 1000 + 1);
  const bool uri = conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
  if (uri) {
    conninfo += conninfo.find('?') == std::string::npos ? "?" : "&";
    conninfo += "connect_timeout=" + std::to_string(seconds);
  } else {
    if (!conninfo.empty()) conninfo += " ";
    conninfo += "connect_timeout=" + std::to_string(seconds);
  }
  return conninfo;
}

std::string short_libpq_error(std::string_view what) {
  auto line = trim(what.substr(0, what.find('\n')));
  if (starts_with_ci(line, "connection to server")) {
    const auto failed = line.find(" failed: ");
    if (failed != std::string_view::npos) line = trim(line.substr(failed + 9));
  }
  if (starts_with_ci(line, "ERROR:")) line = trim(line.substr(6));
  if (starts_with_ci(line, "FATAL:")) line = trim(line.substr(6));
  return std::string(line);
}

std::map<std::string, std::string, std::less<>> parse_redis_info(std::string_view info) {
  std::map<std::string, std::string, std::less<>> out;
  std::size_t start = 0;
  while (start < info.size()) {
    auto end = info.find('\n', start);
    if (end == std::string_view::npos) end = info.size();
    auto line = trim(info.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return out;
}

std::string first_line(std::string_view text) { return std::string(trim(text.substr(0, text.find('\n')))); }

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

}  // namespace healthd::probes
