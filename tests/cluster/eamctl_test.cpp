// eamctl, the operator's command line, as an operator runs it: every command a process of its
// own against node processes (`eamctl start` from config files, and node programs serving
// actors that move), and what each prints and does checked.
#include "command_run.hpp"
#include "test_nodes.hpp"

#include "../support/eventually.hpp"
#include "../support/scratch_folder.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <memory>
#include <optional>
#include <sstream>
#include <thread>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::command_run;
using eam::test::eventually;
using eam::test::scratch_folder;
using namespace std::chrono_literals;

namespace {

// `eamctl start` is ready once it said "started <id> at <host>:<port>".
std::optional<std::uint16_t> started_line(const std::string& line) {
  if (line.rfind("started ", 0) != 0) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

child_node eamctl_start(const std::string& config_path) {
  return child_node(EAM_EAMCTL_PATH, {"start", config_path}, started_line);
}

// One eamctl command to its end (bounded), joining through `seed` with the test cookie's file.
struct eamctl_session {
  std::string seed;
  std::string cookie_file;
  std::unique_ptr<command_run> start(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--seed", seed, "--cookie-file", cookie_file, "--timeout", "20000"});
    return std::make_unique<command_run>(EAM_EAMCTL_PATH, std::move(args));
  }
  std::unique_ptr<command_run> run(std::vector<std::string> args) const {
    auto r = start(std::move(args));
    r->wait(120s);
    if (r->status() != 0) MESSAGE("eamctl ended with ", r->status(), ": ", r->out(), r->err());
    return r;
  }
};

// A node program joining through `seed` as member `id`, with the role host-<id> (what placement
// by role aims at).
std::unique_ptr<child_node> host_member(const std::string& id, const eam::cluster::node& seed) {
  return std::make_unique<child_node>(member_args(id, seed, {"--role", "host-" + id}));
}

// The lines of `text` that begin with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    at = end + 1;
  }
  return out;
}

}  // namespace

TEST_SUITE("cluster.eamctl") {
  TEST_CASE("nodes started from config files are listed, described, drained and stopped") {
    scratch_folder folder;
    const std::string cookie = folder.write("cookie", test_cookie + "\n");
    const std::string a_config = folder.write("a.toml", R"(node_id = "a"
roles = ["seed", "worker"]
cookie_file = "cookie"
[metadata]
zone = "eu-1"
)");
    child_node a = eamctl_start(a_config);
    const std::string b_config = folder.write("b.toml", "node_id = \"b\"\ncookie_file = \"cookie\"\nseeds = [\"" +
                                                            a.address() + "\"]\n");
    child_node b = eamctl_start(b_config);
    const eamctl_session ctl{a.address(), cookie};

    // Both are members (b joined through a): the listing comes once b has.
    std::string listing;
    REQUIRE(eventually([&] {
      auto r = ctl.run({"nodes"});
      listing = r->out();
      return r->status() == 0 && lines_starting(listing, "b ").size() == 1;
    }, 60s));
    const auto a_line = lines_starting(listing, "a ");
    REQUIRE(a_line.size() == 1);
    CHECK(a_line[0].find("alive") != std::string::npos);
    CHECK(a_line[0].find(a.address()) != std::string::npos);
    CHECK(a_line[0].find("seed,worker") != std::string::npos);
    CHECK(lines_starting(listing, "eamctl-").empty());  // its own node is not listed

    auto info = ctl.run({"info", "a"});
    CHECK(info->status() == 0);
    CHECK(lines_starting(info->out(), "node ") == std::vector<std::string>{"node            a"});
    CHECK(lines_starting(info->out(), "pid ") == std::vector<std::string>{"pid             " + std::to_string(a.pid())});
    CHECK(lines_starting(info->out(), "metadata ") == std::vector<std::string>{"metadata        zone=eu-1"});
    CHECK(lines_starting(info->out(), "draining ") == std::vector<std::string>{"draining        no"});

    auto actors = ctl.run({"actors", "b"});
    CHECK(actors->status() == 0);
    CHECK(actors->out().find("eam.control") != std::string::npos);
    CHECK(actors->out().find("eam.spawner") != std::string::npos);

    auto top = ctl.run({"top", "a", "--count", "2", "--interval", "50", "--limit", "3"});
    CHECK(top->status() == 0);
    CHECK(lines_starting(top->out(), "a  healthy").size() == 2);  // a heading per refresh
    CHECK(lines_starting(top->out(), "3 of ").size() == 2);       // and at most 3 actors under it

    auto drain = ctl.run({"drain", "b"});
    CHECK(drain->status() == 0);
    CHECK(drain->out() == "b is draining\n");
    auto drained = ctl.run({"info", "b"});
    CHECK(lines_starting(drained->out(), "draining ") == std::vector<std::string>{"draining        yes"});
    CHECK(lines_starting(drained->out(), "health ") == std::vector<std::string>{"health          degraded (cluster: draining)"});
    auto undrain = ctl.run({"undrain", "b"});
    CHECK(undrain->out() == "b takes spawns and migrations\n");

    // What cannot be done says why, with status 1; a command line that does not parse, 2.
    auto unknown = ctl.run({"info", "zz"});
    CHECK(unknown->status() == 1);
    CHECK(unknown->err().find("zz is not a member") != std::string::npos);
    auto usage = ctl.run({"migrate", "a"});
    CHECK(usage->status() == 2);
    CHECK(usage->err().find("migrate takes 3 arguments") != std::string::npos);
    const std::string wrong_cookie = folder.write("wrong", "another-cookie-of-enough-length\n");
    auto refused = eamctl_session{a.address(), wrong_cookie}.start({"--timeout", "2000", "nodes"});
    refused->wait(120s);
    CHECK(refused->status() == 1);
    CHECK(refused->err().find("no member answered") != std::string::npos);

    // A second node under a's id, joining through b: b refuses it and tells it why, which its
    // health says (it runs alone meanwhile; before, it said "healthy" without a word).
    child_node dup = eamctl_start(folder.write("dup.toml", "node_id = \"a\"\ncookie_file = \"cookie\"\nseeds = [\"" +
                                                              b.address() + "\"]\n"));
    const std::vector<std::string> in_use = {
        "health          unhealthy (cluster: node id a is in use: node b refused this node, being connected to "
        "another node a at " + a.address() + ")"};
    CHECK(eventually([&] {
      return lines_starting(eamctl_session{dup.address(), cookie}.run({"info", "a"})->out(), "health ") == in_use;
    }, 60s));
    CHECK(dup.terminate());

    // A signal ends a session with a graceful leave (status 128 + the signal): top runs until
    // then.
    auto watching = ctl.start({"top", "a", "--interval", "50"});
    REQUIRE(eventually([&] { return watching->finished() || lines_starting(watching->out(), "a  ").size() >= 1; }, 60s));
    watching->signal(SIGTERM);
    watching->wait(60s);
    CHECK(watching->status() == 128 + SIGTERM);
    CHECK(ctl.run({"deploy", "b", "b"})->status() == 2);  // a node named twice
    CHECK(ctl.run({"--timeout", "0", "nodes"})->status() == 2);
    command_run no_seed(EAM_EAMCTL_PATH, {"nodes"});
    no_seed.wait(60s);
    CHECK(no_seed.status() == 2);
    CHECK(no_seed.err().find("no seed to join through") != std::string::npos);
    for (const char* seed : {"127.0.0.1", "127.0.0.1:0", ":4370", "127.0.0.1:x"}) {
      command_run bad_seed(EAM_EAMCTL_PATH, {"--seed", seed, "nodes"});
      bad_seed.wait(60s);
      CHECK_MESSAGE(bad_seed.status() == 2, seed);  // it said status 1, as if the cluster had refused
      CHECK(bad_seed.err().find("--seed takes HOST:PORT") != std::string::npos);
    }
    auto too_long = ctl.run({"--timeout", "99999999999", "nodes"});
    CHECK(too_long->status() == 2);
    CHECK(too_long->err().find("--timeout takes at most 4294967295") != std::string::npos);

    // A node cannot be evacuated to itself or to a node that is not there: refused before it
    // drains (every actor was counted as failed, those that save no state too, and the node
    // was left draining).
    for (const char* to : {"b", "zz"}) {
      auto nowhere = ctl.run({"evacuate", "b", to});
      CHECK(nowhere->status() == 1);
      CHECK(nowhere->out().empty());
      CHECK(nowhere->err().find(std::string(to) == "b" ? "same_node" : "peer_not_found") != std::string::npos);
      CHECK(lines_starting(ctl.run({"info", "b"})->out(), "draining ") ==
            std::vector<std::string>{"draining        no"});
    }
    // A deploy whose list names a node that is not a member stops before the first node: b is
    // neither evacuated nor stopped (before, b was, and only then did the deploy find zz).
    auto misspelt = ctl.run({"deploy", "--rejoin-timeout", "1000", "b", "zz"});
    CHECK(misspelt->status() == 1);
    CHECK(misspelt->err().find("zz is not a member") != std::string::npos);
    CHECK(misspelt->out().empty());
    CHECK_FALSE(b.exited());

    // Every eamctl run above left: a and b count none of them connected, only the one asking
    // now (each run's node left before some node had dialled it back, and stayed "connected"
    // there until the heartbeat timeout; a signalled one was killed without a leave).
    for (const char* node : {"a", "b"}) {
      auto peers = lines_starting(ctl.run({"info", node})->out(), "peers ");
      REQUIRE(peers.size() == 1);
      std::size_t sessions = 0;
      for (std::size_t at = peers[0].find("eamctl-"); at != std::string::npos; at = peers[0].find("eamctl-", at + 1))
        ++sessions;
      CHECK_MESSAGE(sessions == 1, node << ": " << peers[0]);
    }

    // top whose reader goes away ends with its leave, status 0 (SIGPIPE killed it: 141).
    const std::string piped = std::string(EAM_EAMCTL_PATH) + " --seed " + a.address() + " --cookie-file " + cookie +
                              " top a --interval 50 | head -n 1; exit ${PIPESTATUS[0]}";
    command_run top_to_head("/bin/bash", {"-c", piped});
    top_to_head.wait(120s);
    CHECK(top_to_head.status() == 0);
    CHECK(lines_starting(top_to_head.out(), "a  healthy").size() == 1);

    // stop: b leaves the cluster and its process ends by itself, with status 0. A top watching
    // it ends then, saying so.
    auto watching_b = ctl.start({"top", "b", "--interval", "50"});
    REQUIRE(eventually([&] { return watching_b->finished() || lines_starting(watching_b->out(), "b  ").size() >= 1; }, 60s));
    auto stop = ctl.run({"stop", "b"});
    CHECK(stop->status() == 0);
    CHECK(stop->out() == "b stopped\n");
    CHECK(b.wait_exit());
    watching_b->wait(120s);
    CHECK(watching_b->status() == 1);
    CHECK(watching_b->err().find("b is gone") != std::string::npos);  // it said the control service's actor ended
    // The seed's view: b is listed as departed, not dropped.
    auto after = ctl.run({"nodes"});
    const auto b_after = lines_starting(after->out(), "b ");
    REQUIRE(b_after.size() == 1);
    CHECK(b_after[0].find(" left ") != std::string::npos);
    auto about_b = ctl.run({"info", "b"});
    CHECK(about_b->status() == 1);
    CHECK(about_b->err().find("b has left the cluster") != std::string::npos);  // "not a member", which nodes contradicted
    CHECK(lines_starting(after->out(), "eamctl-").empty());  // departed sessions neither
    // SIGTERM stops a gracefully as well.
    CHECK(a.terminate());
  }

  TEST_CASE("eamctl start stops at a signal while it waits for its ready condition") {
    scratch_folder folder;
    folder.write("cookie", test_cookie + "\n");
    const std::string config = folder.write("lonely.toml", R"(node_id = "lonely"
cookie_file = "cookie"
[ready]
min_members = 5
timeout_ms = 600000
)");
    command_run lonely(EAM_EAMCTL_PATH, {"start", config});
    REQUIRE(eventually([&] { return lonely.finished() || lonely.out().find("waits until") != std::string::npos; }, 60s));
    lonely.signal(SIGTERM);
    lonely.wait(120s);
    CHECK(lonely.status() == 0);
    CHECK(lonely.out().find("started") == std::string::npos);
  }

  TEST_CASE("eamctl stop ends eamctl start while it waits for its ready condition") {
    scratch_folder folder;
    const std::string cookie = folder.write("cookie", test_cookie + "\n");
    child_node a = eamctl_start(folder.write("a.toml", "node_id = \"a\"\ncookie_file = \"cookie\"\n"));
    const std::string config = folder.write("waiting.toml", "node_id = \"waiting\"\ncookie_file = \"cookie\"\n"
                                                            "seeds = [\"" + a.address() + "\"]\n"
                                                            "[ready]\nmin_members = 5\ntimeout_ms = 600000\n");
    command_run waiting(EAM_EAMCTL_PATH, {"start", config});
    REQUIRE(eventually([&] { return waiting.finished() || waiting.out().find("waits until") != std::string::npos; }, 60s));
    const eamctl_session ctl{a.address(), cookie};
    REQUIRE(eventually([&] { return ctl.run({"info", "waiting"})->status() == 0; }, 60s));  // a member, not ready
    auto stop = ctl.run({"stop", "waiting"});
    CHECK(stop->status() == 0);
    // It ends at once with its node, as at a signal (it spun until the ready timeout, then
    // failed with status 1).
    waiting.wait(120s);
    CHECK(waiting.status() == 0);
    CHECK(waiting.out().find("stopped waiting") != std::string::npos);
    CHECK(a.terminate());
  }

  TEST_CASE("a rolling deploy passes over a member that does not answer and moves the actors to the next") {
    auto here = start_test_node("t");
    here->drain();  // the test's own node takes no actors
    scratch_folder folder;
    const eamctl_session ctl{here->address(), folder.write("cookie", test_cookie + "\n")};
    const auto member = [&](const std::string& id) { return host_member(id, *here); };
    // Members are looked at in the order of their ids: the paused one first.
    auto paused = member("a-paused");
    auto b = member("b");
    auto c = member("c");
    for (const char* id : {"a-paused", "b", "c"}) REQUIRE(here->wait_for_peer(id, 30s));
    REQUIRE(here->spawn<placed_counter_ref>("test.tally",
                                            {.placement = eam::cluster::placement::round_robin, .role = "host-b",
                                             .name = "kept"},
                                            7)
                .has_value());
    // Paused, it stays a member for seconds (until its suspicion runs out) and answers nothing.
    paused->pause();
    auto deploy = ctl.start({"deploy", "--timeout", "3000", "--forward-wait", "0", "b"});
    const auto deadline = std::chrono::steady_clock::now() + 240s;
    while (!deploy->finished() && std::chrono::steady_clock::now() < deadline) {
      if (b->exited()) b = member("b");  // its process manager
      std::this_thread::sleep_for(20ms);
    }
    deploy->wait(1s);
    INFO("deploy said: ", deploy->out(), deploy->err());
    CHECK(deploy->status() == 0);  // it failed with "cannot connect to a-paused"
    CHECK(lines_starting(deploy->out(), "b: ") == std::vector<std::string>{"b: 1 actors moved to c, 0 failed"});
    REQUIRE(here->wait_for_peer("c", 30s));
    auto kept = here->whereis<placed_counter_ref>("c", "kept");
    REQUIRE(kept.has_value());
    const auto got = kept.value().call(get{}).get();
    CHECK((got.has_value() && got.value() == 7));
    paused->resume();
  }

  TEST_CASE("migrate, evacuate and a rolling deploy move named actors between node processes and lose none") {
    auto here = start_test_node("t");
    scratch_folder folder;
    const eamctl_session ctl{here->address(), folder.write("cookie", test_cookie + "\n")};
    const auto member = [&](const std::string& id) { return host_member(id, *here); };
    auto b = member("b");
    auto c = member("c");
    REQUIRE(here->wait_for_peer("b", 30s));
    REQUIRE(here->wait_for_peer("c", 30s));
    const auto value_of = [&](const std::string& node, const std::string& name) -> std::optional<int> {
      auto ref = here->whereis<placed_counter_ref>(node, name);
      if (!ref) return std::nullopt;
      auto got = ref.value().call(get{}).get();
      return got ? std::optional<int>(got.value()) : std::nullopt;
    };
    for (int i = 1; i <= 3; ++i)
      REQUIRE(here->spawn<placed_counter_ref>("test.tally",
                                              {.placement = eam::cluster::placement::round_robin,
                                               .role = "host-b",
                                               .name = "t" + std::to_string(i)},
                                              i * 10)
                  .has_value());

    auto migrate = ctl.run({"migrate", "b", "t1", "c"});
    CHECK(migrate->status() == 0);
    CHECK(migrate->out() == "t1 moved from b to c\n");
    CHECK(value_of("c", "t1") == 10);
    // The name is c's now: b lists its relay (until its forward_for ends it) as what it is,
    // not under the name (t1 showed on both nodes).
    const auto named_t1 = [](const std::string& listing) {
      std::istringstream rows(listing);
      std::string id, name;
      for (std::string row; std::getline(rows, row);)
        if (std::istringstream(row) >> id >> name && name == "t1") return true;
      return false;
    };
    const std::string on_b = ctl.run({"actors", "b"})->out();
    INFO("b: ", on_b);
    CHECK_FALSE(named_t1(on_b));
    CHECK(named_t1(ctl.run({"actors", "c"})->out()));

    auto evacuate = ctl.run({"evacuate", "b", "c"});
    CHECK(evacuate->status() == 0);
    CHECK(evacuate->out() == "b: 2 actors moved to c, 0 failed\n");
    // b holds proxies of the moved actors (its relays pass messages on to them): info counts
    // b's actors as the listing does, without them (it counted them as actors).
    const auto count_after = [](const std::string& line, const std::string& word) {
      const auto at = line.find(word);
      return at == std::string::npos ? -1L : std::stol(line.substr(at + word.size()));
    };
    const auto info_b = lines_starting(ctl.run({"info", "b"})->out(), "actors ");
    const auto listed = ctl.run({"actors", "b"})->out();
    REQUIRE(info_b.size() == 1);
    const auto total_line = listed.substr(listed.rfind('\n', listed.size() - 2) + 1);
    INFO("info: ", info_b[0], " listing: ", total_line);
    CHECK(count_after(info_b[0], "actors") == count_after(total_line, " of "));
    CHECK(value_of("c", "t2") == 20);
    CHECK(value_of("c", "t3") == 30);

    // A rolling deploy of c then b, with this test as their process manager: a node that
    // ends is started again under its id. b drains since its evacuation: undrained first, so
    // that it takes c's actors.
    CHECK(ctl.run({"undrain", "b"})->status() == 0);
    auto deploy = ctl.start({"deploy", "--forward-wait", "0", "c", "b"});
    int restarts = 0;
    const auto deadline = std::chrono::steady_clock::now() + 240s;
    while (!deploy->finished() && std::chrono::steady_clock::now() < deadline) {
      if (c->exited()) {
        c = member("c");
        ++restarts;
      }
      if (b->exited()) {
        b = member("b");
        ++restarts;
      }
      std::this_thread::sleep_for(20ms);
    }
    deploy->wait(1s);
    INFO("deploy said: ", deploy->out(), deploy->err());
    CHECK(deploy->status() == 0);
    CHECK(restarts == 2);
    CHECK(lines_starting(deploy->out(), "c: ") == std::vector<std::string>{"c: 3 actors moved to b, 0 failed"});
    CHECK(lines_starting(deploy->out(), "b: ") == std::vector<std::string>{"b: 3 actors moved to c, 0 failed"});
    CHECK(deploy->out().find("deployed 2 nodes") != std::string::npos);
    // Each actor moved twice, its state with it, and now lives on the new life of c.
    REQUIRE(here->wait_for_peer("c", 30s));
    CHECK(value_of("c", "t1") == 10);
    CHECK(value_of("c", "t2") == 20);
    CHECK(value_of("c", "t3") == 30);
  }
}
