#pragma once
/// The partition dispatcher: `hash(event)` names the partition an event belongs to, and each
/// partition has at most one consumer, so one key's events stay in order on one consumer.
/// Events of a partition without demand (or without a consumer yet) wait in that partition's
/// own buffer; a hash of nullopt discards the event.

#include <eam/otp/otp_errc.hpp>
#include <eam/otp/gen_stage/dispatcher.hpp>
#include <eam/otp/gen_stage/event_buffer.hpp>

#include <algorithm>
#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace eam::otp {

namespace detail {
template <class T>
concept has_key = requires(const T& t) {
  t.key;
};
inline std::size_t djb2(std::string_view s) noexcept {
  std::size_t h = 5381;
  for (unsigned char c : s) h = h * 33 + c;
  return h;
}
template <class T>
concept std_hashable = requires(const T& t) {
  std::hash<T>{}(t);
};
/// Whether the default partition hash knows how to hash a T.
template <class T>
concept default_hashable = std::is_integral_v<T> || std::is_enum_v<T> ||
    std::is_convertible_v<const T&, std::string_view> || has_key<T> || std_hashable<T>;
template <class T>
std::size_t default_hash_value(const T& event) {
  if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    return static_cast<std::size_t>(event);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return djb2(std::string_view(event));
  } else if constexpr (has_key<T>) {
    return default_hash_value(event.key);
  } else {
    return std::hash<T>{}(event);
  }
}
}  // namespace detail

namespace detail {
/// The default hash as a plain function object, so the dispatcher calls it inline. A power of
/// two of partitions takes a mask instead of a division (also right for negative integers:
/// two's complement masks to the mathematical modulo).
template <class T>
class default_partitioner {
 public:
  explicit default_partitioner(std::size_t partitions)
      : partitions_(partitions), mask_((partitions & (partitions - 1)) == 0 ? partitions - 1 : 0) {}
  std::size_t operator()(const T& event) const {
    if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      if (mask_ != 0 || partitions_ == 1) return static_cast<std::size_t>(static_cast<std::uint64_t>(event) & mask_);
      const auto p = static_cast<long long>(partitions_);
      const long long r = static_cast<long long>(event) % p;
      return static_cast<std::size_t>(r < 0 ? r + p : r);
    } else {
      const std::size_t h = default_hash_value(event);
      return mask_ != 0 || partitions_ == 1 ? h & mask_ : h % partitions_;
    }
  }

 private:
  std::size_t partitions_;
  std::size_t mask_;  // partitions - 1 for a power of two, else 0
};
}  // namespace detail

/// The partition dispatcher's default hash: integers modulo `partitions` (negative ones too,
/// into range), strings by djb2, objects by their `key` member, anything else by std::hash.
template <class T>
  requires detail::default_hashable<T> std::function < std::optional<std::size_t>(const T&)
> default_partition_hash(std::size_t partitions) {
  return [p = detail::default_partitioner<T>(partitions)](const T& event) -> std::optional<std::size_t> {
    return p(event);
  };
}

namespace detail {

/// A partition hash named a partition that does not exist: std::out_of_range, which ends the
/// producer. Out of line, so the routing loop carries no string building.
[[noreturn, gnu::cold]] void throw_bad_partition(std::size_t index, std::size_t partitions);

template <class T>
class partition_dispatcher final : public dispatcher<T> {
 public:
  partition_dispatcher(std::uint64_t producer_id, const producer_options<T>& opts)
      : dispatcher<T>(producer_id), hash_(opts.hash) {
    // check_options() has made sure of partitions > 0 and of a hash for types without a default.
    if constexpr (default_hashable<T>)
      if (!hash_) default_.emplace(opts.partitions);
    partitions_.reserve(opts.partitions);
    routed_in_.resize(opts.partitions);
    for (std::size_t i = 0; i < opts.partitions; ++i)
      partitions_.push_back({0, {}, 0, 0, event_buffer<T>(producer_id, opts.buffer_size.value_or(default_producer_buffer), opts.buffer_keep), {}});
  }

  std::optional<error> subscribe(sink_ref<T> consumer, const stage_subscribe<T>& request) override {
    const std::uint64_t tag = request.tag;
    const std::optional<std::size_t>& partition = request.partition;
    if (!partition)
      return error(otp_errc::invalid_subscription, "a partition dispatcher needs subscribe_options::partition");
    if (*partition >= partitions_.size())
      return error(otp_errc::invalid_subscription, "partition " + std::to_string(*partition) + " of " +
                                                   std::to_string(partitions_.size()) + " does not exist");
    auto& p = partitions_[*partition];
    if (p.tag != 0) return error(otp_errc::invalid_subscription, "partition " + std::to_string(*partition) + " is taken");
    if (find(tag) != nullptr) return this->tag_in_use(tag);
    by_tag_.emplace(tag, *partition);
    p.tag = tag;
    p.ref = std::move(consumer);
    p.demand = 0;
    p.min_demand = request.min_demand;
    ++consumers_;
    return std::nullopt;
  }

  /// What the partition's buffer serves of an ask is not passed on at once, but it is owed:
  /// those events were made for demand another partition still has open (events follow the
  /// hash, not the demand). Passed on at once, as GenStage's PartitionDispatcher does, the
  /// producer made events for the partition that had just been served, and half of all
  /// events went through a buffer (stage-partition-2 took 2.5 times the CPU); never passed
  /// on, the producer was left asked for less than the consumers waited for, and consumers
  /// asking unevenly stopped the stage for good. So it is passed on when nothing else would
  /// move the stage (recover), and the producer is never asked for more than the consumers
  /// asked in all.
  std::size_t ask(std::uint64_t tag, std::size_t count) override {
    partition* p = find(tag);
    if (p == nullptr) return 0;
    p->demand += count;
    open_ += count;
    std::size_t n = 0;
    if (!p->buffer.empty()) {
      n = std::min(p->demand, p->buffer.size());
      std::vector<T> batch = p->buffer.take(n);
      if (!this->send(p->ref, p->tag, batch)) [[unlikely]] {
        refused(*p, batch);
        return recover();  // nothing more to ask for a consumer that is gone
      }
      p->demand -= n;
      open_ -= n;
      held_back_ += n;
    }
    asked_ += count - n;
    return count - n + recover();
  }

  std::size_t cancel(std::uint64_t tag) override {
    partition* p = find(tag);
    if (p == nullptr) return 0;
    release(*p);
    return recover();  // the consumer that would have asked next may be the one gone
  }

  /// Events the hash discards met no consumer's demand: as far as they answered demand the
  /// producer was asked for, it is asked for them again (events pushed beyond demand are
  /// not made up for). Events of a partition without a consumer are not: they wait in its
  /// buffer, and the demand they took holds the producer back until a consumer takes the
  /// partition (asked for again, they filled that buffer while the others ran, and then
  /// dropped).
  std::size_t dispatch(std::vector<T>&& events) override {
    const std::size_t answered = std::min(asked_, events.size());
    asked_ -= answered;
    if constexpr (default_hashable<T>) {
      if (default_) {
        // A copy on the stack: the routing loop's stores of events cannot alias it, so its
        // mask stays in a register instead of being read again after every event.
        const default_partitioner<T> partition_of = *default_;
        route(events, [&](const T& event) { return partition_of(event); });
        return recover();
      }
    }
    std::size_t discarded = 0;
    route(events, [&](const T& event) {
      const std::optional<std::size_t> index = hash_(event);
      if (!index) {
        ++discarded;
        return discard;
      }
      if (*index == discard) [[unlikely]]
        throw_bad_partition(*index, partitions_.size());  // out of range, not a discard
      return *index;
    });
    const std::size_t again = std::min(discarded, answered);
    asked_ += again;
    return again + recover();
  }

  [[nodiscard]] std::size_t consumers() const noexcept override { return consumers_; }
  [[nodiscard]] std::size_t buffered() const noexcept override {
    std::size_t n = 0;
    for (const auto& p : partitions_) n += p.buffer.size();
    return n;
  }
  [[nodiscard]] std::size_t dropped() const noexcept override {
    std::size_t n = 0;
    for (const auto& p : partitions_) n += p.buffer.dropped();
    return n;
  }

 private:
  struct partition {
    std::uint64_t tag;  // 0: no consumer
    sink_ref<T> ref;
    std::size_t demand;
    std::size_t min_demand;  // its consumer asks again only once `demand` falls to it
    event_buffer<T> buffer;
    std::vector<T> staged;  // this dispatch's batch for the partition's consumer
  };

  static constexpr std::size_t discard = static_cast<std::size_t>(-1);  // what index_of returns for nullopt

  // The stage cannot move by itself: the producer owes nothing, and no consumer will ask
  // again (each waits for more than its min_demand, and none has events in its partition's
  // buffer, which it would be served when it asks). Then the demand the buffers served and did
  // not pass on is passed on, as far as demand is open. Where a consumer will ask, its ask
  // makes events for the others too: passed on as soon as the producer owed nothing, that
  // demand sent over a quarter of stage-partition-2's events through a buffer as the
  // consumers took turns.
  std::size_t recover() noexcept {
    if (asked_ != 0 || open_ == 0 || held_back_ == 0) [[likely]]
      return 0;
    for (const partition& p : partitions_)
      if (p.tag != 0 && (p.demand <= p.min_demand || !p.buffer.empty())) return 0;
    const std::size_t again = std::min(held_back_, open_);
    held_back_ -= again;
    asked_ += again;
    return again;
  }

  // A dispatch of fewer events than partitions reaches a few of them: the sparse route visits
  // only those, where the full route's per-partition work (a reserve, a flush) would cost more
  // than the events (4,096 partitions with ~10 events a dispatch paid for all 4,096 each time).
  // The suite's rows, 2 to 8 partitions under batches of hundreds, take the full route alone.
  template <class IndexOf>
  [[gnu::always_inline]] void route(std::vector<T>& events, IndexOf&& index_of) {
    if (events.size() < partitions_.size()) [[unlikely]]
      route_sparse(events, index_of);
    else
      route_all(events, index_of);
  }
  // Stages each event for its partition's consumer as far as that consumer's demand goes and
  // buffers the rest, then sends the batches. Inlined into dispatch with the hash: the default
  // hash's partition rows ran at a tenth of the demand dispatcher's rate while routing was a
  // call per event, with a frame for its throw's strings. (A cursor per partition into batches
  // sized up front, instead of push_back, was no faster on 8 partitions: sizing a batch zeroes
  // it, and every partition's is sized however few events go to it.)
  template <class IndexOf>
  [[gnu::always_inline]] void route_all(std::vector<T>& events, IndexOf&& index_of) {
    partition* const parts = partitions_.data();
    const std::size_t count = partitions_.size();
    for (std::size_t i = 0; i < count; ++i) parts[i].staged.reserve(std::min(parts[i].demand, events.size()));
    for (auto& event : events) {
      const std::size_t index = index_of(event);
      if (index >= count) [[unlikely]] {
        if (index == discard) continue;
        throw_bad_partition(index, count);
      }
      partition& p = parts[index];
      if (p.staged.size() < p.demand)
        p.staged.push_back(std::move(event));
      else
        p.buffer.push(std::move(event));
    }
    flush();
  }
  // The same routing, with a list of the partitions it reached (each once: a partition is
  // listed when its stamp is not this dispatch's), which alone are flushed. Out of line, so the
  // full route's loop keeps its code and its place; it stages with insert, not push_back, for
  // the same reason: a second caller of push_back made GCC 12 call it out of line in the full
  // route too, which cost the suite's partition rows 1.3-1.4 times their time.
  template <class IndexOf>
  [[gnu::noinline]] void route_sparse(std::vector<T>& events, IndexOf& index_of) {
    partition* const parts = partitions_.data();
    const std::size_t count = partitions_.size();
    const std::uint64_t stamp = ++sparse_dispatches_;
    reached_.clear();
    for (auto& event : events) {
      const std::size_t index = index_of(event);
      if (index >= count) [[unlikely]] {
        if (index == discard) continue;
        throw_bad_partition(index, count);
      }
      partition& p = parts[index];
      if (routed_in_[index] != stamp) {
        routed_in_[index] = stamp;
        reached_.push_back(index);
      }
      if (p.staged.size() < p.demand)
        p.staged.insert(p.staged.end(), std::move(event));
      else
        p.buffer.push(std::move(event));
    }
    for (const std::size_t index : reached_) flush(parts[index]);
  }
  // Sends each partition's batch and reports what its buffer dropped.
  void flush() {
    for (auto& p : partitions_) flush(p);
  }
  void flush(partition& p) {
    p.buffer.report_overflow();
    if (p.staged.empty()) return;
    const std::size_t n = p.staged.size();
    if (this->send(p.ref, p.tag, p.staged)) [[likely]] {
      p.demand -= n;
      open_ -= n;
    } else {
      refused(p, p.staged);
    }
    p.staged = {};  // moved-from: leave it empty with no capacity held
  }
  // The partition's consumer refused `batch` (full mailbox): it loses the partition, and the
  // batch waits, oldest first, in the partition's buffer for the next consumer.
  void refused(partition& p, std::vector<T>& batch) {
    p.buffer.put_back(batch);
    release(p);
  }
  void release(partition& p) {
    by_tag_.erase(p.tag);
    p.tag = 0;
    p.ref = {};
    open_ -= p.demand;
    p.demand = 0;
    --consumers_;
  }
  /// The partition of subscription `tag`, or null. Indexed: an ask finds its partition at
  /// once among thousands. Tag 0 (a free partition's) is never in the index, whatever a peer
  /// sends.
  partition* find(std::uint64_t tag) {
    const auto it = by_tag_.find(tag);
    return it == by_tag_.end() ? nullptr : &partitions_[it->second];
  }

  std::function<std::optional<std::size_t>(const T&)> hash_;  // the user's
  std::optional<default_partitioner<T>> default_;             // or the default, called inline
  std::vector<partition> partitions_;
  std::unordered_map<std::uint64_t, std::size_t> by_tag_;  // subscription tag -> partition index
  std::size_t consumers_ = 0;
  std::size_t asked_ = 0;                 // asked of the producer and not yet answered with events
  std::size_t open_ = 0;                  // the partitions' demand, all together
  std::size_t held_back_ = 0;             // demand buffers served and not yet passed on (ask)
  std::uint64_t sparse_dispatches_ = 0;   // stamps a sparse dispatch's partitions (from 1)
  std::vector<std::size_t> reached_;      // the partitions a sparse dispatch routed to
  std::vector<std::uint64_t> routed_in_;  // per partition: the last sparse dispatch routed to it
};

}  // namespace detail
}  // namespace eam::otp
