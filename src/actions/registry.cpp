#include "healthd/actions/registry.hpp"

#include "action_support.hpp"

namespace healthd::actions {

const action_registry& action_registry::builtin() {
  static const action_registry registry = [] {
    action_registry r;
    r.add("reconnect", detail::make_reconnect_action);
    r.add("exec", detail::make_exec_action);
    r.add("http", detail::make_http_action);
    r.add("sql", detail::make_sql_action);
    r.add("redis", detail::make_redis_action);
    return r;
  }();
  return registry;
}

}  // namespace healthd::actions
