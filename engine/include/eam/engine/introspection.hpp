#pragma once
/// What introspection and health checks report (actor_system::actors(), health()).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

/// What a registered component (the cluster, a user's subsystem) says of itself.
struct component_health {
  health_status status = health_status::healthy;
  std::string message;  ///< why it is not healthy; empty when healthy
};
/// A component's answer, by name, inside a health report.
struct named_component_health {
  std::string name;
  component_health health;
};

struct health_report {
  health_status status = health_status::healthy;
  std::string message;               ///< why it is not healthy; empty when healthy
  bool alive = false;                ///< the system runs or is shutting down
  bool ready = false;                ///< the system accepts spawns and calls
  std::size_t actor_count = 0;
  unsigned workers = 0;
  /// Workers running now: fewer than `workers` while fewer do more work (system_config's
  /// adaptive_workers).
  unsigned active_workers = 0;
  std::uint64_t mailbox_backlog = 0; ///< messages queued in bounded (counted) mailboxes
  /// The longest unbounded mailbox seen lately (sampled: a queue is seen when its actor used a
  /// whole turn with more waiting; 0 on the first call). A sample holds for a second, so
  /// health() calls in a row agree. An actor stuck inside one handler ends no turn and is not
  /// sampled: it shows in `busy_actors`.
  std::uint64_t largest_queue = 0;
  std::size_t busy_actors = 0;       ///< actors running or with messages queued
  double uptime_seconds = 0;         ///< since the system started
  /// Every registered component's answer; the report's status is the worst of them and the
  /// system's own.
  std::vector<named_component_health> components;
};

}  // namespace eam
