// file: a file that must exist, be fresh enough (mtime) and big enough. stat() runs on the blocking pool when one is
// given, since a hung network file system would block the caller.

#include "healthd/core/time_format.hpp"
#include "healthd/io/blocking_pool.hpp"
#include "healthd/probes/file_checks.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sys/stat.h>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

file_facts look_at(const std::string& path) {
  file_facts facts;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    facts.error = errno;
    return facts;
  }
  facts.size = st.st_size;
  facts.regular = S_ISREG(st.st_mode);
  facts.modified = wall_time{std::chrono::duration_cast<wall_time::duration>(
      std::chrono::seconds{st.st_mtim.tv_sec} + std::chrono::nanoseconds{st.st_mtim.tv_nsec})};
  return facts;
}

// stat() of one path, as a blocking-pool job.
struct stat_job {
  explicit stat_job(std::string p) : path(std::move(p)) {}
  void run() { facts = look_at(path); }
  std::string path;
  file_facts facts;
};

class file_check final : public probe {
public:
  file_check(const config::probe_config& config, const probe_context& context)
      : config_(config), options_(options_as<config::file_probe>(config)), context_(context) {
    if (options_.path.empty()) throw_config_error(config.type, "path is empty");
    if (context_.name.empty()) context_.name = "file:" + options_.path;
  }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    auto job = std::make_shared<stat_job>(options_.path);
    if (context_.pool == nullptr) {
      job->run();
    } else {
      const auto outcome =
          co_await io::run_job(*context_.pool, context_.name, std::chrono::milliseconds(config_.timeout_ms), job);
      if (auto failed = pool_failure(outcome, config_))
        co_return finish(std::move(*failed), watch, config_, context_.secrets);
    }
    co_return finish(judge_file(options_, job->facts, std::chrono::system_clock::now()), watch, config_,
                     context_.secrets);
  }

private:
  config::probe_config config_;
  config::file_probe options_;
  probe_context context_;
};

}  // namespace

std::unique_ptr<probe> make_file_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<file_check>(config, context);
}

}  // namespace healthd::probes::detail

namespace healthd::probes {

probe_result judge_file(const config::file_probe& options, const file_facts& facts, wall_time now) {
  nlohmann::json details = {{"path", options.path}};
  if (facts.error != 0) return detail::critical(options.path + ": " + std::strerror(facts.error), details);
  const double age_s = std::chrono::duration<double>(now - facts.modified).count();
  details["size_bytes"] = facts.size;
  details["age_s"] = std::round(age_s * 1000) / 1000;
  details["modified"] = format_rfc3339_ms(facts.modified);
  if (!facts.regular) return detail::critical(options.path + " is not a regular file", details);
  if (facts.size < options.min_size_bytes)
    return detail::critical(
        "too small: " + std::to_string(facts.size) + " bytes < " + std::to_string(options.min_size_bytes), details);
  if (options.max_age_s && age_s > *options.max_age_s)
    return detail::critical("stale: modified " + std::to_string(std::lround(age_s)) + " s ago (max " +
                                std::to_string(std::lround(*options.max_age_s)) + " s)",
                            details);
  probe_result result;
  result.status = probe_status::healthy;
  result.message = std::to_string(facts.size) + " bytes, modified " + std::to_string(std::lround(age_s)) + " s ago";
  result.details = std::move(details);
  return result;
}

}  // namespace healthd::probes
