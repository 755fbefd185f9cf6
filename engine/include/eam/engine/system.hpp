#pragma once
/// `actor_system`: the worker pool, the actors on it, their names, and shutdown.
///
///   eam::actor_system system;                       // workers = hardware threads
///   auto ref = system.spawn(factory, args...);      // or system.spawn<my_actor>(args...)
///   system.shutdown();                              // drains, then stops children first

#include <eam/engine/context.hpp>
#include <eam/engine/detail/spawn.hpp>
#include <eam/engine/introspection.hpp>
#include <eam/engine/name_extension.hpp>

#include <chrono>
#include <functional>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eam {

class message_forwarder;

struct system_config {
  /// Worker threads; 0 means one per CPU this process may use: its affinity mask (taskset, a
  /// CPU set), lowered to its cgroup's CPU quota rounded up (a container's CPU limit).
  unsigned workers = 0;
  /// Run fewer of the workers while fewer do more work: actors that talk in a tight group (a
  /// hub and its clients, a ring) run faster on one core than spread over two, where every
  /// message crosses between caches. The scheduler measures the messages handled per
  /// millisecond now and then with fewer and with more workers and keeps the better count;
  /// the workers it does not need sleep. False: all `workers` always run.
  bool adaptive_workers = true;
  /// The most messages a worker handles from one actor before it runs another (as Akka's
  /// dispatcher throughput): higher favours throughput, lower favours fairness.
  unsigned throughput = 100;
  /// Mailbox bound for actors spawned without one; 0: unbounded (the fast default).
  std::uint32_t default_mailbox_bound = 0;
  overflow_strategy default_overflow = overflow_strategy::drop_newest;
  /// health() reports degraded above this many queued messages: in all counted (bounded)
  /// mailboxes together, or in the longest sampled unbounded one.
  std::uint64_t health_backlog_threshold = 10000;
  /// This system's node identity, carried in telemetry metadata and, once clustered, in every
  /// remote ref. Empty: "local-" and 8 random hex digits, as the seed names a local system.
  std::string node_id;
  /// Back new allocator memory with 2 MiB pages where the kernel offers them (transparent huge
  /// pages, "madvise" or "always"). Messages a long handler sends wait in fresh memory: a
  /// million queued envelopes fault in about 30 pages instead of about 16,000, which was most
  /// of the time of such runs on a VM. Process-wide, as the allocator's options are (mimalloc's
  /// large_os_pages, and no eager_commit_delay, so that each thread's first segment has them
  /// too; MIMALLOC_LARGE_OS_PAGES and MIMALLOC_EAGER_COMMIT_DELAY in the environment win), never
  /// turned back off, and only in builds with EAM_USE_MIMALLOC. Costs about 2 MiB of resident
  /// memory per thread that allocates through the engine, and the kernel zeroes each fresh
  /// 2 MiB page at its first touch in one go: the thread that touches it stalls (2-6 ms seen on
  /// a 2-vCPU VM, where 4 KiB pages still ran fork-join-create at 0.23x and counting at 0.12x).
  /// Turn it off where such a stall matters more than the rate.
  bool large_pages = true;
  /// A blocking call from a thread outside the pool (`call(...).get()`) that finds its target
  /// idle runs the target's turn on the calling thread, which would only wait for the reply:
  /// the message and the reply cross no core, no worker wakes, and the call costs about a
  /// tenth of the CPU. The handler then runs on the caller's thread and stack, and the call's
  /// timeout cannot cut it short: it bounds the wait for a reply the handler defers (a task, a
  /// reply_handle), not a handler the caller runs itself. False: every turn runs on a worker,
  /// for handlers that block or run long, or callers whose threads must not run actor code.
  bool calls_run_on_caller = true;
};

struct shutdown_options {
  /// How long shutdown waits in all (draining, then stopping) before it gives up waiting.
  std::chrono::milliseconds timeout{5000};
  /// Let actors work through their mailboxes before they are stopped.
  bool drain_mailboxes = true;
};

class actor_system {
 public:
  explicit actor_system(system_config config = {});
  /// Shuts down (default options) if `shutdown` was not called.
  ~actor_system();
  actor_system(const actor_system&) = delete;
  actor_system& operator=(const actor_system&) = delete;

  /// Spawns a top-level functional actor: `factory(ctx, args...)` runs on a worker as the
  /// actor's init and returns its behavior. Throws eam::error (system_shutting_down, name_taken).
  template <class F, class... A>
    requires detail::actor_factory<F, A...>
  auto spawn(F&& factory, A&&... args) {
    return detail::spawn_functional(*state_, nullptr, {}, std::forward<F>(factory), std::forward<A>(args)...);
  }
  template <class F, class... A>
    requires detail::actor_factory<F, A...>
  auto spawn(const spawn_options& opts, F&& factory, A&&... args) {
    return detail::spawn_functional(*state_, nullptr, opts, std::forward<F>(factory), std::forward<A>(args)...);
  }
  /// Spawns a top-level class actor; its `init(args...)` runs on a worker.
  template <detail::class_actor T, class... A>
  auto spawn(A&&... args)
    requires(detail::not_spawn_options<A> && ...)
  {
    return detail::spawn_class<T>(*state_, nullptr, {}, std::forward<A>(args)...);
  }
  template <detail::class_actor T, class... A>
  auto spawn(const spawn_options& opts, A&&... args) {
    return detail::spawn_class<T>(*state_, nullptr, opts, std::forward<A>(args)...);
  }

  /// The live actor registered under `name`: a local one, else the name extension's.
  [[nodiscard]] std::optional<actor_ref> whereis(std::string_view name) const;
  /// Frees `name` (Erlang's unregister/1): its actor runs on without it. False when no local
  /// actor had it.
  bool unregister(std::string_view name);
  /// A number that moves whenever what whereis answers may have changed: a local name taken or
  /// freed, the name extension set, or names_changed() called. While it stays the same, an actor
  /// found by name is still the one registered under it (otp::named_ref keeps what it found so,
  /// and looks the name up again only when the number moves). Reading it costs one load.
  [[nodiscard]] std::uint64_t names_version() const noexcept;
  /// For a name extension: what its whereis answers changed (call it after the change).
  void names_changed() noexcept;
  /// Extends the name registry beyond this system (name_extension.hpp); null removes it.
  /// Install it before named actors are spawned: names taken earlier are not reported to it.
  void set_name_extension(std::shared_ptr<name_extension> extension);
  /// The same, typed: registry_lookup_failed when no actor has the name or it lacks one of
  /// Ref's signatures (message type, reply type, call or cast: see typed_ref_cast).
  template <class Ref>
    requires is_typed_ref_v<Ref>
  [[nodiscard]] result<Ref> whereis(std::string_view name) const {
    auto found = whereis(name);
    if (!found) return error(errc::registry_lookup_failed, std::string(name));
    auto typed = typed_ref_cast<Ref>(std::move(*found));
    if (!typed) return error(errc::registry_lookup_failed, std::string(name) + ": " + typed.error_value().context());
    return typed;
  }
  /// Whether `ref` names an actor of this system. Never reads the ref's own system, so it may
  /// be asked of a ref kept past its system's end, where system_of may not; such a ref may
  /// read as this system's when this one took the old one's place in memory: its actor has
  /// ended, and its id names no actor here (ids are unique in the process).
  [[nodiscard]] bool owns(const actor_ref& ref) const noexcept;
  /// The live actor with this id (ids are unique in the process). Costs a walk of
  /// one of the registry's 64 shards: for tools, not for every message.
  [[nodiscard]] std::optional<actor_ref> find(std::uint64_t id) const;

  /// Stops an actor (reason normal): its children first, then its terminate. Asynchronous.
  void stop(const actor_ref& ref) noexcept;
  /// Stops an actor with `reason` (Erlang's gen_server:stop/2): its watchers' downs and its
  /// links' exit signals carry it. Asynchronous.
  void stop(const actor_ref& ref, exit_reason reason);
  /// Sends an exit signal from outside any actor (see actor_context::exit).
  void exit(const actor_ref& ref, exit_reason reason);
  /// Watches an actor from any thread, without a watching actor: for a layer that tells others
  /// of an actor's end (the cluster watches every actor whose ref leaves the node). The watch
  /// is in place when this returns, so nothing sent after it can end the actor unseen: a call
  /// that ends it, a link's exit, a stop. `on_down` runs once, with the actor's exit reason, on
  /// the thread where it ends (a worker, during its exit: keep it short, never block or throw);
  /// with noproc when it has ended already, perhaps before this returns. A move (migration.hpp)
  /// does not end this watch: `on_moved`, when given, runs in the moving actor's turn, and the
  /// watch stays on the old self, whose end (as a relay) reaches `on_down`. It lasts until
  /// then: there is no unwatch.
  void watch(const actor_ref& ref, std::function<void(const down&)> on_down,
             std::function<void(const moved&)> on_moved = {});

  /// Stops accepting spawns and calls, optionally lets mailboxes drain, stops every actor
  /// children-first, then joins the workers, and returns once all that is done. Called from
  /// inside an actor (a "quit" message), it starts the same shutdown on a thread of its own and
  /// returns at once, as Erlang's init:stop does: wait for it with await_shutdown(). A second
  /// call while a shutdown is under way waits for it (outside actors) or returns (inside).
  void shutdown(shutdown_options options = {});
  /// Blocks until the system has stopped, whoever started the shutdown. Inside an actor it
  /// throws eam::error(blocking_call_on_worker) (it would wait for its own end).
  void await_shutdown();
  [[nodiscard]] bool is_running() const noexcept;
  [[nodiscard]] bool is_shutting_down() const noexcept;

  /// Live actors right now.
  [[nodiscard]] std::size_t actor_count() const noexcept;
  /// Every live actor (a snapshot; cheap enough for a tool polling once a second, costs one
  /// pass over the actors under short per-shard locks).
  [[nodiscard]] std::vector<actor_info> actors() const;
  /// healthy; degraded while shutting down or above health_backlog_threshold queued messages
  /// (see system_config); unhealthy once stopped; and never better than a registered
  /// component says it is.
  [[nodiscard]] health_report health() const;
  /// Registers a component whose status health() combines (the cluster adds itself). `check`
  /// runs on the thread calling health(); keep it quick. Throws eam::error(name_taken) when the
  /// name is registered already.
  void add_health_check(std::string name, std::function<component_health()> check);
  /// False when no component has that name.
  bool remove_health_check(std::string_view name);
  [[nodiscard]] unsigned worker_count() const noexcept;
  [[nodiscard]] const system_config& config() const noexcept;
  [[nodiscard]] const std::string& node_id() const noexcept;

 private:
  friend actor_ref spawn_forwarding_actor(actor_system&, std::shared_ptr<message_forwarder>, std::string);
  void run_shutdown(shutdown_options options);

  std::unique_ptr<detail::system_state> state_;
};

/// The system a (non-empty) ref's actor belongs to: what a handle holding only a ref needs to
/// stop its actor (`system_of(ref).stop(ref)`). That system must still exist (a ref may
/// outlive it): actor_system::owns asks without reading it.
[[nodiscard]] actor_system& system_of(const actor_ref& ref) noexcept;

}  // namespace eam
