#pragma once
// Host name resolution with a deadline per lookup (c-ares, driven by Asio). Unrelated lookups never wait for each
// other: a black-holed name times out only the probes that use it. Answers are cached briefly; concurrent lookups of
// one name share one query. `/etc/hosts` entries and numeric addresses are answered without the network.
//
// Thread safety: resolve() may be called concurrently from any strand of a multi-threaded io_context; the c-ares
// channel is touched only on the resolver's own strand. Destroy a resolver before its io_context (as any I/O object);
// lookups still pending then are answered "resolve: Channel is being destroyed".
//
// Errors are values: "resolve: Host not found (authoritative)" (the name or its addresses do not exist),
// "resolve: <c-ares reason>" (servers unreachable, refused, gave up), or "timeout" with `timed_out` true when the
// caller's deadline passed first. A query still running at a deadline goes on and fills the cache.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace healthd::io {

struct resolve_result {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  std::string error;  // "resolve: Host not found (authoritative)", or "timeout"
  bool timed_out = false;
};

struct resolver_options {
  // DNS servers as "host[:port],..." ("127.0.0.1:5353,[::1]:53"); empty: those of /etc/resolv.conf. c-ares 1.18 has
  // no option for another hosts file: /etc/hosts is always consulted first.
  std::string servers;
  std::chrono::milliseconds answer_ttl{30'000};  // how long addresses are reused without asking again
  std::chrono::milliseconds failure_ttl{5'000};  // how long a failed lookup is answered from the cache
  // c-ares retries: each round waits twice as long as the one before, so with the defaults a server that never
  // answers ends the query (and its waiters' wait for the cache to fill) after 1 + 2 + 4 = 7 s per server.
  std::chrono::milliseconds attempt_timeout{1'000};
  int attempts = 3;
};

// Counters for tests and metrics; read on any thread.
struct resolver_stats {
  std::uint64_t queries_started = 0;  // c-ares queries sent for names not in the cache and not pending
  std::uint64_t cache_hits = 0;
  std::uint64_t joined = 0;  // lookups that waited for a query another caller had started
};

class resolver {
public:
  // `executor`: the io_context's (not a strand; the resolver makes its own on it). Throws std::invalid_argument when
  // `options.servers` cannot be parsed, std::runtime_error when c-ares cannot start (bad configuration stops the
  // daemon at start).
  explicit resolver(const boost::asio::any_io_executor& executor, resolver_options options = {});
  ~resolver();
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;

  // `host` with `port` as endpoints, answered on `executor`, which must be a strand or single-threaded (it is the
  // caller's: the coroutine never leaves it). At `deadline` the caller gets "timeout" at once.
  [[nodiscard]] boost::asio::awaitable<resolve_result> resolve(boost::asio::any_io_executor executor, std::string host,
                                                               std::uint16_t port,
                                                               std::chrono::steady_clock::time_point deadline);

  [[nodiscard]] resolver_stats stats() const;

  class state;  // shared with the queries that outlive a caller

private:
  std::shared_ptr<state> state_;
};

// The same with the resolver shared by everything on `executor`'s execution context (created on first use with the
// system's DNS servers, destroyed with the context). Until resolver objects are wired into probe_context, probes
// resolve through this.
[[nodiscard]] boost::asio::awaitable<resolve_result> resolve_within(boost::asio::any_io_executor executor,
                                                                    std::string host, std::uint16_t port,
                                                                    std::chrono::steady_clock::time_point deadline);

}  // namespace healthd::io
