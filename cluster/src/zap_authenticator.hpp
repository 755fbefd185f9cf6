#pragma once
// zap_authenticator: the node's ZAP handler (ZeroMQ RFC 27). libzmq asks it about every
// CURVE handshake on a server socket of its context; without a handler libzmq admits any
// client that speaks CURVE with the server's public key, whatever its own key is.
//
// Protocol: libzmq connects a REQ-like socket to inproc://zeromq.zap.01 in the same context
// and sends, per handshake, the frames
//   version "1.0", request id, domain, address, routing id, mechanism, credentials...
// (for CURVE one credential: the client's 32-byte public key). It waits for
//   version "1.0", request id, status code, status text, user id, metadata
// and completes the handshake only on status "200".
//
// Policy: admit iff the mechanism is CURVE and the client key is in the allowed set (the
// keyring's keys). NULL, PLAIN and unknown keys get 400; a request we cannot read gets 500.
// A NULL socket is only sent here when it sets ZMQ_ZAP_DOMAIN, so open mode (no cookie, no
// domain) does not pass through this handler.
//
// Threads: not thread-safe. One thread (the node's I/O thread) owns the object and its socket,
// polls socket() and calls handle_pending() when it is readable.
// Lifetime: construct it before any CURVE server socket of the context binds (a handshake with
// no handler present is admitted), destroy it before zmq_ctx_term (which waits for its socket).
#include <eam/engine/log.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eam::cluster::internal {

class zap_authenticator {
 public:
  using curve_key = std::array<std::uint8_t, 32>;

  /// Binds the handler's REP socket in `zmq_context`. Throws std::runtime_error when the socket
  /// cannot be made or bound (another handler already serves this context: EADDRINUSE).
  zap_authenticator(void* zmq_context, std::vector<curve_key> allowed_client_keys);
  ~zap_authenticator();
  zap_authenticator(const zap_authenticator&) = delete;
  zap_authenticator& operator=(const zap_authenticator&) = delete;

  /// The REP socket, for the owner's zmq_poll set (ZMQ_POLLIN means requests are waiting).
  [[nodiscard]] void* socket() const noexcept { return socket_; }
  /// Answers every request waiting now; never blocks.
  void handle_pending();
  /// Replaces the admitted client keys (key rotation); later handshakes see the new set,
  /// connections already admitted stay up.
  void set_allowed(std::vector<curve_key> allowed_client_keys);

  [[nodiscard]] std::uint64_t admitted() const noexcept { return admitted_; }
  /// Handshakes answered with anything but 200 (400 and 500).
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }

 private:
  struct verdict {
    std::string_view code;  // "200", "400" or "500"
    std::string_view text;
  };
  struct report {
    std::chrono::steady_clock::time_point last;
    std::uint64_t quiet = 0;  // refusals from this address since `last`, not logged
  };

  [[nodiscard]] verdict judge(const std::vector<std::string>& request, const std::optional<curve_key>& key) const;
  void reply(const std::vector<std::string>& request, const verdict& v, std::string_view user_id);
  void log_refusal(const std::vector<std::string>& request, const std::optional<curve_key>& key, const verdict& v);
  [[nodiscard]] std::optional<std::uint64_t> take_report_slot(const std::string& address);

  void* socket_ = nullptr;
  std::vector<curve_key> allowed_;
  std::uint64_t admitted_ = 0;
  std::uint64_t refused_ = 0;
  // Refusals are logged at most once per address per minute: a node with a stale cookie is
  // refused on every connection it tries and would otherwise fill the log. Bounded (see
  // take_report_slot).
  std::unordered_map<std::string, report> reports_;
  eam::log::logger log_{"cluster.auth"};
};

}  // namespace eam::cluster::internal
