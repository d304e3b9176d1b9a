#pragma once
// The in-memory audit log of healing actions: a ring buffer of the newest `capacity` entries. Pure and
// thread-safe. Durability (the audit file) is layered on top by the engine; this class never does I/O.

#include "healthd/core/clock.hpp"
#include "healthd/core/status.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace healthd {

enum class heal_trigger { automatic, manual, log, maintenance };  // wire names: auto, manual, log, maintenance
enum class heal_result { success, failure, skipped };
// Whether the probe run right after a successful action passed. An entry without one (skipped, failed action,
// `recovered`, maintenance) has no verification_result at all.
enum class verification_result { passed, failed };

[[nodiscard]] std::string_view to_string(heal_trigger t) noexcept;
[[nodiscard]] std::string_view to_string(heal_result r) noexcept;
[[nodiscard]] std::string_view to_string(verification_result v) noexcept;
[[nodiscard]] std::optional<heal_trigger> parse_heal_trigger(std::string_view text) noexcept;
[[nodiscard]] std::optional<heal_result> parse_heal_result(std::string_view text) noexcept;
[[nodiscard]] std::optional<verification_result> parse_verification_result(std::string_view text) noexcept;

struct healing_entry {
  std::uint64_t id = 0;  // assigned by healing_log::append, strictly increasing
  wall_time timestamp{};
  std::string subsystem;
  std::string action;  // "reconnect", "exec:restart-redis", "recovered", ...
  heal_trigger trigger = heal_trigger::automatic;
  // success only when the action succeeded and its verification, if one ran, passed.
  heal_result result = heal_result::success;
  std::optional<verification_result> verification;  // nullopt when no verification probe ran
  std::string detail;
  health_status platform_status = health_status::pending;

  friend bool operator==(const healing_entry&, const healing_entry&) = default;
};

struct healing_query {
  std::size_t limit = 50;
  std::optional<std::string> subsystem;
  std::optional<std::uint64_t> since_id;  // only entries with a greater id (the newest `limit` of them)
};

// Entries ever appended, by subsystem, trigger and result: survives the ring's eviction (for metrics).
struct heal_count {
  std::string subsystem;
  heal_trigger trigger = heal_trigger::automatic;
  heal_result result = heal_result::success;
  std::uint64_t count = 0;
};

class healing_log {
public:
  explicit healing_log(std::size_t capacity);

  // Stores the entry with the next id (the entry's own id is ignored) and returns it as stored.
  healing_entry append(healing_entry entry);

  // Refills from a durable copy (oldest first); keeps the newest `capacity`. Later ids continue after the
  // greatest restored id.
  void restore(std::vector<healing_entry> entries);

  // Newest first.
  [[nodiscard]] std::vector<healing_entry> query(const healing_query& q) const;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::uint64_t last_id() const;  // 0 when nothing was ever appended; moves on every append
  // Appends since this process started (restored entries are not counted), sorted by subsystem, trigger, result.
  [[nodiscard]] std::vector<heal_count> counts() const;

private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<healing_entry> entries_;  // oldest first
  std::uint64_t last_id_ = 0;
  std::map<std::tuple<std::string, heal_trigger, heal_result>, std::uint64_t> counts_;
};

}  // namespace healthd
