// Exit reasons on the wire (cluster/include/eam/cluster/wire.hpp): every kind, shutdown (the
// last one appended) included, decodes to itself; a kind number past the last is refused.
#include "wire_round_trip.hpp"

#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wire = eam::cluster::internal;

namespace {
std::optional<eam::exit_reason> round_trip(const eam::exit_reason& reason) {
  return eam::test::wire_round_trip("eam.exit_reason", reason);
}

// The reason [kind, text] as another node would send it, decoded here.
bool decodes(std::uint8_t kind) {
  const wire::wire_type* t = wire::find_wire_type("eam.exit_reason");
  REQUIRE(t != nullptr);
  eam::cluster::detail::frame_buffer buffer;
  eam::cluster::detail::wire_packer pk(buffer);
  pk.pack_array(2);
  pk.pack(kind);
  pk.pack(std::string());
  std::size_t offset = 0;
  const msgpack::object_handle h = msgpack::unpack(buffer.data(), buffer.size(), offset);
  try {
    return t->decode(h.get()).get_if<eam::exit_reason>() != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}
}  // namespace

TEST_SUITE("cluster.wire") {
  TEST_CASE("every exit reason kind crosses the wire, shutdown included, and a kind past the last is refused") {
    const std::vector<eam::exit_reason> reasons{eam::exit_reason::normal(),        eam::exit_reason::killed(),
                                                eam::exit_reason::crashed("boom"), eam::exit_reason::custom("why"),
                                                eam::exit_reason::kill(),          eam::exit_reason::noproc(),
                                                eam::exit_reason::noconnection(),  eam::exit_reason::shutdown()};
    for (const auto& reason : reasons) {
      CAPTURE(reason.to_string());
      CHECK(round_trip(reason) == reason);
    }
    CHECK(decodes(static_cast<std::uint8_t>(eam::exit_reason::kind::shutdown)));
    CHECK_FALSE(decodes(static_cast<std::uint8_t>(eam::exit_reason::kind::shutdown) + 1));
  }
}
