#pragma once
// The durable copy of the healing log (healing_log.audit_file): one JSON line per entry, fsync'd before append()
// returns, rotated to "<file>.1" at max_bytes. Blocking I/O: call it from the worker pool, never an I/O thread.
// Thread-safe.

#include "healthd/healing_log/healing_log.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace healthd {

struct audit_load_result {
  std::vector<healing_entry> entries;  // oldest first, at most `capacity`
  std::vector<std::string> warnings;   // one per skipped line, e.g. "audit.jsonl:812: corrupt line skipped (...)"
};

class audit_file {
public:
  // Makes written lines durable: ::fdatasync by default; tests inject a slow or failing one.
  using sync_function = std::function<std::error_code(int fd)>;

  // Opens (creating if needed) for appending. Throws std::system_error naming the file when it cannot.
  audit_file(std::filesystem::path path, std::int64_t max_bytes, sync_function sync = {});
  ~audit_file();
  audit_file(const audit_file&) = delete;
  audit_file& operator=(const audit_file&) = delete;

  // The newest `capacity` entries of the file, and of "<file>.1" when the live file holds fewer. Unreadable or
  // corrupt lines (a crash mid-write leaves a partial last line) are skipped with a warning. Missing files are
  // simply empty.
  [[nodiscard]] static audit_load_result load(const std::filesystem::path& path, std::size_t capacity);

  // Writes the entry as one line and fsyncs it. Returns the error on failure (the caller logs and counts it; a
  // failed append never stops a heal). Rotates first when the line would take the file past max_bytes.
  [[nodiscard]] std::error_code append(const healing_entry& entry);

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] static std::filesystem::path rotated(const std::filesystem::path& path);

private:
  std::error_code open_locked();
  std::error_code rotate_locked();
  void close_locked() noexcept;

  std::mutex mutex_;
  std::filesystem::path path_;
  std::int64_t max_bytes_;
  sync_function sync_;
  int fd_ = -1;
  std::int64_t size_ = 0;
  bool needs_newline_ = false;  // the file ends in a partial line: start the next entry on a fresh one
};

}  // namespace healthd
