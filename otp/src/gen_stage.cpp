#include <eam/engine/log.hpp>
#include <eam/engine/telemetry.hpp>
#include <eam/otp/otp_errc.hpp>
#include <eam/otp/gen_stage/protocol.hpp>
#include <eam/otp/gen_stage/upstream.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <utility>

namespace eam::otp::detail {

namespace {
/// Where this process's subscription tags start: a random point of the 64-bit space.
std::uint64_t first_subscription_tag() noexcept {
  try {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  } catch (...) {  // no entropy source: the clock still differs between processes
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
           0x9e3779b97f4a7c15ULL;
  }
}
}  // namespace

std::uint64_t next_subscription_tag() noexcept {
  // A producer tells its subscriptions apart by tag alone, and its consumers may live in other
  // processes (nodes), each making its own tags. Counted from 1 in every process, the first
  // consumers of two nodes had the same tag, and a producer serving both sent one of them
  // every event. From a random start, two processes' tags meet only if their starts lie
  // within as many tags of each other as they make; a producer refuses a tag it already
  // serves (invalid_subscription), so even then no event goes astray. Tag 0 means "none".
  // Relaxed: only uniqueness matters, and fetch_add gives it at any ordering.
  static std::atomic<std::uint64_t> next{first_subscription_tag()};
  std::uint64_t tag = next.fetch_add(1, std::memory_order_relaxed);
  if (tag == 0) [[unlikely]]
    tag = next.fetch_add(1, std::memory_order_relaxed);
  return tag;
}

std::optional<error> normalize(subscribe_options& options) {
  if (options.max_demand == 0) return error(otp_errc::invalid_subscription, "max_demand must be at least 1");
  if (!options.min_demand) options.min_demand = options.max_demand * 3 / 4;
  if (*options.min_demand >= options.max_demand)
    return error(otp_errc::invalid_subscription, "min_demand " + std::to_string(*options.min_demand) +
                                                 " must be below max_demand " + std::to_string(options.max_demand));
  return std::nullopt;
}

namespace {
void emit(std::string_view event, telemetry::measurements m, telemetry::metadata md) {
  telemetry::execute(event, m, md);
}
}  // namespace

void emit_subscribe(std::uint64_t producer_id, std::uint64_t tag) {
  if (!telemetry::any_handlers()) return;
  emit(stage_telemetry::subscribe, {},
       {{"producer_id", std::to_string(producer_id)}, {"consumer_tag", std::to_string(tag)}});
}

void emit_cancel(std::uint64_t producer_id, std::uint64_t tag, std::string_view reason) {
  if (!telemetry::any_handlers()) return;
  emit(stage_telemetry::cancel, {},
       {{"producer_id", std::to_string(producer_id)},
        {"consumer_tag", std::to_string(tag)},
        {"reason", std::string(reason)}});
}

void emit_dispatch(std::uint64_t producer_id, std::size_t count) {
  if (!telemetry::any_handlers()) return;
  static const telemetry::event_gate gate{stage_telemetry::dispatch};  // a dispatch is frequent: skip its metadata
  if (!gate.listened()) return;
  emit(stage_telemetry::dispatch, {{"event_count", static_cast<double>(count)}},
       {{"producer_id", std::to_string(producer_id)}});
}

void emit_buffer_overflow(std::uint64_t producer_id, std::size_t dropped, std::size_t capacity,
                          std::int64_t& logged_at_s) {
  // Logged as GenStage does, at most once a second per buffer: one overflowing on every push
  // must not flood the log (stats().dropped and the telemetry event count every drop).
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (now_s != logged_at_s) {
    logged_at_s = now_s;
    log::logger("eam.otp.gen_stage")
        .warn("producer {}: its buffer of {} events is full: {} dropped (producer_options::buffer_size, buffer_keep)",
              producer_id, capacity, dropped);
  }
  if (!telemetry::any_handlers()) return;
  emit(stage_telemetry::buffer_overflow,
       {{"dropped_count", static_cast<double>(dropped)}, {"buffer_size", static_cast<double>(capacity)}},
       {{"producer_id", std::to_string(producer_id)}});
}

result<std::uint64_t> upstream::prepare(const actor_ref& producer, subscribe_options& options) {
  if (!producer) return error(errc::actor_not_found, "no producer to subscribe to");
  if (auto bad = normalize(options)) return *bad;
  const std::uint64_t tag = next_subscription_tag();
  rare().pending.emplace_back(tag, ctx_.watch(producer));
  return tag;
}

subscription upstream::accepted(const actor_ref& producer, std::uint64_t tag, const subscribe_options& options) {
  auto& pending = rare().pending;
  auto it = std::find_if(pending.begin(), pending.end(), [tag](const auto& p) { return p.first == tag; });
  const watch_ref watch = it->second;
  pending.erase(it);
  entries_.push_back({{producer, tag},
                      eam::unchecked_typed_ref_cast<typed_ref<void(stage_ask)>>(producer),
                      watch,
                      options.max_demand,
                      *options.min_demand,
                      options.cancel,
                      options.max_demand,
                      0});
  index_appended();
  return entries_.back().sub;
}

upstream::entry* upstream::find_indexed(std::uint64_t tag) noexcept {
  if (!rare_) return nullptr;
  const auto at = rare_->by_tag.find(tag);
  if (at == rare_->by_tag.end() || at->second >= entries_.size() || entries_[at->second].sub.tag != tag) return nullptr;
  return &entries_[at->second];
}

void upstream::index_appended() noexcept {
  if (entries_.size() <= scanned_subscriptions || !rare_) return;  // found by the scan
  auto& r = *rare_;                                                // made by prepare(), before any entry
  try {
    if (r.by_tag.size() + 1 == entries_.size() && r.by_watch.size() + 1 == entries_.size()) {
      const entry& e = entries_.back();
      r.by_tag.emplace(e.sub.tag, entries_.size() - 1);
      r.by_watch.emplace(e.watch.id, e.sub.tag);
    } else {  // the threshold crossed just now, or an earlier insert ran out of memory
      r.by_tag.clear();
      r.by_watch.clear();
      for (std::size_t i = 0; i < entries_.size(); ++i) {
        r.by_tag.emplace(entries_[i].sub.tag, i);
        r.by_watch.emplace(entries_[i].watch.id, entries_[i].sub.tag);
      }
    }
  } catch (...) {  // out of memory: find and on_down scan
    r.by_tag.clear();
    r.by_watch.clear();
  }
}

void upstream::remove_at(std::size_t i) noexcept {
  const std::uint64_t tag = entries_[i].sub.tag;
  const std::uint64_t watch = entries_[i].watch.id;
  if (i + 1 != entries_.size()) entries_[i] = std::move(entries_.back());
  entries_.pop_back();
  if (!rare_) return;
  auto& r = *rare_;
  if (entries_.size() <= scanned_subscriptions) {
    r.by_tag.clear();
    r.by_watch.clear();
    return;
  }
  r.by_tag.erase(tag);
  r.by_watch.erase(watch);
  if (i < entries_.size())
    if (const auto moved = r.by_tag.find(entries_[i].sub.tag); moved != r.by_tag.end()) moved->second = i;
}

void upstream::refused(const actor_ref& producer, std::uint64_t tag, bool answered) {
  auto& pending = rare().pending;
  auto it = std::find_if(pending.begin(), pending.end(), [tag](const auto& p) { return p.first == tag; });
  ctx_.unwatch(it->second);  // drops a down already queued for it
  pending.erase(it);
  if (!answered) send_cancel(producer, tag);
}

// Asks and cancels never throw: try_cast says `full` when a live producer's bounded mailbox
// turns the message away (the `error` strategy refuses, `drop_newest` drops), and the message
// is kept for retry(). One to a producer that has ended counts as sent: nobody is left to tell.
void upstream::ask(entry& e) {
  stage_ask msg{e.sub.tag, e.to_ask};
  if (e.producer.try_cast(msg) == cast_result::full) [[unlikely]] {
    arm_retry();  // to_ask stays: retry() asks again
    return;
  }
  e.outstanding += e.to_ask;
  e.to_ask = 0;
}

void upstream::send_cancel(const actor_ref& producer, std::uint64_t tag) {
  stage_cancel msg{tag};
  if (eam::unchecked_typed_ref_cast<typed_ref<void(stage_cancel)>>(producer).try_cast(msg) != cast_result::full) [[likely]]
    return;
  rare().unsent_cancels.emplace_back(producer, tag);
  arm_retry();
}

void upstream::arm_retry() {
  if (retry_armed_) return;
  retry_armed_ = true;
  // A timer message does not count against this stage's own mailbox bound.
  ctx_.send_after(stage_retry_sends{}, retry_interval);
}

void upstream::retry() {
  retry_armed_ = false;
  if (rare_)
    for (auto& [producer, tag] : std::exchange(rare_->unsent_cancels, {})) send_cancel(producer, tag);
  // An ask that was due and turned away is still due: nothing else lowers to_ask.
  for (auto& e : entries_)
    if (e.to_ask != 0 && e.max_demand - e.to_ask <= e.min_demand) ask(e);
}

bool upstream::cancel(std::uint64_t tag, const std::optional<exit_reason>& reason, std::optional<exit_reason>& ends) {
  entry* e = find(tag);
  if (e == nullptr) return false;
  ctx_.unwatch(e->watch);
  const actor_ref producer = e->sub.producer;
  const cancel_mode mode = e->cancel;
  remove_at(static_cast<std::size_t>(e - entries_.data()));
  send_cancel(producer, tag);
  if (reason && (mode == cancel_mode::permanent || (mode == cancel_mode::transient && reason->is_failure())))
    ends = reason;
  return true;
}

upstream::entry* upstream::find_watch(const watch_ref& watch) noexcept {
  if (entries_.size() > scanned_subscriptions && rare_) {
    const auto at = rare_->by_watch.find(watch.id);
    if (at != rare_->by_watch.end()) {
      entry* e = find_indexed(at->second);
      if (e != nullptr && e->watch == watch) return e;
    } else if (rare_->by_watch.size() == entries_.size() && rare_->by_tag.size() == entries_.size()) {
      return nullptr;  // every subscription is indexed: not one of them (a consumer supervisor's worker)
    }
  }
  for (auto& e : entries_)
    if (e.watch == watch) return &e;
  return nullptr;
}

bool upstream::on_down(const down& d, std::optional<exit_reason>& ends) {
  entry* const e = find_watch(d.ref);
  if (e == nullptr) {
    // A producer that ended while its subscribe call was in flight: the call fails and
    // refused() cleans up; the down itself is ours all the same.
    return rare_ && std::any_of(rare_->pending.begin(), rare_->pending.end(), [&](const auto& p) { return p.second == d.ref; });
  }
  const cancel_mode mode = e->cancel;
  remove_at(static_cast<std::size_t>(e - entries_.data()));
  // GenStage's transient: a producer that ended with shutdown (stopped by its supervisor) is no failure.
  if (mode == cancel_mode::permanent || (mode == cancel_mode::transient && d.reason.is_failure())) ends = d.reason;
  return true;
}

}  // namespace eam::otp::detail
