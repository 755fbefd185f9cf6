#pragma once
// The node's control service (control.hpp): the "eam.control" actor, which answers what it can
// at once, and the thread that runs the requests that block (a migration blocks for its target
// node's answers, which no worker may do).
#include <eam/engine/fwd.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace eam::cluster::internal {

class node_runtime;

class control_service {
 public:
  /// Registers the control messages and spawns the actor on `node`'s system.
  explicit control_service(node_runtime& node);
  ~control_service() { close(); }
  control_service(const control_service&) = delete;
  control_service& operator=(const control_service&) = delete;

  /// Waits for the request under way (its own timeout bounds it); those still queued fail
  /// with node_stopped. The node's shutdown calls it before the actors stop.
  void close();

 private:
  /// Takes the reply of the call `ctx` handles and answers it from the service's thread with
  /// what `work` (result<Reply>()) returns there, or node_stopped when the node shut down first.
  template <class Reply, class Work>
  void answer_later(actor_context& ctx, Work work);
  /// Runs `job` on the service's thread (started on first use), after those queued before;
  /// `stopping` is true when the node shut down first and the job should only answer.
  void run_blocking(std::function<void(bool stopping)> job);

  node_runtime& node_;
  std::mutex lock_;
  std::condition_variable changed_;
  std::deque<std::function<void(bool)>> jobs_;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace eam::cluster::internal
