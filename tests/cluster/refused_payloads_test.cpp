// A message within the largest frame but over the receiving node's limits on one value (an array
// or map of more than 65,536 entries, a string or binary over 8 MiB, nesting deeper than 31) is
// refused alone: a call fails at once with undecodable_payload, as does a call whose answer is
// refused, and what follows it in its frame arrives; a message larger than any frame fails with
// transport_error. Two nodes in this process over 127.0.0.1, in open mode, so that a raw peer
// (raw_peer.hpp) can also put a refused cast and a good one into one frame.
#include "raw_peer.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/cluster.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

struct numbered {
  std::uint64_t n;
  MSGPACK_DEFINE(n);
};
struct bulky {
  std::vector<std::int8_t> values;
  MSGPACK_DEFINE(values);
};
struct counts {
  std::uint64_t numbered = 0, bulky = 0, last = 0;
  MSGPACK_DEFINE(numbered, bulky, last);
};
struct get_counts {
  MSGPACK_DEFINE();
};
struct measure {  // answered with the text's length
  std::string text;
  MSGPACK_DEFINE(text);
};
struct make_text {  // answered with a text of this many bytes
  std::uint64_t bytes;
  MSGPACK_DEFINE(bytes);
};
using sink_ref = eam::typed_ref<void(numbered), void(bulky), counts(get_counts)>;
using texts_ref = eam::typed_ref<std::uint64_t(measure), std::string(make_text)>;

void register_refused_test_messages() {
  static const bool done = [] {
    eam::cluster::register_message<numbered>("refused_payloads_test.numbered");
    eam::cluster::register_message<bulky>("refused_payloads_test.bulky");
    eam::cluster::register_message<counts>("refused_payloads_test.counts");
    eam::cluster::register_message<get_counts>("refused_payloads_test.get_counts");
    eam::cluster::register_message<measure>("refused_payloads_test.measure");
    eam::cluster::register_message<make_text>("refused_payloads_test.make_text");
    return true;
  }();
  (void)done;
}

void spawn_receivers(eam::actor_system& system) {
  system.spawn({.name = "sink"}, [](eam::actor_context& ctx) {
    auto& seen = ctx.make_state<counts>();
    return eam::behavior{[&seen](numbered m) {
                           ++seen.numbered;
                           seen.last = m.n;
                         },
                         [&seen](const bulky&) { ++seen.bulky; }, [&seen](get_counts) { return seen; }};
  });
  system.spawn({.name = "texts"}, [](eam::actor_context&) {
    return eam::behavior{[](const measure& m) { return static_cast<std::uint64_t>(m.text.size()); },
                         [](make_text m) { return std::string(m.bytes, 'x'); }};
  });
}

}  // namespace

TEST_SUITE("cluster.refused_payloads") {
  TEST_CASE("a payload over the receiver's limits is refused alone, calls fail with undecodable_payload at once") {
    ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says: the raw socket does no handshake
    register_refused_test_messages();
    eam::cluster::node_config config;
    config.cookie = std::nullopt;
    config.heartbeat_timeout = 120s;  // the raw peer sends no heartbeats
    config.system.workers = 1;
    config.node_id = "refusing-b";
    auto b = eam::cluster::start_node(config).value();
    spawn_receivers(b->system());
    config.node_id = "refusing-a";
    config.seeds = {b->address()};
    auto a = eam::cluster::start_node(config).value();
    REQUIRE(a->wait_for_peer("refusing-b", 30s));
    const sink_ref sink = a->whereis<sink_ref>("refusing-b", "sink").value();  // exports it at b
    const texts_ref texts = a->whereis<texts_ref>("refusing-b", "texts").value();

    // A call of 8 MiB and one byte of text (under the 16 MiB frame, over b's 8 MiB for a string):
    // b answers that it could not decode it. Before, b dropped the rest of the frame and the
    // call waited out its timeout.
    const std::string over_a_string((8u << 20) + 1, 'x');
    const auto refused_call = texts.call(measure{over_a_string}, 60s).get();
    REQUIRE_FALSE(refused_call.has_value());
    CHECK(refused_call.code() == eam::cluster::cluster_errc::undecodable_payload);
    CHECK(refused_call.error_value().context().find("str size overflow") != std::string::npos);
    CHECK(texts.call(measure{std::string(8u << 20, 'x')}, 120s).get().value() == (8u << 20));  // at the limit

    // An answer over a's limit fails its call here the same way.
    const auto refused_answer = texts.call(make_text{(8u << 20) + 1}, 60s).get();
    REQUIRE_FALSE(refused_answer.has_value());
    CHECK(refused_answer.code() == eam::cluster::cluster_errc::undecodable_payload);

    // Larger than any frame: refused at the send, with transport_error (not type_not_registered).
    const auto too_large = texts.call(measure{std::string(17u << 20, 'x')}, 120s).get();
    REQUIRE_FALSE(too_large.has_value());
    CHECK(too_large.code() == eam::errc::transport_error);
    const auto too_large_answer = texts.call(make_text{17u << 20}, 120s).get();
    REQUIRE_FALSE(too_large_answer.has_value());
    CHECK(too_large_answer.code() == eam::errc::transport_error);

    // One frame from a raw peer: a cast of 65,537 values (one more than an array may hold at b),
    // then a good cast. The good one arrives; the refused one is counted as a bad frame.
    eam::test::raw_dealer raw(b->port());
    REQUIRE(raw.send(eam::test::hello_frame("raw-peer", 1)));
    REQUIRE(eventually([&] { return b->stats().peers_connected == 2; }, 60s));
    const std::uint64_t sink_id = b->system().whereis("sink").value().id();
    const auto bad_before = b->stats().bad_frames;
    REQUIRE(raw.send(eam::test::data_frame([&](auto& pk) {
      pk.pack_array(4);
      pk.pack(static_cast<std::uint8_t>(eam::test::wire::item_kind::cast));
      pk.pack(sink_id);
      pk.pack(std::string_view("refused_payloads_test.bulky"));
      pk.pack(bulky{std::vector<std::int8_t>(65537, 1)});
      pk.pack_array(4);
      pk.pack(static_cast<std::uint8_t>(eam::test::wire::item_kind::cast));
      pk.pack(sink_id);
      pk.pack(std::string_view("refused_payloads_test.numbered"));
      pk.pack(numbered{42});
    })));
    CHECK(eventually([&] { return sink.call(get_counts{}, 60s).get().value().numbered == 1; }, 60s));
    const counts seen = sink.call(get_counts{}, 60s).get().value();
    CHECK(seen.last == 42);
    CHECK(seen.bulky == 0);
    CHECK(b->stats().bad_frames == bad_before + 1);
    a->shutdown();
    b->shutdown();
  }
}
