#include <eam/otp/otp_errc.hpp>

namespace eam::otp {

std::string_view to_string(otp_errc code) noexcept {
  switch (code) {
    case otp_errc::invalid_subscription: return "invalid_subscription";
    case otp_errc::root_supervision_conflict: return "root_supervision_conflict";
    case otp_errc::function_threw: return "function_threw";
    case otp_errc::duplicate_child_id: return "duplicate_child_id";
  }
  return "unknown";
}

}  // namespace eam::otp

const eam::error_domain& eam::error_code_enum<eam::otp::otp_errc>::domain() noexcept {
  static constexpr error_domain otp{"eam.otp", [](int code) noexcept { return otp::to_string(static_cast<otp::otp_errc>(code)); }};
  return otp;
}
