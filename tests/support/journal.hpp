#pragma once
// What happened, in order, across actors and threads: a test's record of starts, ends and
// anything else it wants to check the order of.
#include "eventually.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace eam::test {

class journal {
 public:
  void add(std::string line) {
    std::lock_guard l(m_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard l(m_);
    return lines_;
  }
  bool has(const std::string& line) {
    std::lock_guard l(m_);
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }
  // Waits (at most `limit`) until `line` is in the journal: how a test detects two things that
  // overlap; when they never overlap the wait runs out, and only the verdict matters.
  bool wait_for(const std::string& line, std::chrono::milliseconds limit) {
    return eventually([&] { return has(line); }, limit);
  }

 private:
  std::mutex m_;
  std::vector<std::string> lines_;
};

}  // namespace eam::test
