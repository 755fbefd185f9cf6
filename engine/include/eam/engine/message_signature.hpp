#pragma once
/// The signatures a typed ref declares, as runtime type ids: what a layer above the engine
/// compares with what an actor it cannot see declares (the cluster's typed lookup checks a
/// remote actor's signatures this way).
#include <eam/engine/actor_ref.hpp>
#include <eam/engine/any_message.hpp>

#include <vector>

namespace eam {

/// One signature `R(M)`: the message's type id, and the reply's (empty for a cast, `void(M)`).
struct message_signature {
  message_type_id message;
  message_type_id reply;
};

namespace detail {
template <class Sig>
message_signature message_signature_of() {
  using traits = signature_traits<Sig>;
  if constexpr (traits::is_cast)
    return {message_type_id::of<typename traits::message>(), {}};
  else
    return {message_type_id::of<typename traits::message>(), message_type_id::of<typename traits::reply>()};
}
template <class... Sigs>
std::vector<message_signature> message_signatures_of(type_list<Sigs...>) {
  return {message_signature_of<Sigs>()...};
}
}  // namespace detail

/// The signatures of the typed ref `Ref`, in the order it declares them.
template <class Ref>
  requires is_typed_ref_v<Ref>
std::vector<message_signature> signatures_of() {
  return detail::message_signatures_of(typename Ref::signatures{});
}

}  // namespace eam
