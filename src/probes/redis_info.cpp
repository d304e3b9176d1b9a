#include "healthd/probes/redis_info.hpp"

#include "healthd/io/text.hpp"

namespace healthd::probes {

std::map<std::string, std::string, std::less<>> parse_redis_info(std::string_view info) {
  std::map<std::string, std::string, std::less<>> out;
  std::size_t start = 0;
  while (start < info.size()) {
    auto end = info.find('\n', start);
    if (end == std::string_view::npos) end = info.size();
    auto line = io::trim(info.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return out;
}

}  // namespace healthd::probes
