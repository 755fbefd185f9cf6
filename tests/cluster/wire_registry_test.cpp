// The registry of wire types: looking a type up by its C++ type, as every remote send does, and
// by its wire name, as every decoded item does.
#include <doctest/doctest.h>
#include <eam/cluster/wire.hpp>

// Internal header of the cluster layer (eam_cluster_internal).
#include "wire_registry.hpp"

#include <string>
#include <utility>

namespace {

template <int N>
struct numbered_type {
  int v = 0;
  MSGPACK_DEFINE(v);
};
constexpr int type_count = 40;  // more than a thread keeps at once (wire_registry.cpp)

template <int... N>
void register_numbered(std::integer_sequence<int, N...>) {
  (eam::cluster::register_message<numbered_type<N>>("registry_test.t" + std::to_string(N)), ...);
}

// Whether type N is found, by its C++ type and by its wire name, as itself.
template <int N>
bool found_right() {
  const std::string name = "registry_test.t" + std::to_string(N);
  const auto* by_type = eam::cluster::internal::find_wire_type(eam::message_type_id::of<numbered_type<N>>());
  const auto* by_name = eam::cluster::internal::find_wire_type(name);
  return by_type != nullptr && by_type->name == name && by_name == by_type;
}

template <int... N>
int found_wrong(std::integer_sequence<int, N...>) {
  return ((found_right<N>() ? 0 : 1) + ...);
}

struct registered_late {
  int v = 0;
  MSGPACK_DEFINE(v);
};

}  // namespace

TEST_SUITE("cluster.wire") {
  TEST_CASE("each of many types looked up in turn on one thread, by type and by name, is found as itself") {
    register_numbered(std::make_integer_sequence<int, type_count>{});
    for (int round = 0; round < 3; ++round) CHECK(found_wrong(std::make_integer_sequence<int, type_count>{}) == 0);
  }

  TEST_CASE("a type registered after a look-up missed it is found") {
    const auto type = eam::message_type_id::of<registered_late>();
    CHECK(eam::cluster::internal::find_wire_type(type) == nullptr);
    CHECK(eam::cluster::internal::find_wire_type("registry_test.late") == nullptr);
    CHECK(eam::cluster::internal::find_wire_type("") == nullptr);
    eam::cluster::register_message<registered_late>("registry_test.late");
    const auto* found = eam::cluster::internal::find_wire_type(type);
    REQUIRE(found != nullptr);
    CHECK(found->name == "registry_test.late");
    CHECK(eam::cluster::internal::find_wire_type("registry_test.late") == found);
  }
}
