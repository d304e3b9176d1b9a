// Placeholder: replaced by the real loader.
#include "healthd/config/loader.hpp"

#include <cstdlib>

namespace healthd::config {

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

daemon_config parse_config(std::string_view, const env_lookup&) { throw config_error("", "not implemented"); }

daemon_config load_config_file(const std::filesystem::path& file, const env_lookup&) {
  throw config_error(file.string(), "not implemented");
}

}  // namespace healthd::config
