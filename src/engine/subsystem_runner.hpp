#pragma once
// Internal to src/engine: the driver of one subsystem's state machine (healthd/engine/subsystem_fsm.hpp). It reads
// the environment, feeds events to the FSM and performs the actions it returns — probes through the breaker, heal
// actions, heal slots, the timer, the idle-connection watch, healing-log entries — and decides nothing itself.
// Everything runs on the runner's strand; the public entry points are thread-safe. Work in flight holds a
// shared_ptr to the runner, so a reload that removes the subsystem never frees what that work uses.

#include "healthd/engine/subsystem_fsm.hpp"
#include "healthd/engine/trigger.hpp"
#include "healthd/io/idle_watch.hpp"

#include "async_primitives.hpp"
#include "engine_core.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace healthd::detail {

class subsystem_runner : public std::enable_shared_from_this<subsystem_runner> {
public:
  subsystem_runner(std::shared_ptr<engine_core> core, boost::asio::any_io_executor strand, runner_parts parts);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const boost::asio::any_io_executor& strand() const noexcept { return strand_; }

  // Thread-safe entry points; the work is posted to the strand, never run inline, so callers may hold the engine's
  // lock (which the work itself takes to read the environment).
  void start();                      // first probe at once
  void stop();                       // no new work; in-flight work ends by its deadline
  void poke();                       // a loop tick
  void replace(runner_parts parts);  // config reload: applied once the subsystem is idle
  void breaker_changed(breaker_state to);
  void maintain(std::string task_name);  // the optimization loop's task, through the trigger path

  // Run on the strand (co_spawn it there).
  boost::asio::awaitable<trigger_outcome> trigger(trigger_request request);

private:
  struct waiter {
    explicit waiter(const boost::asio::any_io_executor& strand)
        : signal(strand, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer signal;  // cancelled once `outcome` is set
    std::optional<trigger_outcome> outcome;
    std::vector<healing_entry> entries;
    bool durable = true;
  };
  // Entries and answers leave in the order the FSM produced them: an answer waits for the entries before it.
  using outgoing = std::variant<fsm_action::record_entry, fsm_action::answer_trigger, fsm_action::heal_finished>;

  void feed(subsystem_event event);
  void perform(subsystem_action action);
  [[nodiscard]] fsm_environment environment() const;
  [[nodiscard]] std::shared_ptr<circuit_breaker> breaker() const;
  void notify(const std::optional<breaker_transition>& transition) const;
  void complete(std::uint64_t id, trigger_outcome outcome);
  // Runs `task` on the strand; an exception that escapes it is logged and `on_error` is fed, so the FSM never
  // waits forever for work that died.
  void spawn(boost::asio::awaitable<void> task, std::string what, std::optional<subsystem_event> on_error);

  boost::asio::awaitable<void> probe_task(probe_purpose purpose);
  boost::asio::awaitable<void> heal_task(std::uint64_t id, std::optional<std::size_t> rung, int timeout_ms);
  boost::asio::awaitable<void> slot_task(std::uint64_t heal_id);
  boost::asio::awaitable<void> timer_task();
  boost::asio::awaitable<void> drain_outbox();
  boost::asio::awaitable<probe_result> guarded_probe(std::shared_ptr<probes::probe> probe);

  void arm_watch();
  void disarm_watch();
  boost::asio::awaitable<void> watch_task(std::shared_ptr<io::idle_watch> watch);

  std::shared_ptr<engine_core> core_;
  boost::asio::any_io_executor strand_;
  std::string name_;

  // Strand-confined state.
  runner_parts parts_;
  std::optional<runner_parts> pending_parts_;
  subsystem_fsm fsm_;
  bool feeding_ = false;
  bool stopped_ = false;
  std::deque<subsystem_event> events_;  // fed while an earlier event's actions were being performed
  boost::asio::steady_timer timer_;
  std::shared_ptr<io::idle_watch> watch_;
  std::uint64_t next_trigger_id_ = 0;
  std::map<std::uint64_t, std::shared_ptr<waiter>> waiters_;
  std::map<std::uint64_t, heal_slots::lease> leases_;  // by heal id; 0: the automatic heal
  std::map<std::uint64_t, std::shared_ptr<actions::action>> overrides_;
  std::deque<outgoing> outbox_;
  bool draining_ = false;
};

}  // namespace healthd::detail
