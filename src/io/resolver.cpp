#include "healthd/io/resolver.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ares.h>
#include <atomic>
#include <cassert>
#include <cctype>
#include <cstring>
#include <limits>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unordered_map>
#include <utility>

namespace healthd::io {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

// ENOTFOUND and ENODATA keep the text Asio's resolver gave them, which people may already match on.
std::string failure_reason(int status) {
  if (status == ARES_ENOTFOUND || status == ARES_ENODATA) return "resolve: Host not found (authoritative)";
  return std::string("resolve: ") + ares_strerror(status);
}

void initialise_library() {
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  if (status != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
}

std::string normalised(std::string host) {
  std::transform(host.begin(), host.end(), host.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return host;
}

std::optional<asio::ip::address> address_of(const ares_addrinfo_node& node) {
  if (node.ai_family == AF_INET && node.ai_addrlen >= sizeof(sockaddr_in)) {
    sockaddr_in v4{};
    std::memcpy(&v4, node.ai_addr, sizeof v4);
    return asio::ip::address_v4(ntohl(v4.sin_addr.s_addr));
  }
  if (node.ai_family == AF_INET6 && node.ai_addrlen >= sizeof(sockaddr_in6)) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, node.ai_addr, sizeof v6);
    asio::ip::address_v6::bytes_type bytes{};
    std::memcpy(bytes.data(), &v6.sin6_addr, bytes.size());
    return asio::ip::address_v6(bytes, v6.sin6_scope_id);
  }
  return std::nullopt;
}

// What one lookup came to: addresses, or the failure text.
struct outcome {
  std::vector<asio::ip::address> addresses;
  std::string error;
};

// One caller of resolve(): its timer runs on the caller's executor and is cancelled (on that executor) when the
// outcome arrives, so `done` and `result` are only touched there.
struct waiter {
  explicit waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool done = false;
  outcome result;
};

}  // namespace

// Everything below runs on `strand_`, except construction, stats and the destructor (when nothing else runs).
class resolver::state : public std::enable_shared_from_this<state> {
public:
  state(const asio::any_io_executor& executor, resolver_options options)
      : strand_(asio::make_strand(executor)), timer_(strand_), options_(std::move(options)) {
    initialise_library();
    ares_options ares{};
    ares.sock_state_cb = &state::on_socket_state;
    ares.sock_state_cb_data = this;
    ares.timeout = static_cast<int>(options_.attempt_timeout.count());
    ares.tries = options_.attempts;
    // Files first: /etc/hosts names never wait for a server, whatever /etc/host.conf says.
    std::string lookups = "fb";
    ares.lookups = lookups.data();
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
    if (const int status = ares_init_options(&channel_, &ares, mask); status != ARES_SUCCESS)
      throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
    if (!options_.servers.empty()) {
      if (const int status = ares_set_servers_ports_csv(channel_, options_.servers.c_str()); status != ARES_SUCCESS) {
        ares_destroy(channel_);
        throw std::invalid_argument("resolver: bad DNS servers \"" + options_.servers + "\": " + ares_strerror(status));
      }
    }
  }

  ~state() {
    // Reached with the channel still open only when the io_context went away without running close().
    destroying_ = true;
    close();
  }

  state(const state&) = delete;
  state& operator=(const state&) = delete;

  [[nodiscard]] const asio::strand<asio::any_io_executor>& strand() const { return strand_; }

  void start(const std::string& host, const std::shared_ptr<waiter>& caller, const asio::any_io_executor& executor) {
    if (channel_ == nullptr) {
      deliver(caller, executor, {{}, failure_reason(ARES_EDESTRUCTION)});
      return;
    }
    auto key = normalised(host);
    if (const auto hit = cache_.find(key); hit != cache_.end()) {
      if (hit->second.expires > clock_type::now()) {
        stats_.cache_hits.fetch_add(1, std::memory_order_relaxed);
        deliver(caller, executor, hit->second.result);
        return;
      }
      cache_.erase(hit);
    }
    auto [pending, fresh] = pending_.try_emplace(key);
    pending->second.push_back({caller, executor});
    if (!fresh) {
      stats_.joined.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    stats_.queries_started.fetch_add(1, std::memory_order_relaxed);
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    // May answer before returning (hosts file, bad name): the pending entry exists already.
    ares_getaddrinfo(channel_, key.c_str(), nullptr, &hints, &state::on_answer, new query_context{this, key});
    schedule_timeouts();
  }

  // Ends every query (their callers are told "resolve: Channel is being destroyed") and gives the sockets back.
  void close() {
    if (channel_ == nullptr) return;
    timer_.cancel();
    ares_destroy(channel_);  // runs on_answer for each query and on_socket_state(fd, 0, 0) for each socket
    channel_ = nullptr;
    for (auto& [fd, watch] : sockets_)
      forget(*watch);
    sockets_.clear();
  }

  struct counters {
    std::atomic<std::uint64_t> queries_started{0};
    std::atomic<std::uint64_t> cache_hits{0};
    std::atomic<std::uint64_t> joined{0};
  };
  counters stats_;

private:
  struct cached {
    outcome result;
    clock_type::time_point expires;
  };
  struct pending_caller {
    std::shared_ptr<waiter> caller;
    asio::any_io_executor executor;
  };
  struct query_context {
    state* owner;  // outlives the query: ~state destroys the channel, which ends every query first
    std::string key;
  };
  // A socket c-ares opened. The descriptor only watches it: c-ares closes it, so it is released, never closed, here.
  struct socket_watch {
    socket_watch(const asio::strand<asio::any_io_executor>& strand, int native)
        : descriptor(strand, native), fd(native) {}
    asio::posix::stream_descriptor descriptor;
    int fd;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;
    bool writing = false;
    bool gone = false;
  };

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<state*>(data)->watch(fd, readable != 0, writable != 0);
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* answer) {
    const std::unique_ptr<query_context> context(static_cast<query_context*>(arg));
    outcome result;
    // c-ares TTLs are ints; this bound still fits steady_clock's nanoseconds.
    auto ttl = std::chrono::seconds(std::numeric_limits<int>::max());
    if (status == ARES_SUCCESS && answer != nullptr) {
      for (const auto* node = answer->nodes; node != nullptr; node = node->ai_next) {
        if (auto address = address_of(*node)) result.addresses.push_back(*address);
        ttl = std::min(ttl, std::chrono::seconds(std::max(node->ai_ttl, 0)));
      }
    }
    if (answer != nullptr) ares_freeaddrinfo(answer);
    if (status != ARES_SUCCESS)
      result.error = failure_reason(status);
    else if (result.addresses.empty())
      result.error = failure_reason(ARES_ENODATA);
    context->owner->finish(context->key, result, status, ttl);
  }

  void finish(const std::string& key, const outcome& result, int status, std::chrono::seconds record_ttl) {
    const auto pending = pending_.find(key);
    assert(pending != pending_.end());
    auto callers = std::move(pending->second);
    pending_.erase(pending);
    if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED) {
      const auto ttl = result.error.empty() ? std::min<clock_type::duration>(options_.answer_ttl, record_ttl)
                                            : clock_type::duration(options_.failure_ttl);
      if (ttl > clock_type::duration::zero()) remember(key, result, ttl);
    }
    // While ~state runs the io_context may be mid-shutdown: posting then could reach a dying scheduler, and the
    // callers are gone or about to be.
    if (destroying_) return;
    for (const auto& [caller, executor] : callers)
      deliver(caller, executor, result);
  }

  void remember(const std::string& key, const outcome& result, clock_type::duration ttl) {
    const auto now = clock_type::now();
    std::erase_if(cache_, [now](const auto& entry) { return entry.second.expires <= now; });
    cache_[key] = {result, now + ttl};
  }

  static void deliver(const std::shared_ptr<waiter>& caller, const asio::any_io_executor& executor, outcome result) {
    asio::post(executor, [caller, result = std::move(result)]() mutable {
      caller->done = true;
      caller->result = std::move(result);
      caller->timer.cancel();
    });
  }

  void watch(int fd, bool readable, bool writable) {
    const auto it = sockets_.find(fd);
    if (!readable && !writable) {
      if (it != sockets_.end()) {
        forget(*it->second);
        sockets_.erase(it);
      }
      return;
    }
    std::shared_ptr<socket_watch> entry;
    if (it != sockets_.end()) {
      entry = it->second;
    } else {
      try {
        entry = std::make_shared<socket_watch>(strand_, fd);
      } catch (const std::exception& e) {
        // Without a watch the query still ends, by c-ares's retry timeout.
        spdlog::warn("resolver: cannot watch a DNS socket: {}", e.what());
        return;
      }
      sockets_.emplace(fd, entry);
    }
    entry->want_read = readable;
    entry->want_write = writable;
    if (destroying_) return;
    arm(entry);
  }

  static void forget(socket_watch& watch) {
    watch.gone = true;
    (void)watch.descriptor.release();  // cancels its waits; c-ares closes the socket itself
  }

  void arm(const std::shared_ptr<socket_watch>& watch) {
    if (watch->want_read && !watch->reading) wait(watch, true);
    if (watch->want_write && !watch->writing) wait(watch, false);
    // Asio's reactor is edge-triggered and drops an edge that came while no wait was queued: a reply that arrived
    // after c-ares drained the socket and before the wait above would otherwise sit there until c-ares's retry.
    pollfd ready{watch->fd, static_cast<short>((watch->want_read ? POLLIN : 0) | (watch->want_write ? POLLOUT : 0)), 0};
    if (::poll(&ready, 1, 0) > 0 && ready.revents != 0) {
      const bool readable = (ready.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool writable = (ready.revents & POLLOUT) != 0;
      asio::post(strand_,
                 [self = shared_from_this(), watch, readable, writable] { self->process(watch, readable, writable); });
    }
  }

  // One wait for readability (`read`) or writability; its completion hands that direction to c-ares.
  void wait(const std::shared_ptr<socket_watch>& watch, bool read) {
    (read ? watch->reading : watch->writing) = true;
    const auto type = read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write;
    watch->descriptor.async_wait(type, [self = shared_from_this(), watch, read](const boost::system::error_code& ec) {
      (read ? watch->reading : watch->writing) = false;
      if (!ec) self->process(watch, read, !read);
    });
  }

  void process(const std::shared_ptr<socket_watch>& watch, bool readable, bool writable) {
    if (watch->gone || channel_ == nullptr) return;
    ares_process_fd(channel_, readable ? watch->fd : ARES_SOCKET_BAD, writable ? watch->fd : ARES_SOCKET_BAD);
    if (!watch->gone) arm(watch);
    schedule_timeouts();
  }

  // c-ares's retries and give-ups happen only when it is called: wake it when its next one is due.
  void schedule_timeouts() {
    if (channel_ == nullptr) return;
    timeval wait{};
    if (ares_timeout(channel_, nullptr, &wait) == nullptr) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(wait.tv_sec) + std::chrono::microseconds(wait.tv_usec));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->channel_ == nullptr) return;
      ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      self->schedule_timeouts();
    });
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  resolver_options options_;
  ares_channel channel_ = nullptr;
  bool destroying_ = false;
  std::unordered_map<std::string, cached> cache_;
  std::unordered_map<std::string, std::vector<pending_caller>> pending_;
  std::unordered_map<int, std::shared_ptr<socket_watch>> sockets_;
};

namespace {

asio::awaitable<resolve_result> resolve_with(std::shared_ptr<resolver::state> state, asio::any_io_executor executor,
                                             std::string host, std::uint16_t port, clock_type::time_point deadline) {
  resolve_result out;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    out.endpoints.emplace_back(address, port);
    co_return out;
  }
  auto caller = std::make_shared<waiter>(executor);
  caller->timer.expires_at(deadline);
  asio::post(state->strand(),
             [state, caller, executor, host = std::move(host)] { state->start(host, caller, executor); });
  co_await caller->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!caller->done) {
    out.error = "timeout";
    out.timed_out = true;
    co_return out;
  }
  out.error = std::move(caller->result.error);
  for (const auto& resolved : caller->result.addresses)
    out.endpoints.emplace_back(resolved, port);
  co_return out;
}

// The resolver's own strand must not sit on a caller's strand: it would serialise with that caller.
asio::any_io_executor without_strand(const asio::any_io_executor& executor) {
  if (const auto* strand = executor.target<asio::strand<asio::any_io_executor>>()) return strand->get_inner_executor();
  if (const auto* strand = executor.target<asio::strand<asio::io_context::executor_type>>())
    return strand->get_inner_executor();
  return executor;
}

// The resolver shared by everything on one execution context; closed when the context shuts down.
class shared_resolver final : public asio::execution_context::service {
public:
  using key_type = shared_resolver;
  // Asio's id() is an empty constructor: it cannot throw.
  static inline asio::execution_context::id id;  // NOLINT(cert-err58-cpp)

  explicit shared_resolver(asio::execution_context& context) : service(context) {}

  std::shared_ptr<resolver::state> get(const asio::any_io_executor& executor) {
    const std::lock_guard lock(mutex_);
    if (!state_) {
      state_ = std::make_shared<resolver::state>(without_strand(executor), resolver_options{});
    }
    return state_;
  }

private:
  void shutdown() override {
    const std::lock_guard lock(mutex_);
    // The context's threads have stopped: nothing else touches the channel now.
    if (state_) state_->close();
    state_.reset();
  }

  std::mutex mutex_;
  std::shared_ptr<resolver::state> state_;
};

}  // namespace

resolver::resolver(const asio::any_io_executor& executor, resolver_options options)
    : state_(std::make_shared<state>(executor, std::move(options))) {}

resolver::~resolver() {
  asio::post(state_->strand(), [state = state_] { state->close(); });
}

resolver_stats resolver::stats() const {
  return {state_->stats_.queries_started.load(std::memory_order_relaxed),
          state_->stats_.cache_hits.load(std::memory_order_relaxed),
          state_->stats_.joined.load(std::memory_order_relaxed)};
}

asio::awaitable<resolve_result> resolver::resolve(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                                  clock_type::time_point deadline) {
  return resolve_with(state_, std::move(executor), std::move(host), port, deadline);
}

asio::awaitable<resolve_result> resolve_within(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                               clock_type::time_point deadline) {
  auto state = asio::use_service<shared_resolver>(asio::query(executor, asio::execution::context)).get(executor);
  return resolve_with(std::move(state), std::move(executor), std::move(host), port, deadline);
}

}  // namespace healthd::io
