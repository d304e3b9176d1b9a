// exec: runs a program (no shell) with the same child rules as the exec probe: own process group, only PATH, LANG
// and the configured env, SIGTERM then SIGKILL at the deadline, output capped, always reaped. Exit 0 is success.

#include "healthd/io/child_process.hpp"
#include "healthd/io/text.hpp"

#include "action_support.hpp"

namespace healthd::actions::detail {

namespace {

class exec final : public action {
public:
  exec(const config::action_config& config, const action_context& context)
      : options_(options_as<config::exec_action>(config)),
        timeout_ms_(config.timeout_ms),
        executor_(context.executor),
        secrets_(context.secrets) {
    if (options_.argv.empty()) throw action_config_error("exec action: argv is empty");
  }

  boost::asio::awaitable<action_outcome> run() override {
    io::child_spec spec;
    spec.argv = options_.argv;
    spec.env = options_.env;
    spec.timeout = std::chrono::milliseconds{timeout_ms_};
    const auto child = co_await io::run_child(executor_, std::move(spec));
    co_return judge(child);
  }

private:
  action_outcome judge(const io::child_result& child) const {
    using end = io::child_result::end;
    action_outcome outcome;
    const auto output = io::first_line(child.out.empty() ? child.err : child.out);
    switch (child.how) {
      case end::failed_to_start: outcome.message = child.error; break;
      case end::timed_out: outcome.message = timeout_message(timeout_ms_); break;
      case end::signaled: outcome.message = "killed by signal " + std::to_string(child.signal); break;
      case end::exited:
        outcome.success = child.exit_code == 0;
        outcome.message = "exit " + std::to_string(child.exit_code);
        break;
    }
    if (!output.empty() && child.how != end::failed_to_start) outcome.message += ": " + output;
    outcome.message = secrets_.sanitize(outcome.message);
    return outcome;
  }

  config::exec_action options_;
  int timeout_ms_;
  boost::asio::any_io_executor executor_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<action> make_exec_action(const config::action_config& config, const action_context& context) {
  return std::make_unique<exec>(config, context);
}

}  // namespace healthd::actions::detail
