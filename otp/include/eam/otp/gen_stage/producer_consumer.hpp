#pragma once
/// A producer-consumer: takes events from its producers, transforms them with
/// `handle_events(events, from, state)` -> events out, and dispatches those to its own
/// consumers. It hands events to handle_events only as far as its consumers' demand goes and
/// asks upstream only for what it has handed over, so back-pressure holds through it: with
/// slow consumers it holds at most max_demand events per upstream subscription. Demand is met
/// by the events it emits, so a filter keeps pulling until its consumers are served.
///
///   auto doubler = eam::otp::producer_consumer<int, int>::start(system,
///       [](std::vector<int>& in) { for (int& e : in) e *= 2; return std::move(in); });
///   doubler.subscribe(numbers.ref()).value();
///   sink.subscribe(doubler.ref()).value();

#include <eam/otp/gen_stage/consuming_stage.hpp>
#include <eam/otp/gen_stage/producer_side.hpp>

#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace eam::otp {

namespace detail {
template <class In, class Out>
using producer_consumer_ref = typed_ref<result<subscription>(stage_subscribe_to<In>), bool(stage_unsubscribe),
                                        std::vector<subscription>(stage_list_subscriptions), void(stage_events<In>),
                                        std::optional<error>(stage_subscribe<Out>), void(stage_ask), void(stage_cancel),
                                        void(stage_set_demand_mode), stage_stats(stage_stats_request)>;
}  // namespace detail

template <class In, class Out = In>
class producer_consumer : public detail::consuming_stage<In, detail::producer_consumer_ref<In, Out>> {
 public:
  using ref_type = detail::producer_consumer_ref<In, Out>;

  template <class Where, class Init, class HandleEvents>
    requires std::is_invocable_v<Init&>
  static producer_consumer start(Where& where, Init init, HandleEvents handle_events,
                                 producer_options<Out> options = {}, spawn_options opts = {}) {
    using state_type = std::invoke_result_t<Init&>;
    detail::check_options(options);
    if (!options.buffer_size) options.buffer_size = unbounded_buffer;
    return producer_consumer(where.spawn(
        opts,
        [](actor_context& ctx, Init init, HandleEvents handle_events, producer_options<Out> options) {
          struct stage {
            stage(actor_context& c, Init& init, HandleEvents&& h, const producer_options<Out>& o)
                : user(init()), handle(std::move(h)), up(c), side(c, o) {}
            struct queued {
              std::uint64_t tag;
              std::vector<In> events;
              std::size_t next = 0;  // events before it are handed over
            };
            state_type user;
            HandleEvents handle;
            detail::upstream up;
            detail::producer_side<Out> side;
            std::deque<queued> input;
            std::size_t downstream_demand = 0;
            // A subscription whose cancel mode ends this stage has gone (its producer ended, or
            // it was cancelled with a reason): the stage ends once the batches it had received by
            // then are handed on (GenStage queues the cancel behind them), with that reason.
            // Before, it ended at once and lost them. Out of line: the stage's state is allocated
            // beside the envelopes it handles, and its size decides which allocator pages they
            // share (upstream.hpp).
            struct pending_end {
              actor_context& ctx;
              exit_reason reason;
              std::size_t batches_left;
            };
            std::unique_ptr<pending_end> ending;

            // Hands queued input to handle_events while downstream demand lasts.
            void drain() {
              while (downstream_demand != 0 && !input.empty()) {
                queued& q = input.front();
                const std::uint64_t tag = q.tag;
                const std::size_t left = q.events.size() - q.next;
                const std::size_t n = std::min(downstream_demand, left);
                std::vector<In> batch;
                if (n == left && q.next == 0) {
                  batch = std::move(q.events);
                } else {
                  batch.reserve(n);
                  auto first = q.events.begin() + static_cast<std::ptrdiff_t>(q.next);
                  std::move(first, first + static_cast<std::ptrdiff_t>(n), std::back_inserter(batch));
                }
                q.next += n;
                bool end_now = false;
                if (n == left) {
                  input.pop_front();
                  end_now = ending && --ending->batches_left == 0;
                }
                detail::upstream::entry* e = up.find(tag);
                const subscription gone{{}, tag};  // its subscription was cancelled meanwhile
                const subscription& from = e != nullptr ? e->sub : gone;
                std::vector<Out> out = detail::invoke_events(handle, batch, from, user);
                // Demand is met by events out, not in: a filter keeps asking upstream until its
                // consumers have what they asked for; an expansion's surplus waits in the buffer.
                downstream_demand -= std::min(downstream_demand, out.size());
                // Events the partition hash discarded met no demand: pull for them again.
                downstream_demand += side.dispatch(std::move(out));
                if (e != nullptr) up.done(*e, n);
                if (end_now) {
                  ending->ctx.exit(ending->ctx.self(), ending->reason);
                  return;
                }
              }
            }
            void end_after_held(actor_context& ctx, const exit_reason& reason) {
              if (ending) return;  // the first end decides
              if (input.empty()) {
                ctx.exit(ctx.self(), reason);
                return;
              }
              ending = std::make_unique<pending_end>(pending_end{ctx, reason, input.size()});
            }
            void add_demand(std::size_t demand) {
              downstream_demand += demand;
              drain();
            }
          };
          auto& st = ctx.make_state<stage>(ctx, init, std::move(handle_events), options);
          return behavior{
              // Upstream: this stage as a consumer.
              [&st, &ctx](detail::stage_subscribe_to<In>&& m) {
                return detail::subscribe_upstream<In>(ctx.self(), st.up, std::move(m));
              },
              [&st, &ctx](const detail::stage_unsubscribe& m) {
                std::optional<exit_reason> ends;
                const bool had = st.up.cancel(m.tag, m.reason, ends);
                if (ends) st.end_after_held(ctx, *ends);  // what it holds goes on first
                return had;
              },
              [&st](detail::stage_list_subscriptions) { return st.up.subscriptions(); },
              [&st](detail::stage_events<In>&& m) {
                if (st.up.received(m.tag, m.events.size()) == nullptr || m.events.empty()) return;
                st.input.push_back({m.tag, std::move(m.events)});
                st.drain();
              },
              // Downstream: this stage as a producer.
              [&st](detail::stage_subscribe<Out>&& m) {
                std::size_t demand = 0;
                auto refused = st.side.subscribe(m, demand);
                st.add_demand(demand);
                return refused;
              },
              [&st](detail::stage_ask a) { st.add_demand(st.side.ask(a)); },
              [&st](detail::stage_cancel c) { st.add_demand(st.side.cancel(c)); },
              [&st](detail::stage_set_demand_mode m) {
                for (auto& h : st.side.set_mode(m.mode)) st.add_demand(st.side.release(std::move(h)));
              },
              [&st](detail::stage_stats_request) { return st.side.stats(); },
              [&st](detail::stage_retry_sends) { st.up.retry(); },
              [&st, &ctx](down d) {
                std::size_t demand = 0;
                if (st.side.on_down(d, demand)) {
                  st.add_demand(demand);
                  return;
                }
                std::optional<exit_reason> ends;
                st.up.on_down(d, ends);
                if (ends) st.end_after_held(ctx, *ends);
              },
          };
        },
        std::move(init), std::move(handle_events), std::move(options)));
  }
  template <class Where, class HandleEvents>
    requires(!std::is_invocable_v<HandleEvents&>) static producer_consumer
      start(Where& where, HandleEvents handle_events, producer_options<Out> options = {}, spawn_options opts = {}) {
    return start(where, &detail::make_no_state, std::move(handle_events), std::move(options), std::move(opts));
  }

  explicit producer_consumer(ref_type ref) : detail::consuming_stage<In, ref_type>(std::move(ref)) {}

  /// Switches the demand mode of its producing side (producer_options::demand): `forward`
  /// hands the demand held in accumulate mode to the stage at once.
  void demand(demand_mode mode) const { this->ref_.cast(detail::stage_set_demand_mode{mode}); }
  [[nodiscard]] result<stage_stats> stats(std::chrono::milliseconds timeout = default_call_timeout) const {
    return this->ref_.call(detail::stage_stats_request{}, timeout).get();
  }
};

}  // namespace eam::otp
