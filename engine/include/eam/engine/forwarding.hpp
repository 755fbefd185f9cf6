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
  /// Whether what stands behind handles the signature (message type, reply type; an empty reply
  /// for a cast), for `typed_ref_cast` of a ref to the forwarding actor.
  virtual bool handles(message_type_id message, message_type_id reply) const noexcept = 0;
};

/// Spawns a top-level forwarding actor (named when `name` is not empty). Throws eam::error
/// (system_shutting_down, name_taken).
actor_ref spawn_forwarding_actor(actor_system& system, std::shared_ptr<message_forwarder> forwarder,
                                 std::string name = {});

/// Sends `to` an exit signal on behalf of `from` (for a layer that relays signals: the target
/// sees `from` in its exit_signal), with the semantics of actor_context::exit.
void send_exit(const actor_ref& from, const actor_ref& to, exit_reason reason);

}  // namespace eam
