// Monitors, links and exit signals between actors (engine/README.md, section 4).
#include "actor_cell.hpp"

namespace eam::detail {

watch_ref actor_cell::watch(const actor_ref& target, std::function<void(const down&)> on_down) {
  extras& x = more();
  const std::uint64_t id = ++x.next_request_id;
  const watch_ref ref{id, id_, target.id()};
  x.watching.push_back({id, target, std::move(on_down), std::nullopt});
  add_ref();
  actor_ref self(this, adopt_t{});
  if (!target) {
    deliver_info(make_envelope<down>(envelope_kind::cast, down{ref, target, exit_reason::noproc()}));
  } else {
    target.cell()->deliver_system(
        make_envelope<internal::watch_request>(envelope_kind::watch, internal::watch_request{std::move(self), id, nullptr}));
  }
  return ref;
}

actor_cell::extras::watched* actor_cell::live_watch(std::uint64_t id) noexcept {
  return extras_ ? extras_->watching.find(id) : nullptr;
}

void actor_cell::unwatch(watch_ref ref) {
  extras::watched* w = live_watch(ref.id);
  if (w == nullptr) return;
  if (w->target)
    w->target.cell()->deliver_system(
        make_envelope<internal::unwatch_request>(envelope_kind::unwatch, internal::unwatch_request{this, ref.id}));
  extras_->watching.erase(w);
}

bool actor_cell::forget_watch(std::uint64_t id, std::function<void(const down&)>& on_down) noexcept {
  extras::watched* w = live_watch(id);
  if (w == nullptr) return false;
  on_down = std::move(w->on_down);
  extras_->watching.erase(w);
  return true;
}

void actor_cell::note_child_end(const actor_cell* child, const exit_reason& reason) noexcept {
  extras_->watching.for_each_in_group(child, [&](extras::watched& w) {
    try {
      w.child_end = reason;
    } catch (...) {
      // Out of memory: a refused watch reports noproc.
    }
  });
}

void actor_cell::refuse_watch(std::uint64_t id) noexcept {
  extras::watched* w = live_watch(id);
  if (w == nullptr) return;  // unwatched meanwhile
  // A child's end came in before this refusal (its child_exited was sent first): its reason,
  // as a watch that reached it in time would have heard; otherwise, as in Erlang, noproc.
  try {
    exit_reason why = w->child_end ? std::move(*w->child_end) : exit_reason::noproc();
    deliver_info(
        make_envelope<down>(envelope_kind::cast, down{watch_ref{id, id_, w->target.id()}, w->target, std::move(why)}));
  } catch (...) {
    // Out of memory: this watch hears nothing, as when a dying actor cannot tell its watchers.
  }
}

void actor_cell::tell_forwarder_of_link(message_forwarder& f, bool linked) noexcept {
  add_ref();
  f.link_changed(actor_ref(this, adopt_t{}), linked);
}

void actor_cell::link(const actor_ref& other) {
  if (!other || other.cell() == this) return;
  auto& links = more().links;
  if (links.find(other.cell()) != nullptr) return;
  links.push_back(other);
  add_ref();
  // A forwarding actor's forwarder hears of the link here, on this actor's thread, before
  // anything this actor does later (its end included): a layer that makes the link elsewhere
  // keeps it ahead of that end.
  if (message_forwarder* f = other.cell()->forwarder()) [[unlikely]]
    tell_forwarder_of_link(*f, true);
  other.cell()->deliver_system(
      make_envelope<internal::link_request>(envelope_kind::link, internal::link_request{actor_ref(this, adopt_t{})}));
}

void actor_cell::unlink(const actor_ref& other) {
  if (!extras_ || !other) return;
  if (!extras_->links.erase(other.cell())) return;
  if (message_forwarder* f = other.cell()->forwarder()) [[unlikely]]
    tell_forwarder_of_link(*f, false);
  other.cell()->deliver_system(make_envelope<internal::unlink_request>(envelope_kind::unlink, internal::unlink_request{this}));
}

void actor_cell::on_exit_signal(internal::exit_request& x) noexcept {
  if (x.via_link) {
    // An unlinked actor's end does not concern us (its signal may have crossed our unlink).
    if (!extras_ || !extras_->links.erase(x.from.cell())) return;
  }
  if (message_forwarder* f = forwarder()) {  // a forwarding actor passes every signal on
    f->forward_exit(x.from, x.reason, x.via_link);
    return;
  }
  if (!x.via_link && x.reason.type() == exit_reason::kind::kill) {  // untrappable
    begin_exit(exit_reason::killed());
    return;
  }
  if (trap_exit_) {
    try {  // in order with the rest of the mailbox, as an info message
      const link_ref via = x.via_link ? link_ref::between(id_, x.from.id()) : link_ref{};
      envelope* info =
          make_envelope<exit_signal>(envelope_kind::cast, exit_signal{std::move(x.from), std::move(x.reason), via});
      push_own_info(info);
    } catch (...) {
    }
    return;
  }
  if (x.reason.is_normal()) {
    if (!x.via_link && x.from.cell() == this) begin_exit(exit_reason::normal());  // exit(self, normal)
    return;
  }
  begin_exit(std::move(x.reason));
}

void actor_cell::tell_watchers_and_links(const exit_reason& why) noexcept {
  if (!extras_) return;
  try {
    for (auto& w : extras_->watchers) {
      add_ref();
      const watch_ref ref{w.id, w.who.id(), id_};
      if (w.outside)
        w.outside->on_down(down{ref, actor_ref(this, adopt_t{}), why});
      else
        w.who.cell()->deliver_info(make_envelope<down>(envelope_kind::cast, down{ref, actor_ref(this, adopt_t{}), why}));
    }
    for (auto& l : extras_->links) {
      add_ref();
      l.cell()->deliver_system(make_envelope<internal::exit_request>(
          envelope_kind::exit, internal::exit_request{actor_ref(this, adopt_t{}), why, true}));
    }
  } catch (...) {
    // Out of memory while dying: the remaining watchers and links hear nothing.
  }
  extras_->watchers.clear();
  extras_->links.clear();
}

}  // namespace eam::detail
