// Subsystem probes, one reader per probe type, and the parts actions of the same protocol share (redis endpoint,
// expect_status, TLS, headers).

#include "secret_rules.hpp"
#include "sections.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <system_error>

namespace healthd::config::detail {

namespace {

constexpr int min_status = 100;
constexpr int max_status = 599;

status_range read_status_item(const json& value, const std::string& path) {
  const std::string expected = "expected a status code 100..599 or a range string such as \"200-299\"";
  if (value.is_number()) {
    const auto code = static_cast<int>(as_integer(value, path, min_status, max_status));
    return {code, code};
  }
  if (!value.is_string()) fail(path, expected + ", got " + std::string(type_name(value)));
  const auto text = value.get<std::string>();
  const auto parse_code = [&](std::string_view part) {
    int code = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), code);
    if (part.empty() || ec != std::errc{} || end != part.data() + part.size() || code < min_status || code > max_status)
      fail(path, expected);
    return code;
  };
  const auto dash = text.find('-');
  const std::string_view view(text);
  const auto low = parse_code(view.substr(0, dash));
  const auto high = dash == std::string::npos ? low : parse_code(view.substr(dash + 1));
  if (low > high) fail(path, expected + " (low end first)");
  return {low, high};
}

}  // namespace

std::vector<status_range> read_expect_status(const json& value, const std::string& path) {
  if (!value.is_array()) return {read_status_item(value, path)};
  if (value.empty()) fail(path, "expected at least one status code or range");
  std::vector<status_range> out;
  for (std::size_t i = 0; i < value.size(); ++i)
    out.push_back(read_status_item(value[i], index_path(path, i)));
  return out;
}

std::string read_type(const json& value, const std::string& path, std::span<const std::string_view> known,
                      std::string_view what, const context& ctx) {
  expect_object(value, path);
  const auto type_path = child_path(path, "type");
  const auto it = value.find("type");
  if (it == value.end()) fail(type_path, "missing required key (expected one of: " + join(known) + ")");
  auto type = as_string(*it, type_path);
  if (std::find(known.begin(), known.end(), type) == known.end())
    fail(type_path, "unknown " + std::string(what) + " type " + quoted(type, ctx) + " (known: " + join(known) + ")");
  return type;
}

void add_conninfo_password(std::string_view conninfo, context& ctx) {
  if (auto password = conninfo_password(conninfo)) ctx.secrets.add(std::move(*password));
}

redis_probe read_redis_endpoint(object_reader& r, context& ctx) {
  redis_probe p;
  r.read("host", p.host);
  check_non_empty(p.host, r.path_of("host"), "a host name or address");
  r.read("port", p.port, 1, max_port);
  r.read("password_env", p.password_env);
  if (p.password_env) {
    check_env_name(*p.password_env, r.path_of("password_env"));
    if (auto password = ctx.env(*p.password_env)) ctx.secrets.add(std::move(*password));
  }
  r.read("db", p.db, 0, max_port);
  return p;
}

void read_tls(object_reader& r, std::optional<std::string>& ca_file, bool& insecure_skip_verify) {
  read_optional_non_empty(r, "ca_file", ca_file, "a file path");
  r.read("insecure_skip_verify", insecure_skip_verify);
}

void read_headers(object_reader& r, std::map<std::string, std::string>& headers, context& ctx) {
  r.read("headers", headers);
  check_headers(headers, r.path_of("headers"));
  add_header_secrets(headers, ctx.secrets);
}

namespace {

postgres_probe read_postgres_probe(object_reader& r, context& ctx) {
  postgres_probe p;
  p.conninfo = required_string(r, "conninfo", "a libpq connection string");
  add_conninfo_password(p.conninfo, ctx);
  r.read("query", p.query);
  check_non_empty(p.query, r.path_of("query"), "an SQL query");
  r.read("max_connections_pct", p.max_connections_pct, percent_range);
  return p;
}

redis_probe read_redis_probe(object_reader& r, context& ctx) {
  auto p = read_redis_endpoint(r, ctx);
  r.read("max_memory_pct", p.max_memory_pct, percent_range);
  return p;
}

json_rule read_json_rule(const json& value, const std::string& path) {
  json_rule rule;
  object_reader r(value, path, {"json_rule"});
  rule.pointer =
      as_string(r.require("pointer", "a JSON pointer such as \"/entry/0/content/health\""), r.path_of("pointer"));
  try {
    [[maybe_unused]] const json::json_pointer pointer(rule.pointer);
  } catch (const json::exception&) {
    fail(r.path_of("pointer"), "expected a JSON pointer (RFC 6901) such as \"/entry/0/content/health\"");
  }
  const auto& values = r.require("values", "an object mapping values to healthy, degraded or critical");
  const auto values_path = r.path_of("values");
  expect_object(values, values_path);
  if (values.empty()) fail(values_path, "expected at least one value mapped to healthy, degraded or critical");
  for (const auto& [found, status] : values.items())
    rule.values.emplace(found, read_probe_status(status, child_path(values_path, found)));
  if (const auto* otherwise = r.find("otherwise"))
    rule.otherwise = read_probe_status(*otherwise, r.path_of("otherwise"));
  r.finish();
  return rule;
}

http_probe read_http_probe(object_reader& r, context& ctx) {
  http_probe p;
  read_http_request(r, ctx, p, "http://127.0.0.1:8089/health");
  r.read("expect_body_contains", p.expect_body_contains);
  if (const auto* rule = r.find("json_rule"); rule != nullptr && !rule->is_null())
    p.rule = read_json_rule(*rule, r.path_of("json_rule"));
  r.read("cert_expiry_warn_days", p.cert_expiry_warn_days, 0, 3650);
  r.read("max_body_bytes", p.max_body_bytes, 1, std::int64_t{1} << 30);
  return p;
}

websocket_probe read_websocket_probe(object_reader& r, context& ctx) {
  websocket_probe p;
  p.url = required_string(r, "url", "a ws:// or wss:// URL");
  check_url(p.url, r.path_of("url"), {"ws", "wss"}, "ws://127.0.0.1:9105/ws");
  add_url_secrets(p.url, ctx.secrets);
  r.read("send", p.send);
  r.read("expect", p.expect);
  read_headers(r, p.headers, ctx);
  read_tls(r, p.ca_file, p.insecure_skip_verify);
  return p;
}

tcp_probe read_tcp_probe(object_reader& r) {
  tcp_probe p;
  p.host = required_string(r, "host", "a host name or address");
  p.port = static_cast<int>(as_integer(r.require("port", "a port 1..65535"), r.path_of("port"), 1, max_port));
  return p;
}

file_probe read_file_probe(object_reader& r) {
  file_probe p;
  p.path = required_string(r, "path", "a file path");
  r.read("max_age_s", p.max_age_s, max_age_range);
  r.read("min_size_bytes", p.min_size_bytes, 0, std::numeric_limits<std::int64_t>::max());
  return p;
}

}  // namespace

probe_config read_probe(const json& value, const std::string& path, context& ctx) {
  probe_config p;
  p.type = read_type(value, path, schema::probe_types(), "probe", ctx);
  const auto type_schema = "probe." + p.type;
  object_reader r(value, path, {"probe", type_schema});
  (void)r.find("type");
  p.timeout_ms = p.type == "exec" ? 10000 : 2000;
  r.read("timeout_ms", p.timeout_ms, 1, max_timeout_ms);
  p.degraded_latency_ms = std::max(1, p.timeout_ms / 2);
  r.read("degraded_latency_ms", p.degraded_latency_ms, 1, max_timeout_ms);
  if (p.degraded_latency_ms > p.timeout_ms)
    fail(r.path_of("degraded_latency_ms"), "expected at most timeout_ms (" + std::to_string(p.timeout_ms) + ")");
  if (p.type == "postgres")
    p.options = read_postgres_probe(r, ctx);
  else if (p.type == "redis")
    p.options = read_redis_probe(r, ctx);
  else if (p.type == "http")
    p.options = read_http_probe(r, ctx);
  else if (p.type == "websocket")
    p.options = read_websocket_probe(r, ctx);
  else if (p.type == "tcp")
    p.options = read_tcp_probe(r);
  else if (p.type == "exec")
    p.options = read_exec<exec_probe>(r, ctx);
  else
    p.options = read_file_probe(r);
  r.finish();
  return p;
}

}  // namespace healthd::config::detail
