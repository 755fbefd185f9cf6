// The data frame decoder (cluster/src/frame.cpp) on frames built byte by byte. Casts, calls and
// replies in the shape a sender packs them take a path of their own (their head is read from
// the bytes); every other encoding msgpack allows for the same item must decode as the general
// path decodes it, limits and errors included.
#include <doctest/doctest.h>

// Internal header of the cluster layer (eam_cluster_internal).
#include "frame.hpp"

#include <eam/cluster/wire.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace eam::cluster::internal;

struct tick {
  std::int64_t n = 0;
  MSGPACK_DEFINE(n);
};

void register_tick() {
  static const bool done = [] {
    eam::cluster::register_message<tick>("frame_decode_test.tick");
    return true;
  }();
  (void)done;
}

// Writes what the decoder hands over, one line an item.
class recording_visitor final : public frame_visitor {
 public:
  std::vector<std::string> seen;
  std::vector<std::string> reasons;  // of the undecodable payloads

  void on_cast(std::uint64_t target, eam::message&& m) override {
    seen.push_back("cast " + std::to_string(target) + " " + value(m));
  }
  void on_call(std::uint64_t target, std::uint64_t request, eam::message&& m) override {
    seen.push_back("call " + std::to_string(target) + " " + std::to_string(request) + " " + value(m));
  }
  void on_reply(std::uint64_t request, eam::message&& m) override {
    seen.push_back("reply " + std::to_string(request) + " " + value(m));
  }
  void on_unknown_type(item_kind kind, std::uint64_t request, std::string_view name) override {
    seen.push_back("unknown " + std::to_string(static_cast<int>(kind)) + " " + std::to_string(request) + " " +
                   std::string(name));
  }
  void on_undecodable_payload(item_kind kind, std::uint64_t request, std::string_view name,
                              std::string_view why) override {
    seen.push_back("undecodable " + std::to_string(static_cast<int>(kind)) + " " + std::to_string(request) + " " +
                   std::string(name));
    reasons.emplace_back(why);
  }
  void on_hello(hello&& h) override {
    seen.push_back("hello " + h.node + " " + std::to_string(h.incarnation) + " " + h.address + " " +
                   std::to_string(h.session) + " " + std::to_string(h.ended));
  }
  void on_heartbeat() override { seen.emplace_back("heartbeat"); }
  void on_leave() override { seen.emplace_back("leave"); }
  void on_monitor(std::uint64_t target) override { seen.push_back("monitor " + std::to_string(target)); }
  void on_down(std::uint64_t, eam::exit_reason&&) override { seen.emplace_back("down"); }
  void on_moved(std::uint64_t, eam::actor_ref&&, std::string&&) override { seen.emplace_back("moved"); }
  void on_exit(std::uint64_t, eam::actor_ref&&, eam::exit_reason&&) override { seen.emplace_back("exit"); }
  void on_lookup(std::uint64_t, std::string&&, std::vector<wire_signature>&&) override { seen.emplace_back("lookup"); }
  void on_lookup_reply(std::uint64_t, std::uint64_t, std::string&&) override { seen.emplace_back("lookup_reply"); }
  void on_cancel(std::uint64_t request) override { seen.push_back("cancel " + std::to_string(request)); }
  void on_demonitor(std::uint64_t target) override { seen.push_back("demonitor " + std::to_string(target)); }
  void on_link(std::uint64_t target, eam::actor_ref&&, bool linked) override {
    seen.push_back((linked ? "link " : "unlink ") + std::to_string(target));
  }
  void on_where(std::string&& node, std::uint64_t incarnation) override {
    seen.push_back("where " + node + " " + std::to_string(incarnation));
  }
  void on_node_at(std::string&& node, std::uint64_t incarnation, std::string&& address) override {
    seen.push_back("node_at " + node + " " + std::to_string(incarnation) + " " + address);
  }

 private:
  static std::string value(const eam::message& m) {
    const tick* t = m.get_if<tick>();
    return t != nullptr ? std::to_string(t->n) : "?";
  }
};

// A data frame's bytes, written by hand.
struct frame_bytes {
  std::string bytes{static_cast<char>(wire_version), static_cast<char>(frame_kind::data)};

  frame_bytes& raw(std::initializer_list<int> b) {
    for (const int x : b) bytes.push_back(static_cast<char>(x));
    return *this;
  }
  frame_bytes& text(const std::string& s) {  // as fixstr
    raw({0xa0 | static_cast<int>(s.size())});
    bytes += s;
    return *this;
  }
  frame_bytes& tick_payload(int n) { return raw({0x91, n}); }  // [n]
  // A payload of `levels` nested arrays, the innermost [7].
  frame_bytes& nested_payload(int levels) {
    for (int i = 1; i < levels; ++i) raw({0x91});
    return raw({0x91, 7});
  }
};

struct decoded {
  decode_outcome outcome;
  std::vector<std::string> seen;
  std::vector<std::string> reasons;
};

decoded decode(const frame_bytes& f) {
  recording_visitor v;
  const decode_outcome out =
      decode_frame(std::span(reinterpret_cast<const std::byte*>(f.bytes.data()), f.bytes.size()), v);
  return {out, v.seen, v.reasons};
}

const std::string tick_name = "frame_decode_test.tick";

}  // namespace

TEST_SUITE("cluster.frame_decode") {
  TEST_CASE("casts, calls and replies as a sender packs them, and in msgpack's other encodings of the same items") {
    register_tick();
    frame_bytes f;
    f.raw({0x94, 0x00, 0x05}).text(tick_name).tick_payload(1);                                    // cast, fixints
    f.raw({0x95, 0x01, 0xcc, 0xc8, 0xcd, 0x01, 0x00}).text(tick_name).tick_payload(2);            // call, uint8/16
    f.raw({0x94, 0x02, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0}).text(tick_name).tick_payload(3);            // reply, uint64
    f.raw({0xdc, 0x00, 0x04, 0x00, 0xce, 0, 0, 0, 9, 0xd9, static_cast<int>(tick_name.size())});  // array16, str8
    f.bytes += tick_name;
    f.tick_payload(4);
    f.raw({0x94, 0xd0, 0x00, 0x05}).text(tick_name).tick_payload(5);        // the kind as int8: the general path
    f.raw({0x95, 0x00, 0x05}).text(tick_name).tick_payload(6).raw({0xc0});  // a cast with a fifth field
    f.raw({0x94, 0x00, 0x05}).text("no.such.type").tick_payload(7);
    f.raw({0x94, 0x02, 0x08}).text("no.such.type").tick_payload(8);
    f.raw({0x92, 0x04, 0x2a});  // a monitor
    f.raw({0x92, 0x0a, 0xcd, 0x01, 0x00});  // a cancel of request 256
    f.raw({0x92, 0x0b, 0x2a});              // a demonitor
    const decoded d = decode(f);
    CHECK_FALSE(d.outcome.bad);
    CHECK(d.outcome.items == 11);
    CHECK(d.seen == std::vector<std::string>{"cast 5 1", "call 200 256 2", "reply 4294967296 3", "cast 9 4", "cast 5 5",
                                             "cast 5 6", "unknown 0 0 no.such.type", "unknown 2 8 no.such.type",
                                             "monitor 42", "cancel 256", "demonitor 42"});
  }

  TEST_CASE("a cancel or demonitor without its number, or an item kind past the last, ends the frame") {
    frame_bytes short_cancel;
    short_cancel.raw({0x92, 0x04, 0x01, 0x91, 0x0a});
    const decoded a = decode(short_cancel);
    CHECK(a.outcome.bad);
    CHECK(a.outcome.why == "an item has too few fields");
    CHECK(a.seen == std::vector<std::string>{"monitor 1"});
    frame_bytes short_demonitor;
    short_demonitor.raw({0x92, 0x0b, 0x03, 0x91, 0x0b});
    const decoded c = decode(short_demonitor);
    CHECK(c.outcome.bad);
    CHECK(c.outcome.why == "an item has too few fields");
    CHECK(c.seen == std::vector<std::string>{"demonitor 3"});
    frame_bytes unknown_kind;
    unknown_kind.raw({0x92, 0x0f, 0x01});
    const decoded b = decode(unknown_kind);
    CHECK(b.outcome.bad);
    CHECK(b.outcome.why == "unknown item kind");
  }

  TEST_CASE("a where and its answer come back as packed, and a malformed one ends the frame with its reason") {
    frame_buffer packed;
    write_header(packed, frame_kind::data);
    {
      packer pk(packed);
      pack_where(pk, "node-c", 77);
      pack_node_at(pk, "node-c", 77, "127.0.0.1:4371");
      pack_node_at(pk, "node-d", 1, "[::1]:9");
    }
    frame_bytes f;
    f.bytes.assign(packed.data(), packed.size());
    const decoded d = decode(f);
    CHECK_FALSE(d.outcome.bad);
    CHECK(d.seen == std::vector<std::string>{"where node-c 77", "node_at node-c 77 127.0.0.1:4371", "node_at node-d 1 [::1]:9"});

    const std::vector<std::pair<std::vector<int>, std::string>> bad = {
        {{0x92, 0x0d, 0xa1, 'x'}, "an item has too few fields"},
        {{0x93, 0x0d, 0x01, 0x01}, "a text field is not a string"},
        {{0x93, 0x0d, 0xa0, 0x01}, "a where item's node id is not a printable name"},
        {{0x93, 0x0d, 0xa3, 'a', ' ', 'b', 0x01}, "a where item's node id is not a printable name"},
        {{0x93, 0x0d, 0xa1, 'x', 0xff}, "a number field is not an unsigned integer"},
        {{0x94, 0x0e, 0xa0, 0x01, 0xa3, 'h', ':', '1'}, "a node_at item's node id is not a printable name"},
        {{0x94, 0x0e, 0xa1, 'x', 0x01, 0xa1, 'h'}, "a node_at item's address is not host:port"},
        {{0x94, 0x0e, 0xa1, 'x', 0x01, 0xa2, 'h', ':'}, "a node_at item's address is not host:port"},
        {{0x94, 0x0e, 0xa1, 'x', 0x01, 0xa4, 'h', ':', '1', 'z'}, "a node_at item's address is not host:port"},
        {{0x94, 0x0e, 0xa1, 'x', 0x01, 0xa4, 'h', ' ', ':', '1'}, "a node_at item's address is not host:port"},
        {{0x93, 0x0e, 0xa1, 'x', 0x01}, "an item has too few fields"},
    };
    for (const auto& entry : bad) {
      const std::string& why = entry.second;  // not a structured binding: clang 14 cannot capture one
      CAPTURE(why);
      frame_bytes malformed;
      malformed.raw({0x92, 0x04, 0x01});  // a monitor first: what comes before the bad item is taken
      for (const int b : entry.first) malformed.raw({b});
      const decoded m = decode(malformed);
      CHECK(m.outcome.bad);
      CHECK(m.outcome.why == why);
      CHECK(m.seen == std::vector<std::string>{"monitor 1"});
    }
  }

  TEST_CASE("a payload is held to the depth it has inside its item: 32 levels in all pass, 33 are refused alone") {
    register_tick();
    frame_bytes deepest;  // the item's array and 31 levels of payload
    deepest.raw({0x94, 0x00, 0x05}).text("no.such.type").nested_payload(31);
    const decoded ok = decode(deepest);
    CHECK_FALSE(ok.outcome.bad);
    CHECK(ok.seen == std::vector<std::string>{"unknown 0 0 no.such.type"});

    frame_bytes too_deep;
    too_deep.raw({0x94, 0x00, 0x05}).text("no.such.type").nested_payload(32);
    too_deep.raw({0x94, 0x00, 0x05}).text(tick_name).tick_payload(1);
    const decoded refused = decode(too_deep);
    CHECK_FALSE(refused.outcome.bad);
    CHECK(refused.seen == std::vector<std::string>{"undecodable 0 0 no.such.type", "cast 5 1"});
    REQUIRE(refused.reasons.size() == 1);
    CHECK(refused.reasons[0].find("depth size overflow") != std::string::npos);
  }

  TEST_CASE("a cast, call or reply whose payload is over a limit is refused alone and the items after it arrive") {
    register_tick();
    frame_bytes f;
    // A cast of 65,537 numbers (array 32): one more than an array may hold here.
    f.raw({0x94, 0x00, 0x05}).text(tick_name).raw({0xdd, 0x00, 0x01, 0x00, 0x01});
    f.bytes.append(65537, '\x01');
    f.raw({0x94, 0x00, 0x05}).text(tick_name).tick_payload(1);
    // A call with a string of 8 MiB and one byte (str 32), then a reply with a map of 65,537 pairs.
    f.raw({0x95, 0x01, 0x06, 0x07}).text(tick_name).raw({0xdb, 0x00, 0x80, 0x00, 0x01});
    f.bytes.append((8u << 20) + 1, 'x');
    f.raw({0x94, 0x02, 0x08}).text(tick_name).raw({0xdf, 0x00, 0x01, 0x00, 0x01});
    for (int i = 0; i < 65537; ++i) f.raw({0x01, 0xc0});
    f.raw({0x94, 0x00, 0x05}).text(tick_name).tick_payload(2);
    const decoded d = decode(f);
    CHECK_FALSE(d.outcome.bad);
    CHECK(d.outcome.items == 5);
    CHECK(d.seen == std::vector<std::string>{"undecodable 0 0 " + tick_name, "cast 5 1", "undecodable 1 7 " + tick_name,
                                             "undecodable 2 8 " + tick_name, "cast 5 2"});
    REQUIRE(d.reasons.size() == 3);
    CHECK(d.reasons[0].find("array size overflow") != std::string::npos);
    CHECK(d.reasons[1].find("str size overflow") != std::string::npos);
    CHECK(d.reasons[2].find("map size overflow") != std::string::npos);

    // An over-limit payload cut short cannot be passed over: the frame ends there.
    frame_bytes cut;
    cut.raw({0x92, 0x04, 0x01});
    cut.raw({0x94, 0x00, 0x05}).text(tick_name).raw({0xdd, 0x00, 0x01, 0x00, 0x01});
    cut.bytes.append(65536, '\x01');
    const decoded c = decode(cut);
    CHECK(c.outcome.bad);
    CHECK(c.outcome.why == "undecodable msgpack: array size overflow");
    CHECK(c.seen == std::vector<std::string>{"monitor 1"});
  }

  TEST_CASE(
      "a cast cut short in its head or in its payload ends the frame, and one with a payload of another shape is "
      "refused alone") {
    register_tick();
    frame_bytes whole;
    whole.raw({0x94, 0x00, 0x05}).text(tick_name).tick_payload(1);
    for (std::size_t cut = 3; cut < whole.bytes.size(); ++cut) {
      frame_bytes f;
      f.raw({0x92, 0x04, 0x01});  // a monitor first: what precedes a bad item is kept
      f.bytes += whole.bytes.substr(2, cut - 2);
      const decoded d = decode(f);
      CAPTURE(cut);
      CHECK(d.outcome.bad);
      CHECK(d.outcome.why == "undecodable msgpack: insufficient bytes");
      CHECK(d.seen == std::vector<std::string>{"monitor 1"});
    }
    frame_bytes wrong_shape;
    wrong_shape.raw({0x94, 0x00, 0x05}).text(tick_name).raw({0xa1, 'x'});  // a string where [n] belongs
    wrong_shape.raw({0x94, 0x00, 0x05}).text(tick_name).tick_payload(3);
    const decoded d = decode(wrong_shape);
    CHECK_FALSE(d.outcome.bad);
    CHECK(d.seen == std::vector<std::string>{"undecodable 0 0 " + tick_name, "cast 5 3"});
    REQUIRE(d.reasons.size() == 1);
    CHECK(d.reasons[0].find("shape") != std::string::npos);
  }

  TEST_CASE("a hello comes back with its session and ended session, and one without them is refused") {
    frame_buffer packed;
    pack_hello(packed, hello{"node-a", 7, "127.0.0.1:4370", 12, 11});
    frame_bytes f;
    f.bytes.assign(packed.data(), packed.size());
    const decoded d = decode(f);
    CHECK_FALSE(d.outcome.bad);
    CHECK(d.seen == std::vector<std::string>{"hello node-a 7 127.0.0.1:4370 12 11"});

    // The hello of wire version 5 (node, incarnation, address) under this version's header.
    frame_bytes old;
    old.bytes = {static_cast<char>(wire_version), static_cast<char>(frame_kind::hello)};
    old.raw({0x93}).text("node-a").raw({0x07}).text("127.0.0.1:4370");
    const decoded refused = decode(old);
    CHECK(refused.outcome.bad);
    CHECK(refused.outcome.why == "a hello is not five fields");
    CHECK(refused.seen.empty());
  }

  TEST_CASE("a refusal comes back as it was packed, and a listener takes none as a frame") {
    frame_buffer packed;
    pack_refusal(packed, refusal{refusal_reason::node_id_in_use, "node-b", "127.0.0.1:4371"});
    const auto as_span = [](const std::string& b) {
      return std::span(reinterpret_cast<const std::byte*>(b.data()), b.size());
    };
    const std::string bytes(reinterpret_cast<const char*>(packed.data()), packed.size());
    refusal r;
    const decode_outcome out = decode_refusal(as_span(bytes), r);
    CHECK_FALSE(out.bad);
    CHECK(r.by == "node-b");
    CHECK(r.address == "127.0.0.1:4371");

    frame_bytes at_listener;
    at_listener.bytes = bytes;
    const decoded d = decode(at_listener);
    CHECK(d.outcome.bad);
    CHECK(d.outcome.why == "a refusal sent to a listener");
    CHECK(d.seen.empty());

    // Each malformed one is refused with its reason, and nothing is taken from it.
    const std::string head{static_cast<char>(wire_version), static_cast<char>(frame_kind::refused)};
    const std::vector<std::pair<std::string, std::string>> bad = {
        {std::string{static_cast<char>(wire_version), static_cast<char>(frame_kind::hello)} + bytes.substr(2),
         "a frame other than a refusal from a listener"},
        {head + "\x92\x01\xa1x", "a refusal is not a triple"},
        {head + "\x93\x02\xa1x\xa3h:1", "a refusal of an unknown reason"},
        {head + "\x93\x01\xa0\xa3h:1", "a refusal's node id is empty, too long or not printable"},
        {head + "\x93\x01\xa2x\n\xa3h:1", "a refusal's node id is empty, too long or not printable"},
        {head + "\x93\x01\xa1x\xa1h", "a refusal's address is not host:port"},
        {head + "\x93\x01\x01\xa3h:1", "a text field is not a string"},
        {head + "\x93\x01\xa1x\xa3h:1" + std::string(1, '\0'), "bytes after a refusal"},
        {head + "\x93\x01\xa1x\xa3h:", "undecodable msgpack: insufficient bytes"},
        {head, "undecodable msgpack: insufficient bytes"},
    };
    for (const auto& entry : bad) {
      const std::string& input = entry.first;
      const std::string& why = entry.second;  // not a structured binding: clang 14 cannot capture one
      CAPTURE(why);
      refusal untouched{refusal_reason::node_id_in_use, "kept", "kept:1"};
      const decode_outcome o = decode_refusal(as_span(input), untouched);
      CHECK(o.bad);
      CHECK(o.why == why);
      CHECK(untouched.by == "kept");
    }
  }
}
