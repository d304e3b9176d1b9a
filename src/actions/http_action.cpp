// http: one request (e.g. a feed refresh or a model reload endpoint) on a fresh connection; success when the status
// matches expect_status.

#include "healthd/io/http_client.hpp"
#include "healthd/io/url.hpp"

#include "action_support.hpp"

#include <memory>
#include <string>

namespace healthd::actions::detail {

namespace {

class http final : public action {
public:
  http(const config::action_config& config, const action_context& context)
      : options_(options_as<config::http_action>(config)),
        timeout_ms_(config.timeout_ms),
        executor_(context.executor),
        secrets_(context.secrets) {
    const auto url = io::parse_url(options_.url);
    if (!url) throw action_config_error("http action: url must be http(s)://host[:port]/...");
    // Loaded here, at config load, so that a run never reads a CA bundle on an I/O thread.
    if (url->tls()) {
      try {
        tls_ = io::make_tls_context({options_.ca_file, options_.insecure_skip_verify});
      } catch (const io::tls_context_error& e) {
        throw action_config_error(std::string("http action: ") + e.what());
      }
    }
  }

  boost::asio::awaitable<action_outcome> run() override {
    io::http_request request;
    request.method = options_.method;
    request.url = options_.url;
    request.headers = options_.headers;
    request.body = options_.body;
    request.timeout = std::chrono::milliseconds{timeout_ms_};
    request.tls = tls_;
    request.max_body_bytes = 4096;
    const auto outcome = co_await io::send_http_request(executor_, std::move(request));
    action_outcome result;
    if (!outcome.ok()) {
      result.message = outcome.error;
    } else {
      const int status = outcome.response->status;
      result.success = io::status_matches(status, options_.expect_status);
      result.message = "HTTP " + std::to_string(status);
      if (!result.success) result.message += " (expected " + io::describe_statuses(options_.expect_status) + ")";
    }
    result.message = secrets_.sanitize(result.message);
    co_return result;
  }

private:
  config::http_action options_;
  std::shared_ptr<const io::tls_context> tls_;  // https only
  int timeout_ms_;
  boost::asio::any_io_executor executor_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<action> make_http_action(const config::action_config& config, const action_context& context) {
  return std::make_unique<http>(config, context);
}

}  // namespace healthd::actions::detail
