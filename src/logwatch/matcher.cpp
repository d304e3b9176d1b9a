#include "healthd/logwatch/matcher.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

namespace healthd::logwatch {

namespace {

// Expression ids: rule i's pattern is 2i, its ignore 2i + 1.
constexpr unsigned pattern_id(std::size_t rule) { return static_cast<unsigned>(2 * rule); }
constexpr unsigned ignore_id(std::size_t rule) { return static_cast<unsigned>(2 * rule + 1); }

struct expression_list {
  std::vector<const char*> texts;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
};

struct compile_error_deleter {
  void operator()(hs_compile_error_t* e) const noexcept { hs_free_compile_error(e); }
};
using compile_error_ptr = std::unique_ptr<hs_compile_error_t, compile_error_deleter>;

struct database_deleter {
  void operator()(hs_database_t* db) const noexcept { hs_free_database(db); }
};
using database_ptr = std::unique_ptr<hs_database_t, database_deleter>;

// Vectorscan's advice names a flag the config cannot set; say what it means for a rule instead.
std::string readable_message(std::string_view message) {
  if (message.starts_with("Pattern matches empty buffer")) {
    return "the pattern matches an empty line, so it would match every line";
  }
  return std::string(message);
}

pattern_error error_for_id(unsigned id, std::string_view message) {
  return {.rule = id / 2,
          .which = id % 2 == 0 ? pattern_error::expression::pattern : pattern_error::expression::ignore,
          .message = readable_message(message)};
}

// One compile; on failure the index Vectorscan names (-1: the set as a whole) and its message.
std::variant<database_ptr, std::pair<int, std::string>> compile_block(const expression_list& list) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* raw_error = nullptr;
  const hs_error_t rc =
      hs_compile_multi(list.texts.data(), list.flags.data(), list.ids.data(), static_cast<unsigned>(list.texts.size()),
                       HS_MODE_BLOCK, nullptr, &db, &raw_error);
  if (rc == HS_SUCCESS) return database_ptr{db};
  const compile_error_ptr error{raw_error};
  if (!error) return std::pair{-1, std::string("compilation failed (Vectorscan error ") + std::to_string(rc) + ")"};
  return std::pair{error->expression, std::string(error->message != nullptr ? error->message : "compilation failed")};
}

struct scan_context {
  std::vector<unsigned>* hits;
};

int on_match(unsigned id, unsigned long long /*from*/, unsigned long long /*to*/, unsigned /*flags*/, void* context) {
  static_cast<scan_context*>(context)->hits->push_back(id);
  return 0;  // keep scanning: other rules may match further on
}

}  // namespace

struct matcher::database {
  database_ptr db;
};

void matcher::scratch_deleter::operator()(hs_scratch* scratch) const noexcept { hs_free_scratch(scratch); }

bool line_matches::counts(std::size_t rule) const {
  return std::binary_search(matched.begin(), matched.end(), rule) && !is_ignored(rule);
}

bool line_matches::is_ignored(std::size_t rule) const {
  return std::binary_search(ignored.begin(), ignored.end(), rule);
}

compile_result matcher::compile(const std::vector<rule_patterns>& rules) {
  if (rules.empty()) return matcher{nullptr, 0};
  expression_list list;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    auto add = [&](const std::string& text, unsigned id) -> std::optional<pattern_error> {
      // The C API takes NUL-terminated text: a NUL inside would silently cut the pattern short.
      if (text.find('\0') != std::string::npos) return error_for_id(id, "a NUL byte in the pattern (write \\x00)");
      list.texts.push_back(text.c_str());
      list.flags.push_back(HS_FLAG_SINGLEMATCH);
      list.ids.push_back(id);
      return std::nullopt;
    };
    if (auto error = add(rules[i].pattern, pattern_id(i))) return *std::move(error);
    if (rules[i].ignore) {
      if (auto error = add(*rules[i].ignore, ignore_id(i))) return *std::move(error);
    }
  }

  auto compiled = compile_block(list);
  if (auto* failure = std::get_if<std::pair<int, std::string>>(&compiled)) {
    auto [index, message] = std::move(*failure);
    if (index >= 0) return error_for_id(list.ids[static_cast<std::size_t>(index)], std::move(message));
    // The set as a whole was refused: name the first expression that is refused on its own, if one is.
    for (std::size_t i = 0; i < list.texts.size(); ++i) {
      auto alone = compile_block(expression_list{{list.texts[i]}, {list.flags[i]}, {list.ids[i]}});
      if (auto* refused = std::get_if<std::pair<int, std::string>>(&alone)) {
        return error_for_id(list.ids[i], std::move(refused->second));
      }
    }
    return pattern_error{.rule = std::nullopt, .message = "the rules' patterns together: " + message};
  }
  auto db = std::make_shared<database>(database{std::get<database_ptr>(std::move(compiled))});
  return matcher{std::move(db), rules.size()};
}

matcher::matcher(std::shared_ptr<const database> db, std::size_t rule_count)
    : db_(std::move(db)), rule_count_(rule_count) {
  if (!db_) return;
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(db_->db.get(), &scratch) != HS_SUCCESS) throw std::bad_alloc();
  scratch_.reset(scratch);
}

matcher::matcher(const matcher& other) : db_(other.db_), rule_count_(other.rule_count_) {
  if (!other.scratch_) return;
  hs_scratch_t* scratch = nullptr;
  if (hs_clone_scratch(other.scratch_.get(), &scratch) != HS_SUCCESS) throw std::bad_alloc();
  scratch_.reset(scratch);
}

matcher& matcher::operator=(const matcher& other) {
  if (this != &other) *this = matcher(other);
  return *this;
}

matcher::~matcher() = default;

void matcher::match(std::string_view line, line_matches& out) {
  out.clear();
  if (!db_) return;
  hits_.clear();
  scan_context context{&hits_};
  // hs_scan takes an unsigned length; lines reach it cut to the splitter's limit (64 KiB), far below.
  const auto length = static_cast<unsigned>(std::min<std::size_t>(line.size(), std::numeric_limits<unsigned>::max()));
  // Fails only on invalid arguments or a scratch in use by another thread, both bugs of ours.
  const char* data = line.empty() ? "" : line.data();  // hs_scan refuses a null pointer, even with length 0
  if (hs_scan(db_->db.get(), data, length, 0, scratch_.get(), on_match, &context) != HS_SUCCESS) {
    throw std::logic_error("hs_scan failed");
  }
  std::sort(hits_.begin(), hits_.end());
  for (const unsigned id : hits_) {
    (id % 2 == 0 ? out.matched : out.ignored).push_back(id / 2);
  }
}

line_matches matcher::match(std::string_view line) {
  line_matches out;
  match(line, out);
  return out;
}

}  // namespace healthd::logwatch
