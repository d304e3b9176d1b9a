#pragma once
// The self-healing engine (docs/healing.md): the health loops, each subsystem's probe through its breaker, faster
// retries while failing, event-driven detection on kept connections, the heal ladder with its limits, the durable
// audit trail, maintenance tasks and config reload. Implements heal_service for POST /heal/{subsystem}. Each
// subsystem's decisions are its subsystem_fsm's; the engine drives them.
//
// Threading: everything runs on the given executor (the daemon's I/O threads); each subsystem's work is serialised
// on its own strand; blocking library calls go to the blocking pool. Public members are thread-safe.

#include "healthd/breaker/breaker_registry.hpp"
#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/engine/audit_file.hpp"
#include "healthd/engine/heal_service.hpp"
#include "healthd/engine/platform_state.hpp"
#include "healthd/engine/trigger.hpp"
#include "healthd/healing_log/healing_log.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace healthd::io {
class blocking_pool;
}  // namespace healthd::io

namespace healthd::probes {
class probe_registry;
}  // namespace healthd::probes

namespace healthd::actions {
class action_registry;
}

namespace healthd {

struct engine_dependencies {
  boost::asio::any_io_executor executor;
  std::shared_ptr<breaker_registry> breakers;
  std::shared_ptr<healing_log> log;
  std::shared_ptr<platform_state> state;
  std::shared_ptr<io::blocking_pool> pool;
  std::shared_ptr<audit_file> audit;                  // null without healing_log.audit_file
  const clock* time = nullptr;                        // must outlive the engine
  const probes::probe_registry* probes = nullptr;     // default: the built-in types
  const actions::action_registry* actions = nullptr;  // default: the built-in types
};

struct engine_counters {
  std::uint64_t audit_write_failures = 0;
  std::uint64_t probes_run = 0;
  std::uint64_t probes_rejected = 0;  // refused by an open breaker
  std::uint64_t watch_wakeups = 0;    // a kept connection closed by its server between probes
};

namespace detail {
class subsystem_runner;
struct engine_core;
}  // namespace detail

class engine final : public heal_service {
public:
  // Builds every subsystem's probe and heal actions; throws (probe_config_error, action_config_error) when one
  // cannot be built. Nothing runs until start().
  engine(engine_dependencies deps, const std::shared_ptr<const config::daemon_config>& config);
  ~engine() override;
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Starts the loops; each runs its first round at once.
  void start();
  // Stops the loops and every subsystem's work; in-flight probes and actions end by their own deadlines.
  void stop();

  // Config reload: subsystems added, removed or changed take effect at once; breaker state, healing-log entries and
  // heal history survive for subsystems that remain. Throws (leaving the running config untouched) when a new
  // probe or action cannot be built.
  void apply_config(std::shared_ptr<const config::daemon_config> config);

  // False once a loop's tick is overdue by more than `loop_grace` (5 s, schedule.hpp): the I/O threads are
  // wedged. Feeds the systemd watchdog.
  [[nodiscard]] bool loops_on_time() const;

  [[nodiscard]] engine_counters counters() const;

  // The one trigger path (docs/healing.md, "The trigger path"): every heal that does not start inside a
  // subsystem's own state machine. Answers at once when deferred or refused; a started heal is answered once its
  // action and verification finished and its entries were recorded. Thread-safe.
  boost::asio::awaitable<trigger_outcome> trigger(trigger_request request);

  // POST /heal/{subsystem}: trigger(manual), answered as the API expects.
  boost::asio::awaitable<manual_heal_outcome> heal(manual_heal_request request) override;

  // Builds an action for trigger_request::action as the subsystem's own actions are built (its probe config,
  // secrets; `reconnect` is refused, having no probe of its own to drop). Blocking (it may load a CA bundle): call it
  // off the I/O threads. Throws std::invalid_argument for an unknown subsystem, action_config_error for an action that
  // cannot be built.
  [[nodiscard]] std::shared_ptr<actions::action> build_action(const std::string& subsystem,
                                                              const config::action_config& action) const;

private:
  void start_loops_locked();

  std::shared_ptr<detail::engine_core> core_;
};

}  // namespace healthd
