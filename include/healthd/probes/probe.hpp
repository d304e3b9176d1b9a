#pragma once
// A probe checks one subsystem. Created from its config by the registry (healthd/probes/registry.hpp).
//
// Contract for callers (the engine):
// - `run()` never throws for expected failures (refused, timeout, bad answer): they are a critical result. Its
//   result comes back by `timeout_ms` (plus scheduling slack) even when a library underneath is still blocked.
//   Call `run()` of one probe from one coroutine at a time; a second concurrent call is answered at once with
//   "timeout (worker busy)" for pool-backed probes.
// - Every `message` and `details` string (keys included) is valid UTF-8 and redacted: it has passed through the
//   context's `secret_set::sanitize`, whatever library, child or peer it came from.
// - Probes that keep a connection (postgres, redis, http keep-alive) drop it on failure; `reconnect()` drops it on
//   request (the reconnect heal action). Thread-safe.
// - Idle watching (event-driven detection): `idle_socket()` returns the descriptor of the kept connection while no
//   `run()` job uses it, so the engine can wait for it to become readable (the server closed it). The library owns
//   the descriptor: the watcher must never read, write or close it, must stop watching (cancel, then `release()`
//   its stream_descriptor) before calling `run()` or `reconnect()`, and arms again only with a fresh
//   `idle_socket()` after `run()` returns. Readable on an idle connection means "probe me now".

#include "healthd/core/probe_result.hpp"
#include "healthd/core/secrets.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace healthd::io {
class blocking_pool;
}  // namespace healthd::io

namespace healthd::probes {

// What a probe needs from its surroundings. The pool must outlive every probe made with it.
struct probe_context {
  boost::asio::any_io_executor executor;  // where async I/O runs; probes use a strand on it internally
  io::blocking_pool* pool = nullptr;      // for libpqxx / hiredis / file-system calls; required for those types
  secret_set secrets;                     // redacted from every message and detail
  std::string name;                       // the subsystem's name: the pool key (one job per subsystem) and logs
};

class probe {
public:
  probe() = default;
  probe(const probe&) = delete;
  probe& operator=(const probe&) = delete;
  virtual ~probe() = default;

  [[nodiscard]] virtual boost::asio::awaitable<probe_result> run() = 0;

  // Drops kept connections; the next run() connects afresh. Safe while a run() is in flight (the job drops the
  // connection when it ends). No-op for probes that keep nothing.
  virtual void reconnect() {}

  // Descriptor of the kept connection when there is one and no job is using it; see the contract above.
  [[nodiscard]] virtual std::optional<int> idle_socket() const { return std::nullopt; }
};

}  // namespace healthd::probes
