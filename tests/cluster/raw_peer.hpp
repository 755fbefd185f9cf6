#pragma once
// Another node's side of a connection, spoken by hand: a raw ZeroMQ DEALER connected to a node's
// port, and the frames of the wire format (cluster/src/frame.hpp) built from bytes, for tests
// that send what no node would (bad frames) or refs no node handed out (pending peers). Open
// mode only: the raw socket does no CurveZMQ handshake.
#include "frame.hpp"

#include <zmq.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace eam::test {

namespace wire = eam::cluster::internal;

/// A ZeroMQ DEALER connected to a node's port, as another node's would be, but sending whatever
/// it is given. Closed with LINGER 0.
class raw_dealer {
 public:
  explicit raw_dealer(std::uint16_t port) : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_DEALER)) {
    const int linger = 0, send_timeout_ms = 10000;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket_, ZMQ_SNDTIMEO, &send_timeout_ms, sizeof send_timeout_ms);
    connected_ = zmq_connect(socket_, ("tcp://127.0.0.1:" + std::to_string(port)).c_str()) == 0;
  }
  ~raw_dealer() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  raw_dealer(const raw_dealer&) = delete;
  raw_dealer& operator=(const raw_dealer&) = delete;

  [[nodiscard]] bool connected() const noexcept { return connected_; }
  /// One message of one part; false when it could not be queued within the send timeout.
  bool send(const std::string& frame) {
    return zmq_send(socket_, frame.data(), frame.size(), 0) == static_cast<int>(frame.size());
  }

 private:
  void* context_;
  void* socket_;
  bool connected_ = false;
};

inline std::string bytes(std::initializer_list<std::uint8_t> b) { return std::string(b.begin(), b.end()); }

inline std::string hello_frame(const std::string& node, std::uint64_t incarnation = 1) {
  wire::frame_buffer f;
  wire::pack_hello(f, wire::hello{node, incarnation, "127.0.0.1:1"});  // nobody listens there: our answers go nowhere
  return std::string(f.data(), f.size());
}

/// A data frame: the header, then whatever `items` packs.
template <class F>
std::string data_frame(F items) {
  wire::frame_buffer f;
  wire::write_header(f, wire::frame_kind::data);
  wire::packer pk(f);
  items(pk);
  return std::string(f.data(), f.size());
}

}  // namespace eam::test
