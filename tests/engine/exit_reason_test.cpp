// exit_reason's value semantics, with its text behind a pointer (error.hpp): copies own their
// text, moves carry it, equality compares kind and text, and the messages that carry a reason at
// every actor's end fit a small envelope block.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "actor_cell.hpp"

#include <cstdint>
#include <string>
#include <utility>

using eam::exit_reason;

namespace {
// The block class make_envelope gives a message of type M (envelope.hpp); 0: none, the allocator.
template <class M>
constexpr std::uint8_t block_class_of() {
  using eam::detail::envelope;
  constexpr std::size_t align = alignof(M) > alignof(envelope) ? alignof(M) : alignof(envelope);
  return eam::detail::envelope_block_class(envelope::payload_offset(alignof(M)) + sizeof(M), align);
}
}  // namespace

TEST_SUITE("engine.exit_reason") {
  TEST_CASE("a copy has its own text, equal to the original's, and outlives it") {
    exit_reason copy;
    {
      const exit_reason crash = exit_reason::crashed("boom");
      copy = crash;
      CHECK(copy == crash);
      CHECK(&copy.text() != &crash.text());
    }
    CHECK(copy.type() == exit_reason::kind::error);
    CHECK(copy.text() == "boom");
    CHECK(copy.to_string() == "error: boom");
    const exit_reason& self = copy;
    copy = self;  // self-assignment keeps the text
    CHECK(copy.text() == "boom");
  }

  TEST_CASE("a move carries the text, and reasons differ by kind or by text") {
    exit_reason custom = exit_reason::custom("shutdown for upgrade");
    const exit_reason moved = std::move(custom);
    CHECK(moved.text() == "shutdown for upgrade");
    CHECK(moved.to_string() == "shutdown for upgrade");
    CHECK(moved != exit_reason::custom("other"));
    CHECK(moved != exit_reason::crashed("shutdown for upgrade"));
    CHECK(exit_reason::normal() == exit_reason{});
    CHECK(exit_reason::normal().text().empty());
    CHECK(exit_reason::killed() != exit_reason::normal());
    CHECK(exit_reason::of(exit_reason::kind::custom, "") == exit_reason::custom(""));  // an empty text is no text
  }

  TEST_CASE("shutdown is its own kind: not normal, yet no failure") {
    const exit_reason shutdown = exit_reason::shutdown();
    CHECK(shutdown.type() == exit_reason::kind::shutdown);
    CHECK(shutdown.to_string() == "shutdown");
    CHECK_FALSE(shutdown.is_normal());
    CHECK_FALSE(shutdown.is_failure());
    CHECK(shutdown != exit_reason::custom("shutdown"));
    CHECK_FALSE(exit_reason::normal().is_failure());
    CHECK(exit_reason::crashed("boom").is_failure());
    CHECK(exit_reason::killed().is_failure());
  }

  TEST_CASE("the stop and the exit report every actor's end sends take small envelope blocks") {
    CHECK(block_class_of<exit_reason>() != 0);  // the stop
    CHECK(block_class_of<eam::internal::child_exit>() != 0);
  }
}
