#pragma once
// eamctl's own node: a hidden node (membership_config::hidden) with the role "eamctl", which
// visits the cluster for the length of one command: it learns the members from its seed and
// connects to the nodes it asks, and no member lists it or sees it come and go.
#include "options.hpp"

#include <eam/cluster/control.hpp>
#include <eam/cluster/node.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eamctl {

/// The role of eamctl's own nodes: left out of what eamctl lists, never a command's target.
inline constexpr std::string_view session_role = "eamctl";

/// A command that could not be done; its text is printed and eamctl exits with 1.
struct command_error {
  std::string why;
};

class operator_node {
 public:
  /// Joins through the options' seeds and waits (the options' timeout) to hear of a member
  /// that is not an eamctl session. Throws command_error.
  explicit operator_node(const options& o);
  ~operator_node();
  operator_node(const operator_node&) = delete;
  operator_node& operator=(const operator_node&) = delete;

  [[nodiscard]] eam::cluster::node& node() noexcept { return *node_; }
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  /// The members alive or suspected, eamctl sessions (this one and others) left out.
  [[nodiscard]] std::vector<eam::cluster::member> members() const;
  /// The member this session joined through: the first one at a seed's address, else the
  /// first one heard of (the constructor waited for one). Throws command_error when none is left.
  [[nodiscard]] eam::cluster::member seed_member() const;
  /// Why `id` is no member: it left, it died (as the seed lists it), or no node has that id.
  std::string not_a_member(const std::string& id);
  /// Member `id`'s record, if it is a member now.
  [[nodiscard]] std::optional<eam::cluster::member> member_named(const std::string& id) const;
  /// The control service of member `id`, once connected to it. Throws command_error.
  eam::cluster::control::control_ref control_of(const std::string& id);

 private:
  std::unique_ptr<eam::cluster::node> node_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> seeds_;
  /// Whether `m` is at one of the seeds' addresses.
  [[nodiscard]] bool at_seed(const eam::cluster::member& m) const;
};

/// The address eamctl's node listens on: the one given, loopback for a loopback seed, else the
/// local address the kernel would use to reach the seed.
std::string listen_address_for(const options& o);

}  // namespace eamctl
