// redis: one command (e.g. MEMORY PURGE) on the subsystem's Redis (its redis probe's host, port, password and db)
// or a given target. hiredis on the blocking pool with socket timeouts; a job still blocked at the deadline is
// abandoned by shutting its socket down. An error reply is a failure.

#include "healthd/core/utf8.hpp"
#include "healthd/io/blocking_pool.hpp"

#include "action_support.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>

namespace healthd::actions::detail {

namespace {

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using redis_reply = std::unique_ptr<redisReply, reply_deleter>;

struct redis_job;
void execute(redis_job& job, const config::redis_probe& target, const std::optional<std::string>& password,
             const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

struct redis_job {
  redis_job(config::redis_probe t, std::optional<std::string> p, std::vector<std::string> a,
            std::chrono::milliseconds d)
      : target(std::move(t)), password(std::move(p)), argv(std::move(a)), timeout(d) {}
  void run() { execute(*this, target, password, argv, timeout); }
  void cancel() { socket.shutdown(); }
  config::redis_probe target;
  std::optional<std::string> password;
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout;
  io::job_socket socket;
  bool ok = false;
  std::string message;
};

// Runs one command; nullopt-like empty string on success with `summary` describing the reply.
std::string command(redisContext* c, const std::vector<std::string>& args, std::string* summary = nullptr) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  redis_reply reply(
      static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply) return std::string(c->errstr[0] != '\0' ? c->errstr : "no reply");
  const std::string text = reply->str != nullptr ? std::string(reply->str, reply->len) : std::string{};
  if (reply->type == REDIS_REPLY_ERROR) return text.empty() ? "error reply" : text;
  if (summary != nullptr) {
    switch (reply->type) {
      case REDIS_REPLY_STATUS:
      case REDIS_REPLY_STRING: *summary = valid_utf8(text, 200); break;
      case REDIS_REPLY_INTEGER: *summary = std::to_string(reply->integer); break;
      case REDIS_REPLY_ARRAY: *summary = std::to_string(reply->elements) + " elements"; break;
      default: *summary = "nil"; break;
    }
  }
  return {};
}

void execute(redis_job& job, const config::redis_probe& target, const std::optional<std::string>& password,
             const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  std::unique_ptr<redisContext, context_deleter> c(redisConnectWithTimeout(target.host.c_str(), target.port, tv));
  if (!c || c->err != 0) {
    job.message = std::string("connect: ") + (c ? c->errstr : "cannot allocate a redis context");
    return;
  }
  job.socket.set(c->fd);
  std::string error;
  if (redisSetTimeout(c.get(), tv) != REDIS_OK) error = "cannot set the socket timeout";
  if (error.empty() && password) error = command(c.get(), {"AUTH", *password});
  if (error.empty() && target.db != 0) error = command(c.get(), {"SELECT", std::to_string(target.db)});
  std::string summary;
  if (error.empty()) error = command(c.get(), argv, &summary);
  job.socket.clear();
  job.ok = error.empty();
  job.message = job.ok ? argv.front() + ": " + summary : "redis: " + error;
}

class redis final : public action {
public:
  redis(const config::action_config& config, const action_context& context)
      : options_(options_as<config::redis_action>(config)),
        timeout_ms_(config.timeout_ms),
        pool_(context.pool),
        key_(context.subsystem + ":redis"),
        secrets_(context.secrets) {
    if (options_.argv.empty()) throw action_config_error("redis action: argv is empty");
    if (options_.target) {
      target_ = *options_.target;
    } else if (const auto* probe = std::get_if<config::redis_probe>(&context.subsystem_probe.options)) {
      target_ = *probe;
    } else {
      throw action_config_error("redis action: no target, and the subsystem's probe is not redis");
    }
    if (pool_ == nullptr) throw action_config_error("redis action: no blocking pool");
  }

  boost::asio::awaitable<action_outcome> run() override {
    auto secrets = secrets_;
    std::optional<std::string> password;
    if (target_.password_env) {
      const char* value = std::getenv(target_.password_env->c_str());
      if (value == nullptr) co_return action_outcome{false, "password_env " + *target_.password_env + " is not set"};
      password = value;
      secrets.add(*password);
    }
    const auto timeout = std::chrono::milliseconds{timeout_ms_};
    auto job = std::make_shared<redis_job>(target_, password, options_.argv, timeout);
    const auto outcome = co_await io::run_job(*pool_, key_, timeout, job);
    action_outcome result;
    result.success = outcome == io::job_outcome::done && job->ok;
    result.message = io::failure_message(outcome, timeout, "redis action").value_or(job->message);
    result.message = secrets.sanitize(result.message);
    co_return result;
  }

private:
  config::redis_action options_;
  int timeout_ms_;
  io::blocking_pool* pool_;
  std::string key_;
  config::redis_probe target_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<action> make_redis_action(const config::action_config& config, const action_context& context) {
  return std::make_unique<redis>(config, context);
}

}  // namespace healthd::actions::detail
