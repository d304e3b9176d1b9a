#include "healthd/probes/registry.hpp"

#include "probe_support.hpp"

namespace healthd::probes {

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
