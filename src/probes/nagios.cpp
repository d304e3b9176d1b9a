#include "healthd/probes/nagios.hpp"

#include "healthd/io/text.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace healthd::probes {

namespace {

using io::trim;

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

}  // namespace healthd::probes
