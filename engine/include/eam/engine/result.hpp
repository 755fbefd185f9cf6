#pragma once
/// `result<T>`: a value or an `eam::error`, the return type of operations that can fail at an
/// API edge (an expected-style type; it becomes an alias of std::expected once we build as C++23).

#include <eam/engine/error.hpp>

#include <type_traits>
#include <utility>
#include <variant>

namespace eam {

template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  result(error e) : state_(std::in_place_index<1>, std::move(e)) {}     // NOLINT
  template <error_code_enum_type E>
  result(E code, std::string context = {}) : result(error(code, std::move(context))) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws the error when there is none.
  T& value() & { check(); return std::get<0>(state_); }
  const T& value() const& { check(); return std::get<0>(state_); }
  // By value, not T&&: `for (auto& x : f().value())` then iterates a live object, where a
  // reference into the temporary result would dangle.
  T value() && { check(); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  T& operator*() & { return value(); }

  /// The error; only valid when `!has_value()`.
  [[nodiscard]] const error& error_value() const& { return std::get<1>(state_); }
  [[nodiscard]] error_code code() const { return std::get<1>(state_).code(); }

 private:
  void check() const {
    if (state_.index() != 0) throw std::get<1>(state_);
  }
  std::variant<T, error> state_;
};

/// A success without a value, or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;
  result() = default;
  result(error e) : error_(std::move(e)), failed_(true) {}  // NOLINT
  template <error_code_enum_type E>
  result(E code, std::string context = {}) : result(error(code, std::move(context))) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  void value() const {
    if (failed_) throw error_;
  }
  [[nodiscard]] const error& error_value() const& { return error_; }
  [[nodiscard]] error_code code() const { return error_.code(); }

 private:
  error error_{errc::actor_not_found};
  bool failed_ = false;
};

}  // namespace eam
