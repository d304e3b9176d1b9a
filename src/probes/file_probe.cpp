// file: a file that must exist, be fresh enough (mtime) and big enough. stat() runs on the blocking pool when one is
// given, since a hung network file system would block the caller.

#include "healthd/core/time_format.hpp"
#include "healthd/probes/blocking_pool.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sys/stat.h>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

struct file_facts {
  int error = 0;  // errno of stat()
  std::int64_t size = 0;
  wall_time modified{};
  bool regular = false;
};

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

class file_check final : public probe {
public:
  file_check(const config::probe_config& config, const probe_context& context)
      : config_(config), options_(options_as<config::file_probe>(config)), context_(context) {
    if (options_.path.empty()) throw_config_error(config.type, "path is empty");
    if (context_.name.empty()) context_.name = "file:" + options_.path;
  }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    auto facts = std::make_shared<file_facts>();
    if (context_.pool == nullptr) {
      *facts = look_at(options_.path);
    } else {
      // (Built before the co_await: GCC 12 destroys lambda temporaries inside a co_await expression twice.)
      auto job = context_.pool->run(context_.name, std::chrono::milliseconds(config_.timeout_ms),
                                    [facts, path = options_.path] { *facts = look_at(path); });
      const auto outcome = co_await std::move(job);
      if (outcome == job_outcome::busy) co_return finish(worker_busy(), watch, config_, context_.secrets);
      if (outcome != job_outcome::done)
        co_return finish(critical(timeout_message(config_.timeout_ms)), watch, config_, context_.secrets);
    }
    co_return finish(judge(*facts), watch, config_, context_.secrets);
  }

private:
  probe_result judge(const file_facts& facts) const {
    nlohmann::json details = {{"path", options_.path}};
    if (facts.error != 0) return critical(options_.path + ": " + std::strerror(facts.error), details);
    const double age_s = std::chrono::duration<double>(std::chrono::system_clock::now() - facts.modified).count();
    details["size_bytes"] = facts.size;
    details["age_s"] = std::round(age_s * 1000) / 1000;
    details["modified"] = format_rfc3339_ms(facts.modified);
    if (!facts.regular) return critical(options_.path + " is not a regular file", details);
    if (facts.size < options_.min_size_bytes)
      return critical(
          "too small: " + std::to_string(facts.size) + " bytes < " + std::to_string(options_.min_size_bytes), details);
    if (options_.max_age_s && age_s > *options_.max_age_s)
      return critical("stale: modified " + std::to_string(std::lround(age_s)) + " s ago (max " +
                          std::to_string(std::lround(*options_.max_age_s)) + " s)",
                      details);
    probe_result result;
    result.status = probe_status::healthy;
    result.message = std::to_string(facts.size) + " bytes, modified " + std::to_string(std::lround(age_s)) + " s ago";
    result.details = std::move(details);
    return result;
  }

  config::probe_config config_;
  config::file_probe options_;
  probe_context context_;
};

}  // namespace

std::unique_ptr<probe> make_file_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<file_check>(config, context);
}

}  // namespace healthd::probes::detail
