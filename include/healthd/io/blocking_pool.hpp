#pragma once
// A bounded pool of threads for blocking library calls (libpqxx, hiredis, file-system calls), awaited from
// coroutines with a deadline. Used by the postgres, redis and file probes and by the sql and redis heal actions.
//
// - At most one job per key (a subsystem's name) is queued or running: a second `run` with the same key returns
//   `busy` at once, so a stuck dependency can hold at most one thread.
// - At the deadline the awaiting coroutine resumes with `timeout` at once. A job that never started is dropped; a
//   running one has its cancel hook called (from the awaiting thread) so the worker can be freed, typically
//   `job_socket::shutdown()` on the job's connection, since libpq has no read timeout. The key stays busy until the
//   job really returns.
// Thread-safe. The destructor calls the cancel hook of every running job and joins the threads.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace healthd::io {

enum class job_outcome {
  done,     // the work returned (an exception it threw is rethrown to the awaiting coroutine)
  timeout,  // the deadline passed while the work was running; the cancel hook was called
  expired,  // the deadline passed while the job was still queued; it never ran
  busy,     // another job with the same key was queued or running; this one never ran
};

[[nodiscard]] std::string_view to_string(job_outcome o) noexcept;

// What a caller reports when its job did not run to its end, written once for every caller: nullopt for done;
// "timeout after N ms" for timeout and expired; "an earlier <what> of this subsystem is still running" for busy.
[[nodiscard]] std::optional<std::string> failure_message(job_outcome outcome, std::chrono::milliseconds timeout,
                                                         std::string_view what);

class blocking_pool {
public:
  explicit blocking_pool(std::size_t threads = 4);
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;
  ~blocking_pool();

  // Runs `work` on a pool thread, waiting at most `timeout`. `cancel` must be thread-safe against `work`; it may be
  // empty. Results travel through state the caller shares with `work` (e.g. a shared_ptr captured by both).
  [[nodiscard]] boost::asio::awaitable<job_outcome> run(std::string key, std::chrono::milliseconds timeout,
                                                        std::function<void()> work, std::function<void()> cancel = {});

  [[nodiscard]] std::size_t thread_count() const noexcept { return threads_.size(); }
  // Keys whose job is queued or running.
  [[nodiscard]] std::size_t busy_keys() const;

  struct job;  // implementation detail, public for the .cpp's helpers

private:
  void worker_loop();
  void finish(const std::shared_ptr<job>& j);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<job>> queue_;
  std::set<std::string, std::less<>> keys_;
  std::vector<std::shared_ptr<job>> running_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The descriptor a blocking job is using, so that a timeout can free the worker from another thread by shutting the
// socket down (the library still owns and closes the descriptor). Thread-safe.
class job_socket {
public:
  // Publishes the descriptor in use; if shutdown() was already requested, shuts it down at once.
  void set(int fd);
  // Call before the library closes the descriptor, so a late shutdown() can never hit a reused number.
  void clear();
  // shutdown(fd, SHUT_RDWR) on the current descriptor, and on any set() later until reset_request().
  void shutdown();
  // Forget a past shutdown() request (at the start of the next job).
  void reset_request();

private:
  std::mutex mutex_;
  int fd_ = -1;
  bool shutdown_requested_ = false;
};

}  // namespace healthd::io

namespace healthd::io {

// A blocking job as the pool's callers write it: an object whose `run()` does the blocking work on a pool thread and
// whose optional `cancel()` frees that worker from the awaiting thread at the deadline (thread-safe against `run()`;
// typically job_socket::shutdown()). Results stay in the object, which the caller keeps.
template <typename Job>
concept pool_job = requires(Job& job) {
  job.run();
};

// blocking_pool::run for a pool_job. The one place the pool's callbacks are built: as named locals moved into the
// call, never as lambda temporaries inside a co_await expression, whose captures g++ 12 frees twice
// (docs/architecture.md). Callers pass a named shared_ptr and write no lambda.
template <pool_job Job>
[[nodiscard]] boost::asio::awaitable<job_outcome> run_job(blocking_pool& pool, std::string key,
                                                          std::chrono::milliseconds timeout, std::shared_ptr<Job> job) {
  std::function<void()> work = [job] { job->run(); };
  std::function<void()> cancel;
  if constexpr (requires { job->cancel(); }) cancel = [job] { job->cancel(); };
  co_return co_await pool.run(std::move(key), timeout, std::move(work), std::move(cancel));
}

}  // namespace healthd::io
