#pragma once
// active_worker_tuner: how many of the pool's workers should run, found by trying.
//
// A second worker is not always a gain. When actors talk in a tight group (a hub and its
// clients, a ring, actors pinging random neighbours), spreading them over two cores makes each
// message move the mailbox, the actor's state and the envelope's memory from one core's cache to
// another's; on a 2-core VM chameneos ran 6x slower on 2 workers than on 1. Whether a workload
// is such a group cannot be seen from the outside, only measured. So the scheduler hill-climbs
// on the work done per unit of time, as the .NET thread pool does for its thread count:
//
//   - it starts with one worker, and the first probe comes after one epoch: a workload that
//     gains from more cores has them within a few milliseconds;
//   - time is cut into epochs (epoch_ns); at the end of each the scheduler hands the tuner the
//     work done in it (messages handled, a turn that handled none counting as one:
//     progress_at_turn_start) and its length;
//   - now and then the tuner probes: it asks for half the active workers (or twice as many)
//     for one shorter epoch (probe_epoch_ns down, three quarters of it up), and compares its
//     rate with that of the last few steady epochs before it (baseline_epochs): a workload's
//     rate moves from epoch to epoch (quicksort's partitions, each a few dozen heavy
//     messages), and a probe compared with one epoch alone won or lost by that epoch's luck;
//   - fewer workers are kept when they do at least keep_fewer_ratio of the work (a core spent
//     for nothing is a cost to whoever embeds the engine), more workers only when they do at
//     least keep_more_ratio of it; a probe that loses is undone, and the next one waits twice
//     as long (up to max_probe_interval epochs), so a settled workload pays for probes rarely;
//   - a probe up is looked at first after probe_up_first_look_ns, a third of its length: one
//     that runs at under clear_loss_ratio of the rate before has lost, and ends there, and the
//     next one waits four times as long (a probe down always runs its whole length: its start
//     stalls on its own, see look_at_probe). A hub and its clients ran 4 to 12 times slower
//     during a probe up to two workers, so every probe cost them most of its length; on a
//     60 ms run the probes and their after-effects were about 5% of it. A loss that large says
//     the count suits the workload, and it shows within a hundred microseconds: a dictionary
//     and its 20 callers (concurrent-dictionary) ran at a quarter to a third of their rate on
//     two workers from the first look, and with the look at half the probe their 26 ms runs
//     on 2 workers were 3-4 % slower than on 1, most of it in the three or four probes. A
//     close result still gets the whole probe, as a quarter of a millisecond of a VM is noisy;
//   - a probe up that won with no room left goes back at once when its first steady epoch
//     runs slower than the count before it, and the next probe waits the interval from before
//     the win: the first half millisecond after a worker joins can run faster than what
//     follows (fan-in's receiver drains its backlog on one core while the muted senders run on
//     the other, then every message crosses between them), and the probe sees only that half
//     millisecond. In traces of fan-in on a 2-vCPU VM, a quarter to a half of the probes up won
//     that way, at 1.2-1.5x the rate before; the first steady epoch after them ran at
//     0.01-1.05x (median 0.44x), and the runs spent 30-70 % of their time at two workers;
//   - otherwise it is checked by a probe down at once: the rate it beat may have been a
//     workload's start;
//   - a probe up that won with room left is followed by another probe up; when that one loses,
//     the count it goes back to is checked by a probe down after one steady epoch, before any
//     wait grows: that count too may have beaten only a workload's start. On 16 workers (a
//     2-vCPU VM), a GenStage pipeline's first probe up beat its start 5x, the probe to 4 then
//     lost clearly, and the pipeline ran 22 ms of a 44 ms run on two workers at a quarter of
//     its rate on one, waiting out the 16 epochs before the probe down;
//   - an epoch with too little work to judge goes on: its work and length are added to the
//     next one's, until together they hold min_work_per_epoch units. Heavy messages (a quicksort
//     partition, a term of precise-pi: tens of microseconds each) come a few dozen to the
//     millisecond, and a rate counted from 16 of them is off by a quarter either way. One that
//     stays too quiet for max_epoch_ns (the system idle or nearly) decides nothing.
//
// The tuner is plain state, driven by one thread at a time (the scheduler's tuning lock); it
// does no timing of its own, so tests drive it with made-up rates.
#include <cstdint>

namespace eam::internal {

/// What the scheduler saw during an epoch besides the work done. A probe that these say cannot
/// win is not started; it starts at the first epoch where it can.
struct epoch_signs {
  /// An active worker ran one turn through the whole epoch (a producer sending from one
  /// handler, a long computation). No probe down then: the worker it would rest might be the
  /// one running what that turn sends, and the workload would stall for the rest watch's
  /// interval.
  bool turn_spans_epoch = false;
  /// A runnable actor waited in a queue when a worker looked (every few dozen turns). Without
  /// one, only one actor at a time was runnable (a ping-pong pair, a token ring): no probe up,
  /// as another worker would find nothing of its own to run and could only split the group.
  bool work_waited = true;
};

/// The work units a worker adds to its progress as a turn starts: one for that turn, and the
/// messages the turn before it handled past its first. A turn thus counts as its messages, or as
/// one when it handled none (a spawn's init, system messages only): the work done, not the
/// number of pieces it came in. Spreading actors over workers splits their turns (a stage that
/// keeps up with its feeder on another core runs a turn per message), and counting each turn on
/// top of its messages made a second worker look like more work done. Counted at the start, so
/// that progress moves as soon as a turn begins (the watches look for that).
constexpr std::uint64_t progress_at_turn_start(unsigned handled_by_last_turn) noexcept {
  return handled_by_last_turn != 0 ? handled_by_last_turn : 1;  // 1 + (handled - 1), or 1
}

/// What the scheduler saw of one active worker over an epoch.
struct worker_look {
  bool progressed = false;  // its progress moved
  bool parked = false;      // it sleeps in the idle protocol now
  bool searching = false;   // it looks for work between turns now
};
/// Whether the worker ran one turn through the whole epoch. A search lasts microseconds and then
/// the worker parks, unless it waits for its core meanwhile: two workers that share one core (the
/// kernel placed them so, or the host took the other) hand it back and forth a time slice at a
/// time, and such a worker ran no long turn.
constexpr bool ran_one_turn_through(worker_look w) noexcept { return !w.progressed && !w.parked && !w.searching; }

/// Whether a rescue (active_worker_tuner::rescue_started) can end, from what the worker whose long
/// turn it waited out did since the last look: `work` units in `ns` nanoseconds, and whether it
/// sleeps now. Over when that worker sleeps, or handles messages at the pace an epoch needs to be
/// judged (min_work_per_epoch per epoch_ns: a flush ended, a producer finished, and the tuner can
/// measure the count again). Not over while its messages take longer than that, each a
/// computation of tens of microseconds or more (quicksort's partitions, trapezoid's and
/// precise-pi's shares): there a second core is a gain by far, and an epoch could not measure
/// it anyway. With a pace of 16 a millisecond instead, quicksort's rescue ended at its first
/// partitions and its 2-worker rate fell 8-17 %.
bool long_turns_ended(std::uint64_t work, std::int64_t ns, bool parked) noexcept;

class active_worker_tuner {
 public:
  explicit active_worker_tuner(unsigned workers) noexcept;

  /// Ends an epoch in which `work` units were done in `ns` nanoseconds; returns the number of
  /// workers that should be active in the next one.
  unsigned end_epoch(std::uint64_t work, std::int64_t ns, epoch_signs signs = {}) noexcept;
  /// An active worker held work back (a long turn, seen by a resting worker): every worker runs
  /// until that turn ends (rescue_over), fewer as rescue_look finds they do as much, and no
  /// epoch is judged meanwhile, as its rate says what the turn did, not what the count does. A
  /// probe down that was running stalled the work: it lost, and the next waits twice as long. A
  /// probe up that was running ends without a verdict.
  void rescue_started() noexcept;
  /// A look during a rescue whose long turn goes on: all workers did `work` units in `ns`
  /// nanoseconds since the last look, and `worker_idle` says whether an active worker sleeps.
  /// Every worker is the right rescue for computations (quicksort's partitions, trapezoid's
  /// shares, apsp's blocks: 16 workers ran apsp 10x as fast as one), and a costly one for short
  /// messages that cost more spread over many cores than one core takes to run them: on a
  /// 16-core machine bank-transaction's teller sends every order from one turn, and its accounts
  /// ran on 16 workers at 0.62x the rate of one, with 8 cores busy. So the rescue halves its
  /// count while the rate holds keep_fewer_ratio of the count before (each step judged at its
  /// second look: the first holds the stall of handing the actors over), down to one worker
  /// more than before the rescue (the one in the long turn runs nothing else). A halving that
  /// loses goes back, and is tried again first_rescue_retry_looks later, twice as long after
  /// each loss: one look is a quarter of a millisecond, and on 16 workers (a 2-vCPU VM)
  /// bank-transaction's looks read 3-10 units a microsecond at 16, 8 and 4 alike, so that the
  /// first halving to read 5 % low, when it settled for good, kept 8 or 16 workers for the rest
  /// of a rescue that lasted the run. Messages long
  /// for an epoch (each worker's pace under min_work_per_epoch an epoch, none asleep) keep every
  /// worker: there a look holds too few of them to judge, and more cores are a gain by far.
  void rescue_look(std::uint64_t work, std::int64_t ns, bool worker_idle) noexcept;
  /// The turn that held work back has ended: back to the count from before the rescue. A
  /// pipeline stage's flush (thousands of sends from one handler, a few milliseconds) thus
  /// borrows the other workers for its length only, and the count stays the tuner's to find.
  void rescue_over() noexcept;
  [[nodiscard]] bool rescuing() const noexcept { return rescuing_; }
  [[nodiscard]] unsigned active() const noexcept { return active_; }
  /// How long the next epoch should last: a probe is shorter, as it may run at a loss, and is
  /// looked at before its end (a probe down halfway, a probe up after a third). A rescue looks
  /// as often for the end of the turn it waits out, settled or not: once that turn ends, every
  /// look later is spent with the actors spread over the rescue's workers.
  /// concurrent-dictionary's dictionary stalled 2-6 ms in a page fault (the kernel zeroing a
  /// fresh 2 MiB page), and at epoch_ns the rescue went on about a millisecond after it, its
  /// clients and the dictionary on two cores.
  [[nodiscard]] std::int64_t next_epoch_ns() const noexcept {
    if (before_probe_ != 0 && active_ > before_probe_ && probe_ns_ == 0) return probe_up_first_look_ns;
    return before_probe_ != 0 || rescuing_ ? probe_look_ns : epoch_ns;
  }

  static constexpr std::int64_t epoch_ns = 1'000'000;
  static constexpr std::int64_t probe_epoch_ns = 500'000;
  static constexpr std::int64_t probe_look_ns = probe_epoch_ns / 2;
  // A probe up's first look, for a clear loss; its second comes probe_look_ns later.
  static constexpr std::int64_t probe_up_first_look_ns = probe_look_ns / 2;

  // Fewer workers are kept when they do at least this share of the work of more.
  static constexpr double keep_fewer_ratio = 0.95;
  // More workers are kept when they do at least this multiple of the work of fewer.
  static constexpr double keep_more_ratio = 1.10;
  // A probe that does less than this share of the work before has lost, at its first look.
  static constexpr double clear_loss_ratio = 0.5;
  // An epoch with less work than this (progress_at_turn_start's units) is too short to judge:
  // it goes on. About 9 % of noise in the count, against the 5 % and 10 % margins above.
  static constexpr std::uint64_t min_work_per_epoch = 128;
  // An epoch that reaches this length without enough work decides nothing: it spanned idle time,
  // whose low rate would mislead the tuner.
  static constexpr std::int64_t max_epoch_ns = 100 * epoch_ns;
  // A probe is compared with the rate of up to this many steady epochs before it.
  static constexpr unsigned baseline_epochs = 4;
  // Steady epochs before the next probe: first this many, doubled after each probe that lost.
  static constexpr unsigned first_probe_interval = 4;
  static constexpr unsigned max_probe_interval = 128;
  // Rescue looks before a halving that lost is tried again: first this many, doubled after each
  // loss up to the max (16 ms). A count that does lose then costs a look or two at the halved
  // count every few milliseconds, and less as the wait grows.
  static constexpr unsigned first_rescue_retry_looks = 4;
  static constexpr unsigned max_rescue_retry_looks = 64;

 private:
  /// A rescue whose count rescue_look may still move (its looks come every probe_look_ns, so
  /// that a rescue that needs fewer workers finds them within a few).
  [[nodiscard]] bool rescue_judging() const noexcept { return rescuing_ && !rescue_settled_; }
  [[nodiscard]] bool next_probe_goes_down() const noexcept { return active_ > 1 && (probe_down_next_ || active_ == workers_); }
  void start_probe() noexcept;
  /// One look at the running probe: ends it when the verdict is in.
  void look_at_probe(std::uint64_t work, std::int64_t ns) noexcept;
  void end_probe(double rate) noexcept;

  const unsigned workers_;
  unsigned active_;
  unsigned before_probe_ = 0;      // the active count a running probe replaced; 0: no probe
  double rate_before_probe_ = 0;   // work per ns over the baseline: the last steady epochs
  std::uint64_t probe_work_ = 0;   // the running probe's work and length over its looks so far
  std::int64_t probe_ns_ = 0;
  unsigned probe_interval_ = first_probe_interval;
  unsigned epochs_to_probe_ = 1;   // the first probe comes after one steady epoch
  bool probe_down_next_ = false;  // it starts with one worker: the first probe adds
  bool rescuing_ = false;
  // The count was reached by a probe up that won with room left, and no probe down has started
  // since: it has been compared with the count below it only at that probe.
  bool up_unchecked_ = false;
  // A probe up won with no room left, until its first steady epoch: the count before it (the
  // rate it beat stays in rate_before_probe_ until then). 0: none.
  unsigned confirm_back_to_ = 0;
  unsigned after_rescue_ = 1;      // the count to go back to when the rescue is over
  // The count a rescue halved from, until a look judges the halving; 0: none.
  unsigned rescue_halved_from_ = 0;
  double rescue_rate_before_ = 0;  // the rate at that count
  unsigned rescue_looks_to_skip_ = 0;  // looks that hold a change's stall, or wait for a retry: not judged
  unsigned rescue_retry_looks_ = first_rescue_retry_looks;  // the wait after the next halving that loses
  bool rescue_settled_ = false;    // the count stays until the rescue ends
  // An epoch that goes on (too little work so far): what it holds.
  std::uint64_t pending_work_ = 0;
  std::int64_t pending_ns_ = 0;
  epoch_signs pending_signs_{};
  // The last steady epochs at the current count, oldest overwritten first.
  std::uint64_t baseline_work_[baseline_epochs] = {};
  std::int64_t baseline_ns_[baseline_epochs] = {};
  unsigned baseline_count_ = 0;
};

}  // namespace eam::internal
