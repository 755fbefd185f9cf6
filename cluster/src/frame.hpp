#pragma once
// The wire format between two nodes. A ZeroMQ message is one frame:
//
//   byte 0: version (5)    byte 1: kind    then, by kind:
//   hello      one msgpack array [node id, incarnation, address]
//   data       msgpack items one after another, each an array whose first element is its kind:
//                [cast, target, wire name, payload]      [call, target, request, wire name, payload]
//                [reply, request, wire name, payload]    [reply_error, request, error]
//                [monitor, target]                       [down, actor, exit reason]
//                [exit, target, from ref, exit reason]   [lookup, request, name, [[message, reply]...]]
//                [lookup_reply, request, actor or 0, why] [moved, actor, new ref, node]
//                [cancel, request]: the caller of the sender's call `request` gave up
//                [demonitor, target]: one of the sender's monitors of `target` is no longer needed
//                [link, target, from ref, 1 or 0]: `from` linked itself to (or unlinked from) the
//                sender's proxy of `target`
//                [where, node id, incarnation]: a ref from the receiver named that life of a node
//                the sender is not connected to: where does it listen?
//                [node_at, node id, incarnation, address]: the answer, from a node connected to it
//   heartbeat  nothing       leave   nothing
//   gossip_state  a membership state exchange      rekey_request  a key fingerprint
//   rekey_barrier nothing                          names  a registry message (names_wire.hpp)
//   groups  a process groups message (groups_wire.hpp)
//   refused    [reason, refusing node id, address]: a listener's answer to a hello it refused,
//              sent back on that connection (the only frame a listener sends to a dialler)
//
// Everything here is untrusted input: the decoder caps sizes and depth (msgpack unpack_limit),
// checks every shape, and stops a frame at its first bad item (what follows cannot be framed).
#include "wire_registry.hpp"

#include <eam/engine/any_message.hpp>
#include <eam/engine/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eam::cluster::internal {

// 2: the cancel item; 3: the demonitor item; 4: the link item; 5: the where and node_at items;
// 6: a hello's session and ended session. A node of an older version would refuse a frame
// holding one as bad and drop the rest of it, so two versions refuse each other's frames whole
// instead (a bad frame each).
inline constexpr std::uint8_t wire_version = 6;
inline constexpr std::size_t frame_header_bytes = 2;  // version, kind
enum class frame_kind : std::uint8_t {
  hello = 1, data = 2, heartbeat = 3, leave = 4,
  // Membership and keyring, read by the node before the data decoder (never decoded by it):
  gossip_state = 5,   // a push-pull state exchange (gossip_wire.hpp) after the two bytes
  rekey_request = 6,  // "this node re-keys its listener to the key with this fingerprint"
  rekey_barrier = 7,  // "nothing more from me on this connection: I reconnect with your new key"
  names = 8,          // the distributed registry (names_wire.hpp) after the two bytes
  groups = 9,         // distributed process groups (groups_wire.hpp) after the two bytes
  refused = 10,       // a listener refused the dialler's hello (refusal below); read by diallers only
};
enum class item_kind : std::uint8_t {
  cast = 0,
  call = 1,
  reply = 2,
  reply_error = 3,
  monitor = 4,
  down = 5,
  exit = 6,
  lookup = 7,
  lookup_reply = 8,
  moved = 9,       // a watched actor migrated: [9, id, new ref, node]
  cancel = 10,     // the caller of the sender's call `request` to us gave up: [10, request]
  demonitor = 11,  // the sender ended a proxy of `target` that monitored it: [11, target]
  link = 12,       // an actor linked to (1) or unlinked from (0) a proxy of `target`: [12, target, ref, 1]
  where = 13,      // where does this life of a node listen? [13, node, incarnation]
  node_at = 14,    // it listens at this address: [14, node, incarnation, "host:port"]
};

struct hello {
  std::string node;
  std::uint64_t incarnation = 0;
  std::string address;
  /// The sender's session with the listener's node: a number it gave its connection to that
  /// node when it took the listener's own hello, 0 before (said again on the link then).
  std::uint64_t session = 0;
  /// The sender's last session with the node at this address that it ended (the node went
  /// down for it: silent, declared failed, its connection lost), 0 when none. A listener still
  /// holding that session missed the end (its `leave` lost in a full pipe, or sent while the
  /// listener was paused) and ends it too; else each side would hear only half of the other.
  std::uint64_t ended = 0;
};

/// Why a listener refused a hello. A node of an older version never reads what comes back on
/// its dialled connections, so a new reason needs no new wire version.
enum class refusal_reason : std::uint8_t {
  /// The listener is connected to another life of the dialler's node id, heard from lately:
  /// `address` is where that one is.
  node_id_in_use = 1,
};

struct refusal {
  refusal_reason reason = refusal_reason::node_id_in_use;
  std::string by;       ///< the refusing node's id
  std::string address;  ///< by reason: where the node id's holder is
};
/// A refused frame is far smaller (a node id of at most 200 bytes, an address of at most 255):
/// a dialler's connection takes nothing larger (ZMQ_MAXMSGSIZE).
inline constexpr std::size_t refusal_frame_max_bytes = 1024;

/// A signature by wire names (reply empty for a cast).
using wire_signature = std::pair<std::string, std::string>;

/// Receives the items of decoded frames. Refs inside payloads are resolved while decoding,
/// through the ref resolver installed on the decoding thread (ref_resolver.hpp).
class frame_visitor {
 public:
  virtual void on_hello(hello&& h) = 0;
  virtual void on_heartbeat() = 0;
  virtual void on_leave() = 0;
  virtual void on_cast(std::uint64_t target, message&& m) = 0;
  virtual void on_call(std::uint64_t target, std::uint64_t request, message&& m) = 0;
  /// The answer to one of our calls: a value, or an eam::error (reply_error).
  virtual void on_reply(std::uint64_t request, message&& m) = 0;
  virtual void on_monitor(std::uint64_t target) = 0;
  /// The sender takes back one of its monitors of `target` (a proxy of it that nothing referred to).
  virtual void on_demonitor(std::uint64_t target) = 0;
  virtual void on_down(std::uint64_t actor, exit_reason&& reason) = 0;
  /// A monitored actor of the sender moved to `node` and lives on as `to` (migration).
  virtual void on_moved(std::uint64_t actor, actor_ref&& to, std::string&& node) = 0;
  virtual void on_exit(std::uint64_t target, actor_ref&& from, exit_reason&& reason) = 0;
  /// `from`, an actor of the sender, linked itself to the sender's proxy of `target` (or took
  /// that link back): the link is made here too, between `target` and this node's proxy of
  /// `from`, so that either end reaches the other as a link's exit.
  virtual void on_link(std::uint64_t target, actor_ref&& from, bool linked) = 0;
  virtual void on_lookup(std::uint64_t request, std::string&& name, std::vector<wire_signature>&& sigs) = 0;
  virtual void on_lookup_reply(std::uint64_t request, std::uint64_t actor, std::string&& why) = 0;
  /// The sender's caller of its call `request` (one we answer) stopped waiting.
  virtual void on_cancel(std::uint64_t request) = 0;
  /// A ref this node sent named life `incarnation` of `node`, which the sender is not
  /// connected to: it asks where that node listens.
  virtual void on_where(std::string&& node, std::uint64_t incarnation) = 0;
  /// The answer to one of this node's `where` items: that life of `node` listens at `address`
  /// (printable host:port, checked).
  virtual void on_node_at(std::string&& node, std::uint64_t incarnation, std::string&& address) = 0;
  /// A cast, call or reply whose wire type is not registered here (the item is otherwise well
  /// formed, so the frame goes on): a call must be answered with an error.
  virtual void on_unknown_type(item_kind kind, std::uint64_t request, std::string_view wire_name) = 0;
  /// A cast, call or reply whose payload this node cannot take (over its limits, or not in the
  /// shape of its wire type here), though it is whole: it is refused alone and the frame goes
  /// on, and a call must be answered with an error.
  virtual void on_undecodable_payload(item_kind kind, std::uint64_t request, std::string_view wire_name,
                                      std::string_view why) = 0;

 protected:
  ~frame_visitor() = default;
};

struct decode_outcome {
  std::size_t items = 0;
  bool bad = false;   ///< the frame (or an item of it) was malformed; the rest was dropped
  std::string why;    ///< what was wrong, for the log
};

/// Decodes one frame. Never throws for bad input; a visitor's own exception propagates.
decode_outcome decode_frame(std::span<const std::byte> frame, frame_visitor& visitor);

// -- encoding ---------------------------------------------------------------------------------

using packer = detail::wire_packer;

using detail::frame_buffer;

void write_header(frame_buffer& out, frame_kind kind);
void pack_hello(frame_buffer& out, const hello& h);
void pack_refusal(frame_buffer& out, const refusal& r);
/// Decodes a refused frame (what a dialled connection carries back). Never throws; `bad` with
/// its reason for anything else or a malformed one.
decode_outcome decode_refusal(std::span<const std::byte> frame, refusal& out);
void pack_cast(packer& pk, std::uint64_t target, const wire_type& t, const void* payload);
void pack_call(packer& pk, std::uint64_t target, std::uint64_t request, const wire_type& t, const void* payload);
void pack_reply(packer& pk, std::uint64_t request, const wire_type& t, const void* payload);
void pack_reply_error(packer& pk, std::uint64_t request, const error& e);
void pack_monitor(packer& pk, std::uint64_t target);
void pack_demonitor(packer& pk, std::uint64_t target);
void pack_down(packer& pk, std::uint64_t actor, const exit_reason& reason);
void pack_moved(packer& pk, std::uint64_t actor, const actor_ref& to, std::string_view node);
void pack_exit(packer& pk, std::uint64_t target, const actor_ref& from, const exit_reason& reason);
void pack_link(packer& pk, std::uint64_t target, const actor_ref& from, bool linked);
void pack_lookup(packer& pk, std::uint64_t request, std::string_view name, const std::vector<wire_signature>& sigs);
void pack_lookup_reply(packer& pk, std::uint64_t request, std::uint64_t actor, std::string_view why);
void pack_cancel(packer& pk, std::uint64_t request);
void pack_where(packer& pk, std::string_view node, std::uint64_t incarnation);
void pack_node_at(packer& pk, std::string_view node, std::uint64_t incarnation, std::string_view address);

}  // namespace eam::cluster::internal
