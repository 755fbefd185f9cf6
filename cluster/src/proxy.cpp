#include "proxy.hpp"

#include "node_runtime.hpp"
#include "ref_resolver.hpp"

#include <eam/cluster/errc.hpp>

#include <algorithm>

namespace eam::cluster::internal {

void proxy::forward(message&& m) noexcept {
  const wire_type* type = find_wire_type(m.type());
  if (type == nullptr) {
    const error why(cluster_errc::type_not_registered,
                    std::string(m.type_name()) + " is not registered for the wire (eam::cluster::register_message)");
    if (m.is_call())
      m.take_reply().fail(why);
    else
      runtime_.cast_dropped(why.context());
    return;
  }
  scoped_ref_resolver resolve(runtime_);
  const bool call = m.is_call();
  reply_handle reply = m.take_reply();
  try {
    bool queued;
    if (call)
      queued = peer_->enqueue_call(std::move(reply), [&](packer& pk, std::uint64_t request) {
        pack_call(pk, remote_id_, request, *type, m.data());
      });
    else
      queued = peer_->enqueue_cast([&](packer& pk) { pack_cast(pk, remote_id_, *type, m.data()); });
    if (!queued && !call) runtime_.cast_dropped("node " + peer_->node + " is gone");
  } catch (const std::exception& e) {
    // Larger than any frame (peer::encode's transport_error, which keeps its code), or a field
    // whose type cannot cross the wire.
    const auto* too_large = dynamic_cast<const error*>(&e);
    const std::string why = std::string(m.type_name()) + " could not be encoded: " +
                            (too_large != nullptr ? too_large->context() : std::string(e.what()));
    if (reply)
      reply.fail(too_large != nullptr ? error(too_large->code(), why) : error(cluster_errc::type_not_registered, why));
    else if (!call)
      runtime_.cast_dropped(why);
  }
}

void proxy::forward_exit(const actor_ref& from, const exit_reason& reason, bool via_link) noexcept {
  // A linked actor's end reaches the remote actor through the link made at its node (with its
  // proxy of this actor, which ends with it: link_changed), as a link's exit; sent here too, it
  // came twice, and once without its link.
  if (via_link) return;
  scoped_ref_resolver resolve(runtime_);
  try {
    (void)peer_->enqueue([&](packer& pk) { pack_exit(pk, remote_id_, from, reason); });
  } catch (const std::exception&) {
    // Only out of memory can fail here: the signal is lost as a crashed link's would be.
  }
}

void proxy::link_changed(const actor_ref& other, bool linked) noexcept {
  scoped_ref_resolver resolve(runtime_);
  try {
    (void)peer_->enqueue([&](packer& pk) { pack_link(pk, remote_id_, other, linked); });
  } catch (const std::exception&) {
    // Only out of memory can fail here: the link holds on this side alone, as before.
  }
}

void proxy::add_checked(const std::vector<signature>& sigs) {
  std::lock_guard lock(checked_lock_);
  merge(checked_, sigs);
}

void proxy::merge(std::vector<signature>& into, const std::vector<signature>& more) {
  // A scan per signature: an actor handles tens of types at most, and this runs per resolve.
  for (const signature& s : more)
    if (std::none_of(into.begin(), into.end(),
                     [&](const signature& t) { return t.message == s.message && t.reply == s.reply; }))
      into.push_back(s);
}

bool proxy::handles(message_type_id message, message_type_id reply) const noexcept {
  std::lock_guard lock(checked_lock_);
  return std::any_of(checked_.begin(), checked_.end(),
                     [&](const signature& s) { return s.message == message && s.reply == reply; });
}

}  // namespace eam::cluster::internal
