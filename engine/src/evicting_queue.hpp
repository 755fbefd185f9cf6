#pragma once
// evicting_queue: a drop_oldest mailbox's queue (actor_cell::bounded_mailbox), FIFO, from which
// a full mailbox takes its oldest *counted* message to make room for a newer one. Info
// messages (downs, trapped exit signals, idle timeouts: envelope::uncounted) are never
// evicted, so they stay at the front while evictions take the counted ones behind them.
//
// Why a cursor: a search from the head walked that whole run of infos for every eviction. An
// actor watching 64,000 actors that ended while it was busy paid 135 us a cast past its bound
// (16,900 at 8,000; it did not finish at 512,000). The cursor marks the end of a run of infos
// known to start the queue; an eviction looks on from there and moves it forward, and only a
// pop can take an envelope out of that run, so each envelope is passed over at most once while
// it is queued.
//
// Not thread-safe: the holder of the bounded mailbox's lock owns it (as envelope_list).
#include "envelope_list.hpp"

namespace eam::internal {

class evicting_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return list_.empty(); }
  void push_back(envelope* e) noexcept { list_.push_back(e); }
  envelope* pop_front() noexcept {
    envelope* e = list_.pop_front();
    if (e == infos_end_) infos_end_ = nullptr;  // the run of infos is gone with its last one
    return e;
  }
  /// Unlinks and returns the oldest envelope that is not an info, or null when there is none.
  envelope* take_oldest_counted() noexcept {
    envelope* before = infos_end_;
    envelope* e = before != nullptr ? envelope_list::next_of(before) : list_.front();
    while (e != nullptr && (e->flags & envelope::uncounted) != 0) {
      before = e;
      e = envelope_list::next_of(e);
    }
    infos_end_ = before;  // every envelope up to here is an info
    if (e != nullptr) list_.remove_after(before);
    return e;
  }

 private:
  envelope_list list_;
  envelope* infos_end_ = nullptr;  // the last of the infos that start the queue; null: none known
};

}  // namespace eam::internal
