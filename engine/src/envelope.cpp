// The engine entry points that public templates call: envelopes, sends, replies, refs.
#include "actor_cell.hpp"
#include "allocator.hpp"
#include "deferred_releases.hpp"
#include "envelope_cache.hpp"
#include "envelope_contents.hpp"
#include "outbox.hpp"
#include "outside_blocks.hpp"
#include "system_state.hpp"

#include <eam/engine/any_message.hpp>

namespace eam::internal {
constinit EAM_TLS envelope_cache* tls_envelope_cache = nullptr;
constinit EAM_TLS alone_blocks tls_alone_blocks;

void fail_unanswered_call(detail::envelope* e) noexcept {
  detail::complete_error(e->reply, error(errc::actor_not_found, "the actor exited before handling the call"));
}
}  // namespace eam::internal

namespace eam::detail {

namespace {
#if EAM_ENVELOPE_CACHE
// A worker's block while it shares blocks. Out of line: the turn's count is a thread-local with
// an initializer, whose check gave every path of its caller a frame (4 instructions a cast from
// outside the pool, bench/gate).
[[gnu::noinline]] envelope_memory allocate_shared_block(internal::envelope_cache* cache, std::uint8_t block) {
  return cache->allocate(block, internal::local_outbox().sent_this_turn());
}
#endif

// allocate_envelope's paths that take a new block or a batch, or a worker's shared block: out of
// line, so that the path of a block a worker alone recycled saves no registers and sets up no
// frame.
[[gnu::noinline]] envelope_memory allocate_envelope_rarely(std::size_t bytes, std::size_t align, std::uint8_t block) {
  using internal::envelope_cache;
  if (block != 0) {
#if EAM_ENVELOPE_CACHE
    envelope_cache* cache = internal::tls_envelope_cache;
    if (internal::shares_blocks(cache)) return allocate_shared_block(cache, block);
    if (cache == nullptr) {  // a thread outside the pool
      internal::outside_blocks* mine = internal::tls_outside_blocks;
      if (mine == nullptr) mine = internal::this_thread_outside_blocks();  // its first message
      if (mine != nullptr) return mine->allocate(block);
    }
#endif
    return {internal::allocate_small(bytes), envelope_cache::outside};  // a block class: 48 or 64 bytes
  }
  return {internal::allocate(bytes, align), envelope_cache::outside};
}
}  // namespace

// On a worker that shares no blocks (one worker active: worker.cpp) a block comes from the
// worker's alone_blocks, else from the allocator, and is marked as made outside: a worker
// that shares blocks gives it back to the allocator, as before there was a cache. A worker that
// shares blocks takes one from its envelope_cache (recycled for a turn's first messages and a
// long turn's; a slab's, marked slab, for a burst: burst_slabs.hpp), and a thread outside the
// pool from its outside_blocks.hpp. The path of a block a worker alone has at hand comes first.
envelope_memory allocate_envelope(std::size_t bytes, std::size_t align, std::uint8_t block) {
#if EAM_ENVELOPE_CACHE
  using internal::envelope_cache;
  if (block != 0) {
    envelope_cache* cache = internal::tls_envelope_cache;
    if (cache == internal::worker_alone())
      if (void* b = internal::tls_alone_blocks.pop(block)) return {b, envelope_cache::outside};
  }
#endif
  return allocate_envelope_rarely(bytes, align, block);
}

void free_envelope(envelope* e) noexcept {
  internal::destroy_contents_inline(e);
  free_envelope_memory(e);
}

send_result send(actor_cell* target, envelope* e) noexcept {
  if (target == nullptr) {
    free_envelope(e);
    return send_result::dropped;
  }
  return target->deliver(e);
}

send_result offer(actor_cell* target, envelope* e) noexcept {
  if (target == nullptr) {
    free_envelope(e);
    return send_result::dropped;
  }
  return target->offer(e);
}

void send_call_from_thread(actor_cell* target, envelope* e) noexcept {
  (void)target->deliver_call_from_thread(e);  // a refused call is answered with mailbox_full
}


void complete_error(reply_address& to, error&& err) noexcept {
  switch (to.kind) {
    case reply_kind::none:
      return;
    case reply_kind::slot: {
      auto* slot = static_cast<reply_slot_base*>(to.target);
      to.kind = reply_kind::none;
      if (slot->discard_if_abandoned()) return;
      slot->ops->set_error(slot, std::move(err));
      slot->publish();
      return;
    }
    case reply_kind::actor: {
      envelope* e = nullptr;
      try {
        e = make_envelope<error>(envelope_kind::reply, std::move(err));
      } catch (...) {
        // Out of memory: the caller's timeout answers instead; its reference is still dropped.
        to.kind = reply_kind::none;
        release_cell(static_cast<actor_cell*>(to.target));
        return;
      }
      send_reply(to, e);
      return;
    }
    case reply_kind::receiver: {
      envelope* e = nullptr;
      try {
        e = make_envelope<error>(envelope_kind::reply, std::move(err));
      } catch (...) {
        // Out of memory: nothing can carry the answer; the receiver's owner must time out.
        to.kind = reply_kind::none;
        return;
      }
      send_reply_to_receiver(to, e);
      return;
    }
  }
}

void send_reply(reply_address& to, envelope* reply) noexcept {
  auto* caller = static_cast<actor_cell*>(to.target);
  to.kind = reply_kind::none;
  reply->reply.request_id = to.request_id;  // kind stays none: a reply is never answered
  caller->deliver_system(reply);
  release_cell(caller);  // the reference the reply address held (detail::add_ref): a worker holds it back
}

void send_reply_to_receiver(reply_address& to, envelope* reply) noexcept {
  auto* receiver = static_cast<reply_receiver*>(to.target);
  to.kind = reply_kind::none;
  reply->kind = envelope_kind::reply;
  receiver->on_reply(message(reply));
}

error unexpected_reply(std::string_view got, std::string_view expected) {
  return error(errc::unexpected_reply_type,
               "the answer is a " + std::string(got) + " where the caller expects a " + std::string(expected));
}

// A worker thread holds the releases of refs back and reserves references to a ref it keeps
// copying (deferred_releases.hpp); others count each at once.
void add_ref(actor_cell* c) noexcept {
  internal::deferred_releases* d = internal::tls_deferred_releases;
  if (d == nullptr) return c->add_ref();
  if (d->take_back(c)) return;
  c->add_refs(1 + d->reserve(c));
}
void release_cell(actor_cell* c) noexcept {
  if (internal::deferred_releases* d = internal::tls_deferred_releases) return d->hold(c);
  c->release();
}
std::uint64_t cell_id(const actor_cell* c) noexcept { return c->id(); }
bool cell_is_dead(const actor_cell* c) noexcept { return c->is_dead(); }

errc refuse_call(const actor_cell* target) noexcept {
  switch (target->system().current_phase()) {
    case system_state::phase::running:
      return errc{};
    case system_state::phase::draining:  // actors finish their work while mailboxes drain
      return current_cell() != nullptr ? errc{} : errc::system_shutting_down;
    default:
      return errc::system_shutting_down;
  }
}

error refused_call(errc why) {
  switch (why) {
    case errc::actor_not_found: return error(why, "the call has no target (an empty ref)");
    case errc::system_shutting_down:
      return error(why, "the system is shutting down: calls from outside its actors are refused");
    default: return error(why);
  }
}

error call_timed_out(std::chrono::milliseconds timeout) {
  return error(errc::timeout, "no reply within the call's timeout of " + std::to_string(timeout.count()) + " ms");
}

std::uint64_t begin_await(actor_cell* self, std::coroutine_handle<> h, void* awaiter,
                          void (*accept)(void*, envelope*), std::chrono::milliseconds timeout) {
  return self->begin_await(h, awaiter, accept, timeout);
}

}  // namespace eam::detail
