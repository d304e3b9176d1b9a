#include "healthd/io/resolver.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace healthd::io {

namespace asio = boost::asio;

class resolver::state {};

resolver::resolver(const asio::any_io_executor& /*executor*/, resolver_options /*options*/)
    : state_(std::make_shared<state>()) {}
resolver::~resolver() = default;

resolver_stats resolver::stats() const { return {}; }

asio::awaitable<resolve_result> resolver::resolve(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                                  std::chrono::steady_clock::time_point deadline) {
  return resolve_within(std::move(executor), std::move(host), port, deadline);
}

asio::awaitable<resolve_result> resolve_within(asio::any_io_executor executor, std::string host, std::uint16_t port,
                                               std::chrono::steady_clock::time_point deadline) {
  resolve_result out;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    out.endpoints.emplace_back(address, port);
    co_return out;
  }
  struct shared_state {
    explicit shared_state(const asio::any_io_executor& ex) : timer(ex), resolver(ex) {}
    asio::steady_timer timer;
    asio::ip::tcp::resolver resolver;
    bool done = false;
    resolve_result result;
  };
  auto state = std::make_shared<shared_state>(executor);
  state->timer.expires_at(deadline);
  asio::co_spawn(
      executor,
      [state, host, port]() -> asio::awaitable<void> {
        auto [error, results] =
            co_await state->resolver.async_resolve(host, std::to_string(port), asio::as_tuple(asio::use_awaitable));
        if (error) {
          state->result.error = "resolve: " + error.message();
        } else {
          for (const auto& entry : results)
            state->result.endpoints.push_back(entry.endpoint());
          if (state->result.endpoints.empty()) state->result.error = "resolve: no address for " + host;
        }
        state->done = true;
        state->timer.cancel();
      },
      [](const std::exception_ptr&) {});
  co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!state->done) {
    state->resolver.cancel();
    out.error = "timeout";
    out.timed_out = true;
    co_return out;
  }
  co_return std::move(state->result);
}

}  // namespace healthd::io
