// libFuzzer target for the cluster's frame decoder (cluster/src/frame.cpp): decode_frame must
// neither throw nor crash, whatever the bytes. The decoder and the wire registry are compiled
// into this program (tests/CMakeLists.txt, eam_fuzz_frame), so that they are instrumented.
//
// Every item is looked at (type names read, payloads walked, values re-encoded and decoded
// again), and the outcome is checked against what the visitor saw. The bytes are also read as
// one msgpack value, after the frame's two header bytes and from the start, by the decoder's
// reader (object_reader.hpp) and by msgpack::unpack, which must agree (object_reader_oracle.hpp). Refs decode as empty
// refs (no node here); encoding a live ref throws, as it does without a node.
//
// The same bytes go to decode_refusal (what a dialled connection carries back), which must not
// throw either and whose refusals must encode back to what it read.
//
// Seeds: EAM_FUZZ_WRITE_SEEDS=<dir> eam_fuzz_frame  writes the valid frames of
// tests/cluster/fuzz_corpus/ (hello, heartbeat, leave, refused, data frames with every item kind
// and the payload types below) and exits.
#include "frame.hpp"
#include "object_reader_oracle.hpp"
#include "skip_value.hpp"
#include "ref_resolver.hpp"

#include <eam/cluster/control.hpp>
#include <eam/cluster/errc.hpp>
#include <eam/cluster/wire.hpp>
#include <eam/engine/actor_ref.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

namespace fuzz {

using namespace eam::cluster;
using namespace eam::cluster::internal;

// -- payload types: nested containers, optionals, variants, refs, errors, exit reasons -------------

struct ping {
  int n = 0;
  MSGPACK_DEFINE(n);
};

struct nested {
  std::vector<std::map<std::string, std::vector<std::int32_t>>> table;
  std::optional<std::vector<std::string>> words;
  std::unordered_map<std::int64_t, std::optional<double>> sparse;
  std::set<std::string> tags;
  std::pair<std::string, std::uint8_t> pair;
  std::array<std::int16_t, 3> triple{};
  std::tuple<bool, float, std::int8_t> small;
  std::vector<unsigned char> blob;  // bin
  MSGPACK_DEFINE(table, words, sparse, tags, pair, triple, small, blob);
};

// eam::error has no empty state: msgpack builds it with as<>, which its optional, vector and
// struct-field adaptors use; wire.hpp's variant adaptor default-constructs its alternative, so a
// variant cannot hold one (it does not compile).
using choice = std::variant<std::monostate, int, std::string, std::vector<std::variant<bool, double>>,
                            eam::exit_reason, std::optional<ping>>;

using ping_ref = eam::typed_ref<int(ping)>;

struct refs {
  eam::actor_ref who;
  std::vector<eam::actor_ref> many;
  std::optional<ping_ref> typed;
  std::map<std::string, eam::actor_ref> by_name;
  MSGPACK_DEFINE(who, many, typed, by_name);
};

struct reasons {
  eam::exit_reason reason;
  std::vector<eam::exit_reason> history;
  std::optional<eam::exit_reason> last;
  std::optional<eam::error> last_error;
  std::vector<eam::error> errors;
  choice pick;
  MSGPACK_DEFINE(reason, history, last, last_error, errors, pick);
};

void register_types() {
  static const bool once = [] {
    register_message<ping>("fuzz.ping");
    register_message<nested>("fuzz.nested");
    register_message<choice>("fuzz.choice");
    register_message<refs>("fuzz.refs");
    register_message<reasons>("fuzz.reasons");
    register_message<ping_ref>("fuzz.ping_ref");
    register_message<std::vector<choice>>("fuzz.choices");
    register_message<std::vector<eam::error>>("fuzz.errors");  // built with as<>, as eam::error is
    register_message<std::optional<eam::error>>("fuzz.maybe_error");
    control::register_control_messages();  // what an operator's requests carry
    return true;
  }();
  (void)once;
}

// -- no node: refs decode empty, encoding a live ref throws -----------------------------------------

class no_node final : public ref_resolver {
 public:
  detail::wire_ref encode(const eam::actor_ref&) override { throw msgpack::type_error(); }
  eam::actor_ref decode(const detail::wire_ref&) override { return {}; }
};

// -- the visitor -------------------------------------------------------------------------------------

volatile std::size_t sink_;  // what the visitor read: kept, so that the reads are not optimised away

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_frame: %s\n", what);
  std::abort();
}

class reader final : public frame_visitor {
 public:
  std::size_t calls = 0;

  void on_hello(hello&& h) override {
    touch(h.node);
    touch(h.address);
    sum_ += h.incarnation + h.session + h.ended;
    if (h.node.empty() || h.node.size() > 200) fail("a hello with a node id out of bounds was accepted");
    ++calls;
  }
  void on_heartbeat() override { ++calls; }
  void on_leave() override { ++calls; }
  void on_cast(std::uint64_t target, eam::message&& m) override {
    sum_ += target;
    look_at(m);
    ++calls;
  }
  void on_call(std::uint64_t target, std::uint64_t request, eam::message&& m) override {
    sum_ += target + request;
    look_at(m);
    ++calls;
  }
  void on_reply(std::uint64_t request, eam::message&& m) override {
    sum_ += request;
    look_at(m);
    ++calls;
  }
  void on_monitor(std::uint64_t target) override {
    sum_ += target;
    ++calls;
  }
  void on_down(std::uint64_t actor, eam::exit_reason&& reason) override {
    sum_ += actor;
    touch(reason);
    ++calls;
  }
  void on_moved(std::uint64_t actor, eam::actor_ref&& to, std::string&& node) override {
    sum_ += actor;
    if (to) fail("a ref decoded without a node is not empty");
    touch(node);
    ++calls;
  }
  void on_exit(std::uint64_t target, eam::actor_ref&& from, eam::exit_reason&& reason) override {
    sum_ += target;
    if (from) fail("a ref decoded without a node is not empty");
    touch(reason);
    ++calls;
  }
  void on_link(std::uint64_t target, eam::actor_ref&& from, bool linked) override {
    sum_ += target + (linked ? 1 : 0);
    if (from) fail("a ref decoded without a node is not empty");
    ++calls;
  }
  void on_lookup(std::uint64_t request, std::string&& name, std::vector<wire_signature>&& sigs) override {
    sum_ += request;
    touch(name);
    for (const auto& [m, r] : sigs) {
      touch(m);
      touch(r);
    }
    ++calls;
  }
  void on_lookup_reply(std::uint64_t request, std::uint64_t actor, std::string&& why) override {
    sum_ += request + actor;
    touch(why);
    ++calls;
  }
  void on_cancel(std::uint64_t request) override {
    sum_ += request;
    ++calls;
  }
  void on_demonitor(std::uint64_t target) override {
    sum_ += target;
    ++calls;
  }
  void on_where(std::string&& node, std::uint64_t incarnation) override {
    if (node.empty() || node.size() > 200) fail("a where item with a node id out of bounds was accepted");
    touch(node);
    sum_ += incarnation;
    ++calls;
  }
  void on_node_at(std::string&& node, std::uint64_t incarnation, std::string&& address) override {
    if (node.empty() || node.size() > 200) fail("a node_at item with a node id out of bounds was accepted");
    if (address.find(':') == std::string::npos || address.size() > 255)
      fail("a node_at item with an address that is not host:port was accepted");
    touch(node);
    touch(address);
    sum_ += incarnation;
    ++calls;
  }
  void on_undecodable_payload(item_kind kind, std::uint64_t request, std::string_view wire_name,
                              std::string_view why) override {
    sum_ += static_cast<std::size_t>(kind) + request;
    touch(wire_name);
    touch(why);
    ++calls;
  }
  void on_unknown_type(item_kind kind, std::uint64_t request, std::string_view wire_name) override {
    sum_ += static_cast<std::size_t>(kind) + request;
    touch(wire_name);
    if (find_wire_type(wire_name) != nullptr) fail("a registered wire type was reported unknown");
    ++calls;
  }

  ~reader() { sink_ = sink_ + sum_; }

 private:
  void touch(std::string_view s) {
    for (char c : s) sum_ += static_cast<unsigned char>(c);
  }
  void touch(const eam::exit_reason& r) {
    touch(r.to_string());
    sum_ += static_cast<std::size_t>(r.type());
  }
  void touch(const eam::error& e) {
    touch(e.what());
    touch(e.code().domain().name);
    touch(e.code().name());
  }

  void look_at(const eam::message& m) {
    if (!m) fail("an empty message was delivered");
    touch(m.type_name());
    if (const auto* e = m.get_if<eam::error>()) touch(*e);
    if (const auto* r = m.get_if<eam::exit_reason>()) touch(*r);
    if (const auto* s = m.get_if<std::string>()) touch(*s);
    if (const auto* n = m.get_if<nested>()) {
      for (const auto& row : n->table)
        for (const auto& [k, v] : row) touch(k), sum_ += v.size();
      if (n->words)
        for (const auto& w : *n->words) touch(w);
      sum_ += n->sparse.size() + n->tags.size() + n->blob.size();
    }
    if (const auto* r = m.get_if<reasons>()) {
      touch(r->reason);
      for (const auto& h : r->history) touch(h);
      if (r->last) touch(*r->last);
      if (r->last_error) touch(*r->last_error);
      for (const auto& e : r->errors) touch(e);
      sum_ += r->pick.index();
    }
    if (const auto* c = m.get_if<choice>()) sum_ += c->index();
    if (const auto* es = m.get_if<std::vector<eam::error>>())
      for (const auto& e : *es) touch(e);
    if (const auto* me = m.get_if<std::optional<eam::error>>(); me != nullptr && *me) touch(**me);
    if (const auto* r = m.get_if<refs>()) {
      if (r->who || (r->typed && *r->typed)) fail("a ref decoded without a node is not empty");
      sum_ += r->many.size() + r->by_name.size();
    }
    round_trip(m);
  }

  // What was decoded encodes again (its refs are empty: no node is asked), and that decodes to
  // the same type: the adaptors read what they write.
  void round_trip(const eam::message& m) {
    const wire_type* t = find_wire_type(m.type());
    if (t == nullptr) fail("a decoded message has a type that is not registered");
    frame_buffer buffer;
    packer pk(buffer);
    t->encode(pk, m.data());
    std::size_t offset = 0;
    msgpack::object_handle h = msgpack::unpack(buffer.data(), buffer.size(), offset);
    if (offset != buffer.size()) fail("a re-encoded value has bytes after it");
    eam::message again;
    try {
      again = t->decode(h.get());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz_frame: %s: %s\n", std::string(m.type_name()).c_str(), e.what());
      fail("a re-encoded value does not decode");
    }
    if (again.type() != m.type()) fail("a re-encoded value decodes to another type");
  }

  std::size_t sum_ = 0;
};

// -- seeds ------------------------------------------------------------------------------------------

void write_file(const std::string& dir, const std::string& name, const frame_buffer& f) {
  const std::string path = dir + "/" + name;
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr || std::fwrite(f.data(), 1, f.size(), out) != f.size()) fail("cannot write a seed");
  std::fclose(out);
}

template <class T>
void pack_payload_cast(packer& pk, std::uint64_t target, const std::string& name, const T& value) {
  const wire_type* t = find_wire_type(name);
  if (t == nullptr) fail("a seed's type is not registered");
  pack_cast(pk, target, *t, &value);
}

// A ref as it travels: [node, incarnation, actor].
void pack_wire_ref(packer& pk, std::string_view node, std::uint64_t incarnation, std::uint64_t actor) {
  pk.pack_array(3);
  pk.pack(node);
  pk.pack(incarnation);
  pk.pack(actor);
}

void write_seeds(const std::string& dir) {
  {
    frame_buffer f;
    pack_hello(f, hello{"node-a", 0x1234567890abcdefULL, "127.0.0.1:4370", 3, 2});
    write_file(dir, "hello", f);
  }
  {
    frame_buffer f;
    write_header(f, frame_kind::heartbeat);
    write_file(dir, "heartbeat", f);
  }
  {
    frame_buffer f;
    write_header(f, frame_kind::leave);
    write_file(dir, "leave", f);
  }
  {
    frame_buffer f;
    pack_refusal(f, refusal{refusal_reason::node_id_in_use, "node-b", "127.0.0.1:4371"});
    write_file(dir, "refused", f);
  }
  {  // one of every item kind
    frame_buffer f;
    write_header(f, frame_kind::data);
    packer pk(f);
    const ping p{7};
    const std::string text = "hello";
    pack_payload_cast(pk, 11, "fuzz.ping", p);
    pack_call(pk, 12, 1, *find_wire_type("fuzz.ping"), &p);
    pack_reply(pk, 2, *find_wire_type("string"), &text);
    const int answer = 42;
    pack_reply(pk, 3, *find_wire_type("i32"), &answer);
    pack_reply_error(pk, 4, eam::error(eam::errc::timeout, "too slow"));
    pack_monitor(pk, 13);
    pack_down(pk, 14, eam::exit_reason::crashed("boom"));
    pack_exit(pk, 15, eam::actor_ref{}, eam::exit_reason::kill());
    pk.pack_array(4);  // an exit from a ref that names a node
    pk.pack(static_cast<std::uint8_t>(item_kind::exit));
    pk.pack(std::uint64_t{16});
    pack_wire_ref(pk, "node-b", 99, 5);
    pk.pack(eam::exit_reason::custom("shutdown"));
    pack_lookup(pk, 5, "counter", {{"fuzz.ping", ""}, {"fuzz.ping", "i32"}});
    pack_lookup_reply(pk, 5, 17, "");
    pack_lookup_reply(pk, 6, 0, "no actor named x");
    pk.pack_array(4);  // a watched actor moved, to a ref that names a node
    pk.pack(static_cast<std::uint8_t>(item_kind::moved));
    pk.pack(std::uint64_t{18});
    pack_wire_ref(pk, "node-b", 99, 6);
    pk.pack(std::string_view("node-b"));
    pack_cancel(pk, 7);
    pack_demonitor(pk, 19);
    pk.pack_array(4);  // a link from a ref that names a node, then its unlink
    pk.pack(static_cast<std::uint8_t>(item_kind::link));
    pk.pack(std::uint64_t{20});
    pack_wire_ref(pk, "node-b", 99, 7);
    pk.pack(std::uint8_t{1});
    pk.pack_array(4);
    pk.pack(static_cast<std::uint8_t>(item_kind::link));
    pk.pack(std::uint64_t{20});
    pack_wire_ref(pk, "node-b", 99, 7);
    pk.pack(std::uint8_t{0});
    pack_where(pk, "node-b", 99);
    pack_node_at(pk, "node-b", 99, "127.0.0.1:4371");
    write_file(dir, "data_items", f);
  }
  {  // the payload types
    frame_buffer f;
    write_header(f, frame_kind::data);
    packer pk(f);
    nested n;
    n.table = {{{"a", {1, -2, 3}}, {"b", {}}}, {}};
    n.words = std::vector<std::string>{"x", "yz"};
    n.sparse = {{-1, 2.5}, {7, std::nullopt}};
    n.tags = {"t1", "t2"};
    n.pair = {"p", 200};
    n.triple = {-1, 0, 1};
    n.small = {true, 1.5f, -8};
    n.blob = {0, 1, 2, 255};
    pack_payload_cast(pk, 20, "fuzz.nested", n);
    pack_payload_cast(pk, 21, "fuzz.choice", choice{});
    pack_payload_cast(pk, 21, "fuzz.choice", choice{std::string("text")});
    pack_payload_cast(pk, 21, "fuzz.choice", choice{std::vector<std::variant<bool, double>>{true, 2.0}});
    pack_payload_cast(pk, 21, "fuzz.choice", choice{eam::exit_reason::normal()});
    pack_payload_cast(pk, 21, "fuzz.choice", choice{std::optional<ping>(ping{3})});
    reasons r{eam::exit_reason::crashed("bad"),
              {eam::exit_reason::killed(), eam::exit_reason::noconnection()},
              eam::exit_reason::custom("last"),
              eam::error(eam::errc::transport_error, "cut"),
              {eam::error(eam::errc::mailbox_full), eam::error(cluster_errc::node_stopped, "stopped")},
              choice{5}};
    pack_payload_cast(pk, 22, "fuzz.reasons", r);
    pack_payload_cast(pk, 23, "fuzz.choices", std::vector<choice>{choice{1}, choice{std::string("s")}});
    pack_payload_cast(pk, 24, "fuzz.refs", refs{});
    pk.pack_array(4);  // refs that name nodes, packed by hand (there is no node to encode them)
    pk.pack(static_cast<std::uint8_t>(item_kind::cast));
    pk.pack(std::uint64_t{25});
    pk.pack(std::string_view("fuzz.refs"));
    pk.pack_array(4);
    pack_wire_ref(pk, "node-b", 1, 2);
    pk.pack_array(2);
    pack_wire_ref(pk, "node-c", 3, 4);
    pk.pack_nil();
    pack_wire_ref(pk, "node-d", 5, 6);
    pk.pack_map(1);
    pk.pack(std::string_view("k"));
    pack_wire_ref(pk, "node-e", 7, 8);
    pk.pack_array(4);
    pk.pack(static_cast<std::uint8_t>(item_kind::reply));
    pk.pack(std::uint64_t{7});
    pk.pack(std::string_view("fuzz.ping_ref"));
    pack_wire_ref(pk, "node-f", 9, 10);
    pack_payload_cast(pk, 26, "eam.error", eam::error(eam::errc::name_taken, "x"));
    pack_payload_cast(pk, 26, "fuzz.errors",
                      std::vector<eam::error>{eam::error(eam::errc::mailbox_full),
                                              eam::error(eam::error_code(eam::cluster::detail::domain_named("otp"), 3), "y")});
    pack_payload_cast(pk, 26, "fuzz.maybe_error", std::optional<eam::error>(eam::error(eam::errc::transport_error, "cut")));
    pack_payload_cast(pk, 26, "fuzz.maybe_error", std::optional<eam::error>());
    pack_payload_cast(pk, 26, "eam.exit_reason", eam::exit_reason::noproc());
    pack_payload_cast(pk, 26, "u64", 18446744073709551615ul);
    pack_payload_cast(pk, 26, "f64", 0.25);
    pack_payload_cast(pk, 26, "bool", true);
    pk.pack_array(4);  // a type this program does not know
    pk.pack(static_cast<std::uint8_t>(item_kind::cast));
    pk.pack(std::uint64_t{27});
    pk.pack(std::string_view("fuzz.unknown"));
    pk.pack_nil();
    write_file(dir, "data_payloads", f);
  }
  {  // the control service's requests and answers (control.hpp)
    frame_buffer f;
    write_header(f, frame_kind::data);
    packer pk(f);
    control::node_info info;
    info.node_id = "node-b";
    info.address = "127.0.0.1:4371";
    info.roles = {"worker"};
    info.metadata = {{"zone", "eu-1"}};
    info.pid = 4242;
    info.health = "degraded";
    info.health_message = "cluster: draining";
    info.peers = {"node-a"};
    info.uptime_seconds = 12.5;
    pack_payload_cast(pk, 30, "eam.control.node_info", info);
    control::actor_list list{
        2, {{1, "counter", "counter_actor", 0, 1, false, 7}, {2, "", "lambda", 1, 0, true, std::nullopt}}, 3};
    pack_payload_cast(pk, 30, "eam.control.actor_list", list);
    pack_payload_cast(pk, 30, "eam.control.actors_request", control::actors_request{50});
    pack_payload_cast(pk, 30, "eam.control.migrate_request", control::migrate_request{"session-1", "node-c", 5000});
    pack_payload_cast(pk, 30, "eam.control.migrate_all_request", control::migrate_all_request{"node-c", true, 5000});
    pack_payload_cast(pk, 30, "eam.control.migrate_all_reply", control::migrate_all_reply{3, 1, {"timeout: slow"}});
    pack_payload_cast(pk, 30, "eam.control.drain_request", control::drain_request{false});
    pack_payload_cast(pk, 30, "eam.control.stop_request", control::stop_request{});
    pack_payload_cast(pk, 30, "eam.control.members_request", control::members_request{});
    pack_payload_cast(pk, 30, "eam.control.member_list",
                      control::member_list{{{"node-a", "alive", "127.0.0.1:4370", {"seed"}, 1700000000000},
                                            {"node-c", "dead", "127.0.0.1:4372", {}, 1700000000001}}});
    write_file(dir, "data_control", f);
  }
}

}  // namespace fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::register_types();
  if (const char* dir = std::getenv("EAM_FUZZ_WRITE_SEEDS"); dir != nullptr && *dir != '\0') {
    fuzz::write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace eam::cluster::internal;
  static fuzz::no_node resolver;
  scoped_ref_resolver resolve(resolver);
  fuzz::reader visitor;
  decode_outcome out;
  try {
    out = decode_frame(std::span(reinterpret_cast<const std::byte*>(data), size), visitor);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_frame: decode_frame threw: %s\n", e.what());
    std::abort();
  }
  if (out.bad == out.why.empty()) fuzz::fail("a bad frame without a reason, or a reason without a bad frame");
  refusal r;
  decode_outcome refused;
  try {
    refused = decode_refusal(std::span(reinterpret_cast<const std::byte*>(data), size), r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_frame: decode_refusal threw: %s\n", e.what());
    std::abort();
  }
  if (refused.bad == refused.why.empty()) fuzz::fail("a bad refusal without a reason, or a reason without a bad one");
  if (!refused.bad) {
    frame_buffer again;
    pack_refusal(again, r);
    refusal back;
    if (decode_refusal(std::span(reinterpret_cast<const std::byte*>(again.data()), again.size()), back).bad ||
        back.by != r.by || back.address != r.address || again.size() > refusal_frame_max_bytes)
      fuzz::fail("a refusal does not encode back to what was read");
  }
  if (size >= 2 && data[0] == wire_version && data[1] == static_cast<std::uint8_t>(frame_kind::data)) {
    if (visitor.calls != out.items) fuzz::fail("the items counted are not the items visited");
  } else if (out.items != 0 || visitor.calls != (out.bad ? 0u : 1u)) {
    fuzz::fail("a hello, heartbeat or leave was not visited exactly once");
  }
  // The decoder's limits, and limits that inputs this size reach.
  static const msgpack::unpack_limit frame_limits(1u << 16, 1u << 16, 8u << 20, 8u << 20, 1u << 16, 32);
  static const msgpack::unpack_limit tight_limits(8, 4, 16, 16, 8, 4);
  const auto* bytes = reinterpret_cast<const char*>(data);
  for (const std::size_t offset : {std::size_t{0}, std::size_t{2}}) {
    if (offset > size) break;
    for (const msgpack::unpack_limit* limits : {&frame_limits, &tight_limits}) {
      const std::string differs = eam::cluster::test::disagreement(bytes, size, offset, *limits);
      if (!differs.empty()) {
        std::fprintf(stderr, "fuzz_frame: the two msgpack readers differ at offset %zu:\n%s\n", offset,
                     differs.c_str());
        std::abort();
      }
    }
  }
  // skip_msgpack_value passes over exactly the bytes msgpack reads when no limit binds (an input
  // cannot hold more entries, or more levels, than it has bytes), and fails where it fails.
  for (const std::size_t offset : {std::size_t{0}, std::size_t{2}}) {
    if (offset > size) break;
    std::size_t skipped = offset;
    const bool whole = skip_msgpack_value(bytes, size, skipped);
    std::size_t read = offset;
    bool readable = true;
    const auto n = static_cast<std::uint32_t>(size + 1);
    try {
      (void)msgpack::unpack(bytes, size, read, nullptr, nullptr, msgpack::unpack_limit(n, n, n, n, n, n));
    } catch (const msgpack::unpack_error&) {
      readable = false;
    }
    if (whole != readable || (whole && skipped != read) || (!whole && skipped != offset))
      fuzz::fail("skip_msgpack_value disagrees with msgpack::unpack on where a value ends");
  }
  return 0;
}
