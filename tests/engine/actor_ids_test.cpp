// Actor ids (engine/src/actor_ids.hpp): unique per system, never 0, handed out by each thread
// in a row from aligned blocks whatever other threads take meanwhile.
#include <doctest/doctest.h>

#include "actor_ids.hpp"

#include <cstdint>
#include <set>
#include <thread>
#include <vector>

using eam::internal::actor_ids;

TEST_SUITE("engine.actor_ids") {
  TEST_CASE("a thread's ids run on in a row while another thread takes ids between them") {
    actor_ids ids;
    std::vector<std::uint64_t> mine, theirs;
    for (int i = 0; i < 3 * static_cast<int>(actor_ids::block); ++i) {
      mine.push_back(ids.next());
      std::thread([&] { theirs.push_back(ids.next()); }).join();  // a new thread each time: a new block each
    }
    for (std::size_t i = 0; i + 1 < mine.size(); ++i) {
      CAPTURE(i);
      CHECK(mine[i + 1] % actor_ids::block == (mine[i] + 1) % actor_ids::block);  // the outbox's slots, in turn
    }
    std::set<std::uint64_t> all(mine.begin(), mine.end());
    all.insert(theirs.begin(), theirs.end());
    CHECK(all.size() == mine.size() + theirs.size());
    CHECK(all.count(0) == 0);
    for (std::uint64_t id : theirs) CHECK(id % actor_ids::block == 0);  // each the first of its block
  }

  TEST_CASE("a thread that takes ids of two systems in turn gets ids unique in each") {
    std::set<std::uint64_t> seen[2];
    actor_ids systems[2];
    int repeated = 0;
    for (int i = 0; i < 200; ++i)
      for (int s = 0; s < 2; ++s) repeated += !seen[s].insert(systems[s].next()).second;
    CHECK(repeated == 0);
    // A system made after another was destroyed, maybe at its address, hands out its own ids.
    std::set<std::uint64_t> first_ids;
    {
      actor_ids gone;
      for (int i = 0; i < 10; ++i) first_ids.insert(gone.next());
    }
    actor_ids later;
    std::set<std::uint64_t> later_ids;
    for (int i = 0; i < 100; ++i) later_ids.insert(later.next());
    CHECK(later_ids.size() == 100);
    CHECK(*later_ids.begin() == actor_ids::block);  // its first block, not the rest of the old one's
  }
}
