#pragma once
// The platform's current state: per subsystem the last probe result, its probe history and the healing facts,
// combined with the breakers into views by the status rules (docs/status-rules.md). The engine writes it; the
// API only reads views. Thread-safe. Never does I/O.

#include "healthd/breaker/breaker_registry.hpp"
#include "healthd/config/config.hpp"
#include "healthd/core/probe_result.hpp"
#include "healthd/core/status.hpp"
#include "healthd/engine/probe_stats.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthd {

enum class heal_phase {
  idle,
  running,    // a heal action is running
  verifying,  // an action succeeded; its verification probe has not finished
};

struct probe_sample {
  wall_time at{};
  probe_status status = probe_status::critical;
  double latency_ms = 0;
  std::string message;
};

struct subsystem_view {
  std::string name;
  std::string description;
  std::string loop;
  bool critical = false;
  std::optional<std::string> breaker;
  std::optional<healthd::breaker_state> breaker_state;
  health_status status = health_status::pending;
  std::optional<wall_time> last_check;
  std::optional<double> latency_ms;
  int consecutive_failures = 0;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
  std::vector<std::string> depends_on;
  hour_summary last_hour;  // as of the last refresh_hour_summaries() (the optimization loop)
};

struct status_summary {
  int healthy = 0;
  int degraded = 0;
  int critical = 0;
  int recovering = 0;
  int pending = 0;
};

struct platform_view {
  health_status status = health_status::pending;
  std::optional<wall_time> checked_at;  // newest probe result
  wall_time started_at{};
  std::vector<subsystem_view> subsystems;  // config order
  status_summary summary;
};

// Changes whenever anything a view shows may have changed: the state's own change counter and the breaker
// registry's. Compare with ==; reading it takes no lock and copies nothing.
struct state_version {
  std::uint64_t own = 0;
  std::uint64_t breakers = 0;
  friend bool operator==(const state_version&, const state_version&) = default;
};

class platform_state {
public:
  static constexpr std::size_t history_capacity = 50;

  platform_state(std::shared_ptr<const config::daemon_config> config, std::shared_ptr<breaker_registry> breakers,
                 wall_time started_at);

  // Reload: subsystems that remain keep their results and history; new ones start pending.
  void apply_config(std::shared_ptr<const config::daemon_config> config);

  // Unknown subsystem names are ignored (a reload may have removed it while a probe ran). The `instant` form also
  // feeds the subsystem's last-hour statistics.
  void record_probe(std::string_view subsystem, const probe_result& result, const instant& at);
  void record_probe(std::string_view subsystem, const probe_result& result, wall_time at);
  // Recomputes every subsystem's availability and p50/p95 latency over the hour before `now` (run by the
  // optimization loop, so documents change only when state does).
  void refresh_hour_summaries(steady_time now);
  // The subsystem's breaker refused its probe before it was ever probed (a breaker it shares is open): its status
  // follows the breaker instead of staying pending (docs/status-rules.md). Cleared by its first probe result.
  void record_refusal(std::string_view subsystem);
  void set_heal_phase(std::string_view subsystem, heal_phase phase);
  // Set while the hourly heal limit is used up: the status message says "healing exhausted: N attempts ...".
  void set_healing_exhausted(std::string_view subsystem, std::optional<int> attempts_last_hour);

  [[nodiscard]] platform_view view() const;
  [[nodiscard]] std::optional<subsystem_view> subsystem(std::string_view name) const;
  [[nodiscard]] std::vector<probe_sample> history(std::string_view name) const;  // oldest first
  // Cheap reads for decisions (no view is built): one subsystem's status (pending for an unknown name, or nullopt
  // from find_status), and the platform's.
  [[nodiscard]] health_status status_of(std::string_view name) const;
  [[nodiscard]] std::optional<health_status> find_status(std::string_view name) const;
  [[nodiscard]] health_status platform_status() const;
  [[nodiscard]] state_version version() const;
  [[nodiscard]] std::shared_ptr<const config::daemon_config> config() const;

private:
  struct record {
    std::optional<probe_result> last;
    std::optional<wall_time> last_at;
    int consecutive_failures = 0;
    heal_phase phase = heal_phase::idle;
    bool refused_by_breaker = false;
    std::optional<int> exhausted_attempts;
    std::deque<probe_sample> history;
    probe_stats stats;
    hour_summary last_hour;
  };

  [[nodiscard]] platform_view view_locked() const;
  [[nodiscard]] health_status status_locked(const config::subsystem_config& cfg, const record& r) const;
  void record_locked(std::string_view subsystem, const probe_result& result, wall_time at,
                     std::optional<steady_time> steady);
  void changed_locked();

  mutable std::mutex mutex_;
  std::shared_ptr<const config::daemon_config> config_;
  std::shared_ptr<breaker_registry> breakers_;
  wall_time started_at_;
  std::map<std::string, record, std::less<>> records_;
  // Bumped (release) under mutex_ after each change a view shows; read without the lock by version().
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace healthd
