// A test node: starts a node from its command line, serves the test actors (test_actors.hpp),
// prints "READY <port>" and runs until told to quit (graceful leave), until its stdin closes
// (the test process ended), until its control service stops it, or until it is killed.
//
//   eam_test_node --id b [--port 0] [--seed host:port]... [--cookie C] [--salt S]
//                 [--role R]... [--meta key=value]... [--workers N] [--bind ADDRESS] [--fast 1]
//                 [--consume NODE/NAME] [--heartbeat-interval MS] [--heartbeat-timeout MS]
//
// Besides the test actors it serves "members" (members_query: its view of the membership) and
// "registrar" (the distributed registry, from this node). With --consume it subscribes a consumer
// to that node's int64 producer before it is ready, and serves "consumed" (test_actors.hpp).
#include "test_actors.hpp"

#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  using namespace eam::test::remote;
  eam::cluster::node_config config;
  config.system.workers = 2;
  std::string consume;  // NODE/NAME
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--id") config.node_id = value;
    else if (flag == "--port") config.port = static_cast<std::uint16_t>(std::stoi(value));
    else if (flag == "--seed") config.seeds.push_back(value);
    else if (flag == "--role") config.roles.push_back(value);
    else if (flag == "--meta" && value.find('=') != std::string::npos)
      config.metadata[value.substr(0, value.find('='))] = value.substr(value.find('=') + 1);
    else if (flag == "--bind") config.bind_address = value;
    else if (flag == "--fast") config.membership = eam::test::remote::fast_membership();
    else if (flag == "--suspicion-mult") config.membership.suspicion_mult = std::stoi(value);
    else if (flag == "--workers") config.system.workers = static_cast<unsigned>(std::stoul(value));
    else if (flag == "--cookie") config.cookie = value;
    else if (flag == "--salt") config.salt = value;
    else if (flag == "--heartbeat-interval") config.heartbeat_interval = std::chrono::milliseconds(std::stoi(value));
    else if (flag == "--heartbeat-timeout") config.heartbeat_timeout = std::chrono::milliseconds(std::stoi(value));
    else if (flag == "--consume" && value.find('/') != std::string::npos)
      consume = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  register_messages();
  register_actor_types();
  auto started = eam::cluster::start_node(config);
  if (!started) {
    std::fprintf(stderr, "start_node: %s\n", started.error_value().what());
    return 1;
  }
  auto node = std::move(started).value();
  std::atomic<bool> quit_requested{false};
  spawn_test_actors(node->system(), quit_requested);
  spawn_registrar(*node);
  spawn_stage_actors(node->system());
  eam::cluster::node* self = node.get();
  node->system().spawn({.name = "members"}, [self](eam::actor_context&) {
    return eam::behavior{[self](members_query) {
      std::vector<std::string> lines;
      for (const auto& m : self->members()) lines.push_back(membership_line(m));
      return lines;
    }};
  });
  if (!consume.empty() &&
      !start_remote_consumer(*node, consume.substr(0, consume.find('/')), consume.substr(consume.find('/') + 1))) {
    std::fprintf(stderr, "cannot subscribe to %s\n", consume.c_str());
    return 1;
  }
  std::printf("READY %u\n", node->port());
  std::fflush(stdout);
  // Until quit, the end of stdin, or a stop through the node's control service (eamctl stop);
  // polled so that a quit needs no input.
  for (;;) {
    if (quit_requested.load() || node->wait_for_shutdown(std::chrono::milliseconds(0))) break;
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (::poll(&in, 1, 50) > 0) {
      char buf[64];
      if (::read(STDIN_FILENO, buf, sizeof buf) <= 0) break;
    }
  }
  node->shutdown();
  return 0;
}
