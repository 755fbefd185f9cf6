// The CAF 0.17 peer of the remote group (system "caf" in tools/suite.py), written as CAF users
// write distributed code: the server publishes a stateful actor with io::middleman::publish,
// the client gets a proxy with remote_actor and talks to it from event-based actors, atoms as
// message tags, request(...).then(...) for calls. CAF's BASP has no flow control: a sender that
// outruns the connection buffers in the middleman, which is what the sender's peak memory shows.
// No encrypted row: CAF's encrypted transport (libcaf_openssl) needs certificates, so
// remote-cast-curve is not applicable (the suite says so). Protocol:
//   cast (v)            counted and summed by the server
//   end                 answered (count, sum) once every earlier cast from that sender arrived
//                       (CAF keeps the order of messages between two actors)
//   echo (v)            a call, answered v
//   ping (v)            answered by a plain message pong (v) to the sender
//   stop                answered ok; the server prints its JSON line and exits
#include "../../workloads/done_latch.hpp"
#include "remote_cli.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <tuple>

namespace {
using namespace eam::remote;
using clock_type = std::chrono::steady_clock;

using cast_atom = caf::atom_constant<caf::atom("cast")>;
using end_atom = caf::atom_constant<caf::atom("end")>;
using echo_atom = caf::atom_constant<caf::atom("echo")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using go_atom = caf::atom_constant<caf::atom("go")>;

/// An actor system with the middleman loaded and the suite's worker count.
struct remote_system {
  explicit remote_system(std::int64_t workers) : sys(configure(cfg, workers)) {}
  static caf::actor_system_config& configure(caf::actor_system_config& c, std::int64_t workers) {
    c.set("scheduler.max-threads", static_cast<std::size_t>(workers));
    c.load<caf::io::middleman>();
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

// ---- server ------------------------------------------------------------------------------------

struct server_state {
  std::int64_t count = 0, sum = 0, requests = 0;
};

caf::behavior server(caf::stateful_actor<server_state>* self, std::promise<server_state>* finished) {
  return {
      [=](cast_atom, std::int64_t v) {
        ++self->state.count;
        self->state.sum += v;
      },
      [=](end_atom) { return std::make_tuple(self->state.count, self->state.sum); },
      [=](echo_atom, std::int64_t v) {
        ++self->state.requests;
        return v;
      },
      [=](ping_atom, std::int64_t v) {
        ++self->state.requests;
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), pong_atom::value, v);
      },
      [=](stop_atom) {
        finished->set_value(self->state);
        self->quit();
        return caf::atom("ok");
      },
  };
}

int serve(const options& o) {
  remote_system r(o.number("workers", 2));
  std::promise<server_state> finished;
  auto future = finished.get_future();
  auto srv = r.sys.spawn(server, &finished);
  auto port = r.sys.middleman().publish(srv, static_cast<std::uint16_t>(o.port), "127.0.0.1");
  if (!port) throw std::runtime_error("publish: " + r.sys.render(port.error()));
  print_ready(*port);
  const server_state st = future.get();

  // The server's own check, where the work arrived.
  const std::int64_t n = o.number("n", -1);
  report rep{o.workload, "server"};
  if (o.workload == "remote-cast") {
    rep.items = st.count;
    rep.ok = n < 0 || (st.count == n && st.sum == payload_sum(n));
    rep.detail = "counted " + std::to_string(st.count) + ", sum " + std::to_string(st.sum);
  } else {
    rep.items = st.requests;
    rep.ok = n < 0 || st.requests == n;
    rep.detail = "served " + std::to_string(st.requests);
  }
  if (n >= 0) rep.detail += " (expected " + std::to_string(n) + ")";
  rep.print();
  return rep.ok ? 0 : 1;
}

// ---- client ------------------------------------------------------------------------------------

/// What the client's actors hand back to main once the workload is done.
struct outcome {
  std::int64_t a = 0, b = 0;
  std::unique_ptr<latencies> lat;
  eam::bench::done_latch done;
};

/// Casts 1..n to the server, then asks for its count and sum.
caf::behavior caster(caf::event_based_actor* self, caf::actor srv, std::int64_t n, outcome* out) {
  return {[=](go_atom) {
    for (std::int64_t i = 1; i <= n; ++i) self->send(srv, cast_atom::value, i);
    self->request(srv, caf::infinite, end_atom::value).then([=](std::int64_t count, std::int64_t sum) {
      out->a = count;
      out->b = sum;
      out->done.set();
      self->quit();
    });
  }};
}

/// n sequential calls, each timed: the next request leaves when the previous answer arrived.
struct caller_state {
  std::int64_t next = 1;
  clock_type::time_point sent;
};
void call_next(caf::stateful_actor<caller_state>* self, const caf::actor& srv, std::int64_t n, outcome* out) {
  if (self->state.next > n) {
    out->done.set();
    self->quit();
    return;
  }
  self->state.sent = clock_type::now();
  self->request(srv, caf::infinite, echo_atom::value, self->state.next++).then([=](std::int64_t v) {
    out->lat->add(clock_type::now() - self->state.sent);
    out->a += v;
    call_next(self, srv, n, out);
  });
}
caf::behavior caller(caf::stateful_actor<caller_state>* self, caf::actor srv, std::int64_t n, outcome* out) {
  return {[=](go_atom) { call_next(self, srv, n, out); }};
}

/// One actor on the client's side of a ping-pong: plain messages both ways, no request ids.
caf::behavior pinger(caf::event_based_actor* self, caf::actor srv, std::int64_t n, outcome* out) {
  return {
      [=](go_atom) { self->send(srv, ping_atom::value, std::int64_t{1}); },
      [=](pong_atom, std::int64_t v) {
        out->a += v;
        if (v == n) {
          out->done.set();
          self->quit();
          return;
        }
        self->send(srv, ping_atom::value, v + 1);
      },
  };
}

int client(const options& o) {
  const std::int64_t n = o.number("n");
  remote_system r(o.number("workers", 2));
  auto srv = r.sys.middleman().remote_actor(o.host, static_cast<std::uint16_t>(o.port));
  if (!srv) throw std::runtime_error("remote_actor: " + r.sys.render(srv.error()));

  outcome out;
  caf::actor worker;
  if (o.workload == "remote-cast")
    worker = r.sys.spawn(caster, *srv, n, &out);
  else if (o.workload == "remote-call") {
    out.lat = std::make_unique<latencies>(n);
    worker = r.sys.spawn(caller, *srv, n, &out);
  } else if (o.workload == "remote-ping-pong")
    worker = r.sys.spawn(pinger, *srv, n, &out);
  else
    throw std::invalid_argument("unknown workload " + o.workload + " (CAF has no cheap encrypted transport)");

  report rep{o.workload, "client"};
  rep.items = n;
  const auto t0 = clock_type::now();
  caf::anon_send(worker, go_atom::value);
  out.done.wait();
  rep.seconds = since(t0);
  if (o.workload == "remote-cast") {
    rep.ok = out.a == n && out.b == payload_sum(n);
    rep.detail = "server counted " + std::to_string(out.a) + " sum " + std::to_string(out.b) + ", expected " +
                 std::to_string(n) + " sum " + std::to_string(payload_sum(n));
  } else {
    if (out.lat) out.lat->fill(rep);
    rep.ok = out.a == payload_sum(n);
    rep.detail = std::string(out.lat ? "sum of replies " : "sum of pongs ") + std::to_string(out.a) + ", expected " +
                 std::to_string(payload_sum(n));
  }

  // Tell the server to finish, and wait for its answer so the message is not lost in our own
  // shutdown; a lost answer only costs the bounded wait, the result above stands.
  caf::scoped_actor self{r.sys};
  self->request(*srv, std::chrono::seconds(5), stop_atom::value).receive([](caf::atom_value) {}, [](caf::error&) {});
  rep.print();
  return rep.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
      std::printf("remote-cast\nremote-call\nremote-ping-pong\n");
      return 0;
    }
    const options o = parse(argc, argv);
    return o.server() ? serve(o) : client(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "caf_remote_suite: %s\n", e.what());
    return 2;
  }
}
