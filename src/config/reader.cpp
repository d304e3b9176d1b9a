#include "reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace healthd::config::detail {

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

void fail(const std::string& path, const std::string& message) { throw config_error(path, message); }

std::string_view type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    case json::value_t::binary:
    case json::value_t::discarded: break;
  }
  return "an unsupported value";
}

std::string format_number(double value) {
  // Whole numbers as integers: "600000", not the shortest form "6e+05".
  if (std::trunc(value) == value && std::abs(value) < 1e15) return std::to_string(static_cast<std::int64_t>(value));
  std::array<char, 64> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc{}) return "?";
  return {buffer.data(), end};
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string join(std::span<const std::string_view> items, std::string_view separator) {
  std::string out;
  for (const auto item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string quoted(std::string_view value, const secret_set& secrets) { return "\"" + secrets.redact(value) + "\""; }

// ---- parsing -------------------------------------------------------------------------------------------------

namespace {

// Tracks where the parser is, so that a key given twice in one object is reported with its path. nlohmann keeps
// the last of duplicate keys silently, which would hide e.g. a second "redis" subsystem overriding the first.
class duplicate_key_check {
public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({}); break;
      case json::parse_event_t::array_start: frames_.push_back({.is_array = true}); break;
      case json::parse_event_t::key: on_key(parsed.get<std::string>()); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        element_done();
        break;
      case json::parse_event_t::value: element_done(); break;
    }
    return true;
  }

private:
  struct frame {
    bool is_array = false;
    std::size_t index = 0;
    std::string key;
    std::vector<std::string> keys;
  };

  void on_key(std::string key) {
    auto& top = frames_.back();
    const bool seen = std::find(top.keys.begin(), top.keys.end(), key) != top.keys.end();
    top.key = key;
    if (seen) fail(current_path(), "duplicate key (each key may appear once in an object)");
    top.keys.push_back(std::move(key));
  }

  void element_done() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  [[nodiscard]] std::string current_path() const {
    std::string path;
    for (const auto& f : frames_)
      path = f.is_array ? index_path(path, f.index) : child_path(path, f.key);
    return path;
  }

  std::vector<frame> frames_;
};

// nlohmann's text: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error while parsing
// object - invalid literal; last read: '...'". The last-read excerpt is file content, which may hold a password.
std::string syntax_error_text(const std::string& what) {
  std::string text = what;
  if (const auto bracket = text.find("] "); text.starts_with("[json.exception.") && bracket != std::string::npos)
    text.erase(0, bracket + 2);
  if (text.starts_with("parse error at ")) text.erase(0, std::string_view("parse error at ").size());
  if (const auto last_read = text.find("; last read: '"); last_read != std::string::npos) {
    auto end = text.find("'; expected ", last_read);
    end = end == std::string::npos ? text.size() : end + 1;
    text.erase(last_read, end - last_read);
  }
  return text;
}

}  // namespace

json parse_json_text(std::string_view text) {
  try {
    return json::parse(text.begin(), text.end(), duplicate_key_check{}, /*allow_exceptions=*/true,
                       /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    throw config_error("", syntax_error_text(e.what()));
  }
}

// ---- values --------------------------------------------------------------------------------------------------

bool number_range::contains(double v) const noexcept {
  const bool above = low_open ? v > low : v >= low;
  const bool below = high_open ? v < high : v <= high;
  return above && below;
}

std::string number_range::describe() const {
  return std::string(low_open ? "> " : ">= ") + format_number(low) + " and " + (high_open ? "< " : "<= ") +
         format_number(high);
}

std::string as_string(const json& value, const std::string& path) {
  if (!value.is_string()) fail(path, "expected a string, got " + std::string(type_name(value)));
  return value.get<std::string>();
}

bool as_bool(const json& value, const std::string& path) {
  if (!value.is_boolean()) fail(path, "expected true or false, got " + std::string(type_name(value)));
  return value.get<bool>();
}

std::int64_t as_integer(const json& value, const std::string& path, std::int64_t low, std::int64_t high) {
  const auto expected = "expected an integer in " + std::to_string(low) + ".." + std::to_string(high);
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    // Compared as unsigned while it may exceed INT64_MAX; converted only once it is known to fit.
    if (high < 0 || v > static_cast<std::uint64_t>(high) || static_cast<std::int64_t>(v) < low)
      fail(path, expected + ", got " + std::to_string(v));
    return static_cast<std::int64_t>(v);
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v < low || v > high) fail(path, expected + ", got " + std::to_string(v));
    return v;
  }
  if (value.is_number_float()) {
    const auto v = value.get<double>();
    // -2^63 and 2^63 are exact doubles; a bound like double(INT64_MAX) is not (it rounds up to 2^63), so the range
    // is checked in integers, after a conversion known to be defined.
    constexpr double int64_end = 0x1p63;
    // 5.0 is an integer too; 5.5 is not.
    if (std::trunc(v) != v || v < -int64_end || v >= int64_end) fail(path, expected + ", got " + format_number(v));
    const auto integer = static_cast<std::int64_t>(v);
    if (integer < low || integer > high) fail(path, expected + ", got " + format_number(v));
    return integer;
  }
  fail(path, expected + ", got " + std::string(type_name(value)));
}

double as_number(const json& value, const std::string& path, const number_range& range) {
  const auto expected = "expected a number " + range.describe();
  if (!value.is_number()) fail(path, expected + ", got " + std::string(type_name(value)));
  const auto v = value.get<double>();
  if (!range.contains(v)) fail(path, expected + ", got " + format_number(v));
  return v;
}

void expect_object(const json& value, const std::string& path) {
  if (!value.is_object()) fail(path, "expected an object, got " + std::string(type_name(value)));
}

void expect_array(const json& value, const std::string& path) {
  if (!value.is_array()) fail(path, "expected an array, got " + std::string(type_name(value)));
}

std::vector<std::string> as_string_array(const json& value, const std::string& path) {
  if (!value.is_array()) fail(path, "expected an array of strings, got " + std::string(type_name(value)));
  std::vector<std::string> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i)
    out.push_back(as_string(value[i], index_path(path, i)));
  return out;
}

std::map<std::string, std::string> as_string_map(const json& value, const std::string& path) {
  if (!value.is_object()) fail(path, "expected an object of string values, got " + std::string(type_name(value)));
  std::map<std::string, std::string> out;
  for (const auto& [key, child] : value.items())
    out.emplace(key, as_string(child, child_path(path, key)));
  return out;
}

// ---- objects -------------------------------------------------------------------------------------------------

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

object_reader::object_reader(const json& object, std::string path, std::initializer_list<std::string_view> schema_ids)
    : object_(object), path_(std::move(path)) {
  expect_object(object_, path_);
  for (const auto id : schema_ids)
    schemas_.push_back(&schema::object(id));
  for (const auto& [key, value] : object_.items()) {
    if (listed(key)) continue;
    std::vector<std::string> allowed;
    std::string closest;
    std::size_t closest_distance = 3;  // suggest only near misses
    for (const auto* s : schemas_)
      for (const auto k : s->keys) {
        allowed.emplace_back(k);
        if (const auto d = edit_distance(key, k); d < closest_distance) {
          closest_distance = d;
          closest = k;
        }
      }
    const auto hint = closest.empty() ? std::string() : "did you mean \"" + closest + "\"? ";
    fail(path_of(key),
         "unknown key (" + hint + (allowed.empty() ? "no keys allowed here" : "allowed: " + join(allowed)) + ")");
  }
}

bool object_reader::listed(std::string_view key) const {
  return std::any_of(schemas_.begin(), schemas_.end(), [&](const schema::object_schema* s) {
    return std::find(s->keys.begin(), s->keys.end(), key) != s->keys.end();
  });
}

const json* object_reader::find(std::string_view key) {
  if (!listed(key))
    throw std::logic_error("config reader asks for \"" + std::string(key) + "\" at " + path_ +
                           ", which the schema table does not list");
  asked_.push_back(key);
  const auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

const json& object_reader::require(std::string_view key, std::string_view expected) {
  const auto* value = find(key);
  if (value == nullptr) fail(path_of(key), "missing required key (expected " + std::string(expected) + ")");
  return *value;
}

void object_reader::read(std::string_view key, std::string& out) {
  if (const auto* v = find(key)) out = as_string(*v, path_of(key));
}

void object_reader::read(std::string_view key, bool& out) {
  if (const auto* v = find(key)) out = as_bool(*v, path_of(key));
}

void object_reader::read(std::string_view key, int& out, int low, int high) {
  if (const auto* v = find(key)) out = static_cast<int>(as_integer(*v, path_of(key), low, high));
}

void object_reader::read(std::string_view key, std::int64_t& out, std::int64_t low, std::int64_t high) {
  if (const auto* v = find(key)) out = as_integer(*v, path_of(key), low, high);
}

void object_reader::read(std::string_view key, double& out, const number_range& range) {
  if (const auto* v = find(key)) out = as_number(*v, path_of(key), range);
}

void object_reader::read(std::string_view key, std::vector<std::string>& out) {
  if (const auto* v = find(key)) out = as_string_array(*v, path_of(key));
}

void object_reader::read(std::string_view key, std::map<std::string, std::string>& out) {
  if (const auto* v = find(key)) out = as_string_map(*v, path_of(key));
}

void object_reader::read(std::string_view key, std::optional<std::string>& out) {
  if (const auto* v = find(key)) {
    if (v->is_null())
      out.reset();
    else
      out = as_string(*v, path_of(key));
  }
}

void object_reader::read(std::string_view key, std::optional<double>& out, const number_range& range) {
  if (const auto* v = find(key)) {
    if (v->is_null())
      out.reset();
    else
      out = as_number(*v, path_of(key), range);
  }
}

void object_reader::finish() const {
  for (const auto* s : schemas_)
    for (const auto k : s->keys)
      if (std::find(asked_.begin(), asked_.end(), k) == asked_.end())
        throw std::logic_error("config reader never reads \"" + std::string(k) + "\" of schema object " +
                               std::string(s->id) + " at " + path_);
}

}  // namespace healthd::config::detail
