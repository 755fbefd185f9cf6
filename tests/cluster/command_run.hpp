#pragma once
// A command run as a child process for a test (eamctl): its exit status and what it printed,
// read once it ended. It is killed by its pid if it outlives its bound, or when the object
// goes, even when the test failed.
#include "spawn_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace eam::test {

class command_run {
 public:
  command_run(const char* program, std::vector<std::string> args) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    try {
      pid_ = spawn_process(program, std::move(args), {{out[1], STDOUT_FILENO}, {err[1], STDERR_FILENO}}, {});
    } catch (...) {
      for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
      throw;
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  command_run(const command_run&) = delete;
  command_run& operator=(const command_run&) = delete;
  ~command_run() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_fd_);
    ::close(err_fd_);
  }

  /// Whether it has ended; its output is read as it comes (a full pipe would hold it up).
  bool finished() {
    drain();
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      drain();
    }
    return pid_ <= 0;
  }
  /// Waits for its end, at most `limit` (then kills it: status -1).
  void wait(std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!finished()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  /// Sends it `sig` (while it runs).
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& out() const noexcept { return out_; }
  [[nodiscard]] const std::string& err() const noexcept { return err_; }

 private:
  void drain() {
    for (auto [fd, text] : {std::pair{out_fd_, &out_}, std::pair{err_fd_, &err_}}) {
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) break;
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        text->append(buf, static_cast<std::size_t>(n));
      }
    }
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  int status_ = -1;
  std::string out_, err_;
};

}  // namespace eam::test
