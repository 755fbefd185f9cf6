#pragma once
// EAM_ASSERT(condition, "X-In: what must hold"): checks a stated invariant of the engine (C-I*
// in actor_cell.hpp, M-I* in mailbox.hpp, Q-I* in run_queue.hpp) in Debug and sanitizer builds,
// where a broken invariant must stop the program at the place it broke, naming the invariant.
// Release builds compile the check away: these are proofs' assumptions, not input checks.
#if defined(EAM_CHECK_INVARIANTS)
namespace eam::internal {
[[noreturn]] void invariant_failed(const char* condition, const char* invariant, const char* file, int line) noexcept;
}
#define EAM_ASSERT(condition, invariant) \
  ((condition) ? static_cast<void>(0) : ::eam::internal::invariant_failed(#condition, invariant, __FILE__, __LINE__))
#else
#define EAM_ASSERT(condition, invariant) static_cast<void>(0)
#endif
