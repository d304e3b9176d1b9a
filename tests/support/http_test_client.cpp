#include "support/http_test_client.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace healthd::test {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

std::optional<std::string> http_reply::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

http_test_client::http_test_client(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail("socket");
  const auto address = loopback(port);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    errno = error;
    fail("connect to 127.0.0.1:" + std::to_string(port));
  }
  const int one = 1;
  (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

http_test_client::~http_test_client() {
  if (fd_ >= 0) ::close(fd_);
}

void http_test_client::send_raw(std::string_view bytes) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!bytes.empty()) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) throw std::runtime_error("send: timed out");
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      fail("send");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void http_test_client::fill(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready == 0) throw std::runtime_error("read: timed out");
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    char chunk[16 * 1024];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      fail("recv");
    }
    if (n == 0) throw std::runtime_error("read: connection closed by the server");
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return;
  }
}

http_reply http_test_client::read_reply(bool head) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    std::size_t end = buffer_.find("\r\n\r\n");
    while (end == std::string::npos) {
      fill(deadline);
      end = buffer_.find("\r\n\r\n");
    }
    http_reply reply;
    const std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::size_t line_end = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
      throw std::runtime_error("bad status line: " + status_line);
    }
    (void)std::from_chars(status_line.data() + 9, status_line.data() + 12, reply.status);
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head_text.find("\r\n", start);
      const std::string line =
          head_text.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      reply.headers.emplace_back(line.substr(0, colon), value);
    }
    if (reply.status >= 100 && reply.status < 200) continue;
    std::size_t length = 0;
    if (const auto cl = reply.header("Content-Length"); cl && !head) {
      (void)std::from_chars(cl->data(), cl->data() + cl->size(), length);
    }
    while (buffer_.size() < length)
      fill(deadline);
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }
}

http_reply http_test_client::request(std::string_view method, std::string_view target, const header_list& headers,
                                     std::string_view body) {
  std::string text;
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    text.append(name).append(": ").append(value).append("\r\n");
    has_length = has_length || iequals(name, "Content-Length");
  }
  if (!body.empty() && !has_length) text.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  text.append("\r\n").append(body);
  send_raw(text);
  return read_reply(method == "HEAD");
}

bool http_test_client::wait_closed(std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready == 0) return false;
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return true;  // reset
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

http_reply http_once(std::uint16_t port, std::string_view method, std::string_view target, const header_list& headers,
                     std::string_view body) {
  http_test_client client(port);
  header_list all = headers;
  all.emplace_back("Connection", "close");
  return client.request(method, target, all, body);
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  auto address = loopback(0);
  socklen_t size = sizeof address;
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    fail("bind to a free port");
  }
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace healthd::test
