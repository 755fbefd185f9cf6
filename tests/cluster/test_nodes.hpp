#pragma once
// Starting the nodes of the cluster services' tests: one in the test process, others as node
// programs (child_node), all on 127.0.0.1 with one cookie.
#include "child_node.hpp"
#include "test_actors.hpp"

#include <memory>
#include <string>
#include <vector>

namespace eam::test::remote {

inline const std::string test_cookie = "a-test-cookie-of-enough-length";

/// A node in this process, with the test protocol and actor types registered.
inline std::unique_ptr<cluster::node> start_test_node(std::string id, std::vector<std::string> seeds = {},
                                                      unsigned workers = 1) {
  register_messages();
  register_actor_types();
  cluster::node_config config;
  config.node_id = std::move(id);
  config.seeds = std::move(seeds);
  config.cookie = test_cookie;
  config.system.workers = workers;
  return cluster::start_node(config).value();
}

/// The command line of a node program joining through `seed`, one worker, and `extra`.
inline std::vector<std::string> member_args(const std::string& id, const cluster::node& seed,
                                            std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--id", id, "--cookie", test_cookie, "--seed", seed.address(), "--workers", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// A node program joining through `seed`, stopped by its pid when it goes out of scope.
inline child_node start_member(const std::string& id, const cluster::node& seed) { return child_node(member_args(id, seed)); }

/// The registrar of node `id` (throws when it cannot be found).
inline registrar_ref registrar_of(cluster::node& here, const std::string& id) {
  return here.whereis<registrar_ref>(id, "registrar").value();
}

}  // namespace eam::test::remote
