#pragma once
// Probe types by name ("type" in the config) -> factory. Thread-safe for concurrent `create` once filled.

#include "healthd/config/config.hpp"
#include "healthd/probes/probe.hpp"

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace healthd::probes {

using probe_factory = std::function<std::unique_ptr<probe>(const config::probe_config&, const probe_context&)>;

// A config that a factory cannot use (unknown type, options of another type, missing pool). Startup error.
class probe_config_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

class probe_registry {
public:
  // Replaces an existing factory of the same type.
  void add(std::string type, probe_factory factory);
  [[nodiscard]] bool contains(const std::string& type) const { return factories_.contains(type); }
  [[nodiscard]] std::vector<std::string> types() const;
  // Throws probe_config_error for an unknown type or options that do not match it.
  [[nodiscard]] std::unique_ptr<probe> create(const config::probe_config& config, const probe_context& context) const;

  // postgres, redis, http, websocket, tcp, exec, file.
  [[nodiscard]] static const probe_registry& builtin();

private:
  std::map<std::string, probe_factory, std::less<>> factories_;
};

// Shorthand for probe_registry::builtin().create(config, context).
[[nodiscard]] std::unique_ptr<probe> make_probe(const config::probe_config& config, const probe_context& context);

}  // namespace healthd::probes
