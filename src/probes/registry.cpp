#include "healthd/probes/registry.hpp"

#include "probe_support.hpp"

namespace healthd::probes {

void probe_registry::add(std::string type, probe_factory factory) { factories_[std::move(type)] = std::move(factory); }

std::vector<std::string> probe_registry::types() const {
  std::vector<std::string> out;
  out.reserve(factories_.size());
  for (const auto& [type, factory] : factories_)
    out.push_back(type);
  return out;
}

std::unique_ptr<probe> probe_registry::create(const config::probe_config& config, const probe_context& context) const {
  const auto it = factories_.find(config.type);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [type, factory] : factories_)
      known += (known.empty() ? "" : ", ") + type;
    throw probe_config_error("unknown probe type \"" + config.type + "\" (known: " + known + ")");
  }
  return it->second(config, context);
}

const probe_registry& probe_registry::builtin() {
  static const probe_registry registry = [] {
    probe_registry r;
    r.add("postgres", detail::make_postgres_probe);
    r.add("redis", detail::make_redis_probe);
    r.add("http", detail::make_http_probe);
    r.add("websocket", detail::make_websocket_probe);
    r.add("tcp", detail::make_tcp_probe);
    r.add("exec", detail::make_exec_probe);
    r.add("file", detail::make_file_probe);
    return r;
  }();
  return registry;
}

std::unique_ptr<probe> make_probe(const config::probe_config& config, const probe_context& context) {
  return probe_registry::builtin().create(config, context);
}

}  // namespace healthd::probes
