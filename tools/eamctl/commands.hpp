#pragma once
// eamctl's commands: each prints its result on stdout and returns the process's exit status
// (0: done; 1: done in part, as evacuate with failures). They throw command_error when they
// cannot go on.
#include "operator_node.hpp"
#include "options.hpp"

namespace eamctl {

int run_nodes(operator_node& op);
int run_info(operator_node& op, const std::string& node);
int run_actors(operator_node& op, const std::string& node, std::uint32_t limit);
int run_drain(operator_node& op, const std::string& node, bool drain);
int run_migrate(operator_node& op, const std::string& node, const std::string& name, const std::string& to);
int run_evacuate(operator_node& op, const std::string& node, const std::string& to);
int run_stop(operator_node& op, const std::string& node);
/// info and actors together, again every `interval`, `count` times (0: until interrupted).
int run_top(operator_node& op, const std::string& node, std::uint32_t limit, std::chrono::milliseconds interval,
            std::uint32_t count);
int run_deploy(operator_node& op, const std::vector<std::string>& nodes, std::chrono::milliseconds rejoin_timeout,
               std::chrono::milliseconds forward_wait);

/// `eamctl start CONFIG`: runs the node the file describes until it is stopped.
int run_start(const std::string& config_path);

}  // namespace eamctl
