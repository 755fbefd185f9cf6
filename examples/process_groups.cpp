// Process groups: broadcast to every member; members that stop leave.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

struct announce {
  int n;
};

int main() {
  eam::actor_system system;
  eam::otp::process_groups groups(system);
  auto heard = std::make_shared<std::atomic<int>>(0);
  auto listener = [heard](eam::actor_context&) { return eam::behavior{[heard](announce a) { *heard += a.n; }}; };
  auto a = system.spawn(listener);
  auto b = system.spawn(listener);
  groups.join("news", a);
  groups.join("news", b);
  groups.broadcast("news", announce{1});
  while (heard->load() != 2) {  // both heard it
    std::this_thread::yield();
  }
  system.stop(a);
  while (groups.members("news").value().size() != 1) {  // a left when it stopped
    std::this_thread::yield();
  }
  groups.broadcast("news", announce{10});
  while (heard->load() != 12) {  // only b heard this one
    std::this_thread::yield();
  }
  std::printf("heard %d, members now %zu\n", heard->load(), groups.members("news").value().size());
}
