#pragma once
// migration_relay: what a migrated actor's old self does with the messages it still gets
// (engine relay_actor): holds them until its successor exists, then passes each on, in order,
// calls with their answer channel. Runs in the old actor's turn, on a worker.
#include <eam/engine/any_message.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace eam::cluster::internal {

class migration_relay {
 public:
  /// `counted` adds up what every relay of a node passed on.
  explicit migration_relay(std::shared_ptr<std::atomic<std::uint64_t>> counted) : counted_(std::move(counted)) {}
  /// A message the old actor got (the engine's relay function).
  void relay(message&& m);
  /// The successor is known: what was held goes first. An empty ref drops everything (calls
  /// fail with actor_not_found).
  void start(actor_ref successor);

 private:
  void pass(message&& m);  // under lock_

  std::mutex lock_;
  bool started_ = false;
  actor_ref successor_;
  std::vector<message> held_;
  const std::shared_ptr<std::atomic<std::uint64_t>> counted_;
};

}  // namespace eam::cluster::internal
