#include <eam/cluster/node.hpp>

#include "node_runtime.hpp"

#include <eam/cluster/errc.hpp>

namespace eam::cluster {

node::node(std::unique_ptr<internal::node_runtime> runtime) : runtime_(std::move(runtime)) {}
node::~node() = default;

actor_system& node::system() noexcept { return runtime_->system(); }
const std::string& node::id() const noexcept { return runtime_->id(); }
std::uint16_t node::port() const noexcept { return runtime_->port(); }
std::string node::address() const { return runtime_->address(); }
bool node::secure() const noexcept { return runtime_->secure(); }
std::vector<std::string> node::peers() const { return runtime_->connected_peers(); }
bool node::wait_for_peer(std::string_view node_id, std::chrono::milliseconds timeout) {
  return runtime_->wait_for_peer(node_id, timeout);
}
result<actor_ref> node::whereis(std::string_view node_id, std::string_view name) {
  return runtime_->whereis(node_id, name, {});
}
result<actor_ref> node::whereis_checked(std::string_view node_id, std::string_view name, std::vector<signature> sigs) {
  return runtime_->whereis(node_id, name, sigs);
}
transport_stats node::stats() const { return runtime_->stats(); }
void node::shutdown() { runtime_->shutdown(); }

result<std::unique_ptr<node>> start_node(node_config config) {
  try {
    return std::unique_ptr<node>(new node(std::make_unique<internal::node_runtime>(std::move(config))));
  } catch (const error& e) {
    return e;
  }
}

}  // namespace eam::cluster
