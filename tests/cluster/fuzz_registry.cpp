// libFuzzer target for the decoders of the distributed registry's and the process groups'
// frames (cluster/src/names_wire.cpp, groups_wire.cpp): whatever the bytes, neither may throw
// or crash, and what one accepts must survive a round trip (encoded again, decoded again, the
// same). Both decoders see every input. Both are compiled into this program, instrumented.
//
// Seeds: EAM_FUZZ_WRITE_SEEDS=<dir> eam_fuzz_registry  writes valid messages of every kind
// (tests/cluster/fuzz_registry_corpus/) and exits.
#include "groups_wire.hpp"
#include "names_wire.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace fuzz {

using namespace eam::cluster::internal;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_registry: %s\n", what);
  std::abort();
}

bool same(const name_announcement& a, const name_announcement& b) {
  return a.name == b.name && a.stamp == b.stamp && a.actor == b.actor && a.signatures == b.signatures;
}

// Records the one message a body holds, as encoded again.
struct names_recorder final : names_visitor {
  std::vector<std::byte> again;
  void on_put(name_announcement&& a) override { again = encode_put(a); }
  void on_del(std::string&& name, std::uint64_t stamp) override { again = encode_del(name, stamp); }
  void on_sync(std::vector<name_announcement>&& all) override { again = encode_sync(all); }
  void on_sync_more(std::vector<name_announcement>&& more) override { again = encode_sync(more, names_op::sync_more); }
};

struct groups_recorder final : groups_visitor {
  std::vector<std::byte> again;
  void on_join(group_key&& key, std::uint64_t actor, std::uint64_t version) override {
    again = encode_group_change(groups_op::join, key, actor, version);
  }
  void on_leave(group_key&& key, std::uint64_t actor, std::uint64_t version) override {
    again = encode_group_change(groups_op::leave, key, actor, version);
  }
  void on_sync(std::uint64_t version, std::vector<group_members_of>&& all) override {
    again = encode_groups_sync(version, all);
  }
  void on_sync_more(std::uint64_t version, std::vector<group_members_of>&& more) override {
    again = encode_groups_sync(version, more, groups_op::sync_more);
  }
};

template <class Recorder, class Decode>
void round_trip(std::span<const std::byte> input, Decode decode) {
  Recorder first;
  if (decode(input, first).bad) return;
  // Accepted: its canonical encoding decodes to the same canonical encoding.
  Recorder second;
  if (decode(first.again, second).bad) fail("a re-encoded message was refused");
  if (second.again != first.again) fail("a message changed in a round trip");
}

void write_file(const std::string& dir, const std::string& name, const std::vector<std::byte>& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_seeds(const std::string& dir) {
  const name_announcement a{"counter", 0x1234'5678'0000, 42, {{"app.add", ""}, {"app.get", "int32"}}};
  const name_announcement b{"a name with spaces and \xc3\xa9", 7, 1, {}};
  write_file(dir, "names_put", encode_put(a));
  write_file(dir, "names_put_utf8", encode_put(b));
  write_file(dir, "names_del", encode_del("counter", 0x1234'5678'0000));
  write_file(dir, "names_sync", encode_sync({a, b}));
  write_file(dir, "names_sync_empty", encode_sync({}));
  write_file(dir, "names_sync_more", encode_sync({b}, names_op::sync_more));
  const group_key workers{"pg", "workers"};
  write_file(dir, "groups_join", encode_group_change(groups_op::join, workers, 42, 1));
  write_file(dir, "groups_leave", encode_group_change(groups_op::leave, workers, 42, 2));
  write_file(dir, "groups_sync", encode_groups_sync(7, {{workers, {1, 2, 2}}, {{"scope", "g"}, {3}}}));
  write_file(dir, "groups_sync_more", encode_groups_sync(7, {{workers, {4}}}, groups_op::sync_more));
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
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  try {
    fuzz::round_trip<fuzz::names_recorder>(input, [](auto body, auto& v) { return eam::cluster::internal::decode_names(body, v); });
    fuzz::round_trip<fuzz::groups_recorder>(input, [](auto body, auto& v) { return eam::cluster::internal::decode_groups(body, v); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_registry: an exception escaped: %s\n", e.what());
    std::abort();
  }
  return 0;
}
