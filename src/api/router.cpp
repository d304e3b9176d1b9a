#include "healthd/api/router.hpp"

#include "healthd/api/auth.hpp"
#include "healthd/api/views.hpp"
#include "healthd/core/exception_text.hpp"
#include "healthd/core/status.hpp"
#include "healthd/core/utf8.hpp"
#include "healthd/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <span>
#include <variant>

namespace healthd::api {

namespace {

// Metrics labels outside the table: from a fixed set, so that the label's cardinality stays bounded.
constexpr std::string_view route_static = "static";
constexpr std::string_view route_unmatched = "unmatched";
constexpr std::string_view route_heal = "/api/v1/platform/heal/{subsystem}";

// What the table's fallback (the static dashboard) answers to OPTIONS: the dashboard is read-only.
constexpr std::string_view allow_static = "GET, HEAD, OPTIONS";

constexpr std::chrono::seconds default_cap_retry_after{5};

std::shared_ptr<const std::string> shared_text(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// A pattern's segments are literal except a final "{name}", which matches one non-empty segment (returned, still
// percent-encoded). nullopt: no match.
std::optional<std::string_view> match_pattern(std::string_view pattern, std::string_view path) {
  const auto open = pattern.find('{');
  if (open == std::string_view::npos) {
    if (path == pattern) return std::string_view{};
    return std::nullopt;
  }
  const auto literal = pattern.substr(0, open);
  if (!path.starts_with(literal)) return std::nullopt;
  const auto param = path.substr(literal.size());
  if (param.empty() || param.find('/') != std::string_view::npos) return std::nullopt;
  return param;
}

// A document answer: 304 when the client already holds this version, else the cached bytes with their tag.
http_response document_response(const http_request& request, const rendered_document& document) {
  if (const auto tags = request.header("If-None-Match"); tags && etag_matches(*tags, document.etag)) {
    http_response response;
    response.status = 304;
    response.headers = {{"ETag", document.etag}, {"Cache-Control", "no-store"}};
    return response;
  }
  auto response = json_response(200, document.body);
  response.set_header("ETag", document.etag);
  return response;
}

// Decimal digits only, at least 1; nullopt for anything else (signs, spaces, overflow, zero).
std::optional<std::uint64_t> positive_integer(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

// Runs `work` to completion on the caller's executor, independently of the caller: the answer when it completes
// within `deadline`, else nullopt, and then `late` gets the result when it comes. `work` is never cancelled (a heal
// is not interrupted half-way); it and `late` must not reference what the caller may destroy once it has returned.
// An exception from `work` reaches the caller when in time, else it is logged.
template <typename T>
boost::asio::awaitable<std::optional<T>> run_within(boost::asio::awaitable<T> work, std::chrono::milliseconds deadline,
                                                    std::function<void(const T&)> late) {
  struct race {
    explicit race(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    bool given_up = false;
    std::function<void(const T&)> late;
  };
  const auto executor = co_await boost::asio::this_coro::executor;
  auto shared = std::make_shared<race>(executor);
  shared->late = std::move(late);
  shared->timer.expires_after(deadline);
  // On the caller's executor (a connection's strand), so the completion and the wait below never run at once.
  boost::asio::co_spawn(executor, std::move(work), [shared](const std::exception_ptr& error, T value) {
    shared->done = true;
    shared->error = error;
    if (!shared->error) shared->result = std::move(value);
    shared->timer.cancel();
    if (!shared->given_up) return;
    if (shared->error) {
      spdlog::error("a request's background work ended with an exception: {}", exception_text(shared->error));
    } else if (shared->late) {
      shared->late(*shared->result);
    }
  });
  (void)co_await shared->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (!shared->done) {
    shared->given_up = true;
    co_return std::nullopt;
  }
  if (shared->error) std::rethrow_exception(shared->error);
  co_return std::move(shared->result);
}

// 504 heal_timeout with the ids of the entries the heal wrote so far (ids from `first_id` on, of this subsystem).
http_response heal_timeout_response(const std::string& subsystem, std::chrono::milliseconds deadline,
                                    const healthd::healing_log& log, std::uint64_t first_id) {
  healthd::healing_query query;
  query.limit = log.capacity();
  query.subsystem = subsystem;
  query.since_id = first_id - 1;
  std::vector<std::uint64_t> ids;
  for (const auto& entry : log.query(query))
    ids.push_back(entry.id);
  std::sort(ids.begin(), ids.end());
  auto body = error_json("heal_timeout", "the heal of " + subsystem + " did not finish within " +
                                             std::to_string(deadline.count()) +
                                             " ms; it goes on and its entries appear in the healing log");
  body["error"]["entry_ids"] = ids;
  return json_response(504, shared_text(json_text(body)));
}

}  // namespace

std::chrono::milliseconds heal_deadline(const config::subsystem_config& subsystem, std::chrono::milliseconds margin) {
  int longest_action_ms = 0;
  for (const auto& action : subsystem.heal.actions)
    longest_action_ms = std::max(longest_action_ms, action.timeout_ms);
  return std::chrono::milliseconds{longest_action_ms} + std::chrono::milliseconds{subsystem.probe.timeout_ms} + margin;
}

http_response heal_outcome_response(const manual_heal_outcome& outcome) {
  if (const auto* done = std::get_if<manual_heal_done>(&outcome)) {
    return json_response(200, shared_text(json_text(heal_done_json(*done))));
  }
  const auto& refused = std::get<manual_heal_refused>(outcome);
  const auto answer = [&](int status, std::string_view code, std::string_view fallback) {
    auto response = error_response(status, code, refused.message.empty() ? fallback : refused.message);
    if (refused.retry_after) response.set_header("Retry-After", std::to_string(refused.retry_after->count()));
    return response;
  };
  // Every 503 says when to come back.
  const auto unavailable = [](http_response response) {
    if (!response.header("Retry-After")) {
      response.set_header("Retry-After", std::to_string(default_cap_retry_after.count()));
    }
    return response;
  };
  switch (refused.reason) {
    case heal_refusal::unknown_subsystem: return answer(404, "not_found", "unknown subsystem");
    case heal_refusal::heal_in_progress: return answer(409, "heal_in_progress", "a heal of this subsystem is running");
    case heal_refusal::dependency_critical:
      return answer(409, "dependency_critical", "a dependency of this subsystem is critical");
    case heal_refusal::no_heal_actions: return answer(409, "no_heal_actions", "the subsystem has no heal actions");
    case heal_refusal::platform_cap_full:
      return unavailable(answer(503, "platform_cap_full", "the platform-wide limit of concurrent heals is reached"));
    case heal_refusal::audit_write_failed:
      return answer(500, "audit_write_failed", "the heal ran but its audit entry could not be written");
    case heal_refusal::shutting_down: return unavailable(answer(503, "shutting_down", "the daemon is shutting down"));
    // A forced heal bypasses the automatic limits; these answer other triggers (log rules) that share this mapping.
    case heal_refusal::hourly_limit: return answer(429, "hourly_limit", "the hourly heal limit is reached");
    case heal_refusal::cooldown: return answer(429, "cooldown", "the heal cooldown is running");
    case heal_refusal::healing_mode: return answer(409, "healing_mode", "healing.mode does not allow this heal");
  }
  return error_response(500, "internal_error", "unknown heal refusal");
}

router::router(router_context context, router_options options)
    : context_(std::move(context)),
      options_(std::move(options)),
      cors_(options_.cors_origins),
      site_(std::make_shared<static_site_store>(options_.static_dir)),
      admin_heals_(options_.admin_heals_per_window, options_.admin_heal_window) {
  if (options_.version.empty()) options_.version = std::string(version_string);
  if (options_.static_dir.empty()) return;
  const auto report = site_->load();
  if (report.replaced) {
    spdlog::info("dashboard: {}", report.message);
  } else {
    spdlog::warn("{}", report.message);
  }
}

std::uint64_t router::renders_for_test() const {
  return platform_documents_.renders_for_test() + log_documents_.renders_for_test();
}

struct router::route {
  std::string_view method;   // GET (which serves HEAD too) or POST
  std::string_view pattern;  // also the metrics label
  std::variant<sync_handler, awaiting_handler> handler;
};

std::span<const router::route> router::routes() {
  // Every route, declared once. 405's Allow header and the CORS preflight's allowed methods come from here.
  static const std::array<route, 9> table{{
      {"GET", "/api/v1/platform/health", &router::health},
      {"GET", "/api/v1/platform/circuit-breakers", &router::circuit_breakers},
      {"GET", "/api/v1/platform/healing-log", &router::healing_log},
      {"GET", "/api/v1/platform/subsystems/{name}", &router::subsystem},
      {"POST", route_heal, &router::heal},
      {"GET", "/metrics", &router::metrics},
      {"GET", "/livez", &router::livez},
      {"GET", "/readyz", &router::readyz},
      {"GET", "/", &router::root},
  }};
  return table;
}

namespace {

// The methods the table lists for `pattern`, in a fixed order: "GET, HEAD, POST, OPTIONS" at most.
std::string allowed_methods(std::string_view pattern) {
  bool get = false;
  bool post = false;
  for (const auto& r : router::routes()) {
    if (r.pattern != pattern) continue;
    get = get || r.method == "GET";
    post = post || r.method == "POST";
  }
  std::string allow;
  if (get) allow += "GET, HEAD, ";
  if (post) allow += "POST, ";
  return allow + "OPTIONS";
}

bool serves(std::string_view route_method, std::string_view method) {
  return method == route_method || (route_method == "GET" && method == "HEAD");
}

}  // namespace

boost::asio::awaitable<http_response> router::handle(http_request request) {
  const auto target = parse_target(request.target);
  http_response response;
  if (!target) {
    response = error_response(400, "bad_request", "malformed request target");
  } else {
    const router::route* matched = nullptr;
    const router::route* chosen = nullptr;
    std::string_view param;
    for (const auto& r : router::routes()) {
      const auto found = match_pattern(r.pattern, target->path);
      if (!found) continue;
      matched = &r;
      param = *found;
      if (serves(r.method, request.method)) {
        chosen = &r;
        break;
      }
    }
    if (matched == nullptr) {
      response = unmatched(request, *target);
    } else if (request.method == "OPTIONS") {
      response = cors_.preflight(request, allowed_methods(matched->pattern));
    } else if (chosen == nullptr) {
      response = error_response(405, "method_not_allowed", "method " + request.method + " not allowed here");
      response.set_header("Allow", allowed_methods(matched->pattern));
    } else if (const auto* sync = std::get_if<sync_handler>(&chosen->handler)) {
      response = (this->**sync)(request, *target, param);
    } else {
      // Arguments are bound before co_await: GCC 12 mishandles temporaries that live across a suspension.
      auto pending = (this->*std::get<awaiting_handler>(chosen->handler))(request, std::string(param));
      response = co_await std::move(pending);
    }
    if (matched != nullptr) response.route = matched->pattern;
  }
  if (request.method == "HEAD") response.omit_body = true;
  cors_.decorate(request, response);
  co_return response;
}

http_response router::unmatched(const http_request& request, const parsed_target& target) {
  if (target.path.starts_with("/api/")) {
    auto response = error_response(404, "not_found", "no such API route");
    response.route = route_unmatched;
    return response;
  }
  auto response = request.method == "OPTIONS" ? cors_.preflight(request, allow_static) : static_file(request, target);
  response.route = route_static;
  return response;
}

http_response router::livez(const http_request& /*request*/, const parsed_target& /*target*/,
                            std::string_view /*param*/) {
  static const auto alive = shared_text(R"({"status":"alive"})");
  return json_response(200, alive);
}

http_response router::root(const http_request& request, const parsed_target& target, std::string_view /*param*/) {
  // 302 to the dashboard's page, or 404 naming the API when no dashboard is loaded (serve_static).
  return static_file(request, target);
}

http_response router::health(const http_request& request, const parsed_target& /*target*/, std::string_view /*param*/) {
  const auto version = context_.state.version();
  const auto document = platform_documents_.get(
      "health", version, [&] { return json_text(health_json(context_.state.view(), options_.version)); });
  return document_response(request, *document);
}

http_response router::circuit_breakers(const http_request& request, const parsed_target& /*target*/,
                                       std::string_view /*param*/) {
  const auto version = context_.state.version();
  const auto document = platform_documents_.get(
      "circuit-breakers", version, [&] { return json_text(breakers_json(context_.breakers.snapshots())); });
  return document_response(request, *document);
}

http_response router::healing_log(const http_request& request, const parsed_target& target,
                                  std::string_view /*param*/) {
  healthd::healing_query query;
  const auto capacity = context_.log.capacity();
  if (const auto it = target.query.find("limit"); it != target.query.end()) {
    const auto limit = positive_integer(it->second);
    if (!limit) return error_response(400, "bad_request", "limit must be a positive integer");
    query.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*limit, capacity));
  }
  query.limit = std::min(query.limit, capacity);
  if (const auto it = target.query.find("since_id"); it != target.query.end()) {
    const auto since = positive_integer(it->second);
    if (!since) return error_response(400, "bad_request", "since_id must be a positive integer");
    query.since_id = *since;
  }
  if (const auto it = target.query.find("subsystem"); it != target.query.end()) {
    if (it->second.empty()) return error_response(400, "bad_request", "subsystem must not be empty");
    query.subsystem = it->second;
  }
  std::string key = "limit=" + std::to_string(query.limit);
  if (query.since_id) key += "&since_id=" + std::to_string(*query.since_id);
  if (query.subsystem) key += "&subsystem=" + *query.subsystem;
  const auto version = context_.log.last_id();
  const auto document = log_documents_.get(
      key, version, [&] { return json_text(healing_log_json(capacity, context_.log.query(query))); });
  return document_response(request, *document);
}

http_response router::subsystem(const http_request& request, const parsed_target& /*target*/,
                                std::string_view encoded_name) {
  const auto name = percent_decode(encoded_name);
  if (!name) return error_response(404, "not_found", "no such subsystem");
  const auto version = context_.state.version();
  const auto key = "subsystems/" + *name;
  auto document = platform_documents_.find(key, version);
  if (!document) {
    // Checked only on a miss: a cached document at the current version is of a subsystem that still exists, since
    // a reload moves the version. Unknown names are never cached, so guessing names evicts nothing.
    if (context_.state.config()->find_subsystem(*name) == nullptr) {
      return error_response(404, "not_found", "no such subsystem");
    }
    bool gone = false;
    document = platform_documents_.get(key, version, [&] {
      const auto view = context_.state.subsystem(*name);
      // Removed by a reload since the check above: this version is already stale, so it is never served.
      if (!view) {
        gone = true;
        return std::string("{}");
      }
      return json_text(subsystem_detail_json(*view, context_.state.history(*name)));
    });
    if (gone) return error_response(404, "not_found", "no such subsystem");
  }
  return document_response(request, *document);
}

http_response router::metrics(const http_request& /*request*/, const parsed_target& /*target*/,
                              std::string_view /*param*/) {
  const auto view = context_.state.view();
  const auto breakers = context_.breakers.snapshots();
  const auto heals = context_.log.counts();
  const auto http = context_.metrics.read();
  const auto daemon = context_.counters ? context_.counters() : daemon_counters{};
  auto response =
      json_response(200, shared_text(render_metrics({view, breakers, heals, http, daemon, options_.version})));
  response.set_header("Content-Type", std::string(metrics_content_type));
  return response;
}

http_response router::readyz(const http_request& /*request*/, const parsed_target& /*target*/,
                             std::string_view /*param*/) {
  const auto view = context_.state.view();
  std::vector<std::string> pending;
  for (const auto& s : view.subsystems) {
    if (s.status == health_status::pending) pending.push_back(s.name);
  }
  if (pending.empty()) {
    static const auto ready = shared_text(R"({"status":"ready"})");
    return json_response(200, ready);
  }
  return error_response(503, "not_ready", "waiting for the first probe result of: " + join_names(pending));
}

http_response router::static_file(const http_request& request, const parsed_target& target) const {
  // The set is taken once: a reload meanwhile swaps in another without touching this answer's bytes.
  const auto site = site_->current();
  return serve_static(site.get(), request, target.path);
}

std::optional<http_response> router::admit_heal(const http_request& request, const std::string& subsystem,
                                                std::string& reason) {
  switch (check_admin(request.header("Authorization"), options_.admin_token)) {
    case admin_auth::granted: break;
    case admin_auth::disabled: return error_response(403, "admin_disabled", "admin endpoint disabled");
    case admin_auth::wrong: return error_response(403, "forbidden", "invalid admin token");
    case admin_auth::missing: {
      auto response = error_response(401, "unauthorized", "missing bearer token");
      response.set_header("WWW-Authenticate", R"(Bearer realm="platform-healthd")");
      return response;
    }
  }
  if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error_response(400, "bad_request", R"(the body must be a JSON object like {"reason":"..."})");
    }
    for (const auto& [key, value] : body.items()) {
      if (key != "reason") return error_response(400, "bad_request", R"(the only field allowed is "reason")");
      if (!value.is_string()) return error_response(400, "bad_request", "reason must be a string");
      reason = value.get<std::string>();
    }
    if (reason.size() > options_.max_reason_length) {
      return error_response(400, "bad_request",
                            "reason must be at most " + std::to_string(options_.max_reason_length) + " bytes");
    }
  }
  if (context_.state.config()->find_subsystem(subsystem) == nullptr) {
    return error_response(404, "not_found", "no such subsystem");
  }
  if (context_.heal == nullptr) return error_response(503, "engine_unavailable", "the healing engine is not running");
  if (const auto rate = admin_heals_.try_acquire(context_.time.now().steady); !rate.allowed) {
    auto response = error_response(429, "rate_limited", "too many admin heals; try again later");
    response.set_header("Retry-After", std::to_string(rate.retry_after.count()));
    return response;
  }
  return std::nullopt;
}

boost::asio::awaitable<http_response> router::heal(http_request request, std::string encoded_subsystem) {
  const auto name = percent_decode(encoded_subsystem);
  if (!name || name->empty() || name->find('/') != std::string::npos) {
    co_return error_response(404, "not_found", "no such route");
  }
  const auto& subsystem = *name;
  std::string reason;
  if (auto refused = admit_heal(request, subsystem, reason)) co_return std::move(*refused);
  const auto* config = context_.state.config()->find_subsystem(subsystem);
  const auto deadline =
      config != nullptr ? heal_deadline(*config, options_.heal_deadline_margin) : options_.heal_deadline_margin;
  spdlog::info("manual heal of {} requested{}{}", subsystem, reason.empty() ? "" : ": ", reason);
  const auto first_id = context_.log.last_id() + 1;
  // The heal holds only the engine and copies: past the deadline it goes on after this handler (and maybe the
  // router) is gone, and the engine logs its entries when it ends. Named locals: see handle().
  std::function<void(const manual_heal_outcome&)> on_late = [subsystem](const manual_heal_outcome& late) {
    spdlog::warn("manual heal of {} ended after its request timed out: {}", subsystem,
                 heal_outcome_response(late).status);
  };
  auto work = context_.heal->heal({subsystem, reason});
  auto pending = run_within(std::move(work), deadline, std::move(on_late));
  const auto outcome = co_await std::move(pending);
  if (!outcome) {
    auto response = heal_timeout_response(subsystem, deadline, context_.log, first_id);
    spdlog::warn("manual heal of {} answered 504 after {} ms; it goes on", subsystem, deadline.count());
    co_return response;
  }
  auto response = heal_outcome_response(*outcome);
  spdlog::info("manual heal of {} answered {}", subsystem, response.status);
  co_return response;
}

}  // namespace healthd::api
