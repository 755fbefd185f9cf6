#pragma once
/// The one spawn path that actor_system and actor_context share.

#include <eam/engine/actor.hpp>
#include <eam/engine/actor_ref.hpp>
#include <eam/engine/behavior.hpp>
#include <eam/engine/spawn_options.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

namespace eam {

namespace detail {

class system_state;

using impl_constructor = void (*)(void* closure, void* storage);

/// Allocates a cell with room for an impl of `size` bytes, constructs the impl in it through
/// `construct`, registers the actor (and its name) and schedules its init. Returns a counted
/// reference. Throws eam::error: system_shutting_down, name_taken.
actor_cell* spawn_cell(system_state& sys, actor_cell* parent, const spawn_options& opts, const actor_type& type,
                       std::size_t size, std::size_t align, void* closure, impl_constructor construct);

template <class Impl, class... A>
actor_cell* spawn_impl(system_state& sys, actor_cell* parent, const spawn_options& opts, A&&... args) {
  auto make = [&](void* storage) { ::new (storage) Impl(std::forward<A>(args)...); };
  return spawn_cell(sys, parent, opts, actor_type_of<Impl>, sizeof(Impl), alignof(Impl), &make,
                    [](void* closure, void* storage) { return (*static_cast<decltype(make)*>(closure))(storage); });
}

template <class F, class... A>
concept actor_factory = std::invocable<std::decay_t<F>&, actor_context&, std::decay_t<A>&&...>;

template <class T>
concept class_actor = std::derived_from<T, actor_base>;

template <class F, class... A>
auto spawn_functional(system_state& sys, actor_cell* parent, const spawn_options& opts, F&& f, A&&... args) {
  using impl = functional_impl<std::decay_t<F>, std::decay_t<A>...>;
  using ref = ref_of<typename impl::behavior_type>;
  return ref(actor_ref(spawn_impl<impl>(sys, parent, opts, std::forward<F>(f), std::forward<A>(args)...), adopt_t{}),
             adopt_t{});
}

template <class T, class... A>
auto spawn_class(system_state& sys, actor_cell* parent, const spawn_options& opts, A&&... args) {
  using impl = class_impl<T, std::decay_t<A>...>;
  return ref_of<T>(actor_ref(spawn_impl<impl>(sys, parent, opts, std::forward<A>(args)...), adopt_t{}), adopt_t{});
}

template <class T>
concept not_spawn_options = !std::same_as<std::remove_cvref_t<T>, spawn_options>;

}  // namespace detail
}  // namespace eam
