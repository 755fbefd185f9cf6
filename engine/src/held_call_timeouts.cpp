#include "held_call_timeouts.hpp"

#include "actor_cell.hpp"
#include "asymmetric_fence.hpp"
#include "timer_service.hpp"

#include <algorithm>
#include <thread>

namespace eam::internal {

constinit EAM_TLS held_call_timeouts* tls_held_call_timeouts = nullptr;

held_call_timeouts::~held_call_timeouts() {
  for (const entry& e : entries_) e.cell->release();
}

void held_call_timeouts::owner_enter() noexcept {
  for (;;) {
    busy_.store(true, std::memory_order_relaxed);  // [H1]
    if (asymmetric_fences_)
      light_fence();
    else
      std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!rescuing_.load(std::memory_order_acquire)) [[likely]] return;  // [H1]
    busy_.store(false, std::memory_order_release);  // [H1]: as owner_exit
    // A rescuer hands over a few hundred entries at most: microseconds.
    while (rescuing_.load(std::memory_order_acquire)) std::this_thread::yield();  // [H1], from [H2]'s clear
  }
}

void held_call_timeouts::rescue() noexcept {
  if (!holding_.load(std::memory_order_relaxed)) return;
  bool idle = false;
  if (!rescuing_.compare_exchange_strong(idle, true, std::memory_order_acquire, std::memory_order_relaxed)) return;  // [H2]
  if (asymmetric_fences_)
    heavy_fence();
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!busy_.load(std::memory_order_acquire)) look_held(true);  // [H2], from [H1]'s release
  rescuing_.store(false, std::memory_order_release);
}

bool held_call_timeouts::add(std::uint16_t& at, actor_cell* cell, std::uint64_t request_id,
                             std::chrono::milliseconds timeout) noexcept {
  if (entries_.size() == capacity) [[unlikely]] {
    // A look since the array filled found every call in it awaited: until the next regular
    // look (the epoch check's or an idle one's, which marks and arms them), each add would walk
    // all of them again for nothing. With thousands of actors awaiting calls on one worker, that
    // walk doubled the cost of a call (about 1.5 us to 3).
    if (full_after_look_) return false;
    look_held(false);  // most entries are calls answered since: dropped
    if (entries_.size() == capacity) return false;  // all awaited: this call arms its own
  }
  if (entries_.empty()) {
    held_since_.store(clock::now(), std::memory_order_relaxed);
    holding_.store(true, std::memory_order_seq_cst);  // then holding_started's load: Dekker with the timer thread
    if (watcher_ != nullptr) watcher_->holding_started();
  }
  // One per entry, not per call (a new call replaces its actor's entry); taken back from this
  // worker's held releases (deferred_releases.hpp) when it still holds one for the cell.
  detail::add_ref(cell);
  entries_.push_back({cell, request_id, timeout, false});  // never reallocates: reserved, and never past capacity
  at = static_cast<std::uint16_t>(entries_.size());
  return true;
}

void held_call_timeouts::look_as_owner(bool hand_over_all) noexcept {
  owner_enter();
  look_held(hand_over_all);
  owner_exit();
}

void held_call_timeouts::look_held(bool hand_over_all) noexcept {
  const clock::time_point now = clock::now();
  const bool marking = now - held_since_.load(std::memory_order_relaxed) >= hold_window;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    entry e = entries_[i];
    // The index follows the entry it names to its new place, or forgets it. Entries only move
    // down, so a slot written here never matches a later entry's old place.
    std::uint16_t& slot = index_[slot_of(e.cell)];
    const bool indexed = slot == i + 1;
    bool keep = false;
    // Handing everything over arms whatever is still awaited, as a second marking look would.
    switch (fate_at_look(e.cell->awaits_held(e.request_id), hand_over_all || e.awaited_at_last_mark,
                         hand_over_all || marking)) {
      case held_fate::drop:
        break;
      case held_fate::arm:
        try {
          e.cell->hand_over_timeout(e.request_id, now + e.timeout);
        } catch (...) {
          keep = true;  // out of memory: held until the next look, with its reference
        }
        break;
      case held_fate::keep:
        e.awaited_at_last_mark = e.awaited_at_last_mark || marking;
        keep = true;
        break;
    }
    if (keep) {
      entries_[kept++] = e;
      if (indexed) slot = static_cast<std::uint16_t>(kept);
    } else {
      if (indexed) slot = 0;
      detail::release_cell(e.cell);  // held by this worker, if it is one (deferred_releases.hpp)
    }
  }
  entries_.resize(kept);
  full_after_look_ = kept == capacity;
  if (marking && !hand_over_all && kept != 0) held_since_.store(now, std::memory_order_relaxed);
  holding_.store(kept != 0, std::memory_order_relaxed);
}

}  // namespace eam::internal
