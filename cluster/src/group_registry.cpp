#include "group_registry.hpp"

#include <eam/cluster/errc.hpp>

#include <algorithm>

namespace eam::cluster::internal {

namespace {

result<void> check_key(const group_key& key) {
  if (!valid_group_text(key.scope) || !valid_group_text(key.group))
    return error(cluster_errc::invalid_group, "scope \"" + key.scope + "\", group \"" + key.group + "\"");
  return {};
}

}  // namespace

class group_registry::visitor final : public groups_visitor {
 public:
  visitor(group_registry& r, const std::string& node, std::uint64_t incarnation)
      : r_(r), node_(node), incarnation_(incarnation) {}

  void on_join(group_key&& key, std::uint64_t actor, std::uint64_t version) override {
    std::lock_guard guard(r_.lock_);
    if (!r_.fresh(node_, version)) return;
    remote_members& m = r_.remote_[std::move(key)][node_];
    m.incarnation = incarnation_;
    m.add(actor);
  }

  void on_leave(group_key&& key, std::uint64_t actor, std::uint64_t version) override {
    std::lock_guard guard(r_.lock_);
    if (!r_.fresh(node_, version)) return;
    const auto g = r_.remote_.find(key);
    if (g == r_.remote_.end()) return;
    const auto n = g->second.find(node_);
    if (n == g->second.end()) return;
    n->second.remove_oldest(actor);
    if (n->second.actors.empty()) g->second.erase(n);
    if (g->second.empty()) r_.remote_.erase(g);
  }

  void on_sync(std::uint64_t version, std::vector<group_members_of>&& all) override {
    std::lock_guard guard(r_.lock_);
    r_.drop_node(node_);
    r_.applied_[node_] = version;
    add_members(std::move(all));
  }

  void on_sync_more(std::uint64_t, std::vector<group_members_of>&& more) override {
    std::lock_guard guard(r_.lock_);
    add_members(std::move(more));
  }

 private:
  // Under the registry's lock. A large group's members may come in several entries.
  void add_members(std::vector<group_members_of>&& entries) {
    for (group_members_of& g : entries) {
      if (g.actors.empty()) continue;
      remote_members& m = r_.remote_[std::move(g.key)][node_];
      m.incarnation = incarnation_;
      for (const std::uint64_t actor : g.actors) m.add(actor);
    }
  }

  group_registry& r_;
  const std::string& node_;
  std::uint64_t incarnation_;
};

bool group_registry::fresh(const std::string& node, std::uint64_t version) {
  std::uint64_t& applied = applied_[node];
  if (version <= applied) return false;  // in the sync applied already
  applied = version;
  return true;
}

result<void> group_registry::join(const group_key& key, const actor_ref& member) {
  if (auto ok = check_key(key); !ok) return ok;
  if (!member || !host_.export_if_local(member))
    return error(cluster_errc::not_a_local_actor, "only an actor of this node joins a group here");
  std::lock_guard guard(lock_);
  // An actor that has ended joins nothing, as if its end had taken it out at once (Erlang's pg
  // drops a dead pid at its DOWN). Looked at under the lock: an end after the look is reported
  // by the export's watch through local_actor_ended, which waits for the lock and finds the join.
  if (!member.is_alive()) return {};
  auto& by_group = joins_by_actor_[member.id()];
  const auto group = local_.try_emplace(key).first;
  joins_in_group* joins = nullptr;
  try {
    joins = &by_group[&group->first];
    joins->group = group;
    if (joins->at.size() == joins->at.capacity())
      joins->at.reserve(2 * joins->at.size() + 1);  // push_back below cannot throw
    group->second.push_back(member);
  } catch (...) {  // out of memory: nothing joined
    if (joins != nullptr && joins->at.empty()) by_group.erase(&group->first);
    if (group->second.empty()) local_.erase(group);
    if (by_group.empty()) joins_by_actor_.erase(member.id());
    throw;
  }
  joins->at.push_back(std::prev(group->second.end()));
  // Queued under the lock: peers get the changes in the order of their versions.
  host_.broadcast_groups(encode_group_change(groups_op::join, key, member.id(), ++version_));
  return {};
}

result<void> group_registry::leave(const group_key& key, const actor_ref& member) {
  if (auto ok = check_key(key); !ok) return ok;
  std::lock_guard guard(lock_);
  const auto not_joined = [&] {
    return error(cluster_errc::not_joined, "actor " + std::to_string(member.id()) + " in group \"" + key.group + "\"");
  };
  const auto actor = joins_by_actor_.find(member.id());
  const auto group = local_.find(key);
  if (actor == joins_by_actor_.end() || group == local_.end()) return not_joined();
  const auto joins = actor->second.find(&group->first);
  if (joins == actor->second.end()) return not_joined();
  drop_oldest(joins->second);
  if (joins->second.at.empty()) actor->second.erase(joins);
  if (actor->second.empty()) joins_by_actor_.erase(actor);
  host_.broadcast_groups(encode_group_change(groups_op::leave, key, member.id(), ++version_));
  return {};
}

void group_registry::remote_members::add(std::uint64_t id) {
  auto& at = places[id];
  at.reserve(at.size() + 1);  // the last step below cannot throw
  actors.push_back(id);
  at.push_back(std::prev(actors.end()));
}

bool group_registry::remote_members::remove_oldest(std::uint64_t id) {
  const auto at = places.find(id);
  if (at == places.end() || at->second.empty()) return false;  // empty: an add that ran out of memory
  actors.erase(at->second.front());
  at->second.erase(at->second.begin());
  if (at->second.empty()) places.erase(at);
  return true;
}

void group_registry::drop_oldest(joins_in_group& joins) {
  joins.group->second.erase(joins.at.front());
  joins.at.erase(joins.at.begin());  // an actor joins one group a few times at most
  if (joins.group->second.empty()) local_.erase(joins.group);
}

std::vector<actor_ref> group_registry::members(const group_key& key) {
  std::vector<actor_ref> out = local_members(key);
  struct node_members {
    std::string node;
    std::uint64_t incarnation;
    std::vector<std::uint64_t> actors;
  };
  std::vector<node_members> elsewhere;
  {
    std::lock_guard guard(lock_);
    if (const auto g = remote_.find(key); g != remote_.end())
      for (const auto& [node, m] : g->second)
        elsewhere.push_back({node, m.incarnation, std::vector<std::uint64_t>(m.actors.begin(), m.actors.end())});
  }
  // Proxies are made without the lock: making one may wait for the node's send buffer.
  for (const auto& m : elsewhere)
    for (const std::uint64_t id : m.actors)
      if (actor_ref ref = host_.remote_ref(m.node, m.incarnation, id, {})) out.push_back(std::move(ref));
  return out;
}

std::vector<actor_ref> group_registry::local_members(const group_key& key) const {
  std::lock_guard guard(lock_);
  const auto g = local_.find(key);
  return g == local_.end() ? std::vector<actor_ref>{} : std::vector<actor_ref>(g->second.begin(), g->second.end());
}

std::vector<std::string> group_registry::groups(const std::string& scope) const {
  std::lock_guard guard(lock_);
  std::vector<std::string> out;
  for (const auto& [key, members] : local_)
    if (key.scope == scope) out.push_back(key.group);
  for (const auto& [key, nodes] : remote_)
    if (key.scope == scope) out.push_back(key.group);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

groups_decode_outcome group_registry::on_message(const std::string& node, std::uint64_t incarnation,
                                                 std::span<const std::byte> body) {
  visitor v(*this, node, incarnation);
  return decode_groups(body, v);
}

std::vector<std::vector<std::byte>> group_registry::own_sync(std::size_t max_body_bytes, std::size_t& left_out) const {
  std::vector<group_members_of> all;
  std::uint64_t version = 0;
  {
    std::lock_guard guard(lock_);
    version = version_;  // every change up to this one is in the snapshot
    for (const auto& [key, members] : local_) {
      group_members_of g{key, {}};
      for (const actor_ref& m : members) g.actors.push_back(m.id());
      all.push_back(std::move(g));
    }
  }
  return encode_groups_sync_parts(version, all, max_body_bytes, left_out);
}

void group_registry::drop_node(const std::string& node) {
  for (auto g = remote_.begin(); g != remote_.end();) {
    g->second.erase(node);
    g = g->second.empty() ? remote_.erase(g) : std::next(g);
  }
}

void group_registry::node_gone(const std::string& node) {
  std::lock_guard guard(lock_);
  drop_node(node);
  applied_.erase(node);  // its next life counts from the start
}

void group_registry::local_actor_ended(std::uint64_t id) {
  std::lock_guard guard(lock_);
  const auto joins = joins_by_actor_.find(id);
  if (joins == joins_by_actor_.end()) return;  // never joined: most exported actors
  for (auto& [key, in_group] : joins->second)
    while (!in_group.at.empty()) {
      host_.broadcast_groups(encode_group_change(groups_op::leave, *key, id, ++version_));  // one per join
      drop_oldest(in_group);  // the last may erase the group, and `key` with it
    }
  joins_by_actor_.erase(joins);
}

}  // namespace eam::cluster::internal
