#pragma once
// A node program (node_program.cpp, or another such as `eamctl start`) run as a child process
// for a test: started with pipes, ready once it printed its port, and always stopped by its
// pid (SIGTERM, then SIGKILL after a bounded wait) when the object goes, even when the test
// failed.
#include "spawn_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace eam::test {

class child_node {
 public:
  /// What a program prints when it is ready: the port it listens on, read from one line of its
  /// output; nullopt for a line that is not that.
  using ready_line = std::optional<std::uint16_t> (*)(const std::string& line);

  explicit child_node(std::vector<std::string> args) : child_node(EAM_TEST_NODE_PATH, std::move(args), node_program_ready) {}
  /// Another program, `program`, ready once `ready` reads its port from a line it printed.
  child_node(const char* program, std::vector<std::string> args, ready_line ready) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    try {
      pid_ = spawn_process(program, std::move(args), {{in[0], STDIN_FILENO}, {out[1], STDOUT_FILENO}}, {in[1], out[0]});
    } catch (...) {
      for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
      throw;
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    port_ = read_ready(ready);
  }
  child_node(const child_node&) = delete;
  child_node& operator=(const child_node&) = delete;
  ~child_node() {
    stop(SIGTERM);
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// Kills it at once (no leave, no flush): a crashed machine as its peers see it.
  void kill_hard() { stop(SIGKILL); }
  /// Stops it (SIGSTOP) and returns once it has stopped: a signal is delivered when each
  /// thread of the child next runs in the kernel, so right after kill() one of them may still
  /// answer a message (a migration meant to outlast a paused node finished in under a
  /// millisecond, 1 run in 30). The kernel reports the whole group's stop to the parent.
  void pause() {
    ::kill(pid_, SIGSTOP);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WUNTRACED | WNOHANG);
      if (r == pid_ && WIFSTOPPED(status)) return;
      if (r == pid_) {  // it exited meanwhile
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void resume() { ::kill(pid_, SIGCONT); }
  /// Whether it has exited (by itself: it is not stopped here).
  bool exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
  }
  /// Asks it to stop (SIGTERM) and waits (bounded) for its exit; true when it exited by itself
  /// with status 0.
  bool terminate(std::chrono::seconds limit = std::chrono::seconds(30)) {
    ::kill(pid_, SIGTERM);
    return wait_exit(limit);
  }
  /// Waits (bounded) for it to exit by itself; true when it did, with status 0.
  bool wait_exit(std::chrono::seconds limit = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  static std::optional<std::uint16_t> node_program_ready(const std::string& line) {
    if (line.rfind("READY ", 0) != 0) return std::nullopt;
    return static_cast<std::uint16_t>(std::stoi(line.substr(6)));
  }
  std::uint16_t read_ready(ready_line ready) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(stdout_, &c, 1) != 1) break;
      if (c != '\n') {
        line += c;
        continue;
      }
      if (const auto port = ready(line)) return *port;
      line.clear();
    }
    stop(SIGKILL);
    throw std::runtime_error("the child process did not get ready");
  }
  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);  // a paused child must be able to die
    ::kill(pid_, signal);
    for (int i = 0; i < 2000; ++i) {  // up to 10 s, then no more asking
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      if (i == 1000) ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace eam::test
