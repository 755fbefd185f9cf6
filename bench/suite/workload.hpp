#pragma once
// The benchmark suite's plumbing, shared by every system's binary (eam_suite, caf_suite,
// threads_suite): a registry of workloads, each run once per process with explicit
// parameters, timing only the workload itself (not the start or stop of the runtime).
// tools/suite.py owns the parameters (Savina's defaults, scaled by --size) and the runs.
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace eam::suite {

/// Named integer parameters, e.g. {"n": 40000, "actors": 60}.
class params {
 public:
  explicit params(std::map<std::string, std::int64_t> values) : values_(std::move(values)) {}
  [[nodiscard]] std::int64_t operator[](const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::invalid_argument("missing parameter --" + name);
    return it->second;
  }

 private:
  std::map<std::string, std::int64_t> values_;
};

struct outcome {
  double seconds = 0;
  std::int64_t items = 0;  // work units, for throughput (messages, actors, ...)
  bool ok = false;         // the workload's own check of its result
  std::string detail;      // what was checked, or what went wrong
};

struct workload {
  const char* name;
  outcome (*run)(unsigned workers, const params& p);
};

std::vector<workload>& registry();

struct registrar {
  explicit registrar(workload w) { registry().push_back(w); }
};

/// The process's user + system CPU seconds so far (every thread).
double process_cpu_seconds() noexcept;
/// CPU seconds spent inside seconds_of during this run; main prints it beside the wall time.
double& timed_cpu_seconds() noexcept;

/// Wall time of `f()` in seconds. Also adds the process's CPU time over the same span to
/// timed_cpu_seconds: an idle worker that spins costs CPU without changing the wall time.
template <class F>
double seconds_of(F&& f) {
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  timed_cpu_seconds() += process_cpu_seconds() - cpu0;
  return wall;
}

/// An outcome whose check compares a result with its expected value.
inline outcome checked(double seconds, std::int64_t items, std::int64_t got, std::int64_t want) {
  return {seconds, items, got == want, "result " + std::to_string(got) + ", expected " + std::to_string(want)};
}

}  // namespace eam::suite

#define EAM_SUITE_CONCAT2(a, b) a##b
#define EAM_SUITE_CONCAT(a, b) EAM_SUITE_CONCAT2(a, b)
/// Registers `fn` (outcome(unsigned, const params&)) under `name`.
#define EAM_SUITE_WORKLOAD(name, fn) \
  static const ::eam::suite::registrar EAM_SUITE_CONCAT(eam_suite_registrar_, __LINE__)({name, fn})
