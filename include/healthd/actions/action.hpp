#pragma once
// A heal action: one step of a subsystem's heal ladder (docs/healing.md). Created from its config by the registry
// (healthd/actions/registry.hpp), one file per type.
//
// Contract: `run()` never throws for expected failures; they are an outcome with success == false. It completes
// within the action's `timeout_ms` (plus scheduling slack) even when a library underneath is still blocked. One
// run() at a time per action object. Every message is valid UTF-8 and redacted: it has passed through the context's
// `secret_set::sanitize`, whatever child, library or peer it came from.

#include "healthd/config/config.hpp"
#include "healthd/core/secrets.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace healthd::io {
class blocking_pool;
}  // namespace healthd::io

namespace healthd::probes {
class probe;
}  // namespace healthd::probes

namespace healthd::actions {

struct action_outcome {
  bool success = false;
  std::string message;  // "exit 0: redis restarted", "HTTP 202", "3 rows affected", "connections dropped", ...
};

// What an action needs from its surroundings. The pool and the probe must outlive the action.
struct action_context {
  boost::asio::any_io_executor executor;
  io::blocking_pool* pool = nullptr;  // sql and redis actions
  secret_set secrets;
  std::string subsystem;
  probes::probe* probe = nullptr;  // the subsystem's probe: the reconnect action drops its connections
  // The subsystem's probe config: sql and redis actions default to its conninfo / host.
  config::probe_config subsystem_probe;
};

class action {
public:
  action() = default;
  action(const action&) = delete;
  action& operator=(const action&) = delete;
  virtual ~action() = default;

  [[nodiscard]] virtual boost::asio::awaitable<action_outcome> run() = 0;
};

}  // namespace healthd::actions
