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
    auto w = sup.start_child_as<eam::typed_ref<int(work)>>(otp::child("job-" + std::to_string(id), {}, job, id));
    if (!w) {
      std::printf("job-%d refused: %s\n", id, w.error_value().what());
      continue;
    }
    std::printf("job-%d: %d\n", id, w->call(work{10}).get().value());
  }
  std::printf("running: %zu\n", sup.count_children().value().active);

  // Root supervision, a system setting (the seed's ActorSystem supervision options): each
  // top-level actor started by supervise() gets this restart limit, counted per spec.
  (void)otp::configure_root_supervision(system, {.max_restarts = 5, .period = std::chrono::seconds(10)});
  auto svc = otp::supervise(system, otp::child("svc", {.name = "svc"}, job, 100));
  std::printf("supervised top-level actor: %s\n", svc ? "started" : svc.error_value().what());
  // A name another actor holds is the caller's error: the supervisor and its children live on.
  sup.terminate_child(sup.which_children().value().at(0).ref);  // returns once that job has ended
  auto clash = sup.start_child(otp::child("svc-again", {.name = "svc"}, job, 0));
  std::printf("svc-again: %s; running: %zu\n", clash ? "started" : clash.error_value().what(),
              sup.count_children().value().active);
}
