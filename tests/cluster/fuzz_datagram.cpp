// libFuzzer target for membership datagrams: the envelope (cluster/src/gossip_envelope.cpp), the
// gossip messages (gossip_wire.cpp) and the protocol that acts on them (swim.cpp). They are
// compiled into this program (tests/CMakeLists.txt, eam_fuzz_datagram) so that they are
// instrumented. Each input goes three ways:
//
//   envelope   open_datagram, with a keyring of two keys and in open mode, each with its own
//              replay guard kept across inputs (signature, size, version, flags, timestamp and
//              nonce paths). What opens is sealed again, signed, and must open again.
//   messages   decode_gossip on the input as a body: every field is looked at and checked
//              against the rules of gossip_wire.hpp, and what decoded is encoded again and must
//              decode to the same messages.
//   protocol   one swim kept across inputs (open mode, a few members it knows) is handed the
//              input inside a valid envelope (fresh nonce, current time), so the protocol sees
//              whatever decodes, and as a state exchange; then its clock moves on and it ticks.
//              Everything it sends must open and decode; its members are checked now and then;
//              past 10,000 members joined it is replaced (the memory a flood may take is the
//              caller's to bound, not a bug).
//
// Time is virtual: the clocks move a fixed step per input, and every random source has a fixed
// seed, so a run is the same every time from the same inputs.
//
// Seeds: EAM_FUZZ_WRITE_SEEDS=<dir> eam_fuzz_datagram  writes the bodies and datagrams of
// tests/cluster/fuzz_datagram_corpus/ (ping, indirect ping, ack, nack, alive with roles and
// metadata, suspect, dead, left, state exchanges; open, signed, forged and stale datagrams) and
// exits.
#include "gossip_envelope.hpp"
#include "gossip_wire.hpp"
#include "swim.hpp"

#include <eam/cluster/membership.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

using namespace eam::cluster;
using namespace eam::cluster::internal;
using namespace std::chrono_literals;

// -- fixed world ---------------------------------------------------------------------------------

/// The virtual wall clock's origin (November 2023): seeds are stamped with it.
constexpr std::int64_t epoch_ms = 1'700'000'000'000;
constexpr std::chrono::milliseconds replay_window = 30s;

gossip_key key_filled(std::uint8_t first, std::uint8_t step) {
  gossip_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(first + step * i);
  return k;
}

const gossip_key primary_key = key_filled(1, 7);
const gossip_key secondary_key = key_filled(0xa5, 3);
const gossip_key foreign_key = key_filled(0x5a, 11);  // in no keyring: what it signs is forged

const std::string self_id = "fz-self";
const std::string self_address = "127.0.0.1:7000";
struct known {
  std::string id, address;
};
const std::array<known, 3> known_members{
    {{"fz-a", "127.0.0.1:7001"}, {"fz-b", "127.0.0.1:7002"}, {"fz-c", "127.0.0.1:7003"}}};
const std::string stranger_address = "127.0.0.1:7999";

volatile std::size_t sink_;  // what was read: kept, so that the reads are not optimised away

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_datagram: %s\n", what);
  std::abort();
}

nonce_t nonce_from(std::uint64_t counter, std::uint8_t tag) {
  nonce_t n{};
  std::memcpy(n.data(), &counter, sizeof counter);
  n[15] = tag;
  return n;
}

std::span<const std::byte> as_bytes(const std::vector<std::byte>& v) { return {v.data(), v.size()}; }

// -- the rules of gossip_wire.hpp, checked on what was accepted ----------------------------------

bool printable(std::string_view t, bool allow_empty, bool allow_space) {
  if ((!allow_empty && t.empty()) || t.size() > max_gossip_text) return false;
  return std::all_of(t.begin(), t.end(), [&](char c) { return (c > ' ' && c <= '~') || (c == ' ' && allow_space); });
}

bool host_and_port(std::string_view a) {
  const auto colon = a.rfind(':');
  if (!printable(a, false, false) || colon == std::string_view::npos || colon == 0 || colon + 1 == a.size() ||
      a.size() - colon > 6)
    return false;
  return std::all_of(a.begin() + static_cast<std::ptrdiff_t>(colon) + 1, a.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

void check_member(const member& m) {
  if (!printable(m.id, false, false)) fail("a member id breaks the text rules");
  if (!host_and_port(m.address)) fail("a member address is not host:port");
  if (m.roles.size() > max_gossip_entries || m.metadata.size() > max_gossip_entries)
    fail("a member has too many roles or metadata entries");
  for (const auto& r : m.roles)
    if (!printable(r, false, false)) fail("a role breaks the text rules");
  for (const auto& [k, v] : m.metadata)
    if (!printable(k, false, false) || !printable(v, true, true)) fail("a metadata entry breaks the text rules");
}

// -- messages: every field read, each message kept as a canonical line and encoded again ----------

/// Appends `t` so that no two different sequences of fields give the same line.
void put(std::string& line, std::string_view t) {
  line += std::to_string(t.size());
  line += ':';
  line += t;
}
void put(std::string& line, std::uint64_t n) { put(line, std::to_string(n)); }

std::string line_of(const member& m) {
  std::string line;
  put(line, m.id);
  put(line, m.incarnation);
  put(line, m.address);
  put(line, m.roles.size());
  for (const auto& r : m.roles) put(line, r);
  put(line, m.metadata.size());
  for (const auto& [k, v] : m.metadata) {
    put(line, k);
    put(line, v);
  }
  put(line, static_cast<std::uint64_t>(m.status));
  return line;
}

class recorder final : public gossip_visitor {
 public:
  std::size_t calls = 0;
  std::vector<std::string> lines;                    // every message, in order
  std::vector<encoded_message> plain_again;          // each message but states, encoded again
  std::vector<std::vector<std::byte>> states_again;  // each state, encoded again (its own body)

  void on_ping(std::uint64_t seq, std::string_view target) override {
    if (!printable(target, false, false)) fail("a ping's target breaks the text rules");
    record("ping", [&](std::string& l) {
      put(l, seq);
      put(l, target);
    });
    plain_again.push_back(encode_ping(seq, target));
  }
  void on_indirect_ping(std::uint64_t seq, std::string_view target, std::string_view target_address) override {
    if (!printable(target, false, false) || !host_and_port(target_address))
      fail("an indirect ping's target or address breaks the rules");
    record("indirect_ping", [&](std::string& l) {
      put(l, seq);
      put(l, target);
      put(l, target_address);
    });
    plain_again.push_back(encode_indirect_ping(seq, target, target_address));
  }
  void on_ack(std::uint64_t seq) override {
    record("ack", [&](std::string& l) { put(l, seq); });
    plain_again.push_back(encode_ack(seq));
  }
  void on_nack(std::uint64_t seq) override {
    record("nack", [&](std::string& l) { put(l, seq); });
    plain_again.push_back(encode_nack(seq));
  }
  void on_alive(member&& m) override {
    check_member(m);
    if (m.status != member_status::alive) fail("an alive message gave a member that is not alive");
    record("alive", [&](std::string& l) { l += line_of(m); });
    plain_again.push_back(encode_alive(m));
  }
  void on_suspect(std::string_view id, std::uint64_t incarnation, std::string_view from) override {
    accusation("suspect", id, incarnation, from);
    plain_again.push_back(encode_suspect(id, incarnation, from));
  }
  void on_dead(std::string_view id, std::uint64_t incarnation, std::string_view from) override {
    accusation("dead", id, incarnation, from);
    plain_again.push_back(encode_dead(id, incarnation, from));
  }
  void on_state(bool is_reply, bool is_join, std::vector<member>&& members) override {
    if (members.size() > max_state_members) fail("a state holds more members than allowed");
    for (const member& m : members) {
      check_member(m);
      if (static_cast<std::uint8_t>(m.status) > static_cast<std::uint8_t>(member_status::left))
        fail("a state entry has an unknown status");
    }
    record("state", [&](std::string& l) {
      put(l, std::uint64_t{is_reply});
      put(l, std::uint64_t{is_join});
      for (const member& m : members) l += line_of(m);
    });
    states_again.push_back(encode_state(is_reply, is_join, members));
  }

  ~recorder() {
    for (const auto& l : lines) sink_ = sink_ + l.size();
  }

 private:
  template <class Fields>
  void record(std::string_view kind, Fields fields) {
    std::string line(kind);
    fields(line);
    lines.push_back(std::move(line));
    ++calls;
  }
  void accusation(std::string_view kind, std::string_view id, std::uint64_t incarnation, std::string_view from) {
    if (!printable(id, false, false) || !printable(from, false, false)) fail("an accusation breaks the text rules");
    record(kind, [&](std::string& l) {
      put(l, id);
      put(l, incarnation);
      put(l, from);
    });
  }
};

/// decode_gossip on `body`: the outcome agrees with what was visited, and what was visited
/// encodes again to the same messages.
gossip_decode_outcome check_messages(std::span<const std::byte> body) {
  recorder first;
  const gossip_decode_outcome out = decode_gossip(body, first);
  if (out.bad == out.why.empty()) fail("a bad body without a reason, or a reason without a bad body");
  if (out.messages != first.calls) fail("the messages counted are not the messages visited");

  // Encoded again: the plain messages as one body, each state as its own; decoded, they give
  // the same lines (states compared in their order, the others in theirs).
  std::vector<const encoded_message*> parts;
  for (const auto& m : first.plain_again) parts.push_back(&m);
  const std::vector<std::byte> plain_body = make_body(parts);
  recorder again;
  const gossip_decode_outcome plain_out = decode_gossip(as_bytes(plain_body), again);
  if (plain_out.bad) fail("messages encoded again do not decode");
  for (const auto& state : first.states_again)
    if (decode_gossip(as_bytes(state), again).bad) fail("a state encoded again does not decode");
  std::vector<std::string> expected_plain, expected_states;
  for (const auto& l : first.lines) (l.rfind("state", 0) == 0 ? expected_states : expected_plain).push_back(l);
  std::vector<std::string> got_plain, got_states;
  for (const auto& l : again.lines) (l.rfind("state", 0) == 0 ? got_states : got_plain).push_back(l);
  if (got_plain != expected_plain || got_states != expected_states)
    fail("messages encoded again decode to something else");
  return out;
}

// -- the envelope ---------------------------------------------------------------------------------

/// What `open_datagram` must hold to, whatever it answers.
void check_open(std::span<const std::byte> input, std::span<const gossip_key> keys, std::int64_t now_ms,
                replay_guard& guard, std::size_t guard_most) {
  std::span<const std::byte> body;
  const open_outcome out = open_datagram(input, keys, now_ms, guard, body);
  if (guard.remembered() > guard_most) fail("a replay guard holds more nonces than its bound");
  if ((input.size() < envelope_header_bytes || input.size() > max_datagram_bytes) && out != open_outcome::malformed)
    fail("a datagram of a size out of bounds was not refused as malformed");
  if (out != open_outcome::ok) {
    if (!body.empty()) fail("a refused datagram gave a body");
    return;
  }
  const bool is_signed = !keys.empty();
  if (body.data() != input.data() + envelope_header_bytes ||
      body.size() + envelope_header_bytes + (is_signed ? envelope_mac_bytes : 0) != input.size())
    fail("an opened datagram's body is not the bytes between its header and its signature");
  if (input[0] != std::byte{gossip_version}) fail("a datagram of another version opened");

  // The same bytes again are a replay.
  std::span<const std::byte> again;
  if (open_datagram(input, keys, now_ms, guard, again) != open_outcome::replayed) fail("a replay was not refused");

  // Sealed again with its stamp and nonce: the same bytes when unsigned; signed with each key of
  // the ring, it opens; signed with another key, or with one bit of its signature changed, it
  // is forged. (Fresh guards: the nonce is the one just recorded.)
  std::uint64_t stamp = 0;
  for (int i = 0; i < 8; ++i) stamp = (stamp << 8) | static_cast<std::uint8_t>(input[2 + i]);
  nonce_t nonce;
  std::memcpy(nonce.data(), input.data() + 10, nonce.size());
  const auto stamp_ms = static_cast<std::int64_t>(stamp);
  if (!is_signed) {
    const std::vector<std::byte> resealed = seal_datagram(body, nullptr, stamp_ms, nonce);
    if (!std::equal(resealed.begin(), resealed.end(), input.begin(), input.end()))
      fail("an unsigned datagram sealed again is not the same bytes");
  }
  const std::array<gossip_key, 2> ring{primary_key, secondary_key};
  for (const gossip_key* key : {&primary_key, &secondary_key, &foreign_key}) {
    std::vector<std::byte> signed_copy = seal_datagram(body, key, stamp_ms, nonce);
    replay_guard scratch(replay_window, 4);
    std::span<const std::byte> signed_body;
    const open_outcome signed_out = open_datagram(as_bytes(signed_copy), ring, now_ms, scratch, signed_body);
    if (signed_copy.size() > max_datagram_bytes) {
      if (signed_out != open_outcome::malformed) fail("a signed datagram over the size limit opened");
      continue;
    }
    const bool ours = key != &foreign_key;
    if (ours && (signed_out != open_outcome::ok ||
                 !std::equal(signed_body.begin(), signed_body.end(), body.begin(), body.end())))
      fail("a datagram signed with a key of the ring does not open to its body");
    if (!ours && signed_out != open_outcome::forged) fail("a datagram signed with a foreign key was not forged");
    if (ours) {
      signed_copy.back() ^= std::byte{0x01};
      replay_guard fresh_guard(replay_window, 4);
      if (open_datagram(as_bytes(signed_copy), ring, now_ms, fresh_guard, signed_body) != open_outcome::forged)
        fail("a datagram with a changed signature was not forged");
    }
  }
}

class envelope_checks {
 public:
  void run(std::span<const std::byte> input, std::uint64_t iteration) {
    // A clock that stays within the window of the seeds' stamps (so they open) and moves a
    // little, so the freshness bounds are met from both sides.
    const std::int64_t now_ms = epoch_ms + 1000 * static_cast<std::int64_t>(iteration % 8);
    const std::array<gossip_key, 2> ring{primary_key, secondary_key};
    check_open(input, ring, now_ms, signed_guard_, guard_most);
    check_open(input, {}, now_ms, open_guard_, guard_most);
  }

 private:
  // Small, so that forgetting the oldest nonces is exercised too.
  static constexpr std::size_t guard_most = 4096;
  replay_guard signed_guard_{replay_window, guard_most};
  replay_guard open_guard_{replay_window, guard_most};
};

// -- the protocol ---------------------------------------------------------------------------------

struct sent_ping {
  std::string address, target;
  std::uint64_t seq;
};

/// Reads what the swim sends back to it, to check it and answer some of its probes.
class outgoing_reader final : public gossip_visitor {
 public:
  std::vector<std::pair<std::string, std::uint64_t>> pings;  // target, seq
  void on_ping(std::uint64_t seq, std::string_view target) override { pings.emplace_back(target, seq); }
  void on_indirect_ping(std::uint64_t seq, std::string_view, std::string_view) override { sink_ = sink_ + seq; }
  void on_ack(std::uint64_t seq) override { sink_ = sink_ + seq; }
  void on_nack(std::uint64_t seq) override { sink_ = sink_ + seq; }
  void on_alive(member&& m) override { check_member(m); }
  void on_suspect(std::string_view, std::uint64_t incarnation, std::string_view) override {
    sink_ = sink_ + incarnation;
  }
  void on_dead(std::string_view, std::uint64_t incarnation, std::string_view) override { sink_ = sink_ + incarnation; }
  void on_state(bool, bool, std::vector<member>&& members) override {
    states_members += members.size();
    for (const member& m : members) check_member(m);
  }
  std::size_t states_members = 0;
};

class world final : public swim_environment {
 public:
  std::int64_t wall_ms = epoch_ms;
  std::size_t joins = 0;          // join events: every member ever added, so a bound on those held
  std::vector<sent_ping> probes;  // pings to known members, since the last step began

  void send_datagram(const std::string& address, std::vector<std::byte>&& datagram) override {
    if (!host_and_port(address)) fail("the swim sent a datagram to something that is not host:port");
    if (datagram.size() > max_datagram_bytes) fail("the swim sent a datagram over the size limit");
    std::span<const std::byte> body;
    if (open_datagram(as_bytes(datagram), {}, wall_ms, outgoing_guard_, body) != open_outcome::ok)
      fail("a datagram the swim sent does not open");
    outgoing_reader reader;
    if (decode_gossip(body, reader).bad) fail("a datagram the swim sent does not decode");
    for (auto& ping : reader.pings) {
      const bool to_a_known_member = std::any_of(known_members.begin(), known_members.end(), [&](const known& k) {
        return k.address == address && k.id == ping.first;
      });
      if (to_a_known_member && probes.size() < 16) probes.push_back({address, std::move(ping.first), ping.second});
    }
  }
  void send_state(const std::string& address, std::vector<std::byte>&& state) override {
    if (!host_and_port(address)) fail("the swim sent a state to something that is not host:port");
    outgoing_reader reader;
    if (decode_gossip(as_bytes(state), reader).bad) fail("a state the swim sent does not decode");
  }
  void member_changed(const member_event& event) override {
    if (event.kind == member_event_kind::join) ++joins;
    if (event.subject.id == self_id) fail("the swim reported a change of its own membership");
    check_member(event.subject);
    sink_ = sink_ + event.subject.id.size() + event.reason.size();
  }
  std::int64_t wall_clock_ms() override { return wall_ms; }

 private:
  replay_guard outgoing_guard_{replay_window, 1u << 14};
};

membership_config fuzz_config() {
  membership_config c;
  // Shorter than the defaults so that, within a few hundred inputs, members are pushed and
  // pulled, reconnected, and forgotten.
  c.push_pull_interval = 5s;
  c.reconnect_interval = 3s;
  c.reconnect_timeout = 20s;
  c.left_retention = 10s;
  c.gossip_to_the_dead = 5s;
  c.replay_window = replay_window;
  return c;
}

class protocol_checks {
 public:
  static constexpr std::size_t most_joins = 10000;
  static constexpr swim::time step{100};

  void run(std::span<const std::byte> input, bool body_is_bad, std::uint64_t iteration) {
    // A swim that left is kept for a few inputs (what arrives while leaving), then replaced.
    if (!swim_ || world_.joins > most_joins || (leaving_for_ > 0 && --leaving_for_ == 0)) recreate();
    now_ += step;
    world_.wall_ms = epoch_ms + now_.count();
    // Its probes of the known members from the last step, which they may answer in this one.
    std::vector<sent_ping> probes = std::move(world_.probes);
    world_.probes.clear();
    const std::string& from =
        iteration % 4 == 3 ? stranger_address : known_members[iteration % known_members.size()].address;

    // The input in a valid envelope: the protocol sees whatever decodes.
    const membership_stats before = swim_->stats();
    const std::vector<std::byte> wrapped = seal_datagram(input, nullptr, world_.wall_ms, nonce_from(++nonces_, 1));
    swim_->on_datagram(from, as_bytes(wrapped), now_);
    const membership_stats after_datagram = swim_->stats();
    const bool too_large = wrapped.size() > max_datagram_bytes;
    if (after_datagram.datagrams_in != before.datagrams_in + 1) fail("a datagram in was not counted");
    if (after_datagram.malformed_dropped != before.malformed_dropped + ((too_large || body_is_bad) ? 1 : 0))
      fail("a malformed datagram was not counted once, or a good one was");
    if (after_datagram.unsigned_dropped + after_datagram.forged_dropped + after_datagram.stale_dropped +
            after_datagram.replayed_dropped !=
        before.unsigned_dropped + before.forged_dropped + before.stale_dropped + before.replayed_dropped)
      fail("a valid envelope was refused");

    // The input as a state exchange (over the transport: no envelope).
    swim_->on_state_body(from, input, now_);
    if (swim_->stats().malformed_dropped != after_datagram.malformed_dropped + (body_is_bad ? 1 : 0))
      fail("a malformed state was not counted once, or a good one was");

    // The known members answer most probes (acks meet their probes; the rest time out).
    if (iteration % 4 != 0) answer(probes);

    // Time moves on: whatever is due runs (a tick may leave more due at once; bounded).
    for (int i = 0; i < 4 && swim_->next_deadline() <= now_; ++i) swim_->tick(now_);
    if (iteration % 97 == 0) refresh_known();
    if (iteration % 331 == 0 && leaving_for_ == 0)
      swim_->set_metadata({{"zone", "z" + std::to_string(iteration % 7)}}, now_);
    if (iteration % 4099 == 0 && leaving_for_ == 0) {
      swim_->leave(now_);
      leaving_for_ = 8;
    }
    check_state(iteration);
  }

 private:
  void recreate() {
    member self{self_id, self_address, 1, member_status::alive, {"fuzz"}, {{"zone", "z1"}}};
    swim_.reset();
    world_.joins = 0;
    leaving_for_ = 0;
    swim_ = std::make_unique<swim>(fuzz_config(), self, world_, 0x5eed0000u + generation_++, now_);
    swim_->join({known_members[0].address, self_address}, now_);
    last_stats_ = swim_->stats();
    refresh_known();
  }

  /// The known members as alive, each time at a newer incarnation (whatever the fuzzer made of
  /// them meanwhile), so the protocol keeps members to probe and gossip to.
  void refresh_known() {
    std::vector<member> members;
    ++incarnation_;
    for (const known& k : known_members)
      members.push_back(member{k.id, k.address, incarnation_, member_status::alive, {"worker"}, {{"k", "v"}}});
    const std::vector<std::byte> state = encode_state(true, false, members);
    swim_->on_state_body(known_members[0].address, as_bytes(state), now_);
  }

  void answer(const std::vector<sent_ping>& probes) {
    for (const sent_ping& p : probes) {
      const encoded_message ack = encode_ack(p.seq);
      const encoded_message* parts[] = {&ack};
      const std::vector<std::byte> body = make_body(parts);
      const std::vector<std::byte> datagram =
          seal_datagram(as_bytes(body), nullptr, world_.wall_ms, nonce_from(++nonces_, 2));
      swim_->on_datagram(p.address, as_bytes(datagram), now_);
    }
  }

  void check_state(std::uint64_t iteration) {
    const membership_stats s = swim_->stats();
    const auto never_less = [](std::uint64_t now, std::uint64_t then) { return now >= then; };
    if (!never_less(s.datagrams_in, last_stats_.datagrams_in) ||
        !never_less(s.datagrams_out, last_stats_.datagrams_out) ||
        !never_less(s.malformed_dropped, last_stats_.malformed_dropped) || !never_less(s.probes, last_stats_.probes) ||
        !never_less(s.push_pulls, last_stats_.push_pulls) || !never_less(s.refutations, last_stats_.refutations))
      fail("a cumulative counter went down");
    if (s.awareness < 0 || s.awareness >= fuzz_config().awareness_max_multiplier) fail("awareness is out of bounds");
    last_stats_ = s;

    const member& me = swim_->self();
    const member_status own_status = leaving_for_ > 0 ? member_status::left : member_status::alive;
    if (me.id != self_id || me.address != self_address || me.status != own_status)
      fail("the swim's own record changed what only it may change");
    sink_ = sink_ + me.incarnation;
    if (swim_->live_count() < 1 || swim_->live_count() > world_.joins + 1) fail("the live count is out of bounds");
    const auto [min, max] = swim_->suspicion_bounds();
    if (min.count() <= 0 || max < min) fail("the suspicion bounds are out of order");

    // The full member list costs a copy and a sort: not on every input.
    if (iteration % 64 != 0) return;
    const std::vector<member> members = swim_->members();
    if (members.size() > world_.joins + 1) fail("the swim holds more members than ever joined");
    std::size_t live = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0 && !(members[i - 1].id < members[i].id)) fail("members are not sorted by id, or not unique");
      if (members[i].id != self_id) check_member(members[i]);
      if (members[i].status == member_status::alive || members[i].status == member_status::suspect) ++live;
      if (swim_->find(members[i].id) == nullptr) fail("a listed member cannot be found");
    }
    // (A node that left still counts itself in live_count: it is not asked while leaving.)
    if (leaving_for_ == 0 && live != swim_->live_count()) fail("the live count is not the members alive or suspect");
  }

  world world_;
  std::unique_ptr<swim> swim_;
  swim::time now_{0};
  std::uint64_t generation_ = 0, nonces_ = 0, incarnation_ = 1;
  int leaving_for_ = 0;  // inputs left to a swim that left
  membership_stats last_stats_;
};

// -- seeds ------------------------------------------------------------------------------------------

void write_file(const std::string& dir, const std::string& name, const std::vector<std::byte>& bytes) {
  const std::string path = dir + "/" + name;
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size()) fail("cannot write a seed");
  std::fclose(out);
}

std::vector<std::byte> body_of(std::initializer_list<encoded_message> messages) {
  std::vector<const encoded_message*> parts;
  for (const auto& m : messages) parts.push_back(&m);
  return make_body(parts);
}

void write_seeds(const std::string& dir) {
  const member newcomer{"fz-d",
                        "127.0.0.1:7004",
                        5,
                        member_status::alive,
                        {"worker", "store"},
                        {{"zone", "z2"}, {"note", "a value with spaces"}, {"empty", ""}}};
  const member self_elsewhere{self_id, self_address, 9, member_status::alive, {"fuzz"}, {{"zone", "elsewhere"}}};
  const std::vector<std::pair<std::string, encoded_message>> messages{
      {"ping", encode_ping(7, self_id)},
      {"ping_other", encode_ping(8, "fz-a")},
      {"indirect_ping", encode_indirect_ping(9, "fz-b", "127.0.0.1:7002")},
      {"ack", encode_ack(7)},
      {"nack", encode_nack(9)},
      {"alive", encode_alive(newcomer)},
      {"alive_self", encode_alive(self_elsewhere)},
      {"suspect", encode_suspect("fz-a", 3, "fz-b")},
      {"suspect_self", encode_suspect(self_id, 4, "fz-c")},
      {"dead", encode_dead("fz-c", 4, "fz-a")},
      {"left", encode_dead("fz-b", 2, "fz-b")},
  };
  std::vector<const encoded_message*> all;
  for (const auto& [name, m] : messages) {
    const encoded_message* parts[] = {&m};
    write_file(dir, "body_" + name, make_body(parts));
    all.push_back(&m);
  }
  const std::vector<std::byte> mixed = make_body(all);
  write_file(dir, "body_mixed", mixed);

  std::vector<member> state{newcomer,
                            member{"fz-a", "127.0.0.1:7001", 3, member_status::suspect, {}, {}},
                            member{"fz-b", "127.0.0.1:7002", 2, member_status::left, {"worker"}, {}},
                            member{"fz-c", "127.0.0.1:7003", 4, member_status::dead, {}, {{"k", "v"}}},
                            member{"fz-e", "[::1]:7005", 1, member_status::suspect, {}, {}},
                            self_elsewhere};
  write_file(dir, "state_push", encode_state(false, false, state));
  write_file(dir, "state_join", encode_state(false, true, state));
  write_file(dir, "state_reply", encode_state(true, false, state));

  const std::vector<std::byte> ping = body_of({encode_ping(11, self_id)});
  write_file(dir, "datagram_open", seal_datagram(as_bytes(mixed), nullptr, epoch_ms, nonce_from(1, 0xd0)));
  write_file(dir, "datagram_signed", seal_datagram(as_bytes(mixed), &primary_key, epoch_ms, nonce_from(2, 0xd0)));
  write_file(dir, "datagram_signed_secondary",
             seal_datagram(as_bytes(ping), &secondary_key, epoch_ms, nonce_from(3, 0xd0)));
  write_file(dir, "datagram_forged", seal_datagram(as_bytes(ping), &foreign_key, epoch_ms, nonce_from(4, 0xd0)));
  write_file(dir, "datagram_stale",
             seal_datagram(as_bytes(ping), &primary_key, epoch_ms - 10 * 60 * 1000, nonce_from(5, 0xd0)));
  write_file(dir, "datagram_empty_body", seal_datagram({}, nullptr, epoch_ms, nonce_from(6, 0xd0)));
}

}  // namespace fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("EAM_FUZZ_WRITE_SEEDS"); dir != nullptr && *dir != '\0') {
    fuzz::write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::envelope_checks envelope;
  static fuzz::protocol_checks protocol;
  static std::uint64_t iteration = 0;
  ++iteration;
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  try {
    envelope.run(input, iteration);
    const auto messages = fuzz::check_messages(input);
    protocol.run(input, messages.bad, iteration);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_datagram: an exception escaped: %s\n", e.what());
    std::abort();
  }
  return 0;
}
