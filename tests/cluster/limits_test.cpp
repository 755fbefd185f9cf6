// What a node costs the process beside its traffic. Among many peers: it holds about five file
// descriptors and three ZeroMQ sockets per peer, so the usual soft limit of 1,024 descriptors
// and ZeroMQ's default of 1,023 sockets per context ran out at a few hundred peers (these tests
// change the test process's own soft limit and put it back). Idle: its I/O loop's turns.
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

rlimit file_limit() {
  rlimit r{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &r) == 0);
  return r;
}

/// Puts the soft limit back as it was when the test began, also when it fails.
struct soft_limit_restorer {
  rlimit saved = file_limit();
  ~soft_limit_restorer() { ::setrlimit(RLIMIT_NOFILE, &saved); }
};

eam::cluster::node_config config_here(std::vector<std::string> seeds = {}) {
  eam::test::remote::register_messages();
  eam::cluster::node_config config;
  config.node_id = "limits";
  config.seeds = std::move(seeds);
  config.cookie = std::nullopt;
  config.system.workers = 1;
  return config;
}

/// `count` addresses of 127.0.0.1 where nothing listens: ports the kernel handed out and that
/// were closed again at once (a dial there is refused, and tried again).
std::vector<std::string> unused_addresses(std::size_t count) {
  std::vector<int> held;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    out.push_back("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
    held.push_back(fd);  // held until all are chosen: no port twice
  }
  for (const int fd : held) ::close(fd);
  return out;
}

}  // namespace

TEST_SUITE("cluster.limits") {
  TEST_CASE("an idle node's I/O loop sleeps until its next deadline") {
    // Its waits were rounded down to the millisecond: the last one before each deadline (ten
    // ticks and a few gossip rounds a second) was spent in polls of 0 ms, thousands of turns a
    // second. Waiting for its deadlines, a node with one idle peer turns a few dozen times a
    // second; a busy machine only makes it turn less.
    auto config = config_here();
    config.node_id = "quiet-a";
    auto a = eam::cluster::start_node(config).value();
    config.node_id = "quiet-b";
    config.seeds = {a->address()};
    auto b = eam::cluster::start_node(config).value();
    REQUIRE(b->wait_for_peer("quiet-a", std::chrono::seconds(30)));
    const std::uint64_t before = a->stats().io_turns;
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the window the turns are counted in
    CHECK(a->stats().io_turns - before < 1000);
    b->shutdown();
    a->shutdown();
  }

  TEST_CASE("more names and group members than one frame holds all reach a node that joins later") {
    // A connecting peer is sent every global name and group member a node has (its syncs). A
    // sync larger than max_frame_bytes was not sent at all: the peer learnt none of them.
    // Here a 64 KiB frame against about 120 KB of names and 90 KB of members.
    auto config = config_here();
    config.node_id = "holder";
    config.max_frame_bytes = 64u << 10;
    auto a = eam::cluster::start_node(config).value();
    constexpr int names = 1'500, members = 10'000;
    auto idle = [](eam::actor_context&) { return eam::behavior{[](eam::test::remote::get) { return 0; }}; };
    for (int i = 0; i < names; ++i)
      a->system().spawn({.name = "a-rather-long-service-name-" + std::to_string(i), .global = true}, idle);
    for (int i = 0; i < members; ++i) REQUIRE(a->join_group("workers", a->system().spawn(idle)));
    config.node_id = "joiner";
    config.seeds = {a->address()};
    auto b = eam::cluster::start_node(config).value();
    REQUIRE(b->wait_for_peer("holder", std::chrono::seconds(30)));
    const bool all_names = eam::test::eventually([&] { return b->registered_names().size() == names; });
    CHECK(all_names);
    const bool all_members = eam::test::eventually([&] { return b->group_members("workers").size() == members; });
    CHECK(all_members);
    CHECK(b->stats().bad_frames == 0);
    b->shutdown();
    a->shutdown();
  }

  TEST_CASE("a node raises the soft file descriptor limit to the hard one, unless told not to") {
    const soft_limit_restorer restore;
    if (restore.saved.rlim_max != RLIM_INFINITY && restore.saved.rlim_max <= 256) {
      MESSAGE("the hard limit (" << restore.saved.rlim_max << ") leaves nothing to raise: skipped");
      return;
    }
    const rlimit lowered{256, restore.saved.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    {
      auto config = config_here();
      config.raise_file_limit = false;
      auto node = eam::cluster::start_node(config).value();
      CHECK(file_limit().rlim_cur == 256);
      node->shutdown();
    }
    auto node = eam::cluster::start_node(config_here()).value();
    CHECK(file_limit().rlim_cur == restore.saved.rlim_max);
    node->shutdown();
  }

  TEST_CASE("a node dials four hundred members: ZeroMQ's socket limit refuses none of the links") {
    // Three sockets a link (the DEALER, its monitor and the monitor's other end): 1,200, past
    // ZeroMQ's default of 1,023 per context, each with a descriptor, and the dials' own.
    if (file_limit().rlim_max != RLIM_INFINITY && file_limit().rlim_max < 4096) {
      MESSAGE("a hard file descriptor limit under 4,096 cannot hold 400 links: skipped");
      return;
    }
    auto node = eam::cluster::start_node(config_here(unused_addresses(400))).value();
    CHECK(node->stats().dial_failures == 0);  // the seeds are dialled before start_node returns
    node->shutdown();
  }
}
