// Actor ids (engine/src/actor_ids.hpp): unique in the process, never 0, handed out by each
// thread in a row from aligned blocks whatever other threads take meanwhile.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "actor_ids.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <thread>
#include <vector>

using eam::internal::actor_id_block;
using eam::internal::next_actor_id;

TEST_SUITE("engine.actor_ids") {
  TEST_CASE("a thread's ids run on in a row while another thread takes ids between them") {
    std::vector<std::uint64_t> mine, theirs;
    for (int i = 0; i < 3 * static_cast<int>(actor_id_block); ++i) {
      mine.push_back(next_actor_id());
      std::thread([&] { theirs.push_back(next_actor_id()); }).join();  // a new thread each time: a new block each
    }
    for (std::size_t i = 0; i + 1 < mine.size(); ++i) {
      CAPTURE(i);
      CHECK(mine[i + 1] % actor_id_block == (mine[i] + 1) % actor_id_block);  // the outbox's slots, in turn
    }
    std::set<std::uint64_t> all(mine.begin(), mine.end());
    all.insert(theirs.begin(), theirs.end());
    CHECK(all.size() == mine.size() + theirs.size());
    CHECK(all.count(0) == 0);
    for (std::uint64_t id : theirs) CHECK(id % actor_id_block == 0);  // each the first of its block
  }

  TEST_CASE("actors of two systems, and of a system made after another ended, never share an id") {
    std::set<std::uint64_t> seen;
    int repeated = 0;
    std::optional<eam::actor_system> first(std::in_place, eam::system_config{.workers = 1});
    eam::actor_system second({.workers = 1});
    const auto idle = [](eam::actor_context&) { return eam::behavior{[](int) {}}; };
    for (int i = 0; i < 100; ++i) {
      repeated += !seen.insert(first->spawn(idle).id()).second;
      repeated += !seen.insert(second.spawn(idle).id()).second;
    }
    const eam::actor_ref kept = first->spawn(idle);
    CHECK(first->owns(kept));
    CHECK_FALSE(second.owns(kept));
    CHECK_FALSE(second.owns(eam::actor_ref{}));
    first.reset();  // its actors end; the kept ref outlives the system
    eam::actor_system later({.workers = 1});
    for (int i = 0; i < 200; ++i) {
      const eam::actor_ref fresh = later.spawn(idle);
      CHECK(later.owns(fresh));
      repeated += !seen.insert(fresh.id()).second;
      repeated += fresh.id() == kept.id();
    }
    CHECK(repeated == 0);
    CHECK_FALSE(kept.is_alive());
    (void)later.owns(kept);  // asked of a ref whose system is gone: compared, never read (AddressSanitizer)
  }
}
