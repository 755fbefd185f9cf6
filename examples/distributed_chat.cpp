// The seed README's chat room, across nodes: the room is a global name on one node; each user
// is an actor on its own node that joins the process group "chat", posts to the room by name,
// and hears what everyone posts through the group. One command runs the room's node and two
// users' nodes (copies of this program).
#include "cluster_processes.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <cstdio>
#include <memory>

struct post {
  std::string from, text;
  MSGPACK_DEFINE(from, text);
};
struct said {
  std::string from, text;
  MSGPACK_DEFINE(from, text);
};
/// A user tells the room it has heard every user's hello.
struct heard_all {
  std::string who;
  MSGPACK_DEFINE(who);
};

constexpr int users = 2;

int main(int argc, char** argv) {
  eam::cluster::register_message<post>("example.chat.post");
  eam::cluster::register_message<said>("example.chat.said");
  eam::cluster::register_message<heard_all>("example.chat.heard_all");

  if (argc == 3) {  // a user's node, started below: argv[1] is the user's name
    const std::string name = argv[1];
    auto node = example::start(name, {argv[2]});
    auto user = node->system().spawn([name](eam::actor_context& ctx) {
      auto& heard = ctx.make_state<int>(0);
      return eam::behavior{[&ctx, &heard, name](const said& s) {
        std::printf("[%s's screen] %s: %s\n", name.c_str(), s.from.c_str(), s.text.c_str());
        std::fflush(stdout);
        if (++heard == users)
          if (auto room = ctx.system().whereis<eam::typed_ref<void(heard_all)>>("chat-room"))
            room.value().cast(heard_all{name});
      }};
    });
    (void)node->join_group("chat", user);
    // Post once the room's name has reached this node and everyone is in the group.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((!node->system().whereis("chat-room") || node->group_members("chat").size() < users) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (auto room = node->system().whereis<eam::typed_ref<void(post)>>("chat-room"))
      room.value().cast(post{name, "hello from " + name});
    example::wait_until_gone(*node, "room");
    return 0;
  }

  auto node = example::start("room");
  auto done = std::make_shared<std::atomic<int>>(0);
  eam::cluster::node* self = node.get();
  node->system().spawn({.name = "chat-room", .global = true}, [self, done](eam::actor_context&) {
    return eam::behavior{[self](const post& p) { self->broadcast("chat", said{p.from, p.text}); },
                         [done](const heard_all&) { ++*done; }};
  });
  const pid_t alice = example::start_copy({"alice", node->address()});
  const pid_t bob = example::start_copy({"bob", node->address()});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done->load() < users && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool everyone_heard = done->load() == users;
  std::printf(everyone_heard ? "every user heard every hello\n" : "some hello was not heard\n");
  node->shutdown();
  const bool ended = example::wait_for(alice) & example::wait_for(bob);
  return everyone_heard && ended ? 0 : 1;
}
