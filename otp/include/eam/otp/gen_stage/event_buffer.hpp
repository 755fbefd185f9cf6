#pragma once
/// A producer's bounded buffer of events nobody has asked for yet. When full it keeps the
/// newest or the oldest events, counts what it drops, reports each overflow through the
/// `libeam.gen_stage.buffer_overflow` telemetry event and logs a warning (once a second).

#include <eam/otp/gen_stage/options.hpp>
#include <eam/otp/gen_stage/protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <vector>

namespace eam::otp::detail {

template <class T>
class event_buffer {
 public:
  event_buffer(std::uint64_t producer_id, std::size_t capacity, keep keep_policy)
      : producer_id_(producer_id), capacity_(capacity), keep_(keep_policy) {}

  /// Appends events[from, end), dropping by the keep policy once full.
  void append(std::vector<T>& events, std::size_t from) {
    for (std::size_t i = from; i < events.size(); ++i) push(std::move(events[i]));
    report_overflow();
  }
  /// Appends one event; call report_overflow() after a run of pushes.
  void push(T&& event) {
    if (events_.size() >= capacity_) {
      ++unreported_drops_;
      if (keep_ == keep::oldest || capacity_ == 0) return;  // the new event is the one dropped
      events_.pop_front();
    }
    events_.push_back(std::move(event));
  }
  /// Emits one buffer_overflow event for the drops since the last report.
  void report_overflow() {
    if (unreported_drops_ == 0) return;
    dropped_ += unreported_drops_;
    emit_buffer_overflow(producer_id_, unreported_drops_, capacity_, logged_at_s_);
    unreported_drops_ = 0;
  }
  /// Removes and returns the oldest `n` events (n <= size()).
  std::vector<T> take(std::size_t n) {
    std::vector<T> out;
    out.reserve(n);
    auto end = events_.begin() + static_cast<std::ptrdiff_t>(n);
    std::move(events_.begin(), end, std::back_inserter(out));
    events_.erase(events_.begin(), end);
    return out;
  }
  /// Puts events back in front, oldest first: a batch taken or staged for a consumer whose
  /// mailbox turned it away. Within the capacity: they are the oldest, so `keep::newest` drops
  /// from them and `keep::oldest` from the events already held.
  void put_back(std::vector<T>& events) {
    events_.insert(events_.begin(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    events.clear();
    while (events_.size() > capacity_) {
      ++unreported_drops_;
      if (keep_ == keep::oldest)
        events_.pop_back();
      else
        events_.pop_front();
    }
    report_overflow();
  }
  [[nodiscard]] std::size_t size() const noexcept { return events_.size(); }
  [[nodiscard]] bool empty() const noexcept { return events_.empty(); }
  [[nodiscard]] std::size_t dropped() const noexcept { return dropped_; }

 private:
  std::uint64_t producer_id_;
  std::size_t capacity_;
  keep keep_;
  std::size_t dropped_ = 0;
  std::size_t unreported_drops_ = 0;
  std::int64_t logged_at_s_ = -1;  // when an overflow was last logged (emit_buffer_overflow)
  std::deque<T> events_;
};

}  // namespace eam::otp::detail
