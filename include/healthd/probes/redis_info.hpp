#pragma once
// The redis probe's reading of an INFO reply. Pure.

#include <map>
#include <string>
#include <string_view>

namespace healthd::probes {

// INFO reply -> field map ("role" -> "master", "used_memory" -> "1234", ...).
[[nodiscard]] std::map<std::string, std::string, std::less<>> parse_redis_info(std::string_view info);

}  // namespace healthd::probes
