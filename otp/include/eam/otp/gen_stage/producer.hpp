#pragma once
/// A producer: emits events when its consumers ask. `handle_demand(demand, state)` returns
/// the events for that much new demand (fewer is fine: `push` the rest later; more are
/// buffered). Its dispatcher decides who gets what; what nobody asked for waits in its buffer.
///
///   auto numbers = eam::otp::producer<int>::start(system,
///       [] { return 0; },                                           // init: the state
///       [](std::size_t demand, int& next) {
///         std::vector<int> out(demand);
///         std::iota(out.begin(), out.end(), next);
///         next += static_cast<int>(demand);
///         return out;
///       });
///
/// Without state: `start(where, handle_demand)` with handle_demand(demand). `where` is the
/// actor_system, or an actor's context to start it as a child.

#include <eam/engine/system.hpp>
#include <eam/otp/stop.hpp>
#include <eam/otp/gen_stage/producer_side.hpp>

#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace eam::otp {

namespace detail {
template <class T>
using producer_ref = typed_ref<std::optional<error>(stage_subscribe<T>), void(stage_ask), void(stage_cancel),
                               void(stage_set_demand_mode), void(stage_push<T>), stage_stats(stage_stats_request)>;

/// How many times one turn of a producer calls handle_demand for demand that dispatching
/// handed back (stage::meet).
inline constexpr int meet_rounds_per_turn = 16;
/// Turns of unmet demand in a row after which its timer waits its longest, 2^(steps-1) ms.
inline constexpr std::uint8_t meet_backoff_steps = 7;

template <class H, class State>
decltype(auto) invoke_demand(H& handler, std::size_t demand, State& state) {
  if constexpr (std::is_invocable_v<H&, std::size_t, State&>)
    return handler(demand, state);
  else
    return handler(demand);
}
}  // namespace detail

template <class T>
class producer {
 public:
  using ref_type = detail::producer_ref<T>;

  template <class Where, class Init, class HandleDemand>
    requires std::is_invocable_v<Init&>
  static producer start(Where& where, Init init, HandleDemand handle_demand, producer_options<T> options = {},
                        spawn_options opts = {}) {
    using state_type = std::invoke_result_t<Init&>;
    detail::check_options(options);
    return producer(where.spawn(
        opts,
        [](actor_context& ctx, Init init, HandleDemand handle_demand, producer_options<T> options) {
          struct stage {
            stage(actor_context& c, Init& init, HandleDemand&& h, const producer_options<T>& o)
                : ctx(c), user(init()), handle(std::move(h)), side(c, o) {}
            actor_context& ctx;
            state_type user;
            HandleDemand handle;
            detail::producer_side<T> side;
            // How many times in a row the rounds of a turn did not meet the demand (see meet).
            std::uint8_t unmet_turns = 0;
            // Turns demand that is now the producer's to meet into events. A dispatch can
            // hand demand back (events the partition hash discarded): handle_demand is asked
            // again, a few rounds per turn; past them the rest comes back as a timer message,
            // so a hash that discards everything cannot hold the producer in one handler. It
            // comes back later each time that goes on (1, 2, ... 64 ms): a hash discarding
            // everything kept a core busy calling handle_demand.
            void meet(std::size_t demand) {
              for (int round = 0; demand != 0; ++round) {
                if (round == detail::meet_rounds_per_turn) {
                  const auto later = unmet_turns == 0 ? std::chrono::milliseconds(0)
                                                      : std::chrono::milliseconds(1 << (unmet_turns - 1));
                  if (unmet_turns < detail::meet_backoff_steps) ++unmet_turns;
                  ctx.send_after(detail::stage_meet_demand{demand}, later);
                  return;
                }
                demand = side.dispatch(detail::invoke_demand(handle, demand, user));
              }
              unmet_turns = 0;
            }
          };
          auto& st = ctx.make_state<stage>(ctx, init, std::move(handle_demand), options);
          return behavior{
              [&st](detail::stage_subscribe<T>&& m) {
                std::size_t demand = 0;
                auto refused = st.side.subscribe(m, demand);
                st.meet(demand);
                return refused;
              },
              [&st](detail::stage_ask a) { st.meet(st.side.ask(a)); },
              [&st](detail::stage_cancel c) { st.meet(st.side.cancel(c)); },
              [&st](detail::stage_set_demand_mode m) {
                for (auto& h : st.side.set_mode(m.mode)) st.meet(st.side.release(std::move(h)));
              },
              [&st](detail::stage_push<T>&& p) { st.meet(st.side.dispatch(std::move(p.events))); },
              [&st](detail::stage_meet_demand m) { st.meet(m.demand); },
              [&st](detail::stage_stats_request) { return st.side.stats(); },
              [&st](down d) {
                std::size_t demand = 0;
                if (st.side.on_down(d, demand)) st.meet(demand);
              },
          };
        },
        std::move(init), std::move(handle_demand), std::move(options)));
  }
  template <class Where, class HandleDemand>
    requires std::is_invocable_v<HandleDemand&, std::size_t>
  static producer start(Where& where, HandleDemand handle_demand, producer_options<T> options = {},
                        spawn_options opts = {}) {
    return start(where, &detail::make_no_state, std::move(handle_demand), std::move(options), std::move(opts));
  }

  explicit producer(ref_type ref) : ref_(std::move(ref)) {}

  /// Switches the demand mode: `forward` hands what accumulate mode held, in its order, to
  /// handle_demand (the demand) and the dispatcher (events pushed meanwhile) at once.
  void demand(demand_mode mode) const { ref_.cast(detail::stage_set_demand_mode{mode}); }
  /// Emits events now (as GenStage's handle_info returning events): dispatched against the
  /// consumers' pending demand, buffered beyond it.
  void push(std::vector<T> events) const { ref_.cast(detail::stage_push<T>{std::move(events)}); }
  [[nodiscard]] result<stage_stats> stats(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(detail::stage_stats_request{}, timeout).get();
  }
  /// Stops the producer and waits (within `timeout`) until it has ended; its consumers act on
  /// their cancel modes.
  bool stop(std::chrono::milliseconds timeout = default_call_timeout) const { return stop_and_wait(ref_, timeout); }
  [[nodiscard]] const ref_type& ref() const noexcept { return ref_; }

 private:
  ref_type ref_;
};

}  // namespace eam::otp
