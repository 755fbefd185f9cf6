#pragma once
// held_call_timeouts: the timeouts of calls awaited inside actors, held back by the worker that
// armed them and given to the timer service only for calls still unanswered a moment later.
//
// Why: nearly every call inside an actor is answered within microseconds, yet arming its
// timeout in the timer service (a clock read, an allocation, the service's mutex, a heap push,
// then a cancel of three atomic updates and a free) took 40 % of calls-inside's samples on one
// worker, and the mutex was shared by all workers. Held here, a call answered before the
// hand-over costs a look into this worker's index and one exchange on the caller's cell: an
// actor awaits one call at a time, so a new call of an actor already held replaces its entry
// (found through a small index by address; a collision only adds an entry), and the holder
// keeps about one reference per actor, not one per call.
//
// The handshake with the awaiting cell is one atomic word of the cell (actor_cell::
// await_timeout_): held_tag(id) while the call's timeout is held here, the timer entry once
// armed, 0 when none is pending. Its orderings: actor_cell::hand_over_timeout. Request ids never
// repeat within a cell, so a tag names one call.
//
// When: the owner looks at what it holds at the epoch check (every few dozen turns) once the last
// marking look is hold_window old, and whenever it goes idle. A look drops the entries of calls
// already answered, and marks those still awaited; it arms only a call that a marking look before
// it found awaited, so a call is armed after waiting at least hold_window. An idle look marks only
// once hold_window has passed since the last: a worker idles between its actors' calls, and on 2
// workers concurrent-dictionary's went idle often enough that arming what it held at each idle
// moment armed 380 to 7,000 timers in a run of 25-45 ms (about 370 to 480 on one worker, from the
// epoch checks), nearly all cancelled microseconds later; looks arm none there now but what waited
// a millisecond. A full array is looked at too, and a call that still finds it full (a thousand
// calls awaited at once) arms its own timeout, as do the calls after it until the next look. A
// worker that rests looks as one that goes idle (after a probe, the second worker armed 30-40 a run
// of what its actors awaited); it hands everything over before its thread ends. An owner stuck in
// one long handler, asleep or resting, or whose turns are long, does not look: the timer thread
// looks every timer_service::watch_interval while anything is held, and hands over for a holder
// whose last marking look (or first entry) is a whole interval old (the rescue). A worker that
// parks while it holds wakes when a look is due (look_due_in_us) and hands everything over:
// left to the rescue, an awaited timeout on an idle system fired about 5 ms late. The deadline
// is taken at the hand-over (its clock read plus the call's timeout), so a held timeout never
// fires early; it fires late by the time it was held: one hold_window on a worker that sleeps,
// one to two while it handles short messages, at most about two watch intervals (10 ms) behind
// a long handler or on a resting worker.
// Timeouts shorter than shortest_held are armed at once, with the clock read at the call.
//
// Sharing: the owner alone adds; a rescuer only hands over. They exclude each other with a
// Dekker handshake where the owner pays no atomic read-modify-write (asymmetric_fence.hpp):
//   [H1] owner, around each access: busy_ = true (relaxed); fence; load rescuing_ (acquire).
//        Seen set: busy_ = false (release), wait until rescuing_ is clear (acquire), retry.
//        After the access: busy_ = false (release), publishing the entries to [H2].
//   [H2] rescuer: rescuing_ false -> true (CAS, acquire: after the last rescuer's hand-over);
//        heavy fence; load busy_ (acquire). Seen set: clear rescuing_ and leave (the owner is
//        at work, not stuck). Else hand over, then clear rescuing_ (release, to [H1]).
// Either the owner sees rescuing_ or the rescuer sees busy_, so they never touch the entries at
// once. Without heavy fences (asymmetric_fence.hpp) both sides issue full fences.
#include <eam/engine/detail/tls.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

class timer_service;
using detail::actor_cell;

/// What a look does with one held entry (held_call_timeouts::look): drop it (its call was
/// answered), arm its timeout (a marking look found this very call awaited before), or keep it,
/// marked at a marking look.
enum class held_fate { drop, arm, keep };
constexpr held_fate fate_at_look(bool still_awaited, bool awaited_at_last_mark, bool marking) noexcept {
  if (!still_awaited) return held_fate::drop;
  return marking && awaited_at_last_mark ? held_fate::arm : held_fate::keep;
}

class held_call_timeouts {
 public:
  using clock = std::chrono::steady_clock;
  /// Calls awaited with a shorter timeout arm it in the timer service at once.
  static constexpr std::chrono::milliseconds shortest_held{20};
  /// How long the oldest entry is held before the next epoch check hands everything over.
  static constexpr std::chrono::microseconds hold_window{1'000};

  /// `asymmetric_fences`: whether heavy fences are enabled (enable_asymmetric_fences).
  explicit held_call_timeouts(bool asymmetric_fences) : asymmetric_fences_(asymmetric_fences) { entries_.reserve(capacity); }
  held_call_timeouts(const held_call_timeouts&) = delete;
  held_call_timeouts& operator=(const held_call_timeouts&) = delete;
  /// Gives back the references of what is still held, without arming (the worker hands
  /// everything over before its thread ends; only a hand-over out of memory leaves anything).
  ~held_call_timeouts();

  // -- the owner (its worker thread) --------------------------------------------------------
  /// Holds the timeout of `cell`'s call `request_id`, whose tag the caller has stored in the
  /// cell. False when the array stays full (the timer service is out of memory): the caller
  /// arms the timeout itself.
  bool hold(actor_cell* cell, std::uint64_t request_id, std::chrono::milliseconds timeout) noexcept {
    owner_enter();
    bool held = true;
    std::uint16_t& at = index_[slot_of(cell)];
    if (at != 0 && entries_[at - 1].cell == cell) {  // its earlier call has ended: this one replaces it
      entries_[at - 1].request_id = request_id;
      entries_[at - 1].timeout = timeout;
      entries_[at - 1].awaited_at_last_mark = false;
    } else {
      held = add(at, cell, request_id, timeout);
    }
    owner_exit();
    return held;
  }
  /// Looks (a marking look) if the last marking look, or the first entry since, is hold_window
  /// old (reads the clock only while something is held).
  void look_if_due() noexcept {
    if (holding_.load(std::memory_order_relaxed) && clock::now() - held_since_.load(std::memory_order_relaxed) >= hold_window)
      look_as_owner(false);
  }
  /// Microseconds until look_if_due would look (0 when it would now), or -1 when nothing is
  /// held: a worker that sleeps while holding wakes then to hand over (worker::park).
  [[nodiscard]] std::int64_t look_due_in_us() const noexcept {
    if (!holding_.load(std::memory_order_relaxed)) return -1;
    const clock::duration left = held_since_.load(std::memory_order_relaxed) + hold_window - clock::now();
    if (left <= clock::duration::zero()) return 0;
    return std::chrono::ceil<std::chrono::microseconds>(left).count();
  }
  /// Drops what was answered; arms, and marks, as fate_at_look says (marking once hold_window
  /// has passed since the last marking look). For a worker going idle.
  void look() noexcept {
    if (holding_.load(std::memory_order_relaxed)) look_as_owner(false);
  }
  /// Arms the timeouts of the calls still awaited, drops the rest, and gives back the references.
  void hand_over() noexcept {
    if (holding_.load(std::memory_order_relaxed)) look_as_owner(true);
  }

  // -- any other thread ---------------------------------------------------------------------
  /// Hands over for an owner that has not for too long; does nothing while the owner is adding
  /// or handing over itself (then it is at work, and hands over soon).
  void rescue() noexcept;
  /// Hints (relaxed): whether anything is held, and whether for at least `d` at `now`.
  [[nodiscard]] bool holding() const noexcept { return holding_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool held_for_at_least(clock::duration d, clock::time_point now) const noexcept {
    return holding() && now - held_since_.load(std::memory_order_relaxed) >= d;
  }
  /// The timer service that looks at this holder (timer_service::watch), told when it starts holding.
  void watched_by(timer_service* t) noexcept { watcher_ = t; }

 private:
  struct entry {
    actor_cell* cell;  // counted until handed over
    std::uint64_t request_id;
    std::chrono::milliseconds timeout;
    bool awaited_at_last_mark;  // this call was awaited at the last marking look
  };
  static constexpr std::size_t capacity = 1024;  // entries_ never grows past it (positions fit index_)
  // Slots of the index: a worker that runs a thousand awaiting actors finds most of them there,
  // so that their next calls replace their entries. With 64 slots, a thousand clients of one
  // dictionary (concurrent-dictionary at clients 1000) collided in most, each call added an
  // entry, the array filled every thousand calls, and arming what it held then armed 141,000
  // timers for 200,000 calls (2 KiB per worker now).
  static constexpr unsigned index_size = 1024;

  // Cells are blocks of 192 bytes or more: the low 6 bits say nothing (as deferred_releases).
  static unsigned slot_of(const actor_cell* c) noexcept {
    return static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(c) >> 6) % index_size;
  }
  void owner_enter() noexcept;  // [H1]
  void owner_exit() noexcept { busy_.store(false, std::memory_order_release); }
  bool add(std::uint16_t& at, actor_cell* cell, std::uint64_t request_id, std::chrono::milliseconds timeout) noexcept;
  [[gnu::noinline]] void look_as_owner(bool hand_over_all) noexcept;
  /// A look (fate_at_look), or with `hand_over_all` the hand-over of everything still awaited.
  /// By whoever excludes the other side (the owner, or a rescuer).
  void look_held(bool hand_over_all) noexcept;

  const bool asymmetric_fences_;
  timer_service* watcher_ = nullptr;  // set before the owner holds anything
  // -- guarded by the handshake ---------------------------------------------------------------
  std::vector<entry> entries_;         // in arming order
  std::uint16_t index_[index_size]{};  // position + 1 in entries_ of the last cell held per slot, or 0
  bool full_after_look_ = false;       // the last look left the array full: adds hold nothing until the next
  // -- shared ----------------------------------------------------------------------------------
  std::atomic<bool> busy_{false};       // [H1]
  std::atomic<bool> rescuing_{false};   // [H2]
  std::atomic<bool> holding_{false};    // entries_ is not empty (set seq_cst: timer_service::looking_)
  // The last marking look, or the first entry added since the holder last held nothing
  // (relaxed: a hint).
  std::atomic<clock::time_point> held_since_{};
};

/// The calling worker thread's, or null on any other thread.
extern constinit EAM_TLS held_call_timeouts* tls_held_call_timeouts;

}  // namespace eam::internal
