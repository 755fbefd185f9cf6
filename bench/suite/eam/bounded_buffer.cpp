// Savina "bndbuffer": producers and consumers exchange items through a manager actor holding a
// bounded buffer. A producer makes its next item only once the manager accepted the last one,
// so a full buffer holds producers back. Items are numbered; the check sums them.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <deque>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct produce_more {};
using producer_ref = typed_ref<void(produce_more)>;
struct item {
  std::int64_t value;
};
struct stop_consuming {};
using consumer_ref = typed_ref<void(item), void(stop_consuming)>;
struct data {
  std::int64_t value;
  producer_ref from;
};
struct producer_exit {};
struct consumer_ready {
  consumer_ref who;
};
struct consumer_total {
  std::int64_t count, sum;
};
using manager_ref = typed_ref<void(data), void(producer_exit), void(consumer_ready), void(consumer_total)>;

outcome bounded_buffer(unsigned workers, const params& p) {
  const std::int64_t capacity = p["buffer"], producers = p["producers"], consumers = p["consumers"], items = p["items"],
                     cost = p["cost"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto manager = sys.spawn([](actor_context& ctx, std::int64_t cap, std::int64_t n_producers, std::int64_t n_consumers,
                              done_latch* d) {
    struct pending_item {
      std::int64_t value;
      producer_ref from;
    };
    struct state {
      std::deque<std::int64_t> buffer;
      std::deque<consumer_ref> idle;
      std::deque<pending_item> pending;
      std::vector<consumer_ref> all_consumers;
      std::int64_t producers_left = 0, reports = 0, count = 0, sum = 0;
      bool stopping = false;
    };
    auto& st = ctx.make_state<state>();
    st.producers_left = n_producers;
    auto maybe_finish = [&st, n_consumers] {
      if (st.stopping || st.producers_left != 0 || !st.buffer.empty() || !st.pending.empty() ||
          static_cast<std::int64_t>(st.idle.size()) != n_consumers)
        return;
      st.stopping = true;
      for (auto& c : st.idle) c.cast(stop_consuming{});
    };
    return behavior{
        [&st, cap](data d) {
          if (!st.idle.empty()) {
            st.idle.front().cast(item{d.value});
            st.idle.pop_front();
            d.from.cast(produce_more{});
          } else if (static_cast<std::int64_t>(st.buffer.size()) < cap) {
            st.buffer.push_back(d.value);
            d.from.cast(produce_more{});
          } else {
            st.pending.push_back({d.value, std::move(d.from)});
          }
        },
        [&st, maybe_finish](producer_exit) {
          --st.producers_left;
          maybe_finish();
        },
        [&st, maybe_finish](consumer_ready r) {
          if (st.buffer.empty()) {
            st.idle.push_back(std::move(r.who));
            maybe_finish();
            return;
          }
          r.who.cast(item{st.buffer.front()});
          st.buffer.pop_front();
          if (!st.pending.empty()) {
            st.buffer.push_back(st.pending.front().value);
            st.pending.front().from.cast(produce_more{});
            st.pending.pop_front();
          }
        },
        [&st, n_consumers, d](consumer_total t) {
          st.count += t.count;
          st.sum += t.sum;
          if (++st.reports == n_consumers) d->set(st.sum);
        },
    };
  }, capacity, producers, consumers, &done);
  std::vector<consumer_ref> all_consumers;
  for (std::int64_t c = 0; c < consumers; ++c) {
    all_consumers.push_back(sys.spawn([](actor_context& ctx, manager_ref m, std::int64_t c_cost) {
      struct state {
        std::int64_t count = 0, sum = 0, sink = 0;
      };
      auto& st = ctx.make_state<state>();
      auto self = eam::unchecked_typed_ref_cast<consumer_ref>(ctx.self());
      return behavior{
          [&st, m, c_cost, self](item i) {
            st.sink += busy_work(c_cost, static_cast<std::uint64_t>(i.value));
            ++st.count;
            st.sum += i.value;
            m.cast(consumer_ready{self});
          },
          [&st, m](stop_consuming) { m.cast(consumer_total{st.count, st.sum}); },
      };
    }, manager_ref(manager), cost));
  }
  std::vector<producer_ref> all_producers;
  for (std::int64_t i = 0; i < producers; ++i) {
    all_producers.push_back(sys.spawn([](actor_context& ctx, manager_ref m, std::int64_t first, std::int64_t count,
                                         std::int64_t p_cost) {
      struct state {
        std::int64_t made = 0, sink = 0;
      };
      auto& st = ctx.make_state<state>();
      auto self = eam::unchecked_typed_ref_cast<producer_ref>(ctx.self());
      return behavior{[&st, m, first, count, p_cost, self](produce_more) {
        if (st.made == count) {
          m.cast(producer_exit{});
          return;
        }
        const std::int64_t value = first + st.made++;
        st.sink += busy_work(p_cost, static_cast<std::uint64_t>(value));
        m.cast(data{value, self});
      }};
    }, manager_ref(manager), i * items + 1, items, cost));
  }
  const std::int64_t n = producers * items;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& c : all_consumers) manager.cast(consumer_ready{c});
    for (auto& pr : all_producers) pr.cast(produce_more{});
    got = done.wait();
  });
  return checked(s, n, got, n * (n + 1) / 2);
}
EAM_SUITE_WORKLOAD("bounded-buffer", bounded_buffer);

}  // namespace
