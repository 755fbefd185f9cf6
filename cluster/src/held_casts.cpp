#include "held_casts.hpp"

#include "node_runtime.hpp"
#include "peer.hpp"

#include <eam/engine/detail/tls.hpp>

#include <utility>

namespace eam::cluster::internal {

namespace {
EAM_TLS held_casts* this_thread_held = nullptr;              // the send path's look: one load
thread_local std::unique_ptr<held_casts> this_thread_owned;  // frees it when the thread ends
}  // namespace

held_casts& held_casts::make_for_this_thread() {
  this_thread_owned = std::make_unique<held_casts>();
  this_thread_held = this_thread_owned.get();
  return *this_thread_held;
}

held_casts::~held_casts() {
  if (this_thread_held == this) this_thread_held = nullptr;  // a later thread-local destructor's send finds none
}

held_casts::batch* held_casts::batch_for(peer& to) {
  const std::uint32_t handler = handler_number();
  if (handler == 0) return nullptr;  // no turn runs here: nothing would release a batch
  held_casts* held = this_thread_held;
  if (held == nullptr) held = &make_for_this_thread();
  if (held->releasing_) return nullptr;  // a cast made while batches are queued (a log sink's) goes at once
  if (handler != held->handler_) {
    // Another handler: what the last one held was released at its end (it asked the engine
    // before it held anything), so its notes go. Its first cast leaves at once.
    held->handler_ = handler;
    held->batches_[0].to = &to;
    held->used_ = 1;
    return nullptr;
  }
  return held->held_batch(to);
}

held_casts::batch* held_casts::held_batch(peer& to) {
  for (std::size_t i = 0; i < used_; ++i) {
    batch& b = batches_[i];
    if (b.to != &to) continue;
    if (!asked_) {
      if (!release_when_handler_ends(*this)) return nullptr;  // the engine holds enough: at once
      asked_ = true;
    }
    if (!b.keep) b.keep = to.shared_from_this();
    return &b;
  }
  if (used_ < max_nodes) batches_[used_++].to = &to;
  return nullptr;  // the handler's first cast to `to` leaves at once
}

void held_casts::added(batch& b, std::size_t item_start, std::size_t max_frame_bytes) {
  if (item_start != 0 && b.items.size() > max_frame_bytes - frame_header_bytes) {
    // With the casts before it, this one would not fit a frame: they go first, and it starts
    // the batch again (an item never exceeds a frame alone: peer::encode).
    const std::size_t item_bytes = b.items.size() - item_start;
    frame_buffer rest;
    try {
      rest.write(b.items.data() + item_start, item_bytes);
    } catch (...) {
      b.items.truncate(item_start);  // not held: the sender counts it dropped
      throw;
    }
    b.items.truncate(item_start);
    queue(b);
    b.items.write(rest.data(), item_bytes);  // within the capacity it had
  }
  ++b.count;
  if (b.items.size() >= batch_bytes) queue(b);
}

void held_casts::queue(batch& b) noexcept {
  if (b.count == 0) return;
  bool queued = false;
  try {
    queued = b.keep->queue_encoded(b.items.data(), b.items.size(), b.count);
  } catch (...) {
    // Out of memory for the peer's buffer: the casts are lost, as they would be at the send.
  }
  const std::uint32_t count = b.count;
  b.items.truncate(0);
  b.count = 0;
  if (queued) return;
  // The log line may reach a sink that casts: such a cast leaves at once (batch_for), never into
  // a batch this thread is queueing.
  held_casts& held = *this_thread_held;  // b's owner
  const bool was_releasing = std::exchange(held.releasing_, true);
  try {
    b.keep->gate().runtime.cast_dropped("node " + b.keep->node + " is gone or out of memory", count);
  } catch (...) {
    // The count and its log line need memory too; without it they are skipped.
  }
  held.releasing_ = was_releasing;
}

void held_casts::queue_all() noexcept {
  for (std::size_t i = 0; i < used_; ++i) queue(batches_[i]);
}

void held_casts::release_for(const peer& to) noexcept {
  held_casts* held = this_thread_held;
  if (held == nullptr || !held->asked_) return;  // nothing is held before the engine was asked
  for (std::size_t i = 0; i < held->used_; ++i)
    if (held->batches_[i].to == &to) return queue(held->batches_[i]);
}

void held_casts::release_batches() noexcept {
  held_casts* held = this_thread_held;
  if (held != nullptr && held->asked_) held->queue_all();
}

void held_casts::release() noexcept {
  queue_all();
  for (std::size_t i = 0; i < used_; ++i) batches_[i].keep.reset();
  used_ = 0;  // after a task handler's suspension its next cast to a node leaves at once again
  asked_ = false;
}

}  // namespace eam::cluster::internal
