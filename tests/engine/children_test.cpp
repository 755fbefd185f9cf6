#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {
struct spawn_child {
  std::string name;
};
struct count_children {};

// Records the order in which actors terminate.
struct journal {
  std::mutex m;
  std::vector<std::string> order;
  void add(std::string s) {
    std::lock_guard l(m);
    order.push_back(std::move(s));
  }
};

struct node : eam::actor<eam::actor_ref(spawn_child), std::size_t(count_children)> {
  journal* j = nullptr;
  std::string name;
  void init(journal* jj, std::string n) {
    j = jj;
    name = std::move(n);
  }
  eam::actor_ref handle_call(spawn_child c) { return context().spawn<node>(j, c.name); }
  std::size_t handle_call(count_children) { return context().children().size(); }
  void terminate(const eam::exit_reason&) { j->add(name); }
};
using node_ref = eam::ref_of<node>;
}  // namespace

TEST_SUITE("engine.children") {
  TEST_CASE("stopping a parent stops its children first: depth-first and youngest first with the parent last") {
    journal j;
    eam::actor_system system({.workers = 2});
    auto root = system.spawn<node>(&j, std::string("root"));
    auto a = eam::typed_ref_cast<node_ref>(root.call(spawn_child{"a"}).get().value()).value();
    auto b = eam::typed_ref_cast<node_ref>(root.call(spawn_child{"b"}).get().value()).value();
    (void)a.call(spawn_child{"a1"}).get().value();
    (void)a.call(spawn_child{"a2"}).get().value();
    (void)b.call(spawn_child{"b1"}).get().value();
    CHECK(root.call(count_children{}).get().value() == 2);
    system.stop(root);
    REQUIRE(eam::test::eventually([&] { return system.actor_count() == 0; }));
    std::lock_guard l(j.m);
    CHECK(j.order == std::vector<std::string>{"b1", "b", "a2", "a1", "a", "root"});
  }

  TEST_CASE("a child that stops on its own leaves its parent's children") {
    journal j;
    eam::actor_system system({.workers = 2});
    auto root = system.spawn<node>(&j, std::string("root"));
    auto child = root.call(spawn_child{"c"}).get().value();
    CHECK(root.call(count_children{}).get().value() == 1);
    system.stop(child);
    REQUIRE(eam::test::eventually([&] { return root.call(count_children{}).get().value() == 0; }));
    CHECK(root.is_alive());
  }

  TEST_CASE("a crashing parent still stops its children before it finishes") {
    journal j;
    struct crash {};
    eam::actor_system system({.workers = 2});
    auto parent = system.spawn([&j](eam::actor_context& ctx) {
      ctx.spawn<node>(&j, std::string("child"));
      return eam::behavior{[](crash) -> int { throw std::runtime_error("parent failed"); }};
    });
    CHECK(parent.call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eam::test::eventually([&] { return system.actor_count() == 0; }));
    std::lock_guard l(j.m);
    CHECK(j.order == std::vector<std::string>{"child"});
  }

  TEST_CASE("a child its parent's end stops ends with shutdown, and an actor linked to it ends too") {
    struct link_to {
      eam::actor_ref other;
    };
    eam::actor_system system({.workers = 2});
    std::mutex m;
    std::optional<eam::exit_reason> child_end, linked_end;
    auto linked = system.spawn([](eam::actor_context&) { return eam::behavior{[](int) {}}; });
    auto parent = system.spawn([](eam::actor_context& ctx) {
      return eam::behavior{[&ctx](link_to l) {
        auto child = ctx.spawn(
            [](eam::actor_context& c, eam::actor_ref other) {
              c.link(other);
              return eam::behavior{[](int) {}};
            },
            l.other);
        return eam::actor_ref(child);
      }};
    });
    const eam::actor_ref child = parent.call(link_to{linked}).get().value();
    system.watch(child, [&](const eam::down& d) {
      std::lock_guard l(m);
      child_end = d.reason;
    });
    system.watch(linked, [&](const eam::down& d) {
      std::lock_guard l(m);
      linked_end = d.reason;
    });
    system.stop(parent);
    REQUIRE(eam::test::eventually([&] {
      std::lock_guard l(m);
      return child_end.has_value() && linked_end.has_value();
    }));
    std::lock_guard l(m);
    CHECK(*child_end == eam::exit_reason::shutdown());
    CHECK(*linked_end == eam::exit_reason::shutdown());  // abnormal: it takes the linked actor along
  }
}
