#pragma once
// Internal to src/engine: one subsystem's life — probe rounds through its breaker, retries while failing, the idle
// connection watch, and heals (automatic, manual, maintenance). All of it runs on the runner's strand; probe rounds
// and heals exclude each other through a gate, so a subsystem never has two rounds or two heals at once.

#include "healthd/engine/heal_ladder.hpp"

#include "async_primitives.hpp"
#include "engine_core.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <optional>
#include <string>

namespace healthd::detail {

class subsystem_runner : public std::enable_shared_from_this<subsystem_runner> {
public:
  subsystem_runner(std::shared_ptr<engine_core> core, boost::asio::any_io_executor strand, runner_parts parts);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const boost::asio::any_io_executor& strand() const noexcept { return strand_; }

  // Thread-safe entry points; the work happens on the strand.
  void start();                      // first probe at once
  void stop();                       // ends the runner's coroutines; in-flight work ends by its deadline
  void poke();                       // a loop tick: probe now, unless a round or heal is under way
  void replace(runner_parts parts);  // config reload: applied between rounds

  // Run on the strand (co_spawn them there).
  boost::asio::awaitable<manual_heal_outcome> manual_heal(manual_heal_request request);
  boost::asio::awaitable<void> run_maintenance(std::string task_name);

private:
  enum class verification { outside_breaker, as_trial };

  struct rung_outcome {
    std::vector<healing_entry> entries;
    bool action_succeeded = false;
    bool verified = false;
    bool durable = true;
  };

  boost::asio::awaitable<void> main_loop();
  boost::asio::awaitable<void> probe_round();
  boost::asio::awaitable<probe_result> run_probe();
  boost::asio::awaitable<void> after_failure(bool breaker_opened);
  boost::asio::awaitable<void> passed_probe(const probe_result& result);
  boost::asio::awaitable<void> auto_heal();
  boost::asio::awaitable<rung_outcome> execute_rung(std::size_t rung, heal_trigger trigger, std::string reason,
                                                    verification how);
  boost::asio::awaitable<std::pair<healing_entry, bool>> log_entry(std::string action, heal_trigger trigger,
                                                                   heal_result result, std::string detail);

  void apply_pending();
  void schedule_trial_from_breaker();
  [[nodiscard]] std::shared_ptr<circuit_breaker> breaker() const;
  [[nodiscard]] bool still_failing() const;
  [[nodiscard]] heal_context context() const;
  [[nodiscard]] std::string rung_label(std::size_t rung) const;
  void update_exhaustion();
  void wake();

  void arm_watch();
  void disarm_watch();
  boost::asio::awaitable<void> watch(std::shared_ptr<boost::asio::posix::stream_descriptor> descriptor);

  std::shared_ptr<engine_core> core_;
  boost::asio::any_io_executor strand_;
  std::string name_;

  // Strand-confined state.
  runner_parts parts_;
  std::optional<runner_parts> pending_;
  heal_ladder ladder_;
  strand_gate gate_;
  boost::asio::steady_timer wake_;
  std::shared_ptr<boost::asio::posix::stream_descriptor> watch_;
  int watch_flags_ = 0;  // the descriptor's file status flags before watching
  bool stopping_ = false;
  bool healing_ = false;
  bool probe_requested_ = false;
  bool healed_in_episode_ = false;
  int consecutive_failures_ = 0;
  std::optional<steady_time> retry_at_;
  std::optional<steady_time> trial_at_;
  std::optional<steady_time> heal_retry_at_;
};

}  // namespace healthd::detail
