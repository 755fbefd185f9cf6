// The name registry's seam (name_extension.hpp): what the system tells an installed extension
// and what it asks it.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

struct get {};

auto answering(eam::actor_context&, int v) {
  return eam::behavior{[v](get) { return v; }};
}

// Holds names "elsewhere" (refused here) and records what it is told.
struct recording_extension final : eam::name_extension {
  std::mutex lock;
  std::set<std::string> held_elsewhere;
  std::optional<eam::actor_ref> remote;  // what whereis answers for "remote"
  std::vector<std::pair<std::string, std::uint64_t>> registered_log, unregistered_log;

  bool may_register(std::string_view name) override {
    std::lock_guard g(lock);
    return !held_elsewhere.contains(std::string(name));
  }
  void registered(const std::string& name, const eam::actor_ref& ref) override {
    std::lock_guard g(lock);
    registered_log.emplace_back(name, ref.id());
  }
  void unregistered(const std::string& name, std::uint64_t actor_id) override {
    std::lock_guard g(lock);
    unregistered_log.emplace_back(name, actor_id);
  }
  std::optional<eam::actor_ref> whereis(std::string_view name) override {
    std::lock_guard g(lock);
    return name == "remote" ? remote : std::nullopt;
  }
  std::size_t unregistered_count() {
    std::lock_guard g(lock);
    return unregistered_log.size();
  }
};

}  // namespace

TEST_SUITE("engine.name_extension") {
  TEST_CASE("a global name held elsewhere is refused with name_taken and one taken here is reported with its actor") {
    eam::actor_system system({.workers = 1});
    auto extension = std::make_shared<recording_extension>();
    extension->held_elsewhere.insert("taken");
    system.set_name_extension(extension);

    try {
      (void)system.spawn({.name = "taken", .global = true}, answering, 1);
      FAIL("the spawn should have been refused");
    } catch (const eam::error& e) {
      CHECK(e.code() == eam::errc::name_taken);
    }
    CHECK_FALSE(system.whereis("taken").has_value());

    auto ref = system.spawn({.name = "mine", .global = true}, answering, 2);
    REQUIRE(extension->registered_log.size() == 1);
    CHECK(extension->registered_log[0] == std::pair<std::string, std::uint64_t>("mine", ref.id()));

    // A local name is the system's own business: the extension is neither asked nor told, and
    // it may shadow a global name held elsewhere.
    auto local = system.spawn({.name = "taken"}, answering, 3);
    CHECK(extension->registered_log.size() == 1);
    CHECK(system.whereis("taken") == local);
  }

  TEST_CASE("an actor's end and unregister both report the freed name and whereis falls back to the extension") {
    eam::actor_system system({.workers = 1});
    auto extension = std::make_shared<recording_extension>();
    system.set_name_extension(extension);
    auto stopping = system.spawn({.name = "stopping", .global = true}, answering, 1);
    const std::uint64_t stopping_id = stopping.id();
    system.stop(stopping);
    REQUIRE(eam::test::eventually([&] { return extension->unregistered_count() == 1; }));
    CHECK(extension->unregistered_log[0] == std::pair<std::string, std::uint64_t>("stopping", stopping_id));

    auto kept = system.spawn({.name = "kept", .global = true}, answering, 7);
    CHECK(system.unregister("kept"));
    CHECK_FALSE(system.unregister("kept"));
    CHECK(extension->unregistered_count() == 2);
    CHECK_FALSE(system.whereis("kept").has_value());
    CHECK(eam::unchecked_typed_ref_cast<eam::typed_ref<int(get)>>(kept).call(get{}).get().value() == 7);

    auto elsewhere = system.spawn(answering, 9);
    extension->remote = elsewhere;
    auto found = system.whereis<eam::typed_ref<int(get)>>("remote");
    REQUIRE(found.has_value());
    CHECK(found->call(get{}).get().value() == 9);
    system.stop(kept);
    system.shutdown();
    CHECK(extension->unregistered_count() == 2);  // "kept" was freed already: not reported twice
  }
}
