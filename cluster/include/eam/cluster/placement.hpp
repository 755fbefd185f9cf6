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
///
/// A type registered with its state can also move between nodes (node::migrate): a class with
/// `S save_state()` and `void restore_state(S)` (and a default constructor) is, as registered
/// above; a functional actor calls `ctx.on_save_state(...)` and is registered with a restore
/// factory: register_migratable_actor<S, Args...>(name, factory, restore), restore(ctx, S).
#include <eam/cluster/wire.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/context.hpp>
#include <eam/engine/system.hpp>

#include <chrono>
#include <functional>
#include <optional>
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
  /// How long to wait for a remote node's answer (the look-up of its spawner included).
  std::chrono::milliseconds timeout{5000};
};

/// How node::migrate moves an actor.
struct migrate_config {
  /// How long the actor has to save its state: it first finishes the message it is handling.
  /// Past it the migration fails with `timeout` and the actor runs on where it is.
  std::chrono::milliseconds save_timeout{5000};
  /// How long the target node has to answer (probe, then rebuild; each call, its spawner's
  /// look-up included).
  std::chrono::milliseconds timeout{5000};
  /// How long the old ref passes messages on to the moved actor; later ones are dropped.
  std::chrono::milliseconds forward_for{10000};
};

/// What node::migrate_all did.
struct migrate_all_result {
  std::size_t migrated = 0;
  std::size_t failed = 0;
  std::vector<error> errors;  ///< why each failure failed
};

namespace detail {
/// Spawns the registered type on `system` from its msgpack-encoded arguments (an array);
/// throws msgpack::type_error when they do not match.
using remote_factory = std::function<actor_ref(actor_system&, const spawn_options&, const msgpack::object& args)>;
/// How a type that moves between nodes travels: its saved state packed with the wire's codecs
/// (throws when the state is not of the type's state type), and the actor rebuilt from it.
struct state_codec {
  std::function<void(wire_packer&, const message& state)> pack;
  remote_factory restore;
  /// The engine's names of this type's actors (saved_actor::type): spawned, and restored.
  std::vector<std::string_view> engine_types;
};
/// Binds `type_name` to a factory: throws eam::error(cluster_errc::invalid_config) when the
/// name is bound already.
void add_actor_type(std::string type_name, remote_factory factory, std::optional<state_codec> migration = {});

template <class T>
using saved_state_t = std::remove_cvref_t<decltype(std::declval<T&>().save_state())>;
template <class T>
concept migratable_class = requires(T& t) { t.save_state(); } &&
                           requires(T& t, saved_state_t<T> s) { t.restore_state(std::move(s)); };

/// A migratable class actor rebuilt from its saved state (its own init is not run again).
template <class T>
struct restored final : T {
  void init(saved_state_t<T> state) { this->restore_state(std::move(state)); }
};

template <class S>
void pack_state(wire_packer& pk, const message& state) {
  const S* s = state.get_if<S>();
  if (s == nullptr) throw error(errc::actor_not_migratable, "its saved state is a " + std::string(state.type_name()));
  pk.pack(*s);
}
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

/// Registers a functional actor that can move (node::migrate): `factory(ctx, Args...)` as
/// above, which calls `ctx.on_save_state(...)` returning a State, and `restore(ctx, State)`,
/// which rebuilds the behavior from it on the node it moves to (and saves its state again).
template <class State, class... Args, class F, class R>
void register_migratable_actor(std::string type_name, F factory, R restore) {
  detail::state_codec codec{
      &detail::pack_state<State>,
      [restore](actor_system& system, const spawn_options& opts, const msgpack::object& state) -> actor_ref {
        return system.spawn(opts, restore, state.as<State>());
      },
      {eam::type_name<F>(), eam::type_name<R>()}};
  detail::add_actor_type(
      std::move(type_name),
      [factory = std::move(factory)](actor_system& system, const spawn_options& opts,
                                     const msgpack::object& args) -> actor_ref {
        auto values = args.as<std::tuple<std::decay_t<Args>...>>();
        return std::apply([&](auto&&... a) -> actor_ref { return system.spawn(opts, factory, std::move(a)...); },
                          std::move(values));
      },
      std::move(codec));
}

/// Registers a class actor T whose `init` (or constructor) takes Args. (The functional
/// overload above takes a factory too: the two never compete for one call.) A T with
/// save_state and restore_state can move between nodes.
template <class T, class... Args>
void register_actor(std::string type_name) {
  std::optional<detail::state_codec> codec;
  if constexpr (detail::migratable_class<T>) {
    static_assert(std::is_default_constructible_v<T>,
                  "a class actor that restores its state needs a default constructor: restore_state rebuilds it");
    using state = detail::saved_state_t<T>;
    codec = detail::state_codec{
        &detail::pack_state<state>,
        [](actor_system& system, const spawn_options& opts, const msgpack::object& saved) -> actor_ref {
          return system.spawn<detail::restored<T>>(opts, saved.as<state>());
        },
        {eam::type_name<T>(), eam::type_name<detail::restored<T>>()}};
  }
  detail::add_actor_type(
      std::move(type_name),
      [](actor_system& system, const spawn_options& opts, const msgpack::object& args) -> actor_ref {
        auto values = args.as<std::tuple<std::decay_t<Args>...>>();
        return std::apply([&](auto&&... a) -> actor_ref { return system.spawn<T>(opts, std::move(a)...); },
                          std::move(values));
      },
      std::move(codec));
}

}  // namespace eam::cluster
