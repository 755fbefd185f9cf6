// eamctl start CONFIG: a node from a config file, serving until it is stopped. It hosts no
// actors of its own beside the node's services: a seed for the cluster, a member to hold
// names and groups, and the shape a program's own main takes (load_node_config, start_node,
// wait_for_shutdown).
#include "commands.hpp"
#include "stop_signals.hpp"

#include <eam/cluster/config_file.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

namespace eamctl {

int run_start(const std::string& config_path) {
  auto loaded = eam::cluster::load_node_config(config_path);
  if (!loaded) throw command_error{loaded.error_value().what()};
  eam::cluster::node_config config = std::move(loaded).value();
  // SIGINT, SIGTERM and SIGHUP are blocked in every thread (main does it before anything
  // starts, and the node's threads inherit the mask) and taken here by sigtimedwait: a signal
  // stops the node gracefully instead of killing the process.
  const sigset_t signals = stop_signals();
  const auto signalled = [&](long wait_ns) {
    const timespec wait{0, wait_ns};
    siginfo_t info;
    return sigtimedwait(&signals, &info, &wait) > 0;
  };
  // The ready condition is waited for here, in slices, so that a signal is heard meanwhile.
  const std::optional<eam::cluster::cluster_condition> ready = std::move(config.ready);
  config.ready.reset();
  auto started = eam::cluster::start_node(std::move(config));
  if (!started) throw command_error{std::string("cannot start the node: ") + started.error_value().what()};
  auto node = std::move(started).value();
  if (ready) {
    fmt::print("{} at {} waits until the cluster is ready ({} members{})\n", node->id(), node->address(),
               ready->min_members, ready->nodes.empty() ? "" : ", " + fmt::format("{}", fmt::join(ready->nodes, ", ")));
    std::fflush(stdout);
    const auto deadline = std::chrono::steady_clock::now() + ready->timeout;
    for (;;) {
      auto slice = *ready;
      slice.timeout = std::chrono::milliseconds(200);
      auto held = node->wait_for_cluster(slice);
      if (held) break;
      if (signalled(0)) return 0;  // the node leaves as it goes
      // Stopped meanwhile through its control service (eamctl stop): a stopped node's wait
      // returns at once, and this loop spun until the ready timeout, then failed.
      if (node->wait_for_shutdown(std::chrono::milliseconds(0))) {
        fmt::print("stopped {}\n", node->id());
        return 0;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        // What is missing, without the slice's own timeout; the code tells a cluster not there
        // yet (timeout) from one that refuses this node (node_id_in_use).
        const std::string& why = held.error_value().context();
        const auto missing = why.find("missing ");
        throw command_error{fmt::format("the cluster was not ready within {} ms ({}): {}", ready->timeout.count(),
                                        held.error_value().code().name(),
                                        missing == std::string::npos ? why : why.substr(missing))};
      }
    }
  }
  fmt::print("started {} at {}\n", node->id(), node->address());
  std::fflush(stdout);
  for (;;) {
    // A stop through the control service (eamctl stop) ends the node on its own thread; a
    // signal ends it here. Both are looked at every tick.
    if (node->wait_for_shutdown(std::chrono::milliseconds(0))) break;
    if (signalled(200'000'000)) {
      node->shutdown();
      break;
    }
  }
  fmt::print("stopped {}\n", node->id());
  return 0;
}

}  // namespace eamctl
