#pragma once
// config_check: what a node_config must hold before a node starts, and which of its settings
// break it, so that the node's refusal names them with their values (node_runtime) and a config
// file points at the key and line that set them (config_file.cpp).
#include <eam/cluster/node.hpp>

#include <optional>
#include <string>
#include <vector>

namespace eam::cluster::internal {

/// A setting out of range.
struct config_problem {
  /// The node_config fields involved, by their names (`membership.probe_timeout`), the one to
  /// change first: a config file names them with `_ms` for durations.
  std::vector<std::string> fields;
  /// Why, naming those fields with their values.
  std::string why;
};

/// The first problem of `c`, or nothing. `cookie` is the cookie the node will use (the
/// config's, or LIBEAM_COOKIE's).
std::optional<config_problem> check_node_config(const node_config& c, const std::optional<std::string>& cookie);

}  // namespace eam::cluster::internal
