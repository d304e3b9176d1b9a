#pragma once
// The keys the config loader accepts, object by object: the one table both the loader (unknown-key errors list the
// allowed keys from it) and the documentation check (tests/unit/config) read, so the code, the error texts and
// docs/configuration.md cannot drift apart. Immutable static data; safe from any thread.

#include <span>
#include <string_view>

namespace healthd::config::schema {

struct object_schema {
  // Names the object kind; docs/configuration.md marks the section documenting it with `<!-- schema: <id> -->`.
  // Type-specific keys have ids "probe.<type>" and "action.<type>"; their objects also accept the keys of "probe"
  // and "action".
  std::string_view id;
  // The JSON path of such an object, `<name>` and `[i]` standing for any subsystem/breaker name or array index.
  std::string_view path;
  std::span<const std::string_view> keys;  // in documentation order
};

// Every object kind with fixed keys. Objects whose keys are names (loops, breakers, subsystems, headers, env,
// json_rule.values) are not listed; they are documented by their parents' entries.
[[nodiscard]] std::span<const object_schema> objects() noexcept;

// The entry with this id; throws std::logic_error when there is none (a programming error).
[[nodiscard]] const object_schema& object(std::string_view id);

// The registry keys, in documentation order.
[[nodiscard]] std::span<const std::string_view> probe_types() noexcept;
[[nodiscard]] std::span<const std::string_view> action_types() noexcept;

}  // namespace healthd::config::schema
