// A worker pool with role-based placement: a frontend node spawns workers by type name, round
// robin over the nodes with the role "worker", and hands them jobs; each answer says which node
// did the work. One command runs the frontend and two worker nodes (copies of this program).
#include "cluster_processes.hpp"

#include <eam/eam.hpp>

#include <cstdio>
#include <map>

struct job {
  int n = 0;
  MSGPACK_DEFINE(n);
};

using worker_ref = eam::typed_ref<std::string(job)>;

void register_types() {
  eam::cluster::register_message<job>("example.job");
  eam::cluster::register_actor<>("example.worker", [](eam::actor_context& ctx) {
    return eam::behavior{[&ctx](job j) {
      return std::to_string(j.n) + " squared is " + std::to_string(j.n * j.n) + ", on " + ctx.system().node_id();
    }};
  });
}

int main(int argc, char** argv) {
  register_types();
  if (argc == 4 && std::string(argv[1]) == "worker") {  // a worker node, started below
    auto node = example::start(argv[2], {argv[3]}, {"worker"});
    example::wait_until_gone(*node, "frontend");
    return 0;
  }

  auto node = example::start("frontend", {}, {"frontend"});
  const pid_t first = example::start_copy({"worker", "worker-1", node->address()});
  const pid_t second = example::start_copy({"worker", "worker-2", node->address()});
  bool ok = node->wait_for_cluster({.min_members = 3, .nodes = {"worker-1", "worker-2"}, .timeout = std::chrono::seconds(30)})
                .has_value();
  ok = ok && node->wait_for_peer("worker-1", std::chrono::seconds(30)) && node->wait_for_peer("worker-2", std::chrono::seconds(30));
  std::map<std::string, int> jobs_per_node;
  if (ok) {
    std::vector<worker_ref> pool;
    for (int i = 0; i < 4; ++i) {
      auto w = node->spawn<worker_ref>("example.worker",
                                       {.placement = eam::cluster::placement::round_robin, .role = "worker"});
      if (!w) {
        std::printf("spawn failed: %s\n", w.error_value().what());
        ok = false;
        break;
      }
      pool.push_back(std::move(w).value());
    }
    for (int n = 1; ok && n <= 8; ++n) {
      auto answer = pool[static_cast<std::size_t>(n) % pool.size()].call(job{n}).get();
      if (!answer) {
        ok = false;
        break;
      }
      std::printf("%s\n", answer.value().c_str());
      ++jobs_per_node[answer.value().substr(answer.value().rfind(' ') + 1)];
    }
  }
  // A spawn for a role nobody has is refused with a typed error.
  auto none = node->spawn<worker_ref>("example.worker", {.placement = eam::cluster::placement::round_robin, .role = "gpu"});
  std::printf("a worker with role gpu: %s\n", none ? "spawned?" : none.error_value().what());
  node->shutdown();
  const bool ended = example::wait_for(first) & example::wait_for(second);
  return ok && ended && !none && jobs_per_node["worker-1"] == 4 && jobs_per_node["worker-2"] == 4 ? 0 : 1;
}
