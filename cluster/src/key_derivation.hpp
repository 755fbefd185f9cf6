#pragma once
// key_derivation: every key a node uses comes from the cluster cookie, so nodes that share a
// cookie agree on their keys without exchanging them (CLUSTER.md, "Authentication and keys").
//
//   PRK          = HKDF-Extract(salt, cookie)                       salt "libeam-v2" by default
//   gossip_key   = HKDF-Expand(PRK, "libeam gossip hmac v1", 32)    HMAC key for membership
//   curve seed   = HKDF-Expand(PRK, "libeam curve keypair v1", 32)  -> Curve25519 key pair
//
// HKDF-SHA256 is RFC 5869 built on libsodium's HMAC-SHA256: Debian's libsodium 1.0.18 has no
// crypto_kdf_hkdf_* (it arrived in 1.0.19). Distinct `info` strings keep the two outputs
// independent; the "v1" in them lets a later scheme derive new keys from the same cookie.
//
// Thread-safe, never blocks; every function may be called from any thread.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace eam::cluster::internal {

/// RFC 5869 HKDF-Extract with SHA-256: PRK = HMAC-SHA256(salt, ikm). An empty salt means
/// 32 zero bytes, as the RFC says.
[[nodiscard]] std::array<std::uint8_t, 32> hkdf_sha256_extract(std::span<const std::uint8_t> salt,
                                                              std::span<const std::uint8_t> ikm);

/// RFC 5869 HKDF-Expand with SHA-256: fills `out` (at most 255 * 32 bytes, else
/// std::invalid_argument) from the pseudorandom key `prk` and the context string `info`.
void hkdf_sha256_expand(std::span<const std::uint8_t, 32> prk, std::span<const std::uint8_t> info,
                        std::span<std::uint8_t> out);

/// A short, non-secret name for a Curve public key, for logs and keyring listings: the first
/// 8 bytes of SHA-256(public_key) in lowercase hex (16 characters).
[[nodiscard]] std::string key_fingerprint(std::span<const std::uint8_t, 32> public_key);

/// The Z85 text form ZeroMQ uses for 32-byte Curve keys (40 characters).
[[nodiscard]] std::string z85_encode(std::span<const std::uint8_t, 32> key);

/// The keys derived from one cookie. The secrets are wiped when a copy is destroyed.
struct cluster_keys {
  std::array<std::uint8_t, 32> gossip_key{};    // secret: signs membership datagrams
  std::array<std::uint8_t, 32> curve_public{};  // CurveZMQ public key (Curve25519)
  std::array<std::uint8_t, 32> curve_secret{};  // CurveZMQ secret key

  cluster_keys() = default;
  cluster_keys(const cluster_keys&) = default;
  cluster_keys& operator=(const cluster_keys&) = default;
  ~cluster_keys();

  /// key_fingerprint(curve_public): names this key set without revealing it.
  [[nodiscard]] std::string fingerprint() const;
};

/// Derives the gossip key and the Curve key pair from `cookie` (see the top of this file).
/// Deterministic: the same cookie and salt give the same keys on every node.
[[nodiscard]] cluster_keys derive_cluster_keys(std::string_view cookie, std::string_view salt = "libeam-v2");

}  // namespace eam::cluster::internal
