#include "asymmetric_fence.hpp"

#include <cstdio>
#include <cstdlib>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace eam::internal {

#if defined(__linux__)
namespace {
long membarrier(int command) noexcept { return syscall(__NR_membarrier, command, 0, 0); }
}  // namespace

bool enable_asymmetric_fences() noexcept {
  static const bool enabled = [] {
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
    return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  }();
  return enabled;
}

void heavy_fence() noexcept {
  // Registered, so it cannot fail; if it did, the frequent side's compiler barrier would pair
  // with nothing and the protocol would be unsound: stop rather than go on.
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    std::fputs("eam: membarrier failed after registration\n", stderr);
    std::abort();
  }
}
#else
bool enable_asymmetric_fences() noexcept { return false; }
void heavy_fence() noexcept { std::abort(); }  // never called: enable_asymmetric_fences() is false
#endif

}  // namespace eam::internal
