#pragma once
/// Forwarding actors: an actor that stands for something elsewhere (the cluster's proxy of a
/// remote actor) is an ordinary cell, so refs, monitors and links to it work unchanged, but its
/// ordinary messages and the exit signals sent to it go to a `message_forwarder` instead of
/// handlers. Opt-in header; `<eam/eam.hpp>` does not include it.
///
///   auto fw = std::make_shared<my_forwarder>(...);
///   eam::actor_ref proxy = eam::spawn_forwarding_actor(system, fw);
///   proxy_ref.cast(add{1});           // fw->forward(message) on the sender's thread
///   system.stop(proxy, eam::exit_reason::custom("noconnection"));  // watchers get down
///
/// Sends to other actors pay nothing for this: the forwarder hides behind the branch every
/// send already takes for bounded mailboxes.

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/error.hpp>
#include <eam/engine/fwd.hpp>

#include <memory>
#include <string>

namespace eam {

class message_forwarder {
 public:
  virtual ~message_forwarder() = default;
  /// An ordinary message (cast or call) sent to the forwarding actor. Runs on the sender's
  /// thread during the send, so one sender's messages arrive here in its order; it may block
  /// to slow a sender down (never the forwarding actor, which does not run it). A call's
  /// answer channel is in `m` (`m.take_reply()`); dropping it unanswered fails the call.
  virtual void forward(message&& m) noexcept = 0;
  /// An exit signal addressed to the forwarding actor: `exit(ref, reason)` (any reason, `kill`
  /// too: the forwarding actor itself does not end) or the end of an actor linked to it
  /// (`via_link`). Runs in the forwarding actor's turn.
  virtual void forward_exit(const actor_ref& from, const exit_reason& reason, bool via_link) noexcept = 0;
  /// An actor linked itself to the forwarding actor (`linked`), or took its link back
  /// (`ctx.link` / `ctx.unlink`), so that a layer can make the link where the forwarding actor's
  /// original lives. Runs on that actor's thread during the call (as `forward` runs on the
  /// sender's), so it comes before anything the actor does later, its end included. Not called
  /// for the links made by link_forwarding_actor, nor for a link that ends with an actor's end.
  virtual void link_changed(const actor_ref& other, bool linked) noexcept {
    (void)other;
    (void)linked;
  }
  /// Whether what stands behind handles the signature (message type, reply type; an empty reply
  /// for a cast), for `typed_ref_cast` of a ref to the forwarding actor.
  virtual bool handles(message_type_id message, message_type_id reply) const noexcept = 0;
};

/// What a forwarder holds back on the sending thread, for example the encoded casts that one
/// handler sends to actors of one remote node, so they leave together.
class held_sends {
 public:
  /// Sends what is held. Runs on the thread that asked for it (release_when_handler_ends), once,
  /// where the engine pushes that handler's own pending messages: when the handler returns
  /// (a task handler: when it suspends too) and at the end of the actor's turn. It may block to
  /// slow the sender down, as forward may.
  virtual void release() noexcept = 0;

 protected:
  ~held_sends() = default;
};

/// Asks the engine to run `h.release()` when the calling handler is done sending (held_sends).
/// False on a thread that is running no actor's turn, or when the handler holds sends for
/// several others already: nothing will run it, so send now. Asking again before the release
/// changes nothing. `h` must outlive the release. Order: the engine promises only pairwise
/// order, and a forwarder that holds sends keeps it by holding every later message of the same
/// sender to the same place too (or releasing first).
bool release_when_handler_ends(held_sends& h) noexcept;

/// A number for the handler running on this thread, for a forwarder that treats a handler's
/// first message to a place differently from its later ones: it differs between two handlers
/// that run one after the other on the thread (it repeats only after 2^32 of them). 0 on a
/// thread running no actor's turn, and now and then inside one.
std::uint32_t handler_number() noexcept;

/// Spawns a top-level forwarding actor (named when `name` is not empty). Throws eam::error
/// (system_shutting_down, name_taken).
actor_ref spawn_forwarding_actor(actor_system& system, std::shared_ptr<message_forwarder> forwarder,
                                 std::string name = {});

/// Whether `ref` is the only reference to its live forwarding actor: no other ref, no watch (an
/// actor's or one from outside), link, timer or message refers to it, each of which counts one.
/// A layer that keeps its forwarding actors in a table ends those nothing else refers to (the
/// cluster's proxies of remote actors). The answer holds while `ref` is not copied, so ask where
/// nothing can copy it meanwhile (under the lock of that table); actor_system::find(id) is the
/// one way to a ref that does not copy one. A worker may hold a release back for a while
/// (engine/README.md): the answer is then false until it gives the release back, when it goes
/// idle at the latest. False for an empty ref, an actor that is not forwarding, or one that ended.
bool only_reference(const actor_ref& ref) noexcept;

/// Links `forwarding` (a forwarding actor) and `other`, or unlinks them (`link` false), as the
/// forwarding actor's own `ctx.link(other)` would, but without telling its forwarder: for a
/// layer whose remote side made the link (the cluster links an actor with its proxy of the
/// remote actor that linked to it). An `other` that has ended answers as to any link: an exit
/// signal `noproc` to the forwarding actor. Nothing happens when `forwarding` is not one.
void link_forwarding_actor(const actor_ref& forwarding, const actor_ref& other, bool link);

/// Sends `to` an exit signal on behalf of `from` (for a layer that relays signals: the target
/// sees `from` in its exit_signal), with the semantics of actor_context::exit.
void send_exit(const actor_ref& from, const actor_ref& to, exit_reason reason);

}  // namespace eam
