#include <eam/engine/error.hpp>

namespace eam {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::actor_not_found: return "actor_not_found";
    case errc::registry_lookup_failed: return "registry_lookup_failed";
    case errc::timeout: return "timeout";
    case errc::system_shutting_down: return "system_shutting_down";
    case errc::transport_error: return "transport_error";
    case errc::peer_not_found: return "peer_not_found";
    case errc::actor_class_not_registered: return "actor_class_not_registered";
    case errc::authentication_failed: return "authentication_failed";
    case errc::no_role_match: return "no_role_match";
    case errc::actor_not_migratable: return "actor_not_migratable";
    case errc::actor_has_children: return "actor_has_children";
    case errc::max_children: return "max_children";
    case errc::mailbox_full: return "mailbox_full";
    case errc::actor_crashed: return "actor_crashed";
    case errc::name_taken: return "name_taken";
    case errc::unhandled_message: return "unhandled_message";
    case errc::stash_cleared: return "stash_cleared";
    case errc::blocking_call_on_worker: return "blocking_call_on_worker";
    case errc::handler_already_attached: return "handler_already_attached";
    case errc::unexpected_reply_type: return "unexpected_reply_type";
    case errc::calling_self: return "calling_self";
  }
  return "unknown";
}

const error_domain& error_code_enum<errc>::domain() noexcept {
  static constexpr error_domain engine{"eam", [](int code) noexcept { return to_string(static_cast<errc>(code)); }};
  return engine;
}

error::error(error_code code, std::string context) : code_(code), context_(std::move(context)) {
  what_ = std::string(code_.name());
  if (!context_.empty()) what_ += ": " + context_;
}

static_assert(sizeof(void*) != 8 || sizeof(exit_reason) == 16,
              "a reason moves as two words and fits the stop and exit messages into small blocks (error.hpp)");

const std::string& exit_reason::no_text() noexcept {
  static const std::string empty;
  return empty;
}

std::string exit_reason::to_string() const {
  switch (kind_) {
    case kind::normal: return "normal";
    case kind::killed: return "killed";
    case kind::error: return "error: " + text();
    case kind::custom: return text();
    case kind::kill: return "kill";
    case kind::noproc: return "noproc";
    case kind::noconnection: return "noconnection";
    case kind::shutdown: return "shutdown";
  }
  return "unknown";
}

}  // namespace eam
