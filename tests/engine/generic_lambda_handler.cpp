// Compiled on its own by ctest (tests/CMakeLists.txt): with EAM_GENERIC_HANDLER a behavior gets
// a generic lambda, which the engine cannot dispatch; the test passes only when the compiler
// prints the static_assert that names the rule. Without it, the same file must compile.
#include <eam/eam.hpp>

struct ping {};

void build(eam::actor_system& system) {
  (void)system.spawn([](eam::actor_context&) {
#if defined(EAM_GENERIC_HANDLER)
    return eam::behavior{[](auto) { return 1; }};
#else
    return eam::behavior{[](ping) { return 1; }};
#endif
  });
}

int main() {}
