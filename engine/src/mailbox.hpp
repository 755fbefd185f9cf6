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
// Consumer only: tail_, stub_ (re-linked by the consumer when the queue runs dry).
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
//         stub. An exchange may drop the bit, but only by pushing a node the consumer must pop
//         first, and the consumer checks the system queue after every pop (actor_cell).
// Orderings (all on head_, all seq_cst RMWs, which cost the same as acq_rel on x86):
//   [M1] push: head_ exchange. Release publishes the node's payload to the consumer ([M3]);
//        acquire pairs with [M4] so a thread that clears the empty bit sees everything the
//        previous consumer did before it went idle.
//   [M2] push: prev->next store, release -> [M3].
//   [M3] pop: next loads, acquire <- [M2]: the payload behind a link is visible.
//   [M4] try_mark_empty: head_ CAS stub -> stub|empty (release: hand-over to the next consumer).
//   [M5] try_claim: head_ CAS loop that sets system_bit and clears empty_bit; the system
//        queue's own push happened before it, so whoever observes the bit sees the message.
#include "invariant.hpp"

#include <eam/engine/detail/envelope.hpp>

#include <atomic>
#include <cstdint>

namespace eam::internal {

using detail::envelope;
using detail::mpsc_node;

class mailbox {
 public:
  /// `starts_empty`: whether the first push should schedule the owner. A new actor's mailbox
  /// starts claimed (not empty) because spawn schedules it directly.
  explicit mailbox(bool starts_empty) noexcept
      : head_(reinterpret_cast<std::uintptr_t>(&stub_) | (starts_empty ? empty_bit : 0)), tail_(&stub_) {}
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

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
  /// exchange and its link; then try_mark_empty fails and the caller comes back).
  envelope* pop() noexcept {
    mpsc_node* tail = tail_;
    mpsc_node* next = tail->next.load(std::memory_order_acquire);  // [M3]
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);  // [M3]
    }
    if (next != nullptr) {
      EAM_ASSERT(tail != &stub_, "M-I2: the stub is relinked, never handed out as a message");
      tail_ = next;
      return static_cast<envelope*>(tail);
    }
    // `tail` is the last linked node. Unless a push is half done, put the stub behind it so
    // `tail` can be handed out while the queue keeps a node.
    if (tail != head_node()) return nullptr;
    push(&stub_);
    next = tail->next.load(std::memory_order_acquire);  // [M3]
    if (next != nullptr) {
      tail_ = next;
      return static_cast<envelope*>(tail);
    }
    return nullptr;
  }

  /// How many envelopes are linked behind the consumer's position, counting at most `limit`
  /// (a push between its exchange and its link ends the count early). Only the consumer frees
  /// nodes, so only it may walk them.
  [[nodiscard]] std::size_t count_queued(std::size_t limit) const noexcept {
    std::size_t n = 0;
    for (const mpsc_node* p = tail_; p != nullptr && n < limit; p = p->next.load(std::memory_order_acquire))  // [M3]
      if (p != &stub_) ++n;
    return n;
  }

  /// Gives up the consumer role if nothing is queued and no system message was flagged. True
  /// on success (then M-I1: hands off the actor). False when a message is queued or being
  /// pushed, or a system message was flagged (the flag is cleared: look at the system queue).
  bool try_mark_empty() noexcept {
    if (tail_ != &stub_) return false;
    auto expected = reinterpret_cast<std::uintptr_t>(&stub_);
    if (head_.compare_exchange_strong(expected, expected | empty_bit, std::memory_order_seq_cst,
                                      std::memory_order_seq_cst))  // [M4]
      return true;
    if (expected == (reinterpret_cast<std::uintptr_t>(&stub_) | system_bit))
      (void)head_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(&stub_),
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
  mpsc_node* head_node() const noexcept {
    return reinterpret_cast<mpsc_node*>(head_.load(std::memory_order_acquire) & ~tag_bits);
  }

  std::atomic<std::uintptr_t> head_;  // producers
  mpsc_node* tail_;                   // consumer
  mpsc_node stub_;                    // consumer (re-linked by pop)
};

/// The second queue of an actor, for system messages (stop, replies to an awaited call, child
/// exits). Same structure without tag bits: scheduling goes through the main mailbox's head
/// (flag_system_and_claim), so one word governs the consumer role.
class system_queue {
 public:
  system_queue() noexcept : q_(false) {}
  void push(mpsc_node* n) noexcept { (void)q_.push(n); }
  envelope* pop() noexcept { return q_.pop(); }

 private:
  mailbox q_;
};

}  // namespace eam::internal
