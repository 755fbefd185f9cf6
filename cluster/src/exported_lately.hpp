#pragma once
// exported_lately: the local actors this thread encoded lately for a node, so that a ref sent
// again and again (an actor's own, in every request it sends) skips the node's proxy table and
// its exports, two node-wide locks that every sending worker took per ref encoded.
//
// An entry matches one node life (its incarnation, random per start), one cell and one id. Ids
// are unique in the process and never reused, and a local actor's cell never becomes a proxy,
// so a hit is an actor of this node that it exported already. One that has ended since stays
// here: its ref then goes out without a new export, and peers find it gone as they would once
// the export's watch had fired (a monitor gets its reason while the node remembers it, else
// noproc; a send finds no actor).
#include <eam/engine/actor_ref.hpp>

#include <array>
#include <cstdint>

namespace eam::cluster::internal {

class exported_lately {
 public:
  [[nodiscard]] static bool contains(std::uint64_t incarnation, const actor_ref& ref) noexcept {
    const entry& e = place(ref.id());
    return e.incarnation == incarnation && e.cell == ref.cell() && e.id == ref.id();
  }
  static void add(std::uint64_t incarnation, const actor_ref& ref) noexcept {
    place(ref.id()) = entry{incarnation, ref.cell(), ref.id()};
  }

 private:
  struct entry {
    std::uint64_t incarnation = 0;
    const void* cell = nullptr;
    std::uint64_t id = 0;
  };
  static entry& place(std::uint64_t id) noexcept {
    thread_local constinit std::array<entry, 16> places{};
    return places[(id * 0x9e3779b97f4a7c15ULL) >> 60];  // the product's top 4 bits: 16 places
  }
};

}  // namespace eam::cluster::internal
