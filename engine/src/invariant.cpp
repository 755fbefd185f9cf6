#include "invariant.hpp"

#include <cstdio>
#include <cstdlib>

#if defined(EAM_CHECK_INVARIANTS)
namespace eam::internal {

void invariant_failed(const char* condition, const char* invariant, const char* file, int line) noexcept {
  std::fprintf(stderr, "eam: invariant broken: %s\n  (%s) is false at %s:%d\n", invariant, condition, file, line);
  std::abort();
}

}  // namespace eam::internal
#endif
