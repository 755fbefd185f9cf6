#include "scheduler.hpp"

#include "actor_cell.hpp"
#include "asymmetric_fence.hpp"
#include "tls.hpp"
#include "worker.hpp"

#include <algorithm>

namespace eam::internal {

namespace {
EAM_TLS worker* tls_worker = nullptr;

// A parking worker has searched already (worker.cpp, search_rounds): the semaphore's own spin
// before it sleeps (moodycamel's default is 10,000 tries) would only burn the core longer.
constexpr int idle_sem_spins = 100;
}  // namespace

worker* current_worker() noexcept { return tls_worker; }
void set_current_worker(worker* w) noexcept { tls_worker = w; }

scheduler::scheduler(unsigned workers, unsigned throughput)
    : throughput_(throughput == 0 ? 1 : throughput),
      idle_sem_(0, idle_sem_spins),
      asymmetric_fences_(enable_asymmetric_fences()) {
  if (workers == 0) workers = 1;
  workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) workers_.push_back(std::make_unique<worker>(*this, i));
}

scheduler::~scheduler() { stop(); }

void scheduler::start() {
  for (auto& w : workers_) w->start();
}

void scheduler::stop() {
  if (stopping_.exchange(true)) return;
  idle_sem_.signal(static_cast<std::ptrdiff_t>(workers_.size()));
  for (auto& w : workers_) w->join();
}

bool scheduler::on_worker() const noexcept {
  const worker* w = tls_worker;
  return w != nullptr && &w->owner() == this;
}

void scheduler::schedule(actor_cell* c) noexcept {
  worker* w = tls_worker;
  if (w != nullptr && &w->owner() == this) {
    w->schedule_local(c);
    return;
  }
  push_global(c);
}

void scheduler::push_global(actor_cell* c) noexcept {
  global_.push(c);
  notify();
}

void scheduler::notify() noexcept {
#if defined(__SANITIZE_THREAD__)
  (void)searching_.fetch_add(0, std::memory_order_seq_cst);  // [S1] as an RMW: TSan does not model fences
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);  // [S1]
#endif
  // Relaxed loads, ordered after the work's publication by [S1]; partners: [S2] in park/search.
  if (searching_.load(std::memory_order_relaxed) != 0) return;
  std::uint32_t s = sleepers_.load(std::memory_order_relaxed);
  while (s != 0) {
    if (sleepers_.compare_exchange_weak(s, s - 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {  // [S2]
      searching_.fetch_add(1, std::memory_order_seq_cst);  // [S2]: the woken worker starts as a searcher
      idle_sem_.signal();
      return;
    }
  }
}

bool scheduler::any_work_visible() const noexcept {
  if (global_.size_approx() != 0) return true;
  for (const auto& w : workers_)
    if (w->has_queued_work()) return true;
  return false;
}

std::uint64_t scheduler::sample_backlog() noexcept {
  std::uint64_t largest = 0;
  // The samples of the census asked for last time; then a new census is asked for. Only this
  // function bumps the epoch (callers: health(), not concurrently in practice; two at once
  // would at worst report 0 once). A statistic: no ordering.
  const std::uint32_t epoch = census_epoch_.load(std::memory_order_relaxed);
  for (auto& w : workers_) largest = std::max(largest, w->take_largest_backlog(epoch));
  census_epoch_.fetch_add(1, std::memory_order_relaxed);
  return largest;
}

std::uint64_t scheduler::turns() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->turns();
  return sum;
}

}  // namespace eam::internal
