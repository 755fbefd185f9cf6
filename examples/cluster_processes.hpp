#pragma once
// What the multi-node examples share: each is one program that starts its other nodes as
// copies of itself (the same binary, another role on its command line), so that one command
// runs the whole cluster. Every process started is waited for by its pid, and killed when it
// does not end in time.
#include <eam/cluster.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace example {

/// The cookie every node of an example uses (a real cluster reads LIBEAM_COOKIE instead).
inline const std::string cookie = "an-example-cookie-of-enough-length";

/// Starts this program again with `args`; the pid, or -1.
inline pid_t start_copy(const std::vector<std::string>& args) {
  std::vector<std::string> all{"/proc/self/exe"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

/// Waits for `pid` to exit within `limit`, else kills it. True when it exited with status 0.
inline bool wait_for(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  std::fprintf(stderr, "process %d did not end in time: killed\n", static_cast<int>(pid));
  return false;
}

/// A node on 127.0.0.1 with a free port, joined through `seed` when there is one.
inline std::unique_ptr<eam::cluster::node> start(std::string id, std::vector<std::string> seeds = {},
                                                 std::vector<std::string> roles = {}) {
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.seeds = std::move(seeds);
  config.roles = std::move(roles);
  config.cookie = cookie;
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

/// Blocks until the node `id` has left the cluster (or failed), or `limit` passes: how a
/// started copy knows the example is over.
inline void wait_until_gone(eam::cluster::node& node, const std::string& id,
                            std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : node.all_members())  // the departed too: it may have come and gone already
      if (m.id == id && (m.status == eam::cluster::member_status::left || m.status == eam::cluster::member_status::dead))
        return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace example
