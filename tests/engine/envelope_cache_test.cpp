// Small envelope blocks recycled between workers (engine/src/envelope_cache.hpp): which blocks a
// worker keeps, the hand-over through the pool and its bound, and messages whose blocks go
// round between two workers keeping their contents.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "envelope_cache.hpp"
#include "scheduler.hpp"
#include "timer_service.hpp"

#include <atomic>
#include <cstdint>
#include <future>
#include <set>
#include <vector>

using eam::internal::envelope_cache;
using eam::internal::envelope_pool;

namespace {
constexpr unsigned small = 1, medium = 2;  // the classes: 48 and 64 bytes

void* fresh_block(unsigned cls) {
  return eam::internal::allocate(eam::detail::envelope_block_bytes(static_cast<std::uint8_t>(cls)), 16);
}

struct triple {  // 24 bytes: the 64-byte class
  std::int64_t a, b, check;
};
struct done_sending {};
}  // namespace

TEST_SUITE("engine.envelope_cache") {
  TEST_CASE("a worker keeps the blocks other workers made and recycled ones but never its own or ones made outside") {
    envelope_pool pool(envelope_pool::outside_bound);
    envelope_cache first(pool, 0), second(pool, 1);
    CHECK(first.maker() == 1);
    CHECK(second.maker() == 2);
    CHECK_FALSE(first.keeps(first.maker()));  // its own: back to the allocator, as fast
    CHECK(first.keeps(second.maker()));
    CHECK(first.keeps(envelope_cache::recycled));
    CHECK_FALSE(first.keeps(envelope_cache::outside));
    CHECK_FALSE(first.keeps(envelope_cache::slab));  // back to its slab (burst_slabs.hpp)
    // Past the 252nd worker, a worker's blocks are recorded as made outside (253 stands for a
    // burst's slab blocks, 254 for the threads outside the pool, outside_blocks.hpp).
    CHECK(envelope_cache(pool, 251).maker() == 252);
    CHECK(envelope_cache(pool, 252).maker() == envelope_cache::outside);
  }

  TEST_CASE(
      "for a long turn a kept block is the next one handed out and marked recycled while an empty cache hands out "
      "fresh ones marked as its own") {
    envelope_pool pool(envelope_pool::outside_bound);
    envelope_cache cache(pool, 3);
    constexpr unsigned long_turn = envelope_cache::long_turn_sends;
    const auto fresh = cache.allocate(small, long_turn);
    CHECK(fresh.maker == cache.maker());
    void* other = fresh_block(small);
    cache.recycle(other, small);
    const auto again = cache.allocate(small, long_turn);
    CHECK(again.memory == other);
    CHECK(again.maker == envelope_cache::recycled);
    // Classes do not mix: the block handed out is of the class asked for, not the last freed.
    cache.recycle(other, small);
    void* big = fresh_block(medium);
    cache.recycle(big, medium);
    CHECK(cache.allocate(small, long_turn).memory == other);
    CHECK(cache.allocate(medium, long_turn).memory == big);
    eam::internal::deallocate(fresh.memory);
    eam::internal::deallocate(other);
    eam::internal::deallocate(big);
  }

  TEST_CASE(
      "a full stack gives its older half to the pool and a long turn on a worker with none takes them from there") {
    envelope_pool pool(envelope_pool::system_bound);
    envelope_cache freeing(pool, 0), allocating(pool, 1);
    constexpr unsigned long_turn = envelope_cache::long_turn_sends;
    std::vector<void*> blocks;
    for (unsigned i = 0; i < envelope_cache::stack_capacity + long_turn; ++i) blocks.push_back(fresh_block(small));
    for (void* b : blocks) freeing.recycle(b, small);  // spills the older half, a batch at a time
    REQUIRE(pool.holds(small, long_turn));             // as many as the turn has sent: it takes them
    CHECK_FALSE(pool.may_have(medium));
    // The allocating worker's first look at the pool comes with its first allocation.
    std::set<void*> got;
    for (unsigned i = 0; i < envelope_cache::batch; ++i) {
      const auto m = allocating.allocate(small, long_turn);
      CHECK(m.maker == envelope_cache::recycled);
      got.insert(m.memory);
    }
    CHECK_FALSE(pool.holds(small, long_turn));
    // Exactly the batch the pool took last, each block once.
    CHECK(got == std::set<void*>(blocks.begin() + long_turn - envelope_cache::batch, blocks.begin() + long_turn));
    for (void* b : got) eam::internal::deallocate(b);
    // The rest stay with the freeing worker and go to the pool when it is destroyed (then to
    // the allocator with the pool): nothing leaks (the sanitizer builds check).
  }

  TEST_CASE("a cache released gives every block it holds to the allocator and hands out fresh ones after") {
    // What a worker does once the system idles (worker::tidy_while_idle).
    envelope_pool pool(envelope_pool::outside_bound);
    envelope_cache cache(pool, 0);
    for (unsigned i = 0; i < 5; ++i) cache.recycle(fresh_block(small), small);
    cache.recycle(fresh_block(medium), medium);
    CHECK(cache.release() == 6);
    CHECK(cache.release() == 0);
    CHECK_FALSE(pool.may_have(small));  // to the allocator, not the pool
    const auto m = cache.allocate(small, envelope_cache::long_turn_sends);
    CHECK(m.maker == cache.maker());
    eam::internal::deallocate(m.memory);
  }

  TEST_CASE(
      "a burst's messages up to a long turn take slab blocks in address order, while a turn's first ones take kept "
      "ones") {
    // Recycled blocks reach a receiver on another core in scattered order; a slab's lie in
    // address order (envelope_cache.hpp, "Bursts"). A turn's first messages (a reply, a leaf's
    // result, a parent's few children) keep the recycled path.
    envelope_pool pool(envelope_pool::outside_bound);
    envelope_cache cache(pool, 0);
    void* kept = fresh_block(small);
    cache.recycle(kept, small);
    const auto before_burst = cache.allocate(small, envelope_cache::burst_start - 1);
    CHECK(before_burst.memory == kept);
    CHECK(before_burst.maker == envelope_cache::recycled);
    cache.recycle(kept, small);
    eam::internal::tls_burst_slabs.retire();  // this thread carves no slab so far
    const std::int64_t slabs_before = eam::internal::burst_slabs::live_slabs();
    const auto burst = cache.allocate(small, envelope_cache::burst_start);
    const auto next_in_burst = cache.allocate(small, envelope_cache::long_turn_sends - 1);
    for (const auto& further : {burst, next_in_burst}) {
      CHECK(further.maker == envelope_cache::slab);
      CHECK(further.memory != kept);
      CHECK_FALSE(cache.keeps(further.maker));  // it goes back to its slab wherever it is freed
    }
    CHECK(static_cast<char*>(next_in_burst.memory) - static_cast<char*>(burst.memory) == 48);
    eam::internal::burst_slabs::give_back_now(burst.memory);
    eam::internal::burst_slabs::give_back_now(next_in_burst.memory);
    eam::internal::tls_burst_slabs.retire();  // this thread stops carving: the slab goes back
    CHECK(eam::internal::burst_slabs::live_slabs() == slabs_before);
    const auto long_turn = cache.allocate(small, envelope_cache::long_turn_sends);
    CHECK(long_turn.memory == kept);
    CHECK(long_turn.maker == envelope_cache::recycled);
#if EAM_ENVELOPE_CACHE  // without it (AddressSanitizer builds) allocate_envelope keeps no blocks
    // The path a message takes (allocate_envelope), on a thread whose cache is this one and
    // whose turn has sent nothing: its first message, the kept block.
    cache.recycle(kept, small);
    eam::internal::envelope_cache* const was = eam::internal::tls_envelope_cache;
    eam::internal::tls_envelope_cache = &cache;
    const eam::detail::envelope_memory first = eam::detail::allocate_envelope(48, 8, small);
    eam::internal::tls_envelope_cache = was;
    CHECK(first.memory == kept);
    CHECK(first.maker == envelope_cache::recycled);
#endif
    eam::internal::deallocate(kept);
  }

  TEST_CASE("once every worker sleeps, the blocks a system's pool holds go back to the allocator") {
    // A long sending turn leaves its receivers' blocks in the pool, up to millions
    // (envelope_cache.hpp); an idle system keeps none of them. The blocks stand for such a turn's.
    eam::internal::timer_service timers;
    eam::internal::scheduler sched(2, 64, false);
    envelope_pool& pool = sched.envelope_blocks();
    std::vector<void*> blocks(3 * envelope_pool::outside_bound);
    for (void*& b : blocks) b = fresh_block(small);
    REQUIRE(pool.give(small, blocks.data(), static_cast<unsigned>(blocks.size())) == blocks.size());
    for (void*& b : blocks) b = fresh_block(medium);
    REQUIRE(pool.give(medium, blocks.data(), static_cast<unsigned>(blocks.size())) == blocks.size());
    sched.start(timers);  // nothing to run: both workers park, and their watches find the pool
    CHECK(eam::test::eventually([&] { return !pool.may_have(small) && !pool.may_have(medium); }));
    sched.stop();
  }

  TEST_CASE("the pool keeps at most its bound of blocks per class and says how many it took") {
    constexpr std::size_t bound = 300;
    envelope_pool pool(bound);
    std::vector<void*> blocks(bound + 10);
    for (void*& b : blocks) b = fresh_block(medium);
    CHECK_FALSE(pool.holds(medium, 1));
    const unsigned kept = pool.give(medium, blocks.data(), static_cast<unsigned>(blocks.size()));
    CHECK(kept == bound);
    CHECK(pool.holds(medium, bound));
    CHECK_FALSE(pool.holds(medium, bound + 1));
    CHECK_FALSE(pool.holds(small, 1));
    for (std::size_t i = kept; i < blocks.size(); ++i) eam::internal::deallocate(blocks[i]);
    std::vector<void*> out(bound);
    CHECK(pool.take(medium, out.data(), 10) == 10);
    CHECK_FALSE(pool.holds(medium, bound));
    CHECK(pool.take(small, out.data(), 10) == 0);
    for (unsigned i = 0; i < 10; ++i) eam::internal::deallocate(out[i]);
  }

  TEST_CASE("a long sending turn takes fresh blocks while the pool holds fewer than it sent and the pool's after") {
    // The pool's blocks were freed on another core in the order their receivers handled them;
    // a driver that sends from one long turn writes fresh blocks in address order instead, and
    // leaves those to the pool while the pool holds fewer than the turn has sent
    // (envelope_cache.hpp).
    envelope_pool pool(envelope_pool::system_bound);
    envelope_cache freeing(pool, 0), driver(pool, 1);
    std::vector<void*> freed;
    for (unsigned i = 0; i < envelope_cache::stack_capacity + 2 * envelope_cache::batch; ++i) freed.push_back(fresh_block(small));
    for (void* b : freed) freeing.recycle(b, small);  // spills two batches
    REQUIRE(pool.holds(small, 2 * envelope_cache::batch));
    std::vector<void*> taken;
    const auto allocate = [&](unsigned sent) {
      const auto m = driver.allocate(small, sent);
      taken.push_back(m.memory);
      return m.maker;
    };
    // The pool holds two batches, fewer than the turn has sent: fresh blocks, past several
    // looks at the pool.
    for (unsigned i = 0; i < 2 * envelope_cache::batch; ++i) CHECK(allocate(envelope_cache::long_turn_sends + i) == driver.maker());
    // Once the pool holds as many as the turn has sent, the turn takes them, at the latest by
    // its next look: a pool an earlier burst filled is reused, not left beside the new one's.
    for (unsigned i = 0; i < envelope_cache::long_turn_sends; ++i) freeing.recycle(fresh_block(small), small);
    REQUIRE(pool.holds(small, envelope_cache::long_turn_sends));
    bool recycled = false;
    for (unsigned i = 0; i < 64 && !recycled; ++i) recycled = allocate(envelope_cache::long_turn_sends) == envelope_cache::recycled;
    CHECK(recycled);
    for (void* b : taken) eam::internal::deallocate(b);
    // The rest go to the pool with the caches, then to the allocator with the pool.
  }

  TEST_CASE("a long sending turn that began while one worker ran starts sharing blocks once others run") {
    // A worker looks at the active count between turns; a driver that sends from one handler
    // for the whole run must not keep handing its blocks to the allocator after a second worker
    // started. The handler stands for such a turn by forgetting its cache, then sends two
    // chains: pushing a chain looks at the count again.
    struct run {};
    struct tick {};
    eam::actor_system sys({.workers = 2, .adaptive_workers = false});
    auto sink = sys.spawn([](eam::actor_context&) { return eam::behavior{[](tick) {}}; });
    std::promise<std::pair<bool, bool>> seen;  // (forgotten, shared again)
    auto driver = sys.spawn([sink, &seen](eam::actor_context&) {
      return eam::behavior{[sink, &seen](run) {
        eam::internal::tls_envelope_cache = eam::internal::worker_alone();
        const bool forgotten = !eam::internal::shares_blocks(eam::internal::tls_envelope_cache);
        for (int i = 0; i < 2 * 64 + 1; ++i) sink.cast(tick{});
        seen.set_value({forgotten, eam::internal::shares_blocks(eam::internal::tls_envelope_cache)});
      }};
    });
    auto answer = seen.get_future();
    driver.cast(run{});
    const auto [forgotten, shared_again] = answer.get();
    CHECK(forgotten);
    CHECK(shared_again);
  }

  TEST_CASE("a long turn that makes actors runnable one after another starts sharing blocks once others run") {
    // As above, but one message to each of many actors, a creator's pattern: no chain forms,
    // so the look is where the turn queues the actors it woke. fork-join-create's creator
    // went on marking its blocks for a worker alone for its whole turn.
    struct run {};
    struct tick {};
    eam::actor_system sys({.workers = 2, .adaptive_workers = false});
    std::promise<std::pair<bool, bool>> seen;  // (forgotten, shared again)
    auto creator = sys.spawn([&seen](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, &seen](run) {
        eam::internal::tls_envelope_cache = eam::internal::worker_alone();
        const bool forgotten = !eam::internal::shares_blocks(eam::internal::tls_envelope_cache);
        for (int i = 0; i < 2 * 64 + 1; ++i)
          ctx.spawn([](eam::actor_context& c) {
               return eam::behavior{[&c](tick) { c.stop(); }};
             }).cast(tick{});
        seen.set_value({forgotten, eam::internal::shares_blocks(eam::internal::tls_envelope_cache)});
      }};
    });
    auto answer = seen.get_future();
    creator.cast(run{});
    const auto [forgotten, shared_again] = answer.get();
    CHECK(forgotten);
    CHECK(shared_again);
  }

  TEST_CASE("messages whose blocks go round between two workers keep their contents and order") {
    // Both workers always run. Each producer sends to its consumers in turn, with messages of
    // both block classes, from one long handler; the consumers run on the other worker too, and
    // free blocks the producer's worker made, which go back to it through the stacks and the
    // pool (from a twentieth to nearly half of the messages, as the run is scheduled).
    constexpr int producers = 2, consumers_each = 8;
    constexpr std::int64_t per_consumer = 10'000;
    eam::actor_system sys({.workers = 2, .adaptive_workers = false});
    std::atomic<int> finished{0};
    std::atomic<int> wrong{0};
    for (int p = 0; p < producers; ++p) {
      using consumer_ref = eam::typed_ref<void(std::int64_t), void(triple), void(done_sending)>;
      std::vector<consumer_ref> consumers;
      for (int c = 0; c < consumers_each; ++c)
        consumers.push_back(sys.spawn([&finished, &wrong](eam::actor_context& ctx) {
          auto& next = ctx.make_state<std::int64_t>(0);
          return eam::behavior{
              [&next, &wrong](std::int64_t v) {
                if (v != next++) wrong.fetch_add(1);
              },
              [&next, &wrong](triple t) {
                if (t.a != next || t.check != (t.a ^ t.b)) wrong.fetch_add(1);
                ++next;
              },
              [&next, &finished, &wrong](done_sending) {
                if (next != per_consumer) wrong.fetch_add(1);
                finished.fetch_add(1);
              },
          };
        }));
      auto producer = sys.spawn([consumers](eam::actor_context&) {
        return eam::behavior{[consumers](done_sending) {
          for (std::int64_t i = 0; i < per_consumer; ++i)
            for (const auto& to : consumers) {
              if (i % 3 == 0)
                to.cast(triple{i, i * 7919, i ^ (i * 7919)});
              else
                to.cast(i);
            }
          for (const auto& to : consumers) to.cast(done_sending{});
        }};
      });
      producer.cast(done_sending{});
    }
    REQUIRE(eam::test::eventually([&] { return finished.load() == producers * consumers_each; }, std::chrono::seconds(60)));
    CHECK(wrong.load() == 0);
  }
}
