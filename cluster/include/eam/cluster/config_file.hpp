#pragma once
/// A node's configuration from a TOML file, for a program that starts its node from one (and
/// for `eamctl start`). Every key is optional and named as in node_config; durations are
/// whole milliseconds under a name ending in `_ms`:
///
///   node_id = "worker-1"
///   port = 4370
///   seeds = ["10.0.0.1:4370", "10.0.0.2:4370"]
///   roles = ["worker"]
///   cookie_file = "/etc/myapp/cookie"    # or cookie = "...", or LIBEAM_COOKIE
///   heartbeat_interval_ms = 1000
///   [metadata]
///   zone = "eu-1"
///   [membership]
///   probe_interval_ms = 1000
///   [system]
///   workers = 4
///   [ready]                              # start_node returns once this holds
///   min_members = 3
///   timeout_ms = 30000
///
/// A key this reader does not know, or a value of the wrong type or range, is an error
/// (invalid_config, the context naming the key and its line): a misspelt key is never read as
/// its default.

#include <eam/cluster/node.hpp>
#include <eam/engine/result.hpp>

#include <string>
#include <string_view>

namespace eam::cluster {

/// The configuration `toml` describes; `source` names it in errors (a file's path).
result<node_config> parse_node_config(std::string_view toml, std::string_view source = "config");
/// The configuration in the file at `path`. A `cookie_file` is read relative to the file's
/// folder; its content, without the line's end, is the cookie.
result<node_config> load_node_config(const std::string& path);

}  // namespace eam::cluster
