#pragma once
/// Remote spawn and placement: actor types registered by a stable name on every node, spawned
/// on the node a placement strategy picks (the seed's `registerActorClass` and
/// `spawn(..., {strategy, role})`).
///
///   // on every node, before spawning (like register_message):
///   eam::cluster::register_actor<int>("app.counter", counter_factory);   // factory(ctx, int)
///   eam::cluster::register_actor<cache_actor, std::string>("app.cache");  // init(std::string)
///
///   auto counter = node->spawn<counter_ref>("app.counter", {.placement = eam::cluster::placement::round_robin,
///                                                          .role = "worker"}, 5).value();
///
/// Arguments travel with the wire's codecs (register_message types, refs, the built-ins).
#include <eam/cluster/wire.hpp>
#include <eam/engine/context.hpp>
#include <eam/engine/system.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <tuple>
#include <utility>

namespace eam::cluster {

enum class placement : std::uint8_t {
  local,        ///< this node (it must have the role, if one is asked for)
  round_robin,  ///< the members (with the role) in turn, this node among them, in id order
};

struct spawn_config {
  cluster::placement placement = cluster::placement::local;
  /// Only members with this role; none: `no_role_match`. Empty: any member.
  std::string role;
  /// A name for the new actor, on the node it lands on (global: see node.hpp).
  std::string name;
  bool global = false;
  /// How long to wait for a remote node's answer.
  std::chrono::milliseconds timeout{5000};
};

namespace detail {
/// Spawns the registered type on `system` from its msgpack-encoded arguments (an array);
/// throws msgpack::type_error when they do not match.
using remote_factory = std::function<actor_ref(actor_system&, const spawn_options&, const msgpack::object& args)>;
/// Binds `type_name` to a factory: throws eam::error(cluster_errc::invalid_config) when the
/// name is bound already.
void add_actor_type(std::string type_name, remote_factory factory);
}  // namespace detail

/// Registers a functional actor: `factory(actor_context&, Args...)` (a behavior), spawnable on
/// this process's nodes under `type_name`.
template <class... Args, class F>
void register_actor(std::string type_name, F factory) {
  detail::add_actor_type(std::move(type_name),
                         [factory = std::move(factory)](actor_system& system, const spawn_options& opts,
                                                        const msgpack::object& args) -> actor_ref {
                           auto values = args.as<std::tuple<std::decay_t<Args>...>>();
                           return std::apply(
                               [&](auto&&... a) -> actor_ref { return system.spawn(opts, factory, std::move(a)...); },
                               std::move(values));
                         });
}

/// Registers a class actor T whose `init` (or constructor) takes Args. (The functional
/// overload above takes a factory too: the two never compete for one call.)
template <class T, class... Args>
void register_actor(std::string type_name) {
  detail::add_actor_type(std::move(type_name),
                         [](actor_system& system, const spawn_options& opts, const msgpack::object& args) -> actor_ref {
                           auto values = args.as<std::tuple<std::decay_t<Args>...>>();
                           return std::apply(
                               [&](auto&&... a) -> actor_ref { return system.spawn<T>(opts, std::move(a)...); },
                               std::move(values));
                         });
}

}  // namespace eam::cluster
