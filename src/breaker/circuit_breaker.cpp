// Placeholder: replaced by the real breaker.
#include "healthd/breaker/circuit_breaker.hpp"

namespace healthd {

circuit_breaker::circuit_breaker(config::breaker_config settings, unit_random random)
    : settings_(std::move(settings)), random_(std::move(random)) {}
admission circuit_breaker::allow(const instant&) { return admission::admitted; }
void circuit_breaker::record_success(const instant&, millis_d) {}
void circuit_breaker::record_failure(const instant&, std::string, millis_d) {}
void circuit_breaker::abandon(const instant&) {}
void circuit_breaker::force_open(const instant&) {}
void circuit_breaker::reset(const instant&) {}
void circuit_breaker::trial_now(const instant&) {}
void circuit_breaker::reconfigure(config::breaker_config settings) { settings_ = std::move(settings); }
breaker_snapshot circuit_breaker::snapshot() const { return {}; }
breaker_state circuit_breaker::state() const { return state_; }
void circuit_breaker::set_listener(listener l) { listener_ = std::move(l); }

}  // namespace healthd
