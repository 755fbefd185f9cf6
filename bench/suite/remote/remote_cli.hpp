#pragma once
// The command line and the output of the remote group's C++ peers (zmq_remote.cpp,
// caf_remote.cpp), the contract tools/suite.py runs every remote system by (bench/README.md,
// "The remote group"):
//
//   <binary> --role server --workload W --port P [--workers N] [--n N] [--PARAM V ...]
//       binds 127.0.0.1:P (0 = a free port), prints exactly one line "READY <port>" (flushed)
//       once it accepts connections, serves until the client says stop, prints its own JSON
//       line (what arrived and whether it checks out) and exits 0, or 1 when the check fails.
//   <binary> --role client --workload W --connect HOST:PORT --n N [--workers N] [--PARAM V ...]
//       connects (not timed), runs the workload, prints one JSON line and exits 0, or 1 when
//       the result is wrong.
//
// Header-only so each peer stays one file and one binary.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace eam::remote {

struct options {
  std::string role, workload, host = "127.0.0.1";
  int port = 0;
  std::map<std::string, std::string> values;  // every other --key value

  [[nodiscard]] std::int64_t number(const std::string& key, std::int64_t fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : std::stoll(it->second);
  }
  [[nodiscard]] std::int64_t number(const std::string& key) const {
    auto it = values.find(key);
    if (it == values.end()) throw std::invalid_argument("missing --" + key);
    return std::stoll(it->second);
  }
  [[nodiscard]] std::string text(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::string{} : it->second;
  }
  [[nodiscard]] bool server() const { return role == "server"; }
};

/// Parses `--key value` pairs; throws std::invalid_argument on anything else.
inline options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || i + 1 >= argc) throw std::invalid_argument("unexpected argument '" + arg + "'");
    const std::string key = arg.substr(2), value = argv[++i];
    if (key == "role")
      o.role = value;
    else if (key == "workload")
      o.workload = value;
    else if (key == "port")
      o.port = std::stoi(value);
    else if (key == "connect") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos) throw std::invalid_argument("--connect wants HOST:PORT");
      o.host = value.substr(0, colon);
      o.port = std::stoi(value.substr(colon + 1));
    } else
      o.values[key] = value;
  }
  if (o.role != "server" && o.role != "client") throw std::invalid_argument("--role must be server or client");
  if (o.workload.empty()) throw std::invalid_argument("missing --workload");
  return o;
}

/// The line the suite waits for before it starts the client; `extra` rides along (the CURVE
/// server key of the zmq peer). Flushed: stdout is a pipe, fully buffered otherwise.
inline void print_ready(int port, const std::string& extra = {}) {
  std::printf("READY %d%s%s\n", port, extra.empty() ? "" : " ", extra.c_str());
  std::fflush(stdout);
}

/// The sum of the payloads 1..n that the cast workloads send.
constexpr std::int64_t payload_sum(std::int64_t n) { return n * (n + 1) / 2; }

/// One JSON line, the fields the suite reads (bench/suite/main.cpp's plus role and latencies).
struct report {
  report(std::string w, std::string r) : workload(std::move(w)), role(std::move(r)) {}
  std::string workload, role;
  double seconds = 0;
  std::int64_t items = 0;
  bool ok = false;
  std::string detail;
  double p50_us = -1, p99_us = -1;  // call latency; negative: not measured

  void print() const {
    std::string d;
    for (char c : detail) {
      if (c == '"' || c == '\\') d += '\\';
      d += c;
    }
    std::printf("{\"workload\": \"%s\", \"role\": \"%s\", \"seconds\": %.6f, \"items\": %lld, \"ok\": %s, "
                "\"detail\": \"%s\"",
                workload.c_str(), role.c_str(), seconds, static_cast<long long>(items), ok ? "true" : "false",
                d.c_str());
    if (p50_us >= 0) std::printf(", \"p50_us\": %.2f, \"p99_us\": %.2f", p50_us, p99_us);
    std::printf("}\n");
    std::fflush(stdout);
  }
};

/// Per-call latencies; percentiles as every remote peer computes them: the sorted sample at
/// index (n - 1) * p / 100.
class latencies {
 public:
  explicit latencies(std::int64_t expected) { ns_.reserve(static_cast<std::size_t>(expected)); }
  void add(std::chrono::steady_clock::duration d) {
    ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  void fill(report& r) {
    if (ns_.empty()) return;
    std::sort(ns_.begin(), ns_.end());
    auto at = [&](std::size_t p) { return static_cast<double>(ns_[(ns_.size() - 1) * p / 100]) / 1000.0; };
    r.p50_us = at(50);
    r.p99_us = at(99);
  }

 private:
  std::vector<std::int64_t> ns_;
};

/// Wall-clock seconds since `t0`.
inline double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace eam::remote
