#pragma once
// A sync step for audit_file that a test holds shut: each call waits until open() (or returns the configured error
// at once) and is counted, so a slow fsync is simulated without sleeping. Thread-safe; share it by shared_ptr so the
// writer thread never outlives it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>

namespace healthd::test {

class sync_gate : public std::enable_shared_from_this<sync_gate> {
public:
  static std::shared_ptr<sync_gate> closed() { return std::make_shared<sync_gate>(false); }
  static std::shared_ptr<sync_gate> opened() { return std::make_shared<sync_gate>(true); }
  explicit sync_gate(bool open) : open_(open) {}

  // What audit_file calls instead of ::fdatasync.
  std::function<std::error_code(int)> function() {
    return [self = shared_from_this()](int /*fd*/) { return self->sync(); };
  }

  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }

  // Every later call fails with `error` without waiting.
  void fail_with(std::error_code error) {
    {
      std::lock_guard lock(mutex_);
      error_ = error;
    }
    changed_.notify_all();
  }

  // Waits until `n` calls have started (the n-th may be waiting at the gate).
  [[nodiscard]] bool wait_for_calls(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return calls_ >= n; });
  }

  [[nodiscard]] std::size_t calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

private:
  std::error_code sync() {
    std::unique_lock lock(mutex_);
    ++calls_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_ || error_; });
    return error_;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool open_;
  std::error_code error_;
  std::size_t calls_ = 0;
};

}  // namespace healthd::test
