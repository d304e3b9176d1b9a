#include "healthd/healing_log/healing_log.hpp"

#include <algorithm>
#include <stdexcept>

namespace healthd {

std::string_view to_string(heal_trigger t) noexcept {
  switch (t) {
    case heal_trigger::automatic: return "auto";
    case heal_trigger::manual: return "manual";
    case heal_trigger::log: return "log";
    case heal_trigger::maintenance: return "maintenance";
  }
  return "auto";
}

std::string_view to_string(heal_result r) noexcept {
  switch (r) {
    case heal_result::success: return "success";
    case heal_result::failure: return "failure";
    case heal_result::skipped: return "skipped";
  }
  return "failure";
}

std::string_view to_string(verification_result v) noexcept {
  switch (v) {
    case verification_result::passed: return "passed";
    case verification_result::failed: return "failed";
  }
  return "failed";
}

std::optional<heal_trigger> parse_heal_trigger(std::string_view text) noexcept {
  for (auto t : {heal_trigger::automatic, heal_trigger::manual, heal_trigger::log, heal_trigger::maintenance}) {
    if (to_string(t) == text) return t;
  }
  return std::nullopt;
}

std::optional<heal_result> parse_heal_result(std::string_view text) noexcept {
  for (auto r : {heal_result::success, heal_result::failure, heal_result::skipped}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::optional<verification_result> parse_verification_result(std::string_view text) noexcept {
  for (auto v : {verification_result::passed, verification_result::failed}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

healing_log::healing_log(std::size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) throw std::invalid_argument("healing_log capacity must be positive");
}

healing_entry healing_log::append(healing_entry entry) {
  std::lock_guard lock(mutex_);
  entry.id = ++last_id_;
  entries_.push_back(entry);
  if (entries_.size() > capacity_) entries_.pop_front();
  ++counts_[{entry.subsystem, entry.trigger, entry.result}];
  return entry;
}

void healing_log::restore(std::vector<healing_entry> entries) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::lock_guard lock(mutex_);
  for (auto& e : entries) {
    if (!entries_.empty() && e.id <= entries_.back().id) continue;  // duplicates from overlapping files
    last_id_ = std::max(last_id_, e.id);
    entries_.push_back(std::move(e));
    if (entries_.size() > capacity_) entries_.pop_front();
  }
}

std::vector<healing_entry> healing_log::query(const healing_query& q) const {
  std::lock_guard lock(mutex_);
  std::vector<healing_entry> out;
  const auto limit = std::min(q.limit, capacity_);
  for (auto it = entries_.rbegin(); it != entries_.rend() && out.size() < limit; ++it) {
    if (q.since_id && it->id <= *q.since_id) break;  // ids increase with position: nothing older qualifies
    if (q.subsystem && it->subsystem != *q.subsystem) continue;
    out.push_back(*it);
  }
  return out;
}

std::vector<heal_count> healing_log::counts() const {
  std::lock_guard lock(mutex_);
  std::vector<heal_count> out;
  out.reserve(counts_.size());
  for (const auto& [key, n] : counts_)
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  return out;
}

std::size_t healing_log::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t healing_log::last_id() const {
  std::lock_guard lock(mutex_);
  return last_id_;
}

}  // namespace healthd
