#pragma once
// Where the log healer stopped reading, as the text it keeps in `state_dir` (docs/logwatch.md, "Checkpoints"), and
// where to resume from it. Pure functions: no I/O (the driver stats the files and writes the text atomically), safe
// from any thread.
//
// The text:
//   {"format": "platform-healthd/logwatch-checkpoint", "version": 1,
//    "files": [{"path": "/var/log/postgresql/main.log", "device": 2049, "inode": 1311, "offset": 73210}],
//    "journal_cursor": "s=...;i=..."}          (or null)
// Parsing is strict: any other key, a missing one, a wrong type, a duplicate path or a foreign format is an error
// value naming what is wrong, never an exception. A path is kept as valid UTF-8 (ill-formed bytes become U+FFFD),
// so a file whose name is not valid UTF-8 is not found again by its path after a restart.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace healthd::logwatch {

inline constexpr std::string_view checkpoint_format = "platform-healthd/logwatch-checkpoint";
inline constexpr int checkpoint_version = 1;

struct file_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;

  friend bool operator==(const file_identity&, const file_identity&) = default;
};

struct file_position {
  std::string path;  // the watched path (a config path or a glob's match)
  file_identity identity;
  std::uint64_t offset = 0;  // the start of the first line not yet read (line_splitter::line_start())

  friend bool operator==(const file_position&, const file_position&) = default;
};

struct checkpoint {
  std::vector<file_position> files;
  std::optional<std::string> journal_cursor;

  friend bool operator==(const checkpoint&, const checkpoint&) = default;
};

struct checkpoint_error {
  std::string message;  // e.g. "files[2].inode: expected a non-negative integer"
};

[[nodiscard]] std::string to_json_text(const checkpoint& saved);
[[nodiscard]] std::variant<checkpoint, checkpoint_error> parse_checkpoint(std::string_view text);

// A file in the watched file's folder, as the driver found it just before resuming.
struct candidate_file {
  std::string name;  // its name in the folder
  file_identity identity;
  std::uint64_t size = 0;
};

enum class resume_case {
  same_file,  // the watched name still is the saved file: read on from the offset
  truncated,  // the watched name still is the saved file, now shorter than the offset (copytruncate): read from 0
  rotated,    // the saved file was renamed within the folder: read it on from the offset to its end, then the new
              // file at the watched name from 0
  lost,       // the saved file is gone (deleted, compressed, moved away): the watched name from 0, with a gap
};

struct resume_plan {
  resume_case kind = resume_case::lost;
  // rotated: the saved file's new name and where to read it from, before the watched name.
  std::optional<std::string> rotated_name;
  std::uint64_t rotated_from = 0;
  // Where to start in the file at the watched name: now, or once it appears.
  std::uint64_t watched_from = 0;
  // lost: lines between the saved offset and the old file's end were never read (report it).
  bool gap = false;
};

// Where to resume `saved` (its identity and offset), watched under `watched_name` in a folder holding `candidates`
// (the watched name among them, if it exists). The watched name keeping the saved identity wins over a sibling
// having it. A copytruncate after which the file grew past the offset again cannot be told from growth: it reads
// on from the offset.
[[nodiscard]] resume_plan plan_resume(const file_position& saved, std::string_view watched_name,
                                      std::span<const candidate_file> candidates);

}  // namespace healthd::logwatch
