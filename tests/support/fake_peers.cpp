#include "support/fake_peers.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace healthd::test {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("fake_peers: " + what); }

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// ---- certificates -----------------------------------------------------------------------------------------------
struct key_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct cert_deleter {
  void operator()(X509* c) const { X509_free(c); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using cert_ptr = std::unique_ptr<X509, cert_deleter>;

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) fail("extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

cert_ptr make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key, long valid_seconds,
                   long serial, bool ca) {
  cert_ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_seconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "CA:FALSE");
    add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) fail("sign");
  return cert;
}

void write_pem(const std::filesystem::path& file, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(file.c_str(), "w");
  if (f == nullptr) fail("cannot write " + file.string());
  if (cert != nullptr) PEM_write_X509(f, cert);
  if (key != nullptr) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  (void)std::fclose(f);
}

// ---- connections ------------------------------------------------------------------------------------------------
class plain_connection final : public peer_connection {
public:
  explicit plain_connection(int fd) : fd_(fd) {}
  bool write(std::string_view data) override {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  std::string read_some(std::size_t max) override {
    std::string out(max, '\0');
    const auto n = ::recv(fd_, out.data(), max, 0);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

private:
  int fd_;
};

class tls_connection final : public peer_connection {
public:
  tls_connection(SSL_CTX* ctx, int fd) : ssl_(SSL_new(ctx)) {
    SSL_set_fd(ssl_, fd);
    ok_ = SSL_accept(ssl_) == 1;
  }
  ~tls_connection() override { SSL_free(ssl_); }
  tls_connection(const tls_connection&) = delete;
  tls_connection& operator=(const tls_connection&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  bool write(std::string_view data) override {
    return ok_ && SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
  }
  std::string read_some(std::size_t max) override {
    if (!ok_) return {};
    std::string out(max, '\0');
    const int n = SSL_read(ssl_, out.data(), static_cast<int>(max));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

private:
  SSL* ssl_;
  bool ok_ = false;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::optional<seen_request> read_request(peer_connection& conn) {
  const auto head = conn.read_until("\r\n\r\n");
  if (!head) return std::nullopt;
  seen_request request;
  std::size_t pos = head->find("\r\n");
  const std::string line = head->substr(0, pos);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.find(' ', sp1 + 1);
  request.method = line.substr(0, sp1);
  request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  pos += 2;
  while (pos < head->size()) {
    const auto end = head->find("\r\n", pos);
    if (end == pos || end == std::string::npos) break;
    const std::string header = head->substr(pos, end - pos);
    const auto colon = header.find(':');
    if (colon != std::string::npos) request.headers[lower(header.substr(0, colon))] = trim(header.substr(colon + 1));
    pos = end + 2;
  }
  if (auto it = request.headers.find("content-length"); it != request.headers.end()) {
    auto body = conn.read_exactly(static_cast<std::size_t>(std::stoul(it->second)));
    if (!body) return std::nullopt;
    request.body = std::move(*body);
  }
  return request;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string websocket_accept(const std::string& key) {
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha1(), nullptr);
  std::array<unsigned char, 64> encoded{};
  const int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(length));
  return {reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n)};
}

std::string frame(unsigned char opcode, const std::string& payload) {
  std::string out;
  out.push_back(static_cast<char>(0x80U | opcode));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() < 65536) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((payload.size() >> 8U) & 0xffU));
    out.push_back(static_cast<char>(payload.size() & 0xffU));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((payload.size() >> static_cast<unsigned>(shift)) & 0xffU));
  }
  return out + payload;
}

// Echoes messages, or answers each with one binary message carrying `reply` when there is one.
void websocket_peer(peer_connection& conn, const std::optional<std::string>& reply) {
  const auto request = read_request(conn);
  if (!request) return;
  const auto key = request->headers.find("sec-websocket-key");
  if (key == request->headers.end()) {
    conn.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  conn.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
             websocket_accept(key->second) + "\r\n\r\n");
  for (;;) {
    const auto head = conn.read_exactly(2);
    if (!head) return;
    const auto b0 = static_cast<unsigned char>((*head)[0]);
    const auto b1 = static_cast<unsigned char>((*head)[1]);
    const unsigned char opcode = b0 & 0x0fU;
    std::uint64_t length = b1 & 0x7fU;
    if (length >= 126) {
      const auto ext = conn.read_exactly(length == 126 ? 2 : 8);
      if (!ext) return;
      length = 0;
      for (char c : *ext)
        length = (length << 8U) | static_cast<unsigned char>(c);
    }
    std::string mask(4, '\0');
    if ((b1 & 0x80U) != 0) {
      auto m = conn.read_exactly(4);
      if (!m) return;
      mask = *m;
    }
    auto payload = conn.read_exactly(static_cast<std::size_t>(length));
    if (!payload) return;
    for (std::size_t i = 0; i < payload->size(); ++i)
      (*payload)[i] = static_cast<char>((*payload)[i] ^ mask[i % 4]);
    switch (opcode) {
      case 0x1:
      case 0x2: conn.write(reply ? frame(0x2, *reply) : frame(opcode, *payload)); break;
      case 0x9: conn.write(frame(0xA, *payload)); break;
      case 0x8: conn.write(frame(0x8, *payload)); return;
      default: break;
    }
  }
}

}  // namespace

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

test_ca::test_ca(int server_valid_days) {
  std::string pattern = (std::filesystem::temp_directory_path() / "healthd-ca-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp");
  dir_ = pattern;
  key_ptr ca_key(EVP_EC_gen("P-256"));
  key_ptr server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) fail("key generation");
  auto ca = make_cert(ca_key.get(), "healthd test CA", nullptr, nullptr, 10L * 86400, 1, true);
  auto server = make_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), server_valid_days * 86400L, 2, false);
  write_pem(dir_ / "ca.pem", ca.get(), nullptr);
  write_pem(dir_ / "server.pem", server.get(), nullptr);
  write_pem(dir_ / "server.key", nullptr, server_key.get());
}

test_ca::~test_ca() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::optional<std::string> peer_connection::read_until(std::string_view delimiter) {
  for (;;) {
    if (const auto pos = pending_.find(delimiter); pos != std::string::npos) {
      std::string out = pending_.substr(0, pos + delimiter.size());
      pending_.erase(0, pos + delimiter.size());
      return out;
    }
    auto more = read_some(16384);
    if (more.empty()) return std::nullopt;
    pending_ += more;
  }
}

std::optional<std::string> peer_connection::read_exactly(std::size_t n) {
  while (pending_.size() < n) {
    auto more = read_some(std::max<std::size_t>(16384, n - pending_.size()));
    if (more.empty()) return std::nullopt;
    pending_ += more;
  }
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

fake_server::fake_server(handler h, const test_ca* tls) : handler_(std::move(h)) {
  if (tls != nullptr) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file().c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls->key_file().c_str(), SSL_FILETYPE_PEM) != 1)
      fail("server certificate");
    tls_context_ = std::shared_ptr<void>(ctx, [](void* p) { SSL_CTX_free(static_cast<SSL_CTX*>(p)); });
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto addr = loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
    fail("listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

fake_server::~fake_server() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (int fd : connection_fds_)
      ::shutdown(fd, SHUT_RDWR);
    threads = std::move(threads_);
  }
  for (auto& t : threads)
    t.join();
  for (int fd : connection_fds_)
    ::close(fd);
}

void fake_server::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted_;
    std::lock_guard lock(mutex_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    connection_fds_.push_back(fd);
    threads_.emplace_back([this, fd] {
      // OpenSSL writes with write(): a client that already left must not SIGPIPE the test.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      if (tls_context_) {
        tls_connection conn(static_cast<SSL_CTX*>(tls_context_.get()), fd);
        if (conn.ok()) handler_(conn);
      } else {
        plain_connection conn(fd);
        handler_(conn);
      }
      ::shutdown(fd, SHUT_RDWR);
    });
  }
}

std::unique_ptr<fake_server> make_silent_server() {
  return std::make_unique<fake_server>([](peer_connection& conn) {
    while (!conn.read_some(4096).empty()) {
    }
  });
}

std::unique_ptr<fake_server> make_http_server(std::function<canned_response(const seen_request&)> respond,
                                              const test_ca* tls) {
  return std::make_unique<fake_server>(
      [respond = std::move(respond)](peer_connection& conn) {
        for (;;) {
          auto request = read_request(conn);
          if (!request) return;
          const auto reply = respond(*request);
          const bool close = reply.close || lower(request->headers["connection"]) == "close";
          std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) + "\r\n";
          out += "Content-Type: " + reply.content_type + "\r\n";
          out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
          if (close) out += "Connection: close\r\n";
          out += "\r\n";
          if (request->method != "HEAD") out += reply.body;
          if (!conn.write(out) || close || reply.drop_after) return;
        }
      },
      tls);
}

std::unique_ptr<fake_server> make_websocket_echo_server(const test_ca* tls) {
  return std::make_unique<fake_server>([](peer_connection& conn) { websocket_peer(conn, std::nullopt); }, tls);
}

std::unique_ptr<fake_server> make_websocket_binary_reply_server(std::string reply) {
  return std::make_unique<fake_server>([reply](peer_connection& conn) { websocket_peer(conn, reply); });
}

}  // namespace healthd::test
