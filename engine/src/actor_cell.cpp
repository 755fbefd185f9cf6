#include "actor_cell.hpp"

#include <eam/engine/detail/tls.hpp>
#include "allocator.hpp"
#include "caller_turn_gate.hpp"
#include "envelope_contents.hpp"
#include "held_call_timeouts.hpp"
#include "invariant.hpp"
#include "system_state.hpp"
#include "worker.hpp"

#include <eam/engine/log.hpp>
#include <eam/engine/telemetry.hpp>

#include <algorithm>

namespace eam::detail {

// await_tag_ sits in padding (actor_cell.hpp): a cell that grew would take a line more for
// every actor whose behavior is larger than a few bytes (spawn rounds to whole lines).
static_assert(sizeof(void*) != 8 || sizeof(actor_cell) <= 176, "an actor cell stays within 176 bytes");

namespace {
EAM_TLS actor_cell* tls_cell = nullptr;      // the actor whose turn runs on this thread
EAM_TLS reply_address tls_reply;             // a call's reply, on its way into a task
EAM_TLS envelope* tls_envelope = nullptr;    // the ordinary message being handled

// Sets the running actor for the duration of a turn.
struct running_scope {
  actor_cell* saved;
  explicit running_scope(actor_cell* c) noexcept : saved(tls_cell) { tls_cell = c; }
  ~running_scope() { tls_cell = saved; }
};

/// Where crashes are logged: handler, init and terminate failures alike.
const log::logger& crash_log() {
  static const log::logger logger("eam.actor");
  return logger;
}

/// Emits a telemetry event from the engine. execute already isolates handlers; this keeps what
/// is left (its lock failing) from taking a worker down.
void emit(std::string_view event, const telemetry::measurements& m, const telemetry::metadata& md) noexcept {
  try {
    telemetry::execute(event, m, md);
  } catch (...) {
  }
}

// Whether anyone listens to the events of each engine path, asked only once any_handlers() is
// true, so a handler attached to one event does not have every message build the others'
// metadata. Out of line: the paths with nothing attached keep their code as it was.

// Which of a dispatch's events anyone listens to, for a call or a cast: a metrics handler on
// the stop events alone spares every message the start event it would build for nobody.
struct dispatch_listeners {
  bool start;
  bool end;  // stop or exception
};
dispatch_listeners dispatch_observed(bool is_call) noexcept {  // called from observed_dispatch, out of line already
  namespace ev = telemetry::events;
  static const telemetry::event_gate call_start{ev::handle_call_start};
  static const telemetry::event_gate call_end{ev::handle_call_stop, ev::handle_call_exception};
  static const telemetry::event_gate cast_start{ev::handle_cast_start};
  static const telemetry::event_gate cast_end{ev::handle_cast_stop, ev::handle_cast_exception};
  return is_call ? dispatch_listeners{call_start.listened(), call_end.listened()}
                 : dispatch_listeners{cast_start.listened(), cast_end.listened()};
}
[[gnu::cold, gnu::noinline]] bool init_observed() noexcept {
  static const telemetry::event_gate gate{telemetry::events::actor_init_stop, telemetry::events::actor_init_exception};
  return gate.listened();
}
[[gnu::cold, gnu::noinline]] bool stop_observed() noexcept {
  static const telemetry::event_gate gate{telemetry::events::actor_stop_stop};
  return gate.listened();
}
[[gnu::cold, gnu::noinline]] bool overflow_observed() noexcept {
  static const telemetry::event_gate gate{telemetry::events::mailbox_overflow};
  return gate.listened();
}
}  // namespace

actor_cell* current_cell() noexcept { return tls_cell; }
envelope* current_envelope() noexcept { return tls_envelope; }

}  // namespace eam::detail

// The outbox (outbox.hpp) is implemented here rather than in a file of its own so that the
// send path (deliver -> outbox::send -> push_chain) inlines into one function.
namespace eam::internal {

EAM_TLS outbox tls_outbox;

[[gnu::always_inline]] inline unsigned outbox::slot_of(const actor_cell* target) noexcept { return static_cast<unsigned>(target->id() % slot_count); }

// Inlined into deliver (always_inline): a call of its own cost a cast 7 of its 226 instructions
// (bench/gate). The two common paths are a message appended to its target's pending chain (a
// handler's sending loop) and a first message pushed at once (ping-pong); everything else is
// send_rarely.
inline void outbox::send(actor_cell* target, envelope* e) noexcept {
  ++sent_;
  const unsigned index = slot_of(target);
  slot& s = slots_[index];
  if (s.target == target && s.length != 0) {
    s.last->next.store(e, std::memory_order_relaxed);  // published by push's [M1]/[M2]
    s.last = e;
    if (++s.length == max_chain) [[unlikely]] return push(index);
    return;
  }
  if (s.length != 0 || (s.target == target && s.handler == handler_) || target->overloaded()) [[unlikely]]
    return send_rarely(index, target, e);
  s.target = target;
  s.handler = handler_;
  return target->push_chain(e, e);
}

void outbox::send_rarely(unsigned index, actor_cell* target, envelope* e) noexcept {
  slot& s = slots_[index];
  if (target->overloaded()) note_pressure(target);
  if (s.target != target) {
    if (s.length != 0) push(index);  // the slot's other target gets its chain now, ahead of anything later to it
  } else if (s.handler == handler_) {  // the second message this handler sends it: start a chain
    target->add_ref();
    s.first = s.last = e;
    s.length = 1;
    pending_ |= std::uint64_t{1} << index;
    return;
  }
  s.target = target;
  s.handler = handler_;
  target->push_chain(e, e);
}

void outbox::note_pressure(actor_cell* target) noexcept {
  if (pressure_ != nullptr) return;  // the first one is enough to mute on
  target->add_ref();                 // the caller holds one
  pressure_ = target;
}

void outbox::push(unsigned index) noexcept {
  slot& s = slots_[index];
  s.length = 0;  // the target stays, so later messages to it may chain again
  pending_ &= ~(std::uint64_t{1} << index);
  s.target->push_chain(s.first, s.last);
  s.target->release();
  share_envelope_blocks_if_others_run();  // once per chain: a long sending turn sees the count change
}

void outbox::push_all() noexcept {
  while (pending_ != 0) push(static_cast<unsigned>(__builtin_ctzll(pending_)));
  if (held_count_ != 0) release_held();
}

bool outbox::hold(held_sends& h) noexcept {
  for (std::uint64_t i = 0; i < held_count_; ++i)
    if (held_[i] == &h) return true;
  if (held_count_ == max_held) return false;
  held_[held_count_++] = &h;
  return true;
}

void outbox::release_held() noexcept {
  // Forgotten before they run, so a release that holds again (it should not) is kept for the
  // next flush rather than lost.
  held_sends* now[max_held];
  const std::uint64_t n = held_count_;
  std::copy_n(held_, n, now);
  held_count_ = 0;
  for (std::uint64_t i = 0; i < n; ++i) now[i]->release();
}

}  // namespace eam::internal

namespace eam::detail {

void set_current_reply(reply_address&& r) noexcept { tls_reply = std::move(r); }
reply_address take_current_reply() noexcept { return std::move(tls_reply); }

void report_crash(reply_address& to, std::exception_ptr e) noexcept {
  std::string what = telemetry::detail::what_of(e);
  complete_error(to, error(errc::actor_crashed, what));
  if (tls_cell != nullptr) tls_cell->record_crash(std::move(what));
}

actor_cell::actor_cell(system_state& sys, std::uint64_t id, actor_cell* parent, const actor_type& type) noexcept
    : sys_(&sys), id_(id), parent_(parent), type_(&type) {
  // Through the worker's slots (deferred_releases.hpp): a parent spawning many children writes
  // its count once per reserve, and each child's release is held back where it ends.
  if (parent_ != nullptr) detail::add_ref(parent_);
}

actor_cell::~actor_cell() {
  if (phase_ != phase::finished) {  // never ran: spawn failed
    if (impl() != nullptr) type_->destroy(impl());
    if (parent_ != nullptr) parent_->release();
  }
}

void actor_cell::release_many(std::uint32_t n) noexcept {
  const std::uint32_t before = refs_.fetch_sub(n, std::memory_order_acq_rel);
  EAM_ASSERT(before >= n, "C-I1: every release matches a counted reference");
  if (before != n) return;
  EAM_ASSERT(phase_ == phase::finished || phase_ == phase::created, "C-I1: a cell is freed only after it finished (or never ran)");
  this->~actor_cell();
  internal::deallocate(this);
}

actor_cell::extras& actor_cell::more() {
  if (!extras_) extras_ = std::make_unique<extras>();
  return *extras_;
}

// -- senders ---------------------------------------------------------------------------------

// enqueue's (below) last step, once the target is alive and any bound has admitted the message.
template <bool from_thread>
[[gnu::always_inline]] inline send_result actor_cell::push_admitted(envelope* e) noexcept {
  if (!from_thread && tls_cell != nullptr) {
    internal::local_outbox().send(this, e);
    return send_result::delivered;
  }
  if (mailbox_.push(e)) {
    if constexpr (from_thread)
      run_claimed_on_caller(e);
    else
      on_claimed(e);
  }
  return send_result::delivered;
}

// The one path of every ordinary message: a known-dead target drops it, a bound admits or
// evicts, then it leaves through the outbox (inside a handler) or straight into the mailbox.
// `from_thread` (a blocking call from outside the pool) skips the outbox and may run the turn
// its push claims right here. Constants at each call, so each sender inlines only its own path.
template <bool from_thread, bool has_slot>
[[gnu::always_inline]] inline send_result actor_cell::enqueue(envelope* e) noexcept {
  if (dead_.load(std::memory_order_acquire)) [[unlikely]]
    return drop(e);
  if (!has_slot && bounded_ != nullptr) [[unlikely]]
    return enqueue_bounded<from_thread>(e);
  return push_admitted<from_thread>(e);
}

send_result actor_cell::drop(envelope* e) noexcept {
  free_envelope(e);
  return send_result::dropped;
}

template <bool from_thread>
send_result actor_cell::enqueue_bounded(envelope* e) noexcept {
  if (bounded_->forwarder != nullptr) {
    bounded_->forwarder->forward(message(e));
    return send_result::delivered;
  }
  if (evicts_oldest()) {
    push_evicting(e);
    return send_result::delivered;
  }
  if (const send_result r = admit(e); r != send_result::delivered) return r;
  return push_admitted<from_thread>(e);
}

send_result actor_cell::deliver(envelope* e) noexcept { return enqueue<false>(e); }
send_result actor_cell::deliver_call_from_thread(envelope* e) noexcept { return enqueue<true>(e); }

void actor_cell::deliver_info(envelope* e) noexcept {
  e->flags |= envelope::uncounted;  // never counted against a bound, never dropped by it
  (void)enqueue<false>(e);
}

void actor_cell::push_evicting(envelope* e) noexcept {
  bounded_mailbox& b = *bounded_;
  const bool counted = (e->flags & envelope::uncounted) == 0;
  envelope* evicted = nullptr;
  {
    std::lock_guard lock(b.lock);
    if (counted && b.held >= b.bound) {
      evicted = b.queue.take_oldest_counted();
      if (evicted != nullptr) --b.held;
    }
    b.queue.push_back(e);
    if (counted) ++b.held;
  }
  if (evicted != nullptr) {
    overflowed(evicted);
    complete_error(evicted->reply, error(errc::mailbox_full, "evicted from a full mailbox by a newer message"));
    free_envelope(evicted);
  }
  if (mailbox_.flag_system_and_claim()) on_claimed();  // M-I3: the consumer looks again before idling
}

void actor_cell::push_own_info(envelope* e) noexcept {
  e->flags |= envelope::uncounted;
  if (evicts_oldest())
    push_evicting(e);
  else
    (void)mailbox_.push(e);  // we hold the consumer role: never claims
}

void actor_cell::set_mailbox_bound(std::uint32_t bound, overflow_strategy strategy) {
  bounded_ = std::make_unique<bounded_mailbox>();
  bounded_->bound = bound;
  bounded_->strategy = strategy;
}

void actor_cell::set_forwarder(std::shared_ptr<message_forwarder> forwarder) {
  if (bounded_ == nullptr) {
    bounded_ = std::make_unique<bounded_mailbox>();
    bounded_->bound = UINT32_MAX;
    bounded_->strategy = overflow_strategy::drop_newest;
  }
  bounded_->forwarder = std::move(forwarder);
}

std::optional<std::uint64_t> actor_cell::mailbox_length() const noexcept {
  if (bounded_ == nullptr) return std::nullopt;
  if (evicts_oldest()) {
    std::lock_guard lock(bounded_->lock);
    return bounded_->held;
  }
  const std::uint64_t in = bounded_->pushed.load(std::memory_order_relaxed);
  const std::uint64_t out = bounded_->popped.load(std::memory_order_relaxed);
  return in > out ? in - out : 0;
}

send_result actor_cell::admit(envelope* e) noexcept {
  if ((e->flags & envelope::uncounted) != 0) return send_result::delivered;  // info messages
  if (take_slot()) return send_result::delivered;
  overflowed(e);
  complete_error(e->reply, error(errc::mailbox_full, "the actor's mailbox is full"));
  free_envelope(e);
  EAM_ASSERT(bounded_->strategy != overflow_strategy::drop_oldest, "drop_oldest mailboxes take push_evicting, never admit");
  return bounded_->strategy == overflow_strategy::error ? send_result::refused : send_result::dropped;
}

bool actor_cell::take_slot() noexcept {
  bounded_mailbox& b = *bounded_;
  std::uint64_t pushed = b.pushed.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint64_t popped = b.popped.load(std::memory_order_relaxed);
    if (pushed - popped >= b.bound) return false;
    if (b.pushed.compare_exchange_weak(pushed, pushed + 1, std::memory_order_relaxed)) return true;
  }
}

send_result actor_cell::offer(envelope* e) noexcept {
  if (bounded_ != nullptr && bounded_->forwarder == nullptr && !evicts_oldest() && (e->flags & envelope::uncounted) == 0 &&
      !dead_.load(std::memory_order_acquire)) [[unlikely]] {
    if (!take_slot()) {
      overflowed(e);
      return send_result::refused;  // e stays the caller's
    }
    return enqueue<false, true>(e);
  }
  return enqueue<false>(e);
}

void actor_cell::overflowed(const envelope* e) noexcept {
  if (!telemetry::any_handlers() || !overflow_observed()) return;
  try {
    emit(telemetry::events::mailbox_overflow, {},
         {{"actor_id", std::to_string(id_)}, {"node_id", sys_->config.node_id}, {"message_type", std::string(e->type->name)}});
  } catch (...) {
  }
}

void actor_cell::push_chain(envelope* first, envelope* last) noexcept {
  if (mailbox_.push_chain(first, last)) on_claimed();
}

void actor_cell::deliver_system(envelope* e) noexcept {
  system_.push(e);
  if (mailbox_.flag_system_and_claim()) on_claimed();
}

void actor_cell::on_claimed(const envelope* first_message) noexcept {
  // We hold the consumer role (mailbox.hpp M-I1). A live actor goes to a worker; a dead one is
  // drained right here, never scheduled (C-I2).
  if (dead_.load(std::memory_order_acquire))
    drain_dead();
  else
    sys_->scheduler.schedule(this, first_message);
}

void actor_cell::run_claimed_on_caller(const envelope* call) noexcept {
  // A dead actor is drained, never run (C-I2); on_claimed does that, or hands the actor to a
  // worker when this thread may not run it. A worker's thread keeps its worker's state (held
  // releases and timeouts, envelope cache) in its thread-locals, so a turn there belongs to that
  // worker's loop: a blocking call is refused inside a handler, but a destructor run between
  // turns could still make one.
  std::atomic<std::uint64_t>* entered = nullptr;
  if (dead_.load(std::memory_order_acquire) || internal::current_worker() != nullptr ||
      (entered = sys_->caller_turns.try_enter()) == nullptr) {
    on_claimed(call);
    return;
  }
  // The turn of a worker, as worker::run gives it, on a thread that has none of a worker's
  // thread-locals: releases happen at once, a task's call timeout is armed with the timer
  // service, envelopes come from the thread's outside blocks. The budget is the call alone:
  // what waits behind it then goes to the pool with the actor, so the caller waits for its own
  // answer only.
  unsigned handled = 0;
  const internal::turn_result turn = run_turn(caller_turn_budget, handled);
  actor_cell* const pressed = internal::local_outbox().end_turn();  // an actor here mutes no sender
  switch (turn) {
    case internal::turn_result::idle:
      break;
    case internal::turn_result::yield:
      sys_->scheduler.schedule(this);
      break;
    case internal::turn_result::done:
      release();  // the alive reference (C-I1)
      break;
  }
  if (pressed != nullptr) [[unlikely]] pressed->release();
  internal::caller_turn_gate::leave(entered);  // last: shutdown may destroy the system from here on
}

void actor_cell::drain_dead() noexcept {
  for (;;) {
    bool any = false;
    while (envelope* e = system_.pop()) {
      reject(e);
      any = true;
    }
    while (envelope* e = mailbox_.pop()) {
      reject(e);  // answers calls: actor_not_found (C-I3)
      any = true;
    }
    if (evicts_oldest()) {  // a sender that raced finish's drain
      while (envelope* e = pop_bounded()) {
        reject(e);
        any = true;
      }
    }
    // Only after a round that found nothing (mailbox.hpp M-I3); hands off from here (M-I1).
    if (!any && mailbox_.try_mark_empty()) return;
  }
}

void actor_cell::reject(envelope* e) noexcept {
  // A watch or link request that reaches a dead actor is answered as Erlang does: noproc. An
  // actor's watch is refused by a system message, not a down: when this actor was the
  // watcher's child, the child_exited it sent is ahead of it in the same queue, and the
  // watcher reports that reason instead (refuse_watch), as spawn-then-watch needs.
  try {
    if (e->kind == envelope_kind::watch) {
      auto& w = e->as<internal::watch_request>();
      if (w.outside) {
        add_ref();
        w.outside->on_down(
            down{watch_ref{w.id, w.watcher.id(), id_}, actor_ref(this, adopt_t{}), exit_reason::noproc()});
      } else {
        w.watcher.cell()->deliver_system(make_envelope<std::uint64_t>(envelope_kind::watch_refused, w.id));
      }
    } else if (e->kind == envelope_kind::link) {
      auto& l = e->as<internal::link_request>();
      add_ref();
      l.other.cell()->deliver_system(make_envelope<internal::exit_request>(
          envelope_kind::exit, internal::exit_request{actor_ref(this, adopt_t{}), exit_reason::noproc(), true}));
    } else if (e->kind == envelope_kind::migration) {
      auto& m = e->as<internal::migration_request>();
      if (m.what == internal::migration_request::step::pause)
        m.on_paused(error(errc::actor_not_found, "the actor has ended"));
      else if (m.what == internal::migration_request::step::relay && m.relay_started)
        m.relay_started(false);
    }
  } catch (...) {
    // Out of memory: the requester hears nothing; nothing else is lost.
  }
  free_envelope(e);
}

// -- the turn ----------------------------------------------------------------------------------

internal::turn_result actor_cell::run_turn(unsigned budget, unsigned& handled) noexcept {
  EAM_ASSERT(!dead_.load(std::memory_order_relaxed), "C-I2: a dead actor is never scheduled");
  running_scope scope(this);
  if (phase_ == phase::created) run_init();
  const unsigned initial_budget = budget;
  // Sending counts against the turn as well, as reductions do in Erlang: an actor that sends a
  // thousand messages per message it handles would otherwise run a hundred thousand sends a
  // turn, and its receivers' backlogs grow by that much before back-pressure can act.
  const internal::outbox& out = internal::local_outbox();
  const unsigned send_budget = sends_per_budget_unit * initial_budget;
  for (;;) {
    while (envelope* e = system_.pop()) handle_system(e);
    if (phase_ == phase::stopping && !has_children()) {
      finish();
      if (overloaded_.load(std::memory_order_relaxed)) [[unlikely]] let_muted_go();
      handled = initial_budget - budget;
      return internal::turn_result::done;
    }
    if (phase_ == phase::running && !awaiting()) {
      if (envelope* e = next_to_handle()) {
        // A run: while each handler leaves nothing pending, nothing is set aside or bounded and
        // no system message waits, the checks above still hold, and the next message comes
        // straight from the mailbox. The system queue is still looked at between any two
        // messages (M-I3), in two loads; anything else goes round the loop again. A run that
        // finds the mailbox empty goes straight to giving the consumer role back.
        const bool plain = deferred_.empty() && bounded_ == nullptr;
        bool spent = false;
        bool ran_dry = false;
        for (;;) {
          const bool quiet = handle_ordinary(e);
          spent = --budget == 0 || out.sent_this_turn() >= send_budget;
          if (spent || !quiet || !plain || !system_.looks_empty()) [[unlikely]]
            break;
          e = mailbox_.take();
          if (e == nullptr) {
            ran_dry = true;
            break;
          }
        }
        if (spent) [[unlikely]] {
          // Spent, with nothing queued, set aside or held in a bound: the turn ends as one that
          // ran out of messages does, not scheduled again to find nothing. A stop finishes at the
          // loop's top (with the budget spent, nothing more is handled there); a running actor
          // gives the consumer role back unless a message arrived this instant. A caller's turn
          // (budget 1) thus ends with its call, and what waits behind it goes to a worker. The
          // system queue is looked at too, after the last take (mailbox.hpp M-I3): a system
          // message whose flag that take's push dropped would otherwise wait, unseen, for the
          // actor's next message; with one there the turn yields, and the next turn begins with it.
          if (budget == 0 && deferred_.empty() && bounded_ == nullptr && mailbox_.count_queued(1) == 0 &&
              system_.looks_empty()) {
            if (phase_ == phase::stopping) continue;
            if (phase_ == phase::running) {
              if (idle_watch_) [[unlikely]] settle_idle(initial_budget);
              if (overloaded_.load(std::memory_order_relaxed)) [[unlikely]] let_muted_go();
              handled = initial_budget;
              return mailbox_.try_mark_empty() ? internal::turn_result::idle  // M-I1: hands off now
                                               : internal::turn_result::yield;
            }
          }
          const std::size_t left = ordinary_left(2);
          // Spent on sends with nothing left to handle: the turn ends idle, as it would have.
          if (budget != 0 && left == 0) continue;
          if (idle_watch_) [[unlikely]] settle_idle(initial_budget - budget);
          note_spent_turn(left);
          handled = initial_budget - budget;
          return internal::turn_result::yield;
        }
        if (!ran_dry) continue;
      }
    } else if (phase_ == phase::relaying) [[unlikely]] {
      if (envelope* e = next_ordinary()) {
        relay_one(e);
        if (--budget == 0) {
          note_spent_turn(ordinary_left(2));
          handled = initial_budget - budget;
          return internal::turn_result::yield;
        }
        continue;
      }
    } else {
      // Awaiting a reply, or stopping: set arrivals aside, in order, so they do not keep
      // waking us (and so the mailbox can be marked empty). After any pop, look at the system
      // queue again before going idle (mailbox.hpp M-I3). A drop_oldest mailbox keeps its
      // messages where senders can still evict them: they do not hold the MPSC queue.
      bool moved = false;
      while (envelope* e = mailbox_.pop()) {
        deferred_.push_back(e);
        moved = true;
      }
      if (moved) continue;
    }
    // Nothing to do now: give the consumer role back. It fails when a message arrived, is
    // half pushed, or a system message was flagged (mailbox.hpp M-I3): go round again.
    if (idle_watch_) [[unlikely]]
      settle_idle(initial_budget - budget);  // before the hand-off: after it, hands off
    if (overloaded_.load(std::memory_order_relaxed)) [[unlikely]] let_muted_go();  // caught up
    if (mailbox_.try_mark_empty()) {  // M-I1: hands off now
      handled = initial_budget - budget;
      return internal::turn_result::idle;
    }
  }
}

// -- back-pressure (mute_table.hpp) ----------------------------------------------------------

std::size_t actor_cell::ordinary_left(std::size_t limit) const noexcept {
  // At most `limit` links walked, which the next turn reads anyway.
  return (deferred_.empty() ? 0 : 1) + queued_after_yield(limit);
}

void actor_cell::note_spent_turn(std::size_t left) noexcept {
  // More than one message left: behind, not just sending itself its next step.
  if (left >= 2) {
    if (!overloaded_.load(std::memory_order_relaxed)) overloaded_.store(true, std::memory_order_relaxed);
  } else if (overloaded_.load(std::memory_order_relaxed)) [[unlikely]] {
    let_muted_go();
  }
}

void actor_cell::let_muted_go() noexcept {
  std::vector<actor_cell*> senders;
  sys_->mutes.release(this, senders);
  for (actor_cell* s : senders) sys_->scheduler.schedule_behind(s);
}

bool actor_cell::try_mute_on(actor_cell* receiver) noexcept { return sys_->mutes.mute(this, receiver); }

envelope* actor_cell::next_ordinary() noexcept {
  if (deferred_.empty() && bounded_ == nullptr) [[likely]] return mailbox_.pop();
  return next_ordinary_slow();
}

inline envelope* actor_cell::next_to_handle() noexcept {
  // The handler never passes its envelope on, so the mailbox may keep the last one linked and
  // spare the stub's exchange (mailbox.hpp M-I4); a stashed one is detached.
  if (deferred_.empty() && bounded_ == nullptr) [[likely]] return mailbox_.take();
  return next_ordinary_slow();
}

inline void actor_cell::retire(envelope* e) noexcept {
  internal::destroy_contents_inline(e);
  mailbox_.retire(e);  // the memory now, or when the mailbox lets go of it (mailbox.hpp M-I4)
}

envelope* actor_cell::next_ordinary_slow() noexcept {
  envelope* e = deferred_.empty() ? pop_mailbox() : deferred_.pop_front();
  if (bounded_ != nullptr && e != nullptr) count_handled(e);
  return e;
}

inline envelope* actor_cell::pop_mailbox() noexcept {
  if (evicts_oldest()) [[unlikely]] return pop_bounded();
  return mailbox_.pop();
}

envelope* actor_cell::pop_bounded() noexcept {
  bounded_mailbox& b = *bounded_;
  std::lock_guard lock(b.lock);
  envelope* e = b.queue.pop_front();
  if (e != nullptr && (e->flags & envelope::uncounted) == 0) --b.held;
  return e;
}

void actor_cell::count_handled(envelope* e) noexcept {
  // A message leaves the bound when the actor takes it up, not when it is set aside while
  // awaiting: those still count against the bound. Counted once: stash and unstash bring it
  // back marked uncounted.
  if ((e->flags & envelope::uncounted) != 0) return;
  e->flags |= envelope::uncounted;
  if (evicts_oldest()) return;  // counted by `held` under the lock
  bounded_->popped.store(bounded_->popped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
}

std::size_t actor_cell::queued_after_yield(std::size_t limit) const noexcept {
  if (bounded_ != nullptr) return mailbox_length().value_or(0);
  return mailbox_.count_queued(limit);
}

void actor_cell::run_init() noexcept {
  phase_ = phase::running;
  const bool observed = telemetry::any_handlers() && init_observed();
  const double start = observed ? telemetry::detail::now_seconds() : 0;
  try {
    type_->init(impl(), ctx_);
  } catch (...) {
    record_crash(telemetry::detail::what_of(std::current_exception()));
    more().init_failed = true;  // never throws here: record_crash allocated the extras
  }
  // Before the continue (after_handler runs it) and the queued messages: "started" as OTP means it.
  if (reports_init_ && (pending_ & crashed) == 0) [[unlikely]]
    report_init();
  if (observed) [[unlikely]] {
    try {
      telemetry::metadata md{{"actor_id", std::to_string(id_)},
                             {"node_id", sys_->config.node_id},
                             {"actor_class", std::string(short_type_label(type_->name))}};
      const telemetry::measurements took{{"duration_ms", telemetry::detail::elapsed_ms(start)}};
      if ((pending_ & crashed) != 0) {
        md.emplace_back("error", extras_->crash);
        emit(telemetry::events::actor_init_exception, took, md);
      } else {
        emit(telemetry::events::actor_init_stop, took, md);
      }
    } catch (...) {
    }
  }
  after_handler();
}

inline bool actor_cell::handle_ordinary(envelope* e) noexcept {
  // Timer messages and downs are checked once, on first delivery (a stashed one comes back).
  if (e->kind == envelope_kind::timer || (e->type == &message_type_of<down> && (e->flags & envelope::admitted) == 0))
      [[unlikely]] {
    if (!admit_timer_or_down(e)) return false;  // a down's own handler may have left work
  }
  tls_envelope = e;
  if (telemetry::any_handlers()) [[unlikely]]
    observed_dispatch(e);
  else
    dispatch(e);
  tls_envelope = nullptr;
  if ((pending_ & stash_current) != 0) [[unlikely]]
    stash_handled(e);
  else
    retire(e);
  return after_handler();
}

// False when the message is done with here: a timer cancelled after it fired, a down whose
// watch is gone or that its watch's own handler took.
bool actor_cell::admit_timer_or_down(envelope* e) noexcept {
  if (e->kind == envelope_kind::timer) {
    if (!take_timer_message(e->reply.request_id)) {  // cancelled after it fired
      retire(e);
      return false;
    }
    e->kind = envelope_kind::cast;
    return true;
  }
  std::function<void(const down&)> on_down;
  if (!forget_watch(e->as<down>().ref.id, on_down)) {  // unwatched while the down was queued
    retire(e);
    return false;
  }
  if (on_down) {  // a watch with its own handler: the behavior never sees this down
    run_down_handler(e, on_down);
    return false;
  }
  e->flags |= envelope::admitted;
  return true;
}

void actor_cell::stash_handled(envelope* e) noexcept {
  pending_ &= ~stash_current;
  e->reply = take_current_reply();  // stash() parked the call's reply address there
  mailbox_.detach(e);               // linked through the stash from here
  more().stash.push_back(e);
}

void actor_cell::run_down_handler(envelope* e, std::function<void(const down&)>& on_down) noexcept {
  try {
    on_down(e->as<down>());
  } catch (...) {
    record_crash(telemetry::detail::what_of(std::current_exception()));
  }
  retire(e);
  after_handler();
}

inline void actor_cell::dispatch(envelope* e) noexcept {
  try {
    if (!type_->dispatch(running_impl(), *e)) [[unlikely]] reject_unhandled(e);
  } catch (...) {
    on_handler_exception(e);
  }
}

void actor_cell::reject_unhandled(envelope* e) noexcept {
  complete_error(e->reply, error(errc::unhandled_message, std::string(e->type->name)));
}

void actor_cell::on_handler_exception(envelope* e) noexcept {
  std::string what = telemetry::detail::what_of(std::current_exception());
  complete_error(e->reply, error(errc::actor_crashed, what));
  record_crash(std::move(what));
}

void actor_cell::observed_dispatch(envelope* e) noexcept {
  namespace ev = telemetry::events;
  const bool is_call = e->reply.pending();  // before the handler consumes the reply address
  const dispatch_listeners heard = dispatch_observed(is_call);
  if (!heard.start && !heard.end) {  // handlers listen to other events only
    dispatch(e);
    return;
  }
  const bool crashed_before = (pending_ & crashed) != 0;
  telemetry::metadata md;
  const double start = telemetry::detail::now_seconds();
  try {  // events that cannot be built (out of memory) are skipped; the message is handled
    md.emplace_back("actor_id", std::to_string(id_));
    md.emplace_back("node_id", sys_->config.node_id);
    if (heard.start) emit(is_call ? ev::handle_call_start : ev::handle_cast_start, {{"system_time", start}}, md);
  } catch (...) {
  }
  dispatch(e);
  if (!heard.end) return;
  observed_handler h{start, is_call, crashed_before, std::move(md)};
  if (awaiting()) [[unlikely]] {  // a task handler that suspended: its end comes at completion
    try {
      extras_->observed_await = std::make_unique<observed_handler>(std::move(h));
    } catch (...) {  // out of memory: that handler's end event is skipped
    }
    return;
  }
  emit_handler_end(std::move(h));
}

void actor_cell::emit_handler_end(observed_handler h) noexcept {
  namespace ev = telemetry::events;
  try {
    const telemetry::measurements took{{"duration_ms", telemetry::detail::elapsed_ms(h.start)}};
    if (!h.crashed_before && (pending_ & crashed) != 0) {
      h.metadata.emplace_back("error", extras_->crash);
      emit(h.is_call ? ev::handle_call_exception : ev::handle_cast_exception, took, h.metadata);
    } else {
      emit(h.is_call ? ev::handle_call_stop : ev::handle_cast_stop, took, h.metadata);
    }
  } catch (...) {
  }
}

void actor_cell::act_on_pending() noexcept {
  if ((pending_ & continue_pending) != 0) {
    if ((pending_ & (crashed | stop_requested)) == 0) {
      run_continue();  // before any other message; it may ask for another continue
      return;
    }
    pending_ &= ~continue_pending;
    extras_->next_continue = nullptr;
  }
  if ((pending_ & crashed) != 0) {
    pending_ &= ~(crashed | stop_requested);
    begin_exit(exit_reason::crashed(std::move(extras_->crash)));
  } else if ((pending_ & stop_requested) != 0) {
    pending_ &= ~stop_requested;
    begin_exit(exit_reason::normal());
  }
}

void actor_cell::record_crash(std::string what) noexcept {
  if ((pending_ & crashed) != 0) return;
  pending_ |= crashed;
  try {
    crash_log().error("actor {} ({}) crashed: {}", id_, short_type_label(type_->name), what);
  } catch (...) {
    // Logging must not turn a crash into a second one.
  }
  more().crash = std::move(what);
}

void actor_cell::handle_system(envelope* e) noexcept {
  switch (e->kind) {
    case envelope_kind::reply:
      if (awaiting() && e->reply.request_id == extras_->await.request_id && phase_ == phase::running)
        resume_await(e);
      break;
    case envelope_kind::call_timeout:
      if (awaiting() && e->reply.request_id == extras_->await.request_id && phase_ == phase::running)
        resume_await(nullptr);
      break;
    case envelope_kind::stop:
      begin_exit(std::move(e->as<exit_reason>()));
      break;
    case envelope_kind::child_exited:
      on_child_exit(e->as<internal::child_exit>());
      break;
    case envelope_kind::watch: {
      auto& w = e->as<internal::watch_request>();
      more().watchers.push_back({std::move(w.watcher), w.id, std::move(w.outside)});
      break;
    }
    case envelope_kind::watch_refused:
      refuse_watch(e->as<std::uint64_t>());
      break;
    case envelope_kind::unwatch: {
      auto& u = e->as<internal::unwatch_request>();
      if (extras_) extras_->watchers.erase(extras::watcher_key{u.watcher, u.id});
      break;
    }
    case envelope_kind::link: {
      auto& l = e->as<internal::link_request>();
      auto& links = more().links;
      if (links.find(l.other.cell()) == nullptr) links.push_back(std::move(l.other));
      break;
    }
    case envelope_kind::unlink: {
      auto& u = e->as<internal::unlink_request>();
      if (extras_) extras_->links.erase(u.other);
      break;
    }
    case envelope_kind::exit:
      on_exit_signal(e->as<internal::exit_request>());
      break;
    case envelope_kind::idle_check:
      on_idle_check(e->reply.request_id);
      break;
    case envelope_kind::migration:
      on_migration(e->as<internal::migration_request>());
      break;
    case envelope_kind::child_init: on_child_init(e->as<internal::child_init_report>().child); break;
    case envelope_kind::timer:
      break;  // never sent as a system message
    case envelope_kind::cast:
    case envelope_kind::call:
      break;  // never sent as system messages
  }
  free_envelope(e);
}

std::uint64_t actor_cell::begin_await(std::coroutine_handle<> h, void* awaiter, void (*accept)(void*, envelope*),
                                      std::chrono::milliseconds timeout) {
  extras& x = more();
  const std::uint64_t id = x.next_request_id + 1;
  // The timeout first: if arming it throws, nothing is recorded and the caller still owns its request.
  arm_await_timeout(id, timeout);
  x.next_request_id = id;
  x.await = {id, h, awaiter, accept};
  await_tag_.store(await_tag(id), std::memory_order_relaxed);  // before the request is sent: awaits_call
  pending_ |= turn_changed;  // arrivals are set aside from here on
  return id;
}

void actor_cell::arm_await_timeout(std::uint64_t request_id, std::chrono::milliseconds timeout) {
  internal::held_call_timeouts* held = internal::tls_held_call_timeouts;
  if (held != nullptr && timeout >= internal::held_call_timeouts::shortest_held) {
    // The tag first: a hold that finds the array full hands the held entries over at once.
    // Relaxed: the hand-over reads it on this thread, or on the timer thread after the holder's
    // handshake ([H1]/[H2]); whoever ends the await does so after the reply, which the call's
    // own message orders after this store.
    await_timeout_.store(held_tag(request_id), std::memory_order_relaxed);
    if (held->hold(this, request_id, timeout)) return;
  }
  internal::timer_entry* timer = sys_->timers.arm_call_timeout(internal::clock::now() + timeout, this, request_id);
  await_timeout_.store(reinterpret_cast<std::uintptr_t>(timer), std::memory_order_relaxed);  // as above
}

// The hand-over and the end of the await may run at once on two threads (the holding worker or
// the timer thread hands over; the call's reply resumes the caller wherever it is scheduled):
//   hand-over: load the word; if it still holds the call's tag, arm a timer entry and CAS the
//              word from the tag to the entry (release: the entry is built before anyone can
//              cancel it). A failed CAS means the await ended meanwhile: cancel the entry.
//   end:       exchange the word for 0 (acquire, to the CAS); an entry found there is cancelled.
// Exactly one of them cancels an armed entry, and a tag of an older call never matches: ids do
// not repeat within a cell. A timeout that fires before either cancels is a call_timeout for a
// call no longer awaited, which handle_system ignores.
void actor_cell::hand_over_timeout(std::uint64_t request_id, internal::clock::time_point deadline) {
  std::uintptr_t expected = held_tag(request_id);
  if (await_timeout_.load(std::memory_order_relaxed) != expected) return;  // answered (or ended) already
  internal::timer_entry* timer = sys_->timers.arm_call_timeout(deadline, this, request_id);
  if (!await_timeout_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(timer), std::memory_order_release,
                                              std::memory_order_relaxed))
    sys_->timers.cancel(timer);
}

void actor_cell::end_await_marks() noexcept {
  await_tag_.store(0, std::memory_order_relaxed);
  const std::uintptr_t word = await_timeout_.exchange(0, std::memory_order_acquire);
  if (word != 0 && (word & 1) == 0) sys_->timers.cancel(reinterpret_cast<internal::timer_entry*>(word));
}

void actor_cell::resume_await(envelope* reply) noexcept {
  await_state a = extras_->await;
  extras_->await = {};
  end_await_marks();
  try {
    a.accept(a.awaiter, reply);
  } catch (...) {
    // Moving the reply out threw: the awaiting handler cannot go on.
    record_crash(telemetry::detail::what_of(std::current_exception()));
    a.handle.destroy();
    if (extras_->observed_await) [[unlikely]]
      emit_handler_end(std::move(*std::exchange(extras_->observed_await, nullptr)));
    after_handler();
    return;
  }
  a.handle.resume();  // exceptions inside the task end in its promise (task.hpp)
  // The handler ran again: the actor's idle time counts from here, not from the await's start.
  if (idle_watch_) [[unlikely]] note_activity(1);
  if (extras_->observed_await && !awaiting()) [[unlikely]]  // an observed task handler completed
    emit_handler_end(std::move(*std::exchange(extras_->observed_await, nullptr)));
  after_handler();
}

// -- exit ------------------------------------------------------------------------------------

void actor_cell::begin_exit(exit_reason why) noexcept {
  if (phase_ == phase::stopping || phase_ == phase::finished) return;
  phase_ = phase::stopping;
  // A normal exit of an actor without extras needs none: finish reads a missing reason as normal.
  if (!why.is_normal() || extras_) more().reason = std::move(why);
  if (telemetry::any_handlers() && stop_observed()) [[unlikely]] {
    extras& x = more();
    x.stop_began = telemetry::detail::now_seconds();
    std::size_t n = 0;
    for (actor_cell* c = x.first_child; c != nullptr; c = c->sibling_next_) ++n;
    x.children_at_stop = n;
  }
  stop_youngest_child();
}

void actor_cell::deliver_stop() noexcept {
  deliver_system(make_envelope<exit_reason>(envelope_kind::stop, exit_reason::normal()));
}

void actor_cell::deliver_stop(exit_reason why) noexcept {
  deliver_system(make_envelope<exit_reason>(envelope_kind::stop, std::move(why)));
}

void actor_cell::stop_youngest_child() noexcept {
  if (!has_children()) return;
  actor_cell* child = extras_->last_child;
  if (extras_->stopping_child == child) return;  // already asked; waiting for its report
  extras_->stopping_child = child;
  // shutdown, not normal: a child ended from above did not choose to end, and as in Erlang
  // (where a supervisor's children get `shutdown`) the actors linked to it end with it.
  child->deliver_stop(exit_reason::shutdown());
}

void actor_cell::on_child_exit(internal::child_exit& c) noexcept {
  extras& x = more();
  actor_cell* child = c.child;
  (child->sibling_prev_ != nullptr ? child->sibling_prev_->sibling_next_ : x.first_child) = child->sibling_next_;
  (child->sibling_next_ != nullptr ? child->sibling_next_->sibling_prev_ : x.last_child) = child->sibling_prev_;
  child->sibling_prev_ = child->sibling_next_ = nullptr;
  children_count_.fetch_sub(1, std::memory_order_relaxed);
  if (x.stopping_child == child) x.stopping_child = nullptr;
  // A parent that wants to act on a child's end watches it (supervisors do): here the exit
  // updates the tree, and notes the reason in those watches, for one the child refuses.
  if (!x.watching.empty()) [[unlikely]] note_child_end(child, c.reason);
  child->release();  // the list's reference
  if (phase_ == phase::stopping) stop_youngest_child();
}

void actor_cell::finish() noexcept {
  exit_reason reason = extras_ ? std::move(extras_->reason) : exit_reason{};
  if (paused()) extras_->await = {};  // a pause has no task to end
  if (awaiting()) {
    end_await_marks();
    std::coroutine_handle<> h = extras_->await.handle;
    extras_->await = {};
    h.destroy();  // its promise answers its caller with actor_not_found
  }
  if (extras_) {
    cancel_all_timers();
    if (idle_watch_) set_idle_timeout(std::chrono::milliseconds(0));
    extras_->stash.drain([](envelope* e) { free_envelope(e); });  // stashed calls: actor_not_found
  }
  run_terminate(reason);
  if (telemetry::any_handlers() && stop_observed()) [[unlikely]] {
    try {
      const double began = extras_ && extras_->stop_began != 0 ? extras_->stop_began : telemetry::detail::now_seconds();
      emit(telemetry::events::actor_stop_stop, {{"duration_ms", telemetry::detail::elapsed_ms(began)}},
           {{"actor_id", std::to_string(id_)},
            {"node_id", sys_->config.node_id},
            {"name", extras_ ? extras_->name : std::string()},
            {"reason", reason.to_string()},
            {"children_stopped", std::to_string(extras_ ? extras_->children_at_stop : 0)}});
    } catch (...) {
    }
  }
  // The name is free before watchers hear of the end, so a supervisor restarting the actor
  // under the same name finds it available.
  if (extras_ && !extras_->name.empty()) free_name();
  // Out of the registry before watchers hear of the end, so one that counts the actors then
  // no longer counts this one; and before the impl and the extras go, since introspection
  // reads the type and the name under the registry's lock.
  sys_->registry.remove(this);
  // Dead before anyone hears of the end, as in Erlang (is_process_alive is false once a DOWN
  // arrives): a watcher run on another worker while this one still told the rest read its ref
  // as alive. Senders from here on drop what they send; what is queued is freed below (C-I3).
  // Still the consumer: the role is given up only by drain_dead.
  dead_.store(true, std::memory_order_release);
  tell_watchers_and_links(reason);
  phase_ = phase::finished;
  type_->destroy(impl());
  if (extras_) extras_->states.clear();
  while (envelope* e = next_ordinary()) free_envelope(e);  // deferred ones (mailbox: drain_dead)
  EAM_ASSERT(deferred_.empty(), "C-I3: every set-aside call is answered before the consumer role is given up");
  if (parent_ != nullptr) {
    parent_->deliver_system(make_envelope<internal::child_exit>(envelope_kind::child_exited,
                                                                internal::child_exit{this, std::move(reason)}));
    detail::release_cell(parent_);
  }
  extras_.reset();
  internal::local_outbox().end_handler();  // the downs above leave now, not after some later handler
  drain_dead();  // gives up the consumer role for good
}

void actor_cell::free_name() noexcept {
  // Only while the registry still lists it under this cell (a relay freed it already).
  if (!sys_->registry.unregister_name(extras_->name, this)) return;
  if (const auto extension = sys_->registry.extension()) {
    try {
      extension->unregistered(extras_->name, id_);
    } catch (...) {  // an extension's failure never stops an actor from ending or moving
    }
  }
}

void actor_cell::run_terminate(exit_reason& reason) noexcept {
  if (extras_ && extras_->init_failed) return;  // as in OTP: terminate follows a successful init only
  if (extras_ && extras_->moved_away) return;   // it lives on elsewhere (migration.hpp)
  try {
    if (extras_ && extras_->on_terminate) extras_->on_terminate(reason);
    type_->terminate(impl(), reason);
  } catch (...) {
    // The actor ends with this error instead; watchers, links and the parent hear it.
    std::string what = telemetry::detail::what_of(std::current_exception());
    try {
      crash_log().error("actor {} ({}) crashed in terminate: {}", id_, short_type_label(type_->name), what);
    } catch (...) {
    }
    reason = exit_reason::crashed(std::move(what));
  }
}

// -- the actor's own handlers ------------------------------------------------------------------

void actor_cell::add_child(actor_cell* child) noexcept {
  children_count_.fetch_add(1, std::memory_order_relaxed);
  extras& x = more();
  child->sibling_prev_ = x.last_child;
  (x.last_child != nullptr ? x.last_child->sibling_next_ : x.first_child) = child;
  x.last_child = child;
  child->reports_init_ = x.on_child_init != nullptr;  // before the child is scheduled
}

void actor_cell::set_child_init_handler(std::function<void(const actor_ref&)> h) {
  more().on_child_init = h ? std::make_unique<std::function<void(const actor_ref&)>>(std::move(h)) : nullptr;
}

void actor_cell::report_init() noexcept {
  try {
    parent_->deliver_system(
        make_envelope<internal::child_init_report>(envelope_kind::child_init, internal::child_init_report{this}));
  } catch (...) {
    // Out of memory: the parent learns of the start from whatever else it watches.
  }
}

void actor_cell::on_child_init(actor_cell* child) noexcept {
  // A report that finds the parent stopping, or without a handler any more, is dropped.
  if (phase_ != phase::running || !extras_ || !extras_->on_child_init) return;
  child->add_ref();
  const actor_ref ref(child, adopt_t{});
  try {
    (*extras_->on_child_init)(ref);
  } catch (...) {
    record_crash(telemetry::detail::what_of(std::current_exception()));
  }
  after_handler();
}

std::vector<actor_ref> actor_cell::children() const {
  std::vector<actor_ref> out;
  for (actor_cell* c = extras_ ? extras_->first_child : nullptr; c != nullptr; c = c->sibling_next_) {
    c->add_ref();
    out.emplace_back(c, adopt_t{});
  }
  return out;
}

void actor_cell::adopt_state(std::unique_ptr<actor_context::state_base> s) { more().states.push_back(std::move(s)); }

void actor_cell::set_name(std::string name) {
  more().name = std::move(name);
  named_ = true;
}

void actor_cell::set_terminate_handler(std::function<void(const exit_reason&)> h) { more().on_terminate = std::move(h); }

actor_info actor_cell::info() const {
  actor_info i;
  i.id = id_;
  // The worker may create extras_ at any time (make_state, watch...); only a spawn name, set
  // before the cell was published and kept until it leaves the registry, is safe to read here.
  if (named_) i.name = extras_->name;
  i.type = std::string(short_type_label(type_->name));
  i.parent_id = parent_ != nullptr ? parent_->id() : 0;
  i.children = children_count_.load(std::memory_order_relaxed);
  i.idle = mailbox_.is_marked_empty();
  i.mailbox_length = mailbox_length();
  if (!i.mailbox_length && i.idle) i.mailbox_length = 0;  // idle with nothing queued: surely empty
  return i;
}

}  // namespace eam::detail
