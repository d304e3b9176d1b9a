#pragma once
// The real platform-healthd binary as a child of a test: a scratch directory for its config and log, systemd's
// notification socket as systemd would read it, and the process itself, killed and reaped by the destructor if the
// test did not stop it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace healthd::test {

// A temporary directory, removed with everything in it by the destructor.
class scratch_dir {
public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

// What the daemon sends to $NOTIFY_SOCKET, as systemd would receive it.
class notify_socket {
public:
  explicit notify_socket(const std::filesystem::path& path);  // throws std::runtime_error if it cannot bind
  ~notify_socket();
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  // Waits for a datagram line equal to `state` (e.g. "READY=1"); messages before it are skipped.
  bool wait_for(const std::string& state, std::chrono::milliseconds limit);

private:
  std::string path_;
  int fd_ = -1;
};

class daemon_process {
public:
  // Starts `binary args...` with this process's environment (minus NOTIFY_SOCKET, WATCHDOG_* and
  // HEALTHD_ADMIN_TOKEN) plus `extra_env`; stdout and stderr are appended to `log`. Throws if it cannot start.
  daemon_process(const std::filesystem::path& binary, const std::vector<std::string>& args,
                 const std::vector<std::string>& extra_env, const std::filesystem::path& log);
  ~daemon_process();
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  void signal(int signo) const;
  // The exit code once the process ended within `limit` (-signo if a signal ended it); nullopt if it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);

private:
  int pid_ = -1;
  std::optional<int> status_;
};

// The whole file, or "" when it cannot be read.
[[nodiscard]] std::string file_text(const std::filesystem::path& file);

// True once GET /livez on 127.0.0.1:port answers 200 within `limit`.
[[nodiscard]] bool eventually_serving(std::uint16_t port, std::chrono::milliseconds limit);

}  // namespace healthd::test
