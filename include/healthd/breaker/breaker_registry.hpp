#pragma once
// The named circuit breakers, in config order. Thread-safe. Breakers are shared_ptrs so that a config reload
// can drop one while a probe still holds it.

#include "healthd/breaker/circuit_breaker.hpp"
#include "healthd/config/config.hpp"

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace healthd {

class breaker_registry {
public:
  explicit breaker_registry(const std::vector<config::breaker_config>& configs,
                            circuit_breaker::listener listener = {});

  // Reload: breakers that remain keep their state and counters (with new settings); new ones start closed;
  // removed ones leave the registry.
  void apply(const std::vector<config::breaker_config>& configs);

  [[nodiscard]] std::shared_ptr<circuit_breaker> find(std::string_view name) const;
  [[nodiscard]] std::vector<std::shared_ptr<circuit_breaker>> all() const;  // config order
  [[nodiscard]] std::vector<breaker_snapshot> snapshots() const;            // config order

private:
  mutable std::mutex mutex_;
  circuit_breaker::listener listener_;
  std::vector<std::shared_ptr<circuit_breaker>> breakers_;
};

}  // namespace healthd
