// Raw ZeroMQ peer of the remote group (systems "zmq" and "zmq-batch" in tools/suite.py): a
// DEALER client and a ROUTER server over libzmq's C API, with no actor runtime in between. It
// is the transport's limit that libeam's distribution layer (also libzmq) is measured against:
// one zmq message per small message, or with --batch B, B small messages packed into one zmq
// message (the limit of a transport that batches). remote-cast-curve turns CURVE on: each side
// makes its own keypair with zmq_curve_keypair, the server prints its public key after the port
// in its READY line and the suite hands it to the client as --server-key.
//
// Wire format: a one-byte tag, then native-endian int64 values (both ends run on this machine).
//   'h'            hello: the client waits for the echo before it starts the clock, so neither
//                  the TCP connect nor the CURVE handshake is timed
//   'c' v          cast: the server counts it and adds v to its sum
//   'b' v1 .. vk   k casts in one zmq message (--batch)
//   'e'            end of the casts; the server answers 't' count sum
//   'q' v          call; answered 'r' v, the client times each one
//   'p' v          ping; answered 'o' v (the same exchange as a call, not timed one by one)
//   's'            stop: the server prints its JSON line and exits
// The client sends the casts 1..n, so the server can check count n and sum n(n+1)/2 itself.
#include "remote_cli.hpp"

#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
using namespace eam::remote;
using clock_type = std::chrono::steady_clock;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string(what) + ": " + zmq_strerror(zmq_errno())); }

void check(int rc, const char* what) {
  if (rc < 0) fail(what);
}

/// A zmq socket that is closed at scope exit; the context outlives it (declared first).
struct socket {
  void* s;
  socket(void* ctx, int type) : s(zmq_socket(ctx, type)) {
    if (!s) fail("zmq_socket");
  }
  ~socket() { zmq_close(s); }
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;
};

struct context {
  void* c = zmq_ctx_new();
  // zmq_ctx_term blocks until every socket's pending messages are sent (linger is infinite by
  // default), so the client's last 's' reaches the server before the process ends.
  ~context() { zmq_ctx_term(c); }
};

std::int64_t value_at(const unsigned char* p) {
  std::int64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// A tag plus up to two int64 values, the size of every message but a batch.
struct small_message {
  unsigned char bytes[1 + 2 * sizeof(std::int64_t)];
  std::size_t size = 1;
  explicit small_message(char tag) { bytes[0] = static_cast<unsigned char>(tag); }
  small_message& operator<<(std::int64_t v) {
    std::memcpy(bytes + size, &v, sizeof v);
    size += sizeof v;
    return *this;
  }
};

// ---- server ------------------------------------------------------------------------------------

int serve(const options& o) {
  context ctx;
  socket router(ctx.c, ZMQ_ROUTER);
  std::string public_key;
  if (o.workload == "remote-cast-curve") {
    if (!zmq_has("curve")) throw std::runtime_error("this libzmq has no CURVE");
    char pub[41], sec[41];
    check(zmq_curve_keypair(pub, sec), "zmq_curve_keypair");
    const int on = 1;
    check(zmq_setsockopt(router.s, ZMQ_CURVE_SERVER, &on, sizeof on), "ZMQ_CURVE_SERVER");
    check(zmq_setsockopt(router.s, ZMQ_CURVE_SECRETKEY, sec, 40), "ZMQ_CURVE_SECRETKEY");
    public_key = pub;
  }
  const std::string endpoint = o.port ? "tcp://127.0.0.1:" + std::to_string(o.port) : "tcp://127.0.0.1:*";
  check(zmq_bind(router.s, endpoint.c_str()), "zmq_bind");
  char bound[256];
  std::size_t bound_len = sizeof bound;
  check(zmq_getsockopt(router.s, ZMQ_LAST_ENDPOINT, bound, &bound_len), "ZMQ_LAST_ENDPOINT");
  print_ready(std::stoi(std::strrchr(bound, ':') + 1), public_key);

  // The client's routing id, as the ROUTER hands it to us; replies go back through it.
  std::vector<unsigned char> peer;
  auto reply = [&](const small_message& m) {
    check(zmq_send(router.s, peer.data(), peer.size(), ZMQ_SNDMORE), "zmq_send id");
    check(zmq_send(router.s, m.bytes, m.size, 0), "zmq_send");
  };
  std::int64_t count = 0, sum = 0, requests = 0;
  zmq_msg_t id, body;
  zmq_msg_init(&id);
  zmq_msg_init(&body);
  for (bool running = true; running;) {
    check(zmq_msg_recv(&id, router.s, 0), "zmq_msg_recv id");
    check(zmq_msg_recv(&body, router.s, 0), "zmq_msg_recv");
    const auto* p = static_cast<const unsigned char*>(zmq_msg_data(&body));
    const std::size_t size = zmq_msg_size(&body);
    if (size == 0) continue;
    switch (p[0]) {
      case 'c':
        ++count;
        sum += value_at(p + 1);
        break;
      case 'b':
        for (std::size_t at = 1; at + sizeof(std::int64_t) <= size; at += sizeof(std::int64_t)) {
          ++count;
          sum += value_at(p + at);
        }
        break;
      case 'h': {
        const auto* d = static_cast<const unsigned char*>(zmq_msg_data(&id));
        peer.assign(d, d + zmq_msg_size(&id));
        reply(small_message('h'));
        break;
      }
      case 'e':
        reply(small_message('t') << count << sum);
        break;
      case 'q':
        ++requests;
        reply(small_message('r') << value_at(p + 1));
        break;
      case 'p':
        ++requests;
        reply(small_message('o') << value_at(p + 1));
        break;
      case 's':
        running = false;
        break;
      default:
        throw std::runtime_error("unknown message tag");
    }
  }
  zmq_msg_close(&id);
  zmq_msg_close(&body);

  // The server's own check, where the work arrived.
  const std::int64_t n = o.number("n", -1);
  report r{o.workload, "server"};
  const bool cast = o.workload.rfind("remote-cast", 0) == 0;
  r.items = cast ? count : requests;
  if (cast) {
    r.ok = n < 0 || (count == n && sum == payload_sum(n));
    r.detail = "counted " + std::to_string(count) + ", sum " + std::to_string(sum);
  } else {
    r.ok = n < 0 || requests == n;
    r.detail = "served " + std::to_string(requests);
  }
  if (n >= 0) r.detail += " (expected " + std::to_string(n) + ")";
  r.print();
  return r.ok ? 0 : 1;
}

// ---- client ------------------------------------------------------------------------------------

/// Receives one message into `buf`; returns its size.
std::size_t receive(void* s, unsigned char* buf, std::size_t cap) {
  const int n = zmq_recv(s, buf, cap, 0);
  if (n < 0) fail("zmq_recv");
  return static_cast<std::size_t>(n);
}

int client(const options& o) {
  const std::int64_t n = o.number("n");
  const std::int64_t batch = o.number("batch", 1);
  context ctx;
  socket dealer(ctx.c, ZMQ_DEALER);
  if (o.workload == "remote-cast-curve") {
    const std::string server_key = o.text("server-key");
    if (server_key.size() != 40) throw std::invalid_argument("remote-cast-curve needs --server-key (40 Z85 characters)");
    char pub[41], sec[41];
    check(zmq_curve_keypair(pub, sec), "zmq_curve_keypair");
    check(zmq_setsockopt(dealer.s, ZMQ_CURVE_SERVERKEY, server_key.data(), 40), "ZMQ_CURVE_SERVERKEY");
    check(zmq_setsockopt(dealer.s, ZMQ_CURVE_PUBLICKEY, pub, 40), "ZMQ_CURVE_PUBLICKEY");
    check(zmq_setsockopt(dealer.s, ZMQ_CURVE_SECRETKEY, sec, 40), "ZMQ_CURVE_SECRETKEY");
  }
  const std::string endpoint = "tcp://" + o.host + ":" + std::to_string(o.port);
  check(zmq_connect(dealer.s, endpoint.c_str()), "zmq_connect");

  unsigned char in[64];
  auto send = [&](const small_message& m) { check(zmq_send(dealer.s, m.bytes, m.size, 0), "zmq_send"); };
  send(small_message('h'));
  receive(dealer.s, in, sizeof in);

  report r{o.workload, "client"};
  r.items = n;
  const auto t0 = clock_type::now();
  if (o.workload == "remote-cast" || o.workload == "remote-cast-curve") {
    if (batch <= 1) {
      for (std::int64_t i = 1; i <= n; ++i) send(small_message('c') << i);
    } else {
      // Pack `batch` values after one tag; the last message may be shorter.
      std::vector<unsigned char> packed(1 + static_cast<std::size_t>(batch) * sizeof(std::int64_t));
      packed[0] = 'b';
      std::size_t at = 1;
      for (std::int64_t i = 1; i <= n; ++i) {
        std::memcpy(packed.data() + at, &i, sizeof i);
        at += sizeof i;
        if (at == packed.size() || i == n) {
          check(zmq_send(dealer.s, packed.data(), at, 0), "zmq_send batch");
          at = 1;
        }
      }
    }
    send(small_message('e'));
    receive(dealer.s, in, sizeof in);
    r.seconds = since(t0);
    const std::int64_t count = value_at(in + 1), sum = value_at(in + 9);
    r.ok = in[0] == 't' && count == n && sum == payload_sum(n);
    r.detail = "server counted " + std::to_string(count) + " sum " + std::to_string(sum) + ", expected " +
               std::to_string(n) + " sum " + std::to_string(payload_sum(n));
  } else if (o.workload == "remote-call") {
    latencies lat(n);
    std::int64_t sum = 0;
    for (std::int64_t i = 1; i <= n; ++i) {
      const auto c0 = clock_type::now();
      send(small_message('q') << i);
      receive(dealer.s, in, sizeof in);
      lat.add(clock_type::now() - c0);
      sum += value_at(in + 1);
    }
    r.seconds = since(t0);
    lat.fill(r);
    r.ok = sum == payload_sum(n);
    r.detail = "sum of replies " + std::to_string(sum) + ", expected " + std::to_string(payload_sum(n));
  } else if (o.workload == "remote-ping-pong") {
    std::int64_t sum = 0;
    for (std::int64_t i = 1; i <= n; ++i) {
      send(small_message('p') << i);
      receive(dealer.s, in, sizeof in);
      sum += value_at(in + 1);
    }
    r.seconds = since(t0);
    r.ok = sum == payload_sum(n);
    r.detail = "sum of pongs " + std::to_string(sum) + ", expected " + std::to_string(payload_sum(n));
  } else {
    throw std::invalid_argument("unknown workload " + o.workload);
  }
  send(small_message('s'));
  r.print();
  return r.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
      std::printf("remote-cast\nremote-call\nremote-ping-pong\nremote-cast-curve\n");
      return 0;
    }
    const options o = parse(argc, argv);
    return o.server() ? serve(o) : client(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zmq_remote_suite: %s\n", e.what());
    return 2;
  }
}
