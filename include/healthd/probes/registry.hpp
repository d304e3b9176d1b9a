#pragma once
// Probe types by name ("type" in the config) -> factory. Thread-safe for concurrent `create` once filled.

#include "healthd/config/config.hpp"
#include "healthd/core/factory_registry.hpp"
#include "healthd/probes/probe.hpp"

#include <memory>
#include <stdexcept>

namespace healthd::probes {

// A config that a factory cannot use (unknown type, options of another type, missing pool). Startup error.
class probe_config_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

class probe_registry : public factory_registry<probe, config::probe_config, probe_context, probe_config_error> {
public:
  probe_registry() : factory_registry("probe type") {}
  // postgres, redis, http, websocket, tcp, exec, file.
  [[nodiscard]] static const probe_registry& builtin();
};

using probe_factory = probe_registry::factory;

// Shorthand for probe_registry::builtin().create(config, context).
[[nodiscard]] std::unique_ptr<probe> make_probe(const config::probe_config& config, const probe_context& context);

}  // namespace healthd::probes
