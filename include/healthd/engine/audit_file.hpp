#pragma once
// The durable copy of the healing log (healing_log.audit_file): one JSON line per entry, rotated to "<file>.1" at
// max_bytes. The file has its own writer thread: appends queue in order and are written in that order, and the
// entries queued while one sync runs are written together and made durable by one more sync (group commit). An
// append completes once its own write attempt ended, with success or the error; there is no timeout, so nothing is
// reported failed that later reaches the disk. Thread-safe.

#include "healthd/healing_log/healing_log.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/system_executor.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace healthd {

enum class audit_errc {
  stopped = 1,     // appended after stop(): never written
  unserialisable,  // the entry could not be made into a line
};
[[nodiscard]] const std::error_category& audit_category() noexcept;
[[nodiscard]] std::error_code make_error_code(audit_errc e) noexcept;

}  // namespace healthd

template <>
struct std::is_error_code_enum<healthd::audit_errc> : std::true_type {};

namespace healthd {

struct audit_load_result {
  std::vector<healing_entry> entries;  // oldest first, at most `capacity`
  std::vector<std::string> warnings;  // one per skipped line, e.g. "audit.jsonl, byte 8120: corrupt line skipped (...)"
  std::uintmax_t bytes_read = 0;      // from both files: the tail needed, not the whole file
};

class audit_file {
public:
  // Makes written lines durable: ::fdatasync by default; tests inject a slow or failing one. Runs on the writer
  // thread.
  using sync_function = std::function<std::error_code(int fd)>;

  // What the caller does around an append; both optional, neither may call back into this audit_file.
  struct hooks {
    // Under the queue's lock as the entry is queued, so the order of these calls is the file's order: the place to
    // give the entry its id.
    std::function<void(healing_entry&)> on_queued;
    // On the writer thread, in file order, once the entry's write attempt ended and before the append completes:
    // the place to put the entry into the in-memory healing log.
    std::function<void(const healing_entry&, std::error_code)> on_written;
  };

  // Opens (creating if needed) for appending and starts the writer thread. Throws std::system_error naming the
  // file when it cannot open it.
  audit_file(std::filesystem::path path, std::int64_t max_bytes, sync_function sync = {});
  ~audit_file();  // stop()
  audit_file(const audit_file&) = delete;
  audit_file& operator=(const audit_file&) = delete;

  // The newest `capacity` entries of the file, and of "<file>.1" when the live file holds fewer. Reads backwards
  // from the end, only as far as it needs. Unreadable or corrupt lines among those read (a crash mid-write leaves
  // a partial last line) are skipped with a warning. Missing files are simply empty. Blocking.
  [[nodiscard]] static audit_load_result load(const std::filesystem::path& path, std::size_t capacity);

  // Queues the entry as one line. Completes with std::error_code (empty on success; audit_errc::stopped at once
  // after stop()) once the line was written and synced or that failed, on the handler's associated executor (the
  // system executor for a handler without one), never inline; the executor's work is held until then. Rotates first
  // when the line would take the file past max_bytes. A failed append never stops a heal: the caller counts it.
  template <typename Token>
  auto async_append(healing_entry entry, hooks around, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler, healing_entry e, hooks h) {
          auto executor = boost::asio::get_associated_executor(handler, boost::asio::system_executor());
          enqueue(std::move(e), std::move(h), boost::asio::any_io_executor(std::move(executor)),
                  boost::asio::any_completion_handler<void(std::error_code)>(std::move(handler)));
        },
        token, std::move(entry), std::move(around));
  }

  // async_append, waited for. Blocking: never call it from an I/O thread.
  [[nodiscard]] std::error_code append(const healing_entry& entry);

  // Writes what is queued, then ends the writer thread; later appends fail with audit_errc::stopped without being
  // written. Blocks until a sync in progress returns. Idempotent.
  void stop();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] static std::filesystem::path rotated(const std::filesystem::path& path);

private:
  struct job {
    healing_entry entry;
    hooks around;
    boost::asio::any_io_executor executor;  // tracks work until the completion is posted
    boost::asio::any_completion_handler<void(std::error_code)> handler;
    bool after_stop = false;
  };

  void enqueue(healing_entry entry, hooks around, boost::asio::any_io_executor executor,
               boost::asio::any_completion_handler<void(std::error_code)> handler);
  static void finish(job& j, std::error_code ec);
  void writer_loop();
  void write_batch(std::deque<job>& batch);

  // The file's state, touched only by the constructor, the writer thread and the destructor.
  std::error_code open_file();
  std::error_code rotate_file();
  void close_file() noexcept;

  std::filesystem::path path_;
  std::int64_t max_bytes_;
  sync_function sync_;
  int fd_ = -1;
  std::int64_t size_ = 0;
  bool needs_newline_ = false;  // the file ends in a partial line: start the next entry on a fresh one

  std::mutex mutex_;  // guards the queue and the flags below
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  bool writer_done_ = false;  // the writer thread will finish no more jobs: late ones finish as they are queued
  std::mutex stop_mutex_;     // one join
  std::thread writer_;
};

}  // namespace healthd
