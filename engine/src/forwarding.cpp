// Forwarding actors (forwarding.hpp): a cell with no handlers whose ordinary messages and exit
// signals go to its forwarder (actor_cell::enqueue and on_exit_signal).
#include <eam/engine/forwarding.hpp>

#include "actor_cell.hpp"
#include "outbox.hpp"
#include "system_state.hpp"

#include <eam/engine/system.hpp>

namespace eam {

namespace {
// The impl of a forwarding actor: nothing to run. Its ordinary messages never reach dispatch
// (the forwarder takes them at the send); timers and info messages it never asks for.
struct forwarding_impl {
  void init(actor_context&) {}
  bool dispatch(detail::envelope&) { return false; }
  void terminate(const exit_reason&) {}
  // typed_ref_cast asks the forwarder (cell_handles_all), never this.
  static bool handles(detail::signature_id) noexcept { return false; }
  static constexpr std::string_view type_name = "eam::forwarding_actor";
};
}  // namespace

actor_ref spawn_forwarding_actor(actor_system& system, std::shared_ptr<message_forwarder> forwarder, std::string name) {
  spawn_options opts;
  opts.name = std::move(name);
  auto construct = [](void*, void* storage) { ::new (storage) forwarding_impl(); };
  detail::actor_cell* cell = detail::spawn_cell_forwarding(
      *system.state_, nullptr, opts, detail::actor_type_of<forwarding_impl>, sizeof(forwarding_impl),
      alignof(forwarding_impl), nullptr, construct, &forwarder);
  return actor_ref(cell, detail::adopt_t{});
}

bool release_when_handler_ends(held_sends& h) noexcept {
  // The outbox is flushed wherever a turn runs (a worker's, or a caller's that runs its idle
  // target's turn), so holding is safe exactly while this thread runs a turn.
  if (detail::current_cell() == nullptr) return false;
  return internal::local_outbox().hold(h);
}

std::uint32_t handler_number() noexcept {
  return detail::current_cell() == nullptr ? 0 : internal::local_outbox().handler_number();
}

bool only_reference(const actor_ref& ref) noexcept {
  const detail::actor_cell* c = ref.cell();
  return c != nullptr && c->forwarder() != nullptr && c->only_one_holder();
}

void link_forwarding_actor(const actor_ref& forwarding, const actor_ref& other, bool link) {
  detail::actor_cell* f = forwarding.cell();
  if (f == nullptr || f->forwarder() == nullptr || !other || other.cell() == f) return;
  // Each side takes its half in its own turn, as the two halves of ctx.link do.
  using detail::envelope_kind;
  using detail::make_envelope;
  if (link) {
    f->deliver_system(make_envelope<internal::link_request>(envelope_kind::link, internal::link_request{other}));
    other.cell()->deliver_system(
        make_envelope<internal::link_request>(envelope_kind::link, internal::link_request{forwarding}));
  } else {
    f->deliver_system(
        make_envelope<internal::unlink_request>(envelope_kind::unlink, internal::unlink_request{other.cell()}));
    other.cell()->deliver_system(make_envelope<internal::unlink_request>(envelope_kind::unlink, internal::unlink_request{f}));
  }
}

void send_exit(const actor_ref& from, const actor_ref& to, exit_reason reason) {
  if (!to) return;
  to.cell()->deliver_system(detail::make_envelope<internal::exit_request>(
      detail::envelope_kind::exit, internal::exit_request{from, std::move(reason), false}));
}

}  // namespace eam
