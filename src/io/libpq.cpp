#include "healthd/io/libpq.hpp"

#include "healthd/io/text.hpp"

#include <algorithm>
#include <cctype>

namespace healthd::io {

namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

}  // namespace

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

}  // namespace healthd::io
