#pragma once
/// Telemetry after Elixir's :telemetry: named events with measurements and metadata, delivered
/// synchronously to the handlers attached to them. Free when nothing is attached: the engine
/// tests one flag before it builds an event.
///
///   eam::telemetry::attach("metrics", {eam::telemetry::events::actor_spawn},
///       [](std::string_view event, const auto& measurements, const auto& metadata) { ... });
///
/// Handlers run on the thread that emits (a worker, for actor events): keep them short, and
/// do not block. They may attach and detach. Each handler is isolated: one that throws is
/// logged (once per handler id, logger "eam.telemetry") and the others still run; `execute`
/// never throws because of a handler.

#include <atomic>
#include <exception>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace eam::telemetry {

using measurements = std::vector<std::pair<std::string, double>>;
using metadata = std::vector<std::pair<std::string, std::string>>;
using handler = std::function<void(std::string_view event, const measurements&, const metadata&)>;

/// The engine's events (the seed's catalogue; supervisor, GenStage and cluster events come
/// with their layers).
namespace events {
inline constexpr std::string_view actor_spawn = "libeam.actor.spawn";
inline constexpr std::string_view actor_init_stop = "libeam.actor.init.stop";
inline constexpr std::string_view actor_init_exception = "libeam.actor.init.exception";
inline constexpr std::string_view actor_stop_stop = "libeam.actor.stop.stop";
inline constexpr std::string_view handle_call_start = "libeam.actor.handle_call.start";
inline constexpr std::string_view handle_call_stop = "libeam.actor.handle_call.stop";
inline constexpr std::string_view handle_call_exception = "libeam.actor.handle_call.exception";
inline constexpr std::string_view handle_cast_start = "libeam.actor.handle_cast.start";
inline constexpr std::string_view handle_cast_stop = "libeam.actor.handle_cast.stop";
inline constexpr std::string_view handle_cast_exception = "libeam.actor.handle_cast.exception";
inline constexpr std::string_view mailbox_overflow = "libeam.mailbox.overflow";
inline constexpr std::string_view system_shutdown_start = "libeam.system.shutdown.start";
inline constexpr std::string_view system_shutdown_stop = "libeam.system.shutdown.stop";
}  // namespace events

/// Attaches `h` under `id` to each named event (an event named twice, once). Returns the id.
/// Throws eam::error(handler_already_attached) when `id` is attached already, to any events or
/// none (detach it first).
std::string attach(std::string id, const std::vector<std::string_view>& event_names, handler h);
/// One attached handler: its id and the events it listens to.
struct handler_info {
  std::string id;
  std::vector<std::string> events;
};
/// Every attached handler, by id.
[[nodiscard]] std::vector<handler_info> list_handlers();
/// Removes the handler `id` from every event. False when there was none. No execute begun after
/// detach returns calls it. Its copy (and what it captured) is destroyed once no thread holds a
/// table it was in: a thread that emitted keeps the table it last read until it calls execute
/// again after the change, or ends (a worker ends with its system).
bool detach(std::string_view id);
/// Emits an event. A no-op when nobody listens to it. Takes no lock and writes no shared memory
/// while the handlers stay the same: each thread keeps the table it last read until attach,
/// detach or reset publishes another, so workers emitting at once do not contend.
void execute(std::string_view event, const measurements& m, const metadata& md);
/// Whether a handler listens to `event`.
[[nodiscard]] bool has_handlers(std::string_view event);
namespace detail {
/// True while any handler is attached (constant-initialised, so reading it needs no guard).
extern std::atomic<bool> any_attached;
struct gate_access;
}  // namespace detail

/// Whether any handler is attached at all: the engine's one-load gate on its hot paths. A
/// stale read costs at most one event missed or one needless look-up, never a wrong call.
[[nodiscard]] inline bool any_handlers() noexcept { return detail::any_attached.load(std::memory_order_relaxed); }

/// Whether a handler listens to any of a few events, kept current by attach, detach and reset:
/// one load, for an emitter that would otherwise build an event's measurements and metadata for
/// nobody (a handler attached to one event must not slow down the paths that emit the others).
/// Make one per emitting site, once (a function-local static), and test it before building:
///
///   static const eam::telemetry::event_gate misses{"app.cache.miss"};
///   if (misses.listened()) eam::telemetry::execute("app.cache.miss", {}, {{"key", key}});
///
/// A stale read costs what any_handlers' does. Keep a gate static, and stop every actor system
/// before main returns: a gate is not read after its destruction. When the gate cannot be
/// registered (out of memory), it reads as listened: its emitter builds events for nobody
/// rather than miss one.
class event_gate {
 public:
  event_gate(std::initializer_list<std::string_view> events) noexcept;
  ~event_gate();
  event_gate(const event_gate&) = delete;
  event_gate& operator=(const event_gate&) = delete;

  [[nodiscard]] bool listened() const noexcept { return listened_.load(std::memory_order_relaxed); }

 private:
  friend struct detail::gate_access;
  std::vector<std::string> events_;
  std::atomic<bool> listened_{false};  // written under the table's lock, read without it
  bool registered_ = false;
};
/// Detaches every handler (for tests).
void reset();

/// Runs `f` between `<prefix>.start` (measurement system_time, seconds since the epoch) and
/// `<prefix>.stop` (duration_ms), or `<prefix>.exception` (duration_ms, metadata error) when it
/// throws, which it rethrows. Returns what `f` returns.
template <class F>
decltype(auto) span(std::string_view prefix, const metadata& md, F&& f);

namespace detail {
double now_seconds() noexcept;
double elapsed_ms(double start_seconds) noexcept;
std::string what_of(std::exception_ptr e);
}  // namespace detail

template <class F>
decltype(auto) span(std::string_view prefix, const metadata& md, F&& f) {
  const std::string p(prefix);
  const double start = detail::now_seconds();
  execute(p + ".start", {{"system_time", start}}, md);
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      f();
      execute(p + ".stop", {{"duration_ms", detail::elapsed_ms(start)}}, md);
    } else {
      decltype(auto) r = f();
      execute(p + ".stop", {{"duration_ms", detail::elapsed_ms(start)}}, md);
      return r;
    }
  } catch (...) {
    metadata with_error = md;
    with_error.emplace_back("error", detail::what_of(std::current_exception()));
    execute(p + ".exception", {{"duration_ms", detail::elapsed_ms(start)}}, with_error);
    throw;
  }
}

}  // namespace eam::telemetry
