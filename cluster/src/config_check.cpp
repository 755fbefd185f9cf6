#include "config_check.hpp"

#include "gossip_envelope.hpp"

#include <algorithm>
#include <chrono>

namespace eam::cluster::internal {

namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::optional<config_problem> check_membership(const membership_config& m) {
  const auto problem = [](std::vector<std::string> fields, std::string why) {
    return std::optional<config_problem>(config_problem{std::move(fields), std::move(why)});
  };
  if (m.probe_interval.count() <= 0)
    return problem({"membership.probe_interval"}, "membership.probe_interval must be positive, not " + ms(m.probe_interval));
  if (m.probe_timeout.count() <= 0 || m.probe_timeout >= m.probe_interval)
    return problem({"membership.probe_timeout", "membership.probe_interval"},
                   "membership.probe_timeout (" + ms(m.probe_timeout) + ") must be positive and below membership.probe_interval (" +
                       ms(m.probe_interval) + ")");
  const std::pair<const char*, std::chrono::milliseconds> intervals[] = {
      {"membership.gossip_interval", m.gossip_interval},
      {"membership.push_pull_interval", m.push_pull_interval},
      {"membership.reconnect_interval", m.reconnect_interval},
      {"membership.join_retry", m.join_retry}};
  for (const auto& [name, value] : intervals)
    if (value.count() <= 0) return problem({name}, std::string(name) + " must be positive, not " + ms(value));
  if (m.indirect_checks < 0)
    return problem({"membership.indirect_checks"},
                   "membership.indirect_checks must not be negative, not " + std::to_string(m.indirect_checks));
  const std::pair<const char*, int> counts[] = {{"membership.gossip_nodes", m.gossip_nodes},
                                                {"membership.retransmit_mult", m.retransmit_mult},
                                                {"membership.suspicion_mult", m.suspicion_mult},
                                                {"membership.suspicion_max_timeout_mult", m.suspicion_max_timeout_mult},
                                                {"membership.awareness_max_multiplier", m.awareness_max_multiplier}};
  for (const auto& [name, value] : counts)
    if (value < 1) return problem({name}, std::string(name) + " must be at least 1, not " + std::to_string(value));
  if (m.datagram_budget < 512 || m.datagram_budget > max_datagram_bytes)
    return problem({"membership.datagram_budget"}, "membership.datagram_budget must be within [512, " +
                                                       std::to_string(max_datagram_bytes) + "], not " +
                                                       std::to_string(m.datagram_budget));
  return std::nullopt;
}

}  // namespace

std::optional<config_problem> check_node_config(const node_config& c, const std::optional<std::string>& cookie) {
  if (c.node_id.size() > 200)
    return config_problem{{"node_id"}, "node_id has at most 200 characters, not " + std::to_string(c.node_id.size())};
  // A hello and a membership state must fit; a smaller limit also made the per-item check's
  // bound (the limit less the frame's header) wrap round.
  if (c.max_frame_bytes < 1024)
    return config_problem{{"max_frame_bytes"}, "max_frame_bytes must be at least 1024, not " + std::to_string(c.max_frame_bytes)};
  if (c.heartbeat_interval.count() <= 0)
    return config_problem{{"heartbeat_interval"}, "heartbeat_interval must be positive, not " + ms(c.heartbeat_interval)};
  if (c.heartbeat_timeout <= c.heartbeat_interval)
    return config_problem{{"heartbeat_timeout", "heartbeat_interval"},
                          "heartbeat_timeout (" + ms(c.heartbeat_timeout) + ") must exceed heartbeat_interval (" +
                              ms(c.heartbeat_interval) + ")"};
  if (auto m = check_membership(c.membership)) return m;
  // A seed that is not host:port was dialled as given and never answered: the node ran alone
  // without a word.
  for (const std::string& seed : c.seeds)
    if (!eam::cluster::is_host_port(seed)) return config_problem{{"seeds"}, "seed \"" + seed + "\" is not host:port"};
  if (cookie && cookie->size() < 16)
    return config_problem{{"cookie"}, "a cookie has at least 16 characters, not " + std::to_string(cookie->size())};
  return std::nullopt;
}

}  // namespace eam::cluster::internal

namespace eam::cluster {

bool is_host_port(std::string_view address) noexcept {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  unsigned long n = 0;
  for (const char c : port) n = n * 10 + static_cast<unsigned long>(c - '0');
  return n >= 1 && n <= 65535;
}

}  // namespace eam::cluster
