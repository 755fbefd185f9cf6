#include "active_worker_tuner.hpp"

#include <algorithm>
#include <utility>

namespace eam::internal {

bool long_turns_ended(std::uint64_t work, std::int64_t ns, bool parked) noexcept {
  if (parked) return true;
  // work / ns >= min_work_per_epoch / epoch_ns, without dividing.
  return static_cast<double>(work) * static_cast<double>(active_worker_tuner::epoch_ns) >=
         static_cast<double>(active_worker_tuner::min_work_per_epoch) * static_cast<double>(ns);
}

active_worker_tuner::active_worker_tuner(unsigned workers) noexcept
    : workers_(std::max(1u, workers)), active_(1) {}

unsigned active_worker_tuner::end_epoch(std::uint64_t work, std::int64_t ns, epoch_signs signs) noexcept {
  if (workers_ == 1 || rescuing_ || ns <= 0) return active_;  // nothing to judge
  if (pending_ns_ != 0) {  // the epoch went on: one epoch from its start
    work += pending_work_;
    ns += pending_ns_;
    signs.turn_spans_epoch = signs.turn_spans_epoch && pending_signs_.turn_spans_epoch;
    signs.work_waited = signs.work_waited || pending_signs_.work_waited;
    pending_work_ = 0;
    pending_ns_ = 0;
  }
  if (ns > max_epoch_ns) return active_;  // idle time in it: nothing to judge
  if (work < min_work_per_epoch) {        // too short to judge: it goes on
    pending_work_ = work;
    pending_ns_ = ns;
    pending_signs_ = signs;
    return active_;
  }
  if (before_probe_ != 0) {
    look_at_probe(work, ns);
  } else {
    if (confirm_back_to_ != 0) {  // a probe up won: its first steady epoch must not lose
      const unsigned back = std::exchange(confirm_back_to_, 0u);
      // Not the probe's margin: a gain the work count shows only faintly stays the probe
      // down's to judge, as before (fibonacci's spawns: 2 workers run it 1.46x as fast as 1,
      // and its epochs at two read 0.8-1.75x the rate at one). What goes back here is a count
      // that runs slower than the one before; rate_before_probe_ is still the rate the probe
      // beat, as no steady epoch has ended since it started.
      if (static_cast<double>(work) / static_cast<double>(ns) < rate_before_probe_) {
        // Back, and the next probe waits the interval from before the win: a win that did not
        // hold does not reset it (fan-in probed up every few epochs when each such win did),
        // nor does it lengthen it (fibonacci, which such epochs misjudge, then ran on one
        // worker for longer: 1.01x its 1-worker rate on 2 workers, against 1.16x).
        active_ = back;
        epochs_to_probe_ = probe_interval_;
        return active_;
      }
      probe_interval_ = first_probe_interval;  // a probe won after all
      epochs_to_probe_ = 1;                    // held: the check from the other side comes now
    }
    baseline_work_[baseline_count_ % baseline_epochs] = work;
    baseline_ns_[baseline_count_ % baseline_epochs] = ns;
    ++baseline_count_;
    std::uint64_t base_work = 0;
    std::int64_t base_ns = 0;
    for (unsigned i = 0; i < std::min(baseline_count_, baseline_epochs); ++i) {
      base_work += baseline_work_[i];
      base_ns += baseline_ns_[i];
    }
    rate_before_probe_ = static_cast<double>(base_work) / static_cast<double>(base_ns);
    const bool can_win = next_probe_goes_down() ? !signs.turn_spans_epoch : signs.work_waited;
    if (epochs_to_probe_ > 1)
      --epochs_to_probe_;
    else if (can_win)  // else: due, and tried again next epoch
      start_probe();
  }
  return active_;
}

void active_worker_tuner::start_probe() noexcept {
  baseline_count_ = 0;  // whatever the verdict, the next baseline starts afresh
  const bool down = next_probe_goes_down();
  before_probe_ = active_;
  if (down) up_unchecked_ = false;
  active_ = down ? active_ / 2 : std::min(workers_, 2 * active_);
  probe_down_next_ = !down;  // the next probe tries the other way, unless this one is kept
  probe_work_ = 0;
  probe_ns_ = 0;
}

void active_worker_tuner::look_at_probe(std::uint64_t work, std::int64_t ns) noexcept {
  const bool first_look = probe_ns_ == 0;
  probe_work_ += work;
  probe_ns_ += ns;
  const double rate = static_cast<double>(probe_work_) / static_cast<double>(probe_ns_);
  // A probe down is never ended at its first look: moving its actors over is a stall of its
  // own (a resting worker hands them to one that may be parked and must be woken), and on a
  // 2-vCPU VM a third of the probes down of fan-in read 1-31 % of the rate before at their
  // first look, which lost them there and kept the extra worker four times as long.
  const bool went_down = active_ < before_probe_;
  if (first_look && (went_down || rate >= clear_loss_ratio * rate_before_probe_)) return;  // look again
  end_probe(rate);
}

void active_worker_tuner::end_probe(double rate) noexcept {
  const bool went_down = active_ < before_probe_;
  const bool keep = went_down ? rate >= keep_fewer_ratio * rate_before_probe_
                              : rate >= keep_more_ratio * rate_before_probe_;
  if (keep) {
    // Go on the same way at once while there is room. At the end, probe back after a while;
    // but a probe up that won is checked from the other side once its first steady epoch has
    // run no slower than before: the rate it beat may be that of a workload still starting
    // (spawning its actors, filling its pipeline), and a group that runs slower spread over two
    // cores would keep the extra workers for the whole interval (GenStage rows ran at a fifth
    // of their rate there).
    const bool room = went_down ? active_ > 1 : active_ < workers_;
    probe_down_next_ = room ? went_down : !went_down;
    epochs_to_probe_ = room || !went_down ? 1 : first_probe_interval;
    if (!went_down && !room) {  // the interval resets when the first steady epoch holds (end_epoch)
      confirm_back_to_ = before_probe_;
    } else {
      probe_interval_ = first_probe_interval;
    }
    if (!went_down && room) up_unchecked_ = true;
  } else {
    active_ = before_probe_;
    if (!went_down && up_unchecked_) {  // a count no probe down has checked: checked from below now
      probe_down_next_ = true;
      epochs_to_probe_ = 1;
    } else {
      const unsigned growth = rate < clear_loss_ratio * rate_before_probe_ ? 4 : 2;
      probe_interval_ = std::min(growth * probe_interval_, max_probe_interval);
      epochs_to_probe_ = probe_interval_;
    }
  }
  before_probe_ = 0;
}

void active_worker_tuner::rescue_started() noexcept {
  if (rescuing_) return;  // every worker runs already
  after_rescue_ = before_probe_ != 0 ? before_probe_ : active_;
  if (before_probe_ != 0) {
    // A probe down stalled the work: lost. A probe up is cut short: nothing to judge.
    if (before_probe_ > active_) probe_interval_ = std::min(2 * probe_interval_, max_probe_interval);
    epochs_to_probe_ = probe_interval_;
    before_probe_ = 0;
  }
  active_ = workers_;
  rescue_halved_from_ = 0;
  rescue_looks_to_skip_ = 1;  // the workers wake and take the stranded actors
  rescue_retry_looks_ = first_rescue_retry_looks;
  rescue_settled_ = false;
  rescuing_ = true;
  pending_work_ = 0;  // it measured the count before
  pending_ns_ = 0;
  baseline_count_ = 0;
}

void active_worker_tuner::rescue_look(std::uint64_t work, std::int64_t ns, bool worker_idle) noexcept {
  if (!rescue_judging() || ns <= 0) return;
  if (rescue_looks_to_skip_ != 0) {
    --rescue_looks_to_skip_;
    return;
  }
  const double rate = static_cast<double>(work) / static_cast<double>(ns);
  const unsigned halved_from = std::exchange(rescue_halved_from_, 0u);
  // work / ns < active * min_work_per_epoch / epoch_ns, without dividing. Not when a worker
  // sleeps: then the pace is low for want of work, not for long messages.
  const bool long_messages = !worker_idle && static_cast<double>(work) * static_cast<double>(epoch_ns) <
                                                 static_cast<double>(active_) * static_cast<double>(min_work_per_epoch) *
                                                     static_cast<double>(ns);
  if (long_messages) {
    active_ = workers_;
    rescue_settled_ = true;
    return;
  }
  if (halved_from != 0 && rate < keep_fewer_ratio * rescue_rate_before_) {
    active_ = halved_from;
    rescue_looks_to_skip_ = rescue_retry_looks_;  // the first of them holds the move back
    rescue_retry_looks_ = std::min(2 * rescue_retry_looks_, max_rescue_retry_looks);
    return;
  }
  const unsigned floor = std::min(workers_, after_rescue_ + 1);
  if (active_ <= floor) {
    rescue_settled_ = true;
    return;
  }
  rescue_halved_from_ = active_;
  rescue_rate_before_ = rate;
  active_ = std::max(floor, active_ / 2);
  rescue_looks_to_skip_ = 1;
}

void active_worker_tuner::rescue_over() noexcept {
  if (!rescuing_) return;
  active_ = after_rescue_;
  rescuing_ = false;
}

}  // namespace eam::internal
