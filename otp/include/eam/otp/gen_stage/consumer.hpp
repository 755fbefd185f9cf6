#pragma once
/// A consumer: subscribes to producers and handles the events they send, asking for more as
/// it goes (max_demand in flight at most, asking again at min_demand).
///
///   auto sink = eam::otp::consumer<int>::start(system,
///       [] { return 0L; },                                          // init: the state
///       [](std::vector<int>& events, const eam::otp::subscription&, long& sum) {
///         for (int e : events) sum += e;
///       });
///   sink.subscribe(numbers.ref(), {.max_demand = 100}).value();
///
/// Without state: `start(where, handle_events)`, where handle_events takes (events, from) or
/// (events). `where` is the actor_system, or an actor's context to start it as a child.

#include <eam/otp/gen_stage/consuming_stage.hpp>

#include <type_traits>
#include <utility>
#include <vector>

namespace eam::otp {

namespace detail {
template <class T>
using consumer_ref = typed_ref<result<subscription>(stage_subscribe_to<T>), bool(stage_unsubscribe),
                               std::vector<subscription>(stage_list_subscriptions), void(stage_events<T>)>;

}  // namespace detail

template <class T>
class consumer : public detail::consuming_stage<T, detail::consumer_ref<T>> {
 public:
  using ref_type = detail::consumer_ref<T>;

  template <class Where, class Init, class HandleEvents>
    requires std::is_invocable_v<Init&>
  static consumer start(Where& where, Init init, HandleEvents handle_events, spawn_options opts = {}) {
    using state_type = std::invoke_result_t<Init&>;
    return consumer(where.spawn(
        opts,
        [](actor_context& ctx, Init init, HandleEvents handle_events) {
          struct stage {
            stage(actor_context& ctx, Init& init, HandleEvents&& h) : user(init()), handle(std::move(h)), up(ctx) {}
            state_type user;
            HandleEvents handle;
            detail::upstream up;
          };
          auto& st = ctx.make_state<stage>(ctx, init, std::move(handle_events));
          return behavior{
              [&st, &ctx](detail::stage_subscribe_to<T>&& m) {
                return detail::subscribe_upstream<T>(ctx.self(), st.up, std::move(m));
              },
              [&st](const detail::stage_unsubscribe& m) { return st.up.cancel(m.tag, m.reason); },
              [&st](detail::stage_list_subscriptions) { return st.up.subscriptions(); },
              [&st](detail::stage_events<T>&& m) {
                const std::size_t n = m.events.size();
                auto* sub = st.up.received(m.tag, n);
                if (sub == nullptr) return;  // cancelled meanwhile
                detail::invoke_events(st.handle, m.events, sub->sub, st.user);
                st.up.done(*sub, n);
              },
              [&st](detail::stage_retry_sends) { st.up.retry(); },
              [&st](down d) { st.up.on_down(d); },
          };
        },
        std::move(init), std::move(handle_events)));
  }
  template <class Where, class HandleEvents>
    requires(!std::is_invocable_v<HandleEvents&>) static consumer
      start(Where& where, HandleEvents handle_events, spawn_options opts = {}) {
    return start(where, &detail::make_no_state, std::move(handle_events), std::move(opts));
  }

  explicit consumer(ref_type ref) : detail::consuming_stage<T, ref_type>(std::move(ref)) {}
};

}  // namespace eam::otp
