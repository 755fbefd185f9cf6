#pragma once
// mute_table: back-pressure between actors, after Pony's muting (ponyc, "backpressure").
//
// Why: a turn budget is fair per actor, so a receiver fed by many busy senders gets one turn
// in (senders + 1) and its mailbox grows for as long as they send. A fan-in of 20 senders kept
// all 20 M messages queued at once (1.2 GB), and most of its time went to the kernel
// faulting in and zeroing the pages of envelopes that waited.
//
// The rule:
//   - an actor is overloaded while its turns end with its budget spent and a backlog (more
//     than one message left: an actor that only re-sends itself its next step is busy, not
//     behind); it stops being so when a turn of its ends with its mailbox empty, or without a
//     backlog, or when it ends (actor_cell::overloaded_);
//   - an actor whose turn sent to an overloaded actor and ended with its budget spent (it has
//     more to do, so more to send) is muted: instead of going back to a run queue it is parked
//     here under that receiver, and the receiver puts it back in a run queue when it stops
//     being overloaded. It keeps its consumer role while parked: messages sent to it queue up
//     and do not schedule it;
//   - an actor that others are parked under is never muted, nor an actor on itself. An actor
//     behind on its own mailbox may be: a relay that is behind and buries its receiver would
//     otherwise move its whole backlog into that receiver's mailbox (sleeping-barber's
//     factory, behind on returned customers, buried the waiting room, and every one of the
//     barber's next_please messages waited behind all the retries in flight).
//
// Deadlock freedom and progress: only an actor with nobody parked under it is parked, so the
// parked-under relation has no cycle (closing one would park an actor that a chain of parked
// actors waits on) and every chain ends at a receiver that is not parked. That receiver is
// overloaded (nobody is parked under an actor that is not, and only release() clears the
// flag, letting all of them go), so its turn ended with a backlog and it is in a run queue or
// running. Its parked senders send it nothing more; while it has them it cannot be parked
// itself, so it runs until its backlog drains, and every path on which it stops being
// overloaded lets them go (actor_cell::let_muted_go), each the root of its own chain now.
// Like Pony's, a receiver that never catches up (fed by threads outside the pool, say) keeps
// the actors it muted waiting, and those waiting on them.
//
// Cost: nothing per message. A sender reads the receiver's overloaded flag when it changes
// target (beside the dead flag it has just read); the lock is taken only by a turn that spent
// its budget after sending to an overloaded actor, and by a receiver that stops being
// overloaded. One lock for the system: mutes come at most once per turn of a sender that
// spent its budget.
#include <mutex>
#include <unordered_map>
#include <vector>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;

class mute_table {
 public:
  mute_table() = default;
  ~mute_table();
  mute_table(const mute_table&) = delete;
  mute_table& operator=(const mute_table&) = delete;

  /// Parks `sender` (whose turn just ended with its budget spent; the caller holds its consumer
  /// role) under `receiver`, unless the rule above says no. True when parked: the caller hands
  /// the consumer role over to this table and must not schedule the sender.
  bool mute(actor_cell* sender, actor_cell* receiver) noexcept;

  /// Clears `receiver`'s overloaded flag and moves the senders parked under it to `out` (each
  /// with its consumer role, to be scheduled by the caller). Called by the receiver's consumer.
  void release(actor_cell* receiver, std::vector<actor_cell*>& out) noexcept;

 private:
  std::mutex lock_;
  std::unordered_map<actor_cell*, std::vector<actor_cell*>> parked_;  // receiver -> muted senders
};

}  // namespace eam::internal
