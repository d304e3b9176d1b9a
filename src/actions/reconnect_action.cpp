// reconnect: drops the subsystem probe's kept connections, so the next probe connects afresh. The gentlest rung.

#include "healthd/probes/probe.hpp"

#include "action_support.hpp"

namespace healthd::actions::detail {

namespace {

class reconnect final : public action {
public:
  explicit reconnect(probes::probe* probe) : probe_(probe) {}

  boost::asio::awaitable<action_outcome> run() override {
    probe_->reconnect();
    co_return action_outcome{true, "connections dropped"};
  }

private:
  probes::probe* probe_;
};

}  // namespace

std::unique_ptr<action> make_reconnect_action(const config::action_config& config, const action_context& context) {
  (void)options_as<config::reconnect_action>(config);
  if (context.probe == nullptr) throw action_config_error("reconnect action: the subsystem has no probe");
  return std::make_unique<reconnect>(context.probe);
}

}  // namespace healthd::actions::detail
