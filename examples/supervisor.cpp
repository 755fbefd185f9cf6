// A supervision tree: a one_for_all supervisor restarts a database and a cache together when
// either crashes; clients reach the cache by name across restarts. Then the same supervision
// declared by an ordinary class actor for its own children.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

struct query {
  std::string key;
};
struct fail {};

auto cache(eam::actor_context& ctx, std::string region) {
  auto& hits = ctx.make_state<int>(0);
  return eam::behavior{
      [&hits, region](query q) { return region + ":" + q.key + " (hit " + std::to_string(++hits) + ")"; },
      [](fail) -> std::string { throw std::runtime_error("cache corrupted"); },
  };
}

namespace otp = eam::otp;

// An actor that supervises its own children, as the seed's childSupervision(): no down to
// forward, the strategy declared once.
struct status {};
struct frontend : otp::supervising_actor<std::size_t(status)> {
  otp::supervisor_options child_supervision() const override { return {.strategy = otp::strategy::rest_for_one}; }
  void init() {
    start_child(otp::child("session-cache", {}, cache, std::string("sessions")));
    start_child(otp::child("page-cache", {}, cache, std::string("pages")));
  }
  std::size_t handle_call(status) { return count_children().active; }
};

int main() {
  eam::actor_system system;
  // Returns once both children have run their init, one after the other.
  auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::one_for_all, .max_restarts = 3},
                                   {otp::child("db", {.name = "db"}, cache, std::string("db")),
                                    otp::child("cache", {.name = "cache"}, cache, std::string("eu"))})
                 .value();
  otp::named_ref<std::string(query), std::string(fail)> client(system, "cache");
  std::printf("%s\n", client.call(query{"user:1"}).value().c_str());
  std::printf("crash: %s\n", client.call(fail{}).error_value().what());
  // No retry loop: a call made while the cache restarts waits for the new instance.
  std::printf("after restart: %s\n", client.call(query{"user:1"}).value().c_str());
  for (const auto& c : sup.which_children().value()) std::printf("child %s (%s)\n", c.id.c_str(), c.type.c_str());
  sup.stop();

  auto front = system.spawn<frontend>();
  std::printf("frontend children: %zu\n", front.call(status{}).get().value());
}
