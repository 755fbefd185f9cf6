// The small envelope blocks a worker frees while it runs alone (engine/src/alone_blocks.hpp):
// the list's order and bound, a worker alone reusing the block freed last, and none kept once
// the worker sleeps.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "alone_blocks.hpp"
#include "envelope_cache.hpp"

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <vector>

using eam::internal::alone_blocks;

namespace {
constexpr unsigned small = 1, medium = 2;  // the classes: 48 and 64 bytes

void* fresh_block(unsigned cls) {
  return eam::internal::allocate(eam::detail::envelope_block_bytes(static_cast<std::uint8_t>(cls)), 16);
}
}  // namespace

TEST_SUITE("engine.alone_blocks") {
  TEST_CASE("the list hands out the block kept last of the class asked for") {
    alone_blocks list;
    CHECK(list.pop(small) == nullptr);
    void* a = fresh_block(small);
    void* b = fresh_block(small);
    void* m = fresh_block(medium);
    CHECK(list.push(a, small));
    CHECK(list.push(m, medium));
    CHECK(list.push(b, small));
    CHECK(list.count[small - 1] == 2);
    CHECK(list.pop(small) == b);
    CHECK(list.pop(small) == a);
    CHECK(list.pop(small) == nullptr);
    CHECK(list.pop(medium) == m);
    CHECK(list.count[small - 1] == 0);
    CHECK(list.count[medium - 1] == 0);
    list.release();  // nothing left
    for (void* p : {a, b, m}) eam::internal::deallocate(p);
  }

  TEST_CASE("a full list refuses a block and release gives every block back") {
    alone_blocks list;
    std::vector<void*> blocks;
    for (unsigned i = 0; i < alone_blocks::capacity; ++i) {
      blocks.push_back(fresh_block(small));
      REQUIRE(list.push(blocks.back(), small));
    }
    void* one_more = fresh_block(small);
    CHECK_FALSE(list.push(one_more, small));
    CHECK(list.push(fresh_block(medium), medium));  // the bound is per class
    list.release();  // LeakSanitizer reports any block it kept
    CHECK(list.count[small - 1] == 0);
    CHECK(list.count[medium - 1] == 0);
    CHECK(list.pop(small) == nullptr);
    CHECK(list.pop(medium) == nullptr);
    eam::internal::deallocate(one_more);
  }

  TEST_CASE("an actor messaging itself on a worker alone gets its messages in the two blocks it frees in turn" *
            doctest::skip(EAM_ADDRESS_SANITIZER)) {
    // Message k+2 is made while k+1 is handled, after k's block was freed (the mailbox keeps
    // the envelope handled last linked until the next is taken): it takes k's block.
    struct step {
      std::int64_t left;
    };
    eam::actor_system sys({.workers = 1});
    std::promise<std::vector<const void*>> seen;
    auto self_messaging = sys.spawn([&seen](eam::actor_context& ctx) {
      auto& where = ctx.make_state<std::vector<const void*>>();
      return eam::behavior{[&ctx, &where, &seen](const step& s) {
        where.push_back(&s);
        if (s.left == 0) {
          seen.set_value(where);
          return;
        }
        eam::unchecked_typed_ref_cast<eam::typed_ref<void(step)>>(ctx.self()).cast(step{s.left - 1});
      }};
    });
    self_messaging.cast(step{20});  // from this thread: a block made outside the pool
    const std::vector<const void*> where = seen.get_future().get();
    REQUIRE(where.size() == 21);
    for (std::size_t k = 1; k + 2 < where.size(); ++k) {
      CAPTURE(k);
      CHECK(where[k + 2] == where[k]);
      CHECK(where[k + 1] != where[k]);
    }
  }

  TEST_CASE("a worker alone keeps the blocks it frees until it sleeps" * doctest::skip(EAM_ADDRESS_SANITIZER)) {
    struct burst {
      int n;
    };
    struct tick {};
    struct how_many_kept {
      std::shared_ptr<std::atomic<long>> answer;  // shared: a late answer outlives a failed wait
    };
    eam::actor_system sys({.workers = 1});
    std::atomic<long> after_burst{-1};
    auto actor = sys.spawn([&after_burst](eam::actor_context& ctx) {
      auto& left = ctx.make_state<int>(0);
      return eam::behavior{
          [&ctx, &left](burst b) {
            left = b.n;
            auto self = eam::unchecked_typed_ref_cast<eam::typed_ref<void(tick)>>(ctx.self());
            for (int i = 0; i < b.n; ++i) self.cast(tick{});
          },
          [&left, &after_burst](tick) {
            if (--left == 0) after_burst.store(eam::internal::tls_alone_blocks.count[small - 1]);
          },
          [](how_many_kept q) { q.answer->store(eam::internal::tls_alone_blocks.count[small - 1]); },
      };
    });
    actor.cast(burst{1000});
    REQUIRE(eam::test::eventually([&] { return after_burst.load() != -1; }));
    CHECK(after_burst.load() >= 900);  // the ticks' blocks, freed on the worker that made them
    // Nothing else runs: the worker parks, and gives them back first. Asked again until then
    // (a question that comes before it parks finds them still kept).
    const bool none_kept = eam::test::eventually([&] {
      auto kept = std::make_shared<std::atomic<long>>(-1);
      actor.cast(how_many_kept{kept});
      if (!eam::test::eventually([&] { return kept->load() != -1; })) return false;
      return kept->load() == 0;
    });
    CHECK(none_kept);
  }
}
