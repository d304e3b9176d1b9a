// The real platform-healthd binary: started with a small config on a free port, it serves the API, talks to systemd
// through NOTIFY_SOCKET (READY, WATCHDOG, STOPPING) and exits 0 on SIGTERM.

#include "support/http_test_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <random>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace healthd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A temporary directory with the config, the daemon's log and systemd's notification socket.
class scratch_dir {
public:
  scratch_dir() : path_(fs::temp_directory_path() / ("healthd-daemon-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path_);
  }
  ~scratch_dir() { fs::remove_all(path_); }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

// What the daemon sends to $NOTIFY_SOCKET, as systemd would receive it.
class notify_socket {
public:
  explicit notify_socket(const fs::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot bind the notify socket");
    }
  }
  ~notify_socket() { ::close(fd_); }
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

  // Waits for a datagram containing `state` (e.g. "READY=1"); messages before it are skipped.
  bool wait_for(const std::string& state, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      std::istringstream lines(std::string(buffer, static_cast<std::size_t>(n)));
      for (std::string line; std::getline(lines, line);) {
        if (line == state) return true;
      }
    }
  }

private:
  std::string path_;
  int fd_ = -1;
};

// The daemon as a child process; killed and reaped by the destructor if the test did not stop it.
class daemon_process {
public:
  daemon_process(const std::vector<std::string>& args, const std::vector<std::string>& extra_env, const fs::path& log) {
    std::vector<std::string> argv_storage{HEALTHD_DAEMON_PATH};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      if (!entry.starts_with("NOTIFY_SOCKET=") && !entry.starts_with("WATCHDOG_") &&
          !entry.starts_with("HEALTHD_ADMIN_TOKEN=")) {
        env_storage.push_back(entry);
      }
    }
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> argv;
    argv.reserve(argv_storage.size() + 1);
    for (auto& a : argv_storage)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(env_storage.size() + 1);
    for (auto& e : env_storage)
      envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv_storage[0]);
  }

  ~daemon_process() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  void signal(int signo) const { ::kill(pid_, signo); }

  // The exit code once the process ended within `limit`; nullopt if it still runs (or died of a signal: -signo).
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!status_) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
    return status_;
  }

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

std::string log_of(const fs::path& log) {
  std::ifstream in(log);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_config(const fs::path& file, const std::string& server_extra = "") {
  std::ofstream(file) << R"({
  // A tiny platform: nothing answers on port 1, so both probes fail at once; redis has a heal that does nothing.
  "server": { "listen": "127.0.0.1:1", "threads": 2, "static_dir": "/nonexistent/healthd" )"
                      << server_extra << R"( },
  "breakers": { "redis": { "failure_threshold": 100 } },  // never opens here, so no automatic heal interferes
  "subsystems": {
    "redis": { "breaker": "redis", "critical": true, "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1 },
               "heal": { "actions": [ { "type": "exec", "name": "noop", "argv": ["true"] } ] } },
    "websocket": { "loop": "integrations", "probe": { "type": "tcp", "host": "127.0.0.1", "port": 1 } }
  }
})";
}

bool eventually_serving(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (http_once(port, "GET", "/livez").status == 200) return true;
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  return false;
}

TEST(daemon, serves_the_api_notifies_systemd_and_exits_0_on_sigterm) {
  scratch_dir dir;
  write_config(dir.path() / "config.json");
  notify_socket systemd(dir.path() / "notify");
  const auto port = free_loopback_port();
  daemon_process daemon(
      {"--config", (dir.path() / "config.json").string(), "--listen", "127.0.0.1:" + std::to_string(port)},
      {"NOTIFY_SOCKET=" + systemd.path(), "WATCHDOG_USEC=200000"}, dir.path() / "log");

  ASSERT_TRUE(systemd.wait_for("READY=1", 20s)) << log_of(dir.path() / "log");
  const auto health = http_once(port, "GET", "/api/v1/platform/health");
  ASSERT_EQ(health.status, 200) << log_of(dir.path() / "log");
  const auto json = nlohmann::json::parse(health.body);
  EXPECT_EQ(json["subsystems"].size(), 2U);
  EXPECT_EQ(json["subsystems"]["redis"]["breaker"], "redis");
  EXPECT_TRUE(json["subsystems"]["websocket"]["breaker"].is_null());
  EXPECT_EQ(http_once(port, "GET", "/livez").status, 200);
  EXPECT_EQ(http_once(port, "GET", "/").status, 404);  // no dashboard directory: API only
  // The engine's first round gives every subsystem a result.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (http_once(port, "GET", "/readyz").status != 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(http_once(port, "GET", "/readyz").status, 200);
  EXPECT_TRUE(systemd.wait_for("WATCHDOG=1", 2s));

  daemon.signal(SIGTERM);
  EXPECT_TRUE(systemd.wait_for("STOPPING=1", 5s));
  EXPECT_EQ(daemon.wait_exit(8s), 0) << log_of(dir.path() / "log");
  EXPECT_NE(log_of(dir.path() / "log").find("serving the API only"), std::string::npos);
}

TEST(daemon, admin_token_file_guards_manual_heal) {
  scratch_dir dir;
  std::ofstream(dir.path() / "token") << "file-token\n";
  write_config(dir.path() / "config.json", R"(, "admin_token_file": ")" + (dir.path() / "token").string() + "\"");
  const auto port = free_loopback_port();
  daemon_process daemon(
      {"--config", (dir.path() / "config.json").string(), "--listen", "127.0.0.1:" + std::to_string(port)}, {},
      dir.path() / "log");
  ASSERT_TRUE(eventually_serving(port, 20s)) << log_of(dir.path() / "log");
  EXPECT_EQ(http_once(port, "POST", "/api/v1/platform/heal/redis").status, 401);
  EXPECT_EQ(http_once(port, "POST", "/api/v1/platform/heal/redis", {{"Authorization", "Bearer nope"}}).status, 403);
  // The right token reaches the engine, which runs redis's do-nothing heal and answers with its entry.
  const auto r = http_once(port, "POST", "/api/v1/platform/heal/redis", {{"Authorization", "Bearer file-token"}},
                           R"({"reason":"daemon test"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json["subsystem"], "redis");
  EXPECT_EQ(json["result"], "success");
  ASSERT_FALSE(json["entries"].empty());
  EXPECT_EQ(json["entries"][0]["action"], "exec:noop");
  EXPECT_EQ(json["entries"][0]["trigger"], "manual");
  daemon.signal(SIGINT);
  EXPECT_EQ(daemon.wait_exit(8s), 0);
  EXPECT_EQ(log_of(dir.path() / "log").find("file-token"), std::string::npos);
}

TEST(daemon, taken_port_exits_1) {
  scratch_dir dir;
  write_config(dir.path() / "config.json");
  // Hold a port by listening on it.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  ASSERT_EQ(::bind(holder, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &size), 0);
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  daemon_process daemon({"--config", (dir.path() / "config.json").string(), "--listen",
                         "127.0.0.1:" + std::to_string(ntohs(address.sin_port))},
                        {}, dir.path() / "log");
  EXPECT_EQ(daemon.wait_exit(20s), 1) << log_of(dir.path() / "log");
  ::close(holder);
}

TEST(daemon, unreadable_admin_token_file_exits_2) {
  scratch_dir dir;
  write_config(dir.path() / "config.json", R"(, "admin_token_file": "/nonexistent/healthd/token")");
  daemon_process daemon({"--config", (dir.path() / "config.json").string()}, {}, dir.path() / "log");
  EXPECT_EQ(daemon.wait_exit(20s), 2) << log_of(dir.path() / "log");
  EXPECT_NE(log_of(dir.path() / "log").find("/nonexistent/healthd/token"), std::string::npos);
}

}  // namespace
}  // namespace healthd::test
