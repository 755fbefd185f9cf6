#pragma once
// outbox: coalesces the ordinary messages one handler sends to the same actor into chains,
// each pushed with one exchange (mailbox push_chain), instead of one exchange each.
//
// Why: every push is an exchange on the receiver's head cache line, and the push that finds the
// receiver idle also schedules it; when another worker runs the receiver, that is a wake-up, a
// steal and a one-message turn for every message. A chain of 64 pays that once. Fan-in pays it
// on the receiver's line; a driver casting round robin to many actors (fork-join) pays it once
// per message per receiver, so chains are kept for up to slot_count targets at once, not only
// for the last one.
//
// The first message a handler sends to a target still goes out at once (nothing is delayed for
// the common one-message handler, e.g. ping-pong); from the second message to that target in the
// same handler a chain starts in the target's slot. A chain is pushed when it reaches
// max_chain, when another target's message needs its slot, and when the handler returns
// (actor_cell::after_handler) or the turn ends.
//
// A forwarder may hold sends back on this thread the same way (forwarding.hpp,
// release_when_handler_ends: the cluster batches a handler's casts to one node); the outbox runs
// their release where it pushes its chains, so they leave at the same points.
//
// Order: a target has at most one pending chain (its slot is a function of its id), and a
// message to it goes out directly only while it has none, so messages from one sender to one
// receiver leave in the order they were sent. Messages a handler sends to different receivers
// may arrive in another order than they were sent: the same guarantee as Erlang's, pairwise only.
//
// It also notes the first overloaded actor the turn sends to (mute_table.hpp), when a message
// does not join a pending chain: the receiver's flag sits beside the dead flag the send has read.
//
// Owned by one worker thread (thread_local), used only inside an actor's turn.
#include <eam/engine/detail/tls.hpp>
#include "actor_ids.hpp"

#include <eam/engine/detail/envelope.hpp>

#include <cstdint>

namespace eam {
class held_sends;
}
namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;
using detail::envelope;

class outbox {
 public:
  /// Sends `e` to `target` now or as part of a chain. The caller holds a reference to target.
  [[gnu::always_inline]] inline void send(actor_cell* target, envelope* e) noexcept;
  /// Pushes every pending chain and releases what forwarders hold.
  void flush() noexcept {
    if ((pending_ | held_count_) != 0) push_all();
  }
  /// Releases `h` at the next flush. False when max_held others wait already.
  bool hold(held_sends& h) noexcept;
  /// Differs between two handlers that run one after the other here (forwarding.hpp,
  /// handler_number); a turn's end counts as a handler's.
  [[nodiscard]] std::uint32_t handler_number() const noexcept { return handler_; }
  /// Pushes every pending chain and forgets which targets this handler sent to: the handler is done.
  void end_handler() noexcept {
    flush();
    ++handler_;
  }
  /// Messages sent in this turn so far (a turn's budget counts them too: actor_cell::run_turn).
  [[nodiscard]] unsigned sent_this_turn() const noexcept { return sent_; }
  /// Called by the worker after every turn: pushes what system messages' effects sent outside
  /// a handler, forgets the turn's send count, and returns the first overloaded actor it sent
  /// to (mute_table.hpp), counted, or null.
  actor_cell* end_turn() noexcept {
    flush();
    ++handler_;  // what system messages sent after the last handler is not the next actor's
    sent_ = 0;
    actor_cell* p = pressure_;
    if (p != nullptr) pressure_ = nullptr;
    return p;
  }

 private:
  // One target's place: the target this handler last sent to through it, and its chain if any.
  struct slot {
    actor_cell* target = nullptr;  // counted while length != 0; otherwise compared, never dereferenced
    envelope* first = nullptr;
    envelope* last = nullptr;
    std::uint32_t length = 0;   // messages in the pending chain; 0: none pending
    std::uint32_t handler = 0;  // the handler_ that last sent to target through this slot
  };
  static constexpr unsigned slot_count = 64;  // pending_ has a bit per slot
  static_assert(slot_count == actor_id_block, "slot_of relies on a thread's ids in a row filling the slots");
  static constexpr unsigned max_chain = 64;

  /// By the target's id: a thread hands out ids in a row from aligned blocks of
  /// actor_id_block, slot_count ids each, so a pool of actors one thread spawned together
  /// (the common fan-out) gets as many distinct slots as it has members, up to slot_count.
  /// The id sits 40 bytes before the bounded-mailbox pointer the send has just read, usually
  /// on the same cache line.
  static unsigned slot_of(const actor_cell* target) noexcept;

  [[gnu::noinline]] void send_rarely(unsigned index, actor_cell* target, envelope* e) noexcept;
  void push(unsigned index) noexcept;
  [[gnu::noinline]] void push_all() noexcept;
  void release_held() noexcept;
  void note_pressure(actor_cell* target) noexcept;

  slot slots_[slot_count];
  std::uint64_t pending_ = 0;   // bit i: slots_[i] holds a chain
  std::uint32_t handler_ = 1;   // counts handlers, so that slots need no clearing between them
  unsigned sent_ = 0;           // in this turn
  actor_cell* pressure_ = nullptr;  // counted until the worker takes it
  // A handler that sends to actors on more nodes than this sends to the rest at once.
  static constexpr unsigned max_held = 4;
  held_sends* held_[max_held] = {};
  std::uint64_t held_count_ = 0;  // 64 bits: flush ORs it with pending_
};

/// The outbox of the calling worker thread.
extern EAM_TLS outbox tls_outbox;
inline outbox& local_outbox() noexcept { return tls_outbox; }

}  // namespace eam::internal
