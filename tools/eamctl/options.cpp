#include "options.hpp"

#include <eam/cluster/node.hpp>

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace eamctl {

const char* const usage_text = R"(usage: eamctl [options] COMMAND [arguments]

Commands:
  start CONFIG           run a node from a TOML file (eam/cluster/config_file.hpp) until it is
                         stopped: eamctl stop, SIGINT or SIGTERM (a graceful leave)
  nodes                  the cluster's members: id, status, address, roles
  info NODE              what NODE says of itself: health, actors, peers, traffic
  actors NODE            NODE's actors with their mailboxes, busiest first (--limit)
  drain NODE             NODE takes no more spawns or migrated actors
  undrain NODE           NODE takes them again
  migrate NODE NAME TO   move the actor registered as NAME on NODE to node TO
  evacuate NODE TO       drain NODE and move all its migratable actors to TO
  stop NODE              shut NODE down (its peers see it leave at once)
  top NODE               NODE's health and busiest actors, refreshed (--interval, --count)
  deploy NODE...         a rolling restart: for each NODE in turn, evacuate it to the next
                         member that takes actors, wait --forward-wait, stop it, and wait until
                         its process manager has brought it back (the same node id, a new
                         life) before the next one

Options:
  --seed HOST:PORT       a member to join through (repeatable; default: LIBEAM_SEED)
  --cookie-file FILE     the cluster's cookie (default: LIBEAM_COOKIE; none: open mode)
  --salt SALT            the key derivation's salt (default libeam-v2)
  --bind ADDRESS         where eamctl's own node listens (default: the local address that
                         reaches the seed)
  --timeout MS           how long to wait for a node's answer (default 10000)
  --rejoin-timeout MS    deploy: how long to wait for a stopped node to come back (120000)
  --forward-wait MS      deploy: how long an evacuated node keeps passing messages sent to
                         its moved actors' old refs on before it stops (10000)
  --limit N              actors, top: how many to list (default 50; 0: all)
  --interval MS          top: between two refreshes (default 1000)
  --count N              top: refreshes before it ends (default 0: until interrupted)
)";

namespace {

long long whole_number(std::string_view flag, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 0) throw usage_error{std::string(flag) + " takes a whole number, not " + value};
  if (errno == ERANGE || n > 0xffffffffLL)
    throw usage_error{std::string(flag) + " takes at most 4294967295, not " + value};
  return n;
}

// What does not parse as HOST:PORT (eam::cluster::is_host_port) is a command-line error, not
// a failure to join.
std::string seed_address(std::string_view from, const std::string& value) {
  if (!eam::cluster::is_host_port(value))
    throw usage_error{std::string(from) + " takes HOST:PORT (a port of 1 to 65535), not " + value};
  return value;
}

}  // namespace

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      o.show_help = true;
      continue;
    }
    if (arg.size() > 2 && arg.substr(0, 2) == "--") {
      if (i + 1 >= argc) throw usage_error{std::string(arg) + " needs a value"};
      const std::string value = argv[++i];
      if (arg == "--seed") o.seeds.push_back(seed_address(arg, value));
      else if (arg == "--cookie-file") o.cookie_file = value;
      else if (arg == "--salt") o.salt = value;
      else if (arg == "--bind") o.bind_address = value;
      else if (arg == "--timeout") o.timeout = std::chrono::milliseconds(whole_number(arg, value));
      else if (arg == "--rejoin-timeout") o.rejoin_timeout = std::chrono::milliseconds(whole_number(arg, value));
      else if (arg == "--forward-wait") o.forward_wait = std::chrono::milliseconds(whole_number(arg, value));
      else if (arg == "--limit") o.limit = static_cast<std::uint32_t>(whole_number(arg, value));
      else if (arg == "--interval") o.interval = std::chrono::milliseconds(whole_number(arg, value));
      else if (arg == "--count") o.count = static_cast<std::uint32_t>(whole_number(arg, value));
      else throw usage_error{"unknown option " + std::string(arg)};
      continue;
    }
    if (o.command.empty()) o.command = arg;
    else o.arguments.emplace_back(arg);
  }
  if (o.seeds.empty())
    if (const char* seed = std::getenv("LIBEAM_SEED"); seed != nullptr && *seed != '\0') o.seeds.push_back(seed_address("LIBEAM_SEED", seed));
  if (o.timeout.count() == 0) throw usage_error{"--timeout takes a positive number of milliseconds"};
  if (o.command == "top" && o.interval.count() == 0) throw usage_error{"--interval takes a positive number of milliseconds"};
  if (!o.show_help && o.command != "start" && !o.command.empty() && o.seeds.empty())
    throw usage_error{"no seed to join through: give --seed HOST:PORT or set LIBEAM_SEED"};
  return o;
}

}  // namespace eamctl
