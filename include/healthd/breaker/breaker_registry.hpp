#pragma once
// The named circuit breakers, in config order. Thread-safe. Breakers are shared_ptrs so that a config reload
// can drop one while a probe still holds it (the dropped breaker keeps working for its holder, unlisted).

#include "healthd/breaker/circuit_breaker.hpp"
#include "healthd/config/config.hpp"

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace healthd {

class breaker_registry {
public:
  // Every breaker gets `listener` and a copy of `random` (empty: each breaker seeds its own generator); a
  // `random` sharing state between copies must be thread-safe, since breakers call it under their own mutexes.
  // Throws std::invalid_argument if two configs share a name.
  explicit breaker_registry(const std::vector<config::breaker_config>& configs, circuit_breaker::listener listener = {},
                            circuit_breaker::unit_random random = {});

  // Reload: breakers that remain keep their state and counters (with new settings); new ones start closed;
  // removed ones leave the registry. Throws std::invalid_argument on a duplicate name, changing nothing.
  void apply(const std::vector<config::breaker_config>& configs);

  [[nodiscard]] std::shared_ptr<circuit_breaker> find(std::string_view name) const;  // nullptr if unknown
  [[nodiscard]] std::vector<std::shared_ptr<circuit_breaker>> all() const;           // config order
  [[nodiscard]] std::vector<breaker_snapshot> snapshots() const;                     // config order

private:
  mutable std::mutex mutex_;
  circuit_breaker::listener listener_;
  circuit_breaker::unit_random random_;
  std::vector<std::shared_ptr<circuit_breaker>> breakers_;
};

}  // namespace healthd
