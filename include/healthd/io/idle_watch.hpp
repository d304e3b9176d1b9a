#pragma once
// Watches a descriptor that a library owns (a kept PostgreSQL or Redis connection) for becoming readable while it is
// idle: on an idle client connection, readable means the server closed it or sent something unasked, i.e. "probe me
// now". The watch never reads, writes or closes the descriptor, and gives it back with its file status flags as they
// were (Asio switches a watched descriptor to non-blocking mode, which a blocking library must not see).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>

namespace healthd::io {

class idle_watch {
public:
  enum class armed {
    watching,       // wait() resolves when the descriptor becomes readable
    readable_now,   // it was readable already: act at once, nothing is watched
    not_watchable,  // its flags could not be read or Asio refused it: nothing is watched
  };

  explicit idle_watch(const boost::asio::any_io_executor& executor) : descriptor_(executor) {}
  idle_watch(const idle_watch&) = delete;
  idle_watch& operator=(const idle_watch&) = delete;
  ~idle_watch() { release(); }

  // Looks once without waiting, then starts watching `fd`.
  [[nodiscard]] armed arm(int fd);
  // True when the descriptor became readable; false when release() ended the wait first (or nothing is watched).
  [[nodiscard]] boost::asio::awaitable<bool> wait();
  // Ends the wait and gives the descriptor back, flags restored. Idempotent. Call before the library uses it again.
  void release() noexcept;
  [[nodiscard]] bool watching() const noexcept { return descriptor_.is_open(); }

private:
  boost::asio::posix::stream_descriptor descriptor_;
  int flags_ = 0;  // the descriptor's file status flags before watching
};

}  // namespace healthd::io
