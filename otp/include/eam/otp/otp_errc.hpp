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
};

std::string_view to_string(otp_errc code) noexcept;

}  // namespace eam::otp

template <>
struct eam::error_code_enum<eam::otp::otp_errc> {
  static const error_domain& domain() noexcept;
};
