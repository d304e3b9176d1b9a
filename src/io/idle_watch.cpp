#include "healthd/io/idle_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <poll.h>

namespace healthd::io {

namespace asio = boost::asio;

idle_watch::armed idle_watch::arm(int fd) {
  release();
  // The server may have closed the connection before we started watching.
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) > 0) return armed::readable_now;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return armed::not_watchable;
  boost::system::error_code ec;
  descriptor_.assign(fd, ec);
  if (ec) {
    (void)descriptor_.release();
    return armed::not_watchable;
  }
  flags_ = flags;
  return armed::watching;
}

asio::awaitable<bool> idle_watch::wait() {
  if (!descriptor_.is_open()) co_return false;
  auto [ec] =
      co_await descriptor_.async_wait(asio::posix::descriptor_base::wait_read, asio::as_tuple(asio::use_awaitable));
  co_return !ec && descriptor_.is_open();
}

void idle_watch::release() noexcept {
  if (!descriptor_.is_open()) return;
  // The library owns the descriptor: release it (cancelling the wait), never close it.
  const int fd = descriptor_.release();
  if (fd >= 0) (void)::fcntl(fd, F_SETFL, flags_);
}

}  // namespace healthd::io
