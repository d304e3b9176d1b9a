#pragma once
// The named circuit breakers, in config order. Thread-safe. Breakers are shared_ptrs so that a config reload
// can drop one while a probe still holds it (the dropped breaker keeps working for its holder, unlisted).

#include "healthd/breaker/circuit_breaker.hpp"
#include "healthd/config/config.hpp"

#include <atomic>
#include <cstdint>
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
  // Moves (never back) whenever any listed breaker's snapshot or the list itself changed; a lock-free read, so
  // that keying rendered documents on it costs no snapshot copy.
  [[nodiscard]] std::uint64_t version() const noexcept { return changes_->load(std::memory_order_acquire); }
  // Breaker snapshots taken by snapshots() so far: lets tests prove a hot path copies none.
  [[nodiscard]] std::uint64_t snapshot_copies_for_test() const noexcept { return snapshot_copies_.load(); }

private:
  mutable std::mutex mutex_;
  circuit_breaker::listener listener_;
  circuit_breaker::unit_random random_;
  std::vector<std::shared_ptr<circuit_breaker>> breakers_;
  std::shared_ptr<std::atomic<std::uint64_t>> changes_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  mutable std::atomic<std::uint64_t> snapshot_copies_{0};
};

}  // namespace healthd
