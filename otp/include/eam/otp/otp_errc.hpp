#pragma once
/// The OTP layer's error codes, a domain of their own ("eam.otp") beside the engine's `errc`.
///
///   auto r = consumer.subscribe(producer);
///   if (r.code() == eam::otp::otp_errc::invalid_subscription) ...

#include <eam/engine/error.hpp>

namespace eam::otp {

/// Values go on the wire: append, never renumber.
enum class otp_errc : int {
  /// GenStage: a subscription was refused (demand bounds out of order, a partition missing,
  /// out of range or taken), or a stage was started with options it cannot work with. (Its
  /// number is the one it had in the engine's domain before OTP had its own.)
  invalid_subscription = 18,
  /// configure_root_supervision after the root supervisor started with other options.
  root_supervision_conflict = 19,
  /// A function a caller sent to run inside a server (an agent's get or update) threw; the
  /// server runs on, its state as the function left it.
  function_threw = 20,
  /// Two children of one supervisor with the same id (OTP's duplicate_child_name): refused
  /// before any of them starts, or by start_child for an id the supervisor already has.
  duplicate_child_id = 21,
};

std::string_view to_string(otp_errc code) noexcept;

}  // namespace eam::otp

template <>
struct eam::error_code_enum<eam::otp::otp_errc> {
  static const error_domain& domain() noexcept;
};
