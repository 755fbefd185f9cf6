// How a node puts a local actor's ref into words (node_runtime::encode): the first encoding
// exports the actor (watched, reachable by id); later ones of the same actor on the same thread
// skip the node's locks (exported_lately.hpp) and must say the same.
#include <doctest/doctest.h>

// Internal headers of the cluster layer (eam_cluster_internal).
#include "exported_lately.hpp"
#include "node_runtime.hpp"
#include "ref_resolver.hpp"

#include "../support/eventually.hpp"

#include <eam/cluster/wire.hpp>
#include <eam/engine/context.hpp>

#include <msgpack.hpp>

namespace {

using eam::cluster::internal::node_runtime;
using eam::test::eventually;

struct nudge {};

auto idle_actor(eam::actor_system& system) {
  return system.spawn([](eam::actor_context&) { return eam::behavior{[](nudge) {}}; });
}

eam::cluster::node_config local_config(std::string id) {
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.cookie = std::nullopt;
  config.system.workers = 1;
  return config;
}

eam::cluster::detail::wire_ref encode_on(node_runtime& rt, const eam::actor_ref& ref) {
  eam::cluster::internal::scoped_ref_resolver resolve(rt);
  return eam::cluster::detail::encode_ref(ref);
}

}  // namespace

TEST_SUITE("cluster.refs") {
  TEST_CASE("a local actor's ref encodes as this node's id for it, again and again, once exported") {
    node_runtime rt(local_config("encoder"));
    const eam::actor_ref a = idle_actor(rt.system());
    const eam::actor_ref b = idle_actor(rt.system());
    const std::uint64_t watched_before = rt.stats().exported_watched;
    for (int round = 0; round < 3; ++round) {
      for (const auto& ref : {a, b}) {
        const auto w = encode_on(rt, ref);
        CHECK(w.node == "encoder");
        CHECK(w.actor == ref.id());
      }
      CHECK(rt.stats().exported_watched == watched_before + 2);  // each exported once, on its first encoding
    }
    // This thread remembers what it encoded last, for this node's life only (each check right
    // after its encoding: two actors may share one of the 16 places).
    using eam::cluster::internal::exported_lately;
    const std::uint64_t life = encode_on(rt, a).incarnation;
    CHECK(exported_lately::contains(life, a));
    CHECK_FALSE(exported_lately::contains(life + 1, a));
    (void)encode_on(rt, b);
    CHECK(exported_lately::contains(life, b));
    const eam::actor_ref never_sent = idle_actor(rt.system());
    CHECK_FALSE(exported_lately::contains(life, never_sent));
    // Once the actor has ended, encoding its ref again still names it (a peer finds it gone).
    rt.system().stop(a);
    REQUIRE(eventually([&] { return !a.is_alive(); }));
    CHECK(encode_on(rt, a).actor == a.id());
    rt.shutdown();
  }

  TEST_CASE("a ref of another actor system does not encode, even after that system's twin encoded") {
    node_runtime first(local_config("first"));
    node_runtime second(local_config("second"));
    const eam::actor_ref here = idle_actor(first.system());
    CHECK(encode_on(first, here).node == "first");
    // The same thread: what `first` remembers must not let `second` pass a ref it cannot serve.
    CHECK_THROWS_AS(encode_on(second, here), msgpack::type_error);
    eam::actor_system elsewhere({.workers = 1});
    CHECK_THROWS_AS(encode_on(first, idle_actor(elsewhere)), msgpack::type_error);
    first.shutdown();
    second.shutdown();
  }
}
