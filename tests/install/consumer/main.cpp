// The smallest useful libeam program: exits 0 only if a call round-trips, and a cluster node
// (libzmq, libsodium, msgpack-cxx through the package) starts and stops.
#include <eam/cluster.hpp>
#include <eam/eam.hpp>

#include <cstdlib>

struct get {};

int main() {
  {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 42; }}; });
    if (ref.call(get{}).get().value() != 42) return 1;
  }
  eam::cluster::node_config config;
  config.cookie = "a-consumer-cookie-of-enough-length";
  config.system.workers = 1;
  auto node = eam::cluster::start_node(config);
  if (!node || node.value()->port() == 0) return 1;
  node.value()->shutdown();
  return 0;
}
