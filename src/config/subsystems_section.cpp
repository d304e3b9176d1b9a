// The `subsystems` and `maintenance` sections: references to loops, breakers and other subsystems, and the
// dependency graph (no cycles).

#include "sections.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace healthd::config::detail {

namespace {

subsystem_config read_subsystem(const std::string& name, const json& value, const std::string& path, context& ctx) {
  subsystem_config s;
  s.name = name;
  object_reader r(value, path, {"subsystem"});
  r.read("description", s.description);
  r.read("loop", s.loop);
  if (!contains(ctx.loops, s.loop))
    fail(r.path_of("loop"), "unknown loop " + quoted(s.loop, ctx) + " (" + known_list(ctx.loops) + ")");
  r.read("critical", s.critical);
  r.read("breaker", s.breaker);
  if (s.breaker && !contains(ctx.breakers, *s.breaker))
    fail(r.path_of("breaker"), "unknown breaker " + quoted(*s.breaker, ctx) + " (" + known_list(ctx.breakers) + ")");
  r.read("depends_on", s.depends_on);
  for (std::size_t i = 0; i < s.depends_on.size(); ++i) {
    const auto& dependency = s.depends_on[i];
    const auto dependency_path = index_path(r.path_of("depends_on"), i);
    if (dependency == name) fail(dependency_path, "a subsystem cannot depend on itself");
    if (!contains(ctx.subsystems, dependency))
      fail(dependency_path, "unknown subsystem " + quoted(dependency, ctx) + " (" + known_list(ctx.subsystems) + ")");
    if (std::find(s.depends_on.begin(), s.depends_on.begin() + static_cast<std::ptrdiff_t>(i), dependency) !=
        s.depends_on.begin() + static_cast<std::ptrdiff_t>(i))
      fail(dependency_path, "subsystem " + quoted(dependency, ctx) + " is listed twice");
  }
  r.read("retry_interval_s", s.retry_interval_s, interval_range);
  s.probe = read_probe(r.require("probe", "a probe object with a \"type\""), r.path_of("probe"), ctx);
  if (const auto* heal = r.find("heal")) s.heal = read_heal(*heal, r.path_of("heal"), s.probe, name, ctx);
  r.finish();
  return s;
}

// Depth-first search; the first cycle found in file order is reported as "a -> b -> a".
void check_dependency_cycles(const std::vector<subsystem_config>& subsystems, const std::string& path) {
  enum class mark { unvisited, on_stack, done };
  std::map<std::string, mark, std::less<>> marks;
  std::vector<std::string> stack;
  const auto visit = [&](const auto& self, const subsystem_config& s) -> void {
    marks[s.name] = mark::on_stack;
    stack.push_back(s.name);
    for (const auto& dependency : s.depends_on) {
      if (marks[dependency] == mark::on_stack) {
        const auto start = std::find(stack.begin(), stack.end(), dependency);
        std::vector<std::string> cycle(start, stack.end());
        cycle.push_back(dependency);
        fail(child_path(child_path(path, dependency), "depends_on"), "dependency cycle " + join(cycle, " -> "));
      }
      if (marks[dependency] == mark::unvisited)
        self(self, *std::find_if(subsystems.begin(), subsystems.end(),
                                 [&](const subsystem_config& c) { return c.name == dependency; }));
    }
    stack.pop_back();
    marks[s.name] = mark::done;
  };
  for (const auto& s : subsystems)
    if (marks[s.name] == mark::unvisited) visit(visit, s);
}

}  // namespace

void read_subsystems(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_object(value, path);
  for (const auto& [name, subsystem] : value.items()) {
    check_name(name, child_path(path, name), "subsystem");
    ctx.subsystems.push_back(name);
  }
  for (const auto& [name, subsystem] : value.items())
    cfg.subsystems.push_back(read_subsystem(name, subsystem, child_path(path, name), ctx));
  check_dependency_cycles(cfg.subsystems, path);
}

// ---- maintenance ---------------------------------------------------------------------------------------------

void read_maintenance(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_array(value, path);
  for (std::size_t i = 0; i < value.size(); ++i) {
    maintenance_task task;
    object_reader r(value[i], index_path(path, i), {"maintenance"});
    task.name = as_string(r.require("name", "a task name"), r.path_of("name"));
    check_name(task.name, r.path_of("name"), "maintenance task");
    if (std::any_of(cfg.maintenance.begin(), cfg.maintenance.end(),
                    [&](const maintenance_task& t) { return t.name == task.name; }))
      fail(r.path_of("name"), "duplicate maintenance task name " + quoted(task.name, ctx));
    task.subsystem = as_string(r.require("subsystem", "a subsystem name"), r.path_of("subsystem"));
    const auto* subsystem = cfg.find_subsystem(task.subsystem);
    if (subsystem == nullptr)
      fail(r.path_of("subsystem"),
           "unknown subsystem " + quoted(task.subsystem, ctx) + " (" + known_list(ctx.subsystems) + ")");
    task.action = read_action(r.require("action", "an action object with a \"type\""), r.path_of("action"),
                              subsystem->probe, subsystem->name, ctx);
    r.finish();
    cfg.maintenance.push_back(std::move(task));
  }
}

}  // namespace healthd::config::detail
