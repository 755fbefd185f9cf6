#include "peer.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <new>

namespace eam::cluster::internal {

namespace {
thread_local bool draining_thread = false;
}  // namespace

void peer::this_thread_drains() noexcept { draining_thread = true; }

peer::peer(std::string node_id, std::uint64_t inc, std::string addr, peer_limits limits, int wake_fd,
           std::atomic<std::uint64_t>& sender_waits, std::shared_ptr<send_gate> gate)
    : node(std::move(node_id)),
      incarnation(inc),
      address(std::move(addr)),
      last_heard(std::chrono::steady_clock::now()),
      limits_(limits),
      wake_fd_(wake_fd),
      gate_(std::move(gate)),
      sender_waits_(sender_waits) {
  write_header(current_, frame_kind::data);
}

bool peer::wait_for_room(std::unique_lock<std::mutex>& lock) {
  if (up_ && queued_bytes_ >= limits_.send_buffer_bytes && !draining_thread) {
    sender_waits_.fetch_add(1, std::memory_order_relaxed);
    room_.wait(lock, [&] { return !up_ || queued_bytes_ < limits_.send_buffer_bytes; });
  }
  return up_;
}

bool peer::queue_encoded(const char* items, std::size_t n, std::uint32_t casts) {
  bool wake = false;
  {
    std::unique_lock lock(lock_);
    if (!wait_for_room(lock)) return false;
    append_locked(items, n);
    count_messages_out(casts);
    wake = mark_dirty();
  }
  if (wake) send_or_notify_io();
  return true;
}

void peer::start_frame_with_last_item(std::size_t item_start) {
  frame_buffer next;
  write_header(next, frame_kind::data);
  next.write(current_.data() + item_start, current_.size() - item_start);
  current_.truncate(item_start);
  full_.push_back(std::move(current_));
  current_ = std::move(next);
}

void peer::append_locked(const char* items, std::size_t n) {
  if (current_.size() > frame_header_bytes && current_.size() + n > limits_.max_frame_bytes) close_frame();
  current_.write(items, n);
  queued_bytes_ += n;
  if (current_.size() >= limits_.frame_bytes) close_frame();
}

void peer::close_frame() {
  // Room at once for about what the last frame held (up to a closed frame's size, and an eighth
  // more for the item that crosses it): a streaming sender's frames, grown from 4 KiB by
  // doubling, took seven reallocs (copies) each and ended at twice the frame size. Made before
  // anything moves: out of memory leaves the current frame as it was.
  const std::size_t expected = std::min(current_.size(), limits_.frame_bytes);
  frame_buffer next;
  next.reserve(std::max<std::size_t>(4096, expected + expected / 8));
  write_header(next, frame_kind::data);
  full_.push_back(std::move(current_));
  current_ = std::move(next);
}

void peer::notify_io() noexcept {
  // Release, then the eventfd's write and the I/O thread's read (ordered by the kernel): the
  // turn that this write wakes reads the notice.
  io_notice_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);  // a full counter (never: 2^64 - 2) still wakes the loop
}

error peer::gone_error() const { return error(errc::transport_error, "node " + node + " is gone"); }

reply_handle peer::take_call(std::uint64_t request) {
  std::lock_guard lock(lock_);
  const auto it = calls_.find(request);
  if (it == calls_.end()) return {};
  reply_handle r = std::move(it->second);
  calls_.erase(it);
  // Answers shrank the table to a quarter of the size that starts the next look: the next
  // look comes at twice what it holds now, so callers that give up later are not kept until
  // the table regrows to a peak it may never reach again.
  if (calls_.size() * 4 < look_for_abandoned_at_)
    look_for_abandoned_at_ = std::max(fewest_calls_looked_at, 2 * calls_.size());
  return r;
}

std::size_t peer::calls_waiting() const {
  std::lock_guard lock(lock_);
  return calls_.size();
}

std::uint64_t peer::calls_ever() const {
  std::lock_guard lock(lock_);
  return next_request_;
}

void peer::forget_abandoned_calls_unless_looked() {
  std::vector<reply_handle> forgotten;  // dropped after the lock, as in enqueue_call
  bool wake = false;
  {
    std::lock_guard lock(lock_);
    const bool looked = looks_ != looks_at_last_turn_;
    if (!looked && !calls_.empty() && forget_abandoned_calls(forgotten)) wake = mark_dirty();
    looks_at_last_turn_ = looks_;
  }
  if (wake) send_or_notify_io();
}

bool peer::forget_abandoned_calls(std::vector<reply_handle>& forgotten) noexcept {
  ++looks_;
  bool cancelled = false;
  try {
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (!it->second.abandoned()) {
        ++it;
        continue;
      }
      forgotten.push_back(std::move(it->second));  // a throw moves nothing
      const std::uint64_t request = it->first;
      it = calls_.erase(it);
      if (!up_) continue;
      // Advisory: without memory for it, the callee's handle just never reads as abandoned.
      encode_locked([request](packer& pk) { pack_cancel(pk, request); });
      cancelled = true;
    }
  } catch (...) {  // out of memory for `forgotten` or a cancel: the rest wait for the next look
  }
  look_for_abandoned_at_ = std::max(fewest_calls_looked_at, 2 * calls_.size());
  return cancelled;
}

void peer::answering(std::uint64_t request, std::atomic<bool>& gave_up) noexcept {
  std::lock_guard lock(answering_lock_);
  if (!up_) {  // gone already: nobody waits for the answer
    gave_up.store(true, std::memory_order_release);
    return;
  }
  try {
    answering_[request] = &gave_up;
  } catch (...) {  // out of memory: the call is answered as ever, its cancel just finds nothing
  }
}

void peer::answered(std::uint64_t request) noexcept {
  std::lock_guard lock(answering_lock_);
  answering_.erase(request);
}

void peer::caller_gave_up(std::uint64_t request) noexcept {
  std::lock_guard lock(answering_lock_);
  const auto it = answering_.find(request);
  if (it == answering_.end()) return;
  it->second->store(true, std::memory_order_release);
  answering_.erase(it);
}

void peer::take_frames(std::vector<frame_buffer>& out) {
  {
    std::lock_guard lock(lock_);
    dirty_ = false;
    if (current_.size() > frame_header_bytes) close_frame();
    if (full_.empty()) return;
    for (auto& f : full_) {
      queued_bytes_ -= std::min(queued_bytes_, f.size() - frame_header_bytes);
      out.push_back(std::move(f));
    }
    full_.clear();
  }
  room_.notify_all();
}

void peer::give_back_frames(std::vector<frame_buffer>& frames) {
  std::lock_guard lock(lock_);
  if (!up_) return;  // gone: go_down dropped the buffer, these go with it
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    queued_bytes_ += it->size() - frame_header_bytes;
    full_.push_front(std::move(*it));
  }
  dirty_ = true;  // whoever gave them back wakes the I/O thread
}

void peer::go_down() {
  std::unordered_map<std::uint64_t, reply_handle> calls;
  {
    std::lock_guard lock(lock_);
    if (!up_) return;
    up_.store(false, std::memory_order_release);
    full_.clear();
    current_.truncate(frame_header_bytes);
    queued_bytes_ = 0;
    calls.swap(calls_);
  }
  room_.notify_all();
  for (auto& [id, reply] : calls) reply.fail(gone_error());
  std::lock_guard lock(answering_lock_);  // after up_ is false: answering registers no more
  for (auto& [request, gave_up] : answering_) gave_up->store(true, std::memory_order_release);
  answering_.clear();
}

// Without the lock: a caller may hold a lock that a sender packing under lock_ waits for
// (the proxy table, when a ref is encoded).
bool peer::is_up() const { return up_.load(std::memory_order_acquire); }

}  // namespace eam::cluster::internal
