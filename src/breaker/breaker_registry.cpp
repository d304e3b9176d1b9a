#include "healthd/breaker/breaker_registry.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace healthd {

namespace {

void require_unique_names(const std::vector<config::breaker_config>& configs) {
  std::set<std::string_view> seen;
  for (const auto& c : configs) {
    if (!seen.insert(c.name).second) throw std::invalid_argument("duplicate breaker name \"" + c.name + "\"");
  }
}

}  // namespace

breaker_registry::breaker_registry(const std::vector<config::breaker_config>& configs,
                                   circuit_breaker::listener listener, circuit_breaker::unit_random random)
    : listener_(std::move(listener)), random_(std::move(random)) {
  apply(configs);
}

void breaker_registry::apply(const std::vector<config::breaker_config>& configs) {
  require_unique_names(configs);
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<circuit_breaker>> next;
  next.reserve(configs.size());
  std::vector<std::pair<std::shared_ptr<circuit_breaker>, const config::breaker_config*>> kept;
  for (const auto& c : configs) {
    auto it = std::find_if(breakers_.begin(), breakers_.end(), [&](const auto& b) { return b->name() == c.name; });
    if (it != breakers_.end()) {
      next.push_back(*it);
      kept.emplace_back(*it, &c);
    } else {
      auto b = std::make_shared<circuit_breaker>(c, random_);
      b->set_listener(listener_);
      b->set_change_counter(changes_);
      next.push_back(std::move(b));
    }
  }
  // Reconfigure only once the whole new list exists, so a failure above leaves every breaker as it was.
  for (auto& [breaker, settings] : kept)
    breaker->reconfigure(*settings);
  // An unchanged reload must not look like a change to the views.
  const bool listed_changed = next != breakers_;
  breakers_ = std::move(next);
  if (listed_changed) changes_->fetch_add(1, std::memory_order_release);
}

std::shared_ptr<circuit_breaker> breaker_registry::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(breakers_.begin(), breakers_.end(), [&](const auto& b) { return b->name() == name; });
  return it == breakers_.end() ? nullptr : *it;
}

std::vector<std::shared_ptr<circuit_breaker>> breaker_registry::all() const {
  std::lock_guard lock(mutex_);
  return breakers_;
}

std::vector<breaker_snapshot> breaker_registry::snapshots() const {
  std::vector<breaker_snapshot> out;
  // Snapshot outside the registry lock: each breaker locks its own mutex, and a reload need not wait for them.
  const auto breakers = all();
  out.reserve(breakers.size());
  snapshot_copies_.fetch_add(breakers.size(), std::memory_order_relaxed);
  for (const auto& b : breakers)
    out.push_back(b->snapshot());
  return out;
}

}  // namespace healthd
