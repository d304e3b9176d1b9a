#pragma once
// A blocking HTTP/1.1 client for tests over plain POSIX sockets to 127.0.0.1 (no Beast: test support is linked into
// every test binary). Every read and write has a deadline; a failure or a timeout throws std::runtime_error. One
// object is one connection; not thread-safe (use one per thread).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace healthd::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
  int status = 0;
  header_list headers;
  std::string body;

  // The first header with that name, compared case-insensitively.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

class http_test_client {
public:
  explicit http_test_client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds{5});
  ~http_test_client();
  http_test_client(const http_test_client&) = delete;
  http_test_client& operator=(const http_test_client&) = delete;

  // Sends a request (Host and, with a body, Content-Length added) and reads the reply; 1xx replies are skipped.
  http_reply request(std::string_view method, std::string_view target, const header_list& headers = {},
                     std::string_view body = {});
  http_reply get(std::string_view target, const header_list& headers = {}) { return request("GET", target, headers); }

  void send_raw(std::string_view bytes);
  // The next reply; a reply to HEAD has no body whatever its Content-Length says.
  http_reply read_reply(bool head = false);
  // True when the server closes the connection (EOF or reset) within `within`; false when it is still open then.
  // Data arriving meanwhile is kept for read_reply.
  bool wait_closed(std::chrono::milliseconds within);

private:
  void fill(std::chrono::steady_clock::time_point deadline);  // reads more into buffer_; throws on EOF or timeout

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// One request on a fresh connection that sends `Connection: close`.
http_reply http_once(std::uint16_t port, std::string_view method, std::string_view target,
                     const header_list& headers = {}, std::string_view body = {});

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
[[nodiscard]] std::uint16_t free_loopback_port();

}  // namespace healthd::test
