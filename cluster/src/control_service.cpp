#include "control_service.hpp"

#include "node_runtime.hpp"

#include <eam/cluster/control.hpp>
#include <eam/cluster/errc.hpp>

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <tuple>
#include <unordered_set>
#include <utility>

namespace eam::cluster::internal {
namespace {

using namespace control;

const char* health_name(health_status s) {
  switch (s) {
    case health_status::healthy: return "healthy";
    case health_status::degraded: return "degraded";
    case health_status::unhealthy: return "unhealthy";
  }
  return "unknown";
}

node_info describe(node_runtime& node) {
  const health_report health = node.system().health();
  const transport_stats stats = node.stats();
  node_info info;
  info.node_id = node.id();
  info.address = node.address();
  for (const member& m : node.members(false))
    if (m.id == node.id()) {
      info.roles = m.roles;
      info.metadata = m.metadata;
      break;
    }
  info.pid = ::getpid();
  info.health = health_name(health.status);
  info.health_message = health.message;
  info.draining = node.draining();
  // As the actors listing counts them: the proxies apart (before, info said 7 where the
  // listing said 5 and 2 proxies). Each is a live actor of the system until it is collected.
  info.actor_count = health.actor_count > stats.proxies ? health.actor_count - stats.proxies : 0;
  info.busy_actors = health.busy_actors;
  info.largest_queue = health.largest_queue;
  info.mailbox_backlog = health.mailbox_backlog;
  info.workers = health.workers;
  info.active_workers = health.active_workers;
  info.uptime_seconds = health.uptime_seconds;
  info.peers = node.connected_peers();  // sorted
  info.messages_in = stats.messages_in;
  info.messages_out = stats.messages_out;
  info.bad_frames = stats.bad_frames;
  info.auth_failures = stats.auth_failures;
  info.dropped_casts = stats.dropped_casts;
  return info;
}

actor_list list_actors(const node_runtime& node, std::uint32_t limit) {
  std::vector<actor_info> all = node.system().actors();
  actor_list out;
  // A node keeps a proxy of every remote actor it holds a ref to: thousands, which would bury
  // its own actors.
  const std::unordered_set<std::uint64_t> proxies = node.proxy_ids();
  std::erase_if(all, [&](const actor_info& a) {
    if (!proxies.contains(a.id)) return false;
    ++out.proxies;
    return true;
  });
  out.total = all.size();
  // Busiest first: counted queues by length, then busy actors whose queue is not counted,
  // then the idle.
  const auto rank = [](const actor_info& a) {
    const std::uint64_t queued = a.mailbox_length.value_or(0);
    const int group = queued > 0 ? 0 : (!a.idle ? 1 : 2);
    return std::make_tuple(group, ~queued, a.id);
  };
  std::sort(all.begin(), all.end(), [&](const actor_info& x, const actor_info& y) { return rank(x) < rank(y); });
  if (limit != 0 && all.size() > limit) all.resize(limit);
  out.actors.reserve(all.size());
  // A migrated actor's relay still carries the name it freed: listed as what it is, or the
  // name showed on both nodes until the relay ended.
  const std::unordered_map<std::uint64_t, std::string> relays = node.relay_labels();
  for (actor_info& a : all)
    if (const auto relay = relays.find(a.id); relay != relays.end()) {
      a.name.clear();
      a.type = relay->second;
    }
  for (actor_info& a : all)
    out.actors.push_back(actor_row{a.id, std::move(a.name), std::move(a.type), a.parent_id, a.children, a.idle,
                                   a.mailbox_length});
  return out;
}

migrate_config migration_limits(std::uint32_t timeout_ms) {
  migrate_config config;
  if (timeout_ms != 0) config.save_timeout = config.timeout = std::chrono::milliseconds(timeout_ms);
  return config;
}

}  // namespace

control_service::control_service(node_runtime& node) : node_(node) {
  register_control_messages();
  node_.system().spawn({.name = std::string(service_name)}, [this](actor_context& ctx) {
    return behavior{
        [this](info_request) { return describe(node_); },
        [this](const actors_request& r) { return list_actors(node_, r.limit); },
        [this](members_request) {
          member_list list;
          for (member& m : node_.members(true))
            list.members.push_back(member_row{std::move(m.id), std::string(to_string(m.status)), std::move(m.address),
                                              std::move(m.roles), m.incarnation});
          return list;
        },
        [this](const drain_request& r) {
          node_.set_draining(r.drain);
          return drain_reply{node_.draining()};
        },
        [this, &ctx](migrate_request& r) -> migrate_reply {
          answer_later<migrate_reply>(ctx, [this, r = std::move(r)]() -> result<migrate_reply> {
            const std::optional<actor_ref> found = node_.system().whereis(r.name);
            if (!found) return error(errc::registry_lookup_failed, r.name + " on " + node_.id());
            result<actor_ref> moved = node_.migrate(*found, r.to, migration_limits(r.timeout_ms));
            if (!moved) return moved.error_value();
            return migrate_reply{std::move(moved).value()};
          });
          return {};
        },
        [this, &ctx](migrate_all_request& r) -> migrate_all_reply {
          answer_later<migrate_all_reply>(ctx, [this, r = std::move(r)]() -> result<migrate_all_reply> {
            // A target that cannot take them refuses the whole request, before the drain.
            if (auto refused = node_.migration_target_refused(r.to)) return std::move(*refused);
            if (r.drain) node_.set_draining(true);
            const migrate_all_result done = node_.migrate_all(r.to, migration_limits(r.timeout_ms));
            migrate_all_reply reply{done.migrated, done.failed, {}};
            for (const error& e : done.errors) reply.errors.emplace_back(e.what());
            return reply;
          });
          return {};
        },
        [this, &ctx](stop_request) -> stop_reply {
          // Answered before the node begins to stop: its shutdown flushes what was sent.
          ctx.take_reply().reply(stop_reply{node_.id()});
          node_.request_shutdown();
          return {};
        },
    };
  });
}

template <class Reply, class Work>
void control_service::answer_later(actor_context& ctx, Work work) {
  auto answer = std::make_shared<reply_handle>(ctx.take_reply());
  run_blocking([this, answer, work = std::move(work)](bool stopping) {
    result<Reply> done = stopping ? result<Reply>(error(cluster_errc::node_stopped, node_.id())) : work();
    if (done)
      answer->reply(std::move(done).value());
    else
      answer->fail(done.error_value());
  });
}

void control_service::run_blocking(std::function<void(bool)> job) {
  {
    std::lock_guard guard(lock_);
    if (!closed_) {
      jobs_.push_back(std::move(job));
      if (!thread_.joinable())
        thread_ = std::thread([this] {
          std::unique_lock lock(lock_);
          for (;;) {
            changed_.wait(lock, [this] { return closed_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            std::function<void(bool)> next = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            next(false);
            lock.lock();
          }
        });
      changed_.notify_one();
      return;
    }
  }
  job(true);
}

void control_service::close() {
  std::deque<std::function<void(bool)>> left;
  {
    std::lock_guard guard(lock_);
    closed_ = true;
    left.swap(jobs_);
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& job : left) job(true);
}

}  // namespace eam::cluster::internal
