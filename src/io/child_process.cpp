#include "healthd/io/child_process.hpp"

#include "healthd/io/background.hpp"
#include "healthd/io/text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace healthd::io {

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

constexpr std::string_view default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::map<std::string, std::string> child_environment(const std::map<std::string, std::string>& configured) {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("PATH");
  env["PATH"] = path != nullptr && *path != '\0' ? path : std::string(default_path);
  const char* lang = std::getenv("LANG");
  env["LANG"] = lang != nullptr && *lang != '\0' ? lang : "C.UTF-8";
  for (const auto& [key, value] : configured)
    env[key] = value;
  return env;
}

// argv[0] as execve needs it: searched on the child's PATH unless it names a path.
std::optional<std::string> find_program(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) return name;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir;
    candidate += "/";
    candidate += name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::atomic<std::size_t> blocking_waits_outside_reaper{0};
thread_local bool on_reaper_thread = false;

int wait_blocking(pid_t pid) {
  if (!on_reaper_thread) ++blocking_waits_outside_reaper;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Waits for a child that has not exited yet on a thread of its own, so that no I/O thread (nor whichever thread
// destroys the executor) blocks on it: after SIGKILL, a child in uninterruptible sleep may take indefinitely to go.
// Rare (only a child that outlived SIGKILL or the executor), so one short-lived thread each is enough. If no thread
// can be started, the child stays a zombie until the daemon exits rather than block the caller.
void reap_in_background(pid_t pid) noexcept {
  try {
    std::thread([pid] {
      on_reaper_thread = true;
      (void)wait_blocking(pid);
    }).detach();
  } catch (...) {
    log_background_failure("starting a thread to reap a child", std::current_exception());
  }
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// How long the pipes are still read after the child itself has exited, for output a descendant that holds them (a
// server the child started) is about to write or close. Only this, never the descendants' exit, is waited for.
constexpr std::chrono::milliseconds output_grace{50};

// What is taken from a pipe without waiting once reading stops: enough for everything the child wrote before it
// exited (a pipe holds 64 KiB by default), bounded so a descendant writing without pause cannot keep the runner.
constexpr std::size_t final_read_limit = std::size_t{1} << 20;

// Everything one child needs while it runs, shared by the waiter and the background reaper. The destructor
// guarantees the child is reaped even if the executor goes away first.
struct child_io {
  child_io(const asio::any_io_executor& ex, std::size_t limit)
      : out(ex), err(ex), exit_watch(ex), output_closed_signal(ex), out_kept(limit), err_kept(limit) {}
  child_io(const child_io&) = delete;
  child_io& operator=(const child_io&) = delete;
  ~child_io() {
    if (pid <= 0 || reaped) return;
    // Still running (the executor went first): kill the group. A child that exited on its own keeps its group.
    if (killing || !exited()) ::kill(-pid, SIGKILL);
    if (!try_reap() && !reaped) reap_in_background(pid);
  }

  // True once the leader has exited (without reaping it, so its pid keeps naming the process group).
  [[nodiscard]] bool exited() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
  }

  // The wait status if the child has exited, reaping it; never blocks (once exited() is true, it always reaps).
  std::optional<int> try_reap() {
    int status = 0;
    pid_t waited = -1;
    do {
      waited = ::waitpid(pid, &status, WNOHANG);
    } while (waited < 0 && errno == EINTR);
    if (waited == pid) {
      reaped = true;
      return status;
    }
    if (waited < 0) reaped = true;  // ECHILD: nothing is left to reap
    return std::nullopt;
  }

  // Ends the reads: each drain takes what is already buffered and returns.
  void stop_reading() {
    reading_stopped = true;
    boost::system::error_code ignored;
    out.cancel(ignored);
    err.cancel(ignored);
  }

  pid_t pid = -1;
  bool reaped = false;
  bool killing = false;  // timed out: the whole group is put down
  bool reading_stopped = false;
  bool output_closed = false;  // both pipes reached end of file (or failed)
  asio::posix::stream_descriptor out;
  asio::posix::stream_descriptor err;
  asio::posix::stream_descriptor exit_watch;  // a pidfd; readable when the child has exited
  asio::steady_timer output_closed_signal;    // cancelled when output_closed becomes true
  capped_buffer out_kept;
  capped_buffer err_kept;
};

asio::awaitable<void> drain(std::shared_ptr<child_io> io, bool stdout_stream) {
  auto& stream = stdout_stream ? io->out : io->err;
  auto& kept = stdout_stream ? io->out_kept : io->err_kept;
  std::array<char, 65536> chunk{};
  while (!io->reading_stopped) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    kept.append(std::string_view(chunk.data(), n));
    if (ec == asio::error::operation_aborted) break;
    if (ec) co_return;
  }
  // Stopped while the pipe may still be open: take what is buffered (all the child wrote, now that it has exited).
  boost::system::error_code ec;
  stream.non_blocking(true, ec);
  for (std::size_t taken = 0; !ec && taken < final_read_limit;) {
    const std::size_t n = stream.read_some(asio::buffer(chunk), ec);
    kept.append(std::string_view(chunk.data(), n));
    taken += n;
  }
}

asio::awaitable<void> read_output(std::shared_ptr<child_io> io) {
  co_await (drain(io, true) && drain(io, false));
  io->output_closed = true;
  io->output_closed_signal.cancel();
}

asio::awaitable<void> wait_exit(std::shared_ptr<child_io> io) {
  if (io->exit_watch.is_open()) {
    co_await io->exit_watch.async_wait(asio::posix::stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  // No pidfd (kernel before 5.3): poll.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!io->exited()) {
    timer.expires_after(std::chrono::milliseconds(20));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

// Waits for the child's own exit or the deadline, whichever is first; after an exit, gives the output a grace
// (within the deadline) to reach end of file. Then stops the reads. True if the child has exited.
asio::awaitable<bool> watch(std::shared_ptr<child_io> io, std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  co_await (wait_exit(io) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  const bool exited = io->exited();
  if (exited && !io->output_closed) {
    io->output_closed_signal.expires_at(std::min(std::chrono::steady_clock::now() + output_grace, deadline));
    co_await io->output_closed_signal.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  io->stop_reading();
  co_return exited;
}

// After a timeout: SIGTERM was sent; SIGKILL the group after the grace period, then reap.
asio::awaitable<void> put_down(std::shared_ptr<child_io> io, std::chrono::milliseconds grace) {
  asio::steady_timer timer(co_await asio::this_coro::executor, grace);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  ::kill(-io->pid, SIGKILL);
  if (!io->exited()) {
    // SIGKILL cannot be ignored: the exit follows promptly.
    timer.expires_after(std::chrono::seconds(5));
    co_await (wait_exit(io) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
  if (io->exited()) (void)io->try_reap();
  // Otherwise the child_io destructor hands the child to a reaper thread.
}

asio::awaitable<child_result> run_on_strand(child_spec spec) {
  auto executor = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  child_result result;
  if (spec.argv.empty()) {
    result.error = "spawn: argv is empty";
    co_return result;
  }
  const auto env = child_environment(spec.env);
  const auto program = find_program(spec.argv[0], env.at("PATH"));
  if (!program) {
    result.error = "spawn: " + spec.argv[0] + ": not found on PATH";
    co_return result;
  }

  std::array<int, 2> out_pipe{-1, -1};
  std::array<int, 2> err_pipe{-1, -1};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0 || ::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    result.error = std::string("spawn: pipe: ") + std::strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      if (fd >= 0) ::close(fd);
    co_return result;
  }

  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [key, value] : env) {
    auto& entry = env_strings.emplace_back(key);
    entry += "=";
    entry += value;
  }
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (auto& a : spec.argv)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t all_signals;
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int spawn_error = ::posix_spawn(&pid, program->c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawn_error != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.error = "spawn: " + spec.argv[0] + ": " + std::strerror(spawn_error);
    co_return result;
  }

  auto io = std::make_shared<child_io>(executor, spec.max_output_bytes);
  io->pid = pid;
  result.pid = pid;
  io->out.assign(out_pipe[0]);
  io->err.assign(err_pipe[0]);
  if (const int pidfd = open_pidfd(pid); pidfd >= 0) io->exit_watch.assign(pidfd);

  const bool exited = co_await (read_output(io) && watch(io, deadline));
  result.out_bytes = io->out_kept.total();
  result.err_bytes = io->err_kept.total();
  result.out = io->out_kept.text();
  result.err = io->err_kept.text();
  if (exited) {
    // The process group is left alone: what the child started and left running (a server) is meant to stay.
    const auto waited = io->try_reap();
    assert(waited && "watch() saw the child exit, so it is there to reap");
    // Should the status be lost anyway, an unknown exit code: a failure, never a success.
    const int status = waited.value_or(W_EXITCODE(255, 0));
    if (WIFEXITED(status)) {
      result.how = child_result::end::exited;
      result.exit_code = WEXITSTATUS(status);
    } else {
      result.how = child_result::end::signaled;
      result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    co_return result;
  }
  result.how = child_result::end::timed_out;
  io->killing = true;
  ::kill(-pid, SIGTERM);
  asio::co_spawn(executor, put_down(io, spec.kill_grace),
                 [](const std::exception_ptr& e) { log_background_failure("reaping a timed-out child", e); });
  co_return result;
}

}  // namespace

asio::awaitable<child_result> run_child(asio::any_io_executor executor, child_spec spec) {
  co_return co_await asio::co_spawn(asio::make_strand(executor), run_on_strand(std::move(spec)), asio::use_awaitable);
}

std::size_t blocking_waits_outside_reaper_for_test() { return blocking_waits_outside_reaper.load(); }

}  // namespace healthd::io
