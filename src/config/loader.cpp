#include "healthd/config/loader.hpp"

#include "reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <system_error>

namespace healthd::config {

namespace {

using detail::as_integer;
using detail::as_string;
using detail::child_path;
using detail::expect_array;
using detail::expect_object;
using detail::fail;
using detail::index_path;
using detail::join;
using detail::json;
using detail::number_range;
using detail::object_reader;

// Ranges shared by many keys; docs/configuration.md states the same bounds.
constexpr double max_interval_s = 86400;
constexpr number_range interval_range{0, max_interval_s, true, false};   // loops, retries, recovery timeouts
constexpr number_range cooldown_range{0, max_interval_s, false, false};  // 0 means "no cooldown"
constexpr number_range max_age_range{0, 366.0 * max_interval_s, true, false};
constexpr number_range percent_range{0, 100, true, false};
constexpr number_range jitter_range{0, 1, false, true};
constexpr number_range slow_call_range{0, 600000, true, false};
constexpr int max_timeout_ms = 600000;
constexpr int max_port = 65535;
constexpr std::size_t max_name_length = 64;

// What the readers share: the environment, the secrets found so far and the names that references may name.
struct context {
  const env_lookup& env;
  secret_set secrets;
  std::vector<std::string> loops;
  std::vector<std::string> breakers;
  std::vector<std::string> subsystems;
};

std::string quoted(std::string_view value, const context& ctx) { return detail::quoted(value, ctx.secrets); }

std::string known_list(const std::vector<std::string>& names) {
  return names.empty() ? "none are defined" : "known: " + join(names);
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// ---- small validators ----------------------------------------------------------------------------------------

// Names of loops, breakers, subsystems and maintenance tasks appear in JSON paths, URLs and metric labels.
void check_name(std::string_view name, const std::string& path, std::string_view what) {
  const bool ok = !name.empty() && name.size() <= max_name_length && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
  if (!ok)
    fail(path, "invalid " + std::string(what) + " name: expected 1.." + std::to_string(max_name_length) +
                   " letters, digits, '_' or '-'");
}

void check_env_name(std::string_view name, const std::string& path) {
  if (!detail::is_env_name(name))
    fail(path, "expected an environment variable name (letters, digits and _, not a digit first)");
}

void check_non_empty(std::string_view value, const std::string& path, std::string_view expected) {
  if (value.empty()) fail(path, "expected " + std::string(expected) + ", got an empty string");
}

// scheme://host[:port][/...]; the URL itself is never echoed since it may carry a token.
bool valid_url(std::string_view url, std::initializer_list<std::string_view> schemes) {
  if (std::any_of(url.begin(), url.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isspace(u) != 0 || std::iscntrl(u) != 0;
      }))
    return false;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) return false;
  auto authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return false;
  // Host and optional port: the listen-address rules, with the port optional.
  if (authority.find(':') == std::string_view::npos || (authority.front() == '[' && authority.back() == ']')) {
    const auto host = authority.front() == '[' ? authority.substr(1, authority.size() - 2) : authority;
    return !host.empty();
  }
  return parse_listen_address(authority).has_value();
}

void check_url(std::string_view url, const std::string& path, std::initializer_list<std::string_view> schemes,
               std::string_view example) {
  if (valid_url(url, schemes)) return;
  std::string names;
  for (const auto s : schemes) {
    if (!names.empty()) names += " or ";
    names += std::string(s) + "://";
  }
  // "an http://", "a ws://"
  const auto article = names.starts_with('h') ? "an " : "a ";
  fail(path, "expected " + std::string(article) + names + " URL with a host, e.g. \"" + std::string(example) + "\"");
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void check_method(std::string_view method, const std::string& path) {
  constexpr std::array methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  if (std::find(methods.begin(), methods.end(), method) == methods.end())
    fail(path, "expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
}

void check_headers(const std::map<std::string, std::string>& headers, const std::string& path) {
  for (const auto& [name, value] : headers) {
    const auto header_path = child_path(path, name);
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
      fail(header_path, "invalid header name: expected letters, digits and !#$%&'*+-.^_`|~");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      fail(header_path, "expected a header value without CR, LF or NUL");
  }
}

void check_env_map(const std::map<std::string, std::string>& env, const std::string& path) {
  for (const auto& [name, value] : env)
    check_env_name(name, child_path(path, name));
}

void check_argv(const std::vector<std::string>& argv, const std::string& path) {
  if (argv.empty()) fail(path, "expected a non-empty array of strings (the program, then its arguments)");
  check_non_empty(argv.front(), index_path(path, 0), "a program name or path");
}

probe_status read_probe_status(const json& value, const std::string& path) {
  const auto status = parse_probe_status(as_string(value, path));
  if (!status) fail(path, "expected \"healthy\", \"degraded\" or \"critical\"");
  return *status;
}

// ---- expect_status ---------------------------------------------------------------------------------------------

constexpr int min_status = 100;
constexpr int max_status = 599;

status_range read_status_item(const json& value, const std::string& path) {
  const std::string expected = "expected a status code 100..599 or a range string such as \"200-299\"";
  if (value.is_number()) {
    const auto code = static_cast<int>(as_integer(value, path, min_status, max_status));
    return {code, code};
  }
  if (!value.is_string()) fail(path, expected + ", got " + std::string(detail::type_name(value)));
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

std::vector<status_range> read_expect_status(const json& value, const std::string& path) {
  if (!value.is_array()) return {read_status_item(value, path)};
  if (value.empty()) fail(path, "expected at least one status code or range");
  std::vector<status_range> out;
  for (std::size_t i = 0; i < value.size(); ++i)
    out.push_back(read_status_item(value[i], index_path(path, i)));
  return out;
}

// ---- server, loops, healing, healing_log ---------------------------------------------------------------------

void read_server(const json& value, const std::string& path, context& /*ctx*/, daemon_config& cfg) {
  auto& s = cfg.server;
  object_reader r(value, path, {"server"});
  r.read("listen", s.listen);
  if (!parse_listen_address(s.listen))
    fail(r.path_of("listen"), "expected \"host:port\" with a port 1..65535, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"");
  r.read("threads", s.threads, 1, 64);
  r.read("admin_token_env", s.admin_token_env);
  if (s.admin_token_env) check_env_name(*s.admin_token_env, r.path_of("admin_token_env"));
  r.read("admin_token_file", s.admin_token_file);
  if (s.admin_token_file) check_non_empty(*s.admin_token_file, r.path_of("admin_token_file"), "a file path");
  r.read("static_dir", s.static_dir);
  r.read("cors_origins", s.cors_origins);
  for (std::size_t i = 0; i < s.cors_origins.size(); ++i)
    if (s.cors_origins[i] != "*")
      check_url(s.cors_origins[i], index_path(r.path_of("cors_origins"), i), {"http", "https"},
                "https://soc.example.com");
  r.read("max_connections", s.max_connections, 1, 1000000);
  r.finish();
}

void read_loops(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_object(value, path);
  std::vector<loop_config> loops;
  for (const auto& [name, interval] : value.items()) {
    const auto loop_path = child_path(path, name);
    check_name(name, loop_path, "loop");
    loops.push_back({name, detail::as_number(interval, loop_path, interval_range)});
  }
  for (auto& d : default_loops())
    if (std::none_of(loops.begin(), loops.end(), [&](const loop_config& l) { return l.name == d.name; }))
      loops.push_back(std::move(d));
  cfg.loops = std::move(loops);
  ctx.loops.clear();
  for (const auto& l : cfg.loops)
    ctx.loops.push_back(l.name);
}

void read_healing(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  object_reader r(value, path, {"healing"});
  if (const auto* mode = r.find("mode")) {
    const auto text = as_string(*mode, r.path_of("mode"));
    const auto parsed = parse_healing_mode(text);
    if (!parsed) fail(r.path_of("mode"), "expected \"auto\", \"dry_run\" or \"off\", got " + quoted(text, ctx));
    cfg.healing.mode = *parsed;
  }
  r.read("max_concurrent", cfg.healing.max_concurrent, 1, 64);
  r.finish();
}

void read_healing_log(const json& value, const std::string& path, context& /*ctx*/, daemon_config& cfg) {
  auto& h = cfg.healing_log;
  object_reader r(value, path, {"healing_log"});
  r.read("capacity", h.capacity, 1, 1000000);
  r.read("audit_file", h.audit_file);
  if (h.audit_file) check_non_empty(*h.audit_file, r.path_of("audit_file"), "a file path");
  r.read("audit_max_bytes", h.audit_max_bytes, 4096, std::int64_t{1} << 40);
  r.finish();
}

// ---- breakers ------------------------------------------------------------------------------------------------

breaker_config read_breaker(const std::string& name, const json& value, const std::string& path, context& ctx) {
  breaker_config b;
  b.name = name;
  object_reader r(value, path, {"breaker"});
  if (const auto* mode = r.find("mode")) {
    const auto text = as_string(*mode, r.path_of("mode"));
    if (text == "consecutive")
      b.mode = breaker_mode::consecutive;
    else if (text == "rate")
      b.mode = breaker_mode::rate;
    else
      fail(r.path_of("mode"), "expected \"consecutive\" or \"rate\", got " + quoted(text, ctx));
  }
  r.read("failure_threshold", b.failure_threshold, 1, 1000);
  r.read("recovery_timeout_s", b.recovery_timeout_s, interval_range);
  r.read("max_recovery_timeout_s", b.max_recovery_timeout_s, interval_range);
  if (b.max_recovery_timeout_s < b.recovery_timeout_s)
    fail(r.path_of("max_recovery_timeout_s"),
         "expected at least recovery_timeout_s (" + detail::format_number(b.recovery_timeout_s) + ")");
  r.read("jitter", b.jitter, jitter_range);
  r.read("window_size", b.window_size, 1, 10000);
  // The default never conflicts with a small window; an explicit value must fit in it.
  b.minimum_calls = std::min(b.minimum_calls, b.window_size);
  r.read("minimum_calls", b.minimum_calls, 1, 10000);
  if (b.minimum_calls > b.window_size)
    fail(r.path_of("minimum_calls"), "expected at most window_size (" + std::to_string(b.window_size) + ")");
  r.read("failure_rate_threshold", b.failure_rate_threshold, percent_range);
  r.read("slow_call_ms", b.slow_call_ms, slow_call_range);
  r.read("slow_call_rate_threshold", b.slow_call_rate_threshold, percent_range);
  r.finish();
  return b;
}

void read_breakers(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_object(value, path);
  for (const auto& [name, breaker] : value.items()) {
    const auto breaker_path = child_path(path, name);
    check_name(name, breaker_path, "breaker");
    cfg.breakers.push_back(read_breaker(name, breaker, breaker_path, ctx));
    ctx.breakers.push_back(name);
  }
}

// ---- probes --------------------------------------------------------------------------------------------------

// The `type` of a probe or action, checked against the registry keys before the object's other keys.
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

std::string required_string(object_reader& r, std::string_view key, std::string_view expected) {
  auto value = as_string(r.require(key, expected), r.path_of(key));
  check_non_empty(value, r.path_of(key), expected);
  return value;
}

void read_optional_non_empty(object_reader& r, std::string_view key, std::optional<std::string>& out,
                             std::string_view expected) {
  r.read(key, out);
  if (out) check_non_empty(*out, r.path_of(key), expected);
}

void add_conninfo_password(std::string_view conninfo, context& ctx) {
  if (auto password = conninfo_password(conninfo)) ctx.secrets.add(std::move(*password));
}

// Shared by the redis probe and a redis action's `target`.
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

void read_tls(object_reader& r, std::optional<std::string>& ca_file, bool& insecure_skip_verify) {
  read_optional_non_empty(r, "ca_file", ca_file, "a file path");
  r.read("insecure_skip_verify", insecure_skip_verify);
}

void read_headers(object_reader& r, std::map<std::string, std::string>& headers) {
  r.read("headers", headers);
  check_headers(headers, r.path_of("headers"));
}

http_probe read_http_probe(object_reader& r) {
  http_probe p;
  p.url = required_string(r, "url", "an http:// or https:// URL");
  check_url(p.url, r.path_of("url"), {"http", "https"}, "http://127.0.0.1:8089/health");
  r.read("method", p.method);
  check_method(p.method, r.path_of("method"));
  read_headers(r, p.headers);
  r.read("body", p.body);
  if (const auto* status = r.find("expect_status"))
    p.expect_status = read_expect_status(*status, r.path_of("expect_status"));
  r.read("expect_body_contains", p.expect_body_contains);
  if (const auto* rule = r.find("json_rule"); rule != nullptr && !rule->is_null())
    p.rule = read_json_rule(*rule, r.path_of("json_rule"));
  read_tls(r, p.ca_file, p.insecure_skip_verify);
  r.read("cert_expiry_warn_days", p.cert_expiry_warn_days, 0, 3650);
  r.read("max_body_bytes", p.max_body_bytes, 1, std::int64_t{1} << 30);
  return p;
}

websocket_probe read_websocket_probe(object_reader& r) {
  websocket_probe p;
  p.url = required_string(r, "url", "a ws:// or wss:// URL");
  check_url(p.url, r.path_of("url"), {"ws", "wss"}, "ws://127.0.0.1:9105/ws");
  r.read("send", p.send);
  r.read("expect", p.expect);
  read_headers(r, p.headers);
  read_tls(r, p.ca_file, p.insecure_skip_verify);
  return p;
}

tcp_probe read_tcp_probe(object_reader& r) {
  tcp_probe p;
  p.host = required_string(r, "host", "a host name or address");
  p.port = static_cast<int>(as_integer(r.require("port", "a port 1..65535"), r.path_of("port"), 1, max_port));
  return p;
}

template <typename T>
T read_exec(object_reader& r) {
  T e;
  e.argv = detail::as_string_array(r.require("argv", "a non-empty array of strings"), r.path_of("argv"));
  check_argv(e.argv, r.path_of("argv"));
  r.read("env", e.env);
  check_env_map(e.env, r.path_of("env"));
  return e;
}

file_probe read_file_probe(object_reader& r) {
  file_probe p;
  p.path = required_string(r, "path", "a file path");
  r.read("max_age_s", p.max_age_s, max_age_range);
  r.read("min_size_bytes", p.min_size_bytes, 0, std::numeric_limits<std::int64_t>::max());
  return p;
}

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
    p.options = read_http_probe(r);
  else if (p.type == "websocket")
    p.options = read_websocket_probe(r);
  else if (p.type == "tcp")
    p.options = read_tcp_probe(r);
  else if (p.type == "exec")
    p.options = read_exec<exec_probe>(r);
  else
    p.options = read_file_probe(r);
  r.finish();
  return p;
}

// ---- actions -------------------------------------------------------------------------------------------------

http_action read_http_action(object_reader& r) {
  http_action a;
  a.url = required_string(r, "url", "an http:// or https:// URL");
  check_url(a.url, r.path_of("url"), {"http", "https"}, "http://127.0.0.1:9104/refresh");
  r.read("method", a.method);
  check_method(a.method, r.path_of("method"));
  read_headers(r, a.headers);
  r.read("body", a.body);
  if (const auto* status = r.find("expect_status"))
    a.expect_status = read_expect_status(*status, r.path_of("expect_status"));
  read_tls(r, a.ca_file, a.insecure_skip_verify);
  return a;
}

sql_action read_sql_action(object_reader& r, context& ctx) {
  sql_action a;
  a.statement = required_string(r, "statement", "an SQL statement");
  read_optional_non_empty(r, "conninfo", a.conninfo, "a libpq connection string");
  if (a.conninfo) add_conninfo_password(*a.conninfo, ctx);
  return a;
}

redis_action read_redis_action(object_reader& r, context& ctx) {
  redis_action a;
  a.argv = detail::as_string_array(r.require("argv", "a non-empty array of strings, e.g. [\"MEMORY\", \"PURGE\"]"),
                                   r.path_of("argv"));
  if (a.argv.empty()) fail(r.path_of("argv"), "expected a non-empty array of strings, e.g. [\"MEMORY\", \"PURGE\"]");
  check_non_empty(a.argv.front(), index_path(r.path_of("argv"), 0), "a Redis command");
  if (const auto* target = r.find("target"); target != nullptr && !target->is_null()) {
    object_reader t(*target, r.path_of("target"), {"redis_target"});
    a.target = read_redis_endpoint(t, ctx);
    t.finish();
  }
  return a;
}

// `probe` is the probe of the subsystem the action belongs to, whose connection sql and redis actions default to.
action_config read_action(const json& value, const std::string& path, const probe_config& probe,
                          std::string_view subsystem, context& ctx) {
  action_config a;
  a.type = read_type(value, path, schema::action_types(), "action", ctx);
  object_reader r(value, path, {"action", "action." + a.type});
  (void)r.find("type");
  r.read("name", a.name);
  if (a.name) check_name(*a.name, r.path_of("name"), "action");
  r.read("timeout_ms", a.timeout_ms, 1, max_timeout_ms);
  const auto probe_note = "subsystem " + std::string(subsystem) + " has a " + probe.type + " probe";
  if (a.type == "reconnect") {
    a.options = reconnect_action{};
  } else if (a.type == "exec") {
    a.options = read_exec<exec_action>(r);
  } else if (a.type == "http") {
    a.options = read_http_action(r);
  } else if (a.type == "sql") {
    auto sql = read_sql_action(r, ctx);
    if (!sql.conninfo && probe.type != "postgres")
      fail(r.path_of("conninfo"), "missing required key (expected a libpq connection string: " + probe_note +
                                      ", not a postgres one, to default to)");
    a.options = std::move(sql);
  } else {
    auto redis = read_redis_action(r, ctx);
    if (!redis.target && probe.type != "redis")
      fail(r.path_of("target"), "missing required key (expected {\"host\", \"port\", ...}: " + probe_note +
                                    ", not a redis one, to default to)");
    a.options = std::move(redis);
  }
  r.finish();
  return a;
}

heal_config read_heal(const json& value, const std::string& path, const probe_config& probe, std::string_view subsystem,
                      context& ctx) {
  heal_config h;
  object_reader r(value, path, {"heal"});
  if (const auto* actions = r.find("actions")) {
    const auto actions_path = r.path_of("actions");
    expect_array(*actions, actions_path);
    for (std::size_t i = 0; i < actions->size(); ++i)
      h.actions.push_back(read_action((*actions)[i], index_path(actions_path, i), probe, subsystem, ctx));
  }
  r.read("max_per_hour", h.max_per_hour, 1, 1000);
  r.read("cooldown_s", h.cooldown_s, cooldown_range);
  r.read("after_failures", h.after_failures, 1, 1000);
  r.finish();
  return h;
}

// ---- subsystems ----------------------------------------------------------------------------------------------

subsystem_config read_subsystem(const std::string& name, const json& value, const std::string& path, context& ctx) {
  subsystem_config s;
  s.name = name;
  object_reader r(value, path, {"subsystem"});
  r.read("description", s.description);
  r.read("loop", s.loop);
  if (!contains(ctx.loops, s.loop))
    fail(r.path_of("loop"), "unknown loop " + quoted(s.loop, ctx) + " (" + known_list(ctx.loops) + ")");
  r.read("critical", s.critical);
  r.read("breaker", s.breaker);
  if (s.breaker && !contains(ctx.breakers, *s.breaker))
    fail(r.path_of("breaker"), "unknown breaker " + quoted(*s.breaker, ctx) + " (" + known_list(ctx.breakers) + ")");
  r.read("depends_on", s.depends_on);
  for (std::size_t i = 0; i < s.depends_on.size(); ++i) {
    const auto& dependency = s.depends_on[i];
    const auto dependency_path = index_path(r.path_of("depends_on"), i);
    if (dependency == name) fail(dependency_path, "a subsystem cannot depend on itself");
    if (!contains(ctx.subsystems, dependency))
      fail(dependency_path, "unknown subsystem " + quoted(dependency, ctx) + " (" + known_list(ctx.subsystems) + ")");
    if (std::find(s.depends_on.begin(), s.depends_on.begin() + static_cast<std::ptrdiff_t>(i), dependency) !=
        s.depends_on.begin() + static_cast<std::ptrdiff_t>(i))
      fail(dependency_path, "subsystem " + quoted(dependency, ctx) + " is listed twice");
  }
  r.read("retry_interval_s", s.retry_interval_s, interval_range);
  s.probe = read_probe(r.require("probe", "a probe object with a \"type\""), r.path_of("probe"), ctx);
  if (const auto* heal = r.find("heal")) s.heal = read_heal(*heal, r.path_of("heal"), s.probe, name, ctx);
  r.finish();
  return s;
}

// Depth-first search; the first cycle found in file order is reported as "a -> b -> a".
void check_dependency_cycles(const std::vector<subsystem_config>& subsystems, const std::string& path) {
  enum class mark { unvisited, on_stack, done };
  std::map<std::string, mark, std::less<>> marks;
  std::vector<std::string> stack;
  const auto visit = [&](const auto& self, const subsystem_config& s) -> void {
    marks[s.name] = mark::on_stack;
    stack.push_back(s.name);
    for (const auto& dependency : s.depends_on) {
      if (marks[dependency] == mark::on_stack) {
        const auto start = std::find(stack.begin(), stack.end(), dependency);
        std::vector<std::string> cycle(start, stack.end());
        cycle.push_back(dependency);
        fail(child_path(child_path(path, dependency), "depends_on"), "dependency cycle " + join(cycle, " -> "));
      }
      if (marks[dependency] == mark::unvisited)
        self(self, *std::find_if(subsystems.begin(), subsystems.end(),
                                 [&](const subsystem_config& c) { return c.name == dependency; }));
    }
    stack.pop_back();
    marks[s.name] = mark::done;
  };
  for (const auto& s : subsystems)
    if (marks[s.name] == mark::unvisited) visit(visit, s);
}

void read_subsystems(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_object(value, path);
  for (const auto& [name, subsystem] : value.items()) {
    check_name(name, child_path(path, name), "subsystem");
    ctx.subsystems.push_back(name);
  }
  for (const auto& [name, subsystem] : value.items())
    cfg.subsystems.push_back(read_subsystem(name, subsystem, child_path(path, name), ctx));
  check_dependency_cycles(cfg.subsystems, path);
}

// ---- maintenance ---------------------------------------------------------------------------------------------

void read_maintenance(const json& value, const std::string& path, context& ctx, daemon_config& cfg) {
  expect_array(value, path);
  for (std::size_t i = 0; i < value.size(); ++i) {
    maintenance_task task;
    object_reader r(value[i], index_path(path, i), {"maintenance"});
    task.name = as_string(r.require("name", "a task name"), r.path_of("name"));
    check_name(task.name, r.path_of("name"), "maintenance task");
    if (std::any_of(cfg.maintenance.begin(), cfg.maintenance.end(),
                    [&](const maintenance_task& t) { return t.name == task.name; }))
      fail(r.path_of("name"), "duplicate maintenance task name " + quoted(task.name, ctx));
    task.subsystem = as_string(r.require("subsystem", "a subsystem name"), r.path_of("subsystem"));
    const auto* subsystem = cfg.find_subsystem(task.subsystem);
    if (subsystem == nullptr)
      fail(r.path_of("subsystem"),
           "unknown subsystem " + quoted(task.subsystem, ctx) + " (" + known_list(ctx.subsystems) + ")");
    task.action = read_action(r.require("action", "an action object with a \"type\""), r.path_of("action"),
                              subsystem->probe, subsystem->name, ctx);
    r.finish();
    cfg.maintenance.push_back(std::move(task));
  }
}

// ---- the whole file ------------------------------------------------------------------------------------------

// The top-level sections in reading order: references only point to sections read before (subsystems name loops
// and breakers; maintenance names subsystems). A new section is a schema entry, a reader and a row here.
struct section {
  std::string_view key;
  void (*read)(const json& value, const std::string& path, context& ctx, daemon_config& cfg);
};

constexpr std::array sections{
    section{"server", read_server},           section{"loops", read_loops},
    section{"healing", read_healing},         section{"healing_log", read_healing_log},
    section{"breakers", read_breakers},       section{"subsystems", read_subsystems},
    section{"maintenance", read_maintenance},
};

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

daemon_config parse_config(std::string_view text, const env_lookup& env) {
  auto root = detail::parse_json_text(text);
  if (!root.is_object())
    fail("", "expected a JSON object at the top level, got " + std::string(detail::type_name(root)));
  context ctx{env, {}, {}, {}, {}};
  detail::substitute_env(root, "", env, ctx.secrets);

  daemon_config cfg;
  for (const auto& l : cfg.loops)
    ctx.loops.push_back(l.name);
  object_reader r(root, "", {"root"});
  for (const auto& s : sections)
    if (const auto* value = r.find(s.key)) s.read(*value, r.path_of(s.key), ctx, cfg);
  r.finish();
  // Also when the server section is absent: the default variable may hold the token.
  if (cfg.server.admin_token_env)
    if (auto token = env(*cfg.server.admin_token_env)) ctx.secrets.add(std::move(*token));
  cfg.secrets = std::move(ctx.secrets);
  return cfg;
}

daemon_config load_config_file(const std::filesystem::path& file, const env_lookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw config_error("", "cannot read config file \"" + file.string() + "\": it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const auto reason = std::generic_category().message(errno);
    throw config_error("", "cannot read config file \"" + file.string() + "\": " + reason);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw config_error("", "cannot read config file \"" + file.string() + "\"");
  return parse_config(text.str(), env);
}

}  // namespace healthd::config
