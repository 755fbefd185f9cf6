// Hot paths run a fixed number of times with callgrind's client requests around them, so the
// instruction counts the gate (tools/gate.py) reads cover exactly the measured work. Run under
// `valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes`; run plainly it just
// executes the workloads (the client requests are no-ops) and prints how many operations each
// region holds, as JSON on stdout.
//
// Every actor workload runs on a one-worker system, driven from inside actors, so the worker
// never idles inside a region and the count is the same on every run of the same binary.
// Each runs once unmeasured first, so first-touch costs (allocator pages, lazy statics) stay out.
#include "../workloads/eam_workloads.hpp"

#include "actor_cell.hpp"
#include "mailbox.hpp"
#include "timer_service.hpp"

#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {
using namespace eam::bench;

bool measuring = false;  // false on the warm-up pass

void region_begin() {
  if (!measuring) return;
  CALLGRIND_ZERO_STATS;
  CALLGRIND_START_INSTRUMENTATION;
}
void region_end(const char* name) {
  if (!measuring) return;
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS_AT(name);
}

struct run {
  std::int64_t n;
};

// cast: one actor casts n messages to another, which handles them (enqueue, chain push,
// schedule, dispatch, free). Per message.
void cast_workload(std::int64_t n) {
  eam::actor_system sys({.workers = 1});
  done_latch done;
  auto sink = sys.spawn(
      [](eam::actor_context& ctx, done_latch* d, std::int64_t expect) {
        auto& count = ctx.make_state<std::int64_t>(0);
        return eam::behavior{[&count, d, expect](tick) {
          if (++count == expect) {
            region_end("cast");
            d->set(count);
          }
        }};
      },
      &done, n);
  auto driver = sys.spawn([sink = eam::typed_ref<void(tick)>(sink)](eam::actor_context&) {
    return eam::behavior{[sink](run r) {
      region_begin();
      for (std::int64_t i = 0; i < r.n; ++i) sink.cast(tick{1});
    }};
  });
  driver.cast(run{n});
  done.wait();
}

// ping_pong: one message per handler, each waking the other actor. Per message.
auto gate_player(eam::actor_context& ctx, done_latch* done) {
  auto& peer = ctx.make_state<player_ref>();
  return eam::behavior{
      [&peer, done](ball b) {
        if (b.left == 0) {
          region_end("ping_pong");
          done->set(1);
          return;
        }
        peer.cast(ball{b.left - 1});
      },
      [&peer](set_peer p) { peer = std::move(p.peer); },
  };
}
void ping_pong_workload(std::int64_t messages) {
  eam::actor_system sys({.workers = 1});
  done_latch done;
  auto a = sys.spawn(gate_player, &done);
  auto b = sys.spawn(gate_player, &done);
  a.cast(set_peer{b});
  b.cast(set_peer{a});
  struct start {};
  auto kick = sys.spawn([a = player_ref(a), messages](eam::actor_context&) {
    return eam::behavior{[a, messages](start) {
      region_begin();
      a.cast(ball{messages});
    }};
  });
  kick.cast(start{});
  done.wait();
}

// call: an actor awaits n sequential calls to another (request, reply, the timeout held by
// the worker and dropped at the hand-over, coroutine suspend and resume). Per round trip.
void call_workload(std::int64_t n) {
  eam::actor_system sys({.workers = 1});
  done_latch done;
  auto server = sys.spawn(echo_server);
  auto client = sys.spawn(
      [](eam::actor_context&, eam::typed_ref<std::int64_t(request)> to, done_latch* d) {
        return eam::behavior{[to, d](run r) -> eam::task<> {
          region_begin();
          std::int64_t sum = 0;
          for (std::int64_t i = 0; i < r.n; ++i) sum += (co_await to.call(request{1})).value();
          region_end("call");
          d->set(sum);
        }};
      },
      eam::typed_ref<std::int64_t(request)>(server), &done);
  client.cast(run{n});
  done.wait();
}

// call_from_thread: a thread outside the pool makes n blocking calls to an idle actor, whose
// turns it runs itself (system_config::calls_run_on_caller). Per round trip. The actor is idle
// before the region: a call that found it still claimed would wait for a worker, and the
// count would depend on how long the wait spun.
void call_from_thread_workload(std::int64_t n) {
  eam::actor_system sys({.workers = 1});
  auto server = sys.spawn(echo_server);
  (void)server.call(request{1}).get();
  while (!server.cell()->is_idle()) std::this_thread::yield();
  region_begin();
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += server.call(request{1}).get().value();
  region_end("call_from_thread");
  if (sum != n) std::abort();
}

// spawn_stop: an actor spawns a child and stops it, n times; each child runs init and
// terminate and reports its exit to the parent. Per child.
struct counted_child : eam::actor<void(tick)> {
  done_latch* done = nullptr;
  std::int64_t* left = nullptr;
  void init(done_latch* d, std::int64_t* l) {
    done = d;
    left = l;
  }
  void handle_cast(tick) {}
  void terminate(const eam::exit_reason&) {
    if (--*left == 0) {
      region_end("spawn_stop");
      done->set(1);
    }
  }
};
void spawn_stop_workload(std::int64_t n) {
  eam::actor_system sys({.workers = 1});
  done_latch done;
  std::int64_t left = n;
  auto parent = sys.spawn([&done, &left](eam::actor_context& ctx) {
    return eam::behavior{[&ctx, &done, &left](run r) {
      region_begin();
      for (std::int64_t i = 0; i < r.n; ++i) ctx.stop(ctx.spawn<counted_child>(&done, &left));
    }};
  });
  parent.cast(run{n});
  done.wait();
}

// watch_many, link_many, timer_many: an actor holding thousands of watches, links or timers
// at once, as a supervisor or a pool does. Their lists were vectors erased in place, and one
// actor watching 80,000 others took 20 s to hear their ends: these rows stay per child (per
// timer) only while lookups and erases stay constant-time (keyed_vector.hpp).
struct quiet_child : eam::actor<void(tick)> {
  void handle_cast(tick) {}
};
constexpr std::int64_t many = 4096;

// watch_many: spawns `many` children and watches each, stops them, hears every down. Per
// child: spawn, watch, stop, child_exited, down. link_many: the same with links, trapping
// exits; per child: spawn, link, stop, exit signal.
template <class Signal>
void tie_many_workload(std::int64_t n, const char* region, void (*tie)(eam::actor_context&, const eam::actor_ref&)) {
  eam::actor_system sys({.workers = 1});
  done_latch done;
  auto owner = sys.spawn([&done, region, tie](eam::actor_context& ctx) {
    if constexpr (std::is_same_v<Signal, eam::exit_signal>) ctx.set_trap_exit(true);
    auto& left = ctx.make_state<std::int64_t>(0);
    return eam::behavior{[&ctx, &left, tie](run r) {
                           region_begin();
                           left = r.n;
                           std::vector<eam::actor_ref> children;
                           children.reserve(static_cast<std::size_t>(r.n));
                           for (std::int64_t i = 0; i < r.n; ++i) {
                             children.push_back(ctx.spawn<quiet_child>());
                             tie(ctx, children.back());
                           }
                           for (auto& c : children) ctx.stop(c);
                         },
                         [&left, &done, region](const Signal&) {
                           if (--left == 0) {
                             region_end(region);
                             done.set(1);
                           }
                         }};
  });
  owner.cast(run{n});
  done.wait();
}
void watch_many_workload(std::int64_t n) {
  tie_many_workload<eam::down>(n, "watch_many", [](eam::actor_context& ctx, const eam::actor_ref& c) { ctx.watch(c); });
}
void link_many_workload(std::int64_t n) {
  tie_many_workload<eam::exit_signal>(n, "link_many",
                                      [](eam::actor_context& ctx, const eam::actor_ref& c) { ctx.link(c); });
}

// timer_many: arms `many` timers an hour away, then cancels them oldest first. Per timer.
void timer_many_workload(std::int64_t n) {
  eam::actor_system sys({.workers = 1});
  done_latch done;
  auto owner = sys.spawn([&done](eam::actor_context& ctx) {
    return eam::behavior{[&ctx, &done](run r) {
                           region_begin();
                           std::vector<eam::timer_ref> timers;
                           timers.reserve(static_cast<std::size_t>(r.n));
                           for (std::int64_t i = 0; i < r.n; ++i)
                             timers.push_back(ctx.send_after(tick{1}, std::chrono::hours(1)));
                           for (auto& t : timers)
                             if (!ctx.cancel_timer(t)) std::abort();
                           region_end("timer_many");
                           done.set(1);
                         },
                         [](tick) {}};
  });
  owner.cast(run{n});
  done.wait();
}

// mailbox: one push and one pop on an uncontended mailbox. Per push+pop.
void mailbox_workload(std::int64_t n) {
  eam::internal::mailbox mb(false);
  eam::internal::envelope e;
  region_begin();
  for (std::int64_t i = 0; i < n; ++i) {
    (void)mb.push(&e);
    (void)mb.pop();
  }
  region_end("mailbox_push_pop");
}

// mailbox_take: one push, one take and one retire, as a handler's turn does: the last envelope
// stays linked until the next one arrives (mailbox.hpp M-I4), so two take turns. Per message.
void no_reclaim(eam::internal::mpsc_node*) noexcept {}  // the envelopes live on the stack

void mailbox_take_workload(std::int64_t n) {
  eam::internal::basic_mailbox<&no_reclaim> mb(false);
  eam::internal::envelope a, b;
  eam::internal::envelope* next = &a;
  region_begin();
  for (std::int64_t i = 0; i < n; ++i) {
    (void)mb.push(next);
    mb.retire(mb.take());
    next = next == &a ? &b : &a;
  }
  region_end("mailbox_push_take");
}

// timer: arm a call timeout and cancel it. Per arm+cancel.
void timer_workload(std::int64_t n) {
  eam::actor_system sys({.workers = 1});
  auto target = sys.spawn(echo_server);
  (void)target.call(request{1}).get();
  eam::internal::timer_service timers;
  const auto far = eam::internal::clock::now() + std::chrono::hours(1);
  region_begin();
  for (std::int64_t i = 0; i < n; ++i) timers.cancel(timers.arm_call_timeout(far, target.cell(), static_cast<std::uint64_t>(i)));
  region_end("timer_arm_cancel");
}

struct workload {
  const char* name;
  std::int64_t ops;
  void (*body)(std::int64_t);
};
}  // namespace

int main() {
  const std::vector<workload> all = {
      {"cast", 20000, cast_workload},
      {"ping_pong", 20000, ping_pong_workload},
      {"call", 5000, call_workload},
      {"call_from_thread", 5000, call_from_thread_workload},
      {"spawn_stop", 5000, spawn_stop_workload},
      {"mailbox_push_pop", 20000, mailbox_workload},
      {"mailbox_push_take", 20000, mailbox_take_workload},
      {"timer_arm_cancel", 5000, timer_workload},
      {"watch_many", many, watch_many_workload},
      {"link_many", many, link_many_workload},
      {"timer_many", many, timer_many_workload},
  };
  std::string json = "{";
  for (const workload& w : all) {
    measuring = false;
    w.body(w.ops);
    measuring = true;
    w.body(w.ops);
    json += std::string(json.size() > 1 ? ", " : "") + "\"" + w.name + "\": " + std::to_string(w.ops);
  }
  std::printf("%s}\n", json.c_str());
}
