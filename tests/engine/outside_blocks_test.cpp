// The envelope blocks of threads outside the pool (engine/src/outside_blocks.hpp): marked where
// they are made, kept by the worker that frees them, and back to the thread that sends through
// the pool, oldest first; messages sent after the thread's own blocks are gone; and calls from
// several threads at once, whose blocks go round while both workers free them.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "envelope_cache.hpp"
#include "outside_blocks.hpp"

#include <cstdint>
#include <thread>
#include <vector>

using eam::internal::envelope_cache;
using eam::internal::envelope_pool;
using eam::internal::outside_blocks;

namespace {
constexpr unsigned small = 1;  // the 48-byte class

struct word {  // 8 bytes: the 48-byte class
  std::int64_t v;
};
struct free_all {
  std::vector<eam::detail::envelope*>* envelopes;
};
struct echo {
  std::int64_t v;
};
}  // namespace

TEST_SUITE("engine.outside_blocks") {
  TEST_CASE("a thread outside the pool marks its blocks and hands out the one it gave back last") {
    envelope_pool pool(envelope_pool::outside_bound);
    outside_blocks mine(pool);
    const auto fresh = mine.allocate(small);
    CHECK(fresh.maker == envelope_cache::from_outside_thread);
    mine.give_back(fresh.memory, small);
    const auto again = mine.allocate(small);
    CHECK(again.memory == fresh.memory);
    CHECK(again.maker == envelope_cache::from_outside_thread);
    eam::internal::deallocate(again.memory);
  }

  TEST_CASE("a worker keeps the blocks of threads outside the pool for them and never as its own") {
    envelope_pool pool(envelope_pool::outside_bound);
    outside_blocks workers(pool), senders(pool);
    CHECK_FALSE(envelope_cache(pool, 0).keeps(envelope_cache::from_outside_thread));
    std::vector<void*> made;
    for (unsigned i = 0; i < outside_blocks::stack_capacity + 1; ++i) made.push_back(senders.allocate(small).memory);
    CHECK_FALSE(pool.may_have(small));
    for (void* b : made) workers.give_back(b, small);  // the last one spills the oldest batch
    CHECK(pool.may_have(small));
    // The sender's stack is empty: its next blocks are that batch, the last of it first.
    for (unsigned i = outside_blocks::batch; i-- != 0;) CHECK(senders.allocate(small).memory == made[i]);
    for (unsigned i = 0; i < outside_blocks::batch; ++i) eam::internal::deallocate(made[i]);
    // The rest go to the pool with the worker's stack, then to the allocator with the pool.
  }

  TEST_CASE("messages a thread outside the pool sends come back to it through the pool and not the allocator" *
            doctest::skip(!EAM_ENVELOPE_CACHE)) {
    // The envelopes are made on a fresh thread and freed by an actor on the worker, as a mailbox
    // does with what it handled. Given to the allocator instead, they would come back (if at
    // all) in the order the allocator keeps, the last freed first. Earlier tests in the same
    // process may have left blocks in the pool: they are taken out first.
    std::vector<void*> leftovers(envelope_pool::outside_bound);
    while (const unsigned n = eam::internal::outside_pool().take(small, leftovers.data(), envelope_pool::outside_bound))
      for (unsigned i = 0; i < n; ++i) eam::internal::deallocate(leftovers[i]);
    // The freeing turn on the worker, not on the calling thread (system_config::calls_run_on_caller).
    eam::actor_system sys({.workers = 1, .calls_run_on_caller = false});
    auto freer = eam::typed_ref<bool(free_all)>(sys.spawn([](eam::actor_context&) {
      return eam::behavior{[](free_all f) {
        for (eam::detail::envelope* e : *f.envelopes) eam::detail::free_envelope(e);
        return eam::internal::tls_outside_blocks != nullptr;  // the worker's
      }};
    }));
    std::thread sender([&] {
      std::vector<eam::detail::envelope*> made;
      for (unsigned i = 0; i < outside_blocks::stack_capacity + 1; ++i) {
        made.push_back(eam::detail::make_envelope<word>(eam::detail::envelope_kind::cast, word{std::int64_t(i)}));
        CHECK(made.back()->maker == envelope_cache::from_outside_thread);
      }
      std::vector<eam::detail::envelope*> to_free = made;
      const auto kept_on_worker = freer.call(free_all{&to_free}).get();
      REQUIRE(kept_on_worker.has_value());
      CHECK(kept_on_worker.value());
      std::vector<eam::detail::envelope*> again;
      for (unsigned i = 0; i < outside_blocks::batch; ++i)
        again.push_back(eam::detail::make_envelope<word>(eam::detail::envelope_kind::cast, word{0}));
      for (unsigned i = 0; i < outside_blocks::batch; ++i)
        CHECK(static_cast<void*>(again[i]) == static_cast<void*>(made[outside_blocks::batch - 1 - i]));
      for (eam::detail::envelope* e : again) eam::detail::free_envelope(e);  // here: onto this thread's stack
    });
    sender.join();
  }

  TEST_CASE("a message made after the thread's own blocks are gone comes from the allocator") {
    // thread_local objects end in the reverse order of their construction: one built before the
    // thread's first message ends after the thread's blocks, and its destructor sends.
    struct sends_at_thread_end {
      std::uint8_t* maker_seen;
      ~sends_at_thread_end() {
        eam::detail::envelope* e = eam::detail::make_envelope<word>(eam::detail::envelope_kind::cast, word{1});
        *maker_seen = e->maker;
        eam::detail::free_envelope(e);
      }
    };
    std::uint8_t maker_seen = envelope_cache::recycled;  // neither value the check accepts
    std::uint8_t maker_while_running = envelope_cache::recycled;
    std::thread sender([&] {
      thread_local sends_at_thread_end at_end{&maker_seen};
      (void)at_end;
      eam::detail::envelope* e = eam::detail::make_envelope<word>(eam::detail::envelope_kind::cast, word{0});
      maker_while_running = e->maker;
      eam::detail::free_envelope(e);
    });
    sender.join();
    const std::uint8_t expected_while_running =
        EAM_ENVELOPE_CACHE ? envelope_cache::from_outside_thread : envelope_cache::outside;
    CHECK(maker_while_running == expected_while_running);
    CHECK(maker_seen == envelope_cache::outside);
  }

  TEST_CASE("calls from several threads at once get their own answers while their blocks go round") {
    eam::actor_system sys({.workers = 2, .adaptive_workers = false});
    std::vector<eam::typed_ref<std::int64_t(echo)>> servers;
    for (int s = 0; s < 2; ++s)
      servers.emplace_back(sys.spawn([](eam::actor_context&) { return eam::behavior{[](echo e) { return e.v; }}; }));
    constexpr int threads = 4;
    constexpr std::int64_t calls = 2000;
    std::vector<std::int64_t> wrong(threads, 0);
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t)
      callers.emplace_back([&, t] {
        for (std::int64_t i = 0; i < calls; ++i) {
          const std::int64_t v = t * calls + i;
          auto r = servers[static_cast<std::size_t>(i % 2)].call(echo{v}).get();
          if (!r.has_value() || r.value() != v) ++wrong[static_cast<std::size_t>(t)];
        }
      });
    for (auto& c : callers) c.join();  // their blocks go to the pool as the threads end
    for (int t = 0; t < threads; ++t) CHECK(wrong[static_cast<std::size_t>(t)] == 0);
  }
}
