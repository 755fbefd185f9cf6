// Workers started on demand under a dynamic supervisor with a cap.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <cstdio>

struct work {
  int n;
};

int main() {
  eam::actor_system system;
  namespace otp = eam::otp;
  otp::dynamic_supervisor sup(system, {.max_children = 3});
  auto job = [](eam::actor_context&, int id) { return eam::behavior{[id](work w) { return id * w.n; }}; };
  for (int id = 1; id <= 4; ++id) {
    auto child = sup.start_child(otp::child("job-" + std::to_string(id), {}, job, id));
    if (!child) {
      std::printf("job-%d refused: %s\n", id, child.error_value().what());
      continue;
    }
    eam::typed_ref<int(work)> w(*child, eam::detail::adopt_t{});
    std::printf("job-%d: %d\n", id, w.call(work{10}).get().value());
  }
  std::printf("running: %zu\n", sup.count_children());
}
