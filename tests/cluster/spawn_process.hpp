#pragma once
// Starting a program as a child process with some of its standard descriptors on pipes: the
// part child_node and command_run share.
#include <spawn.h>
#include <unistd.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace eam::test {

/// Starts `program` with `args`; each (from, to) of `onto` makes descriptor `from` the child's
/// `to`, and the child closes `close_in_child` (the pipes' other ends). Throws when it cannot.
inline pid_t spawn_process(const char* program, std::vector<std::string> args,
                           std::initializer_list<std::pair<int, int>> onto, std::initializer_list<int> close_in_child) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (auto [from, to] : onto) posix_spawn_file_actions_adddup2(&actions, from, to);
  for (int fd : close_in_child) posix_spawn_file_actions_addclose(&actions, fd);
  args.insert(args.begin(), program);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("cannot start ") + program);
  return pid;
}

}  // namespace eam::test
