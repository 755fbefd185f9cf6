#include <eam/cluster/config_file.hpp>
#include <eam/cluster/errc.hpp>

#include "config_check.hpp"

// toml++ from Debian, used header-only: its code is compiled into this one file, so a program
// that links the cluster library needs no toml++ library beside it.
#define TOML_HEADER_ONLY 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

namespace eam::cluster {
namespace {

// Thrown inside the reader, turned into an invalid_config error at its edge.
struct config_error {
  std::string why;
};

class config_reader {
 public:
  config_reader(std::string source, std::filesystem::path base) : source_(std::move(source)), base_(std::move(base)) {}

  node_config read(const toml::table& root) {
    node_config c;
    const section top{
        {"node_id", [&](const toml::node& v) { c.node_id = text(v); }},
        {"bind_address", [&](const toml::node& v) { c.bind_address = text(v); }},
        {"advertise_address", [&](const toml::node& v) { c.advertise_address = text(v); }},
        {"port", [&](const toml::node& v) { c.port = number<std::uint16_t>(v); }},
        {"seeds", [&](const toml::node& v) { c.seeds = texts(v); }},
        {"roles", [&](const toml::node& v) { c.roles = texts(v); }},
        {"metadata", [&](const toml::node& v) { c.metadata = text_map(v); }},
        {"cookie", [&](const toml::node& v) { set_cookie(c, text(v), v); }},
        {"cookie_file", [&](const toml::node& v) { set_cookie(c, read_cookie_file(text(v), v), v); }},
        {"salt", [&](const toml::node& v) { c.salt = text(v); }},
        {"heartbeat_interval_ms", [&](const toml::node& v) { c.heartbeat_interval = millis(v); }},
        {"heartbeat_timeout_ms", [&](const toml::node& v) { c.heartbeat_timeout = millis(v); }},
        {"send_buffer_bytes", [&](const toml::node& v) { c.send_buffer_bytes = number<std::size_t>(v); }},
        {"max_frame_bytes", [&](const toml::node& v) { c.max_frame_bytes = number<std::size_t>(v); }},
        {"lookup_timeout_ms", [&](const toml::node& v) { c.lookup_timeout = millis(v); }},
        {"connect_wait_ms", [&](const toml::node& v) { c.connect_wait = millis(v); }},
        {"raise_file_limit", [&](const toml::node& v) { c.raise_file_limit = flag(v); }},
        {"membership", [&](const toml::node& v) { read_membership(c.membership, v); }},
        {"system", [&](const toml::node& v) { read_system(c.system, v); }},
        {"ready", [&](const toml::node& v) { read_ready(c, v); }},
    };
    walk(root, top, "");
    // What start_node would refuse is refused here, at the key that set it.
    if (auto problem = internal::check_node_config(c, c.cookie)) blame(root, *problem);
    return c;
  }

 private:
  using section = std::map<std::string, std::function<void(const toml::node&)>, std::less<>>;

  void walk(const toml::table& table, const section& keys, const std::string& prefix) {
    for (auto&& [key, value] : table) {
      const std::string name = prefix + std::string(key.str());
      auto found = keys.find(key.str());
      if (found == keys.end()) fail(value, "unknown key \"" + name + "\"");
      key_ = name;
      found->second(value);
    }
  }
  const toml::table& table_of(const toml::node& v) {
    if (!v.is_table()) fail(v, "\"" + key_ + "\" must be a table");
    return *v.as_table();
  }

  void read_membership(membership_config& m, const toml::node& v) {
    const section keys{
        {"probe_interval_ms", [&](const toml::node& x) { m.probe_interval = millis(x); }},
        {"probe_timeout_ms", [&](const toml::node& x) { m.probe_timeout = millis(x); }},
        {"indirect_checks", [&](const toml::node& x) { m.indirect_checks = number<int>(x); }},
        {"retransmit_mult", [&](const toml::node& x) { m.retransmit_mult = number<int>(x); }},
        {"suspicion_mult", [&](const toml::node& x) { m.suspicion_mult = number<int>(x); }},
        {"suspicion_max_timeout_mult", [&](const toml::node& x) { m.suspicion_max_timeout_mult = number<int>(x); }},
        {"awareness_max_multiplier", [&](const toml::node& x) { m.awareness_max_multiplier = number<int>(x); }},
        {"gossip_interval_ms", [&](const toml::node& x) { m.gossip_interval = millis(x); }},
        {"gossip_nodes", [&](const toml::node& x) { m.gossip_nodes = number<int>(x); }},
        {"gossip_to_the_dead_ms", [&](const toml::node& x) { m.gossip_to_the_dead = millis(x); }},
        {"push_pull_interval_ms", [&](const toml::node& x) { m.push_pull_interval = millis(x); }},
        {"reconnect_interval_ms", [&](const toml::node& x) { m.reconnect_interval = millis(x); }},
        {"reconnect_timeout_ms", [&](const toml::node& x) { m.reconnect_timeout = millis(x); }},
        {"left_retention_ms", [&](const toml::node& x) { m.left_retention = millis(x); }},
        {"hidden", [&](const toml::node& x) { m.hidden = flag(x); }},
        {"join_retry_ms", [&](const toml::node& x) { m.join_retry = millis(x); }},
        {"datagram_budget", [&](const toml::node& x) { m.datagram_budget = number<std::size_t>(x); }},
        {"replay_window_ms", [&](const toml::node& x) { m.replay_window = millis(x); }},
    };
    walk(table_of(v), keys, "membership.");
  }

  void read_system(system_config& s, const toml::node& v) {
    const section keys{
        {"workers", [&](const toml::node& x) { s.workers = number<unsigned>(x); }},
        {"adaptive_workers", [&](const toml::node& x) { s.adaptive_workers = flag(x); }},
        {"throughput", [&](const toml::node& x) { s.throughput = number<unsigned>(x); }},
        {"default_mailbox_bound", [&](const toml::node& x) { s.default_mailbox_bound = number<std::uint32_t>(x); }},
        {"health_backlog_threshold", [&](const toml::node& x) { s.health_backlog_threshold = number<std::uint64_t>(x); }},
        {"large_pages", [&](const toml::node& x) { s.large_pages = flag(x); }},
        {"calls_run_on_caller", [&](const toml::node& x) { s.calls_run_on_caller = flag(x); }},
    };
    walk(table_of(v), keys, "system.");
  }

  void read_ready(node_config& c, const toml::node& v) {
    cluster_condition ready;
    const section keys{
        {"min_members", [&](const toml::node& x) { ready.min_members = number<std::size_t>(x); }},
        {"nodes", [&](const toml::node& x) { ready.nodes = texts(x); }},
        {"timeout_ms", [&](const toml::node& x) { ready.timeout = millis(x); }},
    };
    walk(table_of(v), keys, "ready.");
    c.ready = std::move(ready);
  }

  void set_cookie(node_config& c, std::string cookie, const toml::node& v) {
    if (c.cookie) fail(v, "give either cookie or cookie_file, not both");
    c.cookie = std::move(cookie);
  }
  std::string read_cookie_file(const std::string& name, const toml::node& v) {
    const std::filesystem::path given(name);
    const std::filesystem::path path = given.is_absolute() ? given : base_ / given;
    std::error_code not_a_file;  // a folder opens as an empty file: read as no cookie at all
    if (std::filesystem::exists(path, not_a_file) && !std::filesystem::is_regular_file(path, not_a_file))
      fail(v, "cookie_file " + path.string() + " is not a file");
    std::ifstream in(path);
    if (!in) fail(v, "cannot read cookie_file " + path.string());
    std::string cookie;
    std::getline(in, cookie);
    if (!cookie.empty() && cookie.back() == '\r') cookie.pop_back();
    return cookie;
  }

  std::string text(const toml::node& v) {
    if (!v.is_string()) fail(v, "\"" + key_ + "\" must be a string");
    return v.as_string()->get();
  }
  bool flag(const toml::node& v) {
    if (!v.is_boolean()) fail(v, "\"" + key_ + "\" must be true or false");
    return v.as_boolean()->get();
  }
  template <class T>
  T number(const toml::node& v) {
    if (!v.is_integer()) fail(v, "\"" + key_ + "\" must be an integer");
    const std::int64_t n = v.as_integer()->get();
    if (n < 0 || static_cast<std::uint64_t>(n) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      fail(v, "\"" + key_ + "\" is out of range: " + std::to_string(n));
    return static_cast<T>(n);
  }
  std::chrono::milliseconds millis(const toml::node& v) { return std::chrono::milliseconds(number<std::int64_t>(v)); }
  std::vector<std::string> texts(const toml::node& v) {
    if (!v.is_array()) fail(v, "\"" + key_ + "\" must be an array of strings");
    std::vector<std::string> out;
    const std::string outer = key_;
    for (const toml::node& item : *v.as_array()) {
      key_ = outer + "[" + std::to_string(out.size()) + "]";  // the item that is not a string
      out.push_back(text(item));
    }
    key_ = outer;
    return out;
  }
  std::map<std::string, std::string> text_map(const toml::node& v) {
    std::map<std::string, std::string> out;
    const std::string outer = key_;
    for (auto&& [key, value] : table_of(v)) {
      key_ = outer + "." + std::string(key.str());
      out.emplace(std::string(key.str()), text(value));
    }
    return out;
  }

  // The first of the problem's fields that the file sets, at its key and line (a duration's
  // key ends in _ms; the cookie comes from cookie or cookie_file); none set, the defaults are.
  [[noreturn]] void blame(const toml::table& root, const internal::config_problem& problem) {
    for (const std::string& field : problem.fields) {
      const std::vector<std::string> keys =
          field == "cookie" ? std::vector<std::string>{"cookie", "cookie_file"} : std::vector<std::string>{field, field + "_ms"};
      for (const std::string& key : keys)
        if (const toml::node* set = root.at_path(key).node()) fail(*set, "\"" + key + "\": " + problem.why);
    }
    throw config_error{source_ + ": " + problem.why + " (the defaults)"};
  }

  [[noreturn]] void fail(const toml::node& at, const std::string& why) {
    throw config_error{source_ + ":" + std::to_string(at.source().begin.line) + ": " + why};
  }

  std::string source_;
  std::filesystem::path base_;
  std::string key_;  // the key being read, for errors
};

result<node_config> parse_in(std::string_view toml_text, std::string_view source, std::filesystem::path base) {
  try {
    const toml::table root = toml::parse(toml_text, source);
    return config_reader(std::string(source), std::move(base)).read(root);
  } catch (const toml::parse_error& e) {
    return error(cluster_errc::invalid_config, std::string(source) + ":" + std::to_string(e.source().begin.line) +
                                                   ": " + std::string(e.description()));
  } catch (const config_error& e) {
    return error(cluster_errc::invalid_config, e.why);
  }
}

}  // namespace

result<node_config> parse_node_config(std::string_view toml_text, std::string_view source) {
  return parse_in(toml_text, source, std::filesystem::current_path());
}

result<node_config> load_node_config(const std::string& path) {
  // A folder opens as an empty file, which would read as a node of every default.
  std::error_code not_a_file;
  if (std::filesystem::exists(path, not_a_file) && !std::filesystem::is_regular_file(path, not_a_file))
    return error(cluster_errc::invalid_config, path + " is not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(cluster_errc::invalid_config, "cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  const std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  return parse_in(content.str(), path, base);
}

}  // namespace eam::cluster
