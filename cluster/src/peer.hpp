#pragma once
// peer: what every thread shares about one connected node: its outgoing frames (a bounded
// buffer that senders fill and the I/O thread drains, or a sender whose frame found it empty:
// send_gate.hpp), the calls waiting for its answers, and the proxies of its actors.
//
// Flow control: senders encode straight into the buffer under `lock_` (a handler's casts after
// its first are encoded on its thread and copied in as a batch: held_casts.hpp); one who finds
// `queued_bytes_` at the bound waits on `room_` until the I/O thread has taken frames out (or
// the peer is gone). So a fast sender is slowed, never dropped, and a peer's memory is bounded
// by the bound plus what ZeroMQ holds (its high-water mark of frames).
//
// Order: each sender's items enter the buffer in its order under the lock (its held casts before
// anything it queues later for the same node), and frames leave in buffer order over one ZeroMQ
// connection (from the take to the send, the taker holds the peer's send gate, or is the I/O
// thread while the gate is closed): per sender->receiver FIFO.
#include "frame.hpp"
#include "held_casts.hpp"
#include "send_gate.hpp"

#include <eam/engine/any_message.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace eam::cluster::internal {

struct peer_limits {
  std::size_t send_buffer_bytes;
  std::size_t frame_bytes;  ///< a frame is closed once it holds this much (items are never split)
  std::size_t max_frame_bytes;  ///< what a peer accepts: a single item beyond it is refused
};

class peer : public std::enable_shared_from_this<peer> {
 public:
  /// `gate`: how a sender hands an idle peer's frames to ZeroMQ itself (send_gate.hpp).
  peer(std::string node, std::uint64_t incarnation, std::string address, peer_limits limits, int wake_fd,
       std::atomic<std::uint64_t>& sender_waits, std::shared_ptr<send_gate> gate);

  const std::string node;
  const std::uint64_t incarnation;
  /// Empty while the peer is pending (a ref named its node before it connected); set at its
  /// hello. Written and read on the I/O thread only.
  std::string address;

  /// Packs one of the node's own items (`pack(packer&)`: an answer, a monitor, a lookup) into
  /// the outgoing buffer, waiting for room first. False when the peer is gone (nothing was
  /// queued). If `pack` throws, nothing is queued and the exception propagates.
  template <class Pack>
  bool enqueue(Pack&& pack) {
    held_casts::release_for(*this);  // this thread's held casts go before it
    return enqueue_item(pack, 0);
  }
  /// The same for the answer to one of the peer's calls (a value or an error), counted in
  /// messages_out: the peer counts it in messages_in as it counted its call out.
  template <class Pack>
  bool enqueue_answer(Pack&& pack) {
    held_casts::release_for(*this);  // this thread's held casts go before it
    return enqueue_item(pack, 1);
  }
  /// The same for a cast that a local actor sends, counted in messages_out. Inside a handler,
  /// the handler's casts to this node after its first are held on the thread and queued
  /// together (held_casts.hpp): true then, and a node gone by then counts them as dropped.
  template <class Pack>
  bool enqueue_cast(Pack&& pack) {
    if (held_casts::batch* b = held_casts::batch_for(*this)) {
      const std::size_t start = b->items.size();
      encode(b->items, pack);
      held_casts::added(*b, start, limits_.max_frame_bytes);
      return true;
    }
    return enqueue_item(pack, 1);  // nothing is held for this node: no release first
  }
  /// A call (counted in messages_out): its answer channel waits here under a new request id
  /// until the answer, the peer's end, or its caller gives up (forget_abandoned_calls). False
  /// when the peer is gone (the call is then failed with transport_error).
  template <class Pack>
  bool enqueue_call(reply_handle&& reply, Pack&& pack) {
    held_casts::release_for(*this);  // this thread's held casts go before it
    bool wake = false;
    std::vector<reply_handle> forgotten;  // dropped after the lock: each drop sends its error
    {
      std::unique_lock lock(lock_);
      if (!wait_for_room(lock)) {
        lock.unlock();
        reply.fail(gone_error());
        return false;
      }
      const std::uint64_t request = ++next_request_;
      encode_locked([&](packer& pk) { pack(pk, request); });
      count_messages_out(1);
      calls_.emplace(request, std::move(reply));
      if (calls_.size() >= look_for_abandoned_at_) [[unlikely]]
        (void)forget_abandoned_calls(forgotten);  // its cancels leave with this call (mark_dirty below)
      wake = mark_dirty();
    }
    if (wake) send_or_notify_io();
    return true;
  }
  /// Queues `n` bytes of items encoded elsewhere (held_casts), `casts` casts counted in
  /// messages_out, waiting for room first. False when the peer is gone (nothing was queued);
  /// throws std::bad_alloc (nothing was queued).
  bool queue_encoded(const char* items, std::size_t n, std::uint32_t casts);
  [[nodiscard]] send_gate& gate() const noexcept { return *gate_; }
  /// The casts, calls and answers to calls queued for this peer (not the node's own items:
  /// lookups, monitors, downs). Any thread, without the lock.
  [[nodiscard]] std::uint64_t messages_out() const noexcept { return messages_out_.load(std::memory_order_relaxed); }
  /// The answer channel of call `request`, removed (empty when unknown: answered already, or
  /// a forged id).
  reply_handle take_call(std::uint64_t request);
  /// Calls queued for this peer and not yet answered. Any thread.
  [[nodiscard]] std::size_t calls_waiting() const;
  /// Calls ever queued for this peer (their request ids run from 1 to this). Any thread.
  [[nodiscard]] std::uint64_t calls_ever() const;

  // -- this peer's calls that a local actor answers ---------------------------------------------
  /// Call `request` from this peer is being answered here: `gave_up` is set once the peer says
  /// its caller stopped waiting (a cancel item), or once the peer is gone. Any thread; until
  /// `answered(request)`, `gave_up` must outlive the entry.
  void answering(std::uint64_t request, std::atomic<bool>& gave_up) noexcept;
  void answered(std::uint64_t request) noexcept;
  /// The peer's cancel item for `request` (I/O thread). An unknown request is ignored: answered
  /// already, or a forged id.
  void caller_gave_up(std::uint64_t request) noexcept;

  // -- I/O thread -------------------------------------------------------------------------------
  /// Marks the calling thread as the one that drains the buffers: it never waits for room (it
  /// would wait for itself); what it queues (answers to lookups, monitors, errors) is small.
  static void this_thread_drains() noexcept;
  /// Whether this peer woke the I/O thread for frames since the last call (cleared here). The
  /// notice carries nothing: the frames are read under the buffer's lock (take_frames).
  bool take_io_notice() noexcept {
    return io_notice_.load(std::memory_order_relaxed) && io_notice_.exchange(false, std::memory_order_acquire);
  }
  /// Every heartbeat interval: looks at the calls waiting (forget_abandoned_calls) unless a
  /// sender looked since the last time, so callers that gave up are forgotten, and their calls
  /// cancelled at the peer, within an interval or two however few calls come (a table that
  /// stays below the size that starts a sender's look was never looked at under steady traffic).
  void forget_abandoned_calls_unless_looked();
  /// Moves the frames ready to send into `out` and wakes waiting senders.
  void take_frames(std::vector<frame_buffer>& out);
  /// Puts frames taken by take_frames back before everything queued since, in their order (the
  /// taker may not send them yet: node_runtime::flush). Dropped when the peer is gone.
  void give_back_frames(std::vector<frame_buffer>& frames);
  /// The peer is gone: refuses new items, drops the buffer, fails every call in flight with
  /// transport_error, wakes waiting senders. Idempotent.
  void go_down();
  [[nodiscard]] bool is_up() const;

  // I/O thread only: when a frame last came from this peer.
  std::chrono::steady_clock::time_point last_heard;
  // I/O thread only: this node's number for its session with the peer (given when the peer's
  // hello was taken, said in this node's hellos to it), and the peer's number for its session
  // with this node, from the peer's hellos (0 until one says it). A hello whose `ended` names
  // the peer's number says the peer ended this session while this node held on to it.
  std::uint64_t session = 0;
  std::uint64_t remote_session = 0;

 private:
  bool wait_for_room(std::unique_lock<std::mutex>& lock);
  // A single item is encoded straight into the buffer under the lock: a copy from a buffer of
  // the sender's own cost a one-cast handler more than the shorter hold saved (held_casts.hpp
  // takes the encoding of a handler's later casts out of the lock).
  template <class Pack>
  bool enqueue_item(Pack& pack, std::uint32_t casts) {
    bool wake = false;
    {
      std::unique_lock lock(lock_);
      if (!wait_for_room(lock)) return false;
      encode_locked(pack);
      count_messages_out(casts);
      wake = mark_dirty();
    }
    if (wake) send_or_notify_io();
    return true;
  }
  template <class Pack>
  void encode_locked(Pack&& pack) {
    const std::size_t before = current_.size();
    encode(current_, pack);
    const std::size_t item = current_.size() - before;
    if (current_.size() > limits_.max_frame_bytes) {
      try {
        start_frame_with_last_item(before);
      } catch (...) {
        current_.truncate(before);  // never a frame beyond the limit: the item is not queued
        throw;
      }
    }
    queued_bytes_ += item;
    if (current_.size() >= limits_.frame_bytes) close_frame();
  }
  // Appends one item to `into`; an item that throws, or that would not fit a frame alone,
  // leaves nothing behind (never a half item on the wire).
  template <class Pack>
  void encode(frame_buffer& into, Pack&& pack) const {
    const std::size_t before = into.size();
    try {
      packer pk(into);
      pack(pk);
    } catch (...) {
      into.truncate(before);
      throw;
    }
    if (into.size() - before > limits_.max_frame_bytes - frame_header_bytes) {
      into.truncate(before);
      throw error(errc::transport_error, "a message larger than the largest frame a node accepts");
    }
  }
  // The current frame's last item, from `item_start`, made it larger than a frame may be: the
  // items before it go as a frame, and it starts the next.
  void start_frame_with_last_item(std::size_t item_start);
  // A call whose caller has given up (its timeout passed, or it ended) would wait here until
  // its peer answers it, maybe never (a server that keeps deferred answers), and would keep
  // its caller's cell alive meanwhile. So the calls the table holds are looked at
  // (reply_handle::abandoned) and the abandoned ones move to `forgotten`: by the sender of a
  // call that doubles the table since the last look (or since answers shrank it to a quarter),
  // a look of one read per call, as many calls apart as it keeps; and by the I/O thread once a
  // heartbeat interval passed without a look. A late answer of a forgotten call finds no entry
  // and is dropped, as a forged id is.
  // The peer is told of each call forgotten (a cancel item), so that its callee's
  // reply_handle::abandoned() says so too. True when a cancel was queued (the caller wakes the
  // I/O thread as after any item).
  bool forget_abandoned_calls(std::vector<reply_handle>& forgotten) noexcept;
  // Copies encoded items in, in a frame of their own when they would not fit the current one.
  void append_locked(const char* items, std::size_t n);
  void close_frame();
  // Under lock_, so a plain increment: every sender already writes this line, where a count
  // for the node would be one more line that all senders write.
  void count_messages_out(std::uint32_t n) noexcept {
    messages_out_.store(messages_out_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  bool mark_dirty() noexcept {
    const bool was_clean = !dirty_;
    dirty_ = true;
    return was_clean;
  }
  // The buffer was clean: this sender's frame is the first the I/O thread has not been told of.
  // Sent from here when the gate lets it (send_gate.hpp), else the I/O thread is woken for it.
  void send_or_notify_io() noexcept {
    if (!flush_from_sender(*gate_)) notify_io();
  }
  void notify_io() noexcept;
  error gone_error() const;

  const peer_limits limits_;
  const int wake_fd_;
  const std::shared_ptr<send_gate> gate_;
  std::atomic<std::uint64_t>& sender_waits_;

  mutable std::mutex lock_;
  std::condition_variable room_;
  frame_buffer current_;                // header written; items follow
  std::deque<frame_buffer> full_;       // closed frames waiting for the I/O thread
  std::size_t queued_bytes_ = 0;
  std::atomic<std::uint64_t> messages_out_{0};  // written under lock_, read without it by stats
  bool dirty_ = false;          // the I/O thread was told, or a sender sends it
  std::atomic<bool> up_{true};  // written under lock_; read without it by is_up
  std::uint64_t next_request_ = 0;
  std::unordered_map<std::uint64_t, reply_handle> calls_;
  static constexpr std::size_t fewest_calls_looked_at = 64;
  std::size_t look_for_abandoned_at_ = fewest_calls_looked_at;  // calls_'s size that starts the next look
  std::uint64_t looks_ = 0;                                     // forget_abandoned_calls, ever
  std::uint64_t looks_at_last_turn_ = 0;  // looks_ when forget_abandoned_calls_unless_looked last ran
  // This peer's calls being answered here (answering): a lock of their own, apart from the
  // buffer's, which every sender takes.
  std::mutex answering_lock_;
  std::unordered_map<std::uint64_t, std::atomic<bool>*> answering_;
  // Set before the wake-up it announces (notify_io), so the turn of the I/O loop that the
  // wake-up causes sees it; a link whose peer has none is passed over by the sweep. Its own
  // line: senders write lock_'s line on every item, and the I/O thread reads this one for
  // every peer on every turn.
  alignas(64) std::atomic<bool> io_notice_{false};
};

}  // namespace eam::cluster::internal
