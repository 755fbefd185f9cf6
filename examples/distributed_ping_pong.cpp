// The seed README's first multi-node example: "ping" on one node and "pong" on another, each a
// global name, cast a number back and forth, each finding the other by name. One command runs
// both nodes: this program starts its second node as a copy of itself.
#include "cluster_processes.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <cstdio>
#include <memory>

struct ball {
  int n = 0;
  MSGPACK_DEFINE(n);
};

constexpr int rounds = 10;

// Both players: hit the ball back to `other` (found by its global name) until `rounds`.
auto player(eam::actor_context& ctx, std::string me, std::string other, std::shared_ptr<std::atomic<int>> last) {
  return eam::behavior{[&ctx, me, other, last](ball b) {
    std::printf("%s received %d\n", me.c_str(), b.n);
    std::fflush(stdout);
    last->store(b.n);
    if (b.n >= rounds) return;
    if (auto peer = ctx.system().whereis<eam::typed_ref<void(ball)>>(other)) peer.value().cast(ball{b.n + 1});
  }};
}

int main(int argc, char** argv) {
  eam::cluster::register_message<ball>("example.ball");
  auto last = std::make_shared<std::atomic<int>>(-1);
  if (argc == 3 && std::string(argv[1]) == "pong") {  // the second node, started below
    auto node = example::start("node2", {argv[2]});
    node->system().spawn({.name = "pong", .global = true}, player, std::string("pong"), std::string("ping"), last);
    example::wait_until_gone(*node, "node1");
    return 0;
  }

  auto node = example::start("node1");
  auto ping = node->system().spawn({.name = "ping", .global = true}, player, std::string("ping"), std::string("pong"), last);
  const pid_t pong_node = example::start_copy({"pong", node->address()});
  // Serve once the other player's name has reached this node.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!node->system().whereis("pong") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ping.cast(ball{0});
  // ping receives the even numbers, the last one included.
  while (last->load() < rounds && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool played = last->load() == rounds;
  node->shutdown();  // node2 sees node1 leave and ends
  const bool ended = example::wait_for(pong_node);
  std::printf(played ? "%d rounds across two nodes\n" : "the game stopped early\n", rounds);
  return played && ended ? 0 : 1;
}
