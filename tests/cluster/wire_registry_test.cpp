// The registry of wire types: looking a type up by its C++ type, as every remote send does.
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

// The wire name found for type N, or empty when none is.
template <int N>
std::string found_name() {
  const auto* t = eam::cluster::internal::find_wire_type(eam::message_type_id::of<numbered_type<N>>());
  return t == nullptr ? std::string() : t->name;
}

template <int... N>
int wrong_names(std::integer_sequence<int, N...>) {
  return ((found_name<N>() == "registry_test.t" + std::to_string(N) ? 0 : 1) + ...);
}

struct registered_late {
  int v = 0;
  MSGPACK_DEFINE(v);
};

}  // namespace

TEST_SUITE("cluster.wire") {
  TEST_CASE("each of many types looked up in turn on one thread is found as itself") {
    register_numbered(std::make_integer_sequence<int, type_count>{});
    for (int round = 0; round < 3; ++round) CHECK(wrong_names(std::make_integer_sequence<int, type_count>{}) == 0);
  }

  TEST_CASE("a type registered after a look-up missed it is found") {
    const auto type = eam::message_type_id::of<registered_late>();
    CHECK(eam::cluster::internal::find_wire_type(type) == nullptr);
    eam::cluster::register_message<registered_late>("registry_test.late");
    const auto* found = eam::cluster::internal::find_wire_type(type);
    REQUIRE(found != nullptr);
    CHECK(found->name == "registry_test.late");
  }
}
