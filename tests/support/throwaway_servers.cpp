#include "support/throwaway_servers.hpp"

#include "support/fake_peers.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace healthd::test {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view pg_bin_dir = "/usr/lib/postgresql/15/bin";

fs::path pg_bin() { return fs::path(pg_bin_dir); }

bool is_root() { return ::geteuid() == 0; }

// The account PostgreSQL runs as: root may not run it.
std::optional<passwd> postgres_account() {
  if (!is_root()) return std::nullopt;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("throwaway_postgres: no postgres user");
  return *pw;
}

void give_to_postgres(const fs::path& path) {
  if (auto pw = postgres_account()) {
    if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("chown " + path.string() + ": " + std::strerror(errno));
  }
}

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  if (is_root()) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string tail(const fs::path& file, std::size_t bytes = 2000) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

// Waits (polling) until every pid is reaped by us or gone.
void reap_all(const std::vector<int>& pids, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  (void)eventually(
      [&] {
        bool all = true;
        for (int pid : pids) {
          int status = 0;
          const int r = ::waitpid(pid, &status, WNOHANG);
          if (r == pid) continue;
          if (r < 0 && errno == ECHILD && !fs::exists("/proc/" + std::to_string(pid))) continue;
          all = false;
        }
        return all;
      },
      timeout);
}

// The cluster template, created once per machine with initdb and copied for each server (initdb is the slow part).
fs::path pg_template() {
  fs::path dir = fs::temp_directory_path() / ("healthd-pg-template-15-" + std::to_string(::geteuid()));
  if (fs::exists(dir / "data" / "PG_VERSION")) return dir;
  const fs::path lock_path = fs::temp_directory_path() / "healthd-pg-template.lock";
  const int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ::flock(lock, LOCK_EX);
  if (!fs::exists(dir / "data" / "PG_VERSION")) {
    const auto work = make_temp_dir("healthd-pg-initdb");
    give_to_postgres(work);
    const auto status = run_program(as_postgres({(pg_bin() / "initdb").string(), "-D", (work / "data").string(), "-A",
                                                 "trust", "-U", "postgres", "-N", "-E", "UTF8", "--locale=C"}),
                                    work / "initdb.log");
    if (status != 0) {
      ::close(lock);
      throw std::runtime_error("initdb failed: " + tail(work / "initdb.log"));
    }
    fs::remove_all(dir);
    fs::rename(work, dir);
  }
  ::close(lock);
  return dir;
}

}  // namespace

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL); }

int run_program(const std::vector<std::string>& argv, const std::optional<std::filesystem::path>& log,
                const std::optional<std::filesystem::path>& input) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string in = input ? input->string() : "/dev/null";
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  const std::string out = log ? log->string() : "/dev/null";
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = argv;
  std::vector<char*> raw;
  raw.reserve(args.size() + 1);
  for (auto& a : args)
    raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ---- PostgreSQL ------------------------------------------------------------------------------------------------
throwaway_postgres::throwaway_postgres() : root_(make_temp_dir("healthd-pg")), port_(free_port()) {
  become_subreaper();
  give_to_postgres(root_);
}

throwaway_postgres::~throwaway_postgres() {
  try {
    if (running_ || fs::exists(root_ / "data" / "postmaster.pid")) kill();
  } catch (...) {
  }
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

void throwaway_postgres::start() {
  if (!fs::exists(root_ / "data")) {
    const auto from = pg_template();
    if (run_program({"cp", "-a", (from / "data").string(), (root_ / "data").string()}) != 0)
      throw std::runtime_error("cannot copy the cluster template");
    fs::create_directories(root_ / "run");
    give_to_postgres(root_ / "run");
  }
  const auto status = run_program(start_argv(), root_ / "pg_ctl.log");
  if (status != 0 || !eventually([this] { return accepting(); }, std::chrono::seconds(10)))
    throw std::runtime_error("PostgreSQL did not start: " + tail(root_ / "pg_ctl.log") + tail(root_ / "server.log"));
  running_ = true;
}

std::vector<std::string> throwaway_postgres::start_argv() const {
  const std::string options = "-p " + std::to_string(port_) + " -k " + (root_ / "run").string() +
                              " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
                              " -c synchronous_commit=off -c max_connections=20 -c shared_buffers=16MB";
  return as_postgres({(pg_bin() / "pg_ctl").string(), "-D", (root_ / "data").string(), "-o", options, "-l",
                      (root_ / "server.log").string(), "-w", "-t", "30", "start"});
}

void throwaway_postgres::stop() {
  const auto pids = server_pids();
  (void)run_program(
      as_postgres({(pg_bin() / "pg_ctl").string(), "-D", (root_ / "data").string(), "-m", "fast", "-w", "stop"}),
      root_ / "pg_ctl.log");
  reap_all(pids);
  running_ = false;
}

void throwaway_postgres::kill() {
  const auto pids = server_pids();
  for (int pid : pids)
    ::kill(pid, SIGKILL);
  reap_all(pids);
  running_ = false;
}

std::vector<int> throwaway_postgres::server_pids() const {
  std::vector<int> pids;
  std::ifstream pidfile(root_ / "data" / "postmaster.pid");
  int postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) return pids;
  pids.push_back(postmaster);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) pids.push_back(std::stoi(name));
  }
  return pids;
}

bool throwaway_postgres::accepting() const {
  const auto info = conninfo() + " connect_timeout=2";
  PGconn* conn = PQconnectdb(info.c_str());
  bool ok = false;
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* result = PQexec(conn, "SELECT 1");
    ok = PQresultStatus(result) == PGRES_TUPLES_OK;
    PQclear(result);
  }
  PQfinish(conn);
  return ok;
}

std::string throwaway_postgres::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

// ---- Redis -------------------------------------------------------------------------------------------------------
throwaway_redis::throwaway_redis() : dir_(make_temp_dir("healthd-redis")), port_(free_port()) { become_subreaper(); }

throwaway_redis::~throwaway_redis() {
  if (pid_ > 0) kill();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void throwaway_redis::start(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_.string(),
                                   "--logfile",
                                   (dir_ / "redis.log").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> raw;
  raw.reserve(args.size() + 1);
  for (auto& a : args)
    raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, "redis-server", &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error(std::string("redis-server: ") + std::strerror(error));
  pid_ = pid;
  if (!eventually([this] { return accepting(); }, std::chrono::seconds(10)))
    throw std::runtime_error("redis-server did not start: " + tail(dir_ / "redis.log"));
}

void throwaway_redis::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  reap_all({pid_});
  pid_ = -1;
}

void throwaway_redis::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap_all({pid_});
  pid_ = -1;
}

bool throwaway_redis::accepting() const {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
    char reply[64] = {};
    const auto n = ::recv(fd, reply, sizeof reply - 1, 0);
    ok = n > 0 && (std::strncmp(reply, "+PONG", 5) == 0 || std::strncmp(reply, "-NOAUTH", 7) == 0);
  }
  ::close(fd);
  return ok;
}

std::optional<std::string> shared_postgres_conninfo() {
  const char* value = std::getenv("HEALTHD_TEST_PG_CONNINFO");
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::optional<std::uint16_t> shared_redis_port() {
  const char* value = std::getenv("HEALTHD_TEST_REDIS_PORT");
  if (value == nullptr || *value == '\0') return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(value));
}

}  // namespace healthd::test
