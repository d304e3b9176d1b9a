// The `loops`, `healing` and `healing_log` sections: when subsystems run and what healing may do.

#include "sections.hpp"

#include <algorithm>

namespace healthd::config::detail {

void read_loops(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_object(value, path);
  std::vector<loop_config> loops;
  for (const auto& [name, interval] : value.items()) {
    const auto loop_path = child_path(path, name);
    check_name(name, loop_path, "loop");
    loops.push_back({name, as_number(interval, loop_path, interval_range)});
  }
  for (auto& d : default_loops())
    if (std::none_of(loops.begin(), loops.end(), [&](const loop_config& l) { return l.name == d.name; }))
      loops.push_back(std::move(d));
  cfg.loops = std::move(loops);
  ctx.loops.clear();
  for (const auto& l : cfg.loops)
    ctx.loops.push_back(l.name);
}

void read_healing(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  object_reader r(value, path, {"healing"});
  if (const auto* mode = r.find("mode")) {
    const auto text = as_string(*mode, r.path_of("mode"));
    const auto parsed = parse_healing_mode(text);
    if (!parsed) fail(r.path_of("mode"), "expected \"auto\", \"dry_run\" or \"off\", got " + quoted(text, ctx));
    cfg.healing.mode = *parsed;
  }
  r.read("max_concurrent", cfg.healing.max_concurrent, 1, 64);
  r.finish();
}

void read_healing_log(const json& value, const std::string& path, context& /*ctx*/, daemon_config& cfg) {
  auto& h = cfg.healing_log;
  object_reader r(value, path, {"healing_log"});
  r.read("capacity", h.capacity, 1, 1000000);
  r.read("audit_file", h.audit_file);
  if (h.audit_file) check_non_empty(*h.audit_file, r.path_of("audit_file"), "a file path");
  r.read("audit_max_bytes", h.audit_max_bytes, 4096, std::int64_t{1} << 40);
  r.finish();
}

}  // namespace healthd::config::detail
