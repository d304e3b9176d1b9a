#include "healthd/engine/engine.hpp"

#include "healthd/core/status_rules.hpp"
#include "healthd/engine/schedule.hpp"

#include "engine_core.hpp"
#include "subsystem_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <string_view>

namespace healthd {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace detail {

namespace {

constexpr std::string_view optimization_loop = "optimization";

}  // namespace

engine_core::engine_core(engine_dependencies d, std::shared_ptr<const config::daemon_config> c)
    : deps(std::move(d)),
      slots(deps.executor, static_cast<std::size_t>(c->healing.max_concurrent)),
      config(std::move(c)),
      last_audit_id(deps.log->last_id()) {
  if (deps.probes == nullptr) deps.probes = &probes::probe_registry::builtin();
  if (deps.actions == nullptr) deps.actions = &actions::action_registry::builtin();
}

std::shared_ptr<const config::daemon_config> engine_core::current_config() const {
  std::lock_guard lock(mutex);
  return config;
}

config::healing_mode engine_core::mode() const { return current_config()->healing.mode; }

runner_parts engine_core::build_parts(const config::daemon_config& cfg, const config::subsystem_config& s,
                                      const asio::any_io_executor& strand) const {
  runner_parts parts;
  parts.config = s;
  if (const auto* loop = cfg.find_loop(s.loop)) parts.loop_interval_s = loop->interval_s;
  probes::probe_context pc{strand, deps.pool.get(), cfg.secrets, s.name};
  parts.probe = deps.probes->create(s.probe, pc);
  const auto ac = action_context(cfg, s, strand, parts.probe.get());
  for (const auto& a : s.heal.actions)
    parts.ladder.push_back(deps.actions->create(a, ac));
  for (const auto& task : cfg.maintenance) {
    if (task.subsystem != s.name) continue;
    const auto label = task.action.name ? task.action.label() : task.action.type + ":" + task.name;
    parts.maintenance.emplace(
        task.name, heal_override_action{deps.actions->create(task.action, ac), label, task.action.timeout_ms});
  }
  return parts;
}

actions::action_context engine_core::action_context(const config::daemon_config& cfg, const config::subsystem_config& s,
                                                    const asio::any_io_executor& strand, probes::probe* probe) const {
  return {strand, deps.pool.get(), cfg.secrets, s.name, probe, s.probe};
}

asio::awaitable<std::pair<healing_entry, bool>> engine_core::record(healing_entry entry) {
  entry.timestamp = now().wall;
  entry.platform_status = deps.state->platform_status();
  healing_entry stored;
  bool durable = true;
  if (deps.audit) {
    auto in_log = std::make_shared<healing_entry>();
    audit_file::hooks around;
    around.on_queued = [self = shared_from_this()](healing_entry& e) { e.id = ++self->last_audit_id; };
    around.on_written = [log = deps.log, in_log](const healing_entry& e, std::error_code /*ec*/) {
      *in_log = log->append(e);
      // Only the writer thread appends while there is an audit file, in the order the ids were given.
      assert(in_log->id == e.id);
    };
    const auto error = co_await deps.audit->async_append(std::move(entry), std::move(around), use_awaitable);
    stored = std::move(*in_log);
    if (error) {
      durable = false;
      ++audit_write_failures;
      spdlog::error("audit file {}: entry {} not written: {}", deps.audit->path().string(), stored.id, error.message());
    }
  } else {
    stored = deps.log->append(std::move(entry));
  }
  spdlog::info("healing: {} {} ({}) {}: {}", stored.subsystem, stored.action, to_string(stored.trigger),
               to_string(stored.result), stored.detail);
  co_return std::make_pair(std::move(stored), durable);
}

std::optional<std::pair<std::string, health_status>> engine_core::blocking_dependency(
    const config::subsystem_config& s) const {
  if (s.depends_on.empty()) return std::nullopt;
  return healthd::blocking_dependency(s.depends_on,
                                      [this](std::string_view name) { return deps.state->find_status(name); });
}

void engine_core::breaker_moved(const std::string& breaker, breaker_state to, std::string_view by) const {
  std::vector<std::shared_ptr<subsystem_runner>> sharing;
  {
    std::lock_guard lock(mutex);
    for (const auto& s : config->subsystems) {
      if (s.breaker != breaker || s.name == by) continue;
      if (auto it = runners.find(s.name); it != runners.end()) sharing.push_back(it->second);
    }
  }
  for (const auto& runner : sharing)
    runner->breaker_changed(to);
}

std::vector<std::shared_ptr<subsystem_runner>> engine_core::runners_in_loop(const std::string& loop) const {
  std::lock_guard lock(mutex);
  std::vector<std::shared_ptr<subsystem_runner>> out;
  for (const auto& s : config->subsystems) {
    if (s.loop != loop) continue;
    if (auto it = runners.find(s.name); it != runners.end()) out.push_back(it->second);
  }
  return out;
}

std::shared_ptr<subsystem_runner> engine_core::find_runner(std::string_view name) const {
  std::lock_guard lock(mutex);
  auto it = runners.find(name);
  return it == runners.end() ? nullptr : it->second;
}

namespace {

asio::awaitable<void> run_loop(std::shared_ptr<engine_core> core, std::shared_ptr<loop_state> loop) {
  const auto interval = to_duration(loop->config.interval_s);
  const auto start = core->now().steady;
  auto next = start;
  while (!loop->stopped) {
    loop->next_due_ns = next.time_since_epoch().count();
    loop->timer->expires_at(next);
    (void)co_await loop->timer->async_wait(asio::as_tuple(use_awaitable));
    if (loop->stopped) break;
    for (const auto& runner : core->runners_in_loop(loop->config.name))
      runner->poke();
    if (loop->config.name == optimization_loop) {
      core->deps.state->refresh_hour_summaries(core->now().steady);
      for (const auto& task : core->current_config()->maintenance) {
        if (auto runner = core->find_runner(task.subsystem)) runner->maintain(task.name);
      }
    }
    next = next_tick(start, interval, core->now().steady);
  }
}

bool same_parts(const config::daemon_config& a, const config::daemon_config& b, const config::subsystem_config& s) {
  const auto* old = a.find_subsystem(s.name);
  if (old == nullptr || !(*old == s)) return false;
  const auto* old_loop = a.find_loop(s.loop);
  const auto* new_loop = b.find_loop(s.loop);
  if (old_loop == nullptr || new_loop == nullptr || old_loop->interval_s != new_loop->interval_s) return false;
  const auto tasks_of = [&](const config::daemon_config& c) {
    std::vector<config::maintenance_task> out;
    for (const auto& t : c.maintenance) {
      if (t.subsystem == s.name) out.push_back(t);
    }
    return out;
  };
  return tasks_of(a) == tasks_of(b) && a.secrets.size() == b.secrets.size();
}

}  // namespace

}  // namespace detail

engine::engine(engine_dependencies deps, const std::shared_ptr<const config::daemon_config>& config)
    : core_(std::make_shared<detail::engine_core>(std::move(deps), config)) {
  for (const auto& s : config->subsystems) {
    auto strand = asio::make_strand(core_->deps.executor);
    auto runner = std::make_shared<detail::subsystem_runner>(core_, strand, core_->build_parts(*config, s, strand));
    core_->runners.emplace(s.name, std::move(runner));
  }
}

engine::~engine() {
  stop();
  // Each runner holds the core, which holds the runners: break the cycle. Work still queued on the executor keeps
  // what it uses alive until it ends or the executor is destroyed.
  std::lock_guard lock(core_->mutex);
  core_->runners.clear();
}

void engine::start() {
  std::lock_guard lock(core_->mutex);
  if (core_->running) return;
  core_->running = true;
  for (const auto& [name, runner] : core_->runners)
    runner->start();
  start_loops_locked();
}

void engine::start_loops_locked() {
  for (const auto& loop_config : core_->config->loops) {
    auto loop = std::make_shared<detail::loop_state>();
    loop->config = loop_config;
    auto strand = asio::make_strand(core_->deps.executor);
    loop->timer = std::make_unique<asio::steady_timer>(strand);
    loop->next_due_ns = core_->now().steady.time_since_epoch().count();
    core_->loops.push_back(loop);
    asio::co_spawn(strand, detail::run_loop(core_, loop), [name = loop_config.name](const std::exception_ptr& e) {
      if (e) spdlog::error("loop {} stopped by an exception", name);
    });
  }
}

namespace {

void stop_loop(const std::shared_ptr<detail::loop_state>& loop) {
  loop->stopped = true;
  auto* timer = loop->timer.get();
  asio::dispatch(timer->get_executor(), [loop] { loop->timer->cancel(); });
}

}  // namespace

void engine::stop() {
  std::lock_guard lock(core_->mutex);
  if (!core_->running) return;
  core_->running = false;
  for (const auto& loop : core_->loops)
    stop_loop(loop);
  core_->loops.clear();
  for (const auto& [name, runner] : core_->runners)
    runner->stop();
  core_->slots.shutdown();
}

void engine::apply_config(std::shared_ptr<const config::daemon_config> next) {
  const auto current = core_->current_config();
  // Build everything new first: a probe or action that cannot be built leaves the running config untouched.
  std::map<std::string, std::pair<asio::any_io_executor, detail::runner_parts>> built;
  for (const auto& s : next->subsystems) {
    if (detail::same_parts(*current, *next, s)) continue;
    auto existing = core_->find_runner(s.name);
    auto strand = existing ? existing->strand() : asio::any_io_executor(asio::make_strand(core_->deps.executor));
    built.emplace(s.name, std::make_pair(strand, core_->build_parts(*next, s, strand)));
  }

  core_->deps.breakers->apply(next->breakers);
  core_->deps.state->apply_config(next);
  std::lock_guard lock(core_->mutex);
  for (auto it = core_->runners.begin(); it != core_->runners.end();) {
    if (next->find_subsystem(it->first) == nullptr) {
      it->second->stop();
      it = core_->runners.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [name, entry] : built) {
    if (auto it = core_->runners.find(name); it != core_->runners.end()) {
      it->second->replace(std::move(entry.second));
    } else {
      auto runner = std::make_shared<detail::subsystem_runner>(core_, entry.first, std::move(entry.second));
      if (core_->running) runner->start();
      core_->runners.emplace(name, std::move(runner));
    }
  }
  core_->slots.set_capacity(static_cast<std::size_t>(next->healing.max_concurrent));
  const bool loops_changed = current->loops != next->loops;
  core_->config = std::move(next);
  if (loops_changed && core_->running) {
    for (const auto& loop : core_->loops)
      stop_loop(loop);
    core_->loops.clear();
    start_loops_locked();
  }
}

bool engine::loops_on_time() const {
  const auto now = core_->now().steady;
  std::lock_guard lock(core_->mutex);
  return std::all_of(core_->loops.begin(), core_->loops.end(), [&](const auto& loop) {
    return loop_on_time(steady_time{steady_time::duration{loop->next_due_ns.load()}}, now);
  });
}

engine_counters engine::counters() const {
  return {core_->audit_write_failures.load(), core_->probes_run.load(), core_->probes_rejected.load(),
          core_->watch_wakeups.load()};
}

asio::awaitable<trigger_outcome> engine::trigger(trigger_request request) {
  auto runner = core_->find_runner(request.subsystem);
  if (!runner) {
    co_return trigger_refused{heal_refusal::unknown_subsystem, "unknown subsystem \"" + request.subsystem + "\"",
                              std::nullopt};
  }
  auto on_strand = runner->trigger(std::move(request));
  co_return co_await asio::co_spawn(runner->strand(), std::move(on_strand), use_awaitable);
}

asio::awaitable<manual_heal_outcome> engine::heal(manual_heal_request request) {
  auto subsystem = request.subsystem;
  trigger_request forced{std::move(request.subsystem), heal_trigger::manual, std::move(request.reason), {}};
  auto outcome = co_await trigger(std::move(forced));
  if (auto* refused = std::get_if<trigger_refused>(&outcome)) {
    co_return manual_heal_refused{refused->reason, std::move(refused->message), refused->retry_after};
  }
  if (auto* started = std::get_if<trigger_started>(&outcome)) {
    if (!started->durable) {
      co_return manual_heal_refused{heal_refusal::audit_write_failed,
                                    "the heal ran, but its healing-log entry could not be written to the audit file",
                                    std::nullopt};
    }
    co_return manual_heal_done{std::move(subsystem), started->result, std::move(started->entries), started->status};
  }
  // A forced heal is never deferred; answer as a heal already under way would be.
  co_return manual_heal_refused{heal_refusal::heal_in_progress, std::get<trigger_deferred>(outcome).message,
                                std::nullopt};
}

std::shared_ptr<actions::action> engine::build_action(const std::string& subsystem,
                                                      const config::action_config& action) const {
  const auto config = core_->current_config();
  const auto* s = config->find_subsystem(subsystem);
  auto runner = core_->find_runner(subsystem);
  if (s == nullptr || !runner) throw std::invalid_argument("unknown subsystem \"" + subsystem + "\"");
  return core_->deps.actions->create(action, core_->action_context(*config, *s, runner->strand(), nullptr));
}

}  // namespace healthd
