#pragma once
// send_gate: lets the thread that queues an idle peer's frame hand it to ZeroMQ itself, instead
// of waking the node's I/O thread to do it.
//
// Why: a remote call made 12 thread switches a round trip across the two processes (perf stat,
// 20,000 calls), raw ZeroMQ 6: on each side the I/O thread stood between the actor's thread and
// ZeroMQ's own I/O thread, both ways, and each wake-up costs about 6 us on the project's VM.
// Sending from the queuing thread takes the send half of that out: a ZeroMQ socket may be used
// by any thread that holds it exclusively, and the gate's lock is that exclusion.
//
// The protocol (node_runtime.cpp): `open` is the peer's link while that link is plain (dialled,
// greeted, neither holding frames for a re-keyed listener nor draining), null otherwise; both are
// written by the I/O thread under `lock`. A sender flushes `open` only under `lock`, taken with
// try_lock (never waiting for the I/O thread), and only while that link holds no frames ZeroMQ
// refused: the I/O thread polls a DEALER only then, outside the lock. The I/O thread takes `lock`
// whenever it uses an open link's DEALER, its refused frames or its send time, and closes the
// gate before it closes, replaces or re-keys that link. Frames taken, by either, while a command
// posted to the I/O thread has not yet run go back to the peer's buffer (commands_pending_):
// such a command sends a name's or a group's change, and a message queued after it must not
// overtake it (a migrating actor's name is freed so, before the spawn request that takes it on
// the target). A sender also leaves a link that sent within quiet_before_direct to the I/O
// thread: a stream's frames fill while it wakes. Lock order: a gate, then the peer's buffer lock
// (peer::take_frames); a sender takes the gate after releasing the buffer's lock.
#include <chrono>
#include <mutex>

namespace eam::cluster::internal {

struct link;
class node_runtime;

struct send_gate {
  explicit send_gate(node_runtime& node) noexcept : runtime(node) {}

  // A sender sends itself only on a link quiet this long: a request's or an answer's frame
  // after a round trip (50 us and more on loopback), not one among a stream's.
  static constexpr std::chrono::microseconds quiet_before_direct{20};

  node_runtime& runtime;
  std::mutex lock;
  link* open = nullptr;  // under lock
};

/// Flushes the gate's open link from a sending thread: true when everything queued went to
/// ZeroMQ; false when it could not (the gate closed or busy, frames ZeroMQ refused), and the
/// I/O thread must be woken. Defined by node_runtime.
bool flush_from_sender(send_gate& gate) noexcept;

}  // namespace eam::cluster::internal
