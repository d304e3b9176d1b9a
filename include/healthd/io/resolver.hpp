#pragma once
// Host name resolution bounded by a deadline, for the http, websocket and tcp probes and the http heal action.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace healthd::io {

struct resolve_result {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  std::string error;  // "resolve: Host not found (authoritative)", or "timeout"
  bool timed_out = false;
};

// A numeric address is used as is; a name lookup that is still running at the deadline is left behind and reported
// as a timeout. `executor` must be a strand or single-threaded.
[[nodiscard]] boost::asio::awaitable<resolve_result> resolve_within(boost::asio::any_io_executor executor,
                                                                    std::string host, std::uint16_t port,
                                                                    std::chrono::steady_clock::time_point deadline);

}  // namespace healthd::io
