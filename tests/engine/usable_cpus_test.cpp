// How many workers a system starts by default (engine/src/usable_cpus.hpp): the CPUs the
// process may use, by its affinity mask and its cgroup's CPU quota. The quota is read from
// cgroup files, given here as a map of paths to texts (v1 and v2 layouts, a container's view).
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "usable_cpus.hpp"

#include <sched.h>

#include <map>
#include <string>
#include <thread>

using eam::internal::cgroup_cpu_quota;

namespace {

struct files {
  std::map<std::string, std::string> texts;
  std::optional<std::string> operator()(const std::string& path) const {
    const auto it = texts.find(path);
    return it == texts.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
};

std::optional<double> quota(std::string_view cgroup, std::string_view mountinfo, const files& f) {
  return cgroup_cpu_quota(cgroup, mountinfo, [&f](const std::string& path) { return f(path); });
}

// A host with cgroup v2 alone, and one with v1 controllers beside an empty unified mount (as
// Debian 12 hosts with the hybrid layout have).
constexpr std::string_view v2_mounts =
    "22 1 0:20 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
constexpr std::string_view v1_mounts =
    "25 22 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
    "31 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct\n"
    "32 25 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:16 - cgroup cgroup rw,memory\n";

}  // namespace

TEST_SUITE("engine.usable_cpus") {
  TEST_CASE("a cgroup v2 quota is its cpu.max, the lowest up the hierarchy, and none without one") {
    files f;
    f.texts["/sys/fs/cgroup/app.slice/job/cpu.max"] = "150000 100000\n";
    f.texts["/sys/fs/cgroup/app.slice/cpu.max"] = "max 100000\n";
    f.texts["/sys/fs/cgroup/cpu.max"] = "max 100000\n";
    CHECK(quota("0::/app.slice/job\n", v2_mounts, f) == 1.5);
    f.texts["/sys/fs/cgroup/app.slice/cpu.max"] = "100000 100000\n";  // the parent binds it
    CHECK(quota("0::/app.slice/job\n", v2_mounts, f) == 1.0);
    CHECK_FALSE(quota("0::/other\n", v2_mounts, f).has_value());  // no cpu.max there, none above
    f.texts["/sys/fs/cgroup/unlimited/cpu.max"] = "max 100000\n";
    CHECK_FALSE(quota("0::/unlimited\n", v2_mounts, f).has_value());
  }

  TEST_CASE("a container's cgroup namespace shows its cgroup as the root of the mount") {
    files f;
    f.texts["/sys/fs/cgroup/cpu.max"] = "200000 100000\n";
    CHECK(quota("0::/\n", v2_mounts, f) == 2.0);
    // A mount whose root is the container's cgroup, and a path that still names it in full.
    const std::string mounts = "30 22 0:26 /docker/abc /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n";
    CHECK(quota("0::/docker/abc\n", mounts, f) == 2.0);
  }

  TEST_CASE("a cgroup v1 quota is cfs_quota_us over cfs_period_us, and -1 is none") {
    files f;
    f.texts["/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us"] = "250000\n";
    f.texts["/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us"] = "100000\n";
    f.texts["/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"] = "-1\n";
    f.texts["/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"] = "100000\n";
    const std::string_view cgroup = "12:memory:/batch\n4:cpu,cpuacct:/batch\n0::/batch\n";
    CHECK(quota(cgroup, v1_mounts, f) == 2.5);
    CHECK_FALSE(quota("4:cpu,cpuacct:/\n0::/\n", v1_mounts, f).has_value());
  }

  TEST_CASE("text that is not what the kernel writes gives no quota") {
    files f;
    f.texts["/sys/fs/cgroup/a/cpu.max"] = "lots 100000\n";
    f.texts["/sys/fs/cgroup/b/cpu.max"] = "0 100000\n";
    f.texts["/sys/fs/cgroup/c/cpu.max"] = "100000\n";
    for (const char* path : {"0::/a\n", "0::/b\n", "0::/c\n", "0::relative\n", "garbage\n", ""})
      CHECK_FALSE(quota(path, v2_mounts, f).has_value());
    CHECK_FALSE(quota("0::/a\n", "not a mountinfo line\n", f).has_value());
  }

  TEST_CASE("a system started on a thread pinned to one CPU starts one worker by default") {
    unsigned workers = 0;
    bool pinned = false;
    std::thread([&] {
      cpu_set_t mask;
      CPU_ZERO(&mask);
      if (sched_getaffinity(0, sizeof mask, &mask) != 0) return;
      int first = 0;
      while (first < CPU_SETSIZE && !CPU_ISSET(first, &mask)) ++first;
      CPU_ZERO(&mask);
      CPU_SET(first, &mask);
      pinned = sched_setaffinity(0, sizeof mask, &mask) == 0;
      eam::actor_system system;
      workers = system.health().workers;
    }).join();
    REQUIRE(pinned);
    CHECK(workers == 1);
    eam::actor_system unpinned({.workers = 3});
    CHECK(unpinned.health().workers == 3);  // a count given is kept
  }
}
