// Membership between real node processes on 127.0.0.1 (tools/suite.py --groups membership):
// how long N nodes take to agree after the last one starts, how long until every survivor has
// declared a SIGKILLed node failed, and how many gossip bytes a node sends per second once the
// cluster is quiet. The coordinator runs one node and starts N-1 copies of this program as
// members; every process prints what it saw with wall-clock times, so all share one clock.
//
//   eam_membership_real_bench --nodes 16 [--quiet-window-ms 5000]
//   (member mode, started by the coordinator) --member --id n01 --seed host:port --expect 16
//
// Prints one JSON object: nodes, convergence_ms, detection_ms_median, detection_ms_max,
// gossip_bytes_per_node_s. Every child is stopped by its pid, even on failure.
#include <eam/cluster.hpp>
#include <eam/eam.hpp>
#include <eam/engine/log.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string cookie = "membership-bench-cookie-0123456789";

std::unique_ptr<eam::cluster::node> start(std::string id, std::vector<std::string> seeds) {
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.seeds = std::move(seeds);
  config.cookie = cookie;
  config.system.workers = 1;  // membership is the I/O thread's work; the actors are idle
  return eam::cluster::start_node(config).value();
}

// -- member mode ------------------------------------------------------------------------------

int run_member(const std::string& id, const std::string& seed, std::size_t expect) {
  auto node = start(id, {seed});
  std::mutex out;
  std::atomic<bool> converged{false};
  auto report_converged = [&] {
    if (node->members().size() >= expect && !converged.exchange(true)) {
      std::lock_guard lock(out);
      std::printf("CONVERGED %lld\n", static_cast<long long>(wall_ms()));
      std::fflush(stdout);
    }
  };
  node->on_member_event([&](const eam::cluster::member_event& e) {
    if (e.kind == eam::cluster::member_event_kind::leave && e.reason == "failed") {
      std::lock_guard lock(out);
      std::printf("FAILED %s %lld\n", e.subject.id.c_str(), static_cast<long long>(wall_ms()));
      std::fflush(stdout);
    }
  });
  std::printf("READY %u\n", node->port());
  std::fflush(stdout);
  // Until stdin closes (the coordinator ended) or a signal; polled so that convergence is seen.
  for (;;) {
    report_converged();
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (::poll(&in, 1, 20) > 0) {
      char buf[64];
      if (::read(STDIN_FILENO, buf, sizeof buf) <= 0) break;
    }
  }
  node->shutdown();
  return 0;
}

// -- coordinator --------------------------------------------------------------------------------

class member_process {
 public:
  member_process(const char* self, std::vector<std::string> args) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    args.insert(args.begin(), self);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, self, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start a member");
    }
  }
  ~member_process() {
    stop(SIGTERM);
    ::close(stdin_);
    ::close(stdout_);
  }
  member_process(const member_process&) = delete;
  member_process& operator=(const member_process&) = delete;

  /// The lines printed so far (non-blocking).
  std::vector<std::string> read_lines() {
    std::vector<std::string> lines;
    for (int n = 0; n < 4096; ++n) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
      char c;
      if (::read(stdout_, &c, 1) != 1) break;
      if (c != '\n') {
        partial_ += c;
        continue;
      }
      lines.push_back(std::move(partial_));
      partial_.clear();
    }
    return lines;
  }
  void kill_hard() { stop(SIGKILL); }

 private:
  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    for (int i = 0; i < 2000; ++i) {  // up to 10 s, then SIGKILL
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      if (i == 1000) ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(5ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string partial_;
};

template <class Pred>
bool wait_until(Pred done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

int run_coordinator(const char* self, std::size_t nodes, std::chrono::milliseconds quiet_window) {
  if (nodes < 2) throw std::runtime_error("--nodes must be at least 2");
  auto seed = start("n00", {});
  std::mutex lock;
  std::optional<std::int64_t> seed_converged;
  std::map<std::string, std::int64_t> seed_failed;
  seed->on_member_event([&](const eam::cluster::member_event& e) {
    std::lock_guard guard(lock);
    if (e.kind == eam::cluster::member_event_kind::leave && e.reason == "failed") seed_failed[e.subject.id] = wall_ms();
  });

  std::vector<std::unique_ptr<member_process>> members;
  std::vector<std::optional<std::int64_t>> converged(nodes - 1);
  std::vector<std::map<std::string, std::int64_t>> failed(nodes - 1);
  std::vector<bool> ready(nodes - 1, false);
  auto collect = [&] {
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (!members[i]) continue;
      for (const std::string& line : members[i]->read_lines()) {
        char what[32] = {}, id[64] = {};
        long long at = 0;
        unsigned port = 0;
        if (std::sscanf(line.c_str(), "READY %u", &port) == 1) ready[i] = true;
        else if (std::sscanf(line.c_str(), "CONVERGED %lld", &at) == 1) converged[i] = at;
        else if (std::sscanf(line.c_str(), "%31s %63s %lld", what, id, &at) == 3 && std::strcmp(what, "FAILED") == 0)
          failed[i][id] = at;
      }
    }
  };
  for (std::size_t i = 1; i < nodes; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "n%02zu", i);
    members.push_back(std::make_unique<member_process>(
        self, std::vector<std::string>{"--member", "--id", id, "--seed", seed->address(), "--expect",
                                       std::to_string(nodes)}));
  }
  if (!wait_until([&] {
        collect();
        return std::all_of(ready.begin(), ready.end(), [](bool r) { return r; });
      }, 120s))
    throw std::runtime_error("the members did not start");
  const std::int64_t all_started = wall_ms();
  if (!wait_until([&] {
        collect();
        if (!seed_converged && seed->members().size() >= nodes) seed_converged = wall_ms();
        return seed_converged && std::all_of(converged.begin(), converged.end(), [](auto& c) { return c.has_value(); });
      }, 120s))
    throw std::runtime_error("the cluster did not converge");
  std::int64_t last = *seed_converged;
  for (const auto& c : converged) last = std::max(last, *c);
  const std::int64_t convergence_ms = std::max<std::int64_t>(0, last - all_started);

  // Gossip traffic of the quiet cluster, at the seed (a node like any other by now).
  const auto before = seed->gossip_stats().bytes_out;
  std::this_thread::sleep_for(quiet_window);
  const auto after = seed->gossip_stats().bytes_out;
  const double bytes_per_s = static_cast<double>(after - before) * 1000.0 / static_cast<double>(quiet_window.count());

  // SIGKILL the last member: every survivor must declare it failed.
  const std::size_t victim = members.size() - 1;
  char victim_id[16];
  std::snprintf(victim_id, sizeof victim_id, "n%02zu", victim + 1);
  const std::int64_t killed_at = wall_ms();
  members[victim]->kill_hard();
  members[victim].reset();
  auto all_saw = [&] {
    collect();
    std::lock_guard guard(lock);
    if (!seed_failed.contains(victim_id)) return false;
    for (std::size_t i = 0; i < victim; ++i)
      if (!failed[i].contains(victim_id)) return false;
    return true;
  };
  if (!wait_until(all_saw, 120s)) throw std::runtime_error("the killed member was not declared failed by all");
  std::vector<std::int64_t> detections;
  {
    std::lock_guard guard(lock);
    detections.push_back(seed_failed[victim_id] - killed_at);
  }
  for (std::size_t i = 0; i < victim; ++i) detections.push_back(failed[i][victim_id] - killed_at);
  std::sort(detections.begin(), detections.end());
  std::printf(
      "{\"nodes\": %zu, \"convergence_ms\": %lld, \"detection_ms_median\": %lld, \"detection_ms_max\": %lld, "
      "\"gossip_bytes_per_node_s\": %.0f}\n",
      nodes, static_cast<long long>(convergence_ms), static_cast<long long>(detections[detections.size() / 2]),
      static_cast<long long>(detections.back()), bytes_per_s);
  std::fflush(stdout);
  members.clear();  // stops every member (SIGTERM, then SIGKILL)
  seed->shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string id, seed;
    std::size_t nodes = 2, expect = 2;
    bool member = false;
    std::chrono::milliseconds quiet_window = 5s;
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      const auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
        return argv[++i];
      };
      if (flag == "--member") member = true;
      else if (flag == "--id") id = value();
      else if (flag == "--seed") seed = value();
      else if (flag == "--expect") expect = std::stoul(value());
      else if (flag == "--nodes") nodes = std::stoul(value());
      else if (flag == "--quiet-window-ms") quiet_window = std::chrono::milliseconds(std::stol(value()));
      else throw std::runtime_error("unknown option " + flag);
    }
    eam::log::set_level(eam::log::level::warn);
    return member ? run_member(id, seed, expect) : run_coordinator("/proc/self/exe", nodes, quiet_window);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eam_membership_real_bench: %s\n", e.what());
    return 1;
  }
}
