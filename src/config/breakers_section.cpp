// The `breakers` section.

#include "sections.hpp"

#include <algorithm>

namespace healthd::config::detail {

namespace {

breaker_config read_breaker(const std::string& name, const json& value, const std::string& path, context& ctx) {
  breaker_config b;
  b.name = name;
  object_reader r(value, path, {"breaker"});
  if (const auto* mode = r.find("mode")) {
    const auto text = as_string(*mode, r.path_of("mode"));
    if (text == "consecutive")
      b.mode = breaker_mode::consecutive;
    else if (text == "rate")
      b.mode = breaker_mode::rate;
    else
      fail(r.path_of("mode"), "expected \"consecutive\" or \"rate\", got " + quoted(text, ctx));
  }
  r.read("failure_threshold", b.failure_threshold, 1, 1000);
  r.read("recovery_timeout_s", b.recovery_timeout_s, interval_range);
  r.read("max_recovery_timeout_s", b.max_recovery_timeout_s, interval_range);
  if (b.max_recovery_timeout_s < b.recovery_timeout_s)
    fail(r.path_of("max_recovery_timeout_s"),
         "expected at least recovery_timeout_s (" + format_number(b.recovery_timeout_s) + ")");
  r.read("jitter", b.jitter, jitter_range);
  r.read("window_size", b.window_size, 1, 10000);
  // The default never conflicts with a small window; an explicit value must fit in it.
  b.minimum_calls = std::min(b.minimum_calls, b.window_size);
  r.read("minimum_calls", b.minimum_calls, 1, 10000);
  if (b.minimum_calls > b.window_size)
    fail(r.path_of("minimum_calls"), "expected at most window_size (" + std::to_string(b.window_size) + ")");
  r.read("failure_rate_threshold", b.failure_rate_threshold, percent_range);
  r.read("slow_call_ms", b.slow_call_ms, slow_call_range);
  r.read("slow_call_rate_threshold", b.slow_call_rate_threshold, percent_range);
  r.finish();
  return b;
}

}  // namespace

void read_breakers(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_object(value, path);
  for (const auto& [name, breaker] : value.items()) {
    const auto breaker_path = child_path(path, name);
    check_name(name, breaker_path, "breaker");
    cfg.breakers.push_back(read_breaker(name, breaker, breaker_path, ctx));
    ctx.breakers.push_back(name);
  }
}

}  // namespace healthd::config::detail
