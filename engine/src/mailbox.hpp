#pragma once
// mailbox: an intrusive MPSC queue of envelopes whose empty -> non-empty transition tells the
// pushing thread to schedule the owner, so an actor is scheduled exactly once per wake-up.
//
// Design: Dmitry Vyukov's intrusive node-based MPSC queue (1024cores.net, "Intrusive MPSC
// node-based queue"), with the "empty" bit on head borrowed from Pony's actor message queue
// (ponyc src/libponyrt/actor/messageq.c). One atomic exchange per push, no CAS loop, no lock.
//
// Shared:  head_  producers exchange it. Tag bits (nodes are 8-aligned):
//                 empty_bit   "idle, nothing queued, nobody consumes": whoever clears it owns
//                             the consumer role. Set by the consumer's CAS [M4].
//                 system_bit  "a system message was queued in the actor's other queue": set
//                             by system senders [M5] so the consumer's [M4] CAS fails and it
//                             looks at that queue before going idle.
//          node->next  written once by the producer that linked the node, read by the consumer.
// Consumer only: tail_, stub_ (re-linked by the consumer when the queue runs dry), spent_.
//
// Keeping the last node (take, retire, detach). The queue always links at least one node, so
// handing out the last message means linking the stub behind it first: a second exchange on
// head_ for every message that empties the queue, which is every message of a request and
// reply. take() instead hands the last node out while it stays linked (held). The queue
// lets go of it for free when the next message is linked behind it, or in try_mark_empty's CAS,
// which puts the stub in its place in the RMW that gives the consumer role up anyway (Pony's
// message queue keeps its last node linked for the same reason). pop() keeps the stub way for
// consumers that pass envelopes on (set-aside and relayed messages); the system queue, whose
// replies go on to coroutines, only pops and keeps no spent_ (a cell holds two queues: the
// main one's 8 bytes fit the cell's padding, a second 8 would move every idle actor into
// mimalloc's next size class).
// Invariants:
//   M-I1  At most one thread holds the consumer role: the one that cleared the empty bit (by a
//         push or try_claim) keeps it until its try_mark_empty succeeds. After that it must not
//         touch the actor: another thread may claim, finish and free it at once.
//   M-I2  Every push lands after exactly one predecessor (the exchange totally orders pushes),
//         so pushes of one thread are popped in the order it made them: FIFO per sender, even
//         when the sender migrates between threads (the migration's own release/acquire puts
//         its earlier pushes first in head_'s modification order).
//   M-I3  A system message queued before try_mark_empty succeeds is seen by the consumer: its
//         sender set system_bit after queueing it, and [M4] only succeeds on an untagged
//         last node. An exchange may drop the bit, but only by pushing a node the consumer
//         must take first, and the consumer looks at the system queue after every message it
//         takes, before any try_mark_empty (actor_cell::run_turn).
//   M-I4  A held node is tail_ and spent_, the last node linked, and the stub is not linked.
//         Producers touch it only by [M2] into its next. The consumer retires or detaches it
//         before its next take, pop or try_mark_empty, which may let go of it: its memory goes
//         back (Reclaim) when its next is seen set or [M4] replaced it, and the consumer links
//         it nowhere else before detach().
// Orderings (all on head_, all seq_cst RMWs, which cost the same as acq_rel on x86):
//   [M1] push: head_ exchange. Release publishes the node's payload to the consumer ([M3]);
//        acquire pairs with [M4] so a thread that clears the empty bit sees everything the
//        previous consumer did before it went idle.
//   [M2] push: prev->next store, release -> [M3].
//   [M3] pop: next loads, acquire <- [M2]: the payload behind a link is visible.
//   [M4] try_mark_empty: head_ CAS last -> stub|empty, where last is the stub or a held node
//        (release: hand-over to the next consumer).
//   [M5] try_claim: head_ CAS loop that sets system_bit and clears empty_bit; the system
//        queue's own push happened before it, so whoever observes the bit sees the message.
#include "cpu_relax.hpp"
#include "envelope_cache.hpp"
#include "invariant.hpp"

#include <eam/engine/detail/envelope.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>

namespace eam::internal {

using detail::envelope;
using detail::mpsc_node;

/// `Reclaim` gives back the memory of a held node the consumer retired (M-I4); null for a
/// queue that is only ever popped, which then keeps no spent_.
template <void (*Reclaim)(mpsc_node*) noexcept>
class basic_mailbox {
  static constexpr bool keeps_last = Reclaim != nullptr;

 public:
  /// `starts_empty`: whether the first push should schedule the owner. A new actor's mailbox
  /// starts claimed (not empty) because spawn schedules it directly.
  explicit basic_mailbox(bool starts_empty) noexcept
      : head_(reinterpret_cast<std::uintptr_t>(&stub_) | (starts_empty ? empty_bit : 0)), tail_(&stub_) {
    if constexpr (keeps_last) spent_ = &stub_;
  }
  basic_mailbox(const basic_mailbox&) = delete;
  basic_mailbox& operator=(const basic_mailbox&) = delete;

  // -- any thread ------------------------------------------------------------------------

  /// Appends `e`. True when the mailbox was marked empty: the caller now holds the consumer
  /// role (M-I1) and must schedule the owner (or drain a dead one). Never allocates.
  bool push(mpsc_node* n) noexcept { return push_chain(n, n); }

  /// Appends the chain first..last, already linked through `next`, with one exchange. Same
  /// contract as push; the links inside the chain are published by [M2] with the rest.
  bool push_chain(mpsc_node* first, mpsc_node* last) noexcept {
    last->next.store(nullptr, std::memory_order_relaxed);
    const std::uintptr_t prev = head_.exchange(reinterpret_cast<std::uintptr_t>(last), std::memory_order_seq_cst);  // [M1]
    reinterpret_cast<mpsc_node*>(prev & ~tag_bits)->next.store(first, std::memory_order_release);       // [M2]
    return (prev & empty_bit) != 0;
  }

  /// Flags a queued system message (M-I3) and clears the empty bit if set. True when this
  /// call cleared it: the caller now holds the consumer role (M-I1) and must schedule the
  /// owner. Used by senders of system messages, which travel in the actor's other queue.
  bool flag_system_and_claim() noexcept {
    std::uintptr_t h = head_.load(std::memory_order_seq_cst);
    for (;;) {
      const std::uintptr_t next = (h | system_bit) & ~empty_bit;
      if (head_.compare_exchange_weak(h, next, std::memory_order_seq_cst, std::memory_order_seq_cst))  // [M5]
        return (h & empty_bit) != 0;
    }
  }

  // -- consumer only ---------------------------------------------------------------------

  /// The oldest envelope, or null when none is ready (empty, or a producer is between its
  /// exchange and its link; then try_mark_empty fails and the caller comes back). The caller
  /// owns it outright: popping the last one links the stub behind it.
  envelope* pop() noexcept { return next_node(false); }

  /// Like pop, but the last envelope stays linked (M-I4): the caller hands it back with
  /// retire() when done with its payload, or detach()es it before linking it elsewhere.
  envelope* take() noexcept
    requires keeps_last
  {
    return next_node(true);
  }

  /// Whether the queue still links `e`, taken: then retire() leaves its memory to the queue.
  [[nodiscard]] bool holds(const envelope* e) const noexcept { return e == spent(); }

  /// The consumer is done with `e` (payload destroyed): its memory goes back now, or when the
  /// queue lets go of it (M-I4), which the consumer's next take, pop or try_mark_empty may do.
  void retire(envelope* e) noexcept
    requires keeps_last
  {
    if (!holds(e)) Reclaim(e);
  }

  /// Makes `e`, taken, the caller's outright so that its link may be reused: when the queue
  /// still holds it, the stub goes behind it, as pop would have done.
  void detach(envelope* e) noexcept
    requires keeps_last
  {
    if (!holds(e)) return;
    (void)push(&stub_);  // never claims: the consumer role is ours
    // A producer that exchanged before us links behind `e` in a moment, unless it was
    // preempted in between: then let it run.
    mpsc_node* next = nullptr;
    for (unsigned spins = 1; (next = e->next.load(std::memory_order_acquire)) == nullptr; ++spins) {  // [M3]
      cpu_relax();
      if (spins % 64 == 0) std::this_thread::yield();
    }
    tail_ = next;
    set_spent(&stub_);
  }

  /// How many envelopes are linked behind the consumer's position, counting at most `limit`
  /// (a push between its exchange and its link ends the count early). Only the consumer frees
  /// nodes, so only it may walk them.
  [[nodiscard]] std::size_t count_queued(std::size_t limit) const noexcept {
    std::size_t n = 0;
    for (const mpsc_node* p = tail_; p != nullptr && n < limit; p = p->next.load(std::memory_order_acquire))  // [M3]
      if (p != spent() && p != &stub_) ++n;
    return n;
  }

  /// Whether pop() would find nothing: no message handed out yet, none linked behind it (a push
  /// between its exchange and its link reads as nothing, as in pop). Two loads, no write: for a
  /// consumer that looks often and mostly finds nothing (actor_cell's run of messages).
  [[nodiscard]] bool looks_empty() const noexcept {
    const mpsc_node* const tail = tail_;
    return tail == spent() && tail->next.load(std::memory_order_acquire) == nullptr;  // [M3]
  }

  /// Gives up the consumer role if nothing is queued and no system message was flagged. True
  /// on success (then M-I1: hands off the actor). False when a message is queued or being
  /// pushed, or a system message was flagged (the flag is cleared: look at the system queue).
  bool try_mark_empty() noexcept {
    mpsc_node* const last = tail_;
    if (last != spent()) return false;  // a message not yet handed out
    const bool held = last != &stub_;
    if (held) {  // retired (M-I4)
      // What the next consumer finds: the stub alone, as a pop would have left it.
      stub_.next.store(nullptr, std::memory_order_relaxed);
      tail_ = &stub_;
      set_spent(&stub_);
    }
    auto expected = reinterpret_cast<std::uintptr_t>(last);
    if (head_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(&stub_) | empty_bit,
                                      std::memory_order_seq_cst, std::memory_order_seq_cst)) {  // [M4]
      if (held) reclaim(last);  // head_ left it with nothing linked behind: no producer touches it again
      return true;
    }
    if (held) {
      tail_ = last;
      set_spent(last);
    }
    if (expected == (reinterpret_cast<std::uintptr_t>(last) | system_bit))
      (void)head_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(last),
                                          std::memory_order_seq_cst, std::memory_order_seq_cst);
    return false;
  }

  /// Whether the consumer role is free (the owner is idle with nothing queued). A hint.
  [[nodiscard]] bool is_marked_empty() const noexcept {
    return (head_.load(std::memory_order_acquire) & empty_bit) != 0;
  }

 private:
  static constexpr std::uintptr_t empty_bit = 1;
  static constexpr std::uintptr_t system_bit = 2;
  static constexpr std::uintptr_t tag_bits = empty_bit | system_bit;
  mpsc_node* spent() const noexcept {
    if constexpr (keeps_last)
      return spent_;
    else
      return const_cast<mpsc_node*>(&stub_);
  }
  void set_spent(mpsc_node* n) noexcept {
    if constexpr (keeps_last) spent_ = n;
  }
  static void reclaim(mpsc_node* n) noexcept {
    if constexpr (keeps_last) Reclaim(n);
  }
  mpsc_node* head_node() const noexcept {
    return reinterpret_cast<mpsc_node*>(head_.load(std::memory_order_acquire) & ~tag_bits);
  }

  envelope* next_node(bool keep_last) noexcept {
    mpsc_node* tail = tail_;
    mpsc_node* next = tail->next.load(std::memory_order_acquire);  // [M3]
    if (tail == spent()) {  // the stub, or the envelope handed out last: no message of its own
      if (next == nullptr) return nullptr;
      if (tail != &stub_) {  // retired, and its producer's [M2] is done: the queue lets go (M-I4)
        set_spent(&stub_);
        reclaim(tail);
      }
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);  // [M3]
    }
    if (next != nullptr) {
      EAM_ASSERT(tail != &stub_, "M-I2: the stub is relinked, never handed out as a message");
      tail_ = next;
      return static_cast<envelope*>(tail);
    }
    // `tail` is the last linked node, unless a push is half done.
    if (tail != head_node()) return nullptr;
    if (keep_last) {
      set_spent(tail);
      return static_cast<envelope*>(tail);
    }
    // Put the stub behind it so `tail` can be handed out while the queue keeps a node.
    push(&stub_);
    next = tail->next.load(std::memory_order_acquire);  // [M3]
    if (next != nullptr) {
      tail_ = next;
      return static_cast<envelope*>(tail);
    }
    return nullptr;
  }

  std::atomic<std::uintptr_t> head_;  // producers
  mpsc_node* tail_;                   // consumer
  mpsc_node stub_;                    // consumer (re-linked by pop)
  struct none {};
  // consumer: &stub_, or tail_ when take handed it out (M-I4)
  [[no_unique_address]] std::conditional_t<keeps_last, mpsc_node*, none> spent_;
};

/// Envelopes go back where they came from (envelope_cache.hpp).
inline void reclaim_envelope(mpsc_node* n) noexcept { detail::free_envelope_memory(static_cast<detail::envelope*>(n)); }
using mailbox = basic_mailbox<&reclaim_envelope>;

/// The second queue of an actor, for system messages (stop, replies to an awaited call, child
/// exits). Same structure without tag bits: scheduling goes through the main mailbox's head
/// (flag_system_and_claim), so one word governs the consumer role. Only pop()ped: nothing is
/// ever held.
class system_queue {
 public:
  system_queue() noexcept : q_(false) {}
  void push(mpsc_node* n) noexcept { (void)q_.push(n); }
  envelope* pop() noexcept { return q_.pop(); }
  [[nodiscard]] bool looks_empty() const noexcept { return q_.looks_empty(); }

 private:
  basic_mailbox<nullptr> q_;
};

}  // namespace eam::internal
