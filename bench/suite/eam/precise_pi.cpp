// Savina "piprecision": pi to `digits` decimal digits by the Bailey-Borwein-Plouffe series,
// each term computed by a worker actor in binary fixed point (so dividing by 16^k is a shift)
// and summed by the master in term order. The check: the result equals the same sum done
// sequentially, and its first 50 digits are pi's.
#include "../../workloads/done_latch.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

// Unsigned fixed point: limb 0 is the integer part, limbs 1.. the fraction, base 2^32.
using fixed = std::vector<std::uint32_t>;

fixed divide(std::uint64_t numerator, std::uint64_t divisor, std::size_t limbs) {
  fixed out(limbs);
  std::uint64_t rem = numerator;
  for (std::size_t i = 0; i < limbs; ++i) {
    out[i] = static_cast<std::uint32_t>(rem / divisor);
    rem = (rem % divisor) << 32;
  }
  return out;
}
void add(fixed& a, const fixed& b) {
  std::uint64_t carry = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    const std::uint64_t s = std::uint64_t{a[i]} + b[i] + carry;
    a[i] = static_cast<std::uint32_t>(s);
    carry = s >> 32;
  }
}
void subtract(fixed& a, const fixed& b) {
  std::int64_t borrow = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    std::int64_t d = std::int64_t{a[i]} - b[i] - borrow;
    borrow = d < 0;
    a[i] = static_cast<std::uint32_t>(d + (borrow << 32));
  }
}
fixed shift_right(const fixed& a, std::uint64_t bits) {
  fixed out(a.size(), 0);
  const std::size_t limb_shift = bits / 32, bit_shift = bits % 32;
  for (std::size_t i = a.size(); i-- > limb_shift;) {
    std::uint64_t v = std::uint64_t{a[i - limb_shift]} >> bit_shift;
    if (bit_shift != 0 && i - limb_shift >= 1) v |= (std::uint64_t{a[i - limb_shift - 1]} << (32 - bit_shift)) & 0xffffffffu;
    out[i] = static_cast<std::uint32_t>(v);
  }
  return out;
}

fixed bbp_term(std::uint64_t k, std::size_t limbs) {
  fixed t = divide(4, 8 * k + 1, limbs);
  subtract(t, divide(2, 8 * k + 4, limbs));
  subtract(t, divide(1, 8 * k + 5, limbs));
  subtract(t, divide(1, 8 * k + 6, limbs));
  return shift_right(t, 4 * k);
}

std::string decimal(fixed x, std::size_t digits) {
  std::string out = std::to_string(x[0]) + ".";
  x[0] = 0;
  while (out.size() < digits + 2) {
    std::uint64_t carry = 0;  // multiply the fraction by 10^9
    for (std::size_t i = x.size(); i-- > 1;) {
      const std::uint64_t v = std::uint64_t{x[i]} * 1'000'000'000u + carry;
      x[i] = static_cast<std::uint32_t>(v);
      carry = v >> 32;
    }
    std::string chunk = std::to_string(carry);
    out += std::string(9 - chunk.size(), '0') + chunk;
  }
  return out.substr(0, digits + 2);
}

struct term_request {
  std::uint64_t k;
};
struct term_value {
  std::uint64_t k;
  fixed value;
};

outcome precise_pi(unsigned workers, const params& p) {
  const std::int64_t digits = p["digits"], n_workers = p["workers_n"];
  const auto bits = static_cast<std::uint64_t>(std::ceil(static_cast<double>(digits) * 3.3219280948873622)) + 64;
  const std::size_t limbs = bits / 32 + 2;
  const std::uint64_t terms = bits / 4 + 2;
  actor_system sys({.workers = workers});
  done_latch done;
  fixed sum(limbs, 0);
  auto master = sys.spawn([&sum, terms, &done](actor_context& ctx) {
    struct state {
      std::map<std::uint64_t, fixed> early;
      std::uint64_t next = 0;
    };
    auto& st = ctx.make_state<state>();
    return behavior{[&st, &sum, terms, &done](term_value t) {
      st.early.emplace(t.k, std::move(t.value));
      for (auto it = st.early.begin(); it != st.early.end() && it->first == st.next; it = st.early.erase(it)) {
        add(sum, it->second);
        ++st.next;
      }
      if (st.next == terms) done.set(1);
    }};
  });
  std::vector<typed_ref<void(term_request)>> pool;
  for (std::int64_t w = 0; w < n_workers; ++w)
    pool.push_back(sys.spawn([to = typed_ref<void(term_value)>(master), limbs](actor_context&) {
      return behavior{[to, limbs](term_request r) { to.cast(term_value{r.k, bbp_term(r.k, limbs)}); }};
    }));
  const double s = seconds_of([&] {
    for (std::uint64_t k = 0; k < terms; ++k) pool[k % pool.size()].cast(term_request{k});
    done.wait();
  });
  fixed expected(limbs, 0);
  for (std::uint64_t k = 0; k < terms; ++k) add(expected, bbp_term(k, limbs));
  const std::string pi50 = "3.14159265358979323846264338327950288419716939937510";
  const bool digits_right = decimal(sum, 50) == pi50;
  return checked(s, static_cast<std::int64_t>(terms), static_cast<std::int64_t>(sum == expected && digits_right), 1);
}
EAM_SUITE_WORKLOAD("precise-pi", precise_pi);

}  // namespace
