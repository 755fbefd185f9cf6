// The command line of every system's suite binary:
//   <binary> --list
//   <binary> --workload NAME --workers N [--PARAM VALUE ...]
// A run prints one JSON line: {"workload", "seconds", "items", "ok", "detail", "cpu_s",
// "peak_mib"} (cpu_s: the process's CPU seconds over the timed span, every thread; peak_mib: its
// peak resident memory, VmHWM); it exits 1 when the workload's own check fails, 2 on bad
// arguments.
#include "workload.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <sys/resource.h>

namespace eam::suite {
std::vector<workload>& registry() {
  static std::vector<workload> all;
  return all;
}

double process_cpu_seconds() noexcept {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double& timed_cpu_seconds() noexcept {
  static double total = 0;
  return total;
}

// The process's peak resident MiB since its exec (VmHWM), or -1. Not ru_maxrss: that counts
// the forking process's memory too (the suite's Python, about 24 MiB), a floor under every row.
double peak_resident_mib() noexcept {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  double mib = -1;
  while (std::fgets(line, sizeof line, status) != nullptr)
    if (std::strncmp(line, "VmHWM:", 6) == 0) mib = std::strtod(line + 6, nullptr) / 1024.0;
  std::fclose(status);
  return mib;
}
}  // namespace eam::suite

namespace {
std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace eam::suite;
  std::string name;
  unsigned workers = 2;
  std::map<std::string, std::int64_t> values;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--list") {
      for (const workload& w : registry()) std::printf("%s\n", w.name);
      return 0;
    }
    if (arg.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s --list | --workload NAME --workers N [--PARAM VALUE ...]\n", argv[0]);
      return 2;
    }
    const std::string key = arg.substr(2), value = argv[++i];
    if (key == "workload")
      name = value;
    else if (key == "workers")
      workers = static_cast<unsigned>(std::stoul(value));
    else
      values[key] = std::stoll(value);
  }
  for (const workload& w : registry()) {
    if (name != w.name) continue;
    outcome o;
    try {
      o = w.run(workers, params(values));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", w.name, e.what());
      return 2;
    }
    std::printf("{\"workload\": \"%s\", \"seconds\": %.6f, \"items\": %lld, \"ok\": %s, \"detail\": \"%s\", "
                "\"cpu_s\": %.6f, \"peak_mib\": %.2f}\n",
                w.name, o.seconds, static_cast<long long>(o.items), o.ok ? "true" : "false", json_escape(o.detail).c_str(),
                timed_cpu_seconds(), eam::suite::peak_resident_mib());
    return o.ok ? 0 : 1;
  }
  std::fprintf(stderr, "unknown workload '%s' (see --list)\n", name.c_str());
  return 2;
}
