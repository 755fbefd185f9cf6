// Big: every actor pings random peers, one at a time, `pings` times.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct pong {};
struct big_ping;
struct peers;
using big_ref = typed_ref<void(big_ping), void(pong), void(peers)>;
struct big_ping {
  big_ref from;
};
struct peers {
  std::vector<big_ref> all;
};
outcome big(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], pings = p["pings"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<big_ref> all;
  for (std::int64_t i = 0; i < actors; ++i) {
    all.push_back(sys.spawn([](actor_context& ctx, std::int64_t index, std::int64_t to_send, done_latch* d,
                               std::shared_ptr<std::atomic<std::int64_t>> fin, std::int64_t total_actors) {
      struct state {
        std::vector<big_ref> peers;
        lcg rng;
        std::int64_t sent = 0;
      };
      auto& st = ctx.make_state<state>(state{{}, lcg{static_cast<std::uint64_t>(index) + 1}});
      auto self = eam::unchecked_typed_ref_cast<big_ref>(ctx.self());
      auto send_next = [&st, self] {
        ++st.sent;
        st.peers[st.rng.next() % st.peers.size()].cast(big_ping{self});
      };
      return behavior{
          [](big_ping b) { b.from.cast(pong{}); },
          [&st, send_next, to_send, d, fin, total_actors](pong) {
            if (st.sent < to_send) {
              send_next();
            } else if (fin->fetch_add(1) + 1 == total_actors) {
              d->set(total_actors * to_send);
            }
          },
          [&st, send_next](peers ps) {
            st.peers = std::move(ps.all);
            send_next();
          },
      };
    }, i, pings, &done, finished, actors));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& a : all) a.cast(peers{all});
    got = done.wait();
  });
  return checked(s, actors * pings, got, actors * pings);
}
EAM_SUITE_WORKLOAD("big", big);

}  // namespace
