#include "healthd/api/router.hpp"

#include "healthd/api/auth.hpp"
#include "healthd/api/views.hpp"
#include "healthd/core/status.hpp"
#include "healthd/core/utf8.hpp"
#include "healthd/version.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <variant>

namespace healthd::api {

namespace {

// Route templates: the metrics label of each route, from a fixed set so its cardinality stays bounded.
constexpr std::string_view route_health = "/api/v1/platform/health";
constexpr std::string_view route_breakers = "/api/v1/platform/circuit-breakers";
constexpr std::string_view route_healing_log = "/api/v1/platform/healing-log";
constexpr std::string_view route_subsystem = "/api/v1/platform/subsystems/{name}";
constexpr std::string_view route_heal = "/api/v1/platform/heal/{subsystem}";
constexpr std::string_view route_metrics = "/metrics";
constexpr std::string_view route_livez = "/livez";
constexpr std::string_view route_readyz = "/readyz";
constexpr std::string_view route_root = "/";
constexpr std::string_view route_static = "static";
constexpr std::string_view route_unmatched = "unmatched";

constexpr std::string_view allow_get = "GET, HEAD, OPTIONS";
constexpr std::string_view allow_post = "POST, OPTIONS";

constexpr std::chrono::seconds default_cap_retry_after{5};

std::shared_ptr<const std::string> shared_text(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

bool method_allowed(std::string_view method, std::string_view allow) {
  if (method == "GET" || method == "HEAD") return allow == allow_get;
  if (method == "POST") return allow == allow_post;
  return method == "OPTIONS";
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

}  // namespace

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

boost::asio::awaitable<http_response> router::handle(http_request request) {
  const auto target = parse_target(request.target);
  http_response response;
  if (!target) {
    response = error_response(400, "bad_request", "malformed request target");
  } else if (request.method == "POST" && target->path.starts_with(std::string(api_prefix) + "/heal/")) {
    const auto name = percent_decode(std::string_view(target->path).substr(api_prefix.size() + 6));
    if (!name || name->empty() || name->find('/') != std::string::npos) {
      response = error_response(404, "not_found", "no such route");
      response.route = route_heal;
    } else {
      // Arguments are bound before co_await: GCC 12 mishandles temporaries that live across a suspension.
      auto pending = heal(request, *name);
      response = co_await std::move(pending);
    }
  } else {
    response = route(request, *target);
  }
  if (request.method == "HEAD") response.omit_body = true;
  cors_.decorate(request, response);
  co_return response;
}

http_response router::route(const http_request& request, const parsed_target& target) {
  const std::string_view path = target.path;
  std::string_view label = route_unmatched;
  std::string_view allow = allow_get;
  if (path.starts_with(api_prefix) && (path.size() == api_prefix.size() || path[api_prefix.size()] == '/')) {
    const auto rest = path.substr(api_prefix.size());
    if (rest == "/health") {
      label = route_health;
    } else if (rest == "/circuit-breakers") {
      label = route_breakers;
    } else if (rest == "/healing-log") {
      label = route_healing_log;
    } else if (rest.starts_with("/subsystems/")) {
      label = route_subsystem;
    } else if (rest.starts_with("/heal/")) {
      label = route_heal;
      allow = allow_post;
    } else {
      return error_response(404, "not_found", "no such API route");
    }
  } else if (path == route_metrics || path == route_livez || path == route_readyz) {
    label = path == route_metrics ? route_metrics : path == route_livez ? route_livez : route_readyz;
  } else if (path == "/") {
    label = route_root;
  } else if (path.starts_with("/api/")) {
    return error_response(404, "not_found", "no such API route");
  } else {
    label = route_static;
  }

  http_response response;
  if (request.method == "OPTIONS") {
    response = cors_.preflight(request, allow);
  } else if (!method_allowed(request.method, allow) && label != route_static) {
    response = error_response(405, "method_not_allowed", "method " + request.method + " not allowed here");
    response.set_header("Allow", std::string(allow));
  } else if (label == route_health) {
    response = health(request);
  } else if (label == route_breakers) {
    response = circuit_breakers(request);
  } else if (label == route_healing_log) {
    response = healing_log(request, target);
  } else if (label == route_subsystem) {
    response = subsystem(request, path.substr(api_prefix.size() + std::string_view("/subsystems/").size()));
  } else if (label == route_metrics) {
    response = metrics();
  } else if (label == route_livez) {
    static const auto alive = shared_text(R"({"status":"alive"})");
    response = json_response(200, alive);
  } else if (label == route_readyz) {
    response = readyz();
  } else {
    response = static_file(request, target);
  }
  response.route = label;
  return response;
}

http_response router::health(const http_request& request) {
  const auto version = context_.state.version();
  const auto document = platform_documents_.get(
      "health", version, [&] { return json_text(health_json(context_.state.view(), options_.version)); });
  return document_response(request, document);
}

http_response router::circuit_breakers(const http_request& request) {
  const auto version = context_.state.version();
  const auto document = platform_documents_.get(
      "circuit-breakers", version, [&] { return json_text(breakers_json(context_.breakers.snapshots())); });
  return document_response(request, document);
}

http_response router::healing_log(const http_request& request, const parsed_target& target) {
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
  return document_response(request, document);
}

http_response router::subsystem(const http_request& request, std::string_view encoded_name) {
  const auto name = percent_decode(encoded_name);
  const auto config = context_.state.config();
  if (!name || config->find_subsystem(*name) == nullptr) {
    return error_response(404, "not_found", "no such subsystem");
  }
  const auto version = context_.state.version();
  bool gone = false;
  const auto document = platform_documents_.get("subsystems/" + *name, version, [&] {
    const auto view = context_.state.subsystem(*name);
    // Removed by a reload since the check above: this version is already stale, so the placeholder is never served.
    if (!view) {
      gone = true;
      return std::string("{}");
    }
    return json_text(subsystem_detail_json(*view, context_.state.history(*name)));
  });
  if (gone) return error_response(404, "not_found", "no such subsystem");
  return document_response(request, document);
}

http_response router::metrics() const {
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

http_response router::readyz() const {
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

boost::asio::awaitable<http_response> router::heal(http_request request, std::string subsystem) {
  std::string reason;
  auto response = admit_heal(request, subsystem, reason);
  if (!response) {
    spdlog::info("manual heal of {} requested{}{}", subsystem, reason.empty() ? "" : ": ", reason);
    auto pending = context_.heal->heal({subsystem, reason});  // bound first: see handle()
    const auto outcome = co_await std::move(pending);
    response = heal_outcome_response(outcome);
    spdlog::info("manual heal of {} answered {}", subsystem, response->status);
  }
  response->route = route_heal;
  co_return std::move(*response);
}

}  // namespace healthd::api
