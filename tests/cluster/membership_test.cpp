// Membership between real node processes on 127.0.0.1: join through one seed, convergence,
// roles and metadata, a killed node declared failed by all, a graceful leave, a node with
// another cookie kept out, wait_for_cluster, and cookie rotation without a restart. This test
// process runs one node; node programs (child_node) run the others, each stopped by its pid.
#include "child_node.hpp"
#include "network_namespace.hpp"
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <thread>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::eventually;
using eam::test::inside_network_namespace;
using eam::test::shell;
using namespace std::chrono_literals;

namespace {

#ifdef EAM_TEST_SANITIZED
constexpr int children = 5;  // sixteen sanitized processes would starve this machine's two cores
#else
constexpr int children = 15;  // sixteen nodes with the one in this process
#endif

const std::string cookie = "a-test-cookie-of-enough-length";
const std::string new_cookie = "the-next-cookie-after-rotation";

std::unique_ptr<eam::cluster::node> start_in_process(std::string id, std::vector<std::string> seeds,
                                                      std::string with_cookie = cookie) {
  register_messages();
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.seeds = std::move(seeds);
  config.cookie = std::move(with_cookie);
  config.roles = {"seed"};
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

std::string child_id(int i) { return "n" + std::to_string(100 + i); }

std::vector<std::string> member_args(int i, const std::string& seed, const std::string& with_cookie = cookie) {
  return {"--id", child_id(i), "--cookie", with_cookie, "--seed", seed, "--role",
          i % 2 == 0 ? "worker" : "store", "--meta", "zone=z" + std::to_string(i), "--workers", "1"};
}

child_node start_member(int i, const std::string& seed, const std::string& with_cookie = cookie) {
  return child_node(member_args(i, seed, with_cookie));
}

// What a child node sees: its live members as membership_line strings.
std::vector<std::string> view_of(eam::cluster::node& here, const std::string& id) {
  auto members = here.whereis<membership_ref>(id, "members");
  if (!members) return {};
  auto lines = members.value().call(members_query{}).get();
  return lines ? lines.value() : std::vector<std::string>{};
}

bool sees(const std::vector<std::string>& view, const std::string& id, std::string_view fragment = {}) {
  return std::any_of(view.begin(), view.end(), [&](const std::string& line) {
    return line.rfind(id + "|", 0) == 0 && line.find(fragment) != std::string::npos;
  });
}

struct event_log {
  std::mutex lock;
  std::vector<eam::cluster::member_event> events;
  bool has(eam::cluster::member_event_kind kind, const std::string& id, std::string_view reason = {}) {
    std::lock_guard guard(lock);
    return std::any_of(events.begin(), events.end(), [&](const auto& e) {
      return e.kind == kind && e.subject.id == id && (reason.empty() || e.reason == reason);
    });
  }
  std::size_t count(eam::cluster::member_event_kind kind, const std::string& id) {
    std::lock_guard guard(lock);
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [&](const auto& e) { return e.kind == kind && e.subject.id == id; }));
  }
};

std::shared_ptr<event_log> record_events(eam::cluster::node& n) {
  auto log = std::make_shared<event_log>();
  n.on_member_event([log](const eam::cluster::member_event& e) {
    std::lock_guard guard(log->lock);
    log->events.push_back(e);
  });
  return log;
}

// A node in this process on its own loopback address, with the fast test timings.
std::unique_ptr<eam::cluster::node> start_on(std::string id, std::string bind, std::vector<std::string> seeds) {
  register_messages();
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.bind_address = std::move(bind);
  config.seeds = std::move(seeds);
  config.cookie = cookie;
  config.membership = fast_membership();
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

std::vector<std::string> ids_of(const std::vector<eam::cluster::member>& members) {
  std::vector<std::string> ids;
  for (const auto& m : members) ids.push_back(m.id);
  return ids;
}

}  // namespace

TEST_SUITE("cluster.membership") {
  TEST_CASE("sixteen node processes join through one seed and agree, a killed one fails everywhere and a leaving one leaves") {
    auto a = start_in_process("a", {});
    auto events = record_events(*a);
    std::vector<std::unique_ptr<child_node>> nodes;
    for (int i = 0; i < children; ++i) nodes.push_back(std::make_unique<child_node>(member_args(i, a->address())));
    const std::size_t total = children + 1;

    REQUIRE(a->wait_for_cluster({.min_members = total, .timeout = 120s}));
    // Every node sees every node, with its roles and metadata.
    for (int i = 0; i < children; ++i)
      CHECK_MESSAGE(eventually([&] { return view_of(*a, child_id(i)).size() == total; }, 120s), child_id(i));
    CHECK(a->members_by_role("worker").size() == static_cast<std::size_t>((children + 1) / 2));
    CHECK(a->members_by_role("store").size() == static_cast<std::size_t>(children / 2));
    CHECK(a->members_by_role("seed").size() == 1);
    const auto members = a->members();
    const auto n3 = std::find_if(members.begin(), members.end(), [](const auto& m) { return m.id == child_id(3); });
    REQUIRE(n3 != members.end());
    CHECK(n3->metadata.at("zone") == "z3");
    CHECK(n3->address == nodes[3]->address());

    // New metadata reaches every node.
    a->set_metadata({{"version", "2"}});
    for (int i = 0; i < children; ++i)
      CHECK(eventually([&] { return sees(view_of(*a, child_id(i)), "a", "version=2"); }, 60s));

    // SIGKILL one: its actors' watchers get noconnection, and every node declares it failed.
    const int victim = 1;
    auto counter = a->whereis<counter_ref>(child_id(victim), "counter").value();
    auto watched = std::make_shared<std::atomic<int>>(0);
    auto watch_done = std::make_shared<std::promise<void>>();
    a->system().spawn([counter, watched, watch_done](eam::actor_context& ctx) {
      ctx.watch(counter, [watched](const eam::down& d) {
        watched->store(d.reason == eam::exit_reason::noconnection() ? 1 : 2);
      });
      watch_done->set_value();
      return eam::behavior{[](int) {}};
    });
    watch_done->get_future().wait();
    nodes[victim]->kill_hard();
    CHECK(eventually([&] { return watched->load() != 0; }, 60s));
    CHECK(watched->load() == 1);
    // The documented bound is probe_interval x awareness + the suspicion timeout's max (about
    // 27 s for 16 nodes); the wait is longer, for a loaded machine.
    CHECK(eventually([&] { return events->has(eam::cluster::member_event_kind::leave, child_id(victim), "failed"); }, 90s));
    for (int i = 0; i < children; ++i) {
      if (i == victim) continue;
      CHECK_MESSAGE(eventually([&] { return !sees(view_of(*a, child_id(i)), child_id(victim)); }, 90s), child_id(i));
    }

    // A graceful leave: seen as "left", not as a failure.
    const int leaver = 2;
    a->whereis<control_ref>(child_id(leaver), "control").value().cast(quit{});
    CHECK(nodes[leaver]->wait_exit());
    CHECK(eventually([&] { return events->has(eam::cluster::member_event_kind::leave, child_id(leaver), "left"); }, 30s));
    CHECK_FALSE(events->has(eam::cluster::member_event_kind::leave, child_id(leaver), "failed"));
    // No live node was ever declared failed.
    for (int i = 0; i < children; ++i)
      if (i != victim) CHECK(events->count(eam::cluster::member_event_kind::leave, child_id(i)) == (i == leaver ? 1u : 0u));
    a->shutdown();
  }

  TEST_CASE("wait_for_cluster: at once when it holds, a typed timeout naming itself, and the ready option") {
    auto a = start_in_process("a", {});
    CHECK(a->wait_for_cluster({.min_members = 1, .timeout = 0ms}));
    const auto short_of_members = a->wait_for_cluster({.min_members = 2, .timeout = 200ms});
    REQUIRE_FALSE(short_of_members);
    CHECK(short_of_members.error_value().code() == eam::errc::timeout);
    CHECK(std::string(short_of_members.error_value().what()).find("200 ms") != std::string::npos);
    const auto missing_node = a->wait_for_cluster({.min_members = 1, .nodes = {"zz"}, .timeout = 100ms});
    REQUIRE_FALSE(missing_node);
    CHECK(std::string(missing_node.error_value().what()).find("node zz") != std::string::npos);

    // A node started with `ready` returns once the condition holds.
    eam::cluster::node_config config;
    config.node_id = "b";
    config.seeds = {a->address()};
    config.cookie = cookie;
    config.system.workers = 1;
    config.ready = eam::cluster::cluster_condition{.min_members = 2, .nodes = {"a"}, .timeout = 60s};
    auto b = eam::cluster::start_node(config);
    REQUIRE(b);
    CHECK(b.value()->members().size() == 2);
    // ...or fails with timeout, stopped.
    config.node_id = "c";
    config.ready = eam::cluster::cluster_condition{.min_members = 5, .timeout = 300ms};
    auto c = eam::cluster::start_node(config);
    REQUIRE_FALSE(c);
    CHECK(c.error_value().code() == eam::errc::timeout);
  }

  TEST_CASE("two nodes of one process with default ids get ids of their own and see each other") {
    // Host and pid alone named both the same, as they do two containers on the host's network.
    register_messages();
    eam::cluster::node_config config;
    config.cookie = cookie;
    config.system.workers = 1;
    auto a = eam::cluster::start_node(config).value();
    config.seeds = {a->address()};
    auto b = eam::cluster::start_node(config).value();
    REQUIRE(a->id() != b->id());
    CHECK(a->id().find("-" + std::to_string(::getpid()) + "-") != std::string::npos);
    CHECK(a->wait_for_peer(b->id(), 30s));
    CHECK(b->wait_for_peer(a->id(), 30s));
  }

  TEST_CASE("a hidden node sees the members and talks to them, and no member lists it or sees it come and go") {
    auto a = start_in_process("a", {});
    auto b = start_in_process("b", {a->address()});
    REQUIRE(a->wait_for_cluster({.min_members = 2}));
    const auto a_events = record_events(*a);
    const auto b_events = record_events(*b);

    register_messages();
    eam::cluster::node_config config;
    config.node_id = "visitor";
    config.seeds = {a->address()};
    config.cookie = cookie;
    config.membership.hidden = true;
    config.system.workers = 1;
    auto visitor = eam::cluster::start_node(config).value();
    // a's answer, its whole view: a and b, and the visitor itself.
    REQUIRE(visitor->wait_for_cluster({.min_members = 3}));
    CHECK(ids_of(visitor->members()) == std::vector<std::string>{"a", "b", "visitor"});
    // It dialled b on hearing of it; b greets it back, as any node.
    REQUIRE(visitor->wait_for_peer("b", 30s));
    REQUIRE(b->wait_for_peer("visitor", 30s));
    CHECK(ids_of(a->members()) == std::vector<std::string>{"a", "b"});
    CHECK(ids_of(b->members()) == std::vector<std::string>{"a", "b"});

    visitor->shutdown();
    CHECK(eventually([&] { return a->peers().size() == 1 && b->peers().size() == 1; }, 60s));
    CHECK(ids_of(a->all_members()) == std::vector<std::string>{"a", "b"});
    for (const auto& events : {a_events, b_events})
      for (const auto kind : {eam::cluster::member_event_kind::join, eam::cluster::member_event_kind::leave})
        CHECK(events->count(kind, "visitor") == 0);
  }

  TEST_CASE("a node started before its seed joins once the seed is up") {
    // The nodes of a deployment start in any order: a seed that nobody listens on yet is
    // dialled and asked again until it answers.
    register_messages();
    eam::cluster::node_config config;
    config.cookie = cookie;
    config.membership = fast_membership();
    config.system.workers = 1;
    std::unique_ptr<eam::cluster::node> early, seed;
    // The seed's port is freed and taken again: another process may take it in between, so
    // the whole start is tried again on a new port, a few times at most.
    for (int attempt = 0; attempt < 5 && !seed; ++attempt) {
      config.node_id = "late-seed";
      config.seeds = {};
      config.port = 0;
      auto first = eam::cluster::start_node(config).value();
      const std::uint16_t port = first->port();
      const std::string address = first->address();
      first.reset();  // the seed's address is known, and nothing listens there now
      config.node_id = "early";
      config.seeds = {address};
      early = eam::cluster::start_node(config).value();
      CHECK_FALSE(early->wait_for_peer("late-seed", 300ms));
      config.node_id = "late-seed";
      config.seeds = {};
      config.port = port;
      auto started = eam::cluster::start_node(config);
      if (started) seed = std::move(started.value());
    }
    REQUIRE(seed);
    CHECK(seed->wait_for_peer("early", 60s));
    CHECK(early->wait_for_peer("late-seed", 60s));
    CHECK(early->wait_for_cluster({.min_members = 2, .timeout = 60s}));
    CHECK(seed->wait_for_cluster({.min_members = 2, .timeout = 60s}));
  }

  TEST_CASE("a seed's listener that took the hello and went away: the node that starts there next is greeted") {
    // ZeroMQ dials a seed again by itself after a connection ends, reaching whatever listens
    // there next. The hello had gone out on the ended connection, to a node that was stopping,
    // and the new one refused every frame of a connection that never said hello: the two never
    // met. Here a bare ZeroMQ listener stands for the stopping node.
    register_messages();
    eam::cluster::node_config config;
    config.cookie = std::nullopt;  // the bare listener speaks no CURVE
    config.membership = fast_membership();
    config.system.workers = 1;
    std::unique_ptr<eam::cluster::node> greeter, reborn;
    // The listener's port is freed and taken again: another process may take it (or its UDP
    // twin) in between, so the whole scene is tried again on a new port, a few times at most.
    for (int attempt = 0; attempt < 5 && !reborn; ++attempt) {
      void* context = zmq_ctx_new();
      void* old_life = zmq_socket(context, ZMQ_ROUTER);
      const int no_linger = 0, wait_ms = 100;
      zmq_setsockopt(old_life, ZMQ_LINGER, &no_linger, sizeof no_linger);
      zmq_setsockopt(old_life, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
      REQUIRE(zmq_bind(old_life, "tcp://127.0.0.1:0") == 0);
      char endpoint[256];
      std::size_t endpoint_size = sizeof endpoint;
      REQUIRE(zmq_getsockopt(old_life, ZMQ_LAST_ENDPOINT, endpoint, &endpoint_size) == 0);
      const std::string address = std::string(endpoint).substr(std::string("tcp://").size());
      const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));

      config.node_id = "greeter";
      config.seeds = {address};
      config.port = 0;
      greeter = eam::cluster::start_node(config).value();
      bool hello_taken = false;
      for (int i = 0; i < 300 && !hello_taken; ++i) {  // 30 s at most
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, old_life, 0) >= 0 && !zmq_msg_more(&part)) {
          const auto* bytes = static_cast<const unsigned char*>(zmq_msg_data(&part));
          hello_taken = zmq_msg_size(&part) >= 2 && bytes[1] == 1;  // frame_kind::hello
        }
        zmq_msg_close(&part);
      }
      zmq_close(old_life);
      zmq_ctx_term(context);
      REQUIRE(hello_taken);

      config.node_id = "reborn";
      config.seeds = {};
      config.port = port;
      if (auto started = eam::cluster::start_node(config)) reborn = std::move(started.value());
    }
    REQUIRE(reborn);
    CHECK(reborn->wait_for_peer("greeter", 60s));
    CHECK(greeter->wait_for_peer("reborn", 60s));
  }

  TEST_CASE("a node with another cookie never becomes a member") {
    auto a = start_in_process("a", {});
    child_node good = start_member(1, a->address());
    child_node intruder = start_member(2, a->address(), "another-cookie-of-enough-length");
    REQUIRE(a->wait_for_cluster({.min_members = 2, .nodes = {child_id(1)}, .timeout = 60s}));
    // The intruder knocked (its handshake was refused)...
    CHECK(eventually([&] { return a->stats().auth_failures > 0; }, 60s));
    // ...and is in nobody's member list, not even as dead.
    const auto everyone = a->all_members();
    CHECK(std::none_of(everyone.begin(), everyone.end(), [](const auto& m) { return m.id == child_id(2); }));
    CHECK_FALSE(sees(view_of(*a, child_id(1)), child_id(2)));
  }

  TEST_CASE("cookie rotation without a restart: nothing lost or duplicated, the old cookie refused, the new one admitted") {
    auto a = start_in_process("a", {});
    auto b = start_in_process("b", {a->address()});
    auto c = start_in_process("c", {a->address()});
    REQUIRE(a->wait_for_cluster({.min_members = 3, .timeout = 60s}));
    REQUIRE(b->wait_for_cluster({.min_members = 3, .timeout = 60s}));
    REQUIRE(c->wait_for_cluster({.min_members = 3, .timeout = 60s}));
    std::atomic<bool> quit{false};
    spawn_test_actors(b->system(), quit);
    REQUIRE(eventually([&] { return a->whereis<sink_ref>("b", "sink").has_value(); }, 30s));
    auto sink = a->whereis<sink_ref>("b", "sink").value();
    auto echo_b = a->whereis<echo_ref>("b", "echo").value();

    // A steady stream from a to b while every node rotates.
    constexpr std::uint64_t sent = 100'000;
    std::thread stream([&] {
      for (std::uint64_t n = 0; n < sent; ++n) sink.cast(seq{n, {}});
    });
    std::vector<eam::cluster::node*> all{a.get(), b.get(), c.get()};
    for (auto* n : all) REQUIRE(n->install_key(new_cookie));
    for (auto* n : all) CHECK(n->list_keys().size() == 2);
    std::vector<std::future<eam::result<std::string>>> in_flight;
    for (auto* n : all) {
      in_flight.push_back(std::async(std::launch::async, [&echo_b] { return echo_b.call(echo{"during"}).get(); }));
      REQUIRE(n->use_key(new_cookie));
    }
    for (auto* n : all) {
      const auto removed = n->remove_key(new_cookie);  // the primary cannot go
      REQUIRE_FALSE(removed);
      CHECK(removed.error_value().code() == eam::cluster::cluster_errc::key_is_primary);
    }
    for (auto* n : all) REQUIRE(n->remove_key(cookie));
    stream.join();
    for (auto& f : in_flight) {
      const auto answer = f.get();
      // Completed, or failed with transport_error: never lost, never anything else.
      if (answer) CHECK(answer.value() == "during");
      else CHECK(answer.error_value().code() == eam::errc::transport_error);
    }
    const sink_state got = eventually([&] { return sink.call(get_sink{}).get().value().count >= sent; }, 120s)
                               ? sink.call(get_sink{}).get().value()
                               : sink_state{};
    CHECK(got.count == sent);
    CHECK(got.in_order);
    CHECK(echo_b.call(echo{"after"}).get().value() == "after");
    for (auto* n : all) CHECK(n->list_keys() == std::vector<std::string>{a->list_keys().front()});
    CHECK(a->members().size() == 3);
    // A rotation done as documented refuses nothing: no node took it for a wrong cookie.
    for (auto* n : all) CHECK(n->stats().auth_failures == 0);

    // The removed cookie is refused; the new one is admitted (the listener was re-keyed).
    const auto refused_before = a->stats().auth_failures;
    child_node old_only = start_member(7, a->address(), cookie);
    CHECK(eventually([&] { return a->stats().auth_failures > refused_before; }, 60s));
    child_node new_only = start_member(8, a->address(), new_cookie);
    CHECK(a->wait_for_cluster({.min_members = 4, .nodes = {child_id(8)}, .timeout = 60s}));
    const auto everyone = a->all_members();
    CHECK(std::none_of(everyone.begin(), everyone.end(), [](const auto& m) { return m.id == child_id(7); }));

    const auto unknown = a->use_key("never-installed-cookie-value");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error_value().code() == eam::cluster::cluster_errc::key_not_installed);
    quit.store(true);
  }

  // Every node has its own loopback address (127.0.0.10-13) in a network namespace made for
  // the test (network_namespace.hpp), where iptables rules cut or thin the traffic between
  // chosen nodes.
  TEST_CASE("partition, heal and random loss between node processes in a network namespace") {
    if (!inside_network_namespace("partition*")) return;
    auto a = start_on("a", "127.0.0.10", {});
    auto c = start_on("c", "127.0.0.12", {a->address()});
    child_node b({"--id", "b", "--cookie", cookie, "--bind", "127.0.0.11", "--seed", a->address(), "--fast", "1"});
    child_node d({"--id", "d", "--cookie", cookie, "--bind", "127.0.0.13", "--seed", a->address(), "--fast", "1"});
    REQUIRE(a->wait_for_cluster({.min_members = 4, .timeout = 60s}));
    REQUIRE(c->wait_for_cluster({.min_members = 4, .timeout = 60s}));
    auto seen_by_a = record_events(*a);
    auto seen_by_c = record_events(*c);

    // {a, b} | {c, d}: each side declares the other failed.
    for (const char* x : {"10", "11"})
      for (const char* y : {"12", "13"}) {
        REQUIRE(shell(std::string("iptables -A INPUT -s 127.0.0.") + x + " -d 127.0.0." + y + " -j DROP"));
        REQUIRE(shell(std::string("iptables -A INPUT -s 127.0.0.") + y + " -d 127.0.0." + x + " -j DROP"));
      }
    using kind = eam::cluster::member_event_kind;
    CHECK(eventually([&] {
      return seen_by_a->has(kind::leave, "c", "failed") && seen_by_a->has(kind::leave, "d", "failed") &&
             seen_by_c->has(kind::leave, "a", "failed") && seen_by_c->has(kind::leave, "b", "failed");
    }, 60s));
    CHECK(ids_of(a->members()) == std::vector<std::string>{"a", "b"});
    CHECK(ids_of(c->members()) == std::vector<std::string>{"c", "d"});

    // Healed: the sides find each other again (a failed member is retried) and merge.
    REQUIRE(shell("iptables -F INPUT"));
    // The member list changes before the callbacks run (both on the I/O thread): wait for both.
    CHECK(eventually([&] {
      return a->members().size() == 4 && c->members().size() == 4 && seen_by_a->has(kind::join, "c") &&
             seen_by_c->has(kind::join, "a");
    }, 60s));

    // 10 % of all packets lost, for 50 of a's probes: nobody is declared failed.
    const std::size_t failures_before = seen_by_a->count(kind::leave, "b") + seen_by_a->count(kind::leave, "c") +
                                        seen_by_a->count(kind::leave, "d") + seen_by_c->count(kind::leave, "a");
    REQUIRE(shell("iptables -A INPUT -m statistic --mode random --probability 0.1 -j DROP"));
    const auto probes_before = a->gossip_stats().probes;
    CHECK(eventually([&] { return a->gossip_stats().probes >= probes_before + 50; }, 120s));
    REQUIRE(shell("iptables -F INPUT"));
    CHECK(seen_by_a->count(kind::leave, "b") + seen_by_a->count(kind::leave, "c") + seen_by_a->count(kind::leave, "d") +
              seen_by_c->count(kind::leave, "a") ==
          failures_before);
    CHECK(a->members().size() == 4);
    CHECK(c->members().size() == 4);
  }
}
