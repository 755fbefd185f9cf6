#pragma once
// Tests that cut or thin traffic between nodes with iptables run in a network namespace made
// for them, where every node has its own loopback address (127.0.0.x) and the rules touch
// nothing else on the machine: the test binary runs the test again inside `unshare --net`, and
// the namespace ends with that process, whatever state the test left it in.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace eam::test {

inline bool shell(const std::string& command) { return std::system(command.c_str()) == 0; }

/// True inside the namespace: the caller goes on with the test. Outside it, runs this binary
/// again on the tests `test_filter` names, inside a new namespace with its loopback up, checks
/// that they passed, and returns false (the caller returns); where the machine refuses a
/// namespace with iptables, says the test was skipped and returns false.
inline bool inside_network_namespace(const std::string& test_filter) {
  if (std::getenv("EAM_TEST_NETNS") != nullptr) return true;
  if (!shell("command -v unshare >/dev/null 2>&1 && command -v iptables >/dev/null 2>&1 && "
             "unshare --net sh -c 'iptables -L -n' >/dev/null 2>&1")) {
    MESSAGE("skipped: this machine refuses a network namespace with iptables (unshare --net, iptables)");
    return false;
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  CHECK(shell("EAM_TEST_NETNS=1 unshare --net sh -c 'ip link set lo up && exec \"" + self + "\" -tc=\"" + test_filter +
              "\"'"));
  return false;
}

}  // namespace eam::test
