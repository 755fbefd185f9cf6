#pragma once
/// The consuming half of a stage (a consumer, producer-consumer or consumer supervisor): its
/// subscriptions to producers and their demand. For each subscription
///   outstanding + held + to_ask == max_demand,
/// where `outstanding` is asked for and not yet received, `held` is received and not yet done
/// with (queued, or a worker still running), and `to_ask` is done with and not asked for again.
/// The stage asks again once outstanding + held falls to min_demand, so a slow stage stops
/// asking: back-pressure.
///
/// An ask or cancel that a producer's full mailbox turns away (bounded, with the `error` or
/// `drop_newest` strategy) is neither thrown inside the stage nor lost: it is kept (an ask
/// stays in `to_ask`) and sent again by retry(), which a `stage_retry_sends` timer message
/// runs every `retry_interval` until it gets through.

#include <eam/engine/context.hpp>
#include <eam/engine/result.hpp>
#include <eam/otp/gen_stage/protocol.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eam::otp::detail {

class upstream {
 public:
  explicit upstream(actor_context& ctx) : ctx_(ctx) {}

  struct entry {
    subscription sub;
    typed_ref<void(stage_ask)> producer;
    watch_ref watch;
    std::size_t max_demand;
    std::size_t min_demand;
    cancel_mode cancel;
    std::size_t outstanding;
    std::size_t to_ask;
  };

  /// Before the subscribe call: checks the options and watches the producer (so its end is
  /// noticed even between the call and its reply). Returns the tag, or why not.
  result<std::uint64_t> prepare(const actor_ref& producer, subscribe_options& options);
  /// The producer accepted: the subscription exists, with max_demand outstanding.
  subscription accepted(const actor_ref& producer, std::uint64_t tag, const subscribe_options& options);
  /// The subscribe call failed or was refused: forget it. `answered` says the producer itself
  /// refused, and so holds nothing under the tag. Otherwise (the call timed out, say) the
  /// producer may yet accept it, so it is told to cancel. A cancel after a refusal would
  /// cancel whatever the producer does hold under that tag: the subscription of a consumer on
  /// another node whose tag it was.
  void refused(const actor_ref& producer, std::uint64_t tag, bool answered);

  /// The subscription with that tag, or null (cancelled meanwhile). Every batch and every
  /// event done with looks: past a few subscriptions through an index first (a consumer of
  /// 4,096 producers spent 144 ns an event scanning them, against 14.5 ns with 16).
  entry* find(std::uint64_t tag) noexcept {
    if (entries_.size() > scanned_subscriptions) [[unlikely]]
      if (entry* e = find_indexed(tag)) return e;
    for (auto& e : entries_)
      if (e.sub.tag == tag) return &e;
    return nullptr;
  }
  /// The subscription a batch belongs to, with its outstanding demand reduced by `n`; null
  /// when it was cancelled meanwhile (the batch is dropped).
  entry* received(std::uint64_t tag, std::size_t n) noexcept {
    entry* e = find(tag);
    if (e != nullptr) e->outstanding -= n;
    return e;
  }
  /// `n` events of subscription `e` are done with: asks again when due.
  void done(entry& e, std::size_t n) {
    e.to_ask += n;
    if (e.max_demand - e.to_ask <= e.min_demand) ask(e);
  }
  /// The same by tag, for a subscription that may have been cancelled since.
  void done(std::uint64_t tag, std::size_t n) {
    if (entry* e = find(tag)) done(*e, n);
  }
  /// The stage cancels a subscription. False when it had none with that tag. With a reason,
  /// `ends` gets it when the subscription's cancel mode ends the stage (as on_down).
  bool cancel(std::uint64_t tag, const std::optional<exit_reason>& reason, std::optional<exit_reason>& ends);
  /// The same, ending the stage at once when its cancel mode says so.
  bool cancel(std::uint64_t tag, const std::optional<exit_reason>& reason = std::nullopt) {
    std::optional<exit_reason> ends;
    const bool had = cancel(tag, reason, ends);
    if (ends) ctx_.exit(ctx_.self(), *ends);
    return had;
  }
  /// Sends again the asks and cancels a full mailbox turned away (the stage's handler of
  /// `stage_retry_sends` calls it).
  void retry();
  /// A watched actor ended. True when it was one of these producers: the subscription is gone,
  /// and by its cancel mode the stage ends too (with the producer's reason).
  bool on_down(const down& d) {
    std::optional<exit_reason> ends;
    const bool mine = on_down(d, ends);
    if (ends) ctx_.exit(ctx_.self(), *ends);
    return mine;
  }
  /// The same, leaving the end to the stage: `ends` gets the reason it must end with by the
  /// subscription's cancel mode, if any (a producer-consumer first hands on what it received).
  bool on_down(const down& d, std::optional<exit_reason>& ends);

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    std::vector<subscription> out;
    for (const auto& e : entries_) out.push_back(e.sub);
    return out;
  }

 private:
  void ask(entry& e);
  /// Tells `producer` that subscription `tag` is cancelled, now or by a later retry().
  void send_cancel(const actor_ref& producer, std::uint64_t tag);
  void arm_retry();

  static constexpr std::chrono::milliseconds retry_interval{1};
  // Up to this many subscriptions find scans them; past it, rare_state::by_tag indexes them.
  static constexpr std::size_t scanned_subscriptions = 8;
  // The index is a hint, checked at each use: a tag it lacks (it ran out of memory) or whose
  // place moved is found by the scan.
  entry* find_indexed(std::uint64_t tag) noexcept;
  // The subscription whose producer `watch` watches, or null.
  entry* find_watch(const watch_ref& watch) noexcept;
  // After one subscription was added at the end: the index follows.
  void index_appended() noexcept;
  // Removes entries_[i], in O(1): the last subscription takes its place (subscriptions() are in
  // no particular order), and the index follows. An erase moved every later subscription and
  // the index was rebuilt: a consumer of N producers that all ended paid O(N^2).
  void remove_at(std::size_t i) noexcept;

  // What only subscribing and full mailboxes need, out of line: the stage's state is allocated
  // beside the envelopes it handles, and how large it is decides which allocator pages they
  // share (growing it by 32 bytes made stage-pc-1000 20 % slower, issue 12's note).
  struct rare_state {
    std::vector<std::pair<std::uint64_t, watch_ref>> pending;  // subscribe calls in flight
    std::vector<std::pair<actor_ref, std::uint64_t>> unsent_cancels;
    std::unordered_map<std::uint64_t, std::size_t> by_tag;  // a tag's place in entries_, past scanned_subscriptions
    std::unordered_map<std::uint64_t, std::uint64_t> by_watch;  // the watch of a producer -> its tag, as by_tag
  };
  rare_state& rare() {
    if (!rare_) rare_ = std::make_unique<rare_state>();
    return *rare_;
  }

  actor_context& ctx_;
  std::vector<entry> entries_;
  std::unique_ptr<rare_state> rare_;
  bool retry_armed_ = false;
};

}  // namespace eam::otp::detail
