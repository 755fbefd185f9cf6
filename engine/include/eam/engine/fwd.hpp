#pragma once
/// Forward declarations of the engine's public types.

namespace eam {
class actor_system;
class actor_context;
class actor_ref;
template <class... Signatures> class typed_ref;
template <class T> class result;
template <class T> class task;
class error;
class exit_reason;
struct system_config;
struct spawn_options;
struct shutdown_options;

namespace detail {
class actor_cell;  // defined in engine/src; users only ever hold pointers through actor_ref
struct envelope;
struct actor_type;
}  // namespace detail
}  // namespace eam
