#pragma once
// Internal to src/engine: the two waiting primitives the engine needs and Asio 1.81 lacks.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

namespace healthd::detail {

// The platform-wide cap on heals running at once (healing.max_concurrent): a counting semaphore whose waiters are
// served first come, first served. Thread-safe; handlers complete on their own executors, never inline.
class heal_slots {
public:
  // `fallback` runs handlers that have no executor of their own (coroutine handlers always have one).
  heal_slots(boost::asio::any_io_executor fallback, std::size_t capacity)
      : fallback_(std::move(fallback)), capacity_(capacity) {}

  // Completes with success once a slot is held (release() it later), or operation_aborted after shutdown().
  template <typename Token>
  auto async_acquire(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          waiter h{boost::asio::get_associated_executor(handler, fallback_), std::move(handler)};
          std::unique_lock lock(mutex_);
          if (stopped_) {
            lock.unlock();
            complete(std::move(h), boost::asio::error::operation_aborted);
          } else if (in_use_ < capacity_) {
            ++in_use_;
            lock.unlock();
            complete(std::move(h), {});
          } else {
            waiters_.push_back(std::move(h));
          }
        },
        token);
  }

  // Takes a slot only if one is free now and nobody is waiting for one.
  [[nodiscard]] bool try_acquire() {
    std::lock_guard lock(mutex_);
    if (stopped_ || in_use_ >= capacity_ || !waiters_.empty()) return false;
    ++in_use_;
    return true;
  }

  void release() {
    std::unique_lock lock(mutex_);
    if (!waiters_.empty() && in_use_ <= capacity_) {
      auto h = std::move(waiters_.front());
      waiters_.pop_front();
      lock.unlock();
      complete(std::move(h), {});  // the slot passes straight to the first waiter
      return;
    }
    if (in_use_ > 0) --in_use_;
  }

  // A reload may change healing.max_concurrent; waiters are admitted as capacity allows.
  void set_capacity(std::size_t capacity) {
    std::deque<waiter> admitted;
    {
      std::lock_guard lock(mutex_);
      capacity_ = capacity;
      while (!waiters_.empty() && in_use_ < capacity_) {
        ++in_use_;
        admitted.push_back(std::move(waiters_.front()));
        waiters_.pop_front();
      }
    }
    for (auto& h : admitted)
      complete(std::move(h), {});
  }

  void shutdown() {
    std::deque<waiter> waiting;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      waiting.swap(waiters_);
    }
    for (auto& h : waiting)
      complete(std::move(h), boost::asio::error::operation_aborted);
  }

  [[nodiscard]] std::size_t in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
  }

private:
  struct waiter {
    boost::asio::any_io_executor executor;
    boost::asio::any_completion_handler<void(boost::system::error_code)> handler;
  };

  static void complete(waiter w, boost::system::error_code ec) {
    boost::asio::post(w.executor, [h = std::move(w.handler), ec]() mutable { std::move(h)(ec); });
  }

  boost::asio::any_io_executor fallback_;
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t in_use_ = 0;
  bool stopped_ = false;
  std::deque<waiter> waiters_;
};

// Mutual exclusion between coroutines of one strand (a subsystem's probe rounds and heals), FIFO. Use only from
// that strand: it has no lock of its own.
class strand_gate {
public:
  explicit strand_gate(boost::asio::any_io_executor strand) : strand_(std::move(strand)) {}

  boost::asio::awaitable<void> acquire() {
    if (!held_) {
      held_ = true;
      co_return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(strand_, boost::asio::steady_timer::time_point::max());
    waiters_.push_back(timer);
    // release() cancels the timer to hand the gate over; the gate stays held on our behalf.
    (void)co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  void release() {
    if (waiters_.empty()) {
      held_ = false;
      return;
    }
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->cancel();
  }

  [[nodiscard]] bool held() const noexcept { return held_; }

private:
  boost::asio::any_io_executor strand_;
  bool held_ = false;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace healthd::detail
