#pragma once
// Throwaway PostgreSQL clusters and redis-servers for integration tests: each on a free port on 127.0.0.1, started
// and stopped by the test, torn down by the destructor even when the test fails. Liveness is judged by protocol
// (a query, PING), never by pid.
//
// Servers are children of the test process, which becomes a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)) so that
// daemonized servers and their orphaned backends are reaped here: a killed PostgreSQL otherwise lingers as a zombie
// whose pid, still in its lock file, stops the restart.
//
// Shared servers: when HEALTHD_TEST_PG_CONNINFO / HEALTHD_TEST_REDIS_PORT are set (scripts/test may start them), tests
// that only need a running server may use `shared_postgres_conninfo()` / `shared_redis_port()`; tests that kill
// servers always start their own.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace healthd::test {

// Makes this process a child subreaper (idempotent).
void become_subreaper();

// Runs argv without a shell and waits; returns the exit status (-1 if it could not run). Output goes to `log` when
// given (appended), else to /dev/null; standard input comes from `input` when given, else from /dev/null.
int run_program(const std::vector<std::string>& argv, const std::optional<std::filesystem::path>& log = std::nullopt,
                const std::optional<std::filesystem::path>& input = std::nullopt);

class throwaway_postgres {
public:
  throwaway_postgres();  // picks a port and a directory; does not start
  throwaway_postgres(const throwaway_postgres&) = delete;
  throwaway_postgres& operator=(const throwaway_postgres&) = delete;
  ~throwaway_postgres();

  // Creates the cluster on first use (from a per-machine template made once with initdb), then pg_ctl start -w on the
  // same port every time. Throws std::runtime_error with the server log's tail on failure.
  void start();
  // The command start() runs once the cluster exists (pg_ctl -w start, as the postgres user when root): what a heal
  // action restarting this server runs.
  [[nodiscard]] std::vector<std::string> start_argv() const;
  // pg_ctl stop -m fast.
  void stop();
  // SIGKILL to the postmaster and every backend, then reaps them: a crash, as a test sees it.
  void kill();
  [[nodiscard]] bool accepting() const;  // a SELECT 1 succeeds

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // "host=127.0.0.1 port=N user=postgres dbname=postgres"
  [[nodiscard]] std::string conninfo() const;

private:
  [[nodiscard]] std::vector<int> server_pids() const;

  std::filesystem::path root_;  // owned by the postgres user: data/, run/ (socket), log
  std::uint16_t port_;
  bool running_ = false;
};

class throwaway_redis {
public:
  throwaway_redis();
  throwaway_redis(const throwaway_redis&) = delete;
  throwaway_redis& operator=(const throwaway_redis&) = delete;
  ~throwaway_redis();

  // redis-server on the same port every time, no persistence; waits until PING answers. `extra` are appended
  // arguments (e.g. {"--requirepass", "x"}).
  void start(const std::vector<std::string>& extra = {});
  void stop();                           // SHUTDOWN-like: SIGTERM, then reap
  void kill();                           // SIGKILL, then reap
  [[nodiscard]] bool accepting() const;  // PING answers PONG (or NOAUTH when a password is set)

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
  std::filesystem::path dir_;
  std::uint16_t port_;
  int pid_ = -1;
};

[[nodiscard]] std::optional<std::string> shared_postgres_conninfo();
[[nodiscard]] std::optional<std::uint16_t> shared_redis_port();

// Waits until `condition` holds, polling every 20 ms; false at the timeout.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace healthd::test

#include <thread>

template <typename Condition>
bool healthd::test::eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}
