#pragma once
// eamctl's command line: a command, its arguments, and the options every command shares.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eamctl {

struct options {
  std::string command;
  std::vector<std::string> arguments;
  std::vector<std::string> seeds;  // --seed (repeatable), or LIBEAM_SEED
  std::optional<std::string> cookie_file;
  std::string salt = "libeam-v2";
  std::string bind_address;  // empty: chosen from the seed's address
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds rejoin_timeout{120000};
  /// deploy: between a node's evacuation and its stop, while the moved actors' old refs still
  /// pass messages on (migrate_config::forward_for, 10 s by default).
  std::chrono::milliseconds forward_wait{10000};
  std::uint32_t limit = 50;
  std::chrono::milliseconds interval{1000};  // top: between two refreshes
  std::uint32_t count = 0;                   // top: refreshes before it ends (0: until interrupted)
  bool show_help = false;
};

/// Throws usage_error on a command line that does not parse.
options parse_options(int argc, char** argv);

struct usage_error {
  std::string why;
};

extern const char* const usage_text;

}  // namespace eamctl
