#pragma once
/// Envelopes: one allocation holding the mailbox link, the routing header and the message
/// itself, stored inline right after the header.

#include <eam/engine/fwd.hpp>
#include <eam/engine/message.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace eam::detail {

/// The link of the intrusive MPSC mailbox. First member of every envelope.
struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

enum class envelope_kind : std::uint8_t {
  cast,           ///< ordinary message, no reply
  call,           ///< ordinary message whose handler's result goes to `reply`
  reply,          ///< system: the answer to a call the receiver awaits (payload: R or eam::error)
  call_timeout,   ///< system: the deadline of the call the receiver awaits passed
  stop,           ///< system: exit with the eam::exit_reason in the payload
  child_exited,   ///< system: a child finished (payload: the child's id and reason)
  watch,          ///< system: start telling the sender when this actor ends
  watch_refused,  ///< system: a watch it sent found the watched actor gone (payload: the watch id)
  unwatch,        ///< system: stop that
  link,           ///< system: link the sender and this actor
  unlink,         ///< system: remove that link
  exit,           ///< system: an exit signal (from a linked actor's end, or `exit(ref, reason)`)
  timer,          ///< ordinary: a timer of the receiver fired (reply.request_id: the timer's id)
  idle_check,     ///< system: the receiver's idle timeout may have passed
  migration,      ///< system: pause, resume, relay or announce a move (migration.hpp)
  child_init,     ///< system: a child's init returned (actor_context::on_child_init)
};

enum class reply_kind : std::uint8_t {
  none,   ///< nothing waits for an answer
  slot,   ///< a thread outside the pool blocks on a reply_slot
  actor,  ///< an actor awaits; `target` is a strong reference to its cell
  receiver,  ///< a reply_receiver (eam::send_call) takes the answer; `target` points to it
};

/// Where a call's answer goes. Moved, never copied: exactly one answer per call.
struct reply_address {
  void* target = nullptr;
  std::uint64_t request_id = 0;
  reply_kind kind = reply_kind::none;  // last: an envelope keeps its own small fields in the padding after it

  reply_address() = default;
  reply_address(reply_kind k, void* t, std::uint64_t id) : target(t), request_id(id), kind(k) {}
  reply_address(reply_address&& o) noexcept : target(o.target), request_id(o.request_id), kind(o.kind) {
    o.kind = reply_kind::none;
  }
  reply_address& operator=(reply_address&& o) noexcept {
    std::swap(kind, o.kind);
    std::swap(target, o.target);
    std::swap(request_id, o.request_id);
    return *this;
  }
  reply_address(const reply_address&) = delete;
  reply_address& operator=(const reply_address&) = delete;
  [[nodiscard]] bool pending() const noexcept { return kind != reply_kind::none; }
};

struct envelope : mpsc_node {
  static constexpr std::uint8_t admitted = 1;   ///< flags: passed the receiver's one-time checks
  static constexpr std::uint8_t uncounted = 2;  ///< flags: an info message, outside any mailbox bound

  const message_type* type = nullptr;
  // kind and flags sit in the reply address's tail padding: a 40-byte header, so a message of
  // up to 8 bytes takes a 48-byte block, not 64 (less memory to bring in per message).
  [[no_unique_address]] reply_address reply;
  envelope_kind kind = envelope_kind::cast;
  std::uint8_t flags = 0;
  /// The size class of the block it lives in (envelope_block_class), and where the block
  /// came from (a worker's tag, from the allocator on a worker alone, a burst's slab, made by a
  /// thread outside the pool, or recycled), for the engine's recycling of small blocks between
  /// threads (engine/src/envelope_cache.hpp, burst_slabs.hpp, outside_blocks.hpp).
  std::uint8_t block = 0;
  std::uint8_t maker = 0;

  static constexpr std::size_t payload_offset(std::size_t align) noexcept {
    return (sizeof(envelope) + align - 1) & ~(align - 1);
  }
  [[nodiscard]] void* payload() noexcept {
    return reinterpret_cast<char*>(this) + payload_offset(type->align);
  }
  template <class M>
  [[nodiscard]] M& as() noexcept {
    return *static_cast<M*>(payload());
  }
};

static_assert(sizeof(void*) != 8 || sizeof(envelope) == 40,
              "kind and flags belong in the reply address's tail padding ([[no_unique_address]])");

/// The size class of the block an envelope of `bytes` (header included) aligned to `align`
/// takes: 1 up to 48 bytes, 2 up to 64, 0 (none) beyond or over-aligned. Small blocks are
/// recycled between the workers (engine/src/envelope_cache.hpp).
constexpr std::uint8_t envelope_block_class(std::size_t bytes, std::size_t align) noexcept {
  if (align > 16) return 0;
  return bytes <= 48 ? 1 : bytes <= 64 ? 2 : 0;
}
/// The bytes a block of class `block` (1 or 2) has.
constexpr std::size_t envelope_block_bytes(std::uint8_t block) noexcept { return block == 1 ? 48 : 64; }

/// Raw storage for an envelope, and the envelope::maker to record in it.
struct envelope_memory {
  void* memory;
  std::uint8_t maker;
};
/// Raw storage for an envelope of `bytes` whose block class is `block` (then `bytes` is the
/// class's, envelope_block_bytes); mimalloc when enabled. Throws std::bad_alloc when out of
/// memory.
envelope_memory allocate_envelope(std::size_t bytes, std::size_t align, std::uint8_t block);
/// Destroys the payload and frees the envelope. A call still waiting for its answer is
/// answered with actor_not_found first, so no caller waits for a reply that cannot come.
void free_envelope(envelope* e) noexcept;

template <class M, class... A>
envelope* make_envelope(envelope_kind kind, A&&... args) {
  constexpr std::size_t offset = envelope::payload_offset(alignof(M));
  constexpr std::size_t align = alignof(M) > alignof(envelope) ? alignof(M) : alignof(envelope);
  constexpr std::uint8_t block = envelope_block_class(offset + sizeof(M), align);
  constexpr std::size_t bytes = block != 0 ? envelope_block_bytes(block) : offset + sizeof(M);
  const envelope_memory got = allocate_envelope(bytes, align, block);
  void* mem = got.memory;
  auto* e = ::new (mem) envelope;
  e->type = &message_type_of<M>;
  e->kind = kind;
  e->block = block;
  e->maker = got.maker;
  try {
    ::new (static_cast<char*>(mem) + offset) M(std::forward<A>(args)...);
  } catch (...) {
    e->type = &message_type_of<char>;  // nothing to destroy
    free_envelope(e);
    throw;
  }
  return e;
}

/// What became of a sent message. `refused`: a full mailbox with the error strategy.
enum class send_result : std::uint8_t { delivered, dropped, refused };
/// Mailbox entry point (engine/src): delivers an ordinary message. A dead target answers calls
/// with actor_not_found and drops the rest; takes ownership of `e`.
send_result send(actor_cell* target, envelope* e) noexcept;
/// Like send, but a message that a full bounded mailbox turns away (whatever its overflow
/// strategy but drop_oldest) is not dropped: `refused` and `e` is still the caller's.
send_result offer(actor_cell* target, envelope* e) noexcept;
/// A blocking call's request from a thread outside every pool (never inside a handler; the
/// caller has refused an empty target already): like send, and when the target is idle the
/// calling thread runs its turn before returning (system_config::calls_run_on_caller).
void send_call_from_thread(actor_cell* target, envelope* e) noexcept;

}  // namespace eam::detail
