#pragma once
/// What introspection and health checks report (actor_system::actors(), health()).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace eam {

/// One actor, as introspection sees it.
struct actor_info {
  std::uint64_t id = 0;
  std::string name;       ///< empty when unnamed
  std::string type;       ///< the class actor's or the factory's type name
  std::uint64_t parent_id = 0;  ///< 0 for a top-level actor
  std::size_t children = 0;
  bool idle = false;      ///< not running and nothing queued
  /// Ordinary messages queued: counted for bounded mailboxes; for an unbounded one (which does
  /// not count, to keep sends cheap) 0 when idle and empty when busy.
  std::optional<std::uint64_t> mailbox_length;
};

enum class health_status : std::uint8_t { healthy, degraded, unhealthy };

struct health_report {
  health_status status = health_status::healthy;
  std::string message;               ///< why it is not healthy; empty when healthy
  bool alive = false;                ///< the system runs or is shutting down
  bool ready = false;                ///< the system accepts spawns and calls
  std::size_t actor_count = 0;
  unsigned workers = 0;
  std::uint64_t mailbox_backlog = 0; ///< messages queued in bounded (counted) mailboxes
  std::size_t busy_actors = 0;       ///< actors running or with messages queued
};

}  // namespace eam
