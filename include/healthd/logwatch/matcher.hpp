#pragma once
// All log rules' `pattern`s and `ignore`s compiled once into one Vectorscan (Hyperscan) block-mode database, so a
// line is matched against every rule in one linear-time pass: no line, however hostile, can make matching stall
// (there is no backtracking). Pure: no I/O.
//
// Accepted syntax (docs/logwatch.md): PCRE syntax without the constructs a linear-time automaton cannot run.
//   Accepted: literals and escapes (\t, \x41, \x00, \Q...\E), `.`, classes ([a-z], [^0-9], [[:digit:]], \d \w
//   \s and their negations), alternation, groups ((...) and (?:...)), quantifiers (* + ? {n} {n,} {n,m}, lazy
//   forms), anchors (^ $ \A \z \Z \b \B) and the inline flags (?i) (?m) (?s) (?x).
//   Refused: backreferences (\1), lookahead and lookbehind ((?=...), (?!...), (?<=...), (?<!...)), atomic groups
//   and possessive quantifiers, conditionals, recursion, bounded repeats too large to compile (a{1000000}), a
//   pattern that matches an empty line (it would match every line), and a NUL byte in the pattern text (write \x00).
// Lines are matched as bytes, not as UTF-8 characters: `.` is one byte, a non-ASCII literal matches its UTF-8
// bytes (a quantifier after one repeats its last byte only: write (?:é)+), \x{...} above \xFF is refused, and a
// line with invalid UTF-8 or NUL bytes is matched like any other. A (?x) `#` comment must end with a newline. `^` and
// `$` anchor at the line's start and end (the line has no terminator).
//
// Thread safety: a matcher owns one Vectorscan scratch space, so one thread at a time may call match() on it. For
// another thread, copy it: copies share the immutable compiled database and each gets its own scratch.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct hs_scratch;  // Vectorscan's, from <hs/hs.h>, which stays out of this header

namespace healthd::logwatch {

// One rule's expressions, as written in the config.
struct rule_patterns {
  std::string pattern;
  std::optional<std::string> ignore;  // lines matching it never count for the rule
};

// Which expression Vectorscan refused, for the config loader's message
// (`log_healer.rules[<rule>].<field()>: <message>`).
struct pattern_error {
  enum class expression { pattern, ignore };
  // nullopt only when the set as a whole is refused while each expression compiles on its own (too large together).
  std::optional<std::size_t> rule;
  expression which = expression::pattern;
  std::string message;  // Vectorscan's, made readable where it names an internal flag

  [[nodiscard]] std::string_view field() const noexcept { return which == expression::pattern ? "pattern" : "ignore"; }
};

// The rules one line matched, by index into the rule list given to compile(); both ascending.
struct line_matches {
  std::vector<std::size_t> matched;  // rules whose `pattern` matched (whether or not their ignore did)
  std::vector<std::size_t> ignored;  // rules whose `ignore` matched (whether or not their pattern did)

  // The pattern matched and no ignore did: the line counts for the rule.
  [[nodiscard]] bool counts(std::size_t rule) const;
  [[nodiscard]] bool is_ignored(std::size_t rule) const;
  void clear() noexcept {
    matched.clear();
    ignored.clear();
  }
};

class matcher;
using compile_result = std::variant<matcher, pattern_error>;

class matcher {
public:
  // Compiles every rule's expressions; the first one refused is the error. An empty rule list gives a matcher that
  // matches nothing.
  [[nodiscard]] static compile_result compile(const std::vector<rule_patterns>& rules);

  matcher(const matcher& other);
  matcher& operator=(const matcher& other);
  matcher(matcher&&) noexcept = default;
  matcher& operator=(matcher&&) noexcept = default;
  ~matcher();

  // Fills `out` (cleared first; its capacity is reused, so a caller matching many lines allocates nothing).
  void match(std::string_view line, line_matches& out);
  [[nodiscard]] line_matches match(std::string_view line);

  [[nodiscard]] std::size_t rule_count() const noexcept { return rule_count_; }

private:
  struct database;
  struct scratch_deleter {
    void operator()(hs_scratch* scratch) const noexcept;
  };

  matcher(std::shared_ptr<const database> db, std::size_t rule_count);

  std::shared_ptr<const database> db_;  // null when there are no rules
  std::unique_ptr<hs_scratch, scratch_deleter> scratch_;
  std::size_t rule_count_ = 0;
  std::vector<unsigned> hits_;  // expression ids reported during one scan
};

}  // namespace healthd::logwatch
