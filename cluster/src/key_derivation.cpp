#include "key_derivation.hpp"

#include <sodium.h>
#include <zmq.h>

#include <algorithm>
#include <stdexcept>

namespace eam::cluster::internal {

namespace {

constexpr std::size_t hash_len = crypto_auth_hmacsha256_BYTES;  // 32
static_assert(hash_len == 32 && crypto_box_PUBLICKEYBYTES == 32 && crypto_box_SECRETKEYBYTES == 32 &&
              crypto_box_SEEDBYTES == 32);

// sodium_init is idempotent and thread-safe; the static makes every later call free.
void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium could not be initialised");
}

std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Wipes a secret on every path out of a scope, exceptions included.
template <class T>
class wipe_on_exit {
 public:
  explicit wipe_on_exit(T& secret) noexcept : secret_(secret) {}
  wipe_on_exit(const wipe_on_exit&) = delete;
  wipe_on_exit& operator=(const wipe_on_exit&) = delete;
  ~wipe_on_exit() { sodium_memzero(&secret_, sizeof secret_); }

 private:
  T& secret_;
};

}  // namespace

std::array<std::uint8_t, 32> hkdf_sha256_extract(std::span<const std::uint8_t> salt,
                                                 std::span<const std::uint8_t> ikm) {
  ensure_sodium();
  // RFC 5869 2.2: a missing salt is HashLen zeros. HMAC pads any key to the block size with
  // zeros, so an empty key would give the same result; the explicit zeros just follow the text.
  static constexpr std::array<std::uint8_t, hash_len> zero_salt{};
  if (salt.empty()) salt = zero_salt;
  std::array<std::uint8_t, 32> prk{};
  crypto_auth_hmacsha256_state state;
  wipe_on_exit wipe_state(state);
  crypto_auth_hmacsha256_init(&state, salt.data(), salt.size());
  crypto_auth_hmacsha256_update(&state, ikm.data(), ikm.size());
  crypto_auth_hmacsha256_final(&state, prk.data());
  return prk;
}

void hkdf_sha256_expand(std::span<const std::uint8_t, 32> prk, std::span<const std::uint8_t> info,
                        std::span<std::uint8_t> out) {
  if (out.size() > 255 * hash_len) throw std::invalid_argument("HKDF-SHA256 output is limited to 8160 bytes");
  ensure_sodium();
  // T(0) = empty; T(i) = HMAC(PRK, T(i-1) | info | i); OKM = the first L bytes of T(1) | T(2) | ...
  std::array<std::uint8_t, hash_len> block{};
  wipe_on_exit wipe_block(block);
  crypto_auth_hmacsha256_state state;
  wipe_on_exit wipe_state(state);
  std::size_t done = 0;
  for (std::uint8_t counter = 1; done < out.size(); ++counter) {
    crypto_auth_hmacsha256_init(&state, prk.data(), prk.size());
    if (counter > 1) crypto_auth_hmacsha256_update(&state, block.data(), block.size());
    crypto_auth_hmacsha256_update(&state, info.data(), info.size());
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, block.data());
    const std::size_t n = std::min(hash_len, out.size() - done);
    std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

std::string key_fingerprint(std::span<const std::uint8_t, 32> public_key) {
  ensure_sodium();
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), public_key.data(), public_key.size());
  constexpr std::size_t shown = 8;  // 64 bits: enough to tell keys apart in logs and listings
  char hex[shown * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest.data(), shown);
  return std::string(hex, shown * 2);
}

std::string z85_encode(std::span<const std::uint8_t, 32> key) {
  char text[41];  // Z85 turns every 4 bytes into 5 characters, plus the terminator
  if (zmq_z85_encode(text, key.data(), key.size()) == nullptr) throw std::logic_error("zmq_z85_encode failed");
  return std::string(text, 40);
}

cluster_keys::~cluster_keys() {
  sodium_memzero(gossip_key.data(), gossip_key.size());
  sodium_memzero(curve_secret.data(), curve_secret.size());
}

std::string cluster_keys::fingerprint() const { return key_fingerprint(curve_public); }

cluster_keys derive_cluster_keys(std::string_view cookie, std::string_view salt) {
  ensure_sodium();
  std::array<std::uint8_t, 32> prk = hkdf_sha256_extract(bytes_of(salt), bytes_of(cookie));
  wipe_on_exit wipe_prk(prk);
  cluster_keys keys;
  hkdf_sha256_expand(prk, bytes_of("libeam gossip hmac v1"), keys.gossip_key);
  std::array<std::uint8_t, crypto_box_SEEDBYTES> seed{};
  wipe_on_exit wipe_seed(seed);
  hkdf_sha256_expand(prk, bytes_of("libeam curve keypair v1"), seed);
  // ZeroMQ's CURVE mechanism uses crypto_box (Curve25519) keys, so libsodium's seeded key pair
  // is exactly what zmq_setsockopt(ZMQ_CURVE_*KEY) expects.
  crypto_box_seed_keypair(keys.curve_public.data(), keys.curve_secret.data(), seed.data());
  return keys;
}

}  // namespace eam::cluster::internal
