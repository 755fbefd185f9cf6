// Savina "concdict": workers make awaited put/get calls on one dictionary actor, 10 % writes.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct put {
  std::int64_t key, value;
};
struct get {
  std::int64_t key;
};
struct size_of {};
struct start {};
using dictionary_ref = typed_ref<bool(put), std::int64_t(get), std::int64_t(size_of)>;
using savina::concdict::key_space;

outcome concurrent_dictionary(unsigned workers, const params& p) {
  const std::int64_t clients = p["clients"], ops = p["ops"], write_percent = p["write_percent"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto dict = sys.spawn([](actor_context& ctx) {
    auto& map = ctx.make_state<std::unordered_map<std::int64_t, std::int64_t>>();
    return behavior{
        [&map](put p) { return map.insert_or_assign(p.key, p.value).second; },
        [&map](get g) {
          auto it = map.find(g.key);
          return it == map.end() ? std::int64_t{-1} : it->second;
        },
        [&map](size_of) { return static_cast<std::int64_t>(map.size()); },
    };
  });
  auto answered = std::make_shared<std::atomic<std::int64_t>>(0);
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<typed_ref<void(start)>> pool;
  std::unordered_set<std::int64_t> written;  // what the dictionary must hold at the end
  for (std::int64_t w = 0; w < clients; ++w) {
    lcg replay{static_cast<std::uint64_t>(w) + 1};
    for (std::int64_t i = 0; i < ops; ++i) {
      const bool write = static_cast<std::int64_t>(replay.next() % 100) < write_percent;
      const auto key = static_cast<std::int64_t>(replay.next() % key_space);
      if (write) written.insert(key);
    }
    pool.push_back(sys.spawn([w, ops, write_percent, answered, finished, clients, &done,
                              d = dictionary_ref(dict)](actor_context&) {
      return behavior{[=, &done](start) -> task<> {
        lcg rng{static_cast<std::uint64_t>(w) + 1};
        for (std::int64_t i = 0; i < ops; ++i) {
          const bool write = static_cast<std::int64_t>(rng.next() % 100) < write_percent;
          const auto key = static_cast<std::int64_t>(rng.next() % key_space);
          const bool ok = write ? (co_await d.call(put{key, i})).has_value() : (co_await d.call(get{key})).has_value();
          if (ok) answered->fetch_add(1, std::memory_order_relaxed);
        }
        if (finished->fetch_add(1) + 1 == clients) done.set(answered->load());
      }};
    }));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& c : pool) c.cast(start{});
    got = done.wait();
  });
  const std::int64_t size = dict.call(size_of{}).get().value();
  outcome o = checked(s, clients * ops, got, clients * ops);
  savina::concdict::check_size(o, size, written.size());
  return o;
}
EAM_SUITE_WORKLOAD("concurrent-dictionary", concurrent_dictionary);

}  // namespace
