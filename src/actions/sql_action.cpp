// sql: one statement on the subsystem's database (its postgres probe's conninfo) or a given conninfo, e.g.
// terminating sessions idle in transaction. libpqxx on the blocking pool; a statement still running at the deadline
// is abandoned by shutting its socket down.

#include "healthd/io/blocking_pool.hpp"
#include "healthd/io/libpq.hpp"

#include "action_support.hpp"

#include <pqxx/pqxx>

namespace healthd::actions::detail {

namespace {

struct sql_job;
void execute(sql_job& job, const std::string& conninfo, const std::string& statement);

struct sql_job {
  sql_job(std::string c, std::string s) : conninfo(std::move(c)), statement(std::move(s)) {}
  void run() { execute(*this, conninfo, statement); }
  void cancel() { socket.shutdown(); }
  std::string conninfo;
  std::string statement;
  io::job_socket socket;
  bool ok = false;
  std::string message;
};

void execute(sql_job& job, const std::string& conninfo, const std::string& statement) {
  try {
    pqxx::connection connection(conninfo);
    job.socket.set(connection.sock());
    pqxx::nontransaction tx(connection);
    const auto result = tx.exec(statement);
    job.ok = true;
    // A statement that returns rows reports how many; any other the rows it changed (libpq counts both alike).
    const bool returns_rows = result.columns() > 0;
    const auto n = returns_rows ? result.size() : result.affected_rows();
    job.message = std::to_string(n) + (n == 1 ? " row " : " rows ") + (returns_rows ? "returned" : "affected");
    job.socket.clear();
  } catch (const std::exception& e) {
    job.socket.clear();
    job.message = io::short_libpq_error(e.what());
    if (job.message.empty()) job.message = "unknown error";
  }
}

class sql final : public action {
public:
  sql(const config::action_config& config, const action_context& context)
      : options_(options_as<config::sql_action>(config)),
        timeout_ms_(config.timeout_ms),
        pool_(context.pool),
        key_(context.subsystem + ":sql"),
        secrets_(context.secrets) {
    std::string conninfo;
    if (options_.conninfo) {
      conninfo = *options_.conninfo;
    } else if (const auto* pg = std::get_if<config::postgres_probe>(&context.subsystem_probe.options)) {
      conninfo = pg->conninfo;
    } else {
      throw action_config_error("sql action: no conninfo, and the subsystem's probe is not postgres");
    }
    if (pool_ == nullptr) throw action_config_error("sql action: no blocking pool");
    if (auto password = conninfo_password(conninfo)) secrets_.add(*password);
    conninfo_ = io::with_connect_timeout(conninfo, timeout_ms_);
  }

  boost::asio::awaitable<action_outcome> run() override {
    auto job = std::make_shared<sql_job>(conninfo_, options_.statement);
    const auto timeout = std::chrono::milliseconds{timeout_ms_};
    const auto outcome = co_await io::run_job(*pool_, key_, timeout, job);
    action_outcome result;
    result.success = outcome == io::job_outcome::done && job->ok;
    result.message = io::failure_message(outcome, timeout, "sql action").value_or(job->message);
    result.message = secrets_.sanitize(result.message);
    co_return result;
  }

private:
  config::sql_action options_;
  int timeout_ms_;
  io::blocking_pool* pool_;
  std::string key_;
  std::string conninfo_;
  secret_set secrets_;
};

}  // namespace

std::unique_ptr<action> make_sql_action(const config::action_config& config, const action_context& context) {
  return std::make_unique<sql>(config, context);
}

}  // namespace healthd::actions::detail
