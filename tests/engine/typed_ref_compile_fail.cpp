// Compiled on its own by ctest, once per case. Case 0 must compile; every other case must
// fail to compile, because a typed ref rejects messages its actor does not handle.
#include <eam/eam.hpp>

struct get {};
struct set {
  int v;
};
struct unknown {};

void use(eam::actor_system& system) {
  auto ref = system.spawn([](eam::actor_context& ctx) {
    auto& v = ctx.make_state<int>(0);
    return eam::behavior{[&v](get) { return v; }, [&v](set s) { v = s.v; }};
  });
#if EAM_COMPILE_FAIL_CASE == 0
  ref.cast(set{1});
  (void)ref.call(get{}).get();
#elif EAM_COMPILE_FAIL_CASE == 1
  ref.cast(unknown{});  // not handled at all
#elif EAM_COMPILE_FAIL_CASE == 2
  (void)ref.call(set{1});  // set is a cast, not a call
#elif EAM_COMPILE_FAIL_CASE == 3
  eam::typed_ref<int(get), void(set), void(unknown)> wider = ref;  // claims more than it handles
  (void)wider;
#endif
}

int main() {}
