// A node keeps a proxy per remote actor whose ref it received (cluster/README.md, "Refs"). One
// that nothing refers to any more is ended as the table grows, and its node drops the watch it
// kept for it; every proxy that something still refers to (a ref, a watch from an actor or from
// outside actors, a link) keeps working, and a ref that comes back makes a new proxy that hears
// its actor's end. Two nodes in this process over 127.0.0.1, in open mode, so that a raw peer
// (raw_peer.hpp) can also send monitors and demonitors by hand.
#include "raw_peer.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/cluster.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

struct give_refs {  // spawns this many sleepers and answers with their refs
  int count;
  MSGPACK_DEFINE(count);
};
struct give_one {  // the ref of sleeper `index`
  int index;
  MSGPACK_DEFINE(index);
};
struct ref_list {
  std::vector<eam::actor_ref> refs;
  MSGPACK_DEFINE(refs);
};
struct end_one {  // stops sleeper `index` with the reason "ended <index>"
  int index;
  MSGPACK_DEFINE(index);
};
struct ping {  // a sleeper answers with its index
  MSGPACK_DEFINE();
};
using directory_ref = eam::typed_ref<ref_list(give_refs), ref_list(give_one), bool(end_one)>;
using sleeper_ref = eam::typed_ref<int(ping)>;

struct watch_it {
  eam::actor_ref other;
};
struct link_it {
  eam::actor_ref other;
};
using holder_ref = eam::typed_ref<bool(watch_it), bool(link_it)>;

void register_proxy_test_messages() {
  static const bool done = [] {
    eam::cluster::register_message<give_refs>("proxy_collection_test.give_refs");
    eam::cluster::register_message<give_one>("proxy_collection_test.give_one");
    eam::cluster::register_message<ref_list>("proxy_collection_test.ref_list");
    eam::cluster::register_message<end_one>("proxy_collection_test.end_one");
    eam::cluster::register_message<ping>("proxy_collection_test.ping");
    return true;
  }();
  (void)done;
}

void spawn_directory(eam::actor_system& system) {
  system.spawn({.name = "directory"}, [](eam::actor_context& ctx) {
    auto& sleepers = ctx.make_state<std::vector<eam::actor_ref>>();
    return eam::behavior{[&ctx, &sleepers](give_refs g) {
                           ref_list out;
                           for (int i = 0; i < g.count; ++i) {
                             const int index = static_cast<int>(sleepers.size());
                             sleepers.push_back(ctx.spawn([index](eam::actor_context&) {
                               return eam::behavior{[index](ping) { return index; }};
                             }));
                             out.refs.push_back(sleepers.back());
                           }
                           return out;
                         },
                         [&sleepers](give_one g) { return ref_list{{sleepers.at(static_cast<std::size_t>(g.index))}}; },
                         [&sleepers](end_one e) {
                           const eam::actor_ref& s = sleepers.at(static_cast<std::size_t>(e.index));
                           eam::system_of(s).stop(s, eam::exit_reason::custom("ended " + std::to_string(e.index)));
                           return true;
                         }};
  });
}

// What an actor's watch, a link and a watch from outside actors hear, by the sleeper's reason.
struct heard {
  std::mutex lock;
  std::vector<std::string> reasons;
  void add(const eam::exit_reason& r) {
    std::lock_guard g(lock);
    reasons.push_back(r.to_string());
  }
  bool has(const std::string& reason) {
    std::lock_guard g(lock);
    return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
  }
  std::size_t size() {
    std::lock_guard g(lock);
    return reasons.size();
  }
};

}  // namespace

TEST_SUITE("cluster.proxy_collection") {
  TEST_CASE(
      "proxies nothing refers to are ended and unwatched, the rest keep working, and a ref that comes back works") {
    ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says: the raw socket does no handshake
    register_proxy_test_messages();
    eam::cluster::node_config config;
    config.cookie = std::nullopt;
    config.heartbeat_timeout = 120s;  // the raw peer sends no heartbeats
    config.system.workers = 1;
    config.node_id = "proxies-b";
    auto b = eam::cluster::start_node(config).value();
    spawn_directory(b->system());
    config.node_id = "proxies-a";
    config.seeds = {b->address()};
    auto a = eam::cluster::start_node(config).value();
    REQUIRE(a->wait_for_peer("proxies-b", 30s));
    directory_ref directory = a->whereis<directory_ref>("proxies-b", "directory").value();
    REQUIRE(a->stats().proxies == 1);

    // The first 1,100 proxies: the look at the 1,024th finds each still held by the answer being
    // decoded, and sets the next look at 2,048.
    std::vector<eam::actor_ref> first = directory.call(give_refs{1100}, 60s).get().value().refs;
    REQUIRE(first.size() == 1100);
    CHECK(a->stats().proxies == 1101);

    // Four are kept as refs; one is watched from outside actors, one by an actor, one linked to
    // an actor that traps exits. Nothing refers to the other 1,093 once `first` is cleared.
    std::vector<eam::actor_ref> kept(first.begin(), first.begin() + 4);
    heard outside, watcher_heard, linker_heard;
    a->system().watch(first[4], [&](const eam::down& d) { outside.add(d.reason); });
    auto watcher = a->system().spawn([&](eam::actor_context& ctx) {
      return eam::behavior{[&ctx](const watch_it& w) {
                             ctx.watch(w.other);
                             return true;
                           },
                           [](link_it) { return false; }, [&](const eam::down& d) { watcher_heard.add(d.reason); }};
    });
    auto linker = a->system().spawn([&](eam::actor_context& ctx) {
      ctx.set_trap_exit(true);
      return eam::behavior{[](const watch_it&) { return false; },
                           [&ctx](const link_it& l) {
                             ctx.link(l.other);
                             return true;
                           },
                           [&](const eam::exit_signal& x) { linker_heard.add(x.reason); }};
    });
    REQUIRE(eam::unchecked_typed_ref_cast<holder_ref>(watcher).call(watch_it{first[5]}).get().value());
    REQUIRE(eam::unchecked_typed_ref_cast<holder_ref>(linker).call(link_it{first[6]}).get().value());
    first.clear();

    // 1,100 more: the look at the 2,048th ends the first round's unreferenced proxies.
    std::vector<eam::actor_ref> second = directory.call(give_refs{1100}, 60s).get().value().refs;
    REQUIRE(second.size() == 1100);
    CHECK(a->stats().proxies == 1 + 4 + 3 + 1100);
    // ... and b drops the watch it kept for each: one per proxy a keeps.
    CHECK(eventually([&] { return b->stats().peer_watches == a->stats().proxies; }, 60s));
    CHECK(outside.size() == 0);  // the kept ones did not end
    CHECK(watcher_heard.size() == 0);
    CHECK(linker_heard.size() == 0);

    // The kept ones still reach their sleepers, and hear their ends with b's reasons.
    for (int i = 0; i < 4; ++i)
      CHECK(eam::unchecked_typed_ref_cast<sleeper_ref>(kept[static_cast<std::size_t>(i)])
                .call(ping{}, 60s)
                .get()
                .value() == i);
    for (int i : {4, 5, 6}) REQUIRE(directory.call(end_one{i}, 60s).get().value());
    CHECK(eventually([&] { return outside.has("ended 4"); }, 60s));
    CHECK(eventually([&] { return watcher_heard.has("ended 5"); }, 60s));
    CHECK(eventually([&] { return linker_heard.has("ended 6"); }, 60s));

    // A ref to an actor whose proxy was ended comes back: a new proxy, whose watch hears its end
    // (b took back the old proxy's monitor before it took the new one's).
    eam::actor_ref again = directory.call(give_one{10}, 60s).get().value().refs.at(0);
    CHECK(eam::unchecked_typed_ref_cast<sleeper_ref>(again).call(ping{}, 60s).get().value() == 10);
    heard again_heard;
    a->system().watch(again, [&](const eam::down& d) { again_heard.add(d.reason); });
    REQUIRE(directory.call(end_one{10}, 60s).get().value());
    CHECK(eventually([&] { return again_heard.has("ended 10"); }, 60s));

    // b counts each peer's monitors of an actor: two monitors and a demonitor leave one watch,
    // whichever order they came in, and a demonitor beyond the count takes nothing from a's.
    const directory_ref local_directory = b->system().whereis<directory_ref>("directory").value();
    const std::uint64_t watched_id = local_directory.call(give_one{1120}).get().value().refs.at(0).id();  // a holds it
    eam::test::raw_dealer raw(b->port());
    REQUIRE(raw.send(eam::test::hello_frame("raw-peer", 1)));
    REQUIRE(eventually([&] { return b->stats().peers_connected == 2; }, 60s));
    const auto watches = b->stats().peer_watches;
    REQUIRE(raw.send(eam::test::data_frame([&](auto& pk) {
      eam::test::wire::pack_monitor(pk, watched_id);
      eam::test::wire::pack_monitor(pk, watched_id);
      eam::test::wire::pack_demonitor(pk, watched_id);
    })));
    CHECK(eventually([&] { return b->stats().peer_watches == watches + 1; }, 60s));
    REQUIRE(raw.send(eam::test::data_frame([&](auto& pk) {
      eam::test::wire::pack_demonitor(pk, watched_id);
      eam::test::wire::pack_demonitor(pk, watched_id);
    })));
    CHECK(eventually([&] { return b->stats().peer_watches == watches; }, 60s));
    heard held_heard;
    a->system().watch(second[20], [&](const eam::down& d) { held_heard.add(d.reason); });
    REQUIRE(directory.call(end_one{1120}, 60s).get().value());
    CHECK(eventually([&] { return held_heard.has("ended 1120"); }, 60s));  // a's own watch stood
    a->shutdown();
    b->shutdown();
  }
}
