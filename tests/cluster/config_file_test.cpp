// A node's configuration read from TOML (eam/cluster/config_file.hpp): every key lands in its
// field, and what is wrong is refused with the key and its line, never read as a default.
#include "../support/scratch_folder.hpp"

#include <doctest/doctest.h>
#include <eam/cluster/config_file.hpp>
#include <eam/cluster/errc.hpp>

#include <filesystem>
#include <string>

using eam::test::scratch_folder;
using namespace std::chrono_literals;

namespace {

// The error's text of a configuration that must be refused (empty when it was taken).
std::string refusal(std::string_view toml) {
  auto config = eam::cluster::parse_node_config(toml, "test.toml");
  if (config) return "";
  CHECK(config.error_value().code() == eam::cluster::cluster_errc::invalid_config);
  return config.error_value().context();
}

}  // namespace

TEST_SUITE("cluster.config_file") {
  TEST_CASE("every key lands in its field") {
    auto config = eam::cluster::parse_node_config(R"(
node_id = "worker-1"
bind_address = "0.0.0.0"
advertise_address = "10.0.0.7"
port = 4370
seeds = ["10.0.0.1:4370", "10.0.0.2:4370"]
roles = ["worker", "frontend"]
cookie = "a-cookie-of-enough-length"
salt = "salt-2"
heartbeat_interval_ms = 500
heartbeat_timeout_ms = 9000
send_buffer_bytes = 1048576
max_frame_bytes = 65536
lookup_timeout_ms = 1500
connect_wait_ms = 2500
raise_file_limit = false
[metadata]
zone = "eu-1"
rack = "r7"
[membership]
probe_interval_ms = 700
probe_timeout_ms = 300
suspicion_mult = 5
gossip_nodes = 4
reconnect_interval_ms = 3000
hidden = true
[system]
workers = 3
adaptive_workers = false
throughput = 50
default_mailbox_bound = 1000
[ready]
min_members = 3
nodes = ["a", "b"]
timeout_ms = 12000
)");
    REQUIRE(config.has_value());
    const auto& c = config.value();
    CHECK(c.node_id == "worker-1");
    CHECK(c.bind_address == "0.0.0.0");
    CHECK(c.advertise_address == "10.0.0.7");
    CHECK(c.port == 4370);
    CHECK(c.seeds == std::vector<std::string>{"10.0.0.1:4370", "10.0.0.2:4370"});
    CHECK(c.roles == std::vector<std::string>{"worker", "frontend"});
    CHECK(c.cookie == "a-cookie-of-enough-length");
    CHECK(c.salt == "salt-2");
    CHECK(c.heartbeat_interval == 500ms);
    CHECK(c.heartbeat_timeout == 9000ms);
    CHECK(c.send_buffer_bytes == 1048576);
    CHECK(c.max_frame_bytes == 65536);
    CHECK(c.lookup_timeout == 1500ms);
    CHECK(c.connect_wait == 2500ms);
    CHECK_FALSE(c.raise_file_limit);
    CHECK(c.metadata == std::map<std::string, std::string>{{"rack", "r7"}, {"zone", "eu-1"}});
    CHECK(c.membership.probe_interval == 700ms);
    CHECK(c.membership.probe_timeout == 300ms);
    CHECK(c.membership.suspicion_mult == 5);
    CHECK(c.membership.gossip_nodes == 4);
    CHECK(c.membership.reconnect_interval == 3000ms);
    CHECK(c.membership.hidden);
    CHECK(c.system.workers == 3);
    CHECK_FALSE(c.system.adaptive_workers);
    CHECK(c.system.throughput == 50);
    CHECK(c.system.default_mailbox_bound == 1000);
    REQUIRE(c.ready.has_value());
    CHECK(c.ready->min_members == 3);
    CHECK(c.ready->nodes == std::vector<std::string>{"a", "b"});
    CHECK(c.ready->timeout == 12000ms);
  }

  TEST_CASE("an empty file is node_config's defaults") {
    auto config = eam::cluster::parse_node_config("", "empty.toml");
    REQUIRE(config.has_value());
    const eam::cluster::node_config defaults;
    CHECK(config.value().port == defaults.port);
    CHECK(config.value().bind_address == defaults.bind_address);
    CHECK_FALSE(config.value().cookie.has_value());  // LIBEAM_COOKIE, as start_node reads it
    CHECK_FALSE(config.value().ready.has_value());
    CHECK(config.value().membership.probe_interval == defaults.membership.probe_interval);
  }

  TEST_CASE("a misspelt or unknown key is refused with its line, at the top and in a table") {
    CHECK(refusal("node_id = \"a\"\nprot = 4370\n") == "test.toml:2: unknown key \"prot\"");
    CHECK(refusal("[membership]\nprobe_interval = 700\n") == "test.toml:2: unknown key \"membership.probe_interval\"");
    CHECK(refusal("[clusterr]\nx = 1\n").find("unknown key \"clusterr\"") != std::string::npos);
  }

  TEST_CASE("a value of the wrong type or out of range is refused") {
    CHECK(refusal("port = \"4370\"") == "test.toml:1: \"port\" must be an integer");
    CHECK(refusal("port = 70000") == "test.toml:1: \"port\" is out of range: 70000");
    CHECK(refusal("heartbeat_interval_ms = -5") == "test.toml:1: \"heartbeat_interval_ms\" is out of range: -5");
    CHECK(refusal("seeds = \"a:1\"") == "test.toml:1: \"seeds\" must be an array of strings");
    CHECK(refusal("roles = [\"a\", 2]") == "test.toml:1: \"roles[1]\" must be a string");
    CHECK(refusal("raise_file_limit = 1") == "test.toml:1: \"raise_file_limit\" must be true or false");
    CHECK(refusal("membership = 3") == "test.toml:1: \"membership\" must be a table");
    CHECK(refusal("[metadata]\nzone = 1\n") == "test.toml:2: \"metadata.zone\" must be a string");
    CHECK(refusal("[system]\nworkers = 1.5\n") == "test.toml:2: \"system.workers\" must be an integer");
  }

  TEST_CASE("what start_node would refuse is refused at the key and line that set it, with the values") {
    // Before, these passed the file and failed at start, with node_config's names and no line
    // ("membership: counts and multipliers must be positive": which one?).
    CHECK(refusal("[membership]\nprobe_interval_ms = 500\n") ==
          "test.toml:2: \"membership.probe_interval_ms\": membership.probe_timeout (500 ms) must be positive and "
          "below membership.probe_interval (500 ms)");
    CHECK(refusal("[membership]\ngossip_nodes = 0\n") ==
          "test.toml:2: \"membership.gossip_nodes\": membership.gossip_nodes must be at least 1, not 0");
    CHECK(refusal("heartbeat_interval_ms = 0\n") ==
          "test.toml:1: \"heartbeat_interval_ms\": heartbeat_interval must be positive, not 0 ms");
    CHECK(refusal("node_id = \"a\"\nmax_frame_bytes = 100\n") ==
          "test.toml:2: \"max_frame_bytes\": max_frame_bytes must be at least 1024, not 100");
    CHECK(refusal("seeds = [\"10.0.0.1\"]\n") == "test.toml:1: \"seeds\": seed \"10.0.0.1\" is not host:port");
    CHECK(refusal("cookie = \"short\"\n") == "test.toml:1: \"cookie\": a cookie has at least 16 characters, not 5");
  }

  TEST_CASE("what is not TOML is refused with its line") {
    const std::string why = refusal("node_id = \"a\"\nport = \n");
    CHECK(why.rfind("test.toml:2: ", 0) == 0);
  }

  TEST_CASE("a file's cookie_file is read beside it, and a cookie is given once") {
    scratch_folder folder;
    folder.write("cookie", "a-cookie-from-a-file-of-length\n");
    folder.write("node.toml", "node_id = \"b\"\ncookie_file = \"cookie\"\n");
    auto config = eam::cluster::load_node_config((folder.path / "node.toml").string());
    REQUIRE(config.has_value());
    CHECK(config.value().node_id == "b");
    CHECK(config.value().cookie == "a-cookie-from-a-file-of-length");

    folder.write("both.toml", "cookie = \"a-cookie-of-enough-length\"\ncookie_file = \"cookie\"\n");
    auto both = eam::cluster::load_node_config((folder.path / "both.toml").string());
    REQUIRE_FALSE(both.has_value());
    CHECK(std::string(both.error_value().what()).find("either cookie or cookie_file") != std::string::npos);

    folder.write("missing.toml", "cookie_file = \"nothing-here\"\n");
    auto missing = eam::cluster::load_node_config((folder.path / "missing.toml").string());
    REQUIRE_FALSE(missing.has_value());
    CHECK(std::string(missing.error_value().what()).find("cannot read cookie_file") != std::string::npos);

    auto no_file = eam::cluster::load_node_config((folder.path / "absent.toml").string());
    REQUIRE_FALSE(no_file.has_value());
    CHECK(no_file.error_value().code() == eam::cluster::cluster_errc::invalid_config);
  }

  TEST_CASE("a folder named as the config file or as the cookie_file is refused, not read as an empty file") {
    // A folder opens as an empty file: it read as a node of every default (a random id, no
    // seeds, open mode), and as a cookie_file as a cookie too short.
    scratch_folder folder;
    std::filesystem::create_directory(folder.path / "conf.d");
    auto as_config = eam::cluster::load_node_config((folder.path / "conf.d").string());
    REQUIRE_FALSE(as_config.has_value());
    CHECK(as_config.error_value().code() == eam::cluster::cluster_errc::invalid_config);
    CHECK(std::string(as_config.error_value().what()).find("is not a file") != std::string::npos);

    folder.write("node.toml", "cookie_file = \"conf.d\"\n");
    auto as_cookie = eam::cluster::load_node_config((folder.path / "node.toml").string());
    REQUIRE_FALSE(as_cookie.has_value());
    CHECK(std::string(as_cookie.error_value().what()).find("is not a file") != std::string::npos);
    CHECK(std::string(as_cookie.error_value().what()).find("node.toml:1") != std::string::npos);
  }
}
