#include <doctest/doctest.h>

#include "mailbox.hpp"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using eam::internal::envelope;  // white-box: the engine's private mailbox (engine/src)
using eam::internal::mailbox;

namespace {
struct numbered : envelope {
  int sender = 0;
  int seq = 0;
};
}  // namespace

TEST_SUITE("engine.mailbox") {
  TEST_CASE("the first push into an empty-marked mailbox hands the consumer role to the pusher") {
    mailbox mb(true);
    numbered a, b;
    CHECK(mb.push(&a));
    CHECK_FALSE(mb.push(&b));
    CHECK(mb.pop() == &a);
    CHECK(mb.pop() == &b);
    CHECK(mb.pop() == nullptr);
    CHECK(mb.try_mark_empty());
    numbered c;
    CHECK(mb.push(&c));  // empty again: the next push wakes the owner again
  }

  TEST_CASE("a mailbox with queued messages cannot be marked empty") {
    mailbox mb(false);
    numbered a;
    CHECK_FALSE(mb.push(&a));
    CHECK_FALSE(mb.try_mark_empty());
    CHECK(mb.pop() == &a);
    CHECK(mb.try_mark_empty());
  }

  TEST_CASE("flagging a system message claims an idle mailbox exactly once") {
    mailbox mb(true);
    CHECK(mb.flag_system_and_claim());
    CHECK_FALSE(mb.flag_system_and_claim());
  }

  TEST_CASE("a flagged system message stops the consumer from going idle once") {
    mailbox mb(false);
    CHECK_FALSE(mb.flag_system_and_claim());  // the consumer is active: no claim
    CHECK_FALSE(mb.try_mark_empty());         // must look at the system queue first
    CHECK(mb.try_mark_empty());               // the flag was consumed
    CHECK(mb.flag_system_and_claim());        // idle again: the next system message claims
  }

  TEST_CASE("concurrent producers lose nothing and keep FIFO per producer" *
            doctest::test_suite("concurrency")) {
    constexpr int producers = 4;
    constexpr int per_producer = 20000;
    mailbox mb(true);
    std::vector<std::unique_ptr<numbered[]>> msgs;
    for (int p = 0; p < producers; ++p) msgs.push_back(std::make_unique<numbered[]>(per_producer));
    std::atomic<int> wakeups{0};
    std::atomic<bool> done{false};
    std::vector<int> next_seq(producers, 0);
    int received = 0;
    bool in_order = true;

    // The consumer role moves between threads exactly as in the engine: whoever gets `true`
    // from push would schedule the owner; here a single consumer thread polls instead and
    // checks that wake-ups only happen while it has marked the mailbox empty.
    std::thread consumer([&] {
      while (received < producers * per_producer) {
        if (envelope* e = mb.pop()) {
          auto* m = static_cast<numbered*>(e);
          in_order = in_order && m->seq == next_seq[m->sender];
          next_seq[m->sender] = m->seq + 1;
          ++received;
        } else if (mb.try_mark_empty()) {
          // We gave up the role; wait until a producer takes it back.
          while (!done.load() && mb.is_marked_empty()) std::this_thread::yield();
        }
      }
    });
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per_producer; ++i) {
          msgs[p][i].sender = p;
          msgs[p][i].seq = i;
          if (mb.push(&msgs[p][i])) wakeups.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    done = true;
    consumer.join();
    CHECK(received == producers * per_producer);
    CHECK(in_order);
    CHECK(wakeups.load() >= 1);
  }
}
