#pragma once
/// Messages are plain C++ types. Each type gets one `message_type` descriptor, whose address is
/// the type's identity at run time (compared by pointer when an actor dispatches).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace eam {

/// The readable name of a type, e.g. "app::get_count" (compiler-specific, for logs and tools).
template <class T>
constexpr std::string_view type_name() noexcept {
  std::string_view p = __PRETTY_FUNCTION__;
  const auto start = p.find("T = ") + 4;
  const auto end = p.find_first_of(";]", start);
  return p.substr(start, end - start);
}

namespace detail {

/// Run-time descriptor of a message type: how to destroy a payload (null when there is nothing
/// to do, which spares most messages an indirect call), where it sits in an envelope, its name.
struct message_type {
  void (*destroy)(void* payload) noexcept;
  std::uint32_t align;
  std::string_view name;
};

template <class M>
void destroy_payload(void* p) noexcept {
  static_cast<M*>(p)->~M();
}

template <class M>
inline constexpr message_type message_type_of{
    std::is_trivially_destructible_v<M> ? nullptr : &destroy_payload<M>, alignof(M), type_name<M>()};

}  // namespace detail

/// The message type a handler declared with parameter `A` receives: `const get&`, `get&&` and
/// `get` all mean `get`.
template <class A>
using message_t = std::remove_cvref_t<A>;

}  // namespace eam
