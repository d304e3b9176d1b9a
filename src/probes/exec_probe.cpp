// exec: a Nagios-style plugin run through run_child (no shell). Exit 0 healthy, 1 degraded, 2 critical, anything
// else critical ("unknown"); the first line of stdout is the message; perf data after '|' goes into details.

#include "healthd/io/child_process.hpp"
#include "healthd/io/text.hpp"
#include "healthd/probes/nagios.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <csignal>
#include <cstring>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

constexpr std::size_t kept_output_bytes = 4096;

class exec_check final : public probe {
public:
  exec_check(const config::probe_config& config, const probe_context& context)
      : config_(config), options_(options_as<config::exec_probe>(config)), context_(context) {
    if (options_.argv.empty() || options_.argv[0].empty()) throw_config_error(config.type, "argv is empty");
  }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    io::child_spec spec;
    spec.argv = options_.argv;
    spec.env = options_.env;
    spec.timeout = std::chrono::milliseconds(config_.timeout_ms);
    spec.max_output_bytes = kept_output_bytes;
    const auto child = co_await io::run_child(context_.executor, std::move(spec));
    co_return finish(judge(child), watch, config_, context_.secrets);
  }

private:
  probe_result judge(const io::child_result& child) const {
    nlohmann::json details = {
        {"output_bytes", child.out_bytes + child.err_bytes},
        {"output_truncated", child.out_bytes > child.out.size() || child.err_bytes > child.err.size()}};
    if (!child.err.empty()) details["stderr"] = io::first_line(child.err);
    switch (child.how) {
      case io::child_result::end::failed_to_start: return critical(child.error, details);
      case io::child_result::end::timed_out: return critical(timeout_message(config_.timeout_ms), details);
      case io::child_result::end::signaled:
        return critical("killed by signal " + std::to_string(child.signal) + " (" + sigabbrev(child.signal) + ")",
                        details);
      case io::child_result::end::exited: break;
    }
    const auto output = parse_nagios_output(child.out.empty() ? child.err : child.out);
    details["exit_code"] = child.exit_code;
    if (!output.perfdata.empty()) details["perfdata"] = output.perfdata;
    probe_result result;
    result.status = nagios_status(child.exit_code);
    result.message = output.message.empty() ? "exit " + std::to_string(child.exit_code) : output.message;
    if (child.exit_code < 0 || child.exit_code > 2) result.message = "unknown: " + result.message;
    result.details = std::move(details);
    return result;
  }

  static std::string sigabbrev(int signal) {
    const char* name = ::sigabbrev_np(signal);
    return name != nullptr ? std::string("SIG") + name : "?";
  }

  config::probe_config config_;
  config::exec_probe options_;
  probe_context context_;
};

}  // namespace

std::unique_ptr<probe> make_exec_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<exec_check>(config, context);
}

}  // namespace healthd::probes::detail
