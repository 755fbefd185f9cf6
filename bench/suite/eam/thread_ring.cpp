// Thread ring: a token makes `hops` hops around a ring of `actors`.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct token {
  std::int64_t left;
};
struct link_to;
using ring_ref = typed_ref<void(token), void(link_to)>;
struct link_to {
  ring_ref next;
};
outcome thread_ring(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], hops = p["hops"];
  actor_system sys({.workers = workers});
  done_latch done;
  std::vector<ring_ref> ring;
  for (std::int64_t i = 0; i < actors; ++i) {
    ring.push_back(sys.spawn([](actor_context& ctx, done_latch* d, std::int64_t total) {
      auto& next = ctx.make_state<ring_ref>();
      return behavior{
          [&next, d, total](token t) {
            if (t.left == 0) {
              d->set(total);
              return;
            }
            next.cast(token{t.left - 1});
          },
          [&next](link_to l) { next = std::move(l.next); },
      };
    }, &done, hops));
  }
  for (std::size_t i = 0; i < ring.size(); ++i) ring[i].cast(link_to{ring[(i + 1) % ring.size()]});
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    ring[0].cast(token{hops});
    got = done.wait();
  });
  return checked(s, hops, got, hops);
}
EAM_SUITE_WORKLOAD("thread-ring", thread_ring);

}  // namespace
