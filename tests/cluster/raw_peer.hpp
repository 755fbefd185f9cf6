#pragma once
// Another node's side of a connection, spoken by hand: a raw ZeroMQ DEALER connected to a node's
// port, and the frames of the wire format (cluster/src/frame.hpp) built from bytes, for tests
// that send what no node would (bad frames) or refs no node handed out (pending peers). Open
// mode only: the raw socket does no CurveZMQ handshake.
#include "frame.hpp"

#include <zmq.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

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

/// A ZeroMQ ROUTER listening on 127.0.0.1, at a port the kernel picks, as another node's
/// listener would: a node that dials it (the address in a raw hello, say) sends its frames here.
/// Closed with LINGER 0.
class raw_router {
 public:
  raw_router() : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_ROUTER)) {
    const int linger = 0, handover = 1;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
    // A node's dialler keeps its routing id on every connection: as on a node's listener, a new
    // connection takes it over from the old one, or the new one would go unheard.
    zmq_setsockopt(socket_, ZMQ_ROUTER_HANDOVER, &handover, sizeof handover);
    if (zmq_bind(socket_, "tcp://127.0.0.1:*") != 0) return;
    char endpoint[256] = {};
    std::size_t size = sizeof endpoint;
    if (zmq_getsockopt(socket_, ZMQ_LAST_ENDPOINT, endpoint, &size) == 0)
      address_ = std::string(endpoint).substr(std::string_view("tcp://").size());
  }
  ~raw_router() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  raw_router(const raw_router&) = delete;
  raw_router& operator=(const raw_router&) = delete;

  /// host:port; empty when it could not listen.
  [[nodiscard]] const std::string& address() const noexcept { return address_; }
  /// Takes the frames that arrive (each without its routing id) until `wanted` says true of
  /// one (true), or `patience` has passed (false).
  template <class Wanted>
  bool receive_until(Wanted wanted, std::chrono::milliseconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&item, 1, static_cast<long>(left.count())) <= 0) continue;
      std::string last;  // the routing id, then the frame
      int more = 1;
      while (more != 0) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, socket_, 0) < 0) {
          zmq_msg_close(&part);
          return false;
        }
        last.assign(static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
        more = zmq_msg_more(&part);
        zmq_msg_close(&part);
      }
      if (wanted(last)) return true;
    }
  }

 private:
  void* context_;
  void* socket_;
  std::string address_;
};

inline std::string bytes(std::initializer_list<std::uint8_t> b) { return std::string(b.begin(), b.end()); }

/// By default the hello names an address nobody listens at: the node's answers go nowhere.
/// `session` and `ended`: the hello's numbers for its session with the node (wire::hello).
inline std::string hello_frame(const std::string& node, std::uint64_t incarnation = 1,
                               const std::string& address = "127.0.0.1:1", std::uint64_t session = 0,
                               std::uint64_t ended = 0) {
  wire::frame_buffer f;
  wire::pack_hello(f, wire::hello{node, incarnation, address, session, ended});
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
