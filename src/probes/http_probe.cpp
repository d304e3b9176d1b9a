// The http probe: one request through io::http_client (keep-alive), judged by judge_http (http_checks.hpp).

#include "healthd/io/http_client.hpp"
#include "healthd/io/url.hpp"
#include "healthd/probes/http_checks.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <chrono>
#include <memory>
#include <utility>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

class http_check final : public probe {
public:
  http_check(const config::probe_config& config, const probe_context& context)
      : config_(config),
        options_(options_as<config::http_probe>(config)),
        client_(context.executor),
        secrets_(context.secrets) {
    const auto url = io::parse_url(options_.url);
    if (!url || url->scheme == "ws" || url->scheme == "wss")
      throw_config_error(config.type, "url must be http:// or https://");
    if (options_.max_body_bytes <= 0) throw_config_error(config.type, "max_body_bytes must be positive");
    tls_ = tls_for(*url, config.type, {options_.ca_file, options_.insecure_skip_verify});
  }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    io::http_request request;
    request.method = options_.method;
    request.url = options_.url;
    request.headers = options_.headers;
    request.body = options_.body;
    request.timeout = std::chrono::milliseconds(config_.timeout_ms);
    request.tls = tls_;
    request.max_body_bytes = static_cast<std::size_t>(options_.max_body_bytes);
    auto outcome = co_await client_.send(std::move(request));
    co_return finish(judge_http(options_, outcome, std::chrono::system_clock::now()), watch, config_, secrets_);
  }

  void reconnect() override { client_.reset(); }

private:
  config::probe_config config_;
  config::http_probe options_;
  std::shared_ptr<const io::tls_context> tls_;
  io::http_client client_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<probe> make_http_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<http_check>(config, context);
}

}  // namespace healthd::probes::detail
