#pragma once
// proxy: the local stand-in of a remote actor: the forwarder of a forwarding actor (engine
// forwarding.hpp), so refs, monitors and links to it are ordinary. A message sent to it is
// encoded on the sender's thread straight into its node's outgoing buffer; an exit signal sent
// to it goes to the remote actor as an exit signal. A link to it is made at the remote actor's
// node too (a link item), with that node's proxy of the linker, so each side hears the
// other's end from its own proxy: the proxy itself ends when the remote actor does (its
// node's `down`) or when the node goes away (`noconnection`), and its watchers and links hear
// it from the engine.
#include "peer.hpp"

#include <eam/engine/forwarding.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace eam::cluster::internal {

class node_runtime;

class proxy final : public message_forwarder {
 public:
  struct signature {
    message_type_id message;
    message_type_id reply;
  };
  proxy(node_runtime& runtime, std::shared_ptr<peer> to, std::uint64_t remote_id, std::vector<signature> checked)
      : runtime_(runtime), peer_(std::move(to)), remote_id_(remote_id), checked_(std::move(checked)) {}

  void forward(message&& m) noexcept override;
  void forward_exit(const actor_ref& from, const exit_reason& reason, bool via_link) noexcept override;
  void link_changed(const actor_ref& other, bool linked) noexcept override;
  /// Only what a typed lookup checked against the remote actor (node::whereis<Ref>).
  bool handles(message_type_id message, message_type_id reply) const noexcept override;
  /// Adds what a later typed lookup or a resolve of a global name checked (each once).
  void add_checked(const std::vector<signature>& sigs);
  /// Appends to `into` the signatures of `more` it lacks. A resolve of a global name held on
  /// another node (otp::named_ref resolves one per message) hands the same list each time:
  /// appended whole, it grew by its size per message, without bound.
  static void merge(std::vector<signature>& into, const std::vector<signature>& more);

 private:
  node_runtime& runtime_;
  const std::shared_ptr<peer> peer_;
  const std::uint64_t remote_id_;
  mutable std::mutex checked_lock_;
  std::vector<signature> checked_;
};

}  // namespace eam::cluster::internal
