#pragma once
// Secrets (conninfo passwords, tokens in headers and URLs, ...; the config decides which, docs/configuration.md)
// must never reach a message, a log line, the API or `--check` output. Every text that may carry one passes through
// `secret_set::redact`.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthd {

inline constexpr std::string_view redacted_marker = "***";

// Immutable after configuration is loaded; `redact` is then safe to call from any thread.
class secret_set {
public:
  // Empty strings are ignored: they cannot be found in a text and redacting them would be meaningless.
  void add(std::string secret);
  void merge(const secret_set& other);
  [[nodiscard]] bool empty() const noexcept { return secrets_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return secrets_.size(); }
  // Replaces every occurrence of every secret with "***", longest secrets first.
  [[nodiscard]] std::string redact(std::string_view text) const;
  // What every untrusted text passes through once, where it enters the daemon: redacted, then made valid UTF-8
  // (healthd/core/utf8.hpp) and cut on a character boundary to at most `max_bytes`. Redacting first means a secret
  // is found even next to invalid bytes, and a cut can never leave part of one.
  [[nodiscard]] std::string sanitize(std::string_view text, std::size_t max_bytes = std::string_view::npos) const;

private:
  std::vector<std::string> secrets_;  // sorted longest first
};

// Every string (and key) in `value` passed through `secrets.sanitize`: redacted and valid UTF-8.
[[nodiscard]] nlohmann::json sanitize_json(const nlohmann::json& value, const secret_set& secrets);

// %XX escapes decoded where they are well formed, anything else ('%' without two hex digits) kept as written: how
// a secret written percent-encoded (URL userinfo, a query value) may read in a message.
[[nodiscard]] std::string percent_decode_lenient(std::string_view text);

// The password in a libpq conninfo, in key=value form (`password=x`, `password='x y'`) or URI form
// (`postgresql://user:x@host/db`, `?password=x`); nullopt when there is none.
[[nodiscard]] std::optional<std::string> conninfo_password(std::string_view conninfo);

}  // namespace healthd
