#include "swim.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

namespace eam::cluster::internal {

namespace {

bool live(member_status s) noexcept { return s == member_status::alive || s == member_status::suspect; }

constexpr std::chrono::milliseconds sweep_interval{1000};

template <class Entry>
bool id_before(const Entry* e, const std::string& id) noexcept {
  return e->m.id < id;
}

}  // namespace

swim::swim(membership_config config, member self, swim_environment& env, std::uint64_t seed, time now)
    : config_(std::move(config)),
      self_id_(self.id),
      env_(env),
      rng_(seed),
      replay_(config_.replay_window),
      next_seq_(rng_()) {
  self.status = member_status::alive;
  members_.emplace(self_id_, entry{std::move(self), now});
  // Staggered starts: nodes started together do not probe and gossip in lockstep.
  const auto jitter = [&](time t) { return time(t.count() > 0 ? static_cast<std::int64_t>(rng_() % t.count()) : 0); };
  next_probe_ = now + jitter(config_.probe_interval);
  next_gossip_ = now + jitter(config_.gossip_interval);
  next_push_pull_ = config_.hidden ? now + config_.probe_interval
                                   : now + config_.push_pull_interval + jitter(config_.push_pull_interval);
  next_reconnect_ = now + config_.reconnect_interval;
  next_sweep_ = now + sweep_interval;
  next_join_ = time::max();
  next_due_ = now;
}

void swim::set_keys(std::vector<gossip_key> keys) { keys_ = std::move(keys); }

// -- time ---------------------------------------------------------------------------------------

void swim::tick(time now) {
  if (now < next_due_) return;
  next_due_ = time::max();
  now_ = now;
  if (!config_.hidden) {  // a hidden node only asks (push-pull, join, reconnect)
    run_probe(now);
    if (now >= next_gossip_) {
      gossip(now);
      next_gossip_ = now + config_.gossip_interval;
    }
  }
  if (now >= next_push_pull_) {
    push_pull(now);
    const std::size_t n = live_;
    const double scale = n <= 32 ? 1.0 : std::ceil(std::log2(static_cast<double>(n)) - std::log2(32.0)) + 1.0;
    // A hidden node hears no gossip: what it knows is what it asked for, once a probe round.
    next_push_pull_ = now + (config_.hidden ? config_.probe_interval
                                            : time(static_cast<std::int64_t>(
                                                  static_cast<double>(config_.push_pull_interval.count()) * scale)));
  }
  if (now >= next_reconnect_) {
    reconnect(now);
    next_reconnect_ = now + config_.reconnect_interval;
  }
  if (now >= next_join_) {
    if (live_ <= 1 && !leaving_)
      for (const auto& seed : seeds_) send_state_to(seed, false, true);
    next_join_ = seeds_.empty() ? time::max() : now + config_.join_retry;
  }
  expire_suspicions(now);
  expire_relays(now);
  if (now >= next_sweep_) {
    forget_old(now);
    next_sweep_ = now + sweep_interval;
  }
  if (!config_.hidden) {
    schedule(probe_.active ? (probe_.indirect_sent || probe_.acked ? probe_.end : probe_.indirect_at) : next_probe_);
    schedule(next_gossip_);
  }
  schedule(next_push_pull_);
  schedule(next_reconnect_);
  schedule(next_join_);
  schedule(next_sweep_);
  for (const auto& [id, s] : suspicions_) {
    schedule(s.deadline);
    schedule(s.regossip);
  }
  for (const auto& [seq, r] : relays_) schedule(r.deadline);
}

void swim::join(std::vector<std::string> seeds, time now) {
  seeds_ = std::move(seeds);
  std::erase(seeds_, self().address);
  for (const auto& seed : seeds_) send_state_to(seed, false, true);
  next_join_ = seeds_.empty() ? time::max() : now + config_.join_retry;
  schedule(next_join_);
}

// -- probing ------------------------------------------------------------------------------------

void swim::run_probe(time now) {
  if (probe_.active) {
    if (!probe_.acked && !probe_.indirect_sent && now >= probe_.indirect_at) {
      probe_.indirect_sent = true;
      const entry* target = find(probe_.target) ? &members_.at(probe_.target) : nullptr;
      if (target != nullptr && live(target->m.status)) {
        for (const entry* via : pick_random(config_.indirect_checks, {probe_.target}, false, now)) {
          send(via->m.address, {encode_indirect_ping(probe_.seq, target->m.id, target->m.address)});
          ++probe_.expected_nacks;
        }
      }
    }
    if (now < probe_.end) return;
    probe_.active = false;
    if (probe_.acked) {
      adjust_awareness(-1);
    } else {
      ++stats_.probes_failed;
      // Lifeguard: the nacks that did not come say this node's own network or CPU is the slow one.
      if (probe_.expected_nacks > probe_.nacks) adjust_awareness(probe_.expected_nacks - probe_.nacks);
      const auto it = members_.find(probe_.target);
      // Alive: a new suspicion. Suspected already (by another node): this node's failed probe
      // is an independent confirmation, which shortens the suspicion (Lifeguard).
      if (it != members_.end() && live(it->second.m.status)) {
        if (it->second.m.status == member_status::alive) ++stats_.suspicions_raised;
        on_suspect(it->second.m.id, it->second.m.incarnation, self_id_);
      }
    }
  }
  if (now >= next_probe_ && !leaving_) start_probe(now);
}

void swim::start_probe(time now) {
  next_probe_ = now + scaled(config_.probe_interval);
  // The next member in the shuffled order; a full pass reshuffles (and drops the forgotten).
  for (std::size_t tried = 0; tried <= probe_order_.size(); ++tried) {
    if (probe_index_ >= probe_order_.size()) {
      std::erase_if(probe_order_, [&](const std::string& id) { return !members_.contains(id); });
      std::shuffle(probe_order_.begin(), probe_order_.end(), rng_);
      probe_index_ = 0;
      if (probe_order_.empty()) return;
    }
    const std::string& id = probe_order_[probe_index_++];
    const auto it = members_.find(id);
    if (it == members_.end() || !live(it->second.m.status)) continue;
    probe_ = probe{};
    probe_.active = true;
    probe_.target = id;
    probe_.seq = next_seq_++;
    probe_.indirect_at = now + scaled(config_.probe_timeout);
    probe_.end = next_probe_;
    ++stats_.probes;
    // Lifeguard's buddy system: a suspected member is told so with the ping itself, even when
    // the gossip of the suspicion never reached it. The accusation goes first: the member
    // refutes before it acks, and its ack carries the refutation back.
    std::vector<encoded_message> ping;
    if (it->second.m.status == member_status::suspect)
      ping.push_back(encode_suspect(id, it->second.m.incarnation, self_id_));
    ping.push_back(encode_ping(probe_.seq, id));
    send(it->second.m.address, std::move(ping));
    return;
  }
}

void swim::on_ping(std::uint64_t seq, std::string_view target) {
  if (target != self_id_) return;  // meant for another node that had this address
  send(from_, {encode_ack(seq)});
}

void swim::on_indirect_ping(std::uint64_t seq, std::string_view target, std::string_view target_address) {
  const std::uint64_t ours = next_seq_++;
  const time deadline = now_ + scaled(config_.probe_timeout);
  relays_.emplace(ours, relay{seq, from_, deadline});
  schedule(deadline);
  send(std::string(target_address), {encode_ping(ours, target)});
}

void swim::on_ack(std::uint64_t seq) {
  if (probe_.active && seq == probe_.seq) {
    probe_.acked = true;
    return;
  }
  if (const auto it = relays_.find(seq); it != relays_.end()) {
    const relay r = std::move(it->second);
    relays_.erase(it);
    send(r.requester, {encode_ack(r.their_seq)});
  }
}

void swim::on_nack(std::uint64_t seq) {
  if (probe_.active && seq == probe_.seq) ++probe_.nacks;
}

void swim::expire_relays(time now) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    const relay r = std::move(it->second);
    it = relays_.erase(it);
    send(r.requester, {encode_nack(r.their_seq)});
  }
}

void swim::adjust_awareness(int delta) noexcept {
  awareness_ = std::clamp(awareness_ + delta, 0, std::max(0, config_.awareness_max_multiplier - 1));
}

// -- member state -------------------------------------------------------------------------------

void swim::count_live(member_status before, member_status after) noexcept {
  if (live(before) && !live(after)) --live_;
  if (!live(before) && live(after)) ++live_;
}

void swim::on_alive(member&& m) { apply_alive(std::move(m)); }

void swim::apply_alive(member&& m) {
  m.status = member_status::alive;
  if (m.id == self_id_) {
    // Someone spreads an old or wrong record of this node: override it.
    const member& me = self();
    if (!leaving_ && m.incarnation >= me.incarnation && (m.incarnation > me.incarnation || m != me))
      refute(m.incarnation);
    return;
  }
  const auto it = members_.find(m.id);
  if (it == members_.end()) {
    const std::string id = m.id;
    auto& e = members_.emplace(id, entry{std::move(m), now_}).first->second;
    ++live_;
    others_by_id_.insert(std::lower_bound(others_by_id_.begin(), others_by_id_.end(), e.m.id, id_before<entry>), &e);
    // A new member joins the probe order at a random place (not always probed last), unless it
    // is still there: forgotten and back within one round.
    if (std::find(probe_order_.begin(), probe_order_.end(), id) == probe_order_.end()) {
      const std::size_t at = probe_order_.empty() ? 0 : static_cast<std::size_t>(rng_() % (probe_order_.size() + 1));
      probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(at), id);
      if (at < probe_index_) ++probe_index_;
    }
    queue_broadcast(id, encode_alive(e.m));
    emit(member_event_kind::join, e.m);
    return;
  }
  entry& e = it->second;
  if (m.incarnation <= e.m.incarnation) return;  // old news
  const member_status before = e.m.status;
  const bool changed = m.metadata != e.m.metadata || m.address != e.m.address;
  e.m.incarnation = m.incarnation;
  e.m.address = std::move(m.address);
  e.m.metadata = std::move(m.metadata);
  e.m.roles = std::move(m.roles);
  e.m.status = member_status::alive;
  e.state_change = now_;
  suspicions_.erase(e.m.id);
  count_live(before, member_status::alive);
  if (before == member_status::dead || before == member_status::left) {
    if (std::find(probe_order_.begin(), probe_order_.end(), e.m.id) == probe_order_.end())
      probe_order_.push_back(e.m.id);
    emit(member_event_kind::join, e.m);
  } else if (before == member_status::suspect) {
    emit(member_event_kind::alive, e.m);
    if (changed) emit(member_event_kind::update, e.m);
  } else {
    // A live member's record at a higher incarnation: new metadata or address, a refutation
    // heard late, or a new life of the node (restarted under its id before it was declared
    // failed). Its record changed, incarnation included, so listeners and members() hear it.
    emit(member_event_kind::update, e.m);
  }
  queue_broadcast(e.m.id, encode_alive(e.m));
}

void swim::on_suspect(std::string_view id_view, std::uint64_t incarnation, std::string_view from) {
  if (id_view == self_id_) {
    if (leaving_) return;
    if (incarnation >= self().incarnation) {
      refute(incarnation);
    } else {
      answer_stale(self());
    }
    return;
  }
  const auto it = members_.find(std::string(id_view));
  if (it == members_.end()) return;
  entry& e = it->second;
  if (incarnation < e.m.incarnation) {
    if (e.m.status == member_status::alive) answer_stale(e.m);
    return;
  }
  if (!live(e.m.status)) return;
  if (e.m.status == member_status::suspect && incarnation == e.m.incarnation) {
    // Another accuser of the same suspicion: a confirmation, spread so others count it too.
    if (const auto s = suspicions_.find(e.m.id); s != suspicions_.end() && confirm(s->second, from))
      queue_broadcast(e.m.id, encode_suspect(e.m.id, incarnation, from));
    return;
  }
  e.m.incarnation = incarnation;
  e.m.status = member_status::suspect;
  e.state_change = now_;
  start_suspicion(e.m.id, incarnation, from);
  queue_broadcast(e.m.id, encode_suspect(e.m.id, incarnation, from));
  emit(member_event_kind::suspect, e.m);
}

void swim::on_dead(std::string_view id, std::uint64_t incarnation, std::string_view from) {
  if (id == self_id_) {
    if (leaving_) return;
    if (incarnation >= self().incarnation) {
      refute(incarnation);
    } else {
      answer_stale(self());
    }
    return;
  }
  if (const auto it = members_.find(std::string(id));
      it != members_.end() && incarnation < it->second.m.incarnation && it->second.m.status == member_status::alive) {
    answer_stale(it->second.m);
    return;
  }
  declare_dead(std::string(id), incarnation, from);
}

void swim::answer_stale(const member& m) {
  // The sender still gossips an accusation older than what this node knows: it missed the
  // refutation (a burst of gossip it happened not to receive) and would declare a live member
  // dead when its suspicion runs out. Tell it directly, in one datagram for all that one of its
  // datagrams got wrong (sent once it is read). Only for datagrams: a state exchange is
  // answered with this node's whole state anyway.
  if (in_datagram_ && std::find(stale_answered_.begin(), stale_answered_.end(), m.id) == stale_answered_.end()) {
    stale_answered_.push_back(m.id);
    stale_answers_.push_back(encode_alive(m));
  }
}

void swim::declare_dead(const std::string& id, std::uint64_t incarnation, std::string_view from) {
  const auto it = members_.find(id);
  if (it == members_.end()) return;
  entry& e = it->second;
  if (incarnation < e.m.incarnation || !live(e.m.status)) return;
  const bool left = from == id;
  count_live(e.m.status, member_status::dead);
  e.m.incarnation = incarnation;
  e.m.status = left ? member_status::left : member_status::dead;
  e.state_change = now_;
  // Forgotten after this long (forget_old): the first such moment.
  next_forget_ = std::min(next_forget_, now_ + (left ? config_.left_retention : config_.reconnect_timeout) + time(1));
  suspicions_.erase(id);
  queue_broadcast(id, encode_dead(id, incarnation, from));
  emit(member_event_kind::leave, e.m, left ? "left" : "failed");
}

std::uint64_t swim::next_incarnation(std::uint64_t current) noexcept {
  // Saturates: a wrap to 0 would make every later record of this node look old. Only a signed
  // (so key-holding) sender can push it this far.
  return current == std::numeric_limits<std::uint64_t>::max() ? current : current + 1;
}

void swim::refute(std::uint64_t accused_incarnation) {
  member& me = members_.at(self_id_).m;
  me.incarnation = next_incarnation(std::max(me.incarnation, accused_incarnation));
  ++stats_.refutations;
  adjust_awareness(1);  // being suspected hints that this node is the slow one
  queue_broadcast(self_id_, encode_alive(me));
}

void swim::set_metadata(std::map<std::string, std::string> metadata, time now) {
  now_ = now;
  member& me = members_.at(self_id_).m;
  me.metadata = std::move(metadata);
  me.incarnation = next_incarnation(me.incarnation);
  queue_broadcast(self_id_, encode_alive(me));
  schedule(now);
}

void swim::leave(time now) {
  now_ = now;
  if (leaving_) return;
  leaving_ = true;
  member& me = members_.at(self_id_).m;
  count_live(me.status, member_status::left);
  me.status = member_status::left;
  encoded_message goodbye = encode_dead(self_id_, me.incarnation, self_id_);
  queue_broadcast(self_id_, goodbye);
  probe_.active = false;
  if (config_.hidden) return;  // nobody knew of it
  // Everyone hears it at once (a lost datagram is made up by the gossip that follows).
  for (const auto& [id, e] : members_)
    if (id != self_id_ && live(e.m.status)) send(e.m.address, {goodbye});
}

// -- suspicion (Lifeguard) ----------------------------------------------------------------------

std::pair<swim::time, swim::time> swim::suspicion_bounds() const {
  const double n = static_cast<double>(std::max<std::size_t>(live_, 1));
  const double scale = std::max(1.0, std::log10(n));
  const auto min = time(static_cast<std::int64_t>(config_.suspicion_mult * scale *
                                                  static_cast<double>(config_.probe_interval.count())));
  return {min, min * config_.suspicion_max_timeout_mult};
}

void swim::start_suspicion(const std::string& id, std::uint64_t incarnation, std::string_view from) {
  suspicion s;
  s.incarnation = incarnation;
  s.start = now_;
  std::tie(s.min, s.max) = suspicion_bounds();
  // Confirmations expected from independent accusers; a small cluster cannot give them.
  s.expected = config_.suspicion_mult - 2;
  if (static_cast<int>(live_) - 2 < s.expected) s.expected = 0;
  s.confirmers.emplace_back(from);
  s.deadline = s.start + suspicion_timeout(s);
  schedule(s.deadline);
  // A suspicion nobody confirms may be one only this node holds: raised while it was cut off
  // (its gossip went nowhere, so the suspect never heard of it and never refuted), or one whose
  // refutation it missed. Either way it would declare a live member dead at the maximum
  // timeout. Gossiped again every `min` while unconfirmed: the suspect refutes, and a node that
  // knows the refutation answers (answer_stale). With the first accuser as its source, so
  // that it counts as no new confirmation.
  if (s.expected > 0) {
    s.regossip = s.start + s.min;
    schedule(s.regossip);
  }
  suspicions_.insert_or_assign(id, std::move(s));
}

bool swim::confirm(suspicion& s, std::string_view from) {
  if (std::find(s.confirmers.begin(), s.confirmers.end(), from) != s.confirmers.end()) return false;
  s.confirmers.emplace_back(from);
  s.deadline = s.start + suspicion_timeout(s);
  schedule(s.deadline);
  return true;
}

swim::time swim::suspicion_timeout(const suspicion& s) const {
  if (s.expected < 1) return s.min;
  const double confirmations = static_cast<double>(s.confirmers.size() - 1);
  const double fraction = std::log(confirmations + 1.0) / std::log(static_cast<double>(s.expected) + 1.0);
  const double span = static_cast<double>((s.max - s.min).count());
  const auto t = time(static_cast<std::int64_t>(static_cast<double>(s.max.count()) - fraction * span));
  return std::max(t, s.min);
}

void swim::expire_suspicions(time now) {
  std::vector<std::pair<std::string, std::uint64_t>> due;
  for (auto& [id, s] : suspicions_) {
    if (s.deadline <= now) {
      due.emplace_back(id, s.incarnation);
    } else if (s.regossip <= now) {
      const bool unconfirmed = s.confirmers.size() == 1;
      if (unconfirmed) queue_broadcast(id, encode_suspect(id, s.incarnation, s.confirmers.front()));
      s.regossip = unconfirmed ? now + s.min : time::max();
    }
  }
  now_ = now;
  for (auto& [id, incarnation] : due) declare_dead(id, incarnation, self_id_);
}

// -- dissemination ------------------------------------------------------------------------------

int swim::retransmit_limit() const {
  return config_.retransmit_mult * static_cast<int>(std::ceil(std::log10(static_cast<double>(live_) + 1.0)));
}

void swim::queue_broadcast(const std::string& about, encoded_message message) {
  // A newer update about a member replaces the older one still queued.
  if (!queued_about_.insert(about).second) {
    for (auto& bucket : broadcasts_) {
      const auto it = std::find_if(bucket.begin(), bucket.end(), [&](const broadcast& b) { return b.about == about; });
      if (it == bucket.end()) continue;
      bucket.erase(it);
      --queued_;
      break;
    }
  }
  if (broadcasts_.empty()) broadcasts_.resize(1);
  smallest_queued_ = std::min(smallest_queued_, message.size());
  broadcasts_.front().push_back(broadcast{about, std::move(message), 0});
  ++queued_;
  schedule(next_gossip_);
}

void swim::send(const std::string& address, std::vector<encoded_message> primary) {
  std::size_t size = envelope_header_bytes + envelope_mac_bytes + body_overhead;
  for (const auto& m : primary) size += m.size();
  // The least sent updates first (in the order they came); each that fits goes along; each goes
  // out retransmit_limit times, then is dropped.
  if (queued_ > 0) {
    const std::size_t limit = static_cast<std::size_t>(std::max(0, retransmit_limit()));
    const std::size_t room = std::min(config_.datagram_budget, max_datagram_bytes);
    std::vector<broadcast> sent;  // bucket by bucket, each in its order
    std::vector<std::size_t> sent_from;
    bool full = false;
    for (std::size_t k = 0; k < broadcasts_.size() && !full; ++k) {
      std::deque<broadcast>& bucket = broadcasts_[k];
      std::vector<broadcast> skipped;
      std::size_t scanned = 0;
      for (; scanned < bucket.size(); ++scanned) {
        const bool alone = primary.empty();  // an update larger than the budget still goes, alone
        if (!alone && size + smallest_queued_ > room) {
          full = true;  // nothing queued can fit any more
          break;
        }
        broadcast& b = bucket[scanned];
        if ((!alone && size + b.message.size() > config_.datagram_budget) ||
            size + b.message.size() > max_datagram_bytes) {
          skipped.push_back(std::move(b));
          continue;
        }
        size += b.message.size();
        primary.push_back(b.message);
        sent.push_back(std::move(b));
        sent_from.push_back(k);
      }
      bucket.erase(bucket.begin(), bucket.begin() + static_cast<std::ptrdiff_t>(scanned));
      for (auto it = skipped.rbegin(); it != skipped.rend(); ++it) bucket.push_front(std::move(*it));
    }
    // Sent k times now, each goes ahead of those that had been sent k times before it (they
    // were all queued behind it); pushed to the front in reverse, so they keep their order.
    for (std::size_t i = sent.size(); i-- > 0;) {
      broadcast& b = sent[i];
      b.transmits = static_cast<int>(sent_from[i] + 1);
      if (sent_from[i] + 1 >= limit) {
        queued_about_.erase(b.about);
        --queued_;
        continue;
      }
      if (broadcasts_.size() <= sent_from[i] + 1) broadcasts_.resize(sent_from[i] + 2);
      broadcasts_[sent_from[i] + 1].push_front(std::move(b));
    }
    // The limit falls when the cluster shrinks: drop what has now been sent often enough.
    for (std::size_t k = limit; k < broadcasts_.size(); ++k) {
      for (const broadcast& b : broadcasts_[k]) queued_about_.erase(b.about);
      queued_ -= broadcasts_[k].size();
    }
    if (broadcasts_.size() > limit) broadcasts_.resize(limit);
    if (queued_ == 0) smallest_queued_ = SIZE_MAX;
  }
  if (primary.empty()) return;
  std::vector<const encoded_message*> parts;
  parts.reserve(primary.size());
  for (const auto& m : primary) parts.push_back(&m);
  const std::vector<std::byte> body = make_body(parts);
  nonce_t nonce;
  for (std::size_t i = 0; i < nonce.size(); i += 8) {
    const std::uint64_t r = rng_();
    std::memcpy(nonce.data() + i, &r, 8);
  }
  std::vector<std::byte> datagram =
      seal_datagram(body, keys_.empty() ? nullptr : &keys_.front(), env_.wall_clock_ms(), nonce);
  ++stats_.datagrams_out;
  stats_.bytes_out += datagram.size();
  env_.send_datagram(address, std::move(datagram));
}

void swim::gossip(time now) {
  if (queued_ == 0) return;
  for (const entry* to : pick_random(config_.gossip_nodes, {}, true, now)) {
    if (queued_ == 0) break;
    send(to->m.address, {});
  }
}

std::vector<const swim::entry*> swim::pick_random(std::size_t most, const std::vector<std::string>& exclude,
                                                  bool with_dead, time now) {
  // Map order is not the same on every run of a seed: draw from the members sorted by id, so a
  // seed replays exactly.
  std::vector<const entry*> pool;
  if (members_.size() == live_ && (with_dead || suspicions_.empty())) {
    // Nobody dead or gone, and nobody suspect either unless suspects qualify (the usual case):
    // every other member qualifies, and looking at each (a thousand, scattered in memory) is
    // not needed.
    if (exclude.empty() && others_by_id_.size() > most) {
      // The same draws as the shuffle below, on the sorted list itself: only the few places a
      // swap touched are remembered.
      std::vector<std::pair<std::size_t, const entry*>> swapped;
      const auto at = [&](std::size_t i) {
        for (const auto& [place, e] : swapped)
          if (place == i) return e;
        return others_by_id_[i];
      };
      const auto put = [&](std::size_t i, const entry* e) {
        for (auto& [place, held] : swapped)
          if (place == i) {
            held = e;
            return;
          }
        swapped.emplace_back(i, e);
      };
      for (std::size_t i = 0; i < most; ++i) {
        const std::size_t j = i + static_cast<std::size_t>(rng_() % (others_by_id_.size() - i));
        const entry* first = at(i);
        const entry* chosen = at(j);
        put(i, chosen);
        put(j, first);
        pool.push_back(chosen);
      }
      return pool;
    }
    pool = others_by_id_;
    for (const std::string& id : exclude) {
      const auto it = std::lower_bound(pool.begin(), pool.end(), id, id_before<entry>);
      if (it != pool.end() && (*it)->m.id == id) pool.erase(it);
    }
  } else {
    for (const entry* e : others_by_id_) {
      if (std::find(exclude.begin(), exclude.end(), e->m.id) != exclude.end()) continue;
      const bool recently_dead =
          e->m.status == member_status::dead && now - e->state_change < config_.gossip_to_the_dead;
      if (e->m.status == member_status::alive ||
          (with_dead && (e->m.status == member_status::suspect || recently_dead)))
        pool.push_back(e);
    }
  }
  if (pool.size() > most) {
    for (std::size_t i = 0; i < most; ++i)
      std::swap(pool[i], pool[i + static_cast<std::size_t>(rng_() % (pool.size() - i))]);
    pool.resize(most);
  }
  return pool;
}

// -- push-pull ----------------------------------------------------------------------------------

void swim::send_state_to(const std::string& address, bool is_reply, bool is_join) {
  ++stats_.push_pulls;
  // A hidden node sends an empty state: the answer is the other's whole view, and nothing of
  // the hidden node reaches it.
  env_.send_state(address, encode_state(is_reply, is_join, config_.hidden ? std::vector<member>{} : members()));
}

void swim::push_pull(time now) {
  const auto to = pick_random(1, {}, false, now);
  if (!to.empty()) send_state_to(to.front()->m.address, false, false);
}

void swim::reconnect(time) {
  // Not one whose address is this node's own now (this node was started where it had run):
  // the exchange would reach this node itself, once every interval for reconnect_timeout.
  const std::string& own = self().address;
  std::vector<std::string_view> candidates;
  if (members_.size() != live_)  // somebody failed (or left)
    for (const auto& [id, e] : members_)
      if (e.m.status == member_status::dead && e.m.address != own) candidates.push_back(e.m.address);
  // And a seed no live member is at: a seed that left gracefully (a departed member is not
  // retried as a failed one) and came back with no seeds of its own waits for somebody to ask
  // it, and the cluster stayed split in two for ever.
  for (const std::string& seed : seeds_)
    if (seed != own && std::none_of(others_by_id_.begin(), others_by_id_.end(), [&](const entry* e) {
          return live(e->m.status) && e->m.address == seed;
        }))
      candidates.push_back(seed);
  if (candidates.empty()) return;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  send_state_to(std::string(candidates[rng_() % candidates.size()]), false, false);
}

void swim::on_state_body(std::string_view from_address, std::span<const std::byte> body, time now) {
  from_.assign(from_address);
  now_ = now;
  const gossip_decode_outcome out = decode_gossip(body, *this);
  if (out.bad) ++stats_.malformed_dropped;
  schedule(now);
}

void swim::on_state(bool is_reply, bool, std::vector<member>&& remote) {
  if (leaving_) return;
  // The accuser is the sender, named by its id (as in datagrams) so that the same node never
  // counts twice as independent confirmations; its address where its own record is missing.
  const std::string from_address = from_;  // the handlers below may send, which does not touch from_
  std::string from = from_address;
  for (const member& m : remote)
    if (m.address == from_address && m.status == member_status::alive) {
      from = m.id;
      break;
    }
  for (member& m : remote) {
    switch (m.status) {
      case member_status::alive: apply_alive(std::move(m)); break;
      case member_status::left: on_dead(m.id, m.incarnation, m.id); break;
      case member_status::suspect:
      case member_status::dead: {
        // Another node's belief of a death is only a suspicion here: it may be old or wrong.
        if (m.id != self_id_ && !members_.contains(m.id)) {
          if (m.status == member_status::dead) break;  // never known here: not brought in dead
          const std::string id = m.id;
          const std::uint64_t incarnation = m.incarnation;
          apply_alive(member(m));
          on_suspect(id, incarnation, from);
          break;
        }
        on_suspect(m.id, m.incarnation, from);
        break;
      }
    }
  }
  if (!is_reply) send_state_to(from_address, true, false);
}

// -- datagrams ----------------------------------------------------------------------------------

void swim::on_datagram(std::string_view from_address, std::span<const std::byte> datagram, time now) {
  ++stats_.datagrams_in;
  stats_.bytes_in += datagram.size();
  std::span<const std::byte> body;
  switch (open_datagram(datagram, keys_, env_.wall_clock_ms(), replay_, body)) {
    case open_outcome::ok: break;
    case open_outcome::malformed: ++stats_.malformed_dropped; return;
    case open_outcome::unsigned_refused: ++stats_.unsigned_dropped; return;
    case open_outcome::forged: ++stats_.forged_dropped; return;
    case open_outcome::stale: ++stats_.stale_dropped; return;
    case open_outcome::replayed: ++stats_.replayed_dropped; return;
  }
  from_.assign(from_address);
  now_ = now;
  in_datagram_ = true;
  const gossip_decode_outcome out = decode_gossip(body, *this);
  in_datagram_ = false;
  if (!stale_answers_.empty()) {
    send(from_, std::move(stale_answers_));
    stale_answers_.clear();
    stale_answered_.clear();
  }
  if (out.bad) ++stats_.malformed_dropped;
  schedule(now);
}

// -- queries ------------------------------------------------------------------------------------

void swim::forget_old(time now) {
  // Nobody dead or gone, or nobody for long enough: nothing to forget (not a look at each of a
  // thousand members every second).
  if (members_.size() == live_ || now < next_forget_) return;
  next_forget_ = time::max();
  for (auto it = members_.begin(); it != members_.end();) {
    const entry& e = it->second;
    const bool gone = e.m.status == member_status::dead || e.m.status == member_status::left;
    if (!gone || it->first == self_id_) {
      ++it;
      continue;
    }
    const time kept_until =
        e.state_change + (e.m.status == member_status::dead ? config_.reconnect_timeout : config_.left_retention);
    if (now <= kept_until) {
      next_forget_ = std::min(next_forget_, kept_until + time(1));
      ++it;
      continue;
    }
    const auto at = std::lower_bound(others_by_id_.begin(), others_by_id_.end(), it->first, id_before<entry>);
    if (at != others_by_id_.end() && *at == &it->second) others_by_id_.erase(at);
    it = members_.erase(it);
  }
}

std::vector<member> swim::members() const {
  std::vector<member> out;
  out.reserve(members_.size());
  for (const auto& [id, e] : members_) out.push_back(e.m);
  std::sort(out.begin(), out.end(), [](const member& a, const member& b) { return a.id < b.id; });
  return out;
}

const member* swim::find(std::string_view id) const {
  const auto it = members_.find(std::string(id));
  return it != members_.end() ? &it->second.m : nullptr;
}

membership_stats swim::stats() const noexcept {
  membership_stats s = stats_;
  s.awareness = awareness_;
  return s;
}

void swim::emit(member_event_kind kind, const member& m, std::string reason) {
  env_.member_changed(member_event{kind, m, std::move(reason)});
}

}  // namespace eam::cluster::internal
