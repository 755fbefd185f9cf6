#pragma once
// envelope_list: a consumer-private FIFO of envelopes linked through their mailbox link (no
// allocation): the deferred messages, the stash and a drop_oldest mailbox (evicting_queue.hpp)
// use it. Relaxed loads and stores only: one thread owns a list at a time (the consumer, or the
// holder of the bounded mailbox's lock).
#include <eam/engine/detail/envelope.hpp>

namespace eam::internal {

using detail::envelope;

class envelope_list {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }

  void push_back(envelope* e) noexcept {
    e->next.store(nullptr, std::memory_order_relaxed);
    if (tail_ != nullptr)
      tail_->next.store(e, std::memory_order_relaxed);
    else
      head_ = e;
    tail_ = e;
  }
  void push_front(envelope* e) noexcept {
    e->next.store(head_, std::memory_order_relaxed);
    head_ = e;
    if (tail_ == nullptr) tail_ = e;
  }
  /// Moves every envelope of `other`, in order, in front of this list's.
  void splice_front(envelope_list& other) noexcept {
    if (other.empty()) return;
    other.tail_->next.store(head_, std::memory_order_relaxed);
    if (tail_ == nullptr) tail_ = other.tail_;
    head_ = other.head_;
    other.head_ = other.tail_ = nullptr;
  }
  envelope* pop_front() noexcept {
    envelope* e = head_;
    if (e == nullptr) return nullptr;
    head_ = next_of(e);
    if (head_ == nullptr) tail_ = nullptr;
    return e;
  }
  [[nodiscard]] envelope* front() const noexcept { return head_; }
  /// Unlinks the envelope after `before` (the first when `before` is null), which must exist.
  void remove_after(envelope* before) noexcept {
    envelope* e = before != nullptr ? next_of(before) : head_;
    envelope* after = next_of(e);
    if (before != nullptr)
      before->next.store(after, std::memory_order_relaxed);
    else
      head_ = after;
    if (tail_ == e) tail_ = before;
  }
  /// Calls f(e) on every envelope, which f may free, and leaves the list empty.
  template <class F>
  void drain(F f) noexcept {
    for (envelope* e = head_; e != nullptr;) {
      envelope* next = next_of(e);
      f(e);
      e = next;
    }
    head_ = tail_ = nullptr;
  }
  static envelope* next_of(const envelope* e) noexcept {
    return static_cast<envelope*>(e->next.load(std::memory_order_relaxed));
  }

 private:
  envelope* head_ = nullptr;
  envelope* tail_ = nullptr;
};

}  // namespace eam::internal
