// A supervision tree: a one_for_all supervisor restarts a database and a cache together when
// either crashes; clients reach the cache by name across restarts.
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

int main() {
  eam::actor_system system;
  namespace otp = eam::otp;
  auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::one_for_all, .max_restarts = 3},
                                   {otp::child("db", {.name = "db"}, cache, std::string("db")),
                                    otp::child("cache", {.name = "cache"}, cache, std::string("eu"))});
  otp::named_ref<std::string(query), std::string(fail)> client(system, "cache");
  while (!client.call(query{"warm-up"})) {  // until the supervisor has started the cache
  }
  std::printf("%s\n", client.call(query{"user:1"}).value().c_str());
  std::printf("crash: %s\n", client.call(fail{}).error_value().what());
  while (!client.call(query{"again"})) {  // wait for the restart
  }
  std::printf("after restart: %s\n", client.call(query{"user:1"}).value().c_str());
  std::printf("children: %zu\n", otp::which_children(sup).size());
}
