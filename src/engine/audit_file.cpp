#include "healthd/engine/audit_file.hpp"

#include "healthd/core/utf8.hpp"
#include "healthd/healing_log/entry_json.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
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

void fsync_directory(const std::filesystem::path& file) {
  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Appends the file's valid entries to `out` (in file order) and a warning per bad line.
void read_entries(const std::filesystem::path& file, std::vector<healing_entry>& out,
                  std::vector<std::string>& warnings) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::string error;
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (auto entry = entry_from_json(parsed, &error)) {
      out.push_back(std::move(*entry));
    } else {
      if (parsed.is_discarded()) error = "not valid JSON";
      warnings.push_back(file.string() + ":" + std::to_string(line_no) + ": corrupt line skipped (" + error + ")");
    }
  }
}

}  // namespace

audit_file::audit_file(std::filesystem::path path, std::int64_t max_bytes, sync_function sync)
    : path_(std::move(path)), max_bytes_(max_bytes), sync_(std::move(sync)) {
  if (!sync_) sync_ = [](int fd) { return ::fdatasync(fd) == 0 ? std::error_code{} : last_error(); };
  std::lock_guard lock(mutex_);
  if (auto ec = open_locked()) throw std::system_error(ec, "cannot open audit file " + path_.string());
}

audit_file::~audit_file() {
  std::lock_guard lock(mutex_);
  close_locked();
}

std::filesystem::path audit_file::rotated(const std::filesystem::path& path) {
  auto p = path;
  p += ".1";
  return p;
}

audit_load_result audit_file::load(const std::filesystem::path& path, std::size_t capacity) {
  audit_load_result result;
  std::vector<healing_entry> live;
  read_entries(path, live, result.warnings);
  if (live.size() < capacity) read_entries(rotated(path), result.entries, result.warnings);
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
  std::string line = json_text(to_json(entry));
  line.push_back('\n');
  std::lock_guard lock(mutex_);
  if (fd_ < 0) {
    if (auto ec = open_locked()) return ec;
  }
  if (size_ > 0 && size_ + static_cast<std::int64_t>(line.size()) > max_bytes_) {
    if (auto ec = rotate_locked()) return ec;
  }
  if (needs_newline_) line.insert(line.begin(), '\n');
  if (auto ec = write_all(fd_, line)) {
    close_locked();  // the file may now end mid-line; reopening notices and starts on a fresh line
    return ec;
  }
  needs_newline_ = false;
  size_ += static_cast<std::int64_t>(line.size());
  if (auto ec = sync_(fd_)) {
    close_locked();
    return ec;
  }
  return {};
}

std::error_code audit_file::open_locked() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return last_error();
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    auto ec = last_error();
    close_locked();
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

std::error_code audit_file::rotate_locked() {
  close_locked();
  std::error_code ec;
  std::filesystem::rename(path_, rotated(path_), ec);
  if (ec) return ec;
  fsync_directory(path_);
  return open_locked();
}

void audit_file::close_locked() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace healthd
