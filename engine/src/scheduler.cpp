#include "scheduler.hpp"

#include <eam/engine/detail/tls.hpp>
#include "actor_cell.hpp"
#include "asymmetric_fence.hpp"
#include "worker.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

namespace eam::internal {

namespace {
EAM_TLS worker* tls_worker = nullptr;

// A parking worker has searched already (worker.cpp, search_rounds): the semaphore's own spin
// before it sleeps (moodycamel's default is 10,000 tries) would only burn the core longer.
constexpr int idle_sem_spins = 100;
}  // namespace

worker* current_worker() noexcept { return tls_worker; }
void set_current_worker(worker* w) noexcept { tls_worker = w; }

scheduler::scheduler(unsigned workers, unsigned throughput, bool adaptive)
    : throughput_(throughput == 0 ? 1 : throughput),
      idle_sem_(0, idle_sem_spins),
      asymmetric_fences_(enable_asymmetric_fences()),
      adaptive_(adaptive && workers > 1),
      tuner_(std::max(1u, workers)) {
  if (workers == 0) workers = 1;
  active_.store(adaptive_ ? tuner_.active() : workers, std::memory_order_relaxed);
  worker_progress_at_epoch_start_.assign(workers, 0);
  workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) workers_.push_back(std::make_unique<worker>(*this, i));
}

scheduler::~scheduler() { stop(); }

void scheduler::start(timer_service& timers) {
  // Watched from before their threads run until after they are joined (stop), so that a start
  // that fails halfway leaves no holder watched past its worker.
  timers_ = &timers;  // first: a watch that throws leaves the earlier ones for stop to undo
  for (auto& w : workers_) timers.watch(&w->held_timeouts_);
  for (auto& w : workers_) w->start();
}

void scheduler::stop() {
  if (stopping_.exchange(true)) return;
  idle_sem_.signal(static_cast<std::ptrdiff_t>(workers_.size()));
  for (auto& w : workers_) w->rest_sem_.signal();
  for (auto& w : workers_) w->join();
  if (timers_ != nullptr)
    for (auto& w : workers_) timers_->unwatch(&w->held_timeouts_);
}

namespace {
// The calling thread's worker when it is one of `s`'s, else null.
inline worker* own_worker(const scheduler& s) noexcept {
  worker* w = tls_worker;
  return w != nullptr && &w->owner() == &s ? w : nullptr;
}
}  // namespace

bool scheduler::on_worker() const noexcept { return own_worker(*this) != nullptr; }

void scheduler::schedule(actor_cell* c, const detail::envelope* first_message) noexcept {
  if (worker* w = own_worker(*this))
    w->schedule_local(c);
  else
    push_from_outside(c, first_message);
}

void scheduler::schedule_behind(actor_cell* c) noexcept {
  if (worker* w = own_worker(*this))
    w->requeue(c);
  else
    push_global(c);  // behind: not the hand-off slot, which is looked at first
}

void scheduler::push_from_outside(actor_cell* c, const detail::envelope* first_message) noexcept {
  // Read before the push: from it on, a worker may handle and free the envelope.
  const void* reply_slot = first_message != nullptr && first_message->reply.kind == detail::reply_kind::slot
                               ? first_message->reply.target
                               : nullptr;
  global_.push_from_outside(c, {c, c->mailbox_address(), first_message, reply_slot});
  notify();
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

bool scheduler::give_back_pooled_blocks() noexcept {
  if (!envelope_pool_.may_have(1) && !envelope_pool_.may_have(2)) return false;  // hints
  constexpr unsigned chunk = 1024;
  std::array<void*, chunk> blocks;
  unsigned given = 0;
  bool more = false;
  for (unsigned cls = 1; cls < envelope_block_classes; ++cls) {
    // A worker woken meanwhile ends it: the system is busy again, and may reuse the blocks.
    while (given < pooled_blocks_per_give_back && all_active_asleep()) {
      const unsigned got = envelope_pool_.drain(cls, blocks.data(), chunk);
      for (unsigned i = 0; i < got; ++i) deallocate(blocks[i]);
      given += got;
      if (got < chunk) break;
    }
    more = more || envelope_pool_.may_have(cls);
  }
  // Release: the frees happen before a worker's collect that sees the count (tidy_while_idle).
  if (given != 0) pooled_give_backs_.fetch_add(1, std::memory_order_release);
  return more;
}

std::uint64_t scheduler::progress() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& w : workers_) sum += w->progress();
  return sum;
}

namespace {
std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::int64_t scheduler::until_epoch_end_us() const noexcept {
  return std::max<std::int64_t>(1, (next_epoch_ns_.load(std::memory_order_relaxed) - now_ns()) / 1'000 + 1);
}

void scheduler::wake_backed_off_watch() noexcept {
  if (!resting_watch_backed_off_.exchange(false, std::memory_order_relaxed)) return;  // another woke it
  // One resting worker's watch is enough: it rescues and ends epochs for all.
  if (const unsigned active = active_.load(std::memory_order_relaxed); active < workers_.size())
    workers_[active]->rest_sem_.signal();
}

unsigned scheduler::tune(bool caller_active) noexcept {
  const std::int64_t now = now_ns();
  if (now < next_epoch_ns_.load(std::memory_order_relaxed)) return no_worker;
  if (tuning_.exchange(true, std::memory_order_acquire)) return no_worker;  // another worker ends this epoch
  unsigned held_back = no_worker;
  if (now >= next_epoch_ns_.load(std::memory_order_relaxed)) {
    if (rescued_ != no_worker) {
      const worker& w = *workers_[rescued_];
      const std::uint64_t p = w.progress();
      if (long_turns_ended(p - rescued_progress_, now - rescue_looked_ns_, w.parked())) {
        // The epochs the rescue spanned (judged by nobody) are not mixed into the next.
        rescued_ = no_worker;
        tuner_.rescue_over();
        set_active(tuner_.active());
        epoch_start_ns_ = 0;
      } else {
        rescued_progress_ = p;
        rescue_looked_ns_ = now;
      }
    }
    const unsigned active = active_.load(std::memory_order_relaxed);
    std::uint64_t work = 0;
    epoch_signs signs{.turn_spans_epoch = false, .work_waited = global_.size_approx() != 0};
    bool active_worker_idle = false;
    for (unsigned i = 0; i < workers_.size(); ++i) {
      worker& w = *workers_[i];
      const std::uint64_t p = w.progress();
      if (i < active) {
        const bool parked = w.parked();
        active_worker_idle = active_worker_idle || parked;
        if (ran_one_turn_through({.progressed = p != worker_progress_at_epoch_start_[i],
                                  .parked = parked,
                                  .searching = w.searching()}))
          signs.turn_spans_epoch = true;
      }
      // A worker in one turn through the whole epoch while actors wait in its slot or queue holds
      // them back, and neither the rescue nor stealing moves them while every other worker is
      // busy with its own: a rescue under way (every worker active already), or a worker past
      // the count that took them while active and whose turn outlasted the count (the watch
      // looks at active workers only). The caller takes them. Not for a resting caller when
      // the worker is active and no rescue is under way: it hands what it takes to the global
      // queue, where the worker in the long turn may be the only one to look, and its watch's
      // rescue is what helps there. Hints (relaxed): a wrong "yes" moves actors that were about
      // to run, a wrong "no" waits an epoch more.
      if ((caller_active || i >= active || rescued_ != no_worker) && epoch_start_ns_ != 0 &&
          p == worker_progress_at_epoch_start_[i] && !w.parked() && w.holds_waiting_actors())
        held_back = i;
      if (w.saw_waiting_work_.exchange(false, std::memory_order_relaxed)) signs.work_waited = true;
      work += p - worker_progress_at_epoch_start_[i];
      worker_progress_at_epoch_start_[i] = p;
    }
    const std::int64_t length = now - epoch_start_ns_;
    if (epoch_start_ns_ != 0) {
      if (tuner_.rescuing()) tuner_.rescue_look(work, length, active_worker_idle);
      set_active(tuner_.end_epoch(work, length, signs));  // a rescue's count, unchanged by it
    }
    epoch_start_ns_ = now;
    next_epoch_ns_.store(now + tuner_.next_epoch_ns(), std::memory_order_relaxed);
    short_epoch_.store(tuner_.next_epoch_ns() < active_worker_tuner::epoch_ns, std::memory_order_relaxed);
  }
  tuning_.store(false, std::memory_order_release);
  return held_back;
}

void scheduler::set_active(unsigned count) noexcept {
  // Relaxed: a resting worker reads the count again after its semaphore's wait returns, and the
  // signal (release) to that wait (acquire) carries the new count.
  const unsigned before = active_.exchange(count, std::memory_order_relaxed);
  for (unsigned i = before; i < count; ++i) workers_[i]->rest_sem_.signal();
  // A count that grows passes the watch (watches) to a worker that sleeps unwatching: signalled,
  // it takes the watch up. One that shrinks passes it to a worker that goes to rest now and
  // finds it there; the watch before it gives it up at its next look.
  if (count > before && count < workers_.size()) workers_[count]->rest_sem_.signal();
}

void scheduler::rescue(unsigned stalled, std::uint64_t seen) noexcept {
  while (tuning_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();  // held for a moment only
  if (rescued_ == no_worker) {
    rescued_ = stalled;
    rescued_progress_ = seen;
    rescue_looked_ns_ = now_ns();
    tuner_.rescue_started();
    set_active(tuner_.active());
    epoch_start_ns_ = 0;  // the epoch under way mixed two counts: the next starts afresh
    // Its first look (tune) comes a probe's look later, not at the end of the epoch under way: a
    // worker's first turns after the system starts can be slow enough to seem a long one (page
    // faults, the allocator's first pages; half of ping-pong's runs were rescued so), and such a
    // rescue then ran every worker for one to two milliseconds of a serial workload.
    next_epoch_ns_.store(rescue_looked_ns_ + active_worker_tuner::probe_look_ns, std::memory_order_relaxed);
    short_epoch_.store(true, std::memory_order_relaxed);
  }
  tuning_.store(false, std::memory_order_release);
}

unsigned scheduler::work_held_back(const std::vector<std::uint64_t>& seen) const noexcept {
  // Hints (relaxed): a wrong "yes" runs every worker until that worker is seen handling short
  // messages or asleep (about an epoch), a wrong "no" waits one more watch interval.
  const unsigned active = active_.load(std::memory_order_relaxed);
  bool all_still = true;
  for (unsigned i = 0; i < active; ++i) {
    const worker& w = *workers_[i];
    if (w.progress() != seen[i]) {
      all_still = false;
      continue;
    }
    if (w.holds_waiting_actors()) return i;
  }
  // Every active worker in one long turn, and work waits in the global queue behind them all:
  // the rescue waits out the first of them.
  return all_still && active != 0 && global_.size_approx() != 0 ? 0 : no_worker;
}

}  // namespace eam::internal
