#pragma once
// usable_cpus: how many workers a system starts when its config leaves the count to the engine.
//
// Why not std::thread::hardware_concurrency: on Linux it counts the machine's online CPUs, not
// the ones this process may use. A program pinned to two CPUs (taskset, a CPU set) or run in a
// container limited to two CPUs' time (a cgroup quota: `docker run --cpus=2`, a Kubernetes CPU
// limit) on a 16-core host then started 16 workers on two CPUs' worth of time: the kernel
// time-slices them, a worker holding an actor's turn is preempted while the others wait on its
// mailbox, and bank-transaction ran 1.7x the time on 8 workers as on 2 on this project's
// 2-CPU VM. Go (GOMAXPROCS), Tokio (num_cpus) and .NET size their pools the same way.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace eam::internal {

/// The CPUs this process may run on: the calling thread's affinity mask, lowered to its
/// cgroup's CPU quota rounded up; at least 1.
unsigned usable_cpus() noexcept;

/// The CPU quota, in CPUs, of the cgroup that `proc_self_cgroup` (the text of /proc/self/cgroup)
/// names: cgroup v2's cpu.max, or v1's cpu.cfs_quota_us over cpu.cfs_period_us, the lowest on
/// the way up its hierarchy to the mount that `mountinfo` (the text of /proc/self/mountinfo)
/// shows. `read` gives a file's text, nullopt when it cannot. nullopt when no quota is set.
std::optional<double> cgroup_cpu_quota(std::string_view proc_self_cgroup, std::string_view mountinfo,
                                       const std::function<std::optional<std::string>(const std::string& path)>& read);

}  // namespace eam::internal
