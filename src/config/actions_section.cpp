// Heal actions (a subsystem's `heal.actions` and a maintenance task's `action`), one reader per action type, and a
// subsystem's `heal` object.

#include "sections.hpp"

namespace healthd::config::detail {

namespace {

http_action read_http_action(object_reader& r, context& ctx) {
  http_action a;
  read_http_request(r, ctx, a, "http://127.0.0.1:9104/refresh");
  return a;
}

sql_action read_sql_action(object_reader& r, context& ctx) {
  sql_action a;
  a.statement = required_string(r, "statement", "an SQL statement");
  read_optional_non_empty(r, "conninfo", a.conninfo, "a libpq connection string");
  if (a.conninfo) add_conninfo_password(*a.conninfo, ctx);
  return a;
}

redis_action read_redis_action(object_reader& r, context& ctx) {
  redis_action a;
  a.argv = as_string_array(r.require("argv", "a non-empty array of strings, e.g. [\"MEMORY\", \"PURGE\"]"),
                           r.path_of("argv"));
  if (a.argv.empty()) fail(r.path_of("argv"), "expected a non-empty array of strings, e.g. [\"MEMORY\", \"PURGE\"]");
  check_non_empty(a.argv.front(), index_path(r.path_of("argv"), 0), "a Redis command");
  if (const auto* target = r.find("target"); target != nullptr && !target->is_null()) {
    object_reader t(*target, r.path_of("target"), {"redis_target"});
    a.target = read_redis_endpoint(t, ctx);
    t.finish();
  }
  return a;
}

}  // namespace

action_config read_action(const json& value, const std::string& path, const probe_config& probe,
                          std::string_view subsystem, context& ctx) {
  action_config a;
  a.type = read_type(value, path, schema::action_types(), "action", ctx);
  object_reader r(value, path, {"action", "action." + a.type});
  (void)r.find("type");
  r.read("name", a.name);
  if (a.name) check_name(*a.name, r.path_of("name"), "action");
  r.read("timeout_ms", a.timeout_ms, 1, max_timeout_ms);
  const auto probe_note = "subsystem " + std::string(subsystem) + " has a " + probe.type + " probe";
  if (a.type == "reconnect") {
    a.options = reconnect_action{};
  } else if (a.type == "exec") {
    a.options = read_exec<exec_action>(r, ctx);
  } else if (a.type == "http") {
    a.options = read_http_action(r, ctx);
  } else if (a.type == "sql") {
    auto sql = read_sql_action(r, ctx);
    if (!sql.conninfo && probe.type != "postgres")
      fail(r.path_of("conninfo"), "missing required key (expected a libpq connection string: " + probe_note +
                                      ", not a postgres one, to default to)");
    a.options = std::move(sql);
  } else {
    auto redis = read_redis_action(r, ctx);
    if (!redis.target && probe.type != "redis")
      fail(r.path_of("target"), "missing required key (expected {\"host\", \"port\", ...}: " + probe_note +
                                    ", not a redis one, to default to)");
    a.options = std::move(redis);
  }
  r.finish();
  return a;
}

heal_config read_heal(const json& value, const std::string& path, const probe_config& probe, std::string_view subsystem,
                      context& ctx) {
  heal_config h;
  object_reader r(value, path, {"heal"});
  if (const auto* actions = r.find("actions")) {
    const auto actions_path = r.path_of("actions");
    expect_array(*actions, actions_path);
    for (std::size_t i = 0; i < actions->size(); ++i)
      h.actions.push_back(read_action((*actions)[i], index_path(actions_path, i), probe, subsystem, ctx));
  }
  r.read("max_per_hour", h.max_per_hour, 1, 1000);
  r.read("cooldown_s", h.cooldown_s, cooldown_range);
  r.read("after_failures", h.after_failures, 1, 1000);
  r.finish();
  return h;
}

}  // namespace healthd::config::detail
