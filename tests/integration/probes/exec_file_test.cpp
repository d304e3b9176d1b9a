// exec and file probes, run_child, and the blocking pool.

#include "healthd/core/utf8.hpp"
#include "healthd/io/child_process.hpp"

#include "probe_harness.hpp"
#include "support/throwaway_servers.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

namespace healthd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

config::exec_probe shell(const std::string& script) {
  config::exec_probe options;
  options.argv = {"/bin/sh", "-c", script};
  return options;
}

bool process_exists(int pid) { return fs::exists("/proc/" + std::to_string(pid)); }

// ---- exec -------------------------------------------------------------------------------------------------------
TEST(exec_probe, nagios_exit_codes_map_to_statuses_and_messages) {
  probe_harness h;
  struct expectation {
    int code;
    probe_status status;
    std::string message;
  };
  const std::vector<expectation> table = {
      {0, probe_status::healthy, "FEED OK - 12 items"},
      {1, probe_status::degraded, "FEED OK - 12 items"},
      {2, probe_status::critical, "FEED OK - 12 items"},
      {3, probe_status::critical, "unknown: FEED OK - 12 items"},
      {42, probe_status::critical, "unknown: FEED OK - 12 items"},
  };
  for (const auto& row : table) {
    auto probe = h.make(
        shell("echo 'FEED OK - 12 items | items=12;20;30;0 age=3s'; echo more; exit " + std::to_string(row.code)));
    const auto r = h.run(*probe);
    EXPECT_EQ(r.result.status, row.status) << "exit " << row.code;
    EXPECT_EQ(r.result.message, row.message) << "exit " << row.code;
    EXPECT_EQ(r.result.details["exit_code"], row.code);
    EXPECT_EQ(r.result.details["perfdata"]["items"]["value"], 12);
    EXPECT_EQ(r.result.details["perfdata"]["age"]["uom"], "s");
  }
}

TEST(exec_probe, child_sees_only_path_lang_and_configured_env) {
  ::setenv("HEALTHD_ADMIN_TOKEN", "daemon-secret", 1);
  probe_harness h;
  config::exec_probe options;
  options.argv = {"env"};
  options.env = {{"FEED_URL", "http://feed"}};
  auto probe = h.make(options);
  const auto child = [&] {
    std::optional<io::child_result> out;
    io::child_spec spec;
    spec.argv = {"env"};
    spec.env = options.env;
    boost::asio::co_spawn(h.io, io::run_child(h.io.get_executor(), spec),
                          [&](const std::exception_ptr&, io::child_result r) { out = std::move(r); });
    h.io.run();
    return *out;
  }();
  EXPECT_EQ(child.how, io::child_result::end::exited);
  EXPECT_NE(child.out.find("PATH="), std::string::npos);
  EXPECT_NE(child.out.find("LANG="), std::string::npos);
  EXPECT_NE(child.out.find("FEED_URL=http://feed\n"), std::string::npos);
  EXPECT_EQ(child.out.find("HEALTHD_ADMIN_TOKEN"), std::string::npos);
  EXPECT_EQ(std::count(child.out.begin(), child.out.end(), '\n'), 3);
  EXPECT_EQ(h.run(*probe).result.status, probe_status::healthy);
}

TEST(exec_probe, child_outliving_its_deadline_is_killed_and_reaped) {
  probe_harness h;
  // Ignores SIGTERM, so only the SIGKILL a second later ends it.
  auto probe = h.make(shell("trap '' TERM; echo $$ > /dev/stderr; sleep 30; sleep 30"), 300);
  std::optional<timed_result> result;
  const auto start = std::chrono::steady_clock::now();
  boost::asio::co_spawn(h.io, probe->run(), [&](const std::exception_ptr&, probe_result r) {
    result = timed_result{
        std::move(r), std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
  });
  h.io.run();  // returns once the background SIGKILL and reaping are done
  const auto all_done = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(result);
  print_figure("exec result, timeout 300 ms", result->elapsed);
  print_figure("exec child killed and reaped", all_done);
  EXPECT_EQ(result->result.status, probe_status::critical);
  EXPECT_EQ(result->result.message, "timeout after 300 ms");
  EXPECT_LE(result->elapsed, 1300ms);
  EXPECT_GE(all_done, 1200ms);  // SIGTERM was ignored: SIGKILL came one second later
  const int pid = std::stoi(result->result.details["stderr"].get<std::string>());
  EXPECT_FALSE(process_exists(pid)) << "pid " << pid << " still exists (zombie?)";
}

TEST(exec_probe, whole_process_group_is_killed_at_the_deadline) {
  probe_harness h;
  std::optional<io::child_result> out;
  io::child_spec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 30 & echo $! > /dev/stderr; wait"};
  spec.timeout = 300ms;
  boost::asio::co_spawn(h.io, io::run_child(h.io.get_executor(), spec),
                        [&](const std::exception_ptr&, io::child_result r) { out = std::move(r); });
  h.io.run();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->how, io::child_result::end::timed_out);
  const int grandchild = std::stoi(out->err);
  EXPECT_TRUE(eventually(
      [&] {
        return !process_exists(grandchild) || [&] {
          std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
          std::string line;
          std::getline(stat, line);
          return line.find(") Z") != std::string::npos;  // a zombie of PID 1 is gone as far as we are concerned
        }();
      },
      3s));
  EXPECT_FALSE(process_exists(out->pid));
}

// A descendant left running by the child: its pid comes from a file the script writes; killed when the test ends,
// whatever the outcome.
class leftover_process {
public:
  leftover_process() {
    std::string pattern = (fs::temp_directory_path() / "healthd-leftover-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd >= 0) ::close(fd);
    pid_file_ = pattern;
  }
  leftover_process(const leftover_process&) = delete;
  leftover_process& operator=(const leftover_process&) = delete;
  ~leftover_process() {
    if (const int p = pid(); p > 0) ::kill(p, SIGKILL);
    fs::remove(pid_file_);
  }
  [[nodiscard]] std::string pid_file() const { return pid_file_.string(); }
  [[nodiscard]] int pid() const {
    std::ifstream in(pid_file_);
    int p = 0;
    in >> p;
    return p;
  }
  // Alive and not a zombie: a zombie of PID 1 would still answer kill(pid, 0).
  [[nodiscard]] bool running() const {
    const int p = pid();
    if (p <= 0 || ::kill(p, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
    std::string line;
    std::getline(stat, line);
    return !line.empty() && line.find(") Z") == std::string::npos;
  }

private:
  fs::path pid_file_;
};

struct timed_child {
  io::child_result result;
  std::chrono::milliseconds elapsed{0};  // from co_spawn to the result, on the steady clock
};

timed_child run_child_timed(probe_harness& h, io::child_spec spec) {
  std::optional<timed_child> out;
  const auto start = std::chrono::steady_clock::now();
  boost::asio::co_spawn(h.io, io::run_child(h.io.get_executor(), std::move(spec)),
                        [&](const std::exception_ptr& e, io::child_result r) {
                          if (e) std::rethrow_exception(e);
                          out = timed_child{std::move(r), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              std::chrono::steady_clock::now() - start)};
                        });
  h.io.restart();
  h.io.run();
  if (!out) throw std::logic_error("run_child did not complete");
  return std::move(*out);
}

TEST(exec_probe, child_exit_ends_the_run_although_a_descendant_holds_stdout) {
  probe_harness h;
  const leftover_process leftover;
  io::child_spec spec;
  // The background sleep inherits stdout and stderr, as `pg_ctl start` without -l leaves the server holding them.
  spec.argv = {"/bin/sh", "-c", "echo started; sleep 30 & echo $! > " + leftover.pid_file()};
  spec.timeout = 5s;
  const auto r = run_child_timed(h, spec);
  print_figure("exec child exited, descendant holding stdout, timeout 5 s", r.elapsed);
  EXPECT_EQ(r.result.how, io::child_result::end::exited);
  EXPECT_EQ(r.result.exit_code, 0);
  EXPECT_EQ(r.result.out, "started\n");
  EXPECT_LT(r.elapsed, 2s);
  EXPECT_FALSE(process_exists(r.result.pid)) << "the child was not reaped";
  EXPECT_TRUE(leftover.running()) << "the descendant of a child that exited normally was killed";
}

bool is_zombie(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  return line.find(") Z") != std::string::npos;
}

TEST(exec_probe, output_written_just_before_exit_is_kept_when_a_descendant_holds_the_pipes) {
  probe_harness h;
  const leftover_process leftover;
  const leftover_process child_pid;  // the child's own pid, so the test can tell when it has exited
  io::child_spec spec;
  // The child widens its stdout pipe to 1 MiB (F_SETPIPE_SZ) and fills most of it in one write, so all of it is still
  // unread when it exits (perl is Essential in Debian, so it is always there).
  spec.argv = {"/bin/sh", "-c",
               "sleep 30 & echo $! > " + leftover.pid_file() + "; echo $$ > " + child_pid.pid_file() +
                   "; exec perl -e 'fcntl(STDOUT, 1031, 1048576) or die \"F_SETPIPE_SZ: $!\"; "
                   "syswrite(STDOUT, \"x\" x 1000000) == 1000000 or die; print STDERR \"last words\"; exit 3'"};
  spec.timeout = 5s;
  std::optional<io::child_result> out;
  boost::asio::co_spawn(h.io, io::run_child(h.io.get_executor(), spec),
                        [&](const std::exception_ptr&, io::child_result r) { out = std::move(r); });
  // Run the runner until the child is up, then hold it off until the child has exited: the runner first sees the
  // exit and the full pipe together, as when it is busy with other work.
  const auto start = std::chrono::steady_clock::now();
  while (child_pid.pid() <= 0 && std::chrono::steady_clock::now() - start < 3s)
    h.io.run_one_for(10ms);
  ASSERT_GT(child_pid.pid(), 0);
  ASSERT_TRUE(eventually([&] { return is_zombie(child_pid.pid()); }, 3s));
  h.io.run();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->how, io::child_result::end::exited);
  EXPECT_EQ(out->exit_code, 3);
  EXPECT_EQ(out->out_bytes, 1000000U);
  EXPECT_EQ(out->err, "last words");
  EXPECT_TRUE(leftover.running());
}

TEST(exec_probe, descendant_holding_stdout_does_not_make_a_passing_plugin_time_out) {
  probe_harness h;
  const leftover_process leftover;
  auto probe = h.make(shell("echo 'SPOOL OK'; sleep 30 & echo $! > " + leftover.pid_file()), 3000);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.message, "SPOOL OK");
  EXPECT_EQ(r.result.details["exit_code"], 0);
  EXPECT_LT(r.elapsed, 2s);
}

// A stuck child (uninterruptible sleep after SIGKILL) cannot be provoked here; what is checked is the contract that
// protects the I/O threads from one: no blocking waitpid on them on any path, and every child reaped all the same.
TEST(exec_probe, runner_never_blocks_in_waitpid_on_its_own_thread) {
  probe_harness h;
  const auto before = io::blocking_waits_outside_reaper_for_test();
  io::child_spec exits;
  exits.argv = {"/bin/sh", "-c", "exit 4"};
  const auto exited = run_child_timed(h, exits);
  io::child_spec killed;
  killed.argv = {"/bin/sh", "-c", "kill -KILL $$"};
  const auto signaled = run_child_timed(h, killed);
  io::child_spec hangs;
  hangs.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 30; sleep 30"};
  hangs.timeout = 100ms;
  hangs.kill_grace = 100ms;
  const auto timed_out = run_child_timed(h, hangs);  // returns after the background SIGKILL and reaping
  EXPECT_EQ(exited.result.how, io::child_result::end::exited);
  EXPECT_EQ(exited.result.exit_code, 4);
  EXPECT_EQ(signaled.result.how, io::child_result::end::signaled);
  EXPECT_EQ(signaled.result.signal, SIGKILL);
  EXPECT_EQ(timed_out.result.how, io::child_result::end::timed_out);
  EXPECT_EQ(io::blocking_waits_outside_reaper_for_test(), before);
  for (const int pid : {exited.result.pid, signaled.result.pid, timed_out.result.pid})
    EXPECT_TRUE(eventually([&] { return !process_exists(pid); }, 3s)) << "pid " << pid << " was not reaped";
}

TEST(exec_probe, executor_destroyed_under_a_running_child_returns_promptly_and_the_child_is_reaped) {
  const leftover_process child_pid;
  auto io = std::make_unique<boost::asio::io_context>();
  io::child_spec spec;
  spec.argv = {"/bin/sh", "-c", "trap '' TERM; echo $$ > " + child_pid.pid_file() + "; sleep 30; sleep 30"};
  spec.timeout = 30s;
  boost::asio::co_spawn(*io, io::run_child(io->get_executor(), spec),
                        [](const std::exception_ptr&, const io::child_result&) {});
  const auto start = std::chrono::steady_clock::now();
  while (child_pid.pid() <= 0 && std::chrono::steady_clock::now() - start < 3s)
    io->run_one_for(10ms);
  const int pid = child_pid.pid();
  ASSERT_GT(pid, 0);
  const auto before = io::blocking_waits_outside_reaper_for_test();
  const auto destroying = std::chrono::steady_clock::now();
  io.reset();  // as when the daemon stops mid-run: the child is killed
  const auto destroyed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - destroying);
  print_figure("io_context destroyed under a running child", destroyed);
  EXPECT_LT(destroyed, 500ms);
  EXPECT_EQ(io::blocking_waits_outside_reaper_for_test(), before) << "waited for the child on the destroying thread";
  EXPECT_TRUE(eventually([&] { return !process_exists(pid); }, 3s)) << "pid " << pid << " was not reaped";
}

TEST(exec_probe, ten_mib_of_output_is_read_fully_and_four_kib_kept) {
  probe_harness h;
  auto probe = h.make(shell("echo 'BIG OK'; head -c 10485760 /dev/zero | tr '\\0' 'x'; exit 0"), 10000);
  const auto r = h.run(*probe);
  print_figure("exec 10 MiB of output", r.elapsed);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.message, "BIG OK");
  EXPECT_EQ(r.result.details["output_bytes"], 10485760 + 7);
  EXPECT_EQ(r.result.details["output_truncated"], true);

  std::optional<io::child_result> out;
  io::child_spec spec;
  spec.argv = {"/bin/sh", "-c", "head -c 10485760 /dev/zero"};
  boost::asio::co_spawn(h.io, io::run_child(h.io.get_executor(), spec),
                        [&](const std::exception_ptr&, io::child_result c) { out = std::move(c); });
  h.io.restart();
  h.io.run();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->out.size(), 4096U);
  EXPECT_EQ(out->out_bytes, 10485760U);
}

TEST(exec_probe, invalid_utf8_output_comes_out_as_replacement_characters) {
  probe_harness h;
  auto probe = h.make(shell("printf 'OK \\377\\376 | x=1\\n'; printf 'warn \\377\\n' >&2; exit 0"));
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.message, "OK \uFFFD\uFFFD");
  EXPECT_EQ(r.result.details["stderr"], "warn \uFFFD");
  EXPECT_TRUE(is_valid_utf8(r.result.message));
  EXPECT_NO_THROW((void)r.result.details.dump());
}

TEST(exec_probe, four_kib_cap_cuts_before_a_multi_byte_character_it_would_split) {
  probe_harness h;
  // 4094 bytes, then a 3-byte euro sign across the 4096-byte cap.
  const std::string script = "head -c 4094 /dev/zero | tr '\\0' A; printf '\\342\\202\\254 more\\n'";
  auto probe = h.make(shell(script));
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_TRUE(is_valid_utf8(r.result.message));
  EXPECT_EQ(r.result.message.size(), 4094U);
  EXPECT_EQ(r.result.details["output_truncated"], true);
  EXPECT_EQ(r.result.details["output_bytes"], 4094 + 3 + 6);

  std::optional<io::child_result> out;
  io::child_spec spec;
  spec.argv = {"/bin/sh", "-c", script};
  boost::asio::co_spawn(h.io, io::run_child(h.io.get_executor(), spec),
                        [&](const std::exception_ptr&, io::child_result c) { out = std::move(c); });
  h.io.restart();
  h.io.run();
  ASSERT_TRUE(out);
  EXPECT_TRUE(is_valid_utf8(out->out));
  EXPECT_EQ(out->out.size(), 4094U);
  EXPECT_EQ(out->out.find_first_not_of('A'), std::string::npos);
  EXPECT_EQ(out->out_bytes, 4094U + 3 + 6);
}

TEST(exec_probe, missing_program_fails_to_start_with_the_reason) {
  probe_harness h;
  config::exec_probe options;
  options.argv = {"no-such-program-healthd"};
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "spawn: no-such-program-healthd: not found on PATH");
}

TEST(exec_probe, arguments_are_never_interpreted_by_a_shell) {
  probe_harness h;
  config::exec_probe options;
  options.argv = {"echo", "OK $HOME; exit 2 | `id`"};
  auto probe = h.make(options);
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy);
  EXPECT_EQ(r.result.message, "OK $HOME; exit 2");  // the rest after '|' is perf data (none parses)
}

TEST(exec_probe, killed_child_is_critical_with_the_signal) {
  probe_harness h;
  auto probe = h.make(shell("kill -SEGV $$"));
  const auto r = h.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "killed by signal 11 (SIGSEGV)");
}

// ---- file -------------------------------------------------------------------------------------------------------
class file_probe_test : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "healthd-file-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, std::size_t bytes, std::chrono::seconds age) {
    const auto path = dir_ / name;
    std::ofstream(path) << std::string(bytes, 'x');
    const auto when = std::chrono::system_clock::now() - age;
    timeval times[2];
    times[0].tv_sec = times[1].tv_sec = std::chrono::system_clock::to_time_t(when);
    times[0].tv_usec = times[1].tv_usec = 0;
    ::utimes(path.c_str(), times);
    return path;
  }

  fs::path dir_;
  probe_harness h_;
};

TEST_F(file_probe_test, fresh_big_enough_file_is_healthy) {
  auto probe = h_.make(config::file_probe{write("feed.json", 2048, 10s).string(), 600.0, 1024});
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::healthy) << r.result.message;
  EXPECT_EQ(r.result.details["size_bytes"], 2048);
  EXPECT_NEAR(r.result.details["age_s"].get<double>(), 10.0, 2.0);
}

TEST_F(file_probe_test, stale_file_is_critical) {
  auto probe = h_.make(config::file_probe{write("feed.json", 2048, 3600s).string(), 600.0, 0});
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_TRUE(r.result.message == "stale: modified 3600 s ago (max 600 s)" ||
              r.result.message == "stale: modified 3601 s ago (max 600 s)")
      << r.result.message;
}

TEST_F(file_probe_test, small_file_is_critical) {
  auto probe = h_.make(config::file_probe{write("model.bin", 10, 0s).string(), std::nullopt, 1024});
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, "too small: 10 bytes < 1024");
}

TEST_F(file_probe_test, missing_file_is_critical_with_the_reason) {
  const auto path = (dir_ / "absent").string();
  auto probe = h_.make(config::file_probe{path, 60.0, 0});
  const auto r = h_.run(*probe);
  EXPECT_EQ(r.result.status, probe_status::critical);
  EXPECT_EQ(r.result.message, path + ": No such file or directory");
}

// ---- blocking pool ----------------------------------------------------------------------------------------------
struct pool_run {
  io::job_outcome outcome{};
  std::chrono::milliseconds elapsed{0};
};

TEST(blocking_pool, deadline_returns_at_once_and_calls_the_cancel_hook) {
  boost::asio::io_context io;
  io::blocking_pool pool(2);
  std::atomic<bool> release{false};
  std::atomic<int> cancels{0};
  std::optional<pool_run> run;
  const auto start = std::chrono::steady_clock::now();
  boost::asio::co_spawn(io,
                        pool.run(
                            "db", 200ms,
                            [&] {
                              while (!release)
                                std::this_thread::sleep_for(5ms);
                            },
                            [&] {
                              ++cancels;
                              release = true;
                            }),
                        [&](const std::exception_ptr&, io::job_outcome o) {
                          run = pool_run{o, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - start)};
                        });
  io.run();
  ASSERT_TRUE(run);
  print_figure("pool timeout 200 ms", run->elapsed);
  EXPECT_EQ(run->outcome, io::job_outcome::timeout);
  EXPECT_LT(run->elapsed, 700ms);
  EXPECT_EQ(cancels.load(), 1);
  EXPECT_TRUE(eventually([&] { return pool.busy_keys() == 0; }, 2s));
}

TEST(blocking_pool, second_job_of_a_key_is_busy_while_the_first_runs) {
  boost::asio::io_context io;
  io::blocking_pool pool(4);
  std::atomic<bool> release{false};
  std::vector<io::job_outcome> outcomes;
  const auto stuck = [&] {
    while (!release)
      std::this_thread::sleep_for(5ms);
  };
  boost::asio::co_spawn(io, pool.run("redis", 100ms, stuck),
                        [&](const std::exception_ptr&, io::job_outcome o) { outcomes.push_back(o); });
  io.run();
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0], io::job_outcome::timeout);  // no cancel hook: the worker is still stuck
  boost::asio::co_spawn(io, pool.run("redis", 100ms, [] {}),
                        [&](const std::exception_ptr&, io::job_outcome o) { outcomes.push_back(o); });
  boost::asio::co_spawn(io, pool.run("database", 1000ms, [] {}),
                        [&](const std::exception_ptr&, io::job_outcome o) { outcomes.push_back(o); });
  io.restart();
  io.run();
  ASSERT_EQ(outcomes.size(), 3U);
  EXPECT_EQ(outcomes[1], io::job_outcome::busy);
  EXPECT_EQ(outcomes[2], io::job_outcome::done);  // other keys still get a thread
  release = true;
}

TEST(blocking_pool, queued_job_past_its_deadline_never_runs) {
  boost::asio::io_context io;
  io::blocking_pool pool(1);
  std::atomic<bool> release{false};
  std::atomic<bool> ran{false};
  std::vector<io::job_outcome> outcomes;
  boost::asio::co_spawn(io,
                        pool.run("a", 2000ms,
                                 [&] {
                                   while (!release)
                                     std::this_thread::sleep_for(5ms);
                                 }),
                        [&](const std::exception_ptr&, io::job_outcome o) { outcomes.push_back(o); });
  boost::asio::co_spawn(io, pool.run("b", 100ms, [&] { ran = true; }),
                        [&](const std::exception_ptr&, io::job_outcome o) {
                          outcomes.push_back(o);
                          release = true;
                        });
  io.run();
  ASSERT_EQ(outcomes.size(), 2U);
  EXPECT_EQ(outcomes[0], io::job_outcome::expired);
  EXPECT_EQ(outcomes[1], io::job_outcome::done);
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(pool.busy_keys(), 0U);
}

TEST(blocking_pool, exception_from_the_work_reaches_the_awaiting_coroutine) {
  boost::asio::io_context io;
  io::blocking_pool pool(1);
  std::exception_ptr error;
  boost::asio::co_spawn(io, pool.run("x", 1000ms, [] { throw std::runtime_error("boom"); }),
                        [&](const std::exception_ptr& e, io::job_outcome) { error = e; });
  io.run();
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
}

}  // namespace
}  // namespace healthd::test
