#pragma once
// Fake peers for the probe tests, on 127.0.0.1 and free ports, each on its own threads (blocking sockets, plain or
// TLS through OpenSSL; no Beast here, so Beast stays in one translation unit): a silent server, a tiny HTTP/HTTPS
// server, a WebSocket echo server, and a test CA that issues server certificates at test time.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace healthd::test {

// A free TCP port on 127.0.0.1 (bound and released; a race with other processes is possible but unlikely).
[[nodiscard]] std::uint16_t free_port();

// A CA and one server certificate (SAN IP:127.0.0.1, DNS:localhost), as PEM files in a temporary directory removed
// by the destructor.
class test_ca {
public:
  // The server certificate is valid from now for `server_valid_days`.
  explicit test_ca(int server_valid_days = 365);
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;
  ~test_ca();

  [[nodiscard]] std::string ca_file() const { return (dir_ / "ca.pem").string(); }
  [[nodiscard]] std::string cert_file() const { return (dir_ / "server.pem").string(); }
  [[nodiscard]] std::string key_file() const { return (dir_ / "server.key").string(); }

private:
  std::filesystem::path dir_;
};

// One accepted connection, plain or TLS. Blocking; every call returns false / empty once the peer or the server
// has gone.
class peer_connection {
public:
  virtual ~peer_connection() = default;
  virtual bool write(std::string_view data) = 0;
  // Up to `max` bytes; empty on EOF or error.
  virtual std::string read_some(std::size_t max = 16384) = 0;
  // Reads until `delimiter` is in the buffer; returns everything up to and including it, keeping the rest.
  std::optional<std::string> read_until(std::string_view delimiter);
  std::optional<std::string> read_exactly(std::size_t n);

protected:
  std::string pending_;
};

// Accepts connections and gives each to `handler` on its own thread. The destructor closes the listening socket,
// shuts down every connection and joins the threads.
class fake_server {
public:
  using handler = std::function<void(peer_connection&)>;
  // With a test_ca, connections speak TLS with its server certificate.
  explicit fake_server(handler h, const test_ca* tls = nullptr);
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;
  ~fake_server();

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] int accepted() const noexcept { return accepted_.load(); }

private:
  void accept_loop();

  handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::shared_ptr<void> tls_context_;  // SSL_CTX
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<int> connection_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Accepts and never answers (holds every connection open until destroyed).
[[nodiscard]] std::unique_ptr<fake_server> make_silent_server();

struct seen_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
};

struct canned_response {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
  bool close = false;       // Connection: close
  bool drop_after = false;  // closes the connection after answering without saying so (an idle keep-alive timeout)
};

// HTTP/1.1 with keep-alive; `respond` is called for every request (on the connection's thread).
[[nodiscard]] std::unique_ptr<fake_server> make_http_server(std::function<canned_response(const seen_request&)> respond,
                                                            const test_ca* tls = nullptr);

// WebSocket echo: answers pings, echoes text and binary messages, answers close.
[[nodiscard]] std::unique_ptr<fake_server> make_websocket_echo_server(const test_ca* tls = nullptr);
// Like the echo server, but answers every text or binary message with one binary message carrying `reply` (any
// bytes: a peer's binary frame need not be UTF-8).
[[nodiscard]] std::unique_ptr<fake_server> make_websocket_binary_reply_server(std::string reply);

}  // namespace healthd::test
