#include "ref_resolver.hpp"

namespace eam::cluster {

namespace {
thread_local internal::ref_resolver* current_resolver = nullptr;
}

namespace internal {
scoped_ref_resolver::scoped_ref_resolver(ref_resolver& r) noexcept : previous_(current_resolver) {
  current_resolver = &r;
}
scoped_ref_resolver::~scoped_ref_resolver() { current_resolver = previous_; }
}  // namespace internal

namespace detail {
// Without a node on this thread a ref cannot be put into words: the encoding fails like any
// value msgpack cannot represent.
wire_ref encode_ref(const actor_ref& ref) {
  if (current_resolver == nullptr) throw msgpack::type_error();
  return current_resolver->encode(ref);
}
actor_ref decode_ref(const wire_ref& ref) {
  if (current_resolver == nullptr) throw msgpack::type_error();
  return current_resolver->decode(ref);
}
}  // namespace detail

}  // namespace eam::cluster
