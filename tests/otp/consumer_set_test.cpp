// The consumer set of the demand and broadcast dispatchers against a plain list of consumers
// scanned in subscription order (what the dispatchers did before the set): the same consumer
// on top after every add, remove and change of demand, for both orders, and a tag taken twice
// refused.
#include <doctest/doctest.h>
#include <eam/otp/gen_stage/consumer_set.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {
using eam::otp::detail::consumer_set;
using eam::otp::detail::demand_order;

struct model_entry {
  std::uint64_t tag;
  std::size_t demand;
};

/// The tag a scan in subscription order serves first (the first of the equal ones).
template <demand_order Order>
std::uint64_t scanned_top(const std::vector<model_entry>& model) {
  auto best = model.begin();
  for (auto it = model.begin(); it != model.end(); ++it) {
    const bool better = Order == demand_order::largest_first ? it->demand > best->demand : it->demand < best->demand;
    if (better) best = it;
  }
  return best->tag;
}

template <demand_order Order>
void against_a_scan(std::uint32_t seed) {
  consumer_set<int, Order> set;
  std::vector<model_entry> model;  // in subscription order
  std::mt19937 rng(seed);
  std::uint64_t next_tag = 1;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    if (model.empty() || (op < 3 && model.size() < 300)) {
      REQUIRE(set.add(next_tag, {}));
      model.push_back({next_tag++, 0});
    } else if (op < 4) {
      const std::size_t i = rng() % model.size();
      auto* c = set.find(model[i].tag);
      REQUIRE(c != nullptr);
      set.remove(*c);
      CHECK(set.find(model[i].tag) == nullptr);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op < 9) {
      const std::size_t i = rng() % model.size();
      const std::size_t demand = rng() % 8;  // few values: many ties
      auto* c = set.find(model[i].tag);
      REQUIRE(c != nullptr);
      CHECK(c->demand == model[i].demand);
      set.set_demand(*c, demand);
      model[i].demand = demand;
    } else {
      std::size_t least = model.front().demand;
      for (const auto& m : model) least = std::min(least, m.demand);
      set.take_from_all(least);
      for (auto& m : model) m.demand -= least;
    }
    REQUIRE(set.size() == model.size());
    if (!model.empty()) {
      REQUIRE(set.top().tag == scanned_top<Order>(model));
      CHECK(set.top().demand == set.find(set.top().tag)->demand);
    }
  }
}
}  // namespace

TEST_SUITE("otp.gen_stage.consumer_set") {
  TEST_CASE("the largest demand is on top, the older of equal ones first, as a scan found it") {
    for (std::uint32_t seed = 1; seed <= 5; ++seed) against_a_scan<demand_order::largest_first>(seed);
  }
  TEST_CASE("the smallest demand is on top, as a scan found it") {
    for (std::uint32_t seed = 1; seed <= 5; ++seed) against_a_scan<demand_order::smallest_first>(seed);
  }
  TEST_CASE("a tag already in the set is refused and the first consumer under it is kept") {
    consumer_set<int, demand_order::largest_first> set;
    REQUIRE(set.add(7, {}));
    set.set_demand(*set.find(7), 5);
    CHECK_FALSE(set.add(7, {}));
    CHECK(set.size() == 1);
    CHECK(set.find(7)->demand == 5);
    set.remove(*set.find(7));
    CHECK(set.add(7, {}));  // free again once removed
  }
}
