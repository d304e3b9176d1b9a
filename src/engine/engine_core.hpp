#pragma once
// Internal to src/engine: what the engine's parts share.

#include "healthd/actions/action.hpp"
#include "healthd/actions/registry.hpp"
#include "healthd/engine/engine.hpp"
#include "healthd/engine/trigger.hpp"
#include "healthd/io/blocking_pool.hpp"
#include "healthd/probes/probe.hpp"
#include "healthd/probes/registry.hpp"

#include "async_primitives.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace healthd::detail {

class subsystem_runner;

// A subsystem's probe and actions, built together (the reconnect action holds the probe) before they are handed to
// a runner, so that a config that cannot be built is refused before anything changes.
// Shared, so that work in flight keeps what it runs even if a reload swaps the parts.
struct runner_parts {
  config::subsystem_config config;
  double loop_interval_s = 30;
  std::shared_ptr<probes::probe> probe;
  std::vector<std::shared_ptr<actions::action>> ladder;     // heal.actions, in order
  std::map<std::string, heal_override_action> maintenance;  // by task name
};

struct loop_state {
  config::loop_config config;
  std::unique_ptr<boost::asio::steady_timer> timer;
  std::atomic<std::int64_t> next_due_ns{0};  // steady-clock nanoseconds of the next tick
  std::atomic<bool> stopped{false};
};

struct engine_core : std::enable_shared_from_this<engine_core> {
  explicit engine_core(engine_dependencies d, std::shared_ptr<const config::daemon_config> c);

  [[nodiscard]] instant now() const { return deps.time->now(); }
  [[nodiscard]] std::shared_ptr<const config::daemon_config> current_config() const;
  [[nodiscard]] config::healing_mode mode() const;

  // Builds a subsystem's probe and actions on `strand`. Throws probe_config_error / action_config_error.
  [[nodiscard]] runner_parts build_parts(const config::daemon_config& config, const config::subsystem_config& s,
                                         const boost::asio::any_io_executor& strand) const;

  [[nodiscard]] actions::action_context action_context(const config::daemon_config& config,
                                                       const config::subsystem_config& s,
                                                       const boost::asio::any_io_executor& strand,
                                                       probes::probe* probe) const;

  // Stamps the entry (time, platform status) and appends it to the healing log. With an audit file the entry is
  // queued to the file's writer first and enters the log once its write attempt ended (in file order); a failed
  // write is counted, never thrown. Returns the stored entry and whether it reached the audit file.
  boost::asio::awaitable<std::pair<healing_entry, bool>> record(healing_entry entry);

  // The first dependency of `s` that is critical or recovering (the status rules' dependency rule).
  [[nodiscard]] std::optional<std::pair<std::string, health_status>> blocking_dependency(
      const config::subsystem_config& s) const;

  // A breaker moved by `by`'s call: tell the other subsystems that share it.
  void breaker_moved(const std::string& breaker, breaker_state to, std::string_view by) const;

  [[nodiscard]] std::vector<std::shared_ptr<subsystem_runner>> runners_in_loop(const std::string& loop) const;
  [[nodiscard]] std::shared_ptr<subsystem_runner> find_runner(std::string_view name) const;

  engine_dependencies deps;
  heal_slots slots;

  mutable std::mutex mutex;  // guards config, runners, loops, running
  std::shared_ptr<const config::daemon_config> config;
  std::map<std::string, std::shared_ptr<subsystem_runner>, std::less<>> runners;
  std::vector<std::shared_ptr<loop_state>> loops;
  bool running = false;

  // The id of the newest entry queued to the audit file (given under its queue lock, so file order = id order); the
  // healing log gives the same ids as the writer appends them.
  std::atomic<std::uint64_t> last_audit_id;
  std::atomic<std::uint64_t> audit_write_failures{0};
  std::atomic<std::uint64_t> probes_run{0};
  std::atomic<std::uint64_t> probes_rejected{0};
  std::atomic<std::uint64_t> watch_wakeups{0};
};

}  // namespace healthd::detail
