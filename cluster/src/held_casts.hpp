#pragma once
// held_casts: the casts one handler sends to one node after its first, encoded on the sender's
// thread and queued into that node's buffer together, under one take of the peer's lock.
//
// Why: each cast took the peer's buffer lock (peer.hpp) and was encoded under it, so workers
// casting to the same node passed that lock's line between their cores once per message and
// waited for each other's encodings. A handler that casts to many actors of one node (a
// broadcast to a process group, a fan-out to remote workers, a driver's loop) now takes it twice
// however many it sends, and encodes outside it.
//
// The rule follows the engine's outbox (engine/README.md, "Sending"): the first cast a handler
// sends to a node leaves at once, so nothing is delayed for a handler that sends one, and such
// a handler pays only a look at its number (eam::handler_number). The handler's later casts to
// that node are held here, and the engine runs release() where it pushes the handler's own
// chains: when the handler returns or suspends, and at the end of the turn
// (eam::release_when_handler_ends). A batch is queued earlier once it holds batch_bytes, and
// before anything else this thread queues for the same node (a call, an exit signal, an answer:
// peer::enqueue and enqueue_call) or posts to the node's I/O thread (node_runtime::post), so
// what one thread sends still reaches the node's buffer in the order it was sent.
//
// Outside an actor's turn (a plain thread, the timer thread, the I/O thread) nothing is held.
// One per thread: a thread runs one handler at a time.
#include "frame.hpp"

#include <eam/engine/forwarding.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace eam::cluster::internal {

class peer;

class held_casts final : public held_sends {
 public:
  /// A held batch is queued once it holds this much: it bounds a thread's memory per node, and
  /// one take of the lock per 64 KiB of casts already spreads its cost thin.
  static constexpr std::size_t batch_bytes = 64u << 10;

  held_casts() = default;
  held_casts(const held_casts&) = delete;
  held_casts& operator=(const held_casts&) = delete;
  ~held_casts();

  struct batch {
    const peer* to = nullptr;    // compared only; `keep` holds it while casts are held
    std::shared_ptr<peer> keep;  // set with the first held cast
    frame_buffer items;          // casts, back to back; keeps its memory between handlers
    std::uint32_t count = 0;
  };

  // This thread's: the functions below act on the calling thread's batches.

  /// Where a cast to `to` goes: null when it leaves at once (outside a turn, the handler's first
  /// cast to `to`, or a handler that sends to more nodes than a thread keeps batches for), else
  /// the batch to encode it into (then `added`).
  [[nodiscard]] static batch* batch_for(peer& to);
  /// After a cast was encoded into `b` (batch_for) from `item_start` on: counts it, and queues
  /// the batch once full. A cast that would not fit one frame with the casts before it is held
  /// alone after they are queued.
  static void added(batch& b, std::size_t item_start, std::size_t max_frame_bytes);
  /// Queues what this thread holds for `to` (before something else for it leaves).
  static void release_for(const peer& to) noexcept;
  /// Queues everything this thread holds (before it posts to an I/O thread).
  static void release_batches() noexcept;

  /// The engine's call when the handler is done: queues everything, and forgets which nodes the
  /// handler sent to.
  void release() noexcept override;

 private:
  static constexpr std::size_t max_nodes = 8;
  static held_casts& make_for_this_thread();
  batch* held_batch(peer& to);  // the same handler's later cast
  void queue_all() noexcept;
  // Queues b's casts into its peer's buffer (a peer gone by then counts them dropped).
  static void queue(batch& b) noexcept;

  std::array<batch, max_nodes> batches_;
  std::uint32_t handler_ = 0;  // eam::handler_number() of the handler batches_ belong to
  std::size_t used_ = 0;       // batches_[0, used_) are the nodes that handler sent to
  bool asked_ = false;         // the engine will call release()
  // A drop is being counted (queue): a cast made meanwhile on this thread, by a log sink that
  // cast_dropped reaches, leaves at once instead of joining a batch being emptied.
  bool releasing_ = false;
};

}  // namespace eam::cluster::internal
