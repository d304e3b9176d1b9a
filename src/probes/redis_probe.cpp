// redis: hiredis 0.14 (plaintext only) on the blocking pool. PING and INFO on a connection kept between probes,
// dropped on any failure or on reconnect(). Every blocking call has redisSetTimeout; a job still blocked at the
// deadline is freed by shutting its socket down.

#include "healthd/io/blocking_pool.hpp"
#include "healthd/probes/probe.hpp"
#include "healthd/probes/redis_info.hpp"

#include "probe_support.hpp"

#include <hiredis/hiredis.h>

#include <cmath>
#include <cstdlib>
#include <mutex>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using redis_connection = std::unique_ptr<redisContext, context_deleter>;

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using redis_reply = std::unique_ptr<redisReply, reply_deleter>;

using redis_session = kept_session<redis_connection>;

struct redis_answer {
  std::string error;
  std::string info;
};

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// Runs one command; the error text on failure ("redis: NOAUTH Authentication required.").
std::string command(redisContext* c, std::initializer_list<std::string> args, std::string* bulk = nullptr,
                    const char* expect_status = nullptr) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  redis_reply reply(
      static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply) return std::string("redis: ") + (c->errstr[0] != '\0' ? c->errstr : "no reply");
  if (reply->type == REDIS_REPLY_ERROR) return "redis: " + std::string(reply->str, reply->len);
  if (expect_status != nullptr &&
      (reply->type != REDIS_REPLY_STATUS || std::string(reply->str, reply->len) != expect_status))
    return "redis: unexpected reply to " + *args.begin();
  if (bulk != nullptr && reply->type == REDIS_REPLY_STRING) *bulk = std::string(reply->str, reply->len);
  return {};
}

void exchange(redis_session& session, const config::redis_probe& options, const std::optional<std::string>& password,
              std::chrono::milliseconds timeout, redis_answer& answer) {
  redis_connection connection;
  {
    std::lock_guard lock(session.mutex);
    connection = std::move(session.connection);
  }
  const auto tv = to_timeval(timeout);
  if (!connection) {
    connection.reset(redisConnectWithTimeout(options.host.c_str(), options.port, tv));
    if (!connection) {
      answer.error = "connect: cannot allocate a redis context";
    } else if (connection->err != 0) {
      answer.error = std::string("connect: ") + connection->errstr;
    } else {
      session.socket.set(connection->fd);
      if (redisSetTimeout(connection.get(), tv) != REDIS_OK) answer.error = "connect: cannot set the socket timeout";
      if (answer.error.empty() && password)
        answer.error = command(connection.get(), {"AUTH", *password}, nullptr, "OK");
      if (answer.error.empty() && options.db != 0)
        answer.error = command(connection.get(), {"SELECT", std::to_string(options.db)}, nullptr, "OK");
    }
  } else {
    session.socket.set(connection->fd);
  }
  if (answer.error.empty()) answer.error = command(connection.get(), {"PING"}, nullptr, "PONG");
  if (answer.error.empty()) answer.error = command(connection.get(), {"INFO"}, &answer.info);
  session.socket.clear();
  redis_connection dropped;
  std::lock_guard lock(session.mutex);
  if (answer.error.empty() && !session.drop_requested)
    session.connection = std::move(connection);
  else
    dropped = std::move(connection);
  session.drop_requested = false;
  session.job_running = false;
}

double number_or_zero(const std::map<std::string, std::string, std::less<>>& fields, std::string_view key) {
  const auto it = fields.find(key);
  if (it == fields.end()) return 0;
  char* end = nullptr;
  const double value = std::strtod(it->second.c_str(), &end);
  return end == it->second.c_str() ? 0 : value;
}

// One probe round on the pool: AUTH when configured, PING, INFO.
struct redis_job {
  redis_job(std::shared_ptr<redis_session> s, config::redis_probe o, std::optional<std::string> p, int timeout_ms)
      : session(std::move(s)), options(std::move(o)), password(std::move(p)), timeout(timeout_ms) {}
  void run() { exchange(*session, options, password, timeout, answer); }
  void cancel() { session->cancel(); }
  std::shared_ptr<redis_session> session;
  config::redis_probe options;
  std::optional<std::string> password;
  std::chrono::milliseconds timeout;
  redis_answer answer;
};

class redis_check final : public probe {
public:
  redis_check(const config::probe_config& config, const probe_context& context)
      : config_(config),
        options_(options_as<config::redis_probe>(config)),
        pool_(require_pool(config, context)),
        key_(context.name.empty() ? "redis:" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) : context.name),
        secrets_(context.secrets),
        session_(std::make_shared<redis_session>()) {
    if (options_.host.empty()) throw_config_error(config.type, "host is empty");
    if (options_.port <= 0 || options_.port > 65535) throw_config_error(config.type, "port out of range");
  }

  ~redis_check() override { reconnect(); }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    auto secrets = secrets_;
    std::optional<std::string> password;
    if (options_.password_env) {
      const char* value = std::getenv(options_.password_env->c_str());
      if (value == nullptr)
        co_return finish(critical("password_env " + *options_.password_env + " is not set"), watch, config_, secrets);
      password = value;
      secrets.add(*password);
    }
    auto job = std::make_shared<redis_job>(session_, options_, password, config_.timeout_ms);
    if (auto failed = co_await run_session_job(pool_, key_, config_, session_, job))
      co_return finish(std::move(*failed), watch, config_, secrets);
    co_return finish(judge(job->answer), watch, config_, secrets);
  }

  void reconnect() override {
    redis_connection dropped;
    std::lock_guard lock(session_->mutex);
    if (session_->job_running) {
      session_->drop_requested = true;
      return;
    }
    dropped = std::move(session_->connection);
  }

  std::optional<int> idle_socket() const override {
    std::lock_guard lock(session_->mutex);
    if (session_->job_running || !session_->connection || session_->connection->fd < 0) return std::nullopt;
    return session_->connection->fd;
  }

private:
  probe_result judge(const redis_answer& answer) const {
    if (!answer.error.empty()) return critical(answer.error);
    const auto fields = parse_redis_info(answer.info);
    const auto field = [&](std::string_view key) {
      const auto it = fields.find(key);
      return it == fields.end() ? std::string() : it->second;
    };
    const double used = number_or_zero(fields, "used_memory");
    const double max = number_or_zero(fields, "maxmemory");
    probe_result result;
    result.details = {{"redis_version", field("redis_version")},
                      {"role", field("role")},
                      {"connected_clients", number_or_zero(fields, "connected_clients")},
                      {"used_memory", used},
                      {"maxmemory", max}};
    const double pct = max > 0 ? 100.0 * used / max : 0.0;
    if (max > 0) result.details["memory_pct"] = std::round(pct * 10) / 10;
    if (max > 0 && pct > options_.max_memory_pct) {
      result.status = probe_status::degraded;
      result.message = "memory " + std::to_string(std::lround(pct)) + "% of maxmemory, above " +
                       std::to_string(std::lround(options_.max_memory_pct)) + "%";
    } else {
      result.status = probe_status::healthy;
      result.message = "Redis " + field("redis_version") + " " + field("role") + ", " +
                       std::to_string(std::lround(number_or_zero(fields, "connected_clients"))) + " clients";
    }
    return result;
  }

  config::probe_config config_;
  config::redis_probe options_;
  io::blocking_pool& pool_;
  std::string key_;
  secret_set secrets_;
  std::shared_ptr<redis_session> session_;
};

}  // namespace

std::unique_ptr<probe> make_redis_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<redis_check>(config, context);
}

}  // namespace healthd::probes::detail
