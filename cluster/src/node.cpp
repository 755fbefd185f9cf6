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

std::vector<member> node::members() const { return runtime_->members(false); }
std::vector<member> node::members_by_role(std::string_view role) const {
  std::vector<member> out = runtime_->members(false);
  std::erase_if(out, [&](const member& m) { return !m.has_role(role); });
  return out;
}
std::vector<member> node::all_members() const { return runtime_->members(true); }
result<void> node::wait_for_cluster(const cluster_condition& condition) { return runtime_->wait_for_cluster(condition); }
void node::set_metadata(std::map<std::string, std::string> metadata) { runtime_->set_metadata(std::move(metadata)); }
std::uint64_t node::on_member_event(std::function<void(const member_event&)> callback) {
  return runtime_->on_member_event(std::move(callback));
}
void node::remove_member_callback(std::uint64_t id) { runtime_->remove_member_callback(id); }
membership_stats node::gossip_stats() const { return runtime_->gossip_stats(); }

result<void> node::install_key(std::string_view cookie) { return runtime_->install_key(cookie); }
result<void> node::use_key(std::string_view cookie) { return runtime_->use_key(cookie); }
result<void> node::remove_key(std::string_view cookie) { return runtime_->remove_key(cookie); }
std::vector<std::string> node::list_keys() const { return runtime_->list_keys(); }
std::optional<std::string> node::name_owner(std::string_view name) const { return runtime_->name_owner(name); }

std::vector<char> node::encode_arguments(const std::function<void(detail::wire_packer&)>& pack) {
  detail::frame_buffer buffer;
  {
    internal::scoped_ref_resolver resolve(*runtime_);
    detail::wire_packer pk(buffer);
    pack(pk);
  }
  return {buffer.data(), buffer.data() + buffer.size()};
}

result<actor_ref> node::spawn_by_name(std::string_view type_name, const spawn_config& config, std::vector<char> args) {
  return runtime_->spawn_by_name(type_name, config, std::move(args));
}

void node::spawn_by_name_async(std::string_view type_name, const spawn_config& config, std::vector<char> args,
                               std::function<void(result<actor_ref>)> done) {
  runtime_->spawn_by_name_async(std::string(type_name), config, std::move(args), std::move(done));
}

result<actor_ref> node::migrate(const actor_ref& actor, std::string_view to, const migrate_config& config) {
  return runtime_->migrate(actor, std::string(to), config);
}

result<actor_ref> node::migrate(std::string_view name, std::string_view to, const migrate_config& config) {
  std::optional<actor_ref> found = system().whereis(name);
  if (!found) return error(errc::registry_lookup_failed, std::string(name));
  return runtime_->migrate(*found, std::string(to), config);
}

migrate_all_result node::migrate_all(std::string_view to, const migrate_config& config) {
  return runtime_->migrate_all(std::string(to), config);
}

void node::drain() { runtime_->set_draining(true); }
void node::undrain() { runtime_->set_draining(false); }
bool node::draining() const noexcept { return runtime_->draining(); }

namespace {
internal::group_key key_of(std::string_view scope, std::string_view group) {
  return {std::string(scope), std::string(group)};
}
}  // namespace

result<void> node::join_group(std::string_view group, const actor_ref& member, std::string_view scope) {
  return runtime_->groups().join(key_of(scope, group), member);
}
result<void> node::leave_group(std::string_view group, const actor_ref& member, std::string_view scope) {
  return runtime_->groups().leave(key_of(scope, group), member);
}
std::vector<actor_ref> node::group_members(std::string_view group, std::string_view scope) {
  return runtime_->groups().members(key_of(scope, group));
}
std::vector<actor_ref> node::local_group_members(std::string_view group, std::string_view scope) const {
  return runtime_->groups().local_members(key_of(scope, group));
}
std::vector<std::string> node::which_groups(std::string_view scope) const {
  return runtime_->groups().groups(std::string(scope));
}
std::vector<std::pair<std::string, std::string>> node::registered_names() const { return runtime_->registered_names(); }
void node::shutdown() { runtime_->shutdown(); }
void node::wait_for_shutdown() { runtime_->wait_for_shutdown(std::nullopt); }
bool node::wait_for_shutdown(std::chrono::milliseconds timeout) { return runtime_->wait_for_shutdown(timeout); }

result<std::unique_ptr<node>> start_node(node_config config) {
  const std::optional<cluster_condition> ready = config.ready;
  std::unique_ptr<node> started;
  try {
    started.reset(new node(std::make_unique<internal::node_runtime>(std::move(config))));
  } catch (const error& e) {
    return e;
  }
  if (ready) {
    result<void> held = started->wait_for_cluster(*ready);
    if (!held) {
      started->shutdown();
      return held.error_value();
    }
  }
  return started;
}

}  // namespace eam::cluster
