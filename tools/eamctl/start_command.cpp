// eamctl start CONFIG: a node from a config file, serving until it is stopped. It hosts no
// actors of its own beside the node's services: a seed for the cluster, a member to hold
// names and groups, and the shape a program's own main takes (load_node_config, start_node,
// wait_for_shutdown).
#include "commands.hpp"

#include <eam/cluster/config_file.hpp>

#include <fmt/core.h>

#include <signal.h>

#include <cstdio>
#include <ctime>

namespace eamctl {

int run_start(const std::string& config_path) {
  auto config = eam::cluster::load_node_config(config_path);
  if (!config) throw command_error{config.error_value().what()};
  // SIGINT and SIGTERM are taken here, by sigtimedwait, so every thread the node starts
  // inherits them blocked: a signal stops the node gracefully instead of killing the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto started = eam::cluster::start_node(std::move(config).value());
  if (!started) throw command_error{std::string("cannot start the node: ") + started.error_value().what()};
  auto node = std::move(started).value();
  fmt::print("started {} at {}\n", node->id(), node->address());
  std::fflush(stdout);
  const timespec tick{0, 200'000'000};
  for (;;) {
    // A stop through the control service (eamctl stop) ends the node on its own thread; a
    // signal ends it here. Both are looked at every tick.
    if (node->wait_for_shutdown(std::chrono::milliseconds(0))) break;
    siginfo_t info;
    if (sigtimedwait(&stop_signals, &info, &tick) > 0) {
      node->shutdown();
      break;
    }
  }
  fmt::print("stopped {}\n", node->id());
  return 0;
}

}  // namespace eamctl
