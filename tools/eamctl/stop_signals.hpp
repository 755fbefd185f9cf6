#pragma once
// The signals that stop eamctl gracefully (a session's leave, `eamctl start`'s node shutdown):
// blocked in every thread from main's first line, and taken by sigwait or sigtimedwait.
#include <signal.h>

namespace eamctl {

inline sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  return set;
}

}  // namespace eamctl
