#pragma once
// outbox: coalesces the ordinary messages one handler sends to the same actor in a row into a
// chain pushed with one exchange (mailbox push_chain), instead of one exchange each.
//
// Why: in a fan-in, every push is an exchange on the receiver's head cache line, which the
// other cores' pushes and the receiver's pops keep pulling away; a chain of 64 pays that once.
// The first message to a target still goes out at once (nothing is delayed for the common
// one-message handler, e.g. ping-pong); only from the second message to the same target in a
// row does a chain start, and every chain is pushed when the target changes, when it reaches
// max_chain, and when the handler returns (actor_cell::after_handler). Per-sender FIFO holds:
// messages to one target leave in the order they were sent, in at most one pending chain.
//
// It also notes the first overloaded actor the turn sends to (mute_table.hpp), when it
// changes target: the receiver's flag sits beside the dead flag the send has just read.
//
// Owned by one worker thread (thread_local), used only inside an actor's turn.
#include "tls.hpp"

#include <eam/engine/detail/envelope.hpp>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;
using detail::envelope;

class outbox {
 public:
  /// Sends `e` to `target` now or as part of a chain. The caller holds a reference to target.
  void send(actor_cell* target, envelope* e) noexcept;
  /// Pushes the pending chain, if any.
  void flush() noexcept {
    if (chain_target_ != nullptr) push_chain();
  }
  /// Pushes the pending chain and forgets the last target: the handler is done.
  void end_handler() noexcept {
    flush();
    last_direct_ = nullptr;
  }
  /// Messages sent in this turn so far (a turn's budget counts them too: actor_cell::run_turn).
  [[nodiscard]] unsigned sent_this_turn() const noexcept { return sent_; }
  /// Called by the worker after every turn: forgets the turn's send count, and returns the
  /// first overloaded actor it sent to (mute_table.hpp), counted, or null.
  actor_cell* end_turn() noexcept {
    sent_ = 0;
    actor_cell* p = pressure_;
    if (p != nullptr) pressure_ = nullptr;
    return p;
  }

 private:
  void push_chain() noexcept;
  [[gnu::noinline, gnu::cold]] void note_pressure(actor_cell* target) noexcept;

  static constexpr unsigned max_chain = 64;
  actor_cell* last_direct_ = nullptr;   // compared, never dereferenced: may be gone by now
  actor_cell* chain_target_ = nullptr;  // counted while its chain is pending
  actor_cell* pressure_ = nullptr;      // counted until the worker takes it
  unsigned sent_ = 0;                   // in this turn
  envelope* first_ = nullptr;
  envelope* last_ = nullptr;
  unsigned length_ = 0;
};

/// The outbox of the calling worker thread.
extern EAM_TLS outbox tls_outbox;
inline outbox& local_outbox() noexcept { return tls_outbox; }

}  // namespace eam::internal
