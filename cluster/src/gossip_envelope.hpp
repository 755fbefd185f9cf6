#pragma once
// The envelope of every membership datagram: a signature over all of it, with a timestamp and
// a nonce so that a captured datagram cannot be played again.
//
//   byte 0      version (1)
//   byte 1      flags: bit 0 set when signed
//   bytes 2-9   sender's clock, milliseconds since the Unix epoch, big-endian
//   bytes 10-25 nonce: 16 random bytes
//   then        the body (gossip_wire.hpp)
//   last 32     HMAC-SHA256(gossip key, every byte before it), when signed
//
// A node with a cookie signs with its primary key and accepts any key of its keyring; it
// refuses unsigned datagrams. A node in open mode neither signs nor accepts signed ones (two
// such clusters must not merge by accident). Timestamps outside the replay window are
// refused as stale, and a nonce seen within twice the window as a replay; nonces are
// remembered only once their signature checked, so a forger cannot fill the memory.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_set>
#include <vector>

namespace eam::cluster::internal {

inline constexpr std::uint8_t gossip_version = 1;
inline constexpr std::size_t envelope_header_bytes = 26;
inline constexpr std::size_t envelope_mac_bytes = 32;
/// The largest datagram sent or accepted (UDP's limit over IPv4 is 65,507).
inline constexpr std::size_t max_datagram_bytes = 65000;

using gossip_key = std::array<std::uint8_t, 32>;
using nonce_t = std::array<std::uint8_t, 16>;

/// Wraps `body`: signed with `key` when there is one.
std::vector<std::byte> seal_datagram(std::span<const std::byte> body, const gossip_key* key, std::int64_t now_ms,
                                     const nonce_t& nonce);

enum class open_outcome : std::uint8_t { ok, malformed, unsigned_refused, forged, stale, replayed };

/// Remembers the nonces of accepted datagrams for twice the window.
class replay_guard {
 public:
  explicit replay_guard(std::chrono::milliseconds window, std::size_t most = 1u << 20)
      : window_ms_(window.count()), most_(most) {}
  /// Whether a datagram stamped `sent_ms` may be accepted at `now_ms` (within the window).
  [[nodiscard]] bool fresh(std::int64_t sent_ms, std::int64_t now_ms) const noexcept;
  /// Records `nonce`; false when it was seen already.
  bool first_time(const nonce_t& nonce, std::int64_t now_ms);
  [[nodiscard]] std::size_t remembered() const noexcept { return seen_.size(); }

 private:
  struct nonce_hash {
    std::size_t operator()(const nonce_t& n) const noexcept;
  };
  std::int64_t window_ms_;
  std::size_t most_;
  std::unordered_set<nonce_t, nonce_hash> seen_;
  std::deque<std::pair<std::int64_t, nonce_t>> by_expiry_;
};

/// Checks a datagram and, when it is acceptable, sets `body` to what it carries. `keys` empty
/// means open mode.
open_outcome open_datagram(std::span<const std::byte> datagram, std::span<const gossip_key> keys, std::int64_t now_ms,
                           replay_guard& guard, std::span<const std::byte>& body);

}  // namespace eam::cluster::internal
