#pragma once
// Internal to src/engine: the heal-slot semaphore the engine needs and Asio 1.81 lacks.

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
#include <optional>
#include <utility>

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

  void release() noexcept {
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

  // A slot held until the lease is destroyed: whatever path a heal takes, exceptions included, it gives it back.
  class lease {
  public:
    lease() = default;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    lease(lease&& other) noexcept : slots_(std::exchange(other.slots_, nullptr)) {}
    lease& operator=(lease&& other) noexcept {
      if (this != &other) {
        reset();
        slots_ = std::exchange(other.slots_, nullptr);
      }
      return *this;
    }
    ~lease() { reset(); }
    void reset() noexcept {
      if (slots_ != nullptr) std::exchange(slots_, nullptr)->release();
    }
    [[nodiscard]] bool held() const noexcept { return slots_ != nullptr; }

  private:
    friend class heal_slots;
    explicit lease(heal_slots* slots) noexcept : slots_(slots) {}
    heal_slots* slots_ = nullptr;
  };

  // A lease on a slot free now (see try_acquire); nullopt when none is.
  [[nodiscard]] std::optional<lease> try_lease() {
    if (!try_acquire()) return std::nullopt;
    return lease(this);
  }
  // Wraps a slot that async_acquire granted.
  [[nodiscard]] lease adopt() noexcept { return lease(this); }

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

}  // namespace healthd::detail
