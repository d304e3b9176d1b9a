#pragma once
// Runs a program without a shell, for the exec probe and the exec heal action.
//
// The child: argv[0] found on the child's PATH, its own process group, stdin /dev/null, no inherited descriptors,
// default signal dispositions, and an environment of only PATH, LANG (the daemon's values, or defaults) and
// `spec.env` — never the daemon's environment. stdout and stderr are read through Asio pipes, at most
// `max_output_bytes` of each kept (as valid UTF-8, cut on a character boundary).
//
// The child's own exit decides the result, never its descendants': once it has exited, the pipes are read for a
// short grace (50 ms, within the deadline) and what is buffered is taken, then reading stops — a server the child
// started and left holding stdout/stderr (`pg_ctl start` without `-l`) neither delays the result nor is killed; it
// may get EPIPE if it writes there later. The result is `exited` or `signaled` with the output read so far, and the
// process group is left alone. Only a child itself still running at `timeout` is `timed_out`: `run_child` returns at
// once; in the background the group gets SIGTERM, then SIGKILL `kill_grace` later.
//
// Reaping: the child is always reaped, and waiting for it never blocks the calling thread (an I/O thread, or
// whichever thread destroys the executor). No SIGCHLD handler is used: a pidfd is watched (polled on kernels without
// one), so the daemon may have other children, and waitpid runs with WNOHANG only once the child has exited. A child
// that has not exited when it must be reaped — still running when the executor is destroyed (its group then gets
// SIGKILL, unless it exited on its own), or not gone 5 s after SIGKILL (uninterruptible sleep) — is handed to a
// thread of its own that waits for it; if no thread can be started it stays a zombie until the daemon exits.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace healthd::io {

struct child_spec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH unless it contains '/'
  std::map<std::string, std::string> env;
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds kill_grace{1000};  // SIGTERM -> SIGKILL
  std::size_t max_output_bytes = 4096;         // per stream
};

struct child_result {
  enum class end { exited, signaled, timed_out, failed_to_start };
  end how = end::failed_to_start;
  int exit_code = -1;         // exited
  int signal = 0;             // signaled
  std::string out;            // stdout: valid UTF-8, at most max_output_bytes, cut on a character boundary
  std::string err;            // stderr, likewise
  std::size_t out_bytes = 0;  // total read from stdout
  std::size_t err_bytes = 0;
  std::string error;  // failed_to_start: why ("spawn: No such file or directory")
  int pid = 0;        // for tests
};

[[nodiscard]] boost::asio::awaitable<child_result> run_child(boost::asio::any_io_executor executor, child_spec spec);

// Test hook: how many blocking waitpid calls the runner has made, process-wide, on threads other than its reaper
// threads (the I/O threads, or whichever thread destroyed the executor).
[[nodiscard]] std::size_t blocking_waits_outside_reaper_for_test();

}  // namespace healthd::io
