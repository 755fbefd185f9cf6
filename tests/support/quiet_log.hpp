#pragma once
// Silences the log while it lives: the crash reports a test causes on purpose would drown its
// output. Puts the level back as it was, also when the test fails.
#include <eam/eam.hpp>

namespace eam::test {

struct quiet_log {
  eam::log::level saved = eam::log::current_level();
  quiet_log() { eam::log::set_level(eam::log::level::none); }
  ~quiet_log() { eam::log::set_level(saved); }
  quiet_log(const quiet_log&) = delete;
  quiet_log& operator=(const quiet_log&) = delete;
};

}  // namespace eam::test
