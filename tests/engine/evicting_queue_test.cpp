// A drop_oldest mailbox's queue (engine/src/evicting_queue.hpp): pops and evictions of the
// oldest counted envelope, mixed at random with infos that are never evicted, give exactly what
// a plain list searched from its head gives.
#include <doctest/doctest.h>
#include <eam/engine/detail/envelope.hpp>

#include "evicting_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>

namespace {
using eam::detail::envelope;

envelope* make(bool info) {
  envelope* e = eam::detail::make_envelope<int>(eam::detail::envelope_kind::cast, 0);
  if (info) e->flags |= envelope::uncounted;
  return e;
}
bool is_info(const envelope* e) { return (e->flags & envelope::uncounted) != 0; }
}  // namespace

TEST_SUITE("engine.evicting_queue") {
  TEST_CASE("evictions skip the infos ahead and take the oldest counted envelope") {
    eam::internal::evicting_queue q;
    CHECK(q.take_oldest_counted() == nullptr);  // empty
    envelope* i1 = make(true);
    envelope* i2 = make(true);
    envelope* c1 = make(false);
    envelope* i3 = make(true);
    envelope* c2 = make(false);
    for (envelope* e : {i1, i2, c1, i3, c2}) q.push_back(e);
    CHECK(q.take_oldest_counted() == c1);
    CHECK(q.take_oldest_counted() == c2);  // past i3, which stays
    CHECK(q.take_oldest_counted() == nullptr);
    envelope* c3 = make(false);
    q.push_back(c3);  // after the infos the last search walked
    CHECK(q.pop_front() == i1);
    CHECK(q.take_oldest_counted() == c3);
    for (envelope* want : {i2, i3}) {
      envelope* got = q.pop_front();
      CHECK(got == want);
      eam::detail::free_envelope(got);
    }
    CHECK(q.empty());
    CHECK(q.pop_front() == nullptr);
    for (envelope* e : {i1, c1, c2, c3}) eam::detail::free_envelope(e);
  }

  TEST_CASE("random pushes, pops and evictions match a list searched from its head") {
    std::mt19937 rng(20261206);
    for (int round = 0; round < 50; ++round) {
      eam::internal::evicting_queue q;
      std::deque<envelope*> model;
      for (int step = 0; step < 2000; ++step) {
        const int op = static_cast<int>(rng() % 10);
        if (op < 5) {  // push: infos come in runs in some rounds, scattered in others
          envelope* e = make(rng() % (round % 2 == 0 ? 2 : 8) == 0);
          q.push_back(e);
          model.push_back(e);
        } else if (op < 7) {
          envelope* want = model.empty() ? nullptr : model.front();
          if (!model.empty()) model.pop_front();
          envelope* got = q.pop_front();
          REQUIRE(got == want);
          if (got != nullptr) eam::detail::free_envelope(got);
        } else {
          const auto it = std::find_if(model.begin(), model.end(), [](const envelope* e) { return !is_info(e); });
          envelope* want = it == model.end() ? nullptr : *it;
          if (it != model.end()) model.erase(it);
          envelope* got = q.take_oldest_counted();
          REQUIRE(got == want);
          if (got != nullptr) eam::detail::free_envelope(got);
        }
      }
      while (envelope* e = q.pop_front()) {
        REQUIRE(e == model.front());
        model.pop_front();
        eam::detail::free_envelope(e);
      }
      CHECK(model.empty());
    }
  }
}
