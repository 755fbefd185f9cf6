// Mailbox push/pop against a mutex + std::deque baseline (the shape of CAF's work-stealing
// deque and of a naive actor inbox).
#include <benchmark/benchmark.h>

#include "mailbox.hpp"

#include <deque>
#include <mutex>
#include <vector>

namespace {
using eam::internal::envelope;  // white-box: the engine's private mailbox (engine/src)
using eam::internal::mailbox;

struct mutex_deque {
  std::mutex m;
  std::deque<envelope*> q;
  void push(envelope* e) {
    std::lock_guard l(m);
    q.push_back(e);
  }
  envelope* pop() {
    std::lock_guard l(m);
    if (q.empty()) return nullptr;
    envelope* e = q.front();
    q.pop_front();
    return e;
  }
};

void BM_mailbox_push_pop(benchmark::State& st) {
  mailbox mb(false);
  envelope e;
  for (auto _ : st) {
    benchmark::DoNotOptimize(mb.push(&e));
    benchmark::DoNotOptimize(mb.pop());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_mailbox_push_pop);

// What a handler's turn does: take, then retire when the handler is done. The last envelope
// stays linked until the next one arrives (mailbox.hpp M-I4), so two take turns; the bench's
// envelopes live on the stack, so giving one back does nothing.
void no_reclaim(eam::internal::mpsc_node*) noexcept {}

void BM_mailbox_push_take(benchmark::State& st) {
  eam::internal::basic_mailbox<&no_reclaim> mb(false);
  envelope a, b;
  envelope* next = &a;
  for (auto _ : st) {
    benchmark::DoNotOptimize(mb.push(next));
    envelope* e = mb.take();
    benchmark::DoNotOptimize(e);
    mb.retire(e);
    next = next == &a ? &b : &a;
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_mailbox_push_take);

void BM_mutex_deque_push_pop(benchmark::State& st) {
  mutex_deque q;
  envelope e;
  for (auto _ : st) {
    q.push(&e);
    benchmark::DoNotOptimize(q.pop());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_mutex_deque_push_pop);

// Every thread but one pushes freshly allocated envelopes; thread 0 pops and frees them. Items
// are the producers' pushes.
mailbox shared_mailbox(false);
mutex_deque shared_deque;

template <class Q>
void contended(benchmark::State& st, Q& q) {
  if (st.thread_index() == 0) {
    for (auto _ : st) {
      for (int i = 0; i < 64; ++i) {
        envelope* e = q.pop();
        if (e == nullptr) break;
        delete e;
      }
    }
    return;
  }
  for (auto _ : st) q.push(new envelope);
  st.SetItemsProcessed(st.iterations());
}
void BM_mailbox_push_contended(benchmark::State& st) {
  if (st.thread_index() == 0)
    while (envelope* e = shared_mailbox.pop()) delete e;  // leftovers of the previous run
  contended(st, shared_mailbox);
}
void BM_mutex_deque_push_contended(benchmark::State& st) {
  if (st.thread_index() == 0)
    while (envelope* e = shared_deque.pop()) delete e;
  contended(st, shared_deque);
}
BENCHMARK(BM_mailbox_push_contended)->Threads(2)->Threads(3)->UseRealTime();
BENCHMARK(BM_mutex_deque_push_contended)->Threads(2)->Threads(3)->UseRealTime();  // baseline
}  // namespace
