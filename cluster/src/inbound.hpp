#pragma once
// What arrives from a peer, item by item (the I/O thread): messages delivered to local actors
// without blocking, answers matched to our calls, monitors, downs, exit signals, lookups.
#include "frame.hpp"
#include "peer.hpp"

#include <memory>
#include <optional>
#include <string>

namespace eam::cluster::internal {

class node_runtime;

/// The first frame of a connection: only a hello is accepted.
class hello_only final : public frame_visitor {
 public:
  std::optional<hello> got;
  void on_hello(hello&& h) override { got = std::move(h); }
  void on_heartbeat() override {}
  void on_leave() override {}
  void on_cast(std::uint64_t, message&&) override {}
  void on_call(std::uint64_t, std::uint64_t, message&&) override {}
  void on_reply(std::uint64_t, message&&) override {}
  void on_monitor(std::uint64_t) override {}
  void on_demonitor(std::uint64_t) override {}
  void on_down(std::uint64_t, exit_reason&&) override {}
  void on_moved(std::uint64_t, actor_ref&&, std::string&&) override {}
  void on_exit(std::uint64_t, actor_ref&&, exit_reason&&) override {}
  void on_link(std::uint64_t, actor_ref&&, bool) override {}
  void on_lookup(std::uint64_t, std::string&&, std::vector<wire_signature>&&) override {}
  void on_lookup_reply(std::uint64_t, std::uint64_t, std::string&&) override {}
  void on_cancel(std::uint64_t) override {}
  void on_where(std::string&&, std::uint64_t) override {}
  void on_node_at(std::string&&, std::uint64_t, std::string&&) override {}
  void on_unknown_type(item_kind, std::uint64_t, std::string_view) override {}
  void on_undecodable_payload(item_kind, std::uint64_t, std::string_view, std::string_view) override {}
};

class inbound final : public frame_visitor {
 public:
  inbound(node_runtime& runtime, std::shared_ptr<peer> from, const std::string& routing_id)
      : runtime_(runtime), from_(std::move(from)), routing_id_(routing_id) {}

  /// The casts, calls and answers among the items visited (messages_in; the node's own items,
  /// monitors, downs and lookups, are not counted, as the sender does not count them out).
  [[nodiscard]] std::uint64_t messages() const noexcept { return messages_; }

  void on_hello(hello&& h) override;
  void on_heartbeat() override {}
  void on_leave() override;
  void on_cast(std::uint64_t target, message&& m) override;
  void on_call(std::uint64_t target, std::uint64_t request, message&& m) override;
  void on_reply(std::uint64_t request, message&& m) override;
  void on_monitor(std::uint64_t target) override;
  void on_demonitor(std::uint64_t target) override;
  void on_down(std::uint64_t actor, exit_reason&& reason) override;
  void on_moved(std::uint64_t actor, actor_ref&& to, std::string&& node) override;
  void on_exit(std::uint64_t target, actor_ref&& from, exit_reason&& reason) override;
  void on_link(std::uint64_t target, actor_ref&& from, bool linked) override;
  void on_lookup(std::uint64_t request, std::string&& name, std::vector<wire_signature>&& sigs) override;
  void on_lookup_reply(std::uint64_t request, std::uint64_t actor, std::string&& why) override;
  void on_cancel(std::uint64_t request) override { from_->caller_gave_up(request); }
  void on_where(std::string&& node, std::uint64_t incarnation) override;
  void on_node_at(std::string&& node, std::uint64_t incarnation, std::string&& address) override;
  void on_unknown_type(item_kind kind, std::uint64_t request, std::string_view wire_name) override;
  void on_undecodable_payload(item_kind kind, std::uint64_t request, std::string_view wire_name,
                              std::string_view why) override;

 private:
  // The exported actor `id`, or empty; valid until the next call. A reference, not a copy: a
  // copy per item counted a reference on the target from the I/O thread, a line its worker
  // writes too (7 % of a remote fan-in's samples).
  const actor_ref& target(std::uint64_t id);
  /// The proxy of the sender's actor `id`, or empty; `forget` takes it out of the tables.
  actor_ref proxy_of(std::uint64_t id, bool forget);
  void answer_error(std::uint64_t request, const error& e);
  /// A cast, call or reply this node cannot take: counted and logged as a bad frame; a call is
  /// answered with `e`, a reply fails its call with it.
  void refuse(item_kind kind, std::uint64_t request, const error& e);

  node_runtime& runtime_;
  std::shared_ptr<peer> from_;
  const std::string& routing_id_;
  std::uint64_t last_target_ = 0;  // consecutive items to one actor look it up once
  actor_ref last_ref_;
  std::uint64_t messages_ = 0;
};

}  // namespace eam::cluster::internal
