#include "name_registry.hpp"

#include <algorithm>
#include <tuple>

namespace eam::cluster::internal {

namespace {

// The deterministic rule: the earlier claim wins; equal stamps, the smaller node id.
bool beats(const std::string& owner_a, std::uint64_t stamp_a, const std::string& owner_b, std::uint64_t stamp_b) {
  return std::tie(stamp_a, owner_a) < std::tie(stamp_b, owner_b);
}

template <class Claim>
bool claim_before(const Claim& a, const Claim& b) {
  return beats(a.owner, a.announced.stamp, b.owner, b.announced.stamp);
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
    if (it == r_.claims_.end()) return;
    std::erase_if(it->second, [&](const claim& c) { return c.owner == node_ && c.announced.stamp == stamp; });
    if (it->second.empty()) r_.claims_.erase(it);
    r_.host_.names_changed();
  }

  void on_sync(std::vector<name_announcement>&& all) override {
    {
      std::lock_guard guard(r_.lock_);
      r_.drop_claims_of(node_);
    }
    r_.host_.names_changed();
    for (name_announcement& a : all) apply(std::move(a));
  }

  void on_sync_more(std::vector<name_announcement>&& more) override {
    for (name_announcement& a : more) apply(std::move(a));
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
  return it == claims_.end() || it->second.front().owner == self_;
}

void name_registry::drop_claims_of(const std::string& node) {
  for (auto it = claims_.begin(); it != claims_.end();) {
    std::erase_if(it->second, [&](const claim& c) { return c.owner == node; });
    it = it->second.empty() ? claims_.erase(it) : std::next(it);
  }
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
  if (l) withdraw_lost(*l);  // after the put it withdraws
}

void name_registry::withdraw_lost(const lost& l) {
  // The claim left this table in apply_claim, so the local unregister that name_lost brings
  // finds nothing to withdraw: without this del, the peers kept the beaten claim behind the
  // winner, and it became the owner everywhere but here once the winner withdrew.
  host_.broadcast_names(encode_del(l.name, l.stamp));
  host_.name_lost(l.name, l.actor, l.winner);
}

void name_registry::unregistered(const std::string& name, std::uint64_t actor_id) {
  std::uint64_t stamp = 0;
  {
    std::lock_guard guard(lock_);
    const auto it = claims_.find(name);
    if (it == claims_.end()) return;
    auto& contenders = it->second;
    const auto mine = std::find_if(contenders.begin(), contenders.end(),
                                   [&](const claim& c) { return c.owner == self_ && c.announced.actor == actor_id; });
    if (mine == contenders.end()) return;
    stamp = mine->announced.stamp;
    contenders.erase(mine);
    if (contenders.empty()) claims_.erase(it);
  }
  host_.names_changed();
  host_.broadcast_names(encode_del(name, stamp));
}

std::optional<actor_ref> name_registry::whereis(std::string_view name) {
  claim found;
  {
    std::lock_guard guard(lock_);
    const auto it = claims_.find(name);
    if (it == claims_.end() || it->second.front().owner == self_) return std::nullopt;  // local: the engine's answer
    found = it->second.front();
  }
  actor_ref ref =
      host_.remote_ref(found.owner, found.owner_incarnation, found.announced.actor, found.announced.signatures);
  if (!ref) return std::nullopt;
  return ref;
}

std::optional<name_registry::lost> name_registry::merge(claim incoming) {
  std::optional<lost> l = apply_claim(std::move(incoming));
  host_.names_changed();
  return l;
}

std::optional<name_registry::lost> name_registry::apply_claim(claim incoming) {
  std::lock_guard guard(lock_);
  last_stamp_ = std::max(last_stamp_, incoming.announced.stamp);
  auto& contenders = claims_[incoming.announced.name];
  const auto same_owner = std::find_if(contenders.begin(), contenders.end(),
                                       [&](const claim& c) { return c.owner == incoming.owner; });
  if (same_owner != contenders.end()) {
    // The owner's newer registration of the name (a restarted actor) replaces the older one.
    if (incoming.announced.stamp < same_owner->announced.stamp) return std::nullopt;
    contenders.erase(same_owner);
  }
  contenders.insert(std::upper_bound(contenders.begin(), contenders.end(), incoming, claim_before<claim>),
                    std::move(incoming));
  // This node's claim beaten by another: it frees the name (and says so with a del). Other
  // beaten claims stay behind the winner until their owners withdraw them: a claim that
  // arrives before the del of the claim it follows (a migrated actor's name) is not lost.
  const auto mine = std::find_if(contenders.begin() + 1, contenders.end(),
                                 [&](const claim& c) { return c.owner == self_; });
  if (mine == contenders.end()) return std::nullopt;
  lost l{mine->announced.name, mine->local, contenders.front().owner, mine->announced.stamp};
  contenders.erase(mine);
  return l;
}

names_decode_outcome name_registry::on_message(const std::string& node, std::uint64_t incarnation,
                                               std::span<const std::byte> body) {
  visitor v(*this, node, incarnation);
  names_decode_outcome out = decode_names(body, v);
  for (const lost& l : v.losers) withdraw_lost(l);
  return out;
}

std::vector<std::vector<std::byte>> name_registry::own_sync(std::size_t max_body_bytes, std::size_t& left_out) const {
  std::vector<name_announcement> mine;
  {
    std::lock_guard guard(lock_);
    for (const auto& [name, contenders] : claims_)
      for (const claim& c : contenders)
        if (c.owner == self_) mine.push_back(c.announced);
  }
  return encode_sync_parts(mine, max_body_bytes, left_out);
}

void name_registry::node_gone(const std::string& node) {
  {
    std::lock_guard guard(lock_);
    drop_claims_of(node);
  }
  host_.names_changed();
}

std::optional<std::string> name_registry::owner_of(std::string_view name) const {
  std::lock_guard guard(lock_);
  const auto it = claims_.find(name);
  if (it == claims_.end()) return std::nullopt;
  return it->second.front().owner;
}

std::vector<std::pair<std::string, std::string>> name_registry::names() const {
  std::lock_guard guard(lock_);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(claims_.size());
  for (const auto& [name, contenders] : claims_) out.emplace_back(name, contenders.front().owner);
  return out;
}

}  // namespace eam::cluster::internal
