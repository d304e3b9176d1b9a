#include "healthd/logwatch/checkpoint.hpp"

#include "healthd/core/utf8.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <utility>

namespace healthd::logwatch {

namespace {

using json = nlohmann::json;

checkpoint_error error_at(const std::string& where, std::string_view what) {
  return {where + ": " + std::string(what)};
}

// The keys `object` must have, exactly; the error names the first one missing or extra.
std::optional<checkpoint_error> check_keys(const json& object, const std::string& where,
                                           std::initializer_list<std::string_view> keys) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return error_at(where.empty() ? valid_utf8(key) : where + "." + valid_utf8(key), "unknown key");
    }
  }
  for (const std::string_view key : keys) {
    if (!object.contains(key))
      return error_at(where.empty() ? std::string(key) : where + "." + std::string(key), "missing");
  }
  return std::nullopt;
}

std::variant<std::uint64_t, checkpoint_error> unsigned_at(const json& object, std::string_view key,
                                                          const std::string& where) {
  const json& value = object.at(key);
  if (!value.is_number_unsigned()) return error_at(where + "." + std::string(key), "expected a non-negative integer");
  return value.get<std::uint64_t>();
}

std::variant<file_position, checkpoint_error> parse_file(const json& entry, const std::string& where) {
  if (!entry.is_object()) return error_at(where, "expected an object");
  if (auto error = check_keys(entry, where, {"path", "device", "inode", "offset"})) return std::move(*error);
  const json& path = entry.at("path");
  if (!path.is_string() || path.get_ref<const std::string&>().empty()) {
    return error_at(where + ".path", "expected a non-empty string");
  }
  file_position position{.path = path.get<std::string>()};
  for (auto [key, field] : {std::pair{"device", &position.identity.device},
                            std::pair{"inode", &position.identity.inode}, std::pair{"offset", &position.offset}}) {
    auto value = unsigned_at(entry, key, where);
    if (auto* error = std::get_if<checkpoint_error>(&value)) return std::move(*error);
    *field = std::get<std::uint64_t>(value);
  }
  return position;
}

}  // namespace

std::string to_json_text(const checkpoint& saved) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const file_position& file : saved.files) {
    files.push_back({{"path", valid_utf8(file.path)},
                     {"device", file.identity.device},
                     {"inode", file.identity.inode},
                     {"offset", file.offset}});
  }
  const nlohmann::ordered_json document = {
      {"format", checkpoint_format},
      {"version", checkpoint_version},
      {"files", std::move(files)},
      {"journal_cursor", saved.journal_cursor ? nlohmann::ordered_json(valid_utf8(*saved.journal_cursor)) : nullptr}};
  return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::variant<checkpoint, checkpoint_error> parse_checkpoint(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    return checkpoint_error{"not JSON: " + valid_utf8(e.what(), 300)};
  }
  if (!document.is_object()) return checkpoint_error{"expected a JSON object"};
  // A foreign file is named as such before its keys are judged.
  const auto format = document.find("format");
  if (format == document.end() || !format->is_string() || format->get_ref<const std::string&>() != checkpoint_format) {
    return checkpoint_error{"format: not a log healer checkpoint (expected \"" + std::string(checkpoint_format) +
                            "\")"};
  }
  const auto version = document.find("version");
  if (version == document.end() || !version->is_number_integer() ||
      version->get<std::int64_t>() != checkpoint_version) {
    return checkpoint_error{"version: unsupported (this daemon reads version " + std::to_string(checkpoint_version) +
                            ")"};
  }
  if (auto error = check_keys(document, "", {"format", "version", "files", "journal_cursor"})) return std::move(*error);

  checkpoint saved;
  const json& files = document.at("files");
  if (!files.is_array()) return checkpoint_error{"files: expected an array"};
  std::map<std::string, std::size_t, std::less<>> seen;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string where = "files[" + std::to_string(i) + "]";
    auto parsed = parse_file(files[i], where);
    if (auto* error = std::get_if<checkpoint_error>(&parsed)) return std::move(*error);
    auto& position = std::get<file_position>(parsed);
    if (const auto [it, inserted] = seen.emplace(position.path, i); !inserted) {
      return error_at(where + ".path", "the same path as files[" + std::to_string(it->second) + "]");
    }
    saved.files.push_back(std::move(position));
  }
  const json& cursor = document.at("journal_cursor");
  if (cursor.is_string() && !cursor.get_ref<const std::string&>().empty()) {
    saved.journal_cursor = cursor.get<std::string>();
  } else if (!cursor.is_null()) {
    return checkpoint_error{"journal_cursor: expected a non-empty string or null"};
  }
  return saved;
}

resume_plan plan_resume(const file_position& saved, std::string_view watched_name,
                        std::span<const candidate_file> candidates) {
  const auto watched = std::find_if(candidates.begin(), candidates.end(),
                                    [&](const candidate_file& c) { return c.name == watched_name; });
  if (watched != candidates.end() && watched->identity == saved.identity) {
    if (watched->size < saved.offset) return {.kind = resume_case::truncated, .watched_from = 0};
    return {.kind = resume_case::same_file, .watched_from = saved.offset};
  }
  const auto sibling = std::find_if(candidates.begin(), candidates.end(), [&](const candidate_file& c) {
    return c.name != watched_name && c.identity == saved.identity;
  });
  if (sibling != candidates.end()) {
    // Shorter than the offset: it was truncated after the rename, so all it holds is new.
    return {.kind = resume_case::rotated,
            .rotated_name = sibling->name,
            .rotated_from = sibling->size < saved.offset ? 0 : saved.offset,
            .watched_from = 0};
  }
  return {.kind = resume_case::lost, .watched_from = 0, .gap = true};
}

}  // namespace healthd::logwatch
