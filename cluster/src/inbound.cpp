#include "inbound.hpp"

#include "node_runtime.hpp"
#include "ref_resolver.hpp"

#include <eam/cluster/errc.hpp>
#include <eam/engine/forwarding.hpp>
#include <eam/engine/migration.hpp>

#include <algorithm>
#include <atomic>

namespace eam::cluster::internal {

namespace {
// Answers a peer's call from whichever thread the local actor answers on, then deletes itself.
// Until then the peer may say that its caller gave up (peer::caller_gave_up), which the local
// actor's reply_handle::abandoned() reads.
class inbound_call final : public reply_receiver {
 public:
  inbound_call(node_runtime& runtime, std::shared_ptr<peer> to, std::uint64_t request)
      : runtime_(runtime), to_(std::move(to)), request_(request) {
    to_->answering(request_, gave_up_);
  }

  [[nodiscard]] bool caller_gave_up() const noexcept override { return gave_up_.load(std::memory_order_acquire); }

  void on_reply(message&& m) noexcept override {
    to_->answered(request_);  // before the delete below: the peer's table points at gave_up_
    scoped_ref_resolver resolve(runtime_);
    try {
      if (const error* e = m.get_if<error>()) {
        (void)to_->enqueue_answer([&](packer& pk) { pack_reply_error(pk, request_, *e); });
      } else if (const wire_type* t = find_wire_type(m.type())) {
        (void)to_->enqueue_answer([&](packer& pk) { pack_reply(pk, request_, *t, m.data()); });
      } else {
        const error e(cluster_errc::type_not_registered,
                      "the answer's type " + std::string(m.type_name()) + " is not registered for the wire");
        (void)to_->enqueue_answer([&](packer& pk) { pack_reply_error(pk, request_, e); });
      }
    } catch (const std::exception& ex) {  // the answer could not be encoded: say so instead
      try {
        // Larger than any frame keeps its transport_error; a field that cannot cross the wire
        // is the type's.
        const auto* too_large = dynamic_cast<const error*>(&ex);
        const error e(too_large != nullptr ? too_large->code() : error_code(cluster_errc::type_not_registered),
                      std::string("the answer could not be encoded: ") +
                          (too_large != nullptr ? too_large->context() : std::string(ex.what())));
        (void)to_->enqueue_answer([&](packer& pk) { pack_reply_error(pk, request_, e); });
      } catch (...) {
      }
    }
    delete this;
  }

 private:
  node_runtime& runtime_;
  std::shared_ptr<peer> to_;
  std::uint64_t request_;
  std::atomic<bool> gave_up_{false};
};
}  // namespace

const actor_ref& inbound::target(std::uint64_t id) {
  if (id != last_target_ || !last_ref_) {
    last_ref_ = runtime_.exported(id);
    last_target_ = id;
  }
  return last_ref_;
}

void inbound::answer_error(std::uint64_t request, const error& e) {
  (void)from_->enqueue_answer([&](packer& pk) { pack_reply_error(pk, request, e); });
}

void inbound::on_hello(hello&& h) { runtime_.on_hello(routing_id_, std::move(h)); }

void inbound::on_leave() { runtime_.peer_down(from_, "left"); }

void inbound::on_cast(std::uint64_t id, message&& m) {
  ++messages_;
  // A gone actor drops it, as a local cast to it would; a full bounded mailbox too.
  if (send(target(id), m) != cast_result::sent) runtime_.dropped_casts_.fetch_add(1, std::memory_order_relaxed);
}

void inbound::on_call(std::uint64_t id, std::uint64_t request, message&& m) {
  ++messages_;
  const actor_ref& to = target(id);
  if (!to) {
    answer_error(request, error(errc::actor_not_found, "no such actor on node " + runtime_.id()));
    return;
  }
  send_call(to, std::move(m), *new inbound_call(runtime_, from_, request));
}

void inbound::on_reply(std::uint64_t request, message&& m) {
  ++messages_;
  if (reply_handle r = from_->take_call(request)) r.reply(std::move(m));  // an error value fails the call
}

void inbound::on_monitor(std::uint64_t id) {
  exit_reason gone = exit_reason::noproc();  // never exported, or ended too long ago
  {
    std::lock_guard lock(runtime_.exports_lock_);
    if (runtime_.exported_.contains(id)) {
      runtime_.add_monitor(id, from_);
      return;
    }
    if (const exit_reason* why = runtime_.ended_export(id)) gone = *why;  // ended as its ref travelled
  }
  (void)from_->enqueue([&](packer& pk) { pack_down(pk, id, gone); });
}

void inbound::on_demonitor(std::uint64_t id) {
  std::lock_guard lock(runtime_.exports_lock_);
  runtime_.take_back_monitor(id, from_);
}

actor_ref inbound::proxy_of(std::uint64_t id, bool forget) {
  std::lock_guard lock(runtime_.proxies_lock_);
  auto of_node = runtime_.proxies_.find(from_.get());
  if (of_node == runtime_.proxies_.end()) return {};
  auto it = of_node->second.find(id);
  if (it == of_node->second.end()) return {};
  if (!forget) return it->second.ref;
  actor_ref proxy = std::move(it->second.ref);
  of_node->second.erase(it);
  runtime_.proxy_identity_.erase(proxy.cell());
  runtime_.proxies_left(1);
  return proxy;
}

void inbound::on_down(std::uint64_t id, exit_reason&& reason) {
  if (actor_ref proxy = proxy_of(id, true))
    runtime_.system().stop(proxy, std::move(reason));  // its watchers and links hear the remote reason
}

void inbound::on_moved(std::uint64_t id, actor_ref&& to, std::string&& node) {
  // The proxy still reaches the old self, which relays, until its down.
  if (actor_ref proxy = proxy_of(id, false))
    announce_moved(proxy, to, std::move(node));  // its watchers and links hear it as local ones do
}

void inbound::on_exit(std::uint64_t id, actor_ref&& from, exit_reason&& reason) {
  if (const actor_ref& to = target(id)) send_exit(from, to, std::move(reason));
}

void inbound::on_link(std::uint64_t id, actor_ref&& from, bool linked) {
  // `from` decodes to this node's proxy of the remote linker (a forwarding actor); anything
  // else (a ref to one of this node's own actors) is no remote link, and the engine ignores it.
  if (const actor_ref& to = target(id)) link_forwarding_actor(from, to, linked);
}

void inbound::on_lookup(std::uint64_t request, std::string&& name, std::vector<wire_signature>&& sigs) {
  std::string why;
  std::uint64_t id = 0;
  if (auto found = runtime_.system().whereis(name)) {
    for (const auto& [m, r] : sigs) {
      const wire_type* message_type = find_wire_type(m);
      const wire_type* reply_type = r.empty() ? nullptr : find_wire_type(r);
      if (message_type == nullptr || (!r.empty() && reply_type == nullptr)) {
        why = "type " + (message_type == nullptr ? m : r) + " is not registered on node " + runtime_.id();
        break;
      }
      if (!handles(*found, message_type->type, reply_type != nullptr ? reply_type->type : message_type_id{})) {
        why = name + " on node " + runtime_.id() + " does not handle " + (r.empty() ? "void" : r) + "(" + m + ")";
        break;
      }
    }
    if (why.empty()) {
      runtime_.export_actor(*found);
      id = found->id();
    }
  } else {
    why = "no actor named " + name + " on node " + runtime_.id();
  }
  (void)from_->enqueue([&](packer& pk) { pack_lookup_reply(pk, request, id, why); });
}

void inbound::on_lookup_reply(std::uint64_t request, std::uint64_t actor, std::string&& why) {
  std::lock_guard lock(runtime_.lookups_lock_);
  auto it = runtime_.lookups_.find(request);
  if (it == runtime_.lookups_.end() || it->second.node != from_->node) return;  // timed out, or not this node's
  if (actor != 0)
    it->second.answer.set_value(actor);
  else
    it->second.answer.set_value(error(errc::registry_lookup_failed, why));
  runtime_.lookups_.erase(it);
}

void inbound::on_where(std::string&& node, std::uint64_t incarnation) {
  runtime_.answer_where(from_, node, incarnation);
}

void inbound::on_node_at(std::string&& node, std::uint64_t incarnation, std::string&& address) {
  runtime_.on_node_at(from_, node, incarnation, address);
}

void inbound::on_unknown_type(item_kind kind, std::uint64_t request, std::string_view wire_name) {
  ++messages_;
  refuse(kind, request,
         error(cluster_errc::type_not_registered,
               "wire type " + std::string(wire_name) + " is not registered on node " + runtime_.id()));
}

void inbound::on_undecodable_payload(item_kind kind, std::uint64_t request, std::string_view wire_name,
                                     std::string_view why) {
  ++messages_;
  refuse(kind, request,
         error(cluster_errc::undecodable_payload, "a " + std::string(wire_name) + " from node " + from_->node +
                                                      " could not be decoded on node " + runtime_.id() + ": " +
                                                      std::string(why)));
}

void inbound::refuse(item_kind kind, std::uint64_t request, const error& e) {
  runtime_.note_bad_frame(from_->node, e.context());
  if (kind == item_kind::call) answer_error(request, e);
  if (kind == item_kind::reply)
    if (reply_handle r = from_->take_call(request)) r.fail(e);
}

}  // namespace eam::cluster::internal
