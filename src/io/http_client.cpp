// The one translation unit that compiles Beast: the HTTP client (send_http_request, http_client) and the WebSocket
// check. Every exchange runs on a strand, bounded by one absolute deadline set on the tcp_stream.

#include "healthd/io/http_client.hpp"

#include "healthd/core/time_format.hpp"
#include "healthd/core/utf8.hpp"
#include "healthd/io/background.hpp"
#include "healthd/io/resolver.hpp"
#include "healthd/io/text.hpp"
#include "healthd/io/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <memory>
#include <utility>

namespace healthd::io {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using steady_point = std::chrono::steady_clock::time_point;

constexpr std::string_view user_agent = "platform-healthd";

// "certificate verify failed (SSL routines)" -> "certificate verify failed".
std::string describe(const boost::system::error_code& ec) {
  auto text = ec.message();
  if (const auto paren = text.find(" ("); paren != std::string::npos && text.back() == ')') text.resize(paren);
  return text;
}

std::string failure(std::string_view stage, const boost::system::error_code& ec, std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout) return timeout_message(timeout);
  return std::string(stage) + ": " + describe(ec);
}

std::atomic<std::uint64_t> tls_contexts_built{0};

}  // namespace

// ---- TLS context --------------------------------------------------------------------------------------------------
struct tls_context {
  explicit tls_context(tls_options o) : options(std::move(o)) {}

  tls_options options;
  // Mutable because streams are built from a non-const ssl::context&; they only read it (SSL_new), which OpenSSL
  // allows from many threads at once.
  mutable ssl::context native{ssl::context::tls_client};
};

std::shared_ptr<const tls_context> make_tls_context(const tls_options& options) {
  auto context = std::make_shared<tls_context>(options);
  boost::system::error_code ec;
  if (options.insecure_skip_verify) {
    context->native.set_verify_mode(ssl::verify_none, ec);
  } else {
    context->native.set_verify_mode(ssl::verify_peer, ec);
    if (!ec && options.ca_file) {
      context->native.load_verify_file(*options.ca_file, ec);
      if (ec) throw tls_context_error("cannot load ca_file \"" + *options.ca_file + "\": " + describe(ec));
    } else if (!ec) {
      context->native.set_default_verify_paths(ec);
    }
  }
  if (ec) throw tls_context_error("cannot load the TLS trust store: " + describe(ec));
  tls_contexts_built.fetch_add(1, std::memory_order_relaxed);
  return context;
}

std::uint64_t tls_contexts_built_for_test() noexcept { return tls_contexts_built.load(std::memory_order_relaxed); }

namespace {

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

std::optional<wall_time> peer_certificate_expiry(SSL* ssl_handle) {
  X509* certificate = SSL_get1_peer_certificate(ssl_handle);
  if (certificate == nullptr) return std::nullopt;
  std::tm tm{};
  const bool ok = ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &tm) == 1;
  X509_free(certificate);
  if (!ok) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

// Prepares a TLS stream for `host`: SNI for names, host-name (or IP) verification unless insecure.
template <typename TlsStream>
void prepare_tls(TlsStream& stream, const std::string& host, const tls_options& options) {
  // SSL_set_tlsext_host_name is a macro with an old-style cast.
  if (!is_ip_literal(host))
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  if (!options.insecure_skip_verify) stream.set_verify_callback(ssl::host_name_verification(host));
}

// ---- one HTTP exchange on an open stream ----------------------------------------------------------------------
struct exchange_result {
  std::optional<http_response> response;
  std::string error;
  bool nothing_received = false;  // failed before any byte of a response: a stale kept connection
  bool reusable = false;
};

template <typename Stream>
asio::awaitable<exchange_result> exchange(Stream& stream, beast::flat_buffer& buffer, const http_request& request,
                                          const parsed_url& url, bool keep_alive) {
  exchange_result out;
  http::request<http::string_body> message;
  message.version(11);
  message.target(url.target);
  const auto verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown)
    message.method_string(request.method);
  else
    message.method(verb);
  message.set(http::field::host, url.host_header());
  message.set(http::field::user_agent, user_agent);
  for (const auto& [name, value] : request.headers)
    message.set(name, value);
  if (request.body) message.body() = *request.body;
  message.keep_alive(keep_alive);
  message.prepare_payload();

  auto [write_error, written] = co_await http::async_write(stream, message, asio::as_tuple(asio::use_awaitable));
  if (write_error) {
    out.error = failure("write", write_error, request.timeout);
    out.nothing_received = write_error != beast::error::timeout;
    co_return out;
  }

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (verb == http::verb::head) parser.skip(true);
  auto [header_error, header_bytes] =
      co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  if (header_error) {
    out.error = failure("read", header_error, request.timeout);
    out.nothing_received = header_error != beast::error::timeout && header_bytes == 0;
    co_return out;
  }
  http_response response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get())
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));

  std::array<char, 16384> chunk{};
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    const std::size_t got = chunk.size() - parser.get().body().size;
    const std::size_t room = request.max_body_bytes - std::min(request.max_body_bytes, response.body.size());
    response.body.append(chunk.data(), std::min(got, room));
    if (got > room) response.body_truncated = true;
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      out.error = failure("read", ec, request.timeout);
      co_return out;
    }
    if (response.body_truncated) break;
  }
  out.reusable = keep_alive && parser.is_done() && parser.get().keep_alive() && !response.body_truncated;
  out.response = std::move(response);
  co_return out;
}

// A connection: plain or TLS, with its read buffer.
struct connection {
  std::string key;                           // scheme://host:port
  std::shared_ptr<const tls_context> trust;  // declared before `tls`, which refers to it, so it outlives it
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::optional<wall_time> certificate_expiry;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

std::string connection_key(const parsed_url& url) {
  return url.scheme + "://" + url.host + ":" + std::to_string(url.port);
}

struct open_result {
  std::unique_ptr<connection> conn;
  std::string error;
};

// `request.tls` must be set for a TLS url.
asio::awaitable<open_result> open_connection(const parsed_url& url, const http_request& request,
                                             steady_point deadline) {
  open_result out;
  auto executor = co_await asio::this_coro::executor;
  auto resolved = co_await resolve_within(executor, url.host, url.port, deadline);
  if (resolved.timed_out) {
    out.error = timeout_message(request.timeout);
    co_return out;
  }
  if (!resolved.error.empty()) {
    out.error = resolved.error;
    co_return out;
  }
  auto conn = std::make_unique<connection>();
  conn->key = connection_key(url);
  if (url.tls()) {
    conn->trust = request.tls;
    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, conn->trust->native);
  } else {
    conn->plain = std::make_unique<beast::tcp_stream>(executor);
  }
  conn->lowest().expires_at(deadline);
  auto [connect_error, endpoint] =
      co_await conn->lowest().async_connect(resolved.endpoints, asio::as_tuple(asio::use_awaitable));
  if (connect_error) {
    out.error = failure("connect", connect_error, request.timeout);
    co_return out;
  }
  if (conn->tls) {
    prepare_tls(*conn->tls, url.host, conn->trust->options);
    auto [tls_error] =
        co_await conn->tls->async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (tls_error) {
      out.error = failure("tls", tls_error, request.timeout);
      co_return out;
    }
    conn->certificate_expiry = peer_certificate_expiry(conn->tls->native_handle());
  }
  out.conn = std::move(conn);
  co_return out;
}

asio::awaitable<exchange_result> exchange_on(connection& conn, const http_request& request, const parsed_url& url,
                                             steady_point deadline, bool keep_alive) {
  conn.lowest().expires_at(deadline);
  if (conn.tls) co_return co_await exchange(*conn.tls, conn.buffer, request, url, keep_alive);
  co_return co_await exchange(*conn.plain, conn.buffer, request, url, keep_alive);
}

void close_quietly(connection& conn) {
  boost::system::error_code ignored;
  conn.lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  conn.lowest().close();
}

}  // namespace

// ---- http_client ------------------------------------------------------------------------------------------------
struct http_client::impl {
  explicit impl(const asio::any_io_executor& executor) : strand(asio::make_strand(executor)) {}

  asio::strand<asio::any_io_executor> strand;
  std::atomic<std::uint64_t> generation{0};  // reset() bumps it; a connection of an older generation is dropped
  // Strand only:
  std::unique_ptr<connection> kept;
  std::uint64_t kept_generation = 0;

  asio::awaitable<http_outcome> send(http_request request, bool keep_alive) {
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    http_outcome outcome;
    const auto url = parse_url(request.url);
    if (!url || url->scheme == "ws" || url->scheme == "wss") {
      outcome.error = "invalid url";
      co_return outcome;
    }
    if (url->tls() && !request.tls) {
      outcome.error = "tls: no TLS context for an https url";
      co_return outcome;
    }
    const auto generation_now = generation.load();
    if (kept && (kept_generation != generation_now || kept->key != connection_key(*url) ||
                 (url->tls() && kept->trust != request.tls)))
      drop();
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = kept != nullptr;
      if (!kept) {
        auto opened = co_await open_connection(*url, request, deadline);
        if (!opened.conn) {
          outcome.error = std::move(opened.error);
          co_return outcome;
        }
        kept = std::move(opened.conn);
        kept_generation = generation_now;
      }
      auto result = co_await exchange_on(*kept, request, *url, deadline, keep_alive);
      if (result.response) {
        result.response->certificate_expiry = kept->certificate_expiry;
        result.response->reused_connection = reused;
        if (!result.reusable || generation.load() != kept_generation) drop();
        outcome.response = std::move(result.response);
        co_return outcome;
      }
      drop();
      // A kept connection the server closed while idle: one more try on a fresh one.
      if (reused && result.nothing_received && std::chrono::steady_clock::now() < deadline) continue;
      outcome.error = std::move(result.error);
      co_return outcome;
    }
    outcome.error = "connection closed";
    co_return outcome;
  }

  void drop() {
    if (kept) close_quietly(*kept);
    kept.reset();
  }
};

http_client::http_client(const asio::any_io_executor& executor) : impl_(std::make_shared<impl>(executor)) {}

http_client::~http_client() = default;

asio::awaitable<http_outcome> http_client::send(http_request request) {
  auto self = impl_;
  auto task = asio::co_spawn(
      self->strand, [self, request = std::move(request)]() { return self->send(request, true); }, asio::use_awaitable);
  co_return co_await std::move(task);
}

void http_client::reset() { impl_->generation.fetch_add(1); }

asio::awaitable<http_outcome> send_http_request(asio::any_io_executor executor, http_request request) {
  auto one_shot = std::make_shared<http_client::impl>(executor);
  auto task = asio::co_spawn(
      one_shot->strand, [one_shot, request = std::move(request)]() { return one_shot->send(request, false); },
      asio::use_awaitable);
  co_return co_await std::move(task);
}

// ---- websocket ---------------------------------------------------------------------------------------------------
namespace {

template <typename WsStream>
asio::awaitable<websocket_outcome> ws_exchange(WsStream& ws, const parsed_url& url, const websocket_request& options) {
  const auto timeout = options.timeout;
  websocket_outcome out;
  ws.set_option(websocket::stream_base::decorator([headers = options.headers](websocket::request_type& request) {
    request.set(http::field::user_agent, user_agent);
    for (const auto& [name, value] : headers)
      request.set(name, value);
  }));
  const auto host = url.host_header();
  auto [handshake_error] = co_await ws.async_handshake(host, url.target, asio::as_tuple(asio::use_awaitable));
  if (handshake_error) {
    out.error = failure("handshake", handshake_error, timeout);
    co_return out;
  }
  const bool need_message = options.send.has_value() || options.expect.has_value();
  bool pong = false;
  bool matched = false;
  // A pong is only seen inside a read; once it is in (and no message is awaited) the read is ended by expiring the
  // stream's timer, which closes the connection: there is nothing more to wait for.
  ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind != websocket::frame_type::pong) return;
    pong = true;
    if (!need_message || matched) beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(0));
  });
  auto [ping_error] = co_await ws.async_ping({}, asio::as_tuple(asio::use_awaitable));
  if (ping_error) {
    out.error = failure("ping", ping_error, timeout);
    co_return out;
  }
  if (options.send) {
    ws.text(true);
    auto [write_error, n] = co_await ws.async_write(asio::buffer(*options.send), asio::as_tuple(asio::use_awaitable));
    if (write_error) {
      out.error = failure("send", write_error, timeout);
      co_return out;
    }
  }
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [read_error, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (read_error) {
      if (pong && (!need_message || matched)) {
        out.ok = true;
        co_return out;
      }
      if (read_error == beast::error::timeout && need_message && !matched && options.expect)
        out.error = timeout_message(timeout) + " (no reply containing \"" + *options.expect + "\")";
      else if (read_error == beast::error::timeout && !pong)
        out.error = timeout_message(timeout) + " (no pong)";
      else
        out.error = failure("read", read_error, timeout);
      co_return out;
    }
    const auto message = beast::buffers_to_string(buffer.data());
    if (!options.expect || message.find(*options.expect) != std::string::npos) {
      matched = true;
      out.reply = valid_utf8(message, 200);  // a binary frame may hold any bytes
    }
    if (matched && pong) {
      // A failed close handshake does not undo a good answer.
      (void)co_await ws.async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
      out.ok = true;
      co_return out;
    }
  }
}

asio::awaitable<websocket_outcome> check_websocket_on_strand(websocket_request request) {
  const auto deadline = std::chrono::steady_clock::now() + request.timeout;
  websocket_outcome out;
  const auto url = parse_url(request.url);
  if (!url || (url->scheme != "ws" && url->scheme != "wss")) {
    out.error = "invalid url";
    co_return out;
  }
  if (url->tls() && !request.tls) {
    out.error = "tls: no TLS context for a wss url";
    co_return out;
  }
  http_request settings;  // only for the connection's TLS and timeout
  settings.timeout = request.timeout;
  settings.tls = request.tls;
  auto opened = co_await open_connection(*url, settings, deadline);
  if (!opened.conn) {
    out.error = std::move(opened.error);
    co_return out;
  }
  const auto expiry = opened.conn->certificate_expiry;
  if (opened.conn->tls) {
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(std::move(*opened.conn->tls));
    out = co_await ws_exchange(ws, *url, request);
  } else {
    websocket::stream<beast::tcp_stream> ws(std::move(*opened.conn->plain));
    out = co_await ws_exchange(ws, *url, request);
  }
  out.certificate_expiry = expiry;
  co_return out;
}

}  // namespace

asio::awaitable<websocket_outcome> check_websocket(asio::any_io_executor executor, websocket_request request) {
  auto task =
      asio::co_spawn(asio::make_strand(executor), check_websocket_on_strand(std::move(request)), asio::use_awaitable);
  co_return co_await std::move(task);
}

}  // namespace healthd::io
