#pragma once
// Refs inside messages are encoded and decoded deep inside msgpack adaptors, which take no
// context: the node doing the work installs itself on the thread for the duration
// (scoped_ref_resolver), and wire.hpp's encode_ref / decode_ref ask it.
#include <eam/cluster/wire.hpp>

namespace eam::cluster::internal {

class ref_resolver {
 public:
  virtual detail::wire_ref encode(const actor_ref& ref) = 0;
  virtual actor_ref decode(const detail::wire_ref& ref) = 0;

 protected:
  ~ref_resolver() = default;
};

class scoped_ref_resolver {
 public:
  explicit scoped_ref_resolver(ref_resolver& r) noexcept;
  ~scoped_ref_resolver();
  scoped_ref_resolver(const scoped_ref_resolver&) = delete;
  scoped_ref_resolver& operator=(const scoped_ref_resolver&) = delete;

 private:
  ref_resolver* previous_;
};

}  // namespace eam::cluster::internal
