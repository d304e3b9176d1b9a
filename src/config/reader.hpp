#pragma once
// Private to the config component: the JSON tree type, path building, typed value readers and the object reader
// that checks every object's keys against healthd/config/schema.hpp. Every failure is a config_error whose text is
// "<json.path>: <what was expected>"; string values are never echoed except through `quoted`, which redacts secrets.

#include "healthd/config/config_error.hpp"
#include "healthd/config/schema.hpp"
#include "healthd/core/secrets.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace healthd::config::detail {

// Ordered, so that breakers, subsystems and loops keep their file order.
using json = nlohmann::ordered_json;

[[nodiscard]] std::string child_path(std::string_view parent, std::string_view key);
[[nodiscard]] std::string index_path(std::string_view parent, std::size_t index);

[[noreturn]] void fail(const std::string& path, const std::string& message);

// "an object", "a string", "null", ... for "expected X, got Y" messages.
[[nodiscard]] std::string_view type_name(const json& value);
[[nodiscard]] std::string format_number(double value);
[[nodiscard]] std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");
[[nodiscard]] std::string join(std::span<const std::string_view> items, std::string_view separator = ", ");

// `"value"` with every secret in it replaced by ***: the only way a string value from the file reaches a message.
[[nodiscard]] std::string quoted(std::string_view value, const secret_set& secrets);

// Parses JSON with comments; a syntax error reports line and column, a key given twice in one object its path.
[[nodiscard]] json parse_json_text(std::string_view text);

// A closed or open interval of numbers, for range errors ("a number > 0 and <= 86400").
struct number_range {
  double low = 0;
  double high = 0;
  bool low_open = false;
  bool high_open = false;

  [[nodiscard]] bool contains(double v) const noexcept;
  [[nodiscard]] std::string describe() const;
};

[[nodiscard]] std::string as_string(const json& value, const std::string& path);
[[nodiscard]] bool as_bool(const json& value, const std::string& path);
[[nodiscard]] std::int64_t as_integer(const json& value, const std::string& path, std::int64_t low, std::int64_t high);
[[nodiscard]] double as_number(const json& value, const std::string& path, const number_range& range);
[[nodiscard]] std::vector<std::string> as_string_array(const json& value, const std::string& path);
[[nodiscard]] std::map<std::string, std::string> as_string_map(const json& value, const std::string& path);
void expect_object(const json& value, const std::string& path);
void expect_array(const json& value, const std::string& path);

// Reads one JSON object whose keys are those of the given schema objects. Construction fails on a value that is not
// an object or on a key the schemas do not list (naming the allowed keys). Asking for a key the schemas do not list,
// or finishing without having asked for every listed key, is a std::logic_error: the reader and the schema table
// disagree. Not thread-safe; lives for the reading of one object.
class object_reader {
public:
  object_reader(const json& object, std::string path, std::initializer_list<std::string_view> schema_ids);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string path_of(std::string_view key) const { return child_path(path_, key); }

  // The value, or nullptr when the key is absent.
  [[nodiscard]] const json* find(std::string_view key);
  // The value; a missing key is a config_error "missing required key (expected <expected>)".
  [[nodiscard]] const json& require(std::string_view key, std::string_view expected);

  // Each keeps `out` as it is when the key is absent.
  void read(std::string_view key, std::string& out);
  void read(std::string_view key, bool& out);
  void read(std::string_view key, int& out, int low, int high);
  void read(std::string_view key, std::int64_t& out, std::int64_t low, std::int64_t high);
  void read(std::string_view key, double& out, const number_range& range);
  void read(std::string_view key, std::vector<std::string>& out);
  void read(std::string_view key, std::map<std::string, std::string>& out);
  // For optionals, null means "none" as well.
  void read(std::string_view key, std::optional<std::string>& out);
  void read(std::string_view key, std::optional<double>& out, const number_range& range);

  void finish() const;

private:
  [[nodiscard]] bool listed(std::string_view key) const;

  const json& object_;
  std::string path_;
  std::vector<const schema::object_schema*> schemas_;
  std::vector<std::string_view> asked_;
};

}  // namespace healthd::config::detail
