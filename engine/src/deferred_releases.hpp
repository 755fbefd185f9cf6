#pragma once
// deferred_releases: the references to actors that a worker thread drops (an actor_ref's
// destructor), held back and given back to each actor in one subtraction, and taken back instead
// of a new increment when the thread copies a ref to an actor it still holds some for.
//
// Why: a reference count is one atomic word in the actor's first cache line, beside the flag
// every sender reads. Messages that carry refs (a reply-to, a teller, a destination) copy them
// and drop them at every hop: bank-transaction's accounts made four atomic updates of the
// teller's count per transfer, each moving the line from the core that ran the teller to the one
// that ran the accounts and back. Held back, a worker that copies and drops the same ref in turn
// (an actor handling a run of such messages) touches the count once per run.
//
// Correctness: a held release only keeps the count above the number of live references, so no
// actor is freed early (a reserved reference, counted before any copy takes it, is one more
// such release); the count reaches zero only when every reference is gone and no thread
// holds a release back (count = live references + releases held). Taking a held release back for
// a copy leaves both the count and that sum as they are. The subtraction that reaches zero is
// acq_rel as before (actor_cell::release_many), so each holder's accesses happen before the free.
// What is held is given back when another actor needs the slot, when the worker goes idle, every
// few dozen turns (worker::give_back_interval) and when its thread ends: an unreferenced
// actor's memory (its state was destroyed when it finished) is freed a little later, at most
// slot_count actors per worker.
//
// Owned by one worker thread (tls_deferred_releases); other threads release at once.
#include <eam/engine/detail/tls.hpp>

#include <cstdint>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;

class deferred_releases {
 public:
  deferred_releases() = default;
  deferred_releases(const deferred_releases&) = delete;
  deferred_releases& operator=(const deferred_releases&) = delete;

  /// Takes back one release held for `c`, for a new reference the caller makes: false when none
  /// is held (the caller increments the count).
  bool take_back(const actor_cell* c) noexcept {
    slot& s = slots_[slot_of(c)];
    if (s.cell != c || s.count == 0) return false;
    --s.count;
    return true;
  }
  /// After a take_back that found none: how many references the caller should count beyond its
  /// own and leave held here. 0 the first time the slot meets `c` (it only notes `c`); when the
  /// slot noted `c` already and holds nothing, reserve_batch: a worker that copies the same ref
  /// again and again (a teller putting its own ref in every order, a creator giving each child
  /// the collector's) then writes the count's line once per batch instead of once per copy,
  /// and that line is the one the actor's senders read. What is reserved and not used is given
  /// back as a held release is.
  ///
  /// A slot holding another actor's releases gives them back to note `c`: they would be given
  /// back in one subtraction anyway, later. Left there, the release of one short-lived actor
  /// (a child its creator dropped the ref of) would keep the slot until another one hashed
  /// there: a creator spawning 40,000 children in one turn counted every copy of its own and
  /// the collector's ref, each a write to a line the worker running the children also wrote.
  std::uint32_t reserve(actor_cell* c) noexcept {
    const unsigned i = slot_of(c);
    slot& s = slots_[i];
    if (s.cell != c) {
      if (s.count != 0)
        evict(s, c, 0);  // notes c before the releases go: giving them may come back here
      else
        s.cell = c;
      return 0;
    }
    s.count = reserve_batch;
    pending_ |= std::uint64_t{1} << i;
    return reserve_batch;
  }
  /// Holds back the release of one reference to `c`.
  void hold(actor_cell* c) noexcept {
    const unsigned i = slot_of(c);
    slot& s = slots_[i];
    pending_ |= std::uint64_t{1} << i;
    if (s.cell == c || s.count == 0) {
      s.cell = c;
      ++s.count;
      return;
    }
    evict(s, c, 1);
  }
  /// Gives every held release back.
  void give_back_all() noexcept {
    if (pending_ != 0) give_back_pending();
  }

  static constexpr unsigned slot_count = 64;  // pending_ has a bit per slot

  /// The slot of `c` (public for tests). Cells are whole cache lines, so the low 6 bits say
  /// nothing; the next 6 are folded in from above, since neighbours of 256 bytes step the line
  /// number by 4 and alone would use a quarter of the slots. No load of the cell: the point is
  /// not to touch its line.
  static unsigned slot_of(const actor_cell* c) noexcept {
    const std::uintptr_t line = reinterpret_cast<std::uintptr_t>(c) >> 6;
    return static_cast<unsigned>(line ^ (line >> 6)) % slot_count;
  }

 private:
  struct slot {
    actor_cell* cell = nullptr;  // referenced while count != 0; otherwise only compared
    std::uint32_t count = 0;     // releases held for cell
  };
  static constexpr std::uint32_t reserve_batch = 32;

  // Gives back what the slot holds for another cell and holds `held` releases of `c` there instead.
  [[gnu::noinline]] void evict(slot& s, actor_cell* c, std::uint32_t held) noexcept;
  [[gnu::noinline]] void give_back_pending() noexcept;

  slot slots_[slot_count];
  std::uint64_t pending_ = 0;  // bit i: slots_[i] may hold releases
};

/// The calling worker thread's, or null on any other thread.
extern constinit EAM_TLS deferred_releases* tls_deferred_releases;

}  // namespace eam::internal
