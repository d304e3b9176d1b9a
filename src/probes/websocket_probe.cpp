// The websocket probe: handshake, ping/pong and an optional message exchange through io::check_websocket.

#include "healthd/core/time_format.hpp"
#include "healthd/io/http_client.hpp"
#include "healthd/io/url.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <chrono>
#include <memory>
#include <utility>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

class websocket_check final : public probe {
public:
  websocket_check(const config::probe_config& config, const probe_context& context)
      : config_(config),
        options_(options_as<config::websocket_probe>(config)),
        executor_(context.executor),
        secrets_(context.secrets) {
    const auto url = io::parse_url(options_.url);
    if (!url || (url->scheme != "ws" && url->scheme != "wss"))
      throw_config_error(config.type, "url must be ws:// or wss://");
    tls_ = tls_for(*url, config.type, {options_.ca_file, options_.insecure_skip_verify});
  }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    io::websocket_request request;
    request.url = options_.url;
    request.headers = options_.headers;
    request.send = options_.send;
    request.expect = options_.expect;
    request.timeout = std::chrono::milliseconds(config_.timeout_ms);
    request.tls = tls_;
    const auto answer = co_await io::check_websocket(executor_, std::move(request));
    co_return finish(judge(answer), watch, config_, secrets_);
  }

private:
  probe_result judge(const io::websocket_outcome& answer) const {
    nlohmann::json details = nlohmann::json::object();
    if (answer.certificate_expiry) details["certificate_expires"] = format_rfc3339_ms(*answer.certificate_expiry);
    if (!answer.ok) return critical(answer.error, details);
    probe_result result;
    result.status = probe_status::healthy;
    result.message = options_.send || options_.expect ? "reply received, pong received" : "pong received";
    if (!answer.reply.empty()) details["reply"] = answer.reply;
    result.details = std::move(details);
    return result;
  }

  config::probe_config config_;
  config::websocket_probe options_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<const io::tls_context> tls_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<probe> make_websocket_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<websocket_check>(config, context);
}

}  // namespace healthd::probes::detail
