#include "healthd/io/blocking_pool.hpp"

#include "healthd/io/text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

namespace healthd::io {

namespace asio = boost::asio;

struct blocking_pool::job {
  job(std::string k, std::function<void()> w, std::function<void()> c, const asio::any_io_executor& ex)
      : key(std::move(k)), work(std::move(w)), cancel(std::move(c)), timer(ex) {}

  std::string key;
  std::function<void()> work;
  std::function<void()> cancel;
  asio::steady_timer timer;  // the waiter sleeps on it; the worker cancels it (on the waiter's executor) when done
  // Guarded by the pool's mutex:
  bool started = false;
  bool finished = false;
  bool abandoned = false;  // the waiter left (deadline or its frame destroyed): do not post to its executor
  std::exception_ptr error;
};

std::string_view to_string(job_outcome o) noexcept {
  switch (o) {
    case job_outcome::done: return "done";
    case job_outcome::timeout: return "timeout";
    case job_outcome::expired: return "expired";
    case job_outcome::busy: return "busy";
  }
  return "done";
}

std::optional<std::string> failure_message(job_outcome outcome, std::chrono::milliseconds timeout,
                                           std::string_view what) {
  switch (outcome) {
    case job_outcome::done: return std::nullopt;
    case job_outcome::busy: return "an earlier " + std::string(what) + " of this subsystem is still running";
    case job_outcome::timeout:
    case job_outcome::expired: return timeout_message(timeout);
  }
  return std::nullopt;
}

blocking_pool::blocking_pool(std::size_t threads) {
  threads_.reserve(std::max<std::size_t>(threads, 1));
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { worker_loop(); });
}

blocking_pool::~blocking_pool() {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& j : queue_)
      j->abandoned = true;
    queue_.clear();
    for (auto& j : running_)
      if (j->cancel) hooks.push_back(j->cancel);
  }
  for (auto& hook : hooks)
    hook();
  wake_.notify_all();
  for (auto& t : threads_)
    t.join();
}

std::size_t blocking_pool::busy_keys() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

void blocking_pool::worker_loop() {
  // Signals go to other threads. In particular SIGPIPE: hiredis writes with write(), and a server that closed the
  // connection would otherwise kill the daemon; blocked here, the write just fails with EPIPE.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  for (;;) {
    std::shared_ptr<job> j;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
      j->started = true;
      running_.push_back(j);
    }
    try {
      j->work();
    } catch (...) {
      std::lock_guard lock(mutex_);
      j->error = std::current_exception();
    }
    // Release what the work captured here, outside the lock (it may close a connection).
    j->work = nullptr;
    finish(j);
  }
}

void blocking_pool::finish(const std::shared_ptr<job>& j) {
  std::lock_guard lock(mutex_);
  j->finished = true;
  running_.erase(std::find(running_.begin(), running_.end(), j));
  keys_.erase(j->key);
  // Posted under the lock: the waiter decides "done" or "abandoned" under the same lock, so its executor is still
  // alive here.
  if (!j->abandoned) asio::post(j->timer.get_executor(), [j] { j->timer.cancel(); });
}

asio::awaitable<job_outcome> blocking_pool::run(std::string key, std::chrono::milliseconds timeout,
                                                std::function<void()> work, std::function<void()> cancel) {
  auto executor = co_await asio::this_coro::executor;
  auto j = std::make_shared<job>(std::move(key), std::move(work), std::move(cancel), executor);
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || keys_.contains(j->key)) co_return job_outcome::busy;
    keys_.insert(j->key);
  }
  // If this frame is destroyed while waiting (executor shut down), the worker must not post to it any more.
  struct leave_guard {
    blocking_pool* pool;
    std::shared_ptr<job> j;
    ~leave_guard() {
      std::lock_guard lock(pool->mutex_);
      j->abandoned = true;
    }
  } guard{this, j};

  j->timer.expires_after(timeout);
  // The wait starts before the job is queued, so a fast job's cancel cannot come before the wait.
  // (Built as a named operation first: see run_job in the header.)
  constexpr auto token = asio::as_tuple(asio::use_awaitable);
  auto initiate = [this, j](auto handler) {
    j->timer.async_wait(std::move(handler));
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(j);
    }
    wake_.notify_one();
  };
  auto wait = asio::async_initiate<decltype(token), void(boost::system::error_code)>(std::move(initiate), token);
  co_await std::move(wait);

  std::function<void()> hook;
  {
    std::lock_guard lock(mutex_);
    if (j->finished) {
      if (j->error) std::rethrow_exception(j->error);
      co_return job_outcome::done;
    }
    j->abandoned = true;
    if (!j->started) {
      if (auto it = std::find(queue_.begin(), queue_.end(), j); it != queue_.end()) queue_.erase(it);
      keys_.erase(j->key);
      co_return job_outcome::expired;
    }
    hook = j->cancel;
  }
  if (hook) hook();
  co_return job_outcome::timeout;
}

void job_socket::set(int fd) {
  std::lock_guard lock(mutex_);
  fd_ = fd;
  if (shutdown_requested_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void job_socket::clear() {
  std::lock_guard lock(mutex_);
  fd_ = -1;
}

void job_socket::shutdown() {
  std::lock_guard lock(mutex_);
  shutdown_requested_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void job_socket::reset_request() {
  std::lock_guard lock(mutex_);
  shutdown_requested_ = false;
}

}  // namespace healthd::io
