#pragma once
// actor_cell: the engine's side of an actor: its two queues, its place in the tree (parent,
// children), its lifecycle, and the loop a worker runs to give it a turn.
//
// Lifecycle (phase_, consumer-only):
//   created --first turn: init--> running --stop / crash / init failure--> stopping
//   stopping: stops its children one at a time, youngest first, and waits for each to report
//   (children before parents, depth-first); then `finish`: terminate, mark dead, answer every
//   queued call with actor_not_found, tell the parent, leave the registry.
//
// Shared:  refs_   counted references (actor_ref copies, the parent's child list, reply
//                  addresses, timers, and one "alive" reference dropped after finish).
//          dead_   set once by finish before it gives up the consumer role; read by senders.
//          mailbox_, system_  producers push, the consumer role (mailbox.hpp M-I1) pops.
//          await_timeout_  the pending timeout of the awaited call: the consumer and the
//                  worker holding it back (held_call_timeouts.hpp; see hand_over_timeout).
//          await_tag_  which call is awaited, for the holders of its reply address (awaits_call).
// Consumer only (the worker holding the consumer role): everything else.
// Invariants:
//   C-I1  A cell is freed only when refs_ reaches 0, which needs dead_ (the alive ref is
//         dropped after finish) and no sender in flight (each holds a ref while it pushes).
//   C-I2  A dead cell is never scheduled: a sender that claims its consumer role drains it
//         in place (drain_dead) instead.
//   C-I3  Every call envelope is answered exactly once: by its handler, or with an error when
//         it is dropped (free_envelope and retire answer what is still pending).
#include "envelope_list.hpp"
#include "evicting_queue.hpp"
#include "keyed_vector.hpp"
#include "mailbox.hpp"
#include "outbox.hpp"
#include "timer_service.hpp"

#include <eam/engine/context.hpp>
#include <eam/engine/detail/spawn.hpp>
#include <eam/engine/forwarding.hpp>
#include <eam/engine/error.hpp>
#include <eam/engine/info.hpp>
#include <eam/engine/introspection.hpp>
#include <eam/engine/migration.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace eam::detail {
class system_state;
}

namespace eam::internal {
class actor_registry;

/// Payload of a child_exited system message. The parent still counts a reference to the child.
struct child_exit {
  detail::actor_cell* child;
  exit_reason reason;
};

/// Payload of a child_init system message: the child whose init returned. The parent counts a
/// reference to it until it handles the child's child_exited, which the child sends later.
struct child_init_report {
  detail::actor_cell* child;
};

/// The callbacks of a watch without a watching actor (actor_system::watch).
struct outside_watch {
  std::function<void(const down&)> on_down;
  std::function<void(const moved&)> on_moved;  // may be empty
  // The watched actor, counted as an actor's watch counts it (in its `watching`), so that a
  // count of references tells whether anything still refers to the actor (only_reference):
  // a forwarding actor nothing counts is ended by the layer that made it, and an uncounted
  // watch would then hear an end that never happened. The watch sits in the watched actor's
  // own list, which its end clears, so the cycle lasts exactly as long as the watch.
  actor_ref watched;
};

/// Payloads of the monitor, link and exit-signal system messages.
struct watch_request {
  actor_ref watcher;                       // empty for a watch from outside actors
  std::uint64_t id;
  std::unique_ptr<outside_watch> outside;  // set for a watch from outside actors
};
struct unwatch_request {
  const detail::actor_cell* watcher;  // compared only
  std::uint64_t id;
};
struct link_request {
  actor_ref other;
};
struct unlink_request {
  const detail::actor_cell* other;  // compared only
};
struct exit_request {
  actor_ref from;       // empty when sent from outside any actor
  exit_reason reason;
  bool via_link;        // the end of a linked actor, not exit(ref, reason)
};

/// Payload of a migration system message (migration.hpp).
struct migration_request {
  enum class step : std::uint8_t {
    pause,      ///< save the state and stop handling messages
    resume,     ///< go on after a pause
    relay,      ///< become a relay of everything sent to the actor
    announce,   ///< tell watchers and links `moved`
    moved_to,   ///< (to a watcher or linked actor) an actor it watches or is linked to moved
  };
  step what;
  std::function<void(result<saved_actor>)> on_paused;  // pause
  std::function<void(message&&)> relay;                // relay
  std::function<void(bool)> relay_started;             // relay (may be empty)
  moved notice;                                        // announce (to, node), moved_to (all)
};

enum class turn_result : std::uint8_t {
  idle,   ///< nothing left to do; the consumer role was given up
  yield,  ///< used its throughput budget with work left: run it again later
  done,   ///< finished: the worker drops the alive reference
};

}  // namespace eam::internal

namespace eam::detail {

/// The ordinary message whose handler runs on this thread (for stash), or null.
envelope* current_envelope() noexcept;

class actor_cell {
 public:
  actor_cell(system_state& sys, std::uint64_t id, actor_cell* parent, const actor_type& type) noexcept;
  ~actor_cell();
  actor_cell(const actor_cell&) = delete;
  actor_cell& operator=(const actor_cell&) = delete;

  // -- any thread ------------------------------------------------------------------------
  /// Sends an ordinary message. Inside an actor's turn it goes through the worker's outbox.
  send_result deliver(envelope* e) noexcept;
  /// deliver, except that a full bounded mailbox hands `e` back (`refused`) instead of
  /// dropping it or failing its call (detail::offer).
  send_result offer(envelope* e) noexcept;
  /// A blocking call from a thread outside every pool: never buffered in an outbox, and when
  /// its push finds the actor idle, the calling thread runs the turn itself (gate permitting:
  /// caller_turn_gate.hpp, system_config::calls_run_on_caller).
  send_result deliver_call_from_thread(envelope* e) noexcept;
  /// Sends an info message (down): ordinary, in order, but never dropped by a bounded mailbox.
  void deliver_info(envelope* e) noexcept;
  /// Bounds the mailbox (at spawn, before anyone else holds the cell).
  void set_mailbox_bound(std::uint32_t bound, overflow_strategy strategy);
  /// Makes this a forwarding actor (at spawn, before anyone else holds the cell).
  void set_forwarder(std::shared_ptr<message_forwarder> forwarder);
  /// The forwarder of a forwarding actor, else null.
  [[nodiscard]] message_forwarder* forwarder() const noexcept {
    return bounded_ != nullptr ? bounded_->forwarder.get() : nullptr;
  }
  /// Ordinary messages queued, when the mailbox is bounded (the unbounded one does not count,
  /// to keep its sends free of shared counters).
  [[nodiscard]] std::optional<std::uint64_t> mailbox_length() const noexcept;
  /// Pushes a linked chain of ordinary messages now (the outbox's flush).
  void push_chain(envelope* first, envelope* last) noexcept;
  void deliver_system(envelope* e) noexcept;
  /// Asks the actor, from outside its turn, to stop (normally, or with `why`): a system signal,
  /// handled ahead of its queued messages. Two overloads: a default argument made every stop
  /// build and move a reason at its call (gate: spawn_stop +14 instructions).
  void deliver_stop() noexcept;
  void deliver_stop(exit_reason why) noexcept;
  void add_refs(std::uint32_t n) noexcept { refs_.fetch_add(n, std::memory_order_relaxed); }  // a holder exists already
  void add_ref() noexcept { add_refs(1); }
  /// The references counted now (a snapshot, for tests: releases a worker holds back are in it).
  [[nodiscard]] std::uint32_t counted_references() const noexcept { return refs_.load(std::memory_order_relaxed); }
  /// Whether one reference is counted beside the alive one, in a live cell (only_reference).
  /// Acquire: pairs with the acq_rel subtraction of every release, so what the other holders did
  /// through their refs (an exit signal queued, a send) happens before the caller acts on it.
  [[nodiscard]] bool only_one_holder() const noexcept {
    return refs_.load(std::memory_order_acquire) == 2 && !is_dead();
  }
  void release() noexcept { release_many(1); }
  /// Drops `n` references at once (deferred_releases.hpp).
  void release_many(std::uint32_t n) noexcept;
  [[nodiscard]] bool is_dead() const noexcept { return dead_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] system_state& system() const noexcept { return *sys_; }
  /// Where its system lives or lived: compared, never read (actor_system::owns).
  [[nodiscard]] const system_state* system_address() const noexcept { return sys_; }
  [[nodiscard]] actor_cell* parent() const noexcept { return parent_; }
  /// The actor's type: its signatures and label. Valid for the cell's whole life, even after
  /// the actor ended (the descriptor is static), unlike impl().
  [[nodiscard]] const actor_type& type() const noexcept { return *type_; }
  [[nodiscard]] bool is_idle() const noexcept { return mailbox_.is_marked_empty(); }
  /// Where a turn first reads what senders wrote (a prefetch hint for the hand-off slot).
  [[nodiscard]] const void* mailbox_address() const noexcept { return &mailbox_; }
  /// Whether its turns end with a backlog (mute_table.hpp). A hint for senders (relaxed); the
  /// mute table reads it again under its lock.
  [[nodiscard]] bool overloaded() const noexcept { return overloaded_.load(std::memory_order_relaxed); }
  /// Under the mute table's lock only: the one way the flag goes from true to false.
  void clear_overloaded() noexcept { overloaded_.store(false, std::memory_order_relaxed); }
  // The impl (the user's part, driven through type_) lives in the same allocation, after the
  // cell: kept as an offset, which saves a pointer per actor. 0 until it is constructed.
  [[nodiscard]] void* impl() const noexcept {
    return impl_offset_ == 0 ? nullptr : running_impl();
  }
  /// impl() of an actor that runs turns, without the test: spawn constructs the impl before
  /// anything can schedule the cell, and a cell whose impl failed to construct never runs.
  [[nodiscard]] void* running_impl() const noexcept {
    return reinterpret_cast<char*>(const_cast<actor_cell*>(this)) + impl_offset_;
  }
  void set_impl_offset(std::uint16_t offset) noexcept { impl_offset_ = offset; }

  // -- the worker holding the consumer role ---------------------------------------------
  /// Gives the actor one turn of at most `budget` ordinary messages; `handled` is set to the
  /// number it handled.
  internal::turn_result run_turn(unsigned budget, unsigned& handled) noexcept;
  /// Ordinary messages waiting (counted up to `limit`), after a turn that yielded.
  [[nodiscard]] std::size_t queued_after_yield(std::size_t limit) const noexcept;
  /// After a turn that spent its budget and sent to the overloaded `receiver`: parks this actor
  /// under it (mute_table.hpp). True when parked: the caller must not schedule it.
  bool try_mute_on(actor_cell* receiver) noexcept;

  // -- the actor's own handlers (consumer role) -----------------------------------------
  void request_stop() noexcept { pending_ |= stop_requested; }
  watch_ref watch(const actor_ref& target, std::function<void(const down&)> on_down);
  void unwatch(watch_ref ref);
  void link(const actor_ref& other);
  void unlink(const actor_ref& other);
  // A forwarding actor's forwarder hears this actor link to it or unlink (forwarding.hpp).
  void tell_forwarder_of_link(message_forwarder& f, bool linked) noexcept;
  void set_trap_exit(bool trap) noexcept { trap_exit_ = trap; }
  std::uint64_t arm_timer(std::unique_ptr<detail::message_factory> message, std::chrono::milliseconds delay, bool periodic);
  bool cancel_timer(std::uint64_t id) noexcept;
  void cancel_all_timers() noexcept;
  void set_idle_timeout(std::chrono::milliseconds idle);
  void continue_with(std::function<void()> next);
  bool stash() noexcept;
  /// The address of the call being handled, taken: its handler's return answers nothing.
  reply_address take_reply() noexcept;
  bool unstash() noexcept;
  void unstash_all() noexcept;
  void clear_stash() noexcept;
  void record_crash(std::string what) noexcept;
  /// Links a child that holds a counted reference for this list (taken over).
  void add_child(actor_cell* child) noexcept;
  void set_child_init_handler(std::function<void(const actor_ref&)> h);
  /// Registers the spawn name (at spawn, before the cell is published).
  void set_name(std::string name);
  void set_terminate_handler(std::function<void(const exit_reason&)> h);
  void set_state_saver(std::function<envelope*()> save) { more().state_saver = std::move(save); }
  [[nodiscard]] bool traps_exits() const noexcept { return trap_exit_; }
  [[nodiscard]] std::chrono::milliseconds idle_timeout() const noexcept {
    return extras_ ? extras_->idle : std::chrono::milliseconds(0);
  }
  /// A snapshot for introspection. Call under the registry shard's lock: it reads the spawn
  /// name, which lives until the cell leaves the registry, and otherwise only what is fixed at
  /// spawn or atomic.
  [[nodiscard]] actor_info info() const;
  [[nodiscard]] std::vector<actor_ref> children() const;
  void adopt_state(std::unique_ptr<actor_context::state_base> s);
  std::uint64_t begin_await(std::coroutine_handle<> h, void* awaiter, void (*accept)(void*, envelope*),
                            std::chrono::milliseconds timeout);
  actor_context& context() noexcept { return ctx_; }
  /// Arms the timeout of call `request_id` in the timer service if the call is still awaited
  /// with its timeout held back (held_call_timeouts.hpp). Only the worker that holds it.
  void hand_over_timeout(std::uint64_t request_id, internal::clock::time_point deadline);
  /// Whether call `request_id` is still awaited with its timeout held back. For the worker that
  /// holds it, which stored the tag itself (relaxed): any later value means the call ended,
  /// another call replaced it, or its timeout was armed.
  [[nodiscard]] bool awaits_held(std::uint64_t request_id) const noexcept {
    return await_timeout_.load(std::memory_order_relaxed) == held_tag(request_id);
  }
  /// Whether this actor still awaits the answer of its call `request_id`: false once that await
  /// ended (answered, timed out, or the actor finished). Any thread that holds the call's reply
  /// address: the address was made after the await began and reached that thread through the
  /// call's send, so the tag read here is the one begin_await stored or a later one; a later
  /// one rarely reads as this call's (await_tag), never the other way round.
  [[nodiscard]] bool awaits_call(std::uint64_t request_id) const noexcept {
    return await_tag_.load(std::memory_order_relaxed) == await_tag(request_id);
  }

 private:
  friend class internal::actor_registry;  // registry_slot
  struct await_state {
    std::uint64_t request_id = 0;  // 0: not awaiting
    std::coroutine_handle<> handle;
    void* awaiter = nullptr;
    void (*accept)(void*, envelope*) = nullptr;
  };
  // An observed handler (telemetry) that suspended in an await: its stop or exception event is
  // emitted when it completes, with the time from its start.
  struct observed_handler {
    double start = 0;
    bool is_call = false;
    bool crashed_before = false;
    std::vector<std::pair<std::string, std::string>> metadata;
  };
  // Rarely used state, allocated on first use so an idle actor stays small.
  struct extras {
    // Children, oldest first: an intrusive list through the children's sibling links, each
    // holding a counted reference. O(1) to add, to remove on exit and to find the youngest.
    actor_cell* first_child = nullptr;
    actor_cell* last_child = nullptr;
    std::vector<std::unique_ptr<actor_context::state_base>> states;
    await_state await;
    std::unique_ptr<observed_handler> observed_await;
    std::uint64_t next_request_id = 0;
    actor_cell* stopping_child = nullptr;
    exit_reason reason;
    std::string crash;
    std::string name;
    // Monitors, links and timers: vectors while short, indexed once long (keyed_vector.hpp):
    // most actors hold a few, a supervisor or a pool holds one per actor it looks after.
    struct watcher {
      actor_ref who;  // empty for a watch from outside actors
      std::uint64_t id;
      std::unique_ptr<internal::outside_watch> outside;
    };
    struct watcher_key {  // a watch id is the watcher's own count; outside ones are unique alone
      const actor_cell* who;
      std::uint64_t id;
      friend bool operator==(const watcher_key&, const watcher_key&) = default;
    };
    struct watcher_key_of {
      watcher_key operator()(const watcher& w) const noexcept { return {w.who.cell(), w.id}; }
    };
    struct watcher_key_hash {
      std::size_t operator()(const watcher_key& k) const noexcept {
        return std::hash<const void*>{}(k.who) ^ (k.id * 0x9e3779b97f4a7c15ULL);
      }
    };
    internal::keyed_vector<watcher, watcher_key, watcher_key_of, watcher_key_hash> watchers;  // who watches this actor
    struct watched {
      std::uint64_t id;
      actor_ref target;
      std::function<void(const down&)> on_down;  // empty: the down goes to the behavior
      // A child's exit reason, noted when its child_exited came while this watch was live: a
      // watch refused by the ended child then reports it instead of noproc (refuse_watch).
      std::optional<exit_reason> child_end;
    };
    struct watched_id_of {
      std::uint64_t operator()(const watched& w) const noexcept { return w.id; }
    };
    struct watched_target_of {  // the group: a child's end looks up the watches on it
      const actor_cell* operator()(const watched& w) const noexcept { return w.target.cell(); }
    };
    // This actor's own live watches, by id and by target.
    internal::keyed_vector<watched, std::uint64_t, watched_id_of, std::hash<std::uint64_t>, watched_target_of> watching;
    struct cell_of {
      const actor_cell* operator()(const actor_ref& r) const noexcept { return r.cell(); }
    };
    internal::keyed_vector<actor_ref, const actor_cell*, cell_of> links;
    // Timers, and the idle timeout.
    struct armed_timer {
      std::uint64_t id;
      internal::timer_entry* entry;
      bool periodic;
    };
    struct timer_id_of {
      std::uint64_t operator()(const armed_timer& t) const noexcept { return t.id; }
    };
    internal::keyed_vector<armed_timer, std::uint64_t, timer_id_of> timers;
    std::chrono::milliseconds idle{0};
    internal::timer_entry* idle_timer = nullptr;
    std::uint64_t idle_timer_id = 0;
    std::uint64_t handled = 0;         // ordinary messages handled while the idle timeout is set
    std::uint64_t handled_at_arm = 0;  // `handled` when the idle check was armed
    internal::clock::time_point idle_since{};
    // The idle check fired during this turn: it is settled at the turn's end (settle_idle),
    // once the messages the turn handled are counted.
    bool idle_check_due = false;
    // handle_continue, and the stash (oldest first, linked through the envelopes).
    std::function<void()> next_continue;
    internal::envelope_list stash;
    // Telemetry: when the actor began to stop, and how many children it had then.
    double stop_began = 0;
    std::uint32_t children_at_stop = 0;  // 32 bits, as children_count_: room for on_child_init below
    // init threw: terminate does not run on a half-built actor (as in OTP).
    bool init_failed = false;
    bool moved_away = false;  // beside init_failed, not after relay: the extras stay within 512 bytes
    // actor_context::on_child_init; behind a pointer (rarely set) so the extras stay within 512 bytes.
    std::unique_ptr<std::function<void(const actor_ref&)>> on_child_init;
    // A functional actor's cleanup (actor_context::on_terminate).
    std::function<void(const exit_reason&)> on_terminate;
    // Migration (migration.hpp): how to save the state; where a relay sends what it gets; and
    // moved_away above, set once the actor has moved away (its terminate then does not run: it
    // lives on elsewhere).
    std::function<envelope*()> state_saver;
    std::function<void(message&&)> relay;
  };
  extras& more();
  [[nodiscard]] bool awaiting() const noexcept { return extras_ && extras_->await.request_id != 0; }
  [[nodiscard]] bool has_children() const noexcept { return extras_ && extras_->first_child != nullptr; }
  // A paused actor (migration.hpp) "awaits" a request id no reply carries: the turn loop then
  // sets its messages aside exactly as while a task handler awaits, at no cost to the others.
  static constexpr std::uint64_t paused_marker = ~std::uint64_t{0};
  [[nodiscard]] bool paused() const noexcept { return extras_ && extras_->await.request_id == paused_marker; }

  void on_claimed(const envelope* first_message = nullptr) noexcept;
  void drain_dead() noexcept;
  void run_claimed_on_caller(const envelope* call) noexcept;
  // Messages a turn run by a calling thread may handle: its call.
  static constexpr unsigned caller_turn_budget = 1;
  void reject(envelope* e) noexcept;
  void on_exit_signal(internal::exit_request& x) noexcept;
  extras::watched* live_watch(std::uint64_t id) noexcept;  // this actor's watch `id`, or null
  bool forget_watch(std::uint64_t id, std::function<void(const down&)>& on_down) noexcept;
  void refuse_watch(std::uint64_t id) noexcept;
  void run_down_handler(envelope* e, std::function<void(const down&)>& on_down) noexcept;
  bool take_timer_message(std::uint64_t id) noexcept;
  // The awaited call's timeout: held back by this worker, or armed at once.
  void arm_await_timeout(std::uint64_t request_id, std::chrono::milliseconds timeout);
  // The await ends (answered, timed out, or the actor finishes): its timeout is cancelled and
  // its tag cleared.
  void end_await_marks() noexcept;
  // The id's low 16 bits, never 0 (no await): 1 for those 16 zero bits. A call awaited always
  // reads as awaited; one no longer awaited may read as awaited while the actor awaits a call
  // with the same tag (65,536 calls later, or the next after a 0 turned 1), which only keeps a
  // forgotten handle until that await ends.
  static constexpr std::uint16_t await_tag(std::uint64_t request_id) noexcept {
    const auto low = static_cast<std::uint16_t>(request_id);
    return low != 0 ? low : 1;
  }
  static constexpr std::uintptr_t held_tag(std::uint64_t request_id) noexcept {
    return static_cast<std::uintptr_t>(request_id << 1) | 1;  // odd: never a timer entry's address
  }
  void on_idle_check(std::uint64_t id) noexcept;
  void arm_idle_check(internal::clock::time_point deadline);
  void tell_watchers_and_links(const exit_reason& why) noexcept;
  void free_name() noexcept;  // the spawn name (extras_->name, not empty), and the extension told
  void run_init() noexcept;
  // Migration (actor_migration.cpp).
  void on_migration(internal::migration_request& r) noexcept;
  void pause_for_move(std::function<void(result<saved_actor>)>& on_paused) noexcept;
  void become_relay(std::function<void(message&&)>& relay) noexcept;
  void relay_one(envelope* e) noexcept;
  void tell_moved(const moved& where) noexcept;
  void on_moved(moved& notice) noexcept;
  // handle_ordinary and next_to_handle are inlined into run_turn, their only caller: as calls,
  // with the registers each saved and restored, they were 23 of the 249 instructions of a cast
  // (bench/gate), and fan-in on 1 worker ran 1.19x as fast without them.
  // True when the turn may take the mailbox's next message at once: nothing pending was acted
  // on and the message was not a timer or down turned away (after_handler).
  [[gnu::always_inline]] inline bool handle_ordinary(envelope* e) noexcept;
  // handle_ordinary's rare cases, out of line so that its plain path keeps a small frame (the
  // down's std::function) and saves no registers for them.
  [[gnu::noinline, gnu::cold]] bool admit_timer_or_down(envelope* e) noexcept;
  [[gnu::noinline, gnu::cold]] void stash_handled(envelope* e) noexcept;
  [[gnu::always_inline]] inline void dispatch(envelope* e) noexcept;  // the plain path: inlined into handle_ordinary
  // dispatch's rare outcomes, out of line so that the plain path saves no registers for them.
  [[gnu::noinline, gnu::cold]] void reject_unhandled(envelope* e) noexcept;
  [[gnu::noinline, gnu::cold]] void on_handler_exception(envelope* e) noexcept;
  void observed_dispatch(envelope* e) noexcept;
  // The stop or exception event of an observed handler that completed (or crashed).
  void emit_handler_end(observed_handler h) noexcept;
  void handle_system(envelope* e) noexcept;
  void resume_await(envelope* reply) noexcept;
  // Pushes what the handler sent and acts on what it asked for (continue, stop) or did (crash).
  // False when anything was pending (turn_changed included): what the turn loop checked before
  // the handler may differ.
  [[gnu::always_inline]] inline bool after_handler() noexcept;
  [[gnu::noinline]] void act_on_pending() noexcept;
  void begin_exit(exit_reason why) noexcept;
  void stop_youngest_child() noexcept;
  void on_child_exit(internal::child_exit& c) noexcept;
  [[gnu::cold]] void report_init() noexcept;
  [[gnu::cold]] void on_child_init(actor_cell* child) noexcept;
  void note_child_end(const actor_cell* child, const exit_reason& reason) noexcept;
  void finish() noexcept;
  void run_terminate(exit_reason& reason) noexcept;
  envelope* next_ordinary() noexcept;
  // Like next_ordinary, but the mailbox may keep the last one linked. Inlined (handle_ordinary).
  [[gnu::always_inline]] inline envelope* next_to_handle() noexcept;
  [[gnu::always_inline]] inline void retire(envelope* e) noexcept;  // frees what next_to_handle gave (mailbox.hpp M-I4)
  [[gnu::noinline]] envelope* next_ordinary_slow() noexcept;  // set-aside messages, bounded mailboxes
  [[gnu::always_inline]] inline envelope* pop_mailbox() noexcept;
  [[gnu::noinline, gnu::cold]] envelope* pop_bounded() noexcept;
  [[gnu::noinline, gnu::cold]] void count_handled(envelope* e) noexcept;
  // now: push even inside a handler (not through the outbox); has_slot: a bounded mailbox's
  // place is taken already (offer).
  template <bool now, bool has_slot = false>
  send_result enqueue(envelope* e) noexcept;
  // enqueue's paths for a dead actor and a bounded mailbox, out of line: the common path then
  // keeps no register across its calls and needs no frame of its own.
  [[gnu::noinline, gnu::cold]] send_result drop(envelope* e) noexcept;
  template <bool now>
  [[gnu::noinline]] send_result enqueue_bounded(envelope* e) noexcept;
  template <bool now>
  send_result push_admitted(envelope* e) noexcept;  // enqueue's step into the outbox or mailbox
  void push_evicting(envelope* e) noexcept;
  void push_own_info(envelope* e) noexcept;
  [[nodiscard]] bool evicts_oldest() const noexcept {
    return bounded_ != nullptr && bounded_->strategy == overflow_strategy::drop_oldest;
  }
  [[gnu::noinline, gnu::cold]] send_result admit(envelope* e) noexcept;
  bool take_slot() noexcept;  // a place in a counting bounded mailbox; false when full
  void overflowed(const envelope* e) noexcept;
  void run_continue() noexcept;
  void note_activity(unsigned handled) noexcept;
  // At a turn's end, with an idle timeout set: counts the turn's `handled` messages, then
  // settles an idle check that fired during the turn (sends the timeout, or re-arms).
  void settle_idle(unsigned handled) noexcept;
  // Back-pressure (mute_table.hpp): a turn that spent its budget, with `left` ordinary
  // messages still queued (ordinary_left(2)), marks the actor overloaded or not; one that
  // stops being so lets its muted senders go.
  void note_spent_turn(std::size_t left) noexcept;
  // Ordinary messages still to handle, counted up to about `limit`.
  [[nodiscard]] std::size_t ordinary_left(std::size_t limit) const noexcept;
  [[gnu::noinline, gnu::cold]] void let_muted_go() noexcept;

  // relaying: moved away (migration.hpp); hands every ordinary message to extras_->relay.
  enum class phase : std::uint8_t { created, running, relaying, stopping, finished };

  // A turn also ends once it has sent this many messages per message of its budget.
  static constexpr unsigned sends_per_budget_unit = 4;

  // -- set at spawn, then read-only --------------------------------------------------------
  system_state* const sys_;
  const std::uint64_t id_;
  actor_cell* const parent_;  // counted while the child lives
  const actor_type* const type_;
  // A bounded mailbox's counters. Senders reserve a place by CAS on `pushed` against the bound;
  // the consumer counts in `popped` each message it takes up (drop_newest and error). All
  // relaxed: the bound is a policy, not a memory fence; a stale `popped` only makes a sender
  // see the mailbox fuller than it is.
  //
  // drop_oldest cannot work that way: only the consumer pops the MPSC queue, so a busy consumer
  // could not make room and the queue would grow without bound. Its ordinary messages live in
  // `queue` instead, under `lock`: a sender that finds `held == bound` evicts the oldest
  // counted message itself (its call fails with mailbox_full at once), then wakes the consumer
  // as system senders do (flag_system_and_claim, M-I3), so the MPSC queue carries none of them.
  //
  // A forwarding actor (forwarding.hpp) rides on the same branch: its `forwarder` takes every
  // ordinary message at the send, so a send to any other actor pays nothing for it.
  struct bounded_mailbox {
    std::uint32_t bound;
    overflow_strategy strategy;
    std::shared_ptr<message_forwarder> forwarder;  // set at spawn, then read-only
    std::atomic<std::uint64_t> pushed{0};
    std::atomic<std::uint64_t> popped{0};
    std::mutex lock;                  // drop_oldest only, from here on
    internal::evicting_queue queue;
    std::uint32_t held = 0;           // counted messages in `queue`
  };
  // -- shared --------------------------------------------------------------------------------
  std::unique_ptr<bounded_mailbox> bounded_;  // set at spawn, then read-only
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<std::uint32_t> children_count_{0};  // for introspection; the consumer writes it
  std::atomic<bool> dead_{false};
  std::atomic<bool> overloaded_{false};  // the consumer sets it; cleared under the mute table's lock
  // -- consumer only (small fields packed beside dead_) -----------------------------------------
  // What the handler that just ran left to do; one byte so the common case tests it once.
  // turn_changed: the handler began to await a reply or unstashed, so the turn loop's checks
  // before its next message (run_turn) no longer hold; acting on it only clears it. Set outside
  // a handler (a relay's unstash_all), it waits harmlessly for the next after_handler.
  enum pending_bits : std::uint8_t {
    crashed = 1,
    stop_requested = 2,
    continue_pending = 4,
    stash_current = 8,
    turn_changed = 16
  };
  std::uint8_t pending_ = 0;
  bool trap_exit_ = false;
  bool idle_watch_ = false;  // an idle timeout is set: count handled messages, note when turns end
  std::uint16_t impl_offset_ = 0;  // set at spawn, then read-only (see impl())
  // Both set at spawn, before the cell is published, then read-only: sharing a byte never races.
  bool named_ : 1 = false;  // extras_->name is the spawn name
  // The parent listens for its children's inits (on_child_init): tell it when init returns.
  bool reports_init_ : 1 = false;
  phase phase_ = phase::created;   // consumer only; here, in the padding before the mailbox
  // The consumer writes it when an await begins and ends; any thread reads it (awaits_call).
  // 16 bits, in padding: a full request id would grow every cell past its 176 bytes.
  std::atomic<std::uint16_t> await_tag_{0};
  // Where the registry shard that lists this actor keeps it (guarded by the shard's mutex).
  std::uint32_t registry_slot = 0;
  // -- shared --------------------------------------------------------------------------------
  // 0: no timeout pending; held_tag(id): call id's timeout is held back by the worker that
  // armed it; else the timer_entry armed for it. Orderings: hand_over_timeout.
  std::atomic<std::uintptr_t> await_timeout_{0};
  internal::mailbox mailbox_{false};
  internal::system_queue system_;
  // -- the parent's consumer role: links in the parent's list of children -------------------
  actor_cell* sibling_prev_ = nullptr;
  actor_cell* sibling_next_ = nullptr;
  // -- consumer only -------------------------------------------------------------------------
  internal::envelope_list deferred_;  // ordinary messages set aside while awaiting, and unstashed ones
  std::unique_ptr<extras> extras_;
  actor_context ctx_{this};
};

inline bool actor_cell::after_handler() noexcept {
  internal::local_outbox().end_handler();
  if (pending_ == 0) [[likely]]
    return true;
  pending_ &= ~turn_changed;  // nothing to act on: the turn loop looks again
  if (pending_ != 0) act_on_pending();
  return false;
}

/// spawn_cell (detail/spawn.hpp) for a forwarding actor: the forwarder is in place before the
/// cell is scheduled or registered, so no sender ever sees the cell without it.
actor_cell* spawn_cell_forwarding(system_state& sys, actor_cell* parent, const spawn_options& opts,
                                  const actor_type& type, std::size_t size, std::size_t align, void* closure,
                                  impl_constructor construct, std::shared_ptr<message_forwarder>* forwarder);

}  // namespace eam::detail
