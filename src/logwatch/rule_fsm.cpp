#include "healthd/logwatch/rule_fsm.hpp"

#include "healthd/core/overloaded.hpp"
#include "healthd/core/utf8.hpp"

#include <cassert>
#include <charconv>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace healthd::logwatch {

namespace {

// Shortest text that reads back as `seconds` ("60", "0.5").
std::string seconds_text(double seconds) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(std::begin(buffer), std::end(buffer), seconds);
  if (ec != std::errc{}) return "?";
  return {std::begin(buffer), end};
}

}  // namespace

std::uint64_t rule_counters::refused_total() const noexcept {
  return std::accumulate(refused.begin(), refused.end(), std::uint64_t{0},
                         [](std::uint64_t sum, const auto& entry) { return sum + entry.second; });
}

rule_fsm::rule_fsm(rule_settings settings, std::shared_ptr<const secret_set> secrets)
    : settings_(std::move(settings)),
      secrets_(std::move(secrets)),
      window_length_(to_duration(settings_.window_s)),
      cooldown_length_(to_duration(settings_.cooldown_s)) {
  // The config loader validates these; a violation here is a bug of the caller's.
  if (settings_.threshold == 0) throw std::invalid_argument("rule_fsm: threshold must be at least 1");
  if (settings_.window_s < 0 || settings_.cooldown_s < 0) {
    throw std::invalid_argument("rule_fsm: window_s and cooldown_s must not be negative");
  }
}

void rule_fsm::advance(steady_time now) {
  while (!window_.empty() && now - window_.front() > window_length_)
    window_.pop_front();
  if (quiet_until_ && !awaiting_answer_ && now >= *quiet_until_) quiet_until_.reset();
}

std::optional<rule_action::fire> rule_fsm::on_match(const rule_event::matched& event) {
  advance(event.now.steady);
  ++counters_.matched;
  counters_.last_match_at = event.now.wall;
  counters_.last_match_line =
      secrets_ ? secrets_->sanitize(event.line, max_rule_line_bytes) : valid_utf8(event.line, max_rule_line_bytes);
  if (quiet_until_) {
    ++counters_.suppressed;
    return std::nullopt;
  }
  window_.push_back(event.now.steady);
  if (window_.size() < settings_.threshold) return std::nullopt;
  assert(window_.size() == settings_.threshold);

  window_.clear();
  quiet_until_ = event.now.steady + cooldown_length_;
  awaiting_answer_ = true;
  ++counters_.fired;
  std::string reason = "log rule '" + settings_.name + "' matched";
  if (settings_.threshold > 1) {
    reason += " " + std::to_string(settings_.threshold) + " times within " + seconds_text(settings_.window_s) + " s";
  }
  reason += ": " + counters_.last_match_line;
  return rule_action::fire{.rule = settings_.name,
                           .subsystem = settings_.subsystem,
                           .reason = std::move(reason),
                           .line = counters_.last_match_line};
}

std::optional<rule_action::fire> rule_fsm::on(const rule_fsm_event& event) {
  return std::visit(overloaded{
                        [&](const rule_event::matched& e) { return on_match(e); },
                        [&](const rule_event::ignored&) -> std::optional<rule_action::fire> {
                          ++counters_.ignored;
                          return std::nullopt;
                        },
                        [&](const rule_event::trigger_answered& e) -> std::optional<rule_action::fire> {
                          assert(awaiting_answer_ && "an answer to a trigger this rule did not fire");
                          if (!awaiting_answer_) return std::nullopt;
                          awaiting_answer_ = false;
                          switch (e.answer) {
                            case trigger_answer::started: ++counters_.started; break;
                            case trigger_answer::deferred: ++counters_.deferred; break;
                            case trigger_answer::refused: {
                              auto it = counters_.refused.find(e.reason);
                              if (it == counters_.refused.end()) it = counters_.refused.emplace(e.reason, 0).first;
                              ++it->second;
                              break;
                            }
                          }
                          return std::nullopt;
                        },
                        [&](const rule_event::tick& e) -> std::optional<rule_action::fire> {
                          advance(e.now.steady);
                          return std::nullopt;
                        },
                    },
                    event);
}

}  // namespace healthd::logwatch
