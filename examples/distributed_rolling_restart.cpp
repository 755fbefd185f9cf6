// Migration during a rolling restart: node "v1" runs session actors under global names while a
// client keeps sending to them; node "v2" (the upgraded one, a copy of this program) joins; v1
// drains (no new spawns), moves every session to v2 with its state and its queued messages,
// and leaves. Nothing the client sent is lost, and the names now resolve on v2.
#include "cluster_processes.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <cstdio>
#include <thread>

struct hit {
  MSGPACK_DEFINE();
};
struct stats_query {
  MSGPACK_DEFINE();
};
struct session_stats {
  std::uint64_t hits = 0;
  std::string node;
  MSGPACK_DEFINE(hits, node);
};

// A session counts its hits; it moves with that count (save_state / restore_state).
struct session : eam::actor<void(hit), session_stats(stats_query)> {
  std::uint64_t hits = 0;
  void handle_cast(hit) { ++hits; }
  session_stats handle_call(stats_query) { return {hits, context().system().node_id()}; }
  std::uint64_t save_state() const { return hits; }
  void restore_state(std::uint64_t saved) { hits = saved; }
};
using session_ref = eam::typed_ref<void(hit), session_stats(stats_query)>;

void register_types() {
  eam::cluster::register_message<hit>("example.hit");
  eam::cluster::register_message<stats_query>("example.stats_query");
  eam::cluster::register_message<session_stats>("example.session_stats");
  eam::cluster::register_actor<session>("example.session");
}

int main(int argc, char** argv) {
  register_types();
  if (argc == 3 && std::string(argv[1]) == "v2") {  // the upgraded node, started below
    auto node = example::start("v2", {argv[2]});
    example::wait_until_gone(*node, "v1");
    return 0;
  }

  auto node = example::start("v1");
  constexpr int sessions = 3;
  std::vector<session_ref> refs;
  for (int i = 0; i < sessions; ++i)
    refs.push_back(node->spawn<session_ref>("example.session", {.name = "session-" + std::to_string(i), .global = true})
                       .value());

  // The client: hits every session through the refs it got at the start, all along.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> sent{0};
  std::thread client([&] {
    while (!stop.load()) {
      for (auto& r : refs) r.cast(hit{});
      sent.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });

  const pid_t v2 = example::start_copy({"v2", node->address()});
  bool ok = node->wait_for_cluster({.min_members = 2, .nodes = {"v2"}, .timeout = std::chrono::seconds(30)}).has_value() &&
            node->wait_for_peer("v2", std::chrono::seconds(30));
  if (ok) {
    node->drain();  // the rolling restart: no new work here...
    std::printf("v1 drains: health %s\n", node->system().health().message.c_str());
    auto moved = node->migrate_all("v2", {.save_timeout = std::chrono::seconds(30),
                                                .timeout = std::chrono::seconds(30),
                                                .forward_for = std::chrono::seconds(30)});  // ...and its actors go
    std::printf("migrated %zu sessions to v2, %zu failed\n", moved.migrated, moved.failed);
    ok = moved.migrated == sessions && moved.failed == 0;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the client goes on through the old refs
  stop.store(true);
  client.join();

  // Every hit reached its session, now on v2, and each name resolves there.
  for (int i = 0; ok && i < sessions; ++i) {
    const std::string name = "session-" + std::to_string(i);
    auto by_name = node->system().whereis<session_ref>(name);
    session_stats s;
    for (int tries = 0; tries < 500 && by_name; ++tries) {  // the relayed hits are still arriving
      auto answer = by_name.value().call(stats_query{}).get();
      if (answer) s = answer.value();
      if (s.hits == sent.load()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::printf("%s on %s: %llu hits of %llu sent\n", name.c_str(), s.node.c_str(),
                static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(sent.load()));
    ok = by_name.has_value() && s.node == "v2" && s.hits == sent.load();
  }
  node->shutdown();  // v1 leaves; v2 sees it go and ends
  const bool ended = example::wait_for(v2);
  return ok && ended ? 0 : 1;
}
