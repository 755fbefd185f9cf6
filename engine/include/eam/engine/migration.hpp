#pragma once
/// Moving an actor to another home, for a layer that can rebuild it there (the cluster's
/// `node::migrate`). The engine's part: pause an actor between two messages and take its saved
/// state, resume it when the move fails, and, once its successor runs, turn the old actor into
/// a relay that passes every queued and later message on, in order, and tell its watchers and
/// links where it went. Opt-in header; `<eam/eam.hpp>` does not include it.
///
///   eam::pause_actor(ref, [](eam::result<eam::saved_actor> saved) { ... });  // in its turn
///   ... rebuild it elsewhere from saved->state, as `successor` ...
///   eam::relay_actor(ref, [](eam::message&& m) { /* send m on to the successor */ });
///   eam::announce_moved(ref, successor, "node-b");   // watchers and links get eam::moved
///
/// An actor opts in by saving its state: a class actor's `save_state()`, a functional actor's
/// `ctx.on_save_state(...)`. Each request is a system signal, handled ahead of the actor's
/// queued messages and after the signals sent before it.

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/result.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace eam {

/// What a paused actor hands over.
struct saved_actor {
  message state;            ///< what its saver returned
  std::string name;         ///< the name it was spawned under; empty when none
  std::string_view type;    ///< its full type name (actor_type: the class or the factory)
};

/// Asks `ref`'s actor to pause: in its turn, between two messages, its state is saved and
/// handed to `on_paused` (on the worker: keep it short), and from then on it handles nothing
/// (its messages queue up in order) until `resume_actor` or `relay_actor`. Refusals reach
/// `on_paused` as errors, with the actor running on: actor_not_migratable (it saves no state,
/// its saver threw, or it is a child, whose parent would see it end), actor_has_children,
/// timeout (it awaits a reply inside a task handler, or is paused already), actor_not_found
/// (it has ended or is ending; also when `ref` is empty).
void pause_actor(const actor_ref& ref, std::function<void(result<saved_actor>)> on_paused);

/// Lets a paused actor go on where it stopped (the move failed). Nothing when it is not paused.
void resume_actor(const actor_ref& ref);

/// Ends a paused actor's life as itself and makes it a relay: its name is freed, its timers
/// and its own watches dropped, its terminate does not run; every ordinary message it holds
/// (stashed ones first) and every one sent to it later is handed to `relay`, in order, in its
/// turn, until it is stopped (a plain `stop`). Calls keep their answer channel. Info messages
/// (downs, exit signals) are dropped, and exit signals do not end it, except `kill`. Nothing
/// when it is not paused. `started` (when given) runs in its turn once it is a relay, its name
/// free (true), or when it was not paused (false).
void relay_actor(const actor_ref& ref, std::function<void(message&&)> relay, std::function<void(bool)> started = {});

/// Tells every actor watching or linked to `ref` that it moved: each gets exactly one
/// `eam::moved{ref, to, node}` instead of a future down or exit signal, and the watch or the
/// link ends. Works on any actor (a relay, or a forwarding actor standing for a remote one).
void announce_moved(const actor_ref& ref, const actor_ref& to, std::string node);

}  // namespace eam
