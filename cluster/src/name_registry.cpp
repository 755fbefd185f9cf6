#include "name_registry.hpp"

#include <algorithm>
#include <tuple>

namespace eam::cluster::internal {

namespace {

// The deterministic rule: the earlier claim wins; equal stamps, the smaller node id.
bool beats(const std::string& owner_a, std::uint64_t stamp_a, const std::string& owner_b, std::uint64_t stamp_b) {
  return std::tie(stamp_a, owner_a) < std::tie(stamp_b, owner_b);
}

}  // namespace

class name_registry::visitor final : public names_visitor {
 public:
  visitor(name_registry& r, const std::string& node, std::uint64_t incarnation)
      : r_(r), node_(node), incarnation_(incarnation) {}

  void on_put(name_announcement&& a) override { apply(std::move(a)); }

  void on_del(std::string&& name, std::uint64_t stamp) override {
    std::lock_guard guard(r_.lock_);
    const auto it = r_.claims_.find(name);
    if (it != r_.claims_.end() && it->second.owner == node_ && it->second.announced.stamp == stamp)
      r_.claims_.erase(it);
  }

  void on_sync(std::vector<name_announcement>&& all) override {
    {
      std::lock_guard guard(r_.lock_);
      std::erase_if(r_.claims_, [&](const auto& entry) { return entry.second.owner == node_; });
    }
    for (name_announcement& a : all) apply(std::move(a));
  }

  std::vector<lost> losers;

 private:
  void apply(name_announcement&& a) {
    claim c;
    c.owner = node_;
    c.owner_incarnation = incarnation_;
    c.announced = std::move(a);
    if (auto l = r_.merge(std::move(c))) losers.push_back(std::move(*l));
  }

  name_registry& r_;
  const std::string& node_;
  std::uint64_t incarnation_;
};

name_registry::name_registry(std::string self, name_registry_host& host) : self_(std::move(self)), host_(host) {}

std::uint64_t name_registry::next_stamp() {
  // Wall-clock milliseconds in the high bits, a counter below: later than every stamp this
  // node has issued or seen, so a registration after another one seen here sorts after it.
  const auto wall = static_cast<std::uint64_t>(std::max<std::int64_t>(host_.wall_clock_ms(), 0)) << 16;
  last_stamp_ = std::max(wall, last_stamp_ + 1);
  return last_stamp_;
}

bool name_registry::may_register(std::string_view name) {
  std::lock_guard guard(lock_);
  const auto it = claims_.find(name);
  return it == claims_.end() || it->second.owner == self_;
}

void name_registry::registered(const std::string& name, const actor_ref& ref) {
  if (!announceable_name(name)) return;  // stays a local name
  claim c;
  c.owner = self_;
  c.local = ref;
  c.announced.name = name;
  c.announced.actor = ref.id();
  c.announced.signatures = host_.export_named(ref);
  {
    std::lock_guard guard(lock_);
    c.announced.stamp = next_stamp();
  }
  std::vector<std::byte> put = encode_put(c.announced);
  // A claim from elsewhere may have come in since may_register: the rule decides, here too.
  std::optional<lost> l = merge(std::move(c));
  host_.broadcast_names(std::move(put));
  if (l) host_.name_lost(l->name, l->actor, l->winner);
}

void name_registry::unregistered(const std::string& name, std::uint64_t actor_id) {
  std::uint64_t stamp = 0;
  {
    std::lock_guard guard(lock_);
    const auto it = claims_.find(name);
    if (it == claims_.end() || it->second.owner != self_ || it->second.announced.actor != actor_id) return;
    stamp = it->second.announced.stamp;
    claims_.erase(it);
  }
  host_.broadcast_names(encode_del(name, stamp));
}

std::optional<actor_ref> name_registry::whereis(std::string_view name) {
  claim found;
  {
    std::lock_guard guard(lock_);
    const auto it = claims_.find(name);
    if (it == claims_.end() || it->second.owner == self_) return std::nullopt;  // local: the engine's answer
    found = it->second;
  }
  actor_ref ref =
      host_.remote_ref(found.owner, found.owner_incarnation, found.announced.actor, found.announced.signatures);
  if (!ref) return std::nullopt;
  return ref;
}

std::optional<name_registry::lost> name_registry::merge(claim incoming) {
  std::lock_guard guard(lock_);
  last_stamp_ = std::max(last_stamp_, incoming.announced.stamp);
  const auto it = claims_.find(incoming.announced.name);
  if (it == claims_.end()) {
    std::string name = incoming.announced.name;
    claims_.emplace(std::move(name), std::move(incoming));
    return std::nullopt;
  }
  claim& current = it->second;
  if (current.owner == incoming.owner) {
    // The owner's newer registration of the name (a restarted actor) replaces the older one.
    if (incoming.announced.stamp >= current.announced.stamp) current = std::move(incoming);
    return std::nullopt;
  }
  if (!beats(incoming.owner, incoming.announced.stamp, current.owner, current.announced.stamp)) {
    // This node's own claim, beaten by one that came in between may_register and registered.
    if (incoming.owner == self_) return lost{incoming.announced.name, incoming.local, current.owner};
    return std::nullopt;
  }
  std::optional<lost> l;
  if (current.owner == self_) l = lost{current.announced.name, current.local, incoming.owner};
  current = std::move(incoming);
  return l;
}

names_decode_outcome name_registry::on_message(const std::string& node, std::uint64_t incarnation,
                                               std::span<const std::byte> body) {
  visitor v(*this, node, incarnation);
  names_decode_outcome out = decode_names(body, v);
  for (const lost& l : v.losers) host_.name_lost(l.name, l.actor, l.winner);
  return out;
}

std::vector<std::byte> name_registry::own_sync() const {
  std::vector<name_announcement> mine;
  {
    std::lock_guard guard(lock_);
    for (const auto& [name, c] : claims_)
      if (c.owner == self_) mine.push_back(c.announced);
  }
  return encode_sync(mine);
}

void name_registry::node_gone(const std::string& node) {
  std::lock_guard guard(lock_);
  std::erase_if(claims_, [&](const auto& entry) { return entry.second.owner == node; });
}

std::optional<std::string> name_registry::owner_of(std::string_view name) const {
  std::lock_guard guard(lock_);
  const auto it = claims_.find(name);
  if (it == claims_.end()) return std::nullopt;
  return it->second.owner;
}

std::vector<std::pair<std::string, std::string>> name_registry::names() const {
  std::lock_guard guard(lock_);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(claims_.size());
  for (const auto& [name, c] : claims_) out.emplace_back(name, c.owner);
  return out;
}

}  // namespace eam::cluster::internal
