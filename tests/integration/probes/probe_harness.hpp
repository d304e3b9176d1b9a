#pragma once
// Runs probes on a private io_context for the probe integration tests.

#include "healthd/config/config.hpp"
#include "healthd/io/blocking_pool.hpp"
#include "healthd/probes/probe.hpp"
#include "healthd/probes/registry.hpp"

#include "support/figures.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace healthd::test {

struct timed_result {
  probe_result result;
  std::chrono::milliseconds elapsed{0};  // from the start of run() to its completion, on the steady clock
};

class probe_harness {
public:
  boost::asio::io_context io;
  io::blocking_pool pool{4};
  secret_set secrets;

  [[nodiscard]] probes::probe_context context(std::string name = "subsystem") {
    return {io.get_executor(), &pool, secrets, std::move(name)};
  }

  template <typename Options>
  [[nodiscard]] std::unique_ptr<probes::probe> make(Options options, int timeout_ms = 2000, int degraded_latency_ms = 0,
                                                    std::string name = "subsystem") {
    config::probe_config cfg;
    cfg.type = type_of(options);
    cfg.timeout_ms = timeout_ms;
    cfg.degraded_latency_ms = degraded_latency_ms;
    cfg.options = std::move(options);
    return probes::make_probe(cfg, context(std::move(name)));
  }

  // Runs one probe to completion (and whatever it left on the io_context, e.g. reaping a killed child).
  timed_result run(probes::probe& p) {
    std::optional<timed_result> out;
    const auto start = std::chrono::steady_clock::now();
    boost::asio::co_spawn(io, p.run(), [&](const std::exception_ptr& e, probe_result r) {
      if (e) std::rethrow_exception(e);
      out =
          timed_result{std::move(r),
                       std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
    });
    io.restart();
    io.run();
    if (!out) throw std::logic_error("probe did not complete");
    return std::move(*out);
  }

  static std::string type_of(const config::postgres_probe&) { return "postgres"; }
  static std::string type_of(const config::redis_probe&) { return "redis"; }
  static std::string type_of(const config::http_probe&) { return "http"; }
  static std::string type_of(const config::websocket_probe&) { return "websocket"; }
  static std::string type_of(const config::tcp_probe&) { return "tcp"; }
  static std::string type_of(const config::exec_probe&) { return "exec"; }
  static std::string type_of(const config::file_probe&) { return "file"; }
};

}  // namespace healthd::test
