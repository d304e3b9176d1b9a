// Placeholder: replaced by the real registry.
#include "healthd/breaker/breaker_registry.hpp"

namespace healthd {

breaker_registry::breaker_registry(const std::vector<config::breaker_config>&, circuit_breaker::listener) {}
void breaker_registry::apply(const std::vector<config::breaker_config>&) {}
std::shared_ptr<circuit_breaker> breaker_registry::find(std::string_view) const { return nullptr; }
std::vector<std::shared_ptr<circuit_breaker>> breaker_registry::all() const { return breakers_; }
std::vector<breaker_snapshot> breaker_registry::snapshots() const { return {}; }

}  // namespace healthd
