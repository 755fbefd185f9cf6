#include "gossip_envelope.hpp"

#include <sodium.h>

#include <cstring>

namespace eam::cluster::internal {

namespace {

constexpr std::uint8_t signed_flag = 1;

std::array<std::uint8_t, 32> mac_of(const gossip_key& key, std::span<const std::byte> bytes) {
  std::array<std::uint8_t, 32> mac{};
  crypto_auth_hmacsha256(mac.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), key.data());
  return mac;
}

}  // namespace

std::vector<std::byte> seal_datagram(std::span<const std::byte> body, const gossip_key* key, std::int64_t now_ms,
                                     const nonce_t& nonce) {
  std::vector<std::byte> out(envelope_header_bytes + body.size() + (key != nullptr ? envelope_mac_bytes : 0));
  out[0] = std::byte{gossip_version};
  out[1] = std::byte{key != nullptr ? signed_flag : std::uint8_t{0}};
  const auto stamp = static_cast<std::uint64_t>(now_ms);
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::byte>(stamp >> (56 - 8 * i));
  std::memcpy(out.data() + 10, nonce.data(), nonce.size());
  if (!body.empty()) std::memcpy(out.data() + envelope_header_bytes, body.data(), body.size());
  if (key != nullptr) {
    const std::size_t signed_bytes = envelope_header_bytes + body.size();
    const auto mac = mac_of(*key, std::span(out).first(signed_bytes));
    std::memcpy(out.data() + signed_bytes, mac.data(), mac.size());
  }
  return out;
}

std::size_t replay_guard::nonce_hash::operator()(const nonce_t& n) const noexcept {
  std::uint64_t a, b;  // random bytes: any 8 of them hash well
  std::memcpy(&a, n.data(), 8);
  std::memcpy(&b, n.data() + 8, 8);
  return static_cast<std::size_t>(a ^ (b * 0x9e3779b97f4a7c15ull));
}

bool replay_guard::fresh(std::int64_t sent_ms, std::int64_t now_ms) const noexcept {
  const std::int64_t skew = sent_ms > now_ms ? sent_ms - now_ms : now_ms - sent_ms;
  return skew <= window_ms_;
}

bool replay_guard::first_time(const nonce_t& nonce, std::int64_t now_ms) {
  // A nonce is kept for 2 windows: a datagram accepted now stays fresh for one window at most
  // (stamped up to one window ahead of this clock), so its replay can never find it forgotten.
  while (!by_expiry_.empty() && (by_expiry_.front().first <= now_ms || by_expiry_.size() >= most_)) {
    seen_.erase(by_expiry_.front().second);
    by_expiry_.pop_front();
  }
  if (!seen_.insert(nonce).second) return false;
  by_expiry_.emplace_back(now_ms + 2 * window_ms_, nonce);
  return true;
}

open_outcome open_datagram(std::span<const std::byte> datagram, std::span<const gossip_key> keys, std::int64_t now_ms,
                           replay_guard& guard, std::span<const std::byte>& body) {
  if (datagram.size() < envelope_header_bytes || datagram.size() > max_datagram_bytes ||
      datagram[0] != std::byte{gossip_version})
    return open_outcome::malformed;
  const auto flags = static_cast<std::uint8_t>(datagram[1]);
  if ((flags & ~signed_flag) != 0) return open_outcome::malformed;
  const bool is_signed = (flags & signed_flag) != 0;
  if (is_signed != !keys.empty()) return open_outcome::unsigned_refused;
  std::size_t end = datagram.size();
  if (is_signed) {
    if (datagram.size() < envelope_header_bytes + envelope_mac_bytes) return open_outcome::malformed;
    end -= envelope_mac_bytes;
    const auto* mac = reinterpret_cast<const unsigned char*>(datagram.data() + end);
    bool verified = false;
    for (const gossip_key& key : keys)
      if (crypto_auth_hmacsha256_verify(mac, reinterpret_cast<const unsigned char*>(datagram.data()), end,
                                        key.data()) == 0) {
        verified = true;
        break;
      }
    if (!verified) return open_outcome::forged;
  }
  std::uint64_t stamp = 0;
  for (int i = 0; i < 8; ++i) stamp = (stamp << 8) | static_cast<std::uint8_t>(datagram[2 + i]);
  if (stamp > static_cast<std::uint64_t>(INT64_MAX) || !guard.fresh(static_cast<std::int64_t>(stamp), now_ms))
    return open_outcome::stale;
  nonce_t nonce;
  std::memcpy(nonce.data(), datagram.data() + 10, nonce.size());
  if (!guard.first_time(nonce, now_ms)) return open_outcome::replayed;
  body = datagram.subspan(envelope_header_bytes, end - envelope_header_bytes);
  return open_outcome::ok;
}

}  // namespace eam::cluster::internal
