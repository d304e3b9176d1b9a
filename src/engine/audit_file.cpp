#include "healthd/engine/audit_file.hpp"

#include "healthd/core/utf8.hpp"
#include "healthd/healing_log/entry_json.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace healthd {

namespace {

std::error_code last_error() { return {errno, std::system_category()}; }

std::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code read_exactly(int fd, char* out, std::size_t size, std::int64_t at) {
  while (size > 0) {
    const auto n = ::pread(fd, out, size, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (n == 0) return std::make_error_code(std::errc::io_error);  // the file shrank under us
    out += n;
    size -= static_cast<std::size_t>(n);
    at += n;
  }
  return {};
}

void fsync_directory(const std::filesystem::path& file) {
  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// A file's lines from the last to the first, read backwards a chunk at a time, so that restoring the newest
// entries costs what they take, not the file's size.
class backward_lines {
public:
  static constexpr std::int64_t chunk_bytes = std::int64_t{64} * 1024;
  static constexpr std::int64_t max_line_bytes =
      std::int64_t{1024} * 1024;  // far beyond any entry: a longer "line" is garbage

  explicit backward_lines(const std::filesystem::path& file) : fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)) {
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0) {
      end_ = st.st_size;
    } else {
      done_ = true;
    }
  }
  ~backward_lines() {
    if (fd_ >= 0) ::close(fd_);
  }
  backward_lines(const backward_lines&) = delete;
  backward_lines& operator=(const backward_lines&) = delete;

  // The previous line without its '\n' and the offset where it starts; false once the first line was returned or
  // reading failed (then error() says why). A line longer than max_line_bytes comes back empty with `too_long` set.
  bool previous(std::string& line, std::int64_t& at, bool& too_long) {
    if (done_) return false;
    std::int64_t start = 0;
    bool found = false;
    for (std::int64_t pos = end_; pos > 0 && !found;) {
      if (pos <= chunk_at_ || pos > chunk_at_ + static_cast<std::int64_t>(chunk_.size())) {
        if (!load_chunk_ending_at(pos)) return false;
      }
      const auto in_chunk = std::string_view(chunk_).substr(0, static_cast<std::size_t>(pos - chunk_at_));
      if (const auto i = in_chunk.rfind('\n'); i != std::string_view::npos) {
        start = chunk_at_ + static_cast<std::int64_t>(i) + 1;
        found = true;
      } else {
        pos = chunk_at_;
      }
    }
    at = start;
    too_long = end_ - start > max_line_bytes;
    line.clear();
    if (!too_long && end_ > start) {
      if (start >= chunk_at_) {
        line.assign(chunk_, static_cast<std::size_t>(start - chunk_at_), static_cast<std::size_t>(end_ - start));
      } else {
        line.resize(static_cast<std::size_t>(end_ - start));
        if (auto ec = read_exactly(fd_, line.data(), line.size(), start)) return fail(ec);
        bytes_read_ += line.size();
      }
    }
    if (found) {
      end_ = start - 1;  // the '\n' before this line ends the previous one
    } else {
      done_ = true;
    }
    return true;
  }

  [[nodiscard]] std::uintmax_t bytes_read() const noexcept { return bytes_read_; }
  [[nodiscard]] std::error_code error() const noexcept { return error_; }

private:
  bool load_chunk_ending_at(std::int64_t pos) {
    const auto from = std::max<std::int64_t>(0, pos - chunk_bytes);
    chunk_.resize(static_cast<std::size_t>(pos - from));
    if (auto ec = read_exactly(fd_, chunk_.data(), chunk_.size(), from)) return fail(ec);
    chunk_at_ = from;
    bytes_read_ += chunk_.size();
    return true;
  }

  bool fail(std::error_code ec) {
    error_ = ec;
    done_ = true;
    chunk_.clear();
    return false;
  }

  int fd_;
  std::int64_t end_ = 0;  // the current line ends here (exclusive)
  bool done_ = false;
  std::string chunk_;  // the bytes [chunk_at_, chunk_at_ + size) of the file
  std::int64_t chunk_at_ = 0;
  std::uintmax_t bytes_read_ = 0;
  std::error_code error_;
};

// Appends the newest `wanted` valid entries of the file to `out` (in file order) and a warning per bad line read.
void read_newest_entries(const std::filesystem::path& file, std::size_t wanted, std::vector<healing_entry>& out,
                         std::vector<std::string>& warnings, std::uintmax_t& bytes_read) {
  backward_lines lines(file);
  std::vector<healing_entry> newest_first;
  std::vector<std::string> warned_newest_first;
  std::string line;
  std::int64_t at = 0;
  bool too_long = false;
  const auto skipped = [&](std::string_view why) {
    std::string warning = file.string();
    warning.append(", byte ").append(std::to_string(at)).append(": corrupt line skipped (").append(why).append(")");
    return warning;
  };
  while (newest_first.size() < wanted && lines.previous(line, at, too_long)) {
    if (too_long) {
      warned_newest_first.push_back(skipped("longer than 1 MiB"));
      continue;
    }
    if (line.empty()) continue;
    std::string error;
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (auto entry = entry_from_json(parsed, &error)) {
      newest_first.push_back(std::move(*entry));
    } else {
      if (parsed.is_discarded()) error = "not valid JSON";
      warned_newest_first.push_back(skipped(error));
    }
  }
  if (auto ec = lines.error())
    warnings.push_back(file.string() + ": read failed, older lines skipped (" + ec.message() + ")");
  bytes_read += lines.bytes_read();
  out.insert(out.end(), std::make_move_iterator(newest_first.rbegin()), std::make_move_iterator(newest_first.rend()));
  warnings.insert(warnings.end(), std::make_move_iterator(warned_newest_first.rbegin()),
                  std::make_move_iterator(warned_newest_first.rend()));
}

class audit_category_impl final : public std::error_category {
public:
  [[nodiscard]] const char* name() const noexcept override { return "audit_file"; }
  [[nodiscard]] std::string message(int code) const override {
    switch (static_cast<audit_errc>(code)) {
      case audit_errc::stopped: return "the audit writer has stopped";
      case audit_errc::unserialisable: return "the entry could not be serialised";
    }
    return "unknown audit_file error";
  }
};

}  // namespace

const std::error_category& audit_category() noexcept {
  static const audit_category_impl category;
  return category;
}

std::error_code make_error_code(audit_errc e) noexcept { return {static_cast<int>(e), audit_category()}; }

audit_file::audit_file(std::filesystem::path path, std::int64_t max_bytes, sync_function sync)
    : path_(std::move(path)), max_bytes_(max_bytes), sync_(std::move(sync)) {
  if (!sync_) sync_ = [](int fd) { return ::fdatasync(fd) == 0 ? std::error_code{} : last_error(); };
  if (auto ec = open_file()) throw std::system_error(ec, "cannot open audit file " + path_.string());
  try {
    writer_ = std::thread([this] { writer_loop(); });
  } catch (...) {
    close_file();
    throw;
  }
}

audit_file::~audit_file() {
  stop();
  close_file();
}

std::filesystem::path audit_file::rotated(const std::filesystem::path& path) {
  auto p = path;
  p += ".1";
  return p;
}

audit_load_result audit_file::load(const std::filesystem::path& path, std::size_t capacity) {
  audit_load_result result;
  std::vector<healing_entry> live;
  read_newest_entries(path, capacity, live, result.warnings, result.bytes_read);
  if (live.size() < capacity) {
    read_newest_entries(rotated(path), capacity - live.size(), result.entries, result.warnings, result.bytes_read);
  }
  result.entries.insert(result.entries.end(), std::make_move_iterator(live.begin()),
                        std::make_move_iterator(live.end()));
  std::stable_sort(result.entries.begin(), result.entries.end(),
                   [](const healing_entry& a, const healing_entry& b) { return a.id < b.id; });
  if (result.entries.size() > capacity) {
    result.entries.erase(result.entries.begin(), result.entries.end() - static_cast<std::ptrdiff_t>(capacity));
  }
  return result;
}

std::error_code audit_file::append(const healing_entry& entry) {
  auto done = std::make_shared<std::promise<std::error_code>>();
  auto result = done->get_future();
  async_append(entry, {}, [done](std::error_code ec) { done->set_value(ec); });
  return result.get();
}

void audit_file::enqueue(healing_entry entry, hooks around, boost::asio::any_io_executor executor,
                         boost::asio::any_completion_handler<void(std::error_code)> handler) {
  job j{std::move(entry), std::move(around),
        boost::asio::prefer(std::move(executor), boost::asio::execution::outstanding_work.tracked), std::move(handler)};
  std::unique_lock lock(mutex_);
  if (j.around.on_queued) j.around.on_queued(j.entry);
  if (writer_done_) {
    finish(j, audit_errc::stopped);  // under the lock, so late appends still end in the order they were queued
    return;
  }
  j.after_stop = stopping_;
  queue_.push_back(std::move(j));
  lock.unlock();
  wake_.notify_one();
}

void audit_file::finish(job& j, std::error_code ec) {
  if (j.around.on_written) j.around.on_written(j.entry, ec);
  // The hooks go with the completion: what they hold (the engine, which owns this file) is then released on the
  // caller's executor. Released here, the last reference could run ~audit_file on the writer thread, which would
  // join itself ("Resource deadlock avoided").
  boost::asio::post(j.executor,
                    [h = std::move(j.handler), around = std::move(j.around), ec]() mutable { std::move(h)(ec); });
  j.executor = {};
}

void audit_file::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  std::lock_guard lock(stop_mutex_);
  if (writer_.joinable()) writer_.join();
}

void audit_file::writer_loop() {
  std::deque<job> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {
        writer_done_ = true;
        return;
      }
      batch.swap(queue_);
    }
    write_batch(batch);
    batch.clear();
  }
}

void audit_file::write_batch(std::deque<job>& batch) {
  std::vector<job*> written;  // in the file, waiting for the sync that makes the batch durable
  // Jobs end in queue order: before one ends on its own, the ones written ahead of it are synced and end.
  const auto sync_written = [&] {
    if (written.empty()) return;
    const auto ec = sync_(fd_);
    if (ec) close_file();  // reopening checks whether the file now ends mid-line
    for (auto* j : written)
      finish(*j, ec);
    written.clear();
  };
  const auto fail = [&](job& j, std::error_code ec) {
    sync_written();
    finish(j, ec);
  };
  for (auto& j : batch) {
    if (j.after_stop) {
      fail(j, audit_errc::stopped);
      continue;
    }
    std::string line;
    try {
      line = json_text(to_json(j.entry));
    } catch (const std::exception&) {
      fail(j, audit_errc::unserialisable);
      continue;
    }
    line.push_back('\n');
    if (fd_ < 0) {
      if (auto ec = open_file()) {
        fail(j, ec);
        continue;
      }
    }
    if (size_ > 0 && size_ + static_cast<std::int64_t>(line.size()) > max_bytes_) {
      sync_written();  // what went to the old file is made durable there before it is renamed
      if (auto ec = rotate_file()) {
        fail(j, ec);
        continue;
      }
    }
    if (needs_newline_) line.insert(line.begin(), '\n');
    if (auto ec = write_all(fd_, line)) {
      sync_written();
      close_file();  // the file may now end mid-line; reopening notices and starts on a fresh line
      finish(j, ec);
      continue;
    }
    needs_newline_ = false;
    size_ += static_cast<std::int64_t>(line.size());
    written.push_back(&j);
  }
  sync_written();
}

std::error_code audit_file::open_file() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return last_error();
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    auto ec = last_error();
    close_file();
    return ec;
  }
  size_ = st.st_size;
  needs_newline_ = false;
  if (size_ > 0) {
    const int reader = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    char last = '\n';
    if (reader >= 0) {
      if (::pread(reader, &last, 1, size_ - 1) != 1) last = '\n';
      ::close(reader);
    }
    needs_newline_ = last != '\n';
  }
  return {};
}

std::error_code audit_file::rotate_file() {
  close_file();
  std::error_code ec;
  std::filesystem::rename(path_, rotated(path_), ec);
  if (ec) return ec;
  fsync_directory(path_);
  return open_file();
}

void audit_file::close_file() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace healthd
