#pragma once
// The actors a test node serves, by name: counter, echo, sink, tally, linker, factory, hanger,
// control, and the registrar of a node. Used by the node program and by in-process test nodes
// alike.
#include "test_protocol.hpp"

#include <eam/otp/gen_stage/consumer.hpp>
#include <eam/otp/gen_stage/producer.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace eam::test::remote {

inline void spawn_test_actors(actor_system& system, std::atomic<bool>& quit_requested) {
  system.spawn({.name = "counter"}, [](actor_context& ctx) {
    auto& total = ctx.make_state<int>(0);
    return behavior{[&total](add a) { total += a.n; }, [&total](get) { return total; }};
  });
  system.spawn({.name = "echo"}, [](actor_context&) {
    return behavior{[](const echo& e) { return e.text; },
                    [](const call_back& c) -> task<std::string> {
                      auto op = c.target.call(echo{c.text});
                      auto r = co_await op;
                      co_return r ? r.value() : "error: " + std::string(r.error_value().what());
                    }};
  });
  system.spawn({.name = "sink"}, [](actor_context& ctx) {
    auto& state = ctx.make_state<sink_state>();
    return behavior{[&state](const seq& s) {
                      if (s.n != state.count) state.in_order = false;
                      ++state.count;
                      state.sum += s.n;
                    },
                    [&state](get_sink) { return state; }};
  });
  system.spawn({.name = "tally"}, [](actor_context& ctx) {
    struct tally {
      sink_state totals;
      std::map<std::uint32_t, std::uint64_t> next;  // per sender
    };
    auto& state = ctx.make_state<tally>();
    return behavior{[&state](const tagged& t) {
                      if (t.n != state.next[t.sender]++) state.totals.in_order = false;
                      ++state.totals.count;
                      state.totals.sum += t.n;
                    },
                    [&state](get_tally) { return state.totals; }};
  });
  system.spawn({.name = "linker"}, [](actor_context& ctx) {
    ctx.set_trap_exit(true);
    auto& seen = ctx.make_state<std::vector<std::string>>();
    return behavior{[&ctx](const link_to& l) {
                      ctx.link(l.target);
                      return true;
                    },
                    [&seen](const exit_signal& x) { seen.push_back(x.reason.to_string()); },
                    [&seen](const moved& m) { seen.push_back("moved to " + m.node); },
                    [&seen](exits_seen) { return seen; }};
  });
  system.spawn({.name = "factory"}, [](actor_context& ctx) {
    return behavior{[&ctx](spawn_mortal) {
      return ctx.system().spawn([](actor_context& self) {
        return behavior{[&self](const end_with& e) { self.exit(self.self(), e.reason); },
                        [&self](const link_to& l) {
                          self.link(l.target);
                          return true;
                        },
                        [&self](const unlink_from& u) {
                          self.unlink(u.target);
                          return true;
                        }};
      });
    }};
  });
  system.spawn({.name = "hanger"}, [](actor_context& ctx) {
    return behavior{[&ctx](hang) {
      ctx.stash();  // never unstashed: the call stays pending until the node goes away
      return 0;
    }};
  });
  system.spawn({.name = "control"}, [&quit_requested](actor_context& ctx) {
    return behavior{[&quit_requested](quit) { quit_requested.store(true); },
                    [&ctx](count_actors) { return static_cast<std::uint64_t>(ctx.system().actor_count()); }};
  });
}

/// A producer of int64 events counting from 0, only as asked ("numbers", a local name), and
/// "numbers_produced" telling how many it has made.
inline void spawn_stage_actors(actor_system& system) {
  auto produced = std::make_shared<std::atomic<std::uint64_t>>(0);
  otp::producer<std::int64_t>::start(
      system, [] { return std::int64_t{0}; },
      [produced](std::size_t demand, std::int64_t& next) {
        std::vector<std::int64_t> out(demand);
        for (auto& e : out) e = next++;
        produced->fetch_add(demand);
        return out;
      },
      {}, {.name = "numbers"});
  system.spawn({.name = "numbers_produced"}, [produced](actor_context&) {
    return behavior{[produced](produced_query) { return produced->load(); }};
  });
}

/// A consumer of the int64 producer `name` on node `producer_node` (max_demand 50), and
/// "consumed", which answers get_sink with what it has received: how many events, their sum,
/// and whether each came right after the one before (from 0). Subscribes before it returns;
/// false when the producer could not be found or refused (tries for at most 30 s).
inline bool start_remote_consumer(cluster::node& node, const std::string& producer_node, const std::string& name) {
  std::optional<otp::source_ref<std::int64_t>> producer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!producer && std::chrono::steady_clock::now() < deadline) {
    auto found = node.whereis<otp::source_ref<std::int64_t>>(producer_node, name);
    if (found)
      producer = found.value();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!producer) return false;
  auto seen = std::make_shared<sink_state>();
  auto lock = std::make_shared<std::mutex>();
  auto consumer = otp::consumer<std::int64_t>::start(node.system(), [seen, lock](std::vector<std::int64_t>& events) {
    std::lock_guard g(*lock);
    for (const std::int64_t e : events) {
      if (static_cast<std::uint64_t>(e) != seen->count) seen->in_order = false;
      ++seen->count;
      seen->sum += static_cast<std::uint64_t>(e);
    }
  });
  if (!consumer.subscribe(*producer, {.max_demand = 50})) return false;
  node.system().spawn({.name = "consumed"}, [seen, lock](actor_context&) {
    return behavior{[seen, lock](get_sink) {
      std::lock_guard g(*lock);
      return *seen;
    }};
  });
  return true;
}

/// A class actor for remote spawn: answers echo with its greeting and the text.
struct greeter : actor<std::string(echo)> {
  std::string greeting;
  void init(std::string g) { greeting = std::move(g); }
  std::string handle_call(const echo& e) { return greeting + e.text; }
};

/// A class actor that can move (save_state / restore_state): counts seq casts, in order.
struct ledger : actor<void(seq), ledger_report(ledger_query), std::string(whoami)> {
  ledger_state s;
  void init(std::string blob) { s.blob = std::move(blob); }
  void handle_cast(const seq& q) {
    if (q.n != s.last + 1) s.in_order = false;
    s.last = q.n;
    ++s.count;
  }
  ledger_report handle_call(ledger_query) {
    return {s.count, s.last, s.in_order, context().system().node_id(), s.restored};
  }
  std::string handle_call(whoami) { return context().system().node_id(); }
  ledger_state save_state() const { return s; }
  void restore_state(ledger_state saved) {
    s = std::move(saved);
    ++s.restored;
  }
};
using ledger_ref = typed_ref<void(seq), ledger_report(ledger_query), std::string(whoami)>;

/// The actor types every test node can spawn by name (placement.hpp), registered once.
inline void register_actor_types() {
  static const bool registered = [] {
    cluster::register_actor<int>("test.counter", [](actor_context& ctx, int start) {
      auto& total = ctx.make_state<int>(start);
      return behavior{[&ctx](whoami) { return ctx.system().node_id(); }, [&total](add a) { total += a.n; },
                      [&total](get) { return total; }};
    });
    cluster::register_actor<greeter, std::string>("test.greeter");
    cluster::register_actor<ledger, std::string>("test.ledger");
    // A functional actor that moves: its total is its state.
    cluster::register_migratable_actor<int, int>(
        "test.tally",
        [](actor_context& ctx, int start) {
          auto& total = ctx.make_state<int>(start);
          ctx.on_save_state([&total] { return total; });
          return behavior{[&ctx](whoami) { return ctx.system().node_id(); }, [&total](add a) { total += a.n; },
                          [&total](get) { return total; }};
        },
        [](actor_context& ctx, int saved) {
          auto& total = ctx.make_state<int>(saved);
          ctx.on_save_state([&total] { return total; });
          return behavior{[&ctx](whoami) { return ctx.system().node_id(); }, [&total](add a) { total += a.n; },
                          [&total](get) { return total; }};
        });
    return true;
  }();
  (void)registered;
}

/// The registrar (claim_name and the rest, test_protocol.hpp) of `node`.
inline void spawn_registrar(cluster::node& node) {
  node.system().spawn({.name = "registrar"}, [&node](actor_context& ctx) {
    struct state {
      std::map<std::string, actor_ref> holders;
      std::vector<std::string> ends;
      std::multimap<std::string, actor_ref> members;  // by group
    };
    auto& s = ctx.make_state<state>();
    return behavior{
        [&ctx, &s, &node](const claim_name& c) {
          // The test's starting line: a short wait on this node's own worker (at most 1 s).
          const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(c.at_epoch_ms));
          std::this_thread::sleep_until(std::min(at, std::chrono::system_clock::now() + std::chrono::seconds(1)));
          try {
            const std::string id = node.id();
            auto holder = ctx.system().spawn({.name = c.name, .global = true}, [id](actor_context&) {
              return behavior{[id](whoami) { return id; }};
            });
            ctx.watch(holder, [&s, name = c.name](const down& d) {
              s.ends.push_back(name + ": " + d.reason.to_string());
            });
            s.holders[c.name] = holder;
            return true;
          } catch (const eam::error& e) {
            if (e.code() != errc::name_taken) throw;
            return false;
          }
        },
        [&ctx, &s](const release_name& r) {
          const auto it = s.holders.find(r.name);
          if (it == s.holders.end()) return false;
          ctx.system().stop(it->second);
          s.holders.erase(it);
          return true;
        },
        [&node](const name_query& q) { return node.name_owner(q.name).value_or(""); },
        [&s](holder_ends) { return s.ends; },
        [&ctx, &s, &node](const join_with& j) {
          const std::string id = node.id();
          auto member = ctx.system().spawn([id](actor_context& self) {
            auto& adds = self.make_state<int>(0);
            return behavior{[id](whoami) { return id; }, [&adds](add a) { adds += a.n; }, [&adds](get) { return adds; }};
          });
          s.members.emplace(j.group, member);
          return node.join_group(j.group, member).has_value();
        },
        [&node](const group_size& g) { return static_cast<std::uint64_t>(node.group_members(g.group).size()); },
        [&ctx, &s](const stop_members& g) {
          int stopped = 0;
          const auto [from, to] = s.members.equal_range(g.group);
          for (auto it = from; it != to; ++it, ++stopped) ctx.system().stop(it->second);
          s.members.erase(from, to);
          return stopped;
        }};
  });
}

}  // namespace eam::test::remote
