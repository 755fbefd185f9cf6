#include <eam/cluster/errc.hpp>

namespace {
std::string_view cluster_code_name(int code) noexcept {
  switch (static_cast<eam::cluster::cluster_errc>(code)) {
    case eam::cluster::cluster_errc::type_not_registered: return "type_not_registered";
    case eam::cluster::cluster_errc::invalid_config: return "invalid_config";
    case eam::cluster::cluster_errc::node_stopped: return "node_stopped";
    case eam::cluster::cluster_errc::key_not_installed: return "key_not_installed";
    case eam::cluster::cluster_errc::key_is_primary: return "key_is_primary";
    case eam::cluster::cluster_errc::not_a_local_actor: return "not_a_local_actor";
    case eam::cluster::cluster_errc::invalid_group: return "invalid_group";
    case eam::cluster::cluster_errc::not_joined: return "not_joined";
    case eam::cluster::cluster_errc::bad_spawn_arguments: return "bad_spawn_arguments";
    case eam::cluster::cluster_errc::same_node: return "same_node";
    case eam::cluster::cluster_errc::node_draining: return "node_draining";
    case eam::cluster::cluster_errc::undecodable_payload: return "undecodable_payload";
    case eam::cluster::cluster_errc::node_id_in_use: return "node_id_in_use";
  }
  return "unknown";
}
const eam::error_domain cluster_domain{"cluster", &cluster_code_name};
}  // namespace

const eam::error_domain& eam::error_code_enum<eam::cluster::cluster_errc>::domain() noexcept { return cluster_domain; }
