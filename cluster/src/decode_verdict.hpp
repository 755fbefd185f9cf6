#pragma once
// What decoding an untrusted body of the cluster's control messages came to.
#include <string>

namespace eam::cluster::internal {

struct decode_verdict {
  bool bad = false;
  std::string why;  ///< what was wrong, for the log
};

}  // namespace eam::cluster::internal
