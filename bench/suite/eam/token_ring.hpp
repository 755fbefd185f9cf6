// The ring both thread-ring and mixed-case pass a token around: each member forwards the
// token with one hop fewer, and the member that receives it with no hops left reports.
#pragma once

#include <eam/eam.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace eam::suite {

struct token {
  std::int64_t left;
};
struct link_to;
using ring_ref = typed_ref<void(token), void(link_to)>;
struct link_to {
  ring_ref next;
};

/// Spawns `size` members, links each to the next (the last to the first) and returns them;
/// `on_last_hop()` runs in whichever member receives the token with no hops left.
template <class OnLastHop>
std::vector<ring_ref> spawn_token_ring(actor_system& sys, std::int64_t size, OnLastHop on_last_hop) {
  std::vector<ring_ref> ring;
  for (std::int64_t i = 0; i < size; ++i) {
    ring.push_back(sys.spawn([on_last_hop](actor_context& ctx) {
      auto& next = ctx.make_state<ring_ref>();
      return behavior{
          [&next, on_last_hop](token t) {
            if (t.left == 0) {
              on_last_hop();
              return;
            }
            next.cast(token{t.left - 1});
          },
          [&next](link_to l) { next = std::move(l.next); },
      };
    }));
  }
  for (std::size_t i = 0; i < ring.size(); ++i) ring[i].cast(link_to{ring[(i + 1) % ring.size()]});
  return ring;
}

}  // namespace eam::suite
