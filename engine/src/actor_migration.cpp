// Moving an actor away (migration.hpp): pause with its state saved, resume, become a relay,
// and tell watchers and links where it went.
#include "actor_cell.hpp"
#include "outbox.hpp"
#include "system_state.hpp"

#include <eam/engine/actor.hpp>
#include <eam/engine/telemetry.hpp>

namespace eam {

namespace {
void send_migration(const actor_ref& to, internal::migration_request r) {
  to.cell()->deliver_system(detail::make_envelope<internal::migration_request>(detail::envelope_kind::migration,
                                                                              std::move(r)));
}
}  // namespace

void pause_actor(const actor_ref& ref, std::function<void(result<saved_actor>)> on_paused) {
  if (!ref) {
    on_paused(error(errc::actor_not_found, "an empty ref"));
    return;
  }
  send_migration(ref, {internal::migration_request::step::pause, std::move(on_paused), {}, {}, {}});
}

void resume_actor(const actor_ref& ref) {
  if (ref) send_migration(ref, {internal::migration_request::step::resume, {}, {}, {}, {}});
}

void relay_actor(const actor_ref& ref, std::function<void(message&&)> relay, std::function<void(bool)> started) {
  if (ref) {
    send_migration(ref, {internal::migration_request::step::relay, {}, std::move(relay), std::move(started), {}});
  } else if (started) {
    started(false);
  }
}

void announce_moved(const actor_ref& ref, const actor_ref& to, std::string node) {
  if (ref)
    send_migration(ref, {internal::migration_request::step::announce, {}, {}, {}, moved{{}, to, std::move(node), {}, {}}});
}

namespace detail {

void set_state_saver(actor_context& ctx, std::function<envelope*()> save) {
  ctx.cell_->set_state_saver(std::move(save));
}

void actor_cell::on_migration(internal::migration_request& r) noexcept {
  using step = internal::migration_request::step;
  switch (r.what) {
    case step::pause:
      pause_for_move(r.on_paused);
      break;
    case step::resume:
      if (paused()) extras_->await = {};  // the turn loop takes up the set-aside messages next
      break;
    case step::relay: {
      const bool was_paused = paused();
      if (was_paused) become_relay(r.relay);
      if (r.relay_started) {
        try {
          r.relay_started(was_paused);
        } catch (...) {
        }
      }
      break;
    }
    case step::announce:
      tell_moved(r.notice);
      break;
    case step::moved_to:
      on_moved(r.notice);
      break;
  }
  internal::local_outbox().end_handler();  // what the callbacks above sent leaves now
}

void actor_cell::pause_for_move(std::function<void(result<saved_actor>)>& on_paused) noexcept {
  auto answer = [&](result<saved_actor> r) {
    try {
      on_paused(std::move(r));
    } catch (...) {  // the requester's failure is its own; the actor is not affected
    }
  };
  if (phase_ == phase::relaying) return answer(error(errc::actor_not_migratable, "it has moved away already"));
  if (phase_ != phase::running) return answer(error(errc::actor_not_found, "the actor is ending"));
  if (awaiting()) return answer(error(errc::timeout, "the actor awaits a reply (or is paused already)"));
  if (has_children()) return answer(error(errc::actor_has_children, "it would leave its children behind"));
  if (parent_ != nullptr)
    return answer(error(errc::actor_not_migratable, "a child of actor " + std::to_string(parent_->id()) +
                                                        ", which would see it end"));
  if (!extras_ || !extras_->state_saver)
    return answer(error(errc::actor_not_migratable, "it saves no state (save_state, or on_save_state)"));
  envelope* state = nullptr;
  try {
    state = extras_->state_saver();
  } catch (...) {
    return answer(error(errc::actor_not_migratable,
                        "saving its state threw: " + telemetry::detail::what_of(std::current_exception())));
  }
  extras_->await.request_id = paused_marker;  // from here on its messages are set aside, in order
  saved_actor saved{message(state), named_ ? extras_->name : std::string(), type_->name};
  answer(std::move(saved));
}

void actor_cell::become_relay(std::function<void(message&&)>& relay) noexcept {
  extras& x = *extras_;  // paused: the extras exist
  x.await = {};
  x.relay = std::move(relay);
  x.moved_away = true;
  phase_ = phase::relaying;
  trap_exit_ = true;  // a linked actor's end must not end the relay; kill still does
  unstash_all();      // stashed messages were sent first: they go first
  cancel_all_timers();
  if (idle_watch_) set_idle_timeout(std::chrono::milliseconds(0));
  for (auto& w : x.watching)  // its successor watches what it wants to
    if (w.target)
      w.target.cell()->deliver_system(
          make_envelope<internal::unwatch_request>(envelope_kind::unwatch, internal::unwatch_request{this, w.id}));
  x.watching.clear();
  if (named_) free_name();  // for its successor; finish() then finds it gone (or someone else's)
}

void actor_cell::relay_one(envelope* e) noexcept {
  const bool ordinary = e->kind == envelope_kind::cast || e->kind == envelope_kind::call;
  const bool info = e->type == &message_type_of<down> || e->type == &message_type_of<exit_signal> ||
                    e->type == &message_type_of<timeout> || e->type == &message_type_of<moved>;
  if (!ordinary || info) {  // a fired timer of the old self, or news meant for it
    free_envelope(e);
    return;
  }
  try {
    extras_->relay(message(e));  // the message owns e from here: a dropped call fails
  } catch (...) {
  }
  // What the relay sent from this turn sits in the worker's outbox, which only a handler's
  // end flushes: push it now, or it would wait for some later handler on this worker.
  internal::local_outbox().end_handler();
}

void actor_cell::tell_moved(const moved& where) noexcept {
  if (!extras_) return;
  try {
    for (auto& w : extras_->watchers) {
      if (w.outside) {  // told here, and kept: its on_down hears the end of the old self
        if (w.outside->on_moved) {
          add_ref();
          w.outside->on_moved(moved{actor_ref(this, adopt_t{}), where.to, where.node, watch_ref{w.id, 0, id_}, {}});
        }
        continue;
      }
      add_ref();
      moved notice{actor_ref(this, adopt_t{}), where.to, where.node, watch_ref{w.id, w.who.id(), id_}, {}};
      send_migration(w.who, {internal::migration_request::step::moved_to, {}, {}, {}, std::move(notice)});
    }
    for (auto& l : extras_->links) {
      add_ref();
      moved notice{actor_ref(this, adopt_t{}), where.to, where.node, {}, link_ref::between(id_, l.id())};
      send_migration(l, {internal::migration_request::step::moved_to, {}, {}, {}, std::move(notice)});
    }
  } catch (...) {
    // Out of memory: those not told yet hear of its end instead, when the relay stops.
  }
  extras_->watchers.erase_if([](const extras::watcher& w) { return !w.outside; });
  extras_->links.clear();
}

void actor_cell::on_moved(moved& notice) noexcept {
  if (notice.watch.id != 0) {
    std::function<void(const down&)> on_down;
    if (!forget_watch(notice.watch.id, on_down)) return;  // unwatched meanwhile
  } else if (!extras_ || !extras_->links.erase(notice.from.cell())) {
    return;  // unlinked meanwhile
  }
  if (phase_ != phase::running) return;  // a relay or an ending actor has no use for it
  try {  // in order with the rest of the mailbox, as an info message
    push_own_info(make_envelope<moved>(envelope_kind::cast, std::move(notice)));
  } catch (...) {
  }
}

}  // namespace detail
}  // namespace eam
