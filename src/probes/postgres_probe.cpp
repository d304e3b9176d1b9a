// postgres: libpqxx on the blocking pool. The connection is kept between probes and dropped on any failure or on
// reconnect(). A job that is still blocked at the deadline is freed by shutting its socket down.

#include "healthd/io/blocking_pool.hpp"
#include "healthd/io/libpq.hpp"
#include "healthd/probes/probe.hpp"

#include "probe_support.hpp"

#include <pqxx/pqxx>

#include <cmath>
#include <mutex>

namespace healthd::probes::detail {

namespace {

namespace asio = boost::asio;

using pg_session = kept_session<std::unique_ptr<pqxx::connection>>;

struct pg_answer {
  bool connected = false;  // the failure, if any, came after the connection was up
  std::string error;
  std::string server_version;
  long connections = 0;
  long max_connections = 0;
};

void query(pg_session& session, const std::string& conninfo, const std::string& statement, pg_answer& answer) {
  std::unique_ptr<pqxx::connection> connection;
  {
    std::lock_guard lock(session.mutex);
    connection = std::move(session.connection);
  }
  bool keep = false;
  try {
    if (!connection || !connection->is_open()) connection = std::make_unique<pqxx::connection>(conninfo);
    session.socket.set(connection->sock());
    answer.connected = true;
    pqxx::nontransaction tx(*connection);
    tx.exec(statement);
    const auto row = tx.exec1(
        "SELECT current_setting('server_version'), current_setting('max_connections')::int, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')");
    answer.server_version = row[0].as<std::string>();
    answer.max_connections = row[1].as<long>();
    answer.connections = row[2].as<long>();
    keep = true;
  } catch (const std::exception& e) {
    answer.error = io::short_libpq_error(e.what());
    if (answer.error.empty()) answer.error = "unknown error";
  }
  session.socket.clear();
  std::unique_ptr<pqxx::connection> dropped;
  {
    std::lock_guard lock(session.mutex);
    if (keep && !session.drop_requested)
      session.connection = std::move(connection);
    else
      dropped = std::move(connection);
    session.drop_requested = false;
    session.job_running = false;
  }
}

// One probe round on the pool: the statement and the connection counts.
struct pg_job {
  pg_job(std::shared_ptr<pg_session> s, std::string c, std::string q)
      : session(std::move(s)), conninfo(std::move(c)), statement(std::move(q)) {}
  void run() { query(*session, conninfo, statement, answer); }
  void cancel() { session->cancel(); }
  std::shared_ptr<pg_session> session;
  std::string conninfo;
  std::string statement;
  pg_answer answer;
};

class postgres_check final : public probe {
public:
  postgres_check(const config::probe_config& config, const probe_context& context)
      : config_(config),
        options_(options_as<config::postgres_probe>(config)),
        pool_(require_pool(config, context)),
        key_(context.name.empty() ? "postgres:" + std::to_string(reinterpret_cast<std::uintptr_t>(this))
                                  : context.name),
        conninfo_(io::with_connect_timeout(options_.conninfo, config.timeout_ms)),
        secrets_(context.secrets),
        session_(std::make_shared<pg_session>()) {
    if (options_.conninfo.empty()) throw_config_error(config.type, "conninfo is empty");
    if (auto password = conninfo_password(options_.conninfo)) secrets_.add(*password);
  }

  ~postgres_check() override { reconnect(); }

  asio::awaitable<probe_result> run() override {
    const stopwatch watch;
    auto job = std::make_shared<pg_job>(session_, conninfo_, options_.query);
    if (auto failed = co_await run_session_job(pool_, key_, config_, session_, job))
      co_return finish(std::move(*failed), watch, config_, secrets_);
    co_return finish(judge(job->answer), watch, config_, secrets_);
  }

  void reconnect() override {
    std::unique_ptr<pqxx::connection> dropped;
    std::lock_guard lock(session_->mutex);
    if (session_->job_running) {
      session_->drop_requested = true;
      return;
    }
    dropped = std::move(session_->connection);
  }

  std::optional<int> idle_socket() const override {
    std::lock_guard lock(session_->mutex);
    if (session_->job_running || !session_->connection || !session_->connection->is_open()) return std::nullopt;
    const int fd = session_->connection->sock();
    if (fd < 0) return std::nullopt;
    return fd;
  }

private:
  probe_result judge(const pg_answer& answer) const {
    if (!answer.error.empty()) return critical((answer.connected ? "query: " : "connect: ") + answer.error);
    const double pct = answer.max_connections > 0 ? 100.0 * static_cast<double>(answer.connections) /
                                                        static_cast<double>(answer.max_connections)
                                                  : 0.0;
    probe_result result;
    result.details = {{"server_version", answer.server_version},
                      {"connections", answer.connections},
                      {"max_connections", answer.max_connections},
                      {"connections_pct", std::round(pct * 10) / 10}};
    const std::string usage = std::to_string(answer.connections) + "/" + std::to_string(answer.max_connections);
    if (pct > options_.max_connections_pct) {
      result.status = probe_status::degraded;
      result.message = "connections " + usage + " above " + std::to_string(std::lround(options_.max_connections_pct)) +
                       "% of max_connections";
    } else {
      result.status = probe_status::healthy;
      result.message = "PostgreSQL " + answer.server_version + ", " + usage + " connections";
    }
    return result;
  }

  config::probe_config config_;
  config::postgres_probe options_;
  io::blocking_pool& pool_;
  std::string key_;
  std::string conninfo_;
  secret_set secrets_;
  std::shared_ptr<pg_session> session_;
};

}  // namespace

std::unique_ptr<probe> make_postgres_probe(const config::probe_config& config, const probe_context& context) {
  return std::make_unique<postgres_check>(config, context);
}

}  // namespace healthd::probes::detail
