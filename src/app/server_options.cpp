#include "healthd/app/server_options.hpp"

#include "healthd/config/config_error.hpp"

#include <algorithm>
#include <limits>
#include <sys/resource.h>

namespace healthd::app {

api::server_options server_options_from(const config::server_config& server) {
  const auto address = config::parse_listen_address(server.listen);
  if (!address) throw config::config_error("server.listen", "expected HOST:PORT with a port in 1..65535");
  api::server_options options;
  options.host = address->host;
  options.port = address->port;
  options.max_connections = static_cast<std::size_t>(std::max(server.max_connections, 1));
  return options;
}

std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    // An unlimited hard limit cannot be the soft one for descriptors (the kernel caps it at fs.nr_open).
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(limit.rlim_cur, 1U << 20U) : limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<std::uint32_t>::max() : limit.rlim_cur;
}

}  // namespace healthd::app
