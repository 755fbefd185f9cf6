#pragma once
// The membership protocol's messages and their encoding (msgpack).
//
// A datagram body is one msgpack array of messages; each message is an array whose first
// element is its kind:
//   [ping, seq, target id]                          [indirect_ping, seq, target id, target address]
//   [ack, seq]                                       [nack, seq]
//   [alive, id, incarnation, address, [roles], {metadata}]
//   [suspect, id, incarnation, from]                 [dead, id, incarnation, from]   (from == id: left)
// A state exchange (push-pull, sent over the transport, not UDP) is
//   [state, is_reply, is_join, [[id, incarnation, address, [roles], {metadata}, status]...]]
//
// Everything here is untrusted: sizes and depth are capped, every shape is checked, and a
// datagram stops at its first bad message.
#include <eam/cluster/membership.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster::internal {

enum class gossip_kind : std::uint8_t {
  ping = 0, indirect_ping = 1, ack = 2, nack = 3, alive = 4, suspect = 5, dead = 6, state = 7,
};

/// The most any one text field (node id, address, role, metadata key or value) may hold.
inline constexpr std::size_t max_gossip_text = 1024;
/// The most roles or metadata entries of one member.
inline constexpr std::size_t max_gossip_entries = 64;
/// The most members in one state exchange.
inline constexpr std::size_t max_state_members = 100000;

/// Receives the messages of a decoded datagram body, or of a state exchange.
class gossip_visitor {
 public:
  virtual void on_ping(std::uint64_t seq, std::string_view target) = 0;
  virtual void on_indirect_ping(std::uint64_t seq, std::string_view target, std::string_view target_address) = 0;
  virtual void on_ack(std::uint64_t seq) = 0;
  virtual void on_nack(std::uint64_t seq) = 0;
  virtual void on_alive(member&& m) = 0;
  virtual void on_suspect(std::string_view id, std::uint64_t incarnation, std::string_view from) = 0;
  virtual void on_dead(std::string_view id, std::uint64_t incarnation, std::string_view from) = 0;
  virtual void on_state(bool is_reply, bool is_join, std::vector<member>&& members) = 0;

 protected:
  ~gossip_visitor() = default;
};

struct gossip_decode_outcome {
  std::size_t messages = 0;
  bool bad = false;
  std::string why;
};

/// Decodes a body (what a datagram carries inside its envelope, or a state exchange).
/// Never throws for bad input.
gossip_decode_outcome decode_gossip(std::span<const std::byte> body, gossip_visitor& visitor);

/// One encoded message, to be put into a body (several share one datagram).
using encoded_message = std::vector<std::byte>;

encoded_message encode_ping(std::uint64_t seq, std::string_view target);
encoded_message encode_indirect_ping(std::uint64_t seq, std::string_view target, std::string_view target_address);
encoded_message encode_ack(std::uint64_t seq);
encoded_message encode_nack(std::uint64_t seq);
encoded_message encode_alive(const member& m);
encoded_message encode_suspect(std::string_view id, std::uint64_t incarnation, std::string_view from);
encoded_message encode_dead(std::string_view id, std::uint64_t incarnation, std::string_view from);
/// A full state exchange (one message, its own body).
std::vector<std::byte> encode_state(bool is_reply, bool is_join, const std::vector<member>& members);

/// A body of the given messages, in order.
std::vector<std::byte> make_body(std::span<const encoded_message* const> messages);
/// The bytes a body adds around its messages (the array header), at most.
inline constexpr std::size_t body_overhead = 5;

}  // namespace eam::cluster::internal
