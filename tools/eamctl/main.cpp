// eamctl: the operator's command line for a libeam cluster (usage: eamctl --help).
#include "commands.hpp"
#include "operator_node.hpp"
#include "options.hpp"
#include "stop_signals.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>

namespace {

// SIGINT, SIGTERM and SIGHUP end a command with a graceful leave of its node, and status 128 +
// the signal: killed outright, its peers would keep the session as a member until they found
// its connection gone. They are blocked in every thread (the node's inherit the mask) and taken
// by one thread of their own. `eamctl start` takes them itself instead (start_command.cpp).

// The session's node while it exists; under the lock, so that the node is not destroyed
// while the signal thread stops it (that thread ends the process holding it).
std::mutex session_lock;
eam::cluster::node* session_node = nullptr;

void end_on_signal() {
  std::thread([] {
    const sigset_t set = eamctl::stop_signals();
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    const std::lock_guard held(session_lock);
    if (session_node != nullptr) session_node->shutdown();
    std::_Exit(128 + sig);
  }).detach();
}

// Names the session's node to the signal thread while it exists.
struct session_guard {
  explicit session_guard(eamctl::operator_node& op) {
    const std::lock_guard held(session_lock);
    session_node = &op.node();
  }
  ~session_guard() {
    const std::lock_guard held(session_lock);
    session_node = nullptr;
  }
  session_guard(const session_guard&) = delete;
  session_guard& operator=(const session_guard&) = delete;
};

int run(const eamctl::options& o) {
  using namespace eamctl;
  const auto& args = o.arguments;
  const auto need = [&](std::size_t n) {
    if (args.size() != n) throw usage_error{o.command + " takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s")};
  };
  if (o.command == "start") {
    need(1);
    return run_start(args[0]);
  }
  // Check the arguments before joining the cluster.
  if (o.command == "nodes") need(0);
  else if (o.command == "info" || o.command == "actors" || o.command == "drain" || o.command == "undrain" ||
           o.command == "stop" || o.command == "top")
    need(1);
  else if (o.command == "migrate") need(3);
  else if (o.command == "evacuate") need(2);
  else if (o.command == "deploy") {
    if (args.empty()) throw usage_error{"deploy takes the nodes to restart, in order"};
    std::vector<std::string> sorted = args;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw usage_error{"deploy names a node twice"};
  } else
    throw usage_error{o.command.empty() ? "no command given" : "unknown command " + o.command};

  end_on_signal();
  operator_node op(o);
  const session_guard named(op);
  if (o.command == "nodes") return run_nodes(op);
  if (o.command == "info") return run_info(op, args[0]);
  if (o.command == "actors") return run_actors(op, args[0], o.limit);
  if (o.command == "drain") return run_drain(op, args[0], true);
  if (o.command == "undrain") return run_drain(op, args[0], false);
  if (o.command == "migrate") return run_migrate(op, args[0], args[1], args[2]);
  if (o.command == "evacuate") return run_evacuate(op, args[0], args[1]);
  if (o.command == "stop") return run_stop(op, args[0]);
  if (o.command == "top") return run_top(op, args[0], o.limit, o.interval, o.count);
  return run_deploy(op, args, o.rejoin_timeout, o.forward_wait);
}

}  // namespace

int main(int argc, char** argv) {
  // The operator reads the command's output; the node's own info lines would bury it.
  ::setenv("EAM_LOG_LEVEL", "warn", 0);
  // A reader that goes away (`eamctl top n | head`) ends a command through a failed write,
  // with its node's leave, not through SIGPIPE, which killed it without one (status 141).
  ::signal(SIGPIPE, SIG_IGN);
  const sigset_t signals = eamctl::stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    const eamctl::options o = eamctl::parse_options(argc, argv);
    if (o.show_help) {
      std::fputs(eamctl::usage_text, stdout);
      return 0;
    }
    return run(o);
  } catch (const eamctl::usage_error& e) {
    std::fprintf(stderr, "eamctl: %s\n%s", e.why.c_str(), eamctl::usage_text);
    return 2;
  } catch (const eamctl::command_error& e) {
    std::fprintf(stderr, "eamctl: %s\n", e.why.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eamctl: %s\n", e.what());
    return 1;
  }
}
