// node::migrate, migrate_all: moving local actors to another node (node.hpp). The engine pauses
// the actor and turns its old self into a relay (migration.hpp); this file decides where the
// state goes and in which order, so that nothing sent to the actor is lost:
//   1. pause: the state is saved between two messages; later messages wait, in order.
//   2. an unnamed actor is rebuilt on the target while its old self waits paused: a refusal
//      resumes it as if nothing happened.
//      A named one must give its name up first (the successor takes it at spawn): the target
//      is asked whether it can restore the type (probe), the old self becomes a relay (which
//      frees the name and, for a global name, announces that before the spawn request leaves
//      on the same connection), then the target rebuilds it under the name. Should that fail,
//      the actor is rebuilt here from the same state.
//   3. the relay passes what it held and what comes later to the successor, watchers and links
//      are told `moved`, and the relay ends after forward_for.
#include "migration_relay.hpp"
#include "node_runtime.hpp"

#include <eam/cluster/errc.hpp>
#include <eam/engine/migration.hpp>

#include <future>

namespace eam::cluster::internal {

namespace {
result<saved_actor> pause_for(const actor_ref& actor, std::chrono::milliseconds timeout) {
  auto answer = std::make_shared<std::promise<result<saved_actor>>>();
  std::future<result<saved_actor>> saved = answer->get_future();
  pause_actor(actor, [answer](result<saved_actor> r) { answer->set_value(std::move(r)); });
  if (saved.wait_for(timeout) != std::future_status::ready) {
    // Queued behind the pause: it resumes the actor right after a late save, if one comes.
    resume_actor(actor);
    return error(errc::timeout, "the actor did not save its state within " + std::to_string(timeout.count()) +
                                    " ms (a long handler): it runs on here");
  }
  return saved.get();
}

void wait_started(const actor_ref& actor, const std::shared_ptr<migration_relay>& relay) {
  auto started = std::make_shared<std::promise<void>>();
  std::future<void> done = started->get_future();
  relay_actor(
      actor, [relay](message&& m) { relay->relay(std::move(m)); }, [started](bool) { started->set_value(); });
  done.wait();  // the actor is paused: its turn comes at once
}
}  // namespace

result<actor_ref> node_runtime::migrate_one(const actor_ref& actor, const std::string& to,
                                            const migrate_config& config, bool& eligible) {
  if (inside_actor()) return error(errc::blocking_call_on_worker, "migrate blocks: call it outside actors");
  if (to == config_.node_id) return error(cluster_errc::same_node, "the actor is on node " + to + " already");
  if (!actor || !actor.is_alive() || !export_if_local(actor)) {
    eligible = false;
    return error(cluster_errc::not_a_local_actor, "only a live actor of this node can be moved from here");
  }
  if (!find_peer(to)) return error(errc::peer_not_found, "node " + to + " is not connected");

  result<saved_actor> saved = pause_for(actor, config.save_timeout);
  if (!saved) {
    eligible = saved.code() != errc::actor_not_migratable;
    if (eligible) migrations_failed_.fetch_add(1, std::memory_order_relaxed);
    return saved.error_value();
  }
  auto refuse = [&](error why) -> result<actor_ref> {
    resume_actor(actor);
    migrations_failed_.fetch_add(1, std::memory_order_relaxed);
    return why;
  };
  const actor_type_entry* type = find_migratable_type(saved.value().type);
  if (type == nullptr) {
    eligible = false;
    resume_actor(actor);
    return error(errc::actor_not_migratable, "it is not of a type registered with its state (register_actor)");
  }
  spawn_request request{type->name, {}, false, {}, false, true, {}};
  try {
    detail::frame_buffer buffer;
    {
      scoped_ref_resolver resolve(*this);
      detail::wire_packer pk(buffer);
      type->migration->pack(pk, saved.value().state);
    }
    request.state.assign(buffer.data(), buffer.data() + buffer.size());
  } catch (const std::exception& e) {
    return refuse(error(errc::actor_not_migratable, std::string("its state does not encode: ") + e.what()));
  }

  const std::string name = saved.value().name;
  auto relay = std::make_shared<migration_relay>(relayed_);
  actor_ref successor;
  std::optional<error> failure;
  if (name.empty()) {
    result<spawn_reply> reply = call_spawner(to, std::move(request), config.timeout);
    if (!reply) return refuse(reply.error_value());
    if (reply.value().failure) return refuse(*reply.value().failure);
    successor = reply.value().actor ? spawned_ref(reply.value()) : actor_ref{};
    if (!successor) return refuse(error(errc::transport_error, "node " + to + " is gone"));
    wait_started(actor, relay);
  } else {
    spawn_request probe{type->name, {}, false, {}, true, false, {}};
    result<spawn_reply> answer = call_spawner(to, std::move(probe), config.timeout);
    if (!answer) return refuse(answer.error_value());
    if (answer.value().failure) return refuse(*answer.value().failure);
    request.name = name;
    request.global = names_->owner_of(name) == config_.node_id;
    wait_started(actor, relay);  // frees the name
    result<spawn_reply> reply = call_spawner(to, request, config.timeout);
    if (reply && !reply.value().failure && reply.value().actor) successor = spawned_ref(reply.value());
    if (!successor) {
      failure = !reply                    ? reply.error_value()
                : reply.value().failure ? *reply.value().failure
                                        : error(errc::transport_error, "node " + to + " is gone");
      spawn_reply here = spawn_here(request);
      successor = here.actor;
      failure = error(failure->code(), failure->context() + (successor ? "; rebuilt on this node instead"
                                                                          : "; not rebuilt here either: it is lost"));
    }
  }
  relay->start(successor);
  {
    std::lock_guard lock(relays_lock_);
    relays_[actor.id()] = "relay of " + (name.empty() ? std::string("an unnamed actor") : name) + " to " +
                          (failure ? config_.node_id : to);
  }
  announce_moved(actor, successor, failure ? config_.node_id : to);
  relay_stopper_.cast(stop_relay_later{actor, config.forward_for});
  if (failure) {
    migrations_failed_.fetch_add(1, std::memory_order_relaxed);
    return *failure;
  }
  migrations_.fetch_add(1, std::memory_order_relaxed);
  return successor;
}

std::optional<error> node_runtime::migration_target_refused(const std::string& to) const {
  if (to == config_.node_id) return error(cluster_errc::same_node, "the actors are on node " + to + " already");
  if (!find_peer(to)) return error(errc::peer_not_found, "node " + to + " is not connected");
  return std::nullopt;
}

migrate_all_result node_runtime::migrate_all(const std::string& to, const migrate_config& config) {
  migrate_all_result out;
  // Each actor would fail alike, those that save no state too, which are never counted: the
  // target is looked at once, and nothing moves or counts when it cannot take them.
  if (auto refused = migration_target_refused(to)) {
    out.errors.push_back(std::move(*refused));
    return out;
  }
  for (const actor_info& info : system_->actors()) {
    if (info.parent_id != 0) continue;  // children move with nobody: their parents refuse
    std::optional<actor_ref> actor = system_->find(info.id);
    if (!actor) continue;
    bool eligible = true;
    result<actor_ref> moved_to = migrate_one(*actor, to, config, eligible);
    if (moved_to) {
      ++out.migrated;
    } else if (eligible) {  // an actor that saves no state is not part of a rolling deploy
      ++out.failed;
      // Named, so that an operator knows which one stayed (the code stays the migration's).
      const error& why = moved_to.error_value();
      std::string which = "actor " + std::to_string(info.id) + (info.name.empty() ? "" : " \"" + info.name + "\"");
      out.errors.emplace_back(why.code(), why.context().empty() ? which : which + ": " + why.context());
    }
  }
  return out;
}

}  // namespace eam::cluster::internal
