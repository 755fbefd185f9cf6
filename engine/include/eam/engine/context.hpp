#pragma once
/// `actor_context`: what a running actor can do to itself and its children. Handed to a
/// functional actor's factory and reachable from a class actor as `context()`. Use it only from
/// the actor's own handlers.

#include <eam/engine/detail/spawn.hpp>
#include <eam/engine/detail/timer.hpp>
#include <eam/engine/info.hpp>
#include <eam/engine/reply_handle.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace eam {

class actor_context {
 public:
  explicit actor_context(detail::actor_cell* cell) noexcept : cell_(cell) {}
  actor_context(const actor_context&) = delete;
  actor_context& operator=(const actor_context&) = delete;

  [[nodiscard]] actor_ref self() const noexcept;
  [[nodiscard]] std::uint64_t id() const noexcept { return detail::cell_id(cell_); }
  [[nodiscard]] actor_system& system() const noexcept;
  /// The actor that spawned this one; an empty ref for a top-level actor.
  [[nodiscard]] actor_ref parent() const noexcept;

  /// Spawns a child: it stops before this actor does (with reason shutdown when this actor's end
  /// stops it). Its end is not a message here: watch or link it to hear of it (as a supervisor
  /// does).
  template <class F, class... A>
    requires detail::actor_factory<F, A...>
  auto spawn(F&& factory, A&&... args) {
    return detail::spawn_functional(state(), cell_, {}, std::forward<F>(factory), std::forward<A>(args)...);
  }
  template <class F, class... A>
    requires detail::actor_factory<F, A...>
  auto spawn(const spawn_options& opts, F&& factory, A&&... args) {
    return detail::spawn_functional(state(), cell_, opts, std::forward<F>(factory), std::forward<A>(args)...);
  }
  template <detail::class_actor T, class... A>
  auto spawn(A&&... args)
    requires(detail::not_spawn_options<A> && ...)
  {
    return detail::spawn_class<T>(state(), cell_, {}, std::forward<A>(args)...);
  }
  template <detail::class_actor T, class... A>
  auto spawn(const spawn_options& opts, A&&... args) {
    return detail::spawn_class<T>(state(), cell_, opts, std::forward<A>(args)...);
  }

  /// This actor's live children, oldest first.
  [[nodiscard]] std::vector<actor_ref> children() const;
  /// Stops this actor (reason normal) once the current handler returns.
  void stop() noexcept;
  /// Stops another actor, typically a child (reason normal). Asynchronous.
  void stop(const actor_ref& other) noexcept;

  /// Monitors `target`: when it ends, this actor gets exactly one `eam::down` with the reason
  /// (`noproc` at once if it is already gone). Links nothing: this actor is not affected.
  watch_ref watch(const actor_ref& target);
  /// The same, with a handler of its own: the `down` runs `on_down` on this actor instead of
  /// reaching its behavior, so a component (a supervisor's bookkeeping, a library) can watch
  /// actors without the owner forwarding downs to it. It runs as a handler does: after the
  /// messages before it, not while the actor awaits a reply, and a throw crashes the actor.
  watch_ref watch(const actor_ref& target, std::function<void(const down&)> on_down);
  /// Stops a watch. A `down` for it that is already queued is dropped too.
  void unwatch(watch_ref ref);
  /// Links this actor and `other`: when either ends abnormally, the other gets an exit signal
  /// and ends with the same reason, unless it traps exits. Linking to a gone actor signals
  /// `noproc`.
  link_ref link(const actor_ref& other);
  void unlink(const actor_ref& other);
  /// While trapping, exit signals arrive as `eam::exit_signal` info messages instead of ending
  /// the actor (except `exit_reason::kill()`, which cannot be trapped).
  void set_trap_exit(bool trap) noexcept;
  [[nodiscard]] bool traps_exits() const noexcept;
  /// Sends `target` an exit signal. `normal` is ignored unless `target` is this actor; `kill`
  /// ends it with `killed` even when it traps exits; any other reason ends it with that reason
  /// unless it traps exits.
  void exit(const actor_ref& target, exit_reason reason);

  /// Sends `msg` to this actor after `delay`, as an ordinary message in its mailbox (it needs
  /// a handler for M, or it is dropped). Timers die with their actor.
  template <class M>
  timer_ref send_after(M msg, std::chrono::milliseconds delay) {
    return {detail::arm_timer(cell_, std::make_unique<detail::message_copy<M>>(std::move(msg)), delay, false)};
  }
  /// Sends a copy of `msg` to this actor every `period` until cancelled.
  template <class M>
  timer_ref send_interval(M msg, std::chrono::milliseconds period) {
    return {detail::arm_timer(cell_, std::make_unique<detail::message_copy<M>>(std::move(msg)), period, true)};
  }
  /// True when the timer was armed and its message will now not be delivered (even one that
  /// already fired and waits in the mailbox); false when it was already delivered, cancelled
  /// or unknown.
  bool cancel_timer(timer_ref timer) noexcept;
  void cancel_all_timers() noexcept;
  /// After `idle` without an ordinary message, this actor gets an `eam::timeout` info message,
  /// again every `idle` while nothing else arrives. Zero turns it off.
  void set_idle_timeout(std::chrono::milliseconds idle);
  /// The idle timeout in force; zero when none.
  [[nodiscard]] std::chrono::milliseconds idle_timeout() const noexcept;

  /// Runs `handler` when the actor ends, before a class actor's terminate, with the reason
  /// (the seed's onTerminate): a functional actor's cleanup. Not after a failed init. A throw
  /// from it ends the actor with that error. A later call replaces the handler.
  void on_terminate(std::function<void(const exit_reason&)> handler);

  /// Hears, from now on, of each child this actor spawns as soon as the child's init has
  /// returned, before the continue the child asked for and the messages queued for it:
  /// `on_init(child)` runs on this actor as a system signal, ahead of its mailbox (also while
  /// it awaits a reply); a throw from it crashes this actor. A child whose init throws reports
  /// nothing: its end says why. For supervision, where a child counts as started once its init
  /// has returned (OTP's start_child). A later call replaces the handler; an empty one stops
  /// the reports of the children spawned afterwards.
  void on_child_init(std::function<void(const actor_ref& child)> on_init);

  /// Runs `next` right after the current handler (or init) returns, before any other message:
  /// OTP's handle_continue. A throw from it crashes the actor like a handler's.
  void continue_with(std::function<void()> next);

  /// Sets the message being handled aside; it is handled again after `unstash` or
  /// `unstash_all`, ahead of the mailbox. A stashed call is not answered now: its caller keeps
  /// waiting (within its timeout). False outside a plain handler (in init, a continue or a
  /// task handler there is no message to stash).
  bool stash() noexcept;
  /// Takes the answer channel of the call being handled, to answer it later, from this actor
  /// or any thread (OTP's `noreply` and `gen_server:reply`): the handler's return value then
  /// answers nothing, and the caller waits, within its timeout, for the handle's answer (a
  /// dropped handle fails the call with `actor_not_found`). Empty for a cast, and outside a
  /// plain handler (a task handler answers with its `co_return`). Unlike `stash`, the message
  /// is done with: nothing is handled again, however many calls wait.
  [[nodiscard]] reply_handle take_reply() noexcept;
  /// Puts the oldest stashed message back, ahead of the mailbox. False when the stash is empty.
  bool unstash() noexcept;
  /// Puts every stashed message back, in the order they were stashed, ahead of the mailbox.
  void unstash_all() noexcept;
  /// Drops the stash; stashed calls fail with `stash_cleared`.
  void clear_stash() noexcept;

  /// Lets this actor be moved to another node (migration.hpp, the cluster's `migrate`):
  /// `save()` returns its state as a value of any type the mover can carry, and runs in the
  /// actor's turn, between two messages, when it is asked to move. The rebuilt actor gets the
  /// value back (the cluster's registered restore factory). A class actor's `save_state()`
  /// is recorded without this call.
  template <class F>
  void on_save_state(F save) {
    detail::set_state_saver(*this, [save = std::move(save)]() mutable -> detail::envelope* {
      using state = std::remove_cvref_t<decltype(save())>;
      return detail::make_envelope<state>(detail::envelope_kind::cast, save());
    });
  }

  /// State owned by the actor, destroyed after it stops: the closure state of a functional
  /// actor lives here so its handlers can share it by reference.
  template <class T, class... A>
  T& make_state(A&&... args) {
    auto owned = std::make_unique<holder<T>>(std::forward<A>(args)...);
    T& ref = owned->value;
    adopt_state(std::move(owned));
    return ref;
  }

 private:
  struct state_base {
    virtual ~state_base() = default;
  };
  template <class T>
  struct holder final : state_base {
    template <class... A>
    explicit holder(A&&... args) : value(std::forward<A>(args)...) {}
    T value;
  };
  void adopt_state(std::unique_ptr<state_base> s);
  detail::system_state& state() const noexcept;

  friend class detail::actor_cell;
  friend void detail::set_state_saver(actor_context&, std::function<detail::envelope*()>);
  detail::actor_cell* cell_;
};

}  // namespace eam
