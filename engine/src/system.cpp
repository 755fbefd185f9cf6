#include <eam/engine/system.hpp>

#include "actor_cell.hpp"
#include "actor_ids.hpp"
#include "allocator.hpp"
#include "system_state.hpp"
#include "usable_cpus.hpp"

#include <eam/engine/log.hpp>
#include <eam/engine/telemetry.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <cstdlib>
#include <thread>

namespace eam {

namespace detail {

namespace {
std::string local_node_id() {
  std::random_device rd;
  return fmt::format("local-{:08x}", static_cast<std::uint32_t>(rd()));
}
}  // namespace

system_state::system_state(const system_config& cfg)
    : config(cfg),
      scheduler(cfg.workers != 0 ? cfg.workers : internal::usable_cpus(), cfg.throughput, cfg.adaptive_workers),
      caller_turns(cfg.calls_run_on_caller) {
  // Before the scheduler starts its workers (actor_system's constructor): their heaps then
  // take their memory with the option on.
  if (cfg.large_pages) internal::prefer_large_pages();
}

actor_cell* spawn_cell(system_state& sys, actor_cell* parent, const spawn_options& opts, const actor_type& type,
                       std::size_t size, std::size_t align, void* closure, impl_constructor construct) {
  return spawn_cell_forwarding(sys, parent, opts, type, size, align, closure, construct, nullptr);
}

// The common body; `forwarder` is null for every spawn but a forwarding actor's (a pointer, so
// that ordinary spawns build and drop no shared_ptr).
actor_cell* spawn_cell_forwarding(system_state& sys, actor_cell* parent, const spawn_options& opts,
                                  const actor_type& type, std::size_t size, std::size_t align, void* closure,
                                  impl_constructor construct, std::shared_ptr<message_forwarder>* forwarder) {
  // Outside actors, spawning stops when shutdown begins; an actor may still spawn while
  // mailboxes drain (its work in flight may need it), not once actors are being stopped.
  const auto phase = sys.current_phase();
  if (phase != system_state::phase::running && (current_cell() == nullptr || phase != system_state::phase::draining))
    throw error(errc::system_shutting_down, "spawn refused");

  constexpr std::size_t cell_size = (sizeof(actor_cell) + alignof(actor_cell) - 1) & ~(alignof(actor_cell) - 1);
  const std::size_t impl_offset = (cell_size + align - 1) & ~(align - 1);
  // Whole cache lines: actors spawned one after another sit side by side, and once they run on
  // different workers a line shared by two of them moved between cores at every write of
  // either. fork-join-create's children took 224 bytes each, so every other child shared its
  // first line with the one before, which another worker was running while the creator built
  // the next; 256-byte blocks cost 14 % more memory there.
  constexpr std::size_t line = 64;
  const std::size_t bytes = (impl_offset + size + line - 1) & ~(line - 1);
  void* mem = align <= line ? internal::allocate_lines(bytes) : internal::allocate(bytes, align);
  auto* cell = ::new (mem) actor_cell(sys, internal::next_actor_id(), parent, type);
  try {
    construct(closure, static_cast<char*>(mem) + impl_offset);
    cell->set_impl_offset(static_cast<std::uint16_t>(impl_offset));
  } catch (...) {
    cell->release();
    throw;
  }
  const std::uint32_t bound = opts.mailbox_bound != 0 ? opts.mailbox_bound : sys.config.default_mailbox_bound;
  if (bound != 0) {
    try {
      cell->set_mailbox_bound(bound, opts.mailbox_bound != 0 ? opts.overflow : sys.config.default_overflow);
    } catch (...) {
      cell->release();
      throw;
    }
  }
  if (forwarder != nullptr) [[unlikely]] {
    try {
      cell->set_forwarder(std::move(*forwarder));
    } catch (...) {
      cell->release();
      throw;
    }
  }
  if (!opts.name.empty()) {
    try {
      cell->set_name(opts.name);  // first: once registered, the name must not outlive a failed spawn
    } catch (...) {
      cell->release();
      throw;
    }
    const std::shared_ptr<name_extension> extension = opts.global ? sys.registry.extension() : nullptr;
    if ((extension && !extension->may_register(opts.name)) || !sys.registry.register_name(opts.name, cell)) {
      cell->release();
      throw error(errc::name_taken, opts.name);
    }
    if (extension) {
      try {
        cell->add_ref();  // the ref below adopts it
        extension->registered(opts.name, actor_ref(cell, detail::adopt_t{}));
      } catch (...) {
        sys.registry.unregister_name(opts.name, cell);
        cell->release();
        throw;
      }
    }
  }
  // References: the alive one (dropped by the worker after finish), the caller's, and the
  // parent's child list.
  cell->add_ref();
  if (parent != nullptr) {
    cell->add_ref();
    parent->add_child(cell);
  }
  sys.registry.add(cell);
  if (telemetry::any_handlers()) [[unlikely]] {
    static const telemetry::event_gate spawn_events{telemetry::events::actor_spawn};
    if (spawn_events.listened()) {
      try {
        telemetry::execute(telemetry::events::actor_spawn, {},
                           {{"actor_id", std::to_string(cell->id())},
                            {"node_id", sys.config.node_id},
                            {"actor_class", short_type_label(type.name)},
                            {"name", opts.name},
                            {"parent_id", parent != nullptr ? std::to_string(parent->id()) : std::string()}});
      } catch (...) {
      }
    }
  }
  sys.scheduler.schedule(cell);  // the mailbox starts claimed: this is the first wake-up
  return cell;
}

bool cell_handles_all(const actor_cell* c, const signature_id* sigs, std::size_t n) noexcept {
  // The type descriptor is static: reading it never races the actor's end (unlike the impl).
  if (c->is_dead()) return false;
  if (const message_forwarder* f = c->forwarder()) {
    for (std::size_t i = 0; i < n; ++i)
      if (!f->handles(message_type_id(sigs[i].message), message_type_id(sigs[i].reply))) return false;
    return true;
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!c->type().handles(sigs[i])) return false;
  return true;
}

}  // namespace detail

actor_system::actor_system(system_config config) : state_(std::make_unique<detail::system_state>(config)) {
  if (state_->config.node_id.empty()) state_->config.node_id = detail::local_node_id();
  state_->handle = this;
  state_->scheduler.start(state_->timers);
}

actor_system::~actor_system() {
  if (state_->scheduler.on_worker()) {
    // The system would free the pool this thread runs on: a bug in the program, not an error
    // it could handle (a destructor cannot report one).
    std::fputs("eam: an actor_system destroyed from one of its own actors\n", stderr);
    std::abort();
  }
  shutdown();
  await_shutdown();
}

std::optional<actor_ref> actor_system::whereis(std::string_view name) const {
  detail::actor_cell* c = state_->registry.whereis(name);
  if (c != nullptr) return actor_ref(c, detail::adopt_t{});
  if (const auto extension = state_->registry.extension()) return extension->whereis(name);
  return std::nullopt;
}

std::uint64_t actor_system::names_version() const noexcept { return state_->registry.names_version(); }

void actor_system::names_changed() noexcept { state_->registry.names_changed(); }

void actor_system::set_name_extension(std::shared_ptr<name_extension> extension) {
  state_->registry.set_extension(std::move(extension));
}

bool actor_system::unregister(std::string_view name) {
  detail::actor_cell* c = state_->registry.whereis(name);
  if (c == nullptr) return false;
  const std::uint64_t id = c->id();
  const bool freed = state_->registry.unregister_name(std::string(name), c);
  c->release();
  if (!freed) return false;
  if (const auto extension = state_->registry.extension()) extension->unregistered(std::string(name), id);
  return true;
}

std::optional<actor_ref> actor_system::find(std::uint64_t id) const {
  detail::actor_cell* c = state_->registry.find(id);
  if (c == nullptr) return std::nullopt;
  return actor_ref(c, detail::adopt_t{});
}

actor_system& system_of(const actor_ref& ref) noexcept { return *ref.cell()->system().handle; }

bool actor_system::owns(const actor_ref& ref) const noexcept {
  return ref && ref.cell()->system_address() == state_.get();
}

void actor_system::stop(const actor_ref& ref) noexcept {
  if (ref) ref.cell()->deliver_stop();
}

void actor_system::stop(const actor_ref& ref, exit_reason reason) {
  if (ref)
    ref.cell()->deliver_system(detail::make_envelope<exit_reason>(detail::envelope_kind::stop, std::move(reason)));
}

void actor_system::exit(const actor_ref& ref, exit_reason reason) {
  if (!ref) return;
  ref.cell()->deliver_system(detail::make_envelope<internal::exit_request>(
      detail::envelope_kind::exit, internal::exit_request{actor_ref{}, std::move(reason), false}));
}

void actor_system::watch(const actor_ref& ref, std::function<void(const down&)> on_down,
                         std::function<void(const moved&)> on_moved) {
  // Only unique among the watches from outside actors, which no watcher id tells apart:
  // relaxed is enough for a counter nothing else is ordered by.
  static std::atomic<std::uint64_t> last_id{0};
  const std::uint64_t id = last_id.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!ref) {
    on_down(down{watch_ref{id, 0, 0}, actor_ref{}, exit_reason::noproc()});
    return;
  }
  auto outside =
      std::make_unique<internal::outside_watch>(internal::outside_watch{std::move(on_down), std::move(on_moved), ref});
  ref.cell()->deliver_system(detail::make_envelope<internal::watch_request>(
      detail::envelope_kind::watch, internal::watch_request{actor_ref{}, id, std::move(outside)}));
}

namespace {
using phase = detail::system_state::phase;

// Waits, with a growing pause, until `done()` or the deadline. Shutdown is not a hot path;
// the pause keeps the waiting thread off the cores the workers need.
template <class Pred>
bool wait_until(std::chrono::steady_clock::time_point deadline, Pred done) {
  auto pause = std::chrono::microseconds(50);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
  return true;
}
}  // namespace

void actor_system::shutdown(shutdown_options options) {
  auto& s = *state_;
  phase expected = phase::running;
  if (!s.state.compare_exchange_strong(expected, phase::draining)) {  // already done or under way
    if (!s.scheduler.on_worker()) await_shutdown();
    return;
  }
  if (s.scheduler.on_worker()) {
    // A worker cannot join the pool it runs on: the shutdown runs on its own thread (Erlang's
    // init:stop), joined by await_shutdown or the destructor.
    std::lock_guard lock(s.shutdown_mutex);
    try {
      s.shutdown_thread = std::thread([this, options] { run_shutdown(options); });
    } catch (...) {
      s.state.store(phase::running, std::memory_order_release);  // not started: the system runs on
      throw;
    }
    return;
  }
  run_shutdown(options);
}

void actor_system::await_shutdown() {
  auto& s = *state_;
  if (s.scheduler.on_worker())
    throw error(errc::blocking_call_on_worker, "await_shutdown inside an actor would wait for its own end");
  std::unique_lock lock(s.shutdown_mutex);
  s.stopped.wait(lock, [&] { return s.current_phase() == phase::stopped; });
  if (s.shutdown_thread.joinable()) s.shutdown_thread.join();
}

void actor_system::run_shutdown(shutdown_options options) {
  auto& s = *state_;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  const double started = telemetry::detail::now_seconds();
  const std::size_t actors_at_start = s.registry.count();
  if (telemetry::any_handlers()) {
    try {
      telemetry::execute(telemetry::events::system_shutdown_start, {{"actor_count", static_cast<double>(actors_at_start)}},
                         {{"node_id", s.config.node_id}});
    } catch (...) {
    }
  }

  // 1. Drain: quiescent when every actor is idle with an empty mailbox and no worker ran a
  //    turn while we looked (the progress counter, bumped as each turn starts, rules out a send
  //    racing with the scan).
  if (options.drain_mailboxes) {
    wait_until(deadline, [&] {
      const auto before = s.scheduler.progress();
      return s.registry.all_idle() && s.scheduler.progress() == before;
    });
  }

  // 2. Stop every root; each stops its children first, depth-first. Repeat for stragglers
  //    spawned while we looked.
  s.state.store(phase::stopping, std::memory_order_release);
  wait_until(deadline, [&] {
    if (s.registry.count() == 0) return true;
    for (detail::actor_cell* root : s.registry.roots()) {
      stop(actor_ref(root, detail::adopt_t{}));
    }
    return wait_until(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)),
                      [&] { return s.registry.count() == 0; });
  });
  if (s.registry.count() != 0)  // through the log, which a program may have redirected or silenced
    log::logger("eam.system").warn("shutdown timed out with {} actors still running", s.registry.count());

  // 3. Callers' turns, workers and timers.
  s.caller_turns.close();
  s.scheduler.stop();
  s.timers.stop();
  if (telemetry::any_handlers()) {
    try {
      telemetry::execute(telemetry::events::system_shutdown_stop,
                         {{"duration_ms", telemetry::detail::elapsed_ms(started)},
                          {"actor_count", static_cast<double>(actors_at_start)}},
                         {{"node_id", s.config.node_id}});
    } catch (...) {
    }
  }
  // Last: a waiter may destroy the system as soon as it sees `stopped`, so nothing of it is
  // touched after this lock is released.
  std::lock_guard lock(s.shutdown_mutex);
  s.state.store(phase::stopped, std::memory_order_release);
  s.stopped.notify_all();
}

std::vector<actor_info> actor_system::actors() const {
  std::vector<actor_info> out;
  out.reserve(state_->registry.count());
  state_->registry.for_each([&](const detail::actor_cell& c) { out.push_back(c.info()); });
  return out;
}

health_report actor_system::health() const {
  health_report r;
  const auto p = state_->current_phase();
  r.alive = p != phase::stopped;
  r.ready = p == phase::running;
  r.workers = state_->scheduler.size();
  r.active_workers = p == phase::stopped ? 0 : state_->scheduler.active_workers();
  r.actor_count = state_->registry.count();
  state_->registry.for_each([&](const detail::actor_cell& c) {
    if (!c.is_idle()) ++r.busy_actors;
    if (auto n = c.mailbox_length()) r.mailbox_backlog += *n;
  });
  r.largest_queue = state_->scheduler.sample_backlog();
  {
    // Two probes in a row (liveness, then readiness) read the same backlog: each health() asks
    // for a new census, which the second one would find not taken yet and read as 0.
    std::lock_guard lock(state_->health_mutex);
    const auto now = std::chrono::steady_clock::now();
    if (r.largest_queue != 0) {
      state_->last_backlog = r.largest_queue;
      state_->last_backlog_at = now;
    } else if (now - state_->last_backlog_at < std::chrono::seconds(1)) {
      r.largest_queue = state_->last_backlog;
    }
  }
  r.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - state_->started).count();
  if (p == phase::stopped) {
    r.status = health_status::unhealthy;
    r.message = "the system is not running";
  } else if (p != phase::running) {
    r.status = health_status::degraded;
    r.message = "the system is shutting down";
  } else if (r.mailbox_backlog > state_->config.health_backlog_threshold) {
    r.status = health_status::degraded;
    r.message = "mailbox backlog of " + std::to_string(r.mailbox_backlog) + " messages";
  } else if (r.largest_queue > state_->config.health_backlog_threshold) {
    r.status = health_status::degraded;
    r.message = "mailbox backlog: an actor had " + std::to_string(r.largest_queue) + " messages queued";
  }
  std::vector<std::pair<std::string, std::function<component_health()>>> checks;
  {
    std::lock_guard lock(state_->health_mutex);
    checks = state_->health_checks;  // run outside the lock: a check may take its time
  }
  for (auto& [name, check] : checks) {
    component_health h;
    try {
      h = check();
    } catch (...) {
      h = {health_status::unhealthy, "health check threw: " + telemetry::detail::what_of(std::current_exception())};
    }
    if (h.status > r.status) {
      r.status = h.status;
      r.message = name + ": " + h.message;
    }
    r.components.push_back({name, std::move(h)});
  }
  return r;
}

void actor_system::add_health_check(std::string name, std::function<component_health()> check) {
  std::lock_guard lock(state_->health_mutex);
  for (const auto& [n, c] : state_->health_checks)
    if (n == name) throw error(errc::name_taken, "health check " + name);
  state_->health_checks.emplace_back(std::move(name), std::move(check));
}

bool actor_system::remove_health_check(std::string_view name) {
  std::lock_guard lock(state_->health_mutex);
  return std::erase_if(state_->health_checks, [&](const auto& entry) { return entry.first == name; }) != 0;
}

bool actor_system::is_running() const noexcept { return state_->current_phase() == phase::running; }
bool actor_system::is_shutting_down() const noexcept {
  const auto p = state_->current_phase();
  return p == phase::draining || p == phase::stopping;
}
std::size_t actor_system::actor_count() const noexcept { return state_->registry.count(); }
unsigned actor_system::worker_count() const noexcept { return state_->scheduler.size(); }
const system_config& actor_system::config() const noexcept { return state_->config; }
const std::string& actor_system::node_id() const noexcept { return state_->config.node_id; }

}  // namespace eam
