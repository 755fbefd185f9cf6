// The smallest useful libeam program: exits 0 only if a call round-trips.
#include <eam/eam.hpp>

struct get {};

int main() {
  eam::actor_system system({.workers = 1});
  auto ref = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 42; }}; });
  return ref.call(get{}).get().value() == 42 ? 0 : 1;
}
