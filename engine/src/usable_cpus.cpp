#include "usable_cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace eam::internal {

namespace {

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = text.find(by);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

bool lists(std::string_view comma_separated, std::string_view item) {
  for (const auto part : split(comma_separated, ','))
    if (part == item) return true;
  return false;
}

// Where a cgroup hierarchy is mounted: the directory and the cgroup path it shows as its root.
struct mount {
  std::string root, point;
};

struct mounts {
  std::optional<mount> v2;      // the unified hierarchy
  std::optional<mount> v1_cpu;  // a v1 hierarchy with the cpu controller
};

// A line of /proc/self/mountinfo: id parent major:minor root point options [optional...] - type
// source super-options.
mounts find_mounts(std::string_view mountinfo) {
  mounts found;
  for (const auto line : split(mountinfo, '\n')) {
    const auto fields = split(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    const std::string_view type = dash[1], super_options = dash[3];
    mount m{std::string(fields[3]), std::string(fields[4])};
    if (type == "cgroup2" && !found.v2)
      found.v2 = std::move(m);
    else if (type == "cgroup" && !found.v1_cpu && lists(super_options, "cpu"))
      found.v1_cpu = std::move(m);
  }
  return found;
}

// The directory of the cgroup at `path` (as /proc/self/cgroup shows it) under mount `m`. In a
// cgroup namespace (a container) the path is relative to the namespace's root, which is the
// mount's root: "/" then names the mount point itself.
std::string directory_of(const mount& m, std::string_view path) {
  if (m.root != "/" && path.starts_with(m.root)) path.remove_prefix(m.root.size());
  if (path == "/") path = {};
  return m.point + std::string(path);
}

std::optional<double> parse_number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  std::istringstream in{std::string(text)};
  if (!(in >> value) || !in.eof()) return std::nullopt;
  return value;
}

// Quota over period, both positive numbers; nullopt otherwise.
std::optional<double> cpus_of(std::string_view quota_text, std::string_view period_text) {
  const auto quota = parse_number(quota_text), period = parse_number(period_text);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return *quota / *period;
}

void keep_lowest(std::optional<double>& lowest, std::optional<double> q) {
  if (q && (!lowest || *q < *lowest)) lowest = q;
}

// cgroup v2: "max 100000" (none) or "<quota> <period>".
std::optional<double> v2_quota(const std::string& directory, const auto& read) {
  const auto text = read(directory + "/cpu.max");
  if (!text) return std::nullopt;
  const auto fields = split(*text, ' ');
  if (fields.size() != 2 || fields[0] == "max") return std::nullopt;
  return cpus_of(fields[0], fields[1]);
}

// cgroup v1: cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us.
std::optional<double> v1_quota(const std::string& directory, const auto& read) {
  const auto quota_text = read(directory + "/cpu.cfs_quota_us");
  const auto period_text = read(directory + "/cpu.cfs_period_us");
  if (!quota_text || !period_text) return std::nullopt;
  return cpus_of(*quota_text, *period_text);
}

// The lowest quota from `directory` up to the mount point: a parent's limit binds its children.
template <class Quota>
std::optional<double> lowest_up_to(const mount& m, std::string directory, const Quota& quota_at) {
  std::optional<double> lowest;
  for (int depth = 0; depth < 64; ++depth) {  // bounded: a path has at most so many levels
    keep_lowest(lowest, quota_at(directory));
    const auto parent_end = directory.rfind('/');
    if (directory.size() <= m.point.size() || parent_end == std::string::npos || parent_end == 0) break;
    directory.resize(parent_end);
  }
  return lowest;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<double> cgroup_cpu_quota(std::string_view proc_self_cgroup, std::string_view mountinfo,
                                       const std::function<std::optional<std::string>(const std::string& path)>& read) {
  const mounts found = find_mounts(mountinfo);
  std::optional<double> lowest;
  // Lines "hierarchy-id:controllers:path"; the unified hierarchy's is "0::path".
  for (const auto line : split(proc_self_cgroup, '\n')) {
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first), controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (path.empty() || path.front() != '/') continue;
    if (id == "0" && controllers.empty() && found.v2)
      keep_lowest(lowest, lowest_up_to(*found.v2, directory_of(*found.v2, path),
                         [&read](const std::string& d) { return v2_quota(d, read); }));
    else if (lists(controllers, "cpu") && found.v1_cpu)
      keep_lowest(lowest, lowest_up_to(*found.v1_cpu, directory_of(*found.v1_cpu, path),
                         [&read](const std::string& d) { return v1_quota(d, read); }));
  }
  return lowest;
}

unsigned usable_cpus() noexcept {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0)
    cpus = static_cast<unsigned>(std::max(1, CPU_COUNT(&mask)));  // fails past 1,024 CPUs: the online count stands
  try {
    const auto cgroup = read_file("/proc/self/cgroup");
    const auto mountinfo = read_file("/proc/self/mountinfo");
    if (cgroup && mountinfo)
      if (const auto quota = cgroup_cpu_quota(*cgroup, *mountinfo, read_file))
        cpus = std::min(cpus, std::max(1u, static_cast<unsigned>(std::ceil(*quota))));
  } catch (...) {
    // Out of memory reading a few small files: the affinity's count stands.
  }
  return cpus;
}

}  // namespace eam::internal
