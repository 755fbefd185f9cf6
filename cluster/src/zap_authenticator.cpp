#include "zap_authenticator.hpp"

#include "key_derivation.hpp"

#include <zmq.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace eam::cluster::internal {

namespace {

constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";  // fixed by RFC 27
// The request's frames, by position (RFC 27).
constexpr std::size_t f_version = 0, f_request_id = 1, f_address = 3, f_mechanism = 5, f_credentials = 6;
// CURVE sends 7 frames, PLAIN 8. Anything past this is kept out of memory: libzmq is the only
// client of an inproc endpoint, but a malformed request must cost nothing.
constexpr std::size_t max_frames = 8;
constexpr std::size_t max_frame_size = 256;

constexpr auto report_window = std::chrono::minutes(1);
constexpr std::size_t max_reported_addresses = 1024;

// RAII for one zmq_msg_t, reused across frames.
class message {
 public:
  message() noexcept { zmq_msg_init(&msg_); }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message() { zmq_msg_close(&msg_); }
  zmq_msg_t* get() noexcept { return &msg_; }

 private:
  zmq_msg_t msg_;
};

// Reads one whole request without blocking; empty when none is waiting. A multipart message
// arrives atomically, so once its first frame is here the rest is too.
std::vector<std::string> receive_request(void* socket) {
  std::vector<std::string> frames;
  message msg;
  bool more = true;
  for (bool first = true; more; first = false) {
    if (zmq_msg_recv(msg.get(), socket, ZMQ_DONTWAIT) < 0) {
      if (first) return {};
      break;  // cannot happen (see above); the partial request is answered as malformed
    }
    if (frames.size() < max_frames) {
      const std::size_t n = std::min(zmq_msg_size(msg.get()), max_frame_size);
      frames.emplace_back(static_cast<const char*>(zmq_msg_data(msg.get())), n);
    }
    more = zmq_msg_more(msg.get()) != 0;
  }
  return frames;
}

std::string_view frame(const std::vector<std::string>& request, std::size_t i) noexcept {
  return i < request.size() ? std::string_view(request[i]) : std::string_view();
}

// The client's public key, when `request` carries exactly one 32-byte CURVE credential.
std::optional<zap_authenticator::curve_key> curve_client_key(const std::vector<std::string>& request) {
  if (request.size() != f_credentials + 1 || request[f_mechanism] != "CURVE") return std::nullopt;
  const std::string& credential = request[f_credentials];
  zap_authenticator::curve_key key;
  if (credential.size() != key.size()) return std::nullopt;
  std::memcpy(key.data(), credential.data(), key.size());
  return key;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

zap_authenticator::zap_authenticator(void* zmq_context, std::vector<curve_key> allowed_client_keys)
    : allowed_(std::move(allowed_client_keys)) {
  socket_ = zmq_socket(zmq_context, ZMQ_REP);
  if (socket_ == nullptr) throw std::runtime_error(fmt::format("ZAP handler socket: {}", zmq_strerror(zmq_errno())));
  // Unanswered replies are worthless once the handler goes; closing must not wait for them.
  const int linger = 0;
  zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_bind(socket_, zap_endpoint) != 0) {
    const int err = zmq_errno();
    zmq_close(socket_);
    throw std::runtime_error(fmt::format("ZAP handler bind {}: {}", zap_endpoint, zmq_strerror(err)));
  }
}

zap_authenticator::~zap_authenticator() { zmq_close(socket_); }

void zap_authenticator::set_allowed(std::vector<curve_key> allowed_client_keys) {
  allowed_ = std::move(allowed_client_keys);
}

void zap_authenticator::handle_pending() {
  for (;;) {
    // Every request gets a reply, malformed ones too: libzmq waits for it, and a REP socket
    // may not receive again before it has answered.
    const std::vector<std::string> request = receive_request(socket_);
    if (request.empty()) return;
    const std::optional<curve_key> key = curve_client_key(request);
    const verdict v = judge(request, key);
    if (v.code == "200") {
      ++admitted_;
      // The user id becomes the "User-Id" property of every message from this peer, so the
      // transport can tell which keyring key it used; the fingerprint names it.
      reply(request, v, key_fingerprint(*key));
    } else {
      ++refused_;
      log_refusal(request, key, v);
      reply(request, v, {});
    }
  }
}

zap_authenticator::verdict zap_authenticator::judge(const std::vector<std::string>& request,
                                                    const std::optional<curve_key>& key) const {
  if (request.size() <= f_mechanism || request[f_version] != "1.0") return {"500", "malformed ZAP request"};
  if (request[f_mechanism] != "CURVE") return {"400", "only CURVE is accepted"};
  if (!key) return {"500", "malformed CURVE credentials"};
  // Public keys, so a plain comparison: timing reveals nothing secret.
  const bool known = std::find(allowed_.begin(), allowed_.end(), *key) != allowed_.end();
  return known ? verdict{"200", "OK"} : verdict{"400", "unknown client key"};
}

void zap_authenticator::reply(const std::vector<std::string>& request, const verdict& v, std::string_view user_id) {
  const std::string_view frames[] = {"1.0", frame(request, f_request_id), v.code, v.text, user_id, {}};
  constexpr std::size_t count = std::size(frames);
  for (std::size_t i = 0; i < count; ++i) {
    const int flags = ZMQ_DONTWAIT | (i + 1 < count ? ZMQ_SNDMORE : 0);
    // REP routes the reply to the pipe the request came from and drops it when that pipe is
    // gone or full, so a send fails only while the context terminates. The handshake waiting
    // for it then times out (ZMQ_HANDSHAKE_IVL) and fails closed.
    if (zmq_send(socket_, frames[i].data(), frames[i].size(), flags) < 0) {
      log_.error("ZAP reply could not be sent: {}", zmq_strerror(zmq_errno()));
      return;
    }
  }
}

void zap_authenticator::log_refusal(const std::vector<std::string>& request, const std::optional<curve_key>& key,
                                    const verdict& v) {
  const std::string address = printable(frame(request, f_address));
  const std::optional<std::uint64_t> quiet = take_report_slot(address);
  if (!quiet) return;
  std::string detail;
  if (key) detail = fmt::format(" (key {})", key_fingerprint(*key));
  if (*quiet > 0) detail += fmt::format(", {} more refusals from this address since the last report", *quiet);
  const std::string mechanism = printable(frame(request, f_mechanism));
  log_.warn("refused {} from {}: {}{}", mechanism.empty() ? "a ZAP request" : mechanism + " handshake",
            address.empty() ? "an unknown address" : address, v.text, detail);
}

// Returns the number of refusals from `address` not logged since its last report, or nullopt
// when this one stays quiet too. The map holds at most max_reported_addresses entries: when
// more addresses than that are refused within a minute, the extra ones go unlogged (refused()
// still counts them), so a flood of addresses cannot grow memory or the log without bound.
std::optional<std::uint64_t> zap_authenticator::take_report_slot(const std::string& address) {
  const auto now = std::chrono::steady_clock::now();
  if (auto it = reports_.find(address); it != reports_.end()) {
    report& r = it->second;
    if (now - r.last < report_window) {
      ++r.quiet;
      return std::nullopt;
    }
    const std::uint64_t quiet = r.quiet;
    r = report{now, 0};
    return quiet;
  }
  if (reports_.size() >= max_reported_addresses) {
    std::erase_if(reports_, [&](const auto& entry) { return now - entry.second.last >= report_window; });
    if (reports_.size() >= max_reported_addresses) return std::nullopt;
  }
  reports_.emplace(address, report{now, 0});
  return 0;
}

}  // namespace eam::cluster::internal
