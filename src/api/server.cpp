// The only translation unit that includes Beast: accepting, reading, writing, deadlines and shutdown. Everything a
// request means is the handler's (router.cpp).

#include "healthd/api/server.hpp"

#include "healthd/core/exception_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>

namespace healthd::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// A connection beyond the limit gets this long to send its request before it is answered 503 and closed; at most
// this many such refusals run at once (beyond them a connection is closed without an answer).
constexpr std::chrono::seconds overload_read_timeout{1};
constexpr std::size_t max_concurrent_refusals = 64;
// After an error answer the rest of the request is read and dropped for a moment: closing with unread data would
// reset the connection and the client might never see the answer.
constexpr std::chrono::seconds linger_timeout{1};
constexpr std::size_t linger_max_bytes = std::size_t{1024} * 1024;
// How long shutdown waits for cancelled connections to wind down after the grace period.
constexpr std::chrono::seconds forced_close_wait{1};

bool is_descriptor_exhaustion(const boost::system::error_code& ec) {
  return ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

bool is_parse_error(const boost::system::error_code& ec) {
  static const auto& category = http::make_error_code(http::error::bad_target).category();
  return ec.category() == category && ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Why a request is refused before it reaches the handler; status 0 means close without an answer (timeout, the
// client went away).
struct refusal {
  int status = 0;
  std::string_view code;
  std::string_view message;
};

constexpr refusal no_refusal{};
constexpr refusal target_too_long{414, "uri_too_long", "request target exceeds 4 KiB"};

// Whether the header went over the header limit because of its target: answered 414, not 431. Beast consumes the
// request line once it parsed it, so `parsed_target` is the target then; before, `pending` (the unparsed bytes)
// starts with the request line, however incomplete.
bool target_exceeds(std::string_view parsed_target, std::string_view pending, std::size_t limit) {
  if (!parsed_target.empty()) return parsed_target.size() > limit;
  const auto space = pending.find(' ');
  if (space == std::string_view::npos) return false;
  const auto target = pending.substr(space + 1);
  return std::min(target.find_first_of(" \r\n"), target.size()) > limit;
}

refusal read_refusal(const boost::system::error_code& ec, std::string_view parsed_target, std::string_view pending,
                     std::size_t target_limit) {
  if (ec == http::error::header_limit) {
    if (target_exceeds(parsed_target, pending, target_limit)) return target_too_long;
    return {431, "headers_too_large", "request headers exceed 8 KiB"};
  }
  if (ec == http::error::body_limit) return {413, "payload_too_large", "request body exceeds 64 KiB"};
  if (is_parse_error(ec)) return {400, "bad_request", "malformed HTTP request"};
  return no_refusal;
}

// What Beast accepts but RFC 9112 does not: a second Host (section 3.2), a Transfer-Encoding whose final coding is
// not chunked (section 6.3: the body's length is unknowable, so the connection must close), and a target longer
// than we read (section 3, 414).
refusal header_refusal(const http::request<http::string_body>& message, bool chunked, std::size_t target_limit) {
  if (message.target().size() > target_limit) return target_too_long;
  if (message.count(http::field::host) > 1) return {400, "bad_request", "more than one Host header"};
  if (message.count(http::field::transfer_encoding) > 0 && !chunked) {
    return {400, "bad_request", "Transfer-Encoding must end in chunked"};
  }
  return no_refusal;
}

std::string_view as_text(const beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

http_request to_request(http::request<http::string_body>& message) {
  http_request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message)
    request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  request.body = std::move(message.body());
  return request;
}

struct connection {
  explicit connection(tcp::socket socket) : stream(std::move(socket)) {}

  beast::tcp_stream stream;
  // Both touched only on the connection's strand.
  bool busy = false;  // a request was read and is not yet answered: shutdown lets it finish
  net::cancellation_signal cancel;
};

}  // namespace

std::size_t connection_cap(std::size_t configured, std::uint64_t open_file_limit) noexcept {
  const std::uint64_t reserve = std::clamp<std::uint64_t>(open_file_limit / 10, 32, 1024);
  const std::uint64_t room = open_file_limit > reserve ? open_file_limit - reserve : 1;
  return static_cast<std::size_t>(std::max<std::uint64_t>(std::min<std::uint64_t>(configured, room), 1));
}

class http_server::impl : public std::enable_shared_from_this<impl> {
public:
  impl(net::any_io_executor executor, server_options options, request_handler handler, http_metrics* metrics)
      : executor_(std::move(executor)),
        strand_(net::make_strand(executor_)),
        acceptor_(strand_),
        backoff_timer_(strand_),
        drain_timer_(strand_),
        options_(std::move(options)),
        handler_(std::move(handler)),
        metrics_(metrics),
        limit_(options_.max_connections) {}

  void start() {
    if (const auto file_limit = options_.open_file_limit) {
      limit_ = connection_cap(options_.max_connections, *file_limit);
      if (limit_ < options_.max_connections) {
        spdlog::warn("open-file limit {} allows {} HTTP connections, not the configured {}", *file_limit, limit_,
                     options_.max_connections);
      }
    }
    try {
      // A host name ("localhost") resolves to its first address; a numeric one is taken as is.
      tcp::resolver resolver(executor_);
      const auto endpoint =
          resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive)->endpoint();
      acceptor_.open(endpoint.protocol());
      acceptor_.set_option(net::socket_base::reuse_address(true));
      acceptor_.bind(endpoint);
      acceptor_.listen(net::socket_base::max_listen_connections);
      port_ = acceptor_.local_endpoint().port();
    } catch (const boost::system::system_error& e) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      throw std::system_error(e.code(), "listen on " + options_.host + ":" + std::to_string(options_.port));
    }
    // The loop holds the server's internals alive: they may outlive http_server until the executor lets go.
    net::co_spawn(strand_, accept_loop(), [self = shared_from_this()](const std::exception_ptr& e) {
      if (e) log_exception("HTTP accept loop", e);
    });
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
  [[nodiscard]] std::size_t open() const noexcept { return serving_.load(); }

  net::awaitable<void> shutdown() {
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_timer_.cancel();
    // Idle connections end now; one handling a request answers it (with Connection: close) and then ends.
    for_each_connection([](const std::shared_ptr<connection>& c) {
      if (!c->busy) c->stream.cancel();
    });
    if (co_await drained_within(options_.shutdown_grace)) co_return;
    spdlog::warn("{} HTTP connection(s) still busy after {} ms; closing them", sessions_.load(),
                 options_.shutdown_grace.count());
    for_each_connection([](const std::shared_ptr<connection>& c) {
      c->cancel.emit(net::cancellation_type::terminal);
      c->stream.close();
    });
    (void)co_await drained_within(forced_close_wait);
  }

  net::strand<net::any_io_executor>& strand() noexcept { return strand_; }

private:
  static void log_exception(std::string_view what, const std::exception_ptr& e) {
    spdlog::error("{} ended with an exception: {}", what, exception_text(e));
  }

  // Runs `f` on each open connection's strand.
  template <typename F>
  void for_each_connection(F f) {
    std::lock_guard lock(mutex_);
    for (const auto& c : connections_)
      net::post(c->stream.get_executor(), [c, f] { f(c); });
  }

  // On strand_. True when every connection ended within `limit`.
  net::awaitable<bool> drained_within(std::chrono::milliseconds limit) {
    if (sessions_.load() == 0) co_return true;
    drain_timer_.expires_after(limit);
    // A session that ends as the last one cancels this wait (posted to strand_, so it cannot slip in before it).
    (void)co_await drain_timer_.async_wait(use_tuple);
    co_return sessions_.load() == 0;
  }

  net::awaitable<void> accept_loop() {
    bool backing_off = false;
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(executor_), use_tuple);
      if (stopping_) co_return;
      if (ec) {
        if (!is_descriptor_exhaustion(ec)) {
          spdlog::debug("accept: {}", ec.message());
          continue;
        }
        // Out of descriptors: the pending connection stays in the backlog, so retrying at once would spin.
        if (!backing_off) spdlog::warn("accept: {}; pausing for {} ms", ec.message(), options_.accept_backoff.count());
        backing_off = true;
        if (metrics_ != nullptr) metrics_->accept_backoff();
        backoff_timer_.expires_after(options_.accept_backoff);
        (void)co_await backoff_timer_.async_wait(use_tuple);
        continue;
      }
      if (backing_off) spdlog::info("accepting connections again");
      backing_off = false;
      admit(tcp::socket(std::move(socket)));
    }
  }

  void admit(tcp::socket socket) {
    const bool overloaded = serving_.load() >= limit_;
    if (overloaded) {
      if (metrics_ != nullptr) metrics_->connection_rejected();
      if (refusing_.load() >= max_concurrent_refusals) return;  // the socket closes here
      ++refusing_;
    } else {
      ++serving_;
      if (metrics_ != nullptr) metrics_->connection_opened();
    }
    ++sessions_;
    auto c = std::make_shared<connection>(std::move(socket));
    {
      std::lock_guard lock(mutex_);
      connections_.insert(c);
    }
    auto slot = c->cancel.slot();
    net::co_spawn(
        c->stream.get_executor(), session(c, overloaded),
        net::bind_cancellation_slot(slot, [self = shared_from_this(), c, overloaded](const std::exception_ptr& e) {
          if (e) log_exception("HTTP session", e);
          self->ended(c, overloaded);
        }));
  }

  void ended(const std::shared_ptr<connection>& c, bool overloaded) {
    {
      std::lock_guard lock(mutex_);
      connections_.erase(c);
    }
    if (overloaded) {
      --refusing_;
    } else {
      --serving_;
      if (metrics_ != nullptr) metrics_->connection_closed();
    }
    if (--sessions_ == 0 && stopping_) net::post(strand_, [self = shared_from_this()] { self->drain_timer_.cancel(); });
  }

  net::awaitable<void> session(std::shared_ptr<connection> c, bool overloaded) {
    auto& stream = c->stream;
    beast::flat_buffer buffer;
    for (bool first = true; !stopping_; first = false) {
      // A kept-alive connection may wait idle_timeout for the first byte of its next request; from then on (and on
      // a new connection from the start) the whole request must arrive within header_timeout.
      if (!first && buffer.size() == 0) {
        stream.expires_after(options_.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
        if (ec) break;
        buffer.commit(n);
      }
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
      parser.body_limit(options_.body_limit);
      stream.expires_after(overloaded ? std::chrono::milliseconds(overload_read_timeout) : options_.header_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
      auto refused = ec ? read_refusal(ec, parser.get().target(), as_text(buffer), options_.target_limit)
                        : header_refusal(parser.get(), parser.chunked(), options_.target_limit);
      if (refused.status == 0 && !ec && !parser.is_done()) {
        if (const auto expect = parser.get()[http::field::expect]; beast::iequals(expect, "100-continue")) {
          http::response<http::empty_body> go_on{http::status::continue_, 11};
          stream.expires_after(options_.write_timeout);
          std::tie(ec, n) = co_await http::async_write(stream, go_on, use_tuple);
        }
        if (!ec) std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (ec) refused = read_refusal(ec, parser.get().target(), as_text(buffer), options_.target_limit);
      }
      if (ec || refused.status != 0) {
        if (refused.status != 0) {
          const auto started = std::chrono::steady_clock::now();
          auto response = error_response(refused.status, refused.code, refused.message);
          response.close = true;
          co_await answer(stream, response, false, 11, "-", "-", started);
          co_await linger(stream, buffer);
        }
        break;
      }

      c->busy = true;
      const auto started = std::chrono::steady_clock::now();
      auto& message = parser.get();
      const unsigned version = message.version();
      bool keep_alive = message.keep_alive();
      const std::string method(message.method_string());
      const std::string target(message.target());
      http_response response;
      if (overloaded) {
        response = error_response(503, "overloaded", "too many connections; try again later");
        response.close = true;
      } else {
        try {
          // Bound before co_await: GCC 12 mishandles temporaries that live across a suspension.
          auto pending = handler_(to_request(message));
          response = co_await std::move(pending);
        } catch (const std::exception& e) {
          spdlog::error("{} {}: unexpected exception: {}", method, target, e.what());
          response = error_response(500, "internal_error", "internal server error");
        } catch (...) {
          spdlog::error("{} {}: unexpected exception", method, target);
          response = error_response(500, "internal_error", "internal server error");
        }
      }
      keep_alive = keep_alive && !response.close && !stopping_;
      const bool written = co_await answer(stream, response, keep_alive, version, method, target, started);
      c->busy = false;
      if (!written || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
  }

  // Writes the response, counts it and logs the access line; false when the write failed.
  net::awaitable<bool> answer(beast::tcp_stream& stream, const http_response& r, bool keep_alive, unsigned version,
                              std::string_view method, std::string_view target,
                              std::chrono::steady_clock::time_point started) {
    http::response<http::span_body<const char>> message;
    message.version(version);
    message.result(static_cast<unsigned>(r.status));
    for (const auto& h : r.headers)
      message.set(h.name, h.value);
    message.keep_alive(keep_alive);
    if (r.status >= 200 && r.status != 204 && r.status != 304) {
      message.content_length(r.body_size());
      if (r.body && !r.omit_body) message.body() = {r.body->data(), r.body->size()};
    }
    stream.expires_after(options_.write_timeout);
    const auto [ec, n] = co_await http::async_write(stream, message, use_tuple);
    if (metrics_ != nullptr) metrics_->record_request(r.route, r.status);
    spdlog::debug("{} {} {} {:.3f} ms{}", method, target, r.status,
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(),
                  ec ? " (write failed: " + ec.message() + ")" : std::string());
    co_return !ec;
  }

  // Drops what the client still sends, briefly, so that our error answer is not lost to a reset.
  static net::awaitable<void> linger(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(linger_timeout);
    std::size_t dropped = 0;
    while (!ec && dropped < linger_max_bytes) {
      buffer.consume(buffer.size());
      std::size_t n = 0;
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(std::size_t{16} * 1024), use_tuple);
      dropped += n;
    }
  }

  net::any_io_executor executor_;
  net::strand<net::any_io_executor> strand_;  // acceptor, timers and shutdown
  tcp::acceptor acceptor_;
  net::steady_timer backoff_timer_;
  net::steady_timer drain_timer_;
  const server_options options_;
  request_handler handler_;
  http_metrics* metrics_;
  std::size_t limit_;
  std::uint16_t port_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> serving_{0};   // connections counted against the limit
  std::atomic<std::size_t> refusing_{0};  // connections being answered 503
  std::atomic<std::size_t> sessions_{0};  // both
  std::mutex mutex_;
  std::unordered_set<std::shared_ptr<connection>> connections_;
};

http_server::http_server(net::any_io_executor executor, server_options options, request_handler handler,
                         http_metrics* metrics)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options), std::move(handler), metrics)) {}

http_server::~http_server() = default;

void http_server::start() { impl_->start(); }
std::uint16_t http_server::port() const { return impl_->port(); }
std::size_t http_server::connection_limit() const { return impl_->limit(); }
std::size_t http_server::open_connections() const { return impl_->open(); }

net::awaitable<void> http_server::shutdown() {
  auto self = impl_;
  co_await net::co_spawn(self->strand(), self->shutdown(), net::use_awaitable);
}

}  // namespace healthd::api
