#pragma once
// stalled_frames: a link's frames that ZeroMQ refused for now (its high-water mark), in order,
// with a flag the I/O thread reads without the link's send gate.
//
// Why the flag: the I/O thread passes over every link that has nothing to send on each turn
// of its loop (node_runtime::flush_all), and taking each link's gate to look at this queue
// cost three lock pairs per link per wake-up, most of a busy node's I/O time among 25 peers.
//
// Writers hold the link's gate (or are the I/O thread on a link no sender can reach). The
// flag is relaxed: a reader that sees it late loses nothing. Only a sender turns an empty
// queue into a full one, and that sender then wakes the I/O thread with its peer's notice
// (peer::notify_io); once the queue holds frames, senders leave it alone, so a `true` read
// without the gate stays true until the I/O thread itself empties it.
#include <zmq.h>

#include <atomic>
#include <deque>

namespace eam::cluster::internal {

class stalled_frames {
 public:
  stalled_frames() = default;
  stalled_frames(const stalled_frames&) = delete;
  stalled_frames& operator=(const stalled_frames&) = delete;

  /// Under the gate.
  [[nodiscard]] bool empty() const noexcept { return frames_.empty(); }
  zmq_msg_t& front() noexcept { return frames_.front(); }
  void push_back(const zmq_msg_t& m) {
    frames_.push_back(m);
    any_.store(true, std::memory_order_relaxed);
  }
  void pop_front() noexcept {
    frames_.pop_front();
    any_.store(!frames_.empty(), std::memory_order_relaxed);
  }
  /// Closes every frame (the link is closing).
  void close_all() noexcept {
    for (auto& m : frames_) zmq_msg_close(&m);
    frames_.clear();
    any_.store(false, std::memory_order_relaxed);
  }
  void swap(stalled_frames& other) noexcept {
    frames_.swap(other.frames_);
    any_.store(!frames_.empty(), std::memory_order_relaxed);
    other.any_.store(!other.frames_.empty(), std::memory_order_relaxed);
  }

  /// Without the gate (I/O thread): whether frames wait, as last written.
  [[nodiscard]] bool any() const noexcept { return any_.load(std::memory_order_relaxed); }

 private:
  std::deque<zmq_msg_t> frames_;
  std::atomic<bool> any_{false};
};

}  // namespace eam::cluster::internal
