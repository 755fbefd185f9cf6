#pragma once
/// Typed errors with stable codes, and the reasons an actor exits.
///
/// Every layer owns a domain of codes: the engine's `errc` here, OTP's and the cluster's in
/// their layers, each an enum whose numbers never change, so a layer adds codes without editing
/// the engine. An error is a plain value (domain, code, text) that serialises by the domain's
/// stable name and the code's number. Why not std::error_code? Its categories are identified
/// by address and carry no stable name to put on the wire.

#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace eam {

/// Why an operation failed. Values go on the wire: append, never renumber.
enum class errc : std::uint8_t {
  /// The target actor does not exist or has exited; the message was dropped.
  actor_not_found = 1,
  /// A name lookup found nothing.
  registry_lookup_failed = 2,
  /// A call got no reply before its deadline.
  timeout = 3,
  /// The system is shutting down and accepts no new spawns or calls.
  system_shutting_down = 4,
  /// The transport could not deliver a message.
  transport_error = 5,
  /// The node named by a ref is not a member of the cluster.
  peer_not_found = 6,
  /// A remote spawn named an actor type this node does not know.
  actor_class_not_registered = 7,
  /// A peer presented the wrong cookie.
  authentication_failed = 8,
  /// Placement found no node with the requested role.
  no_role_match = 9,
  /// The actor cannot save and restore its state.
  actor_not_migratable = 10,
  /// The operation needs an actor without children.
  actor_has_children = 11,
  /// A supervisor already runs its maximum number of children.
  max_children = 12,
  /// The target's bounded mailbox is full.
  mailbox_full = 13,
  /// The handler that served the call threw: the actor crashed and the text says why.
  actor_crashed = 14,
  /// Another live actor already holds the requested name.
  name_taken = 15,
  /// The actor has no handler for the message's type (possible only through untyped sends).
  unhandled_message = 16,
  /// The call was stashed and the actor cleared its stash without handling it.
  stash_cleared = 17,
  // 18 was GenStage's invalid_subscription, now eam::otp::otp_errc (the OTP layer's domain).
  /// `call(...).get()` ran on a worker thread, where blocking would stall the worker:
  /// `co_await` the call inside a task handler instead.
  blocking_call_on_worker = 19,
  /// A telemetry handler id is already attached.
  handler_already_attached = 20,
  /// A call's answer has another type than the caller's ref expects (an answer built at run
  /// time, e.g. decoded from the network, that does not match the call's signature).
  unexpected_reply_type = 21,
  /// An actor called itself: it would wait for its own answer, which its turn cannot give
  /// while it waits (Erlang's gen_server:call fails with calling_self the same way).
  calling_self = 22,
};

/// The stable snake_case name of a code, e.g. "actor_not_found".
std::string_view to_string(errc code) noexcept;

/// A layer's family of error codes: a stable name (on the wire and in logs) and the names of
/// its codes.
struct error_domain {
  std::string_view name;
  std::string_view (*code_name)(int code) noexcept;
};

/// Specialise for a layer's code enum with `static const error_domain& domain() noexcept`.
template <class E>
struct error_code_enum;
template <>
struct error_code_enum<errc> {
  static const error_domain& domain() noexcept;
};
template <class E>
concept error_code_enum_type = requires {
  { error_code_enum<E>::domain() } -> std::same_as<const error_domain&>;
};

/// One code of one domain. Compares equal to the enum value it was made from:
/// `r.code() == eam::errc::timeout`.
class error_code {
 public:
  template <error_code_enum_type E>
  error_code(E code) noexcept  // NOLINT: implicit, so that codes of any layer compare directly
      : domain_(&error_code_enum<E>::domain()), value_(static_cast<int>(code)) {}
  error_code(const error_domain& domain, int value) noexcept : domain_(&domain), value_(value) {}

  [[nodiscard]] const error_domain& domain() const noexcept { return *domain_; }
  [[nodiscard]] int value() const noexcept { return value_; }
  /// The code's stable name, e.g. "actor_not_found".
  [[nodiscard]] std::string_view name() const noexcept { return domain_->code_name(value_); }
  friend bool operator==(const error_code& a, const error_code& b) noexcept {
    return a.value_ == b.value_ && (a.domain_ == b.domain_ || a.domain_->name == b.domain_->name);
  }

 private:
  const error_domain* domain_;
  int value_;
};

/// An error value: a stable code plus human-readable context. Also thrown by the throwing
/// accessors (`result::value()`, `actor_system::spawn`).
class error : public std::exception {
 public:
  error(error_code code, std::string context = {});
  template <error_code_enum_type E>
  error(E code, std::string context = {}) : error(error_code(code), std::move(context)) {}  // NOLINT
  [[nodiscard]] error_code code() const noexcept { return code_; }
  [[nodiscard]] const std::string& context() const noexcept { return context_; }
  /// "code: context".
  [[nodiscard]] const char* what() const noexcept override { return what_.c_str(); }
  friend bool operator==(const error& a, const error_code& b) noexcept { return a.code_ == b; }

 private:
  error_code code_;
  std::string context_;
  std::string what_;
};

/// Why an actor stopped: normal, killed, shutdown, error (a crash, with its text) or a custom
/// reason.
///
/// 16 bytes: the text, usually empty, lives behind a pointer, so that moving a reason (every
/// actor's end moves its reason three times, into the stop, the exit and its parent's report)
/// is two words, and the stop and exit messages fit the engine's small message blocks.
class exit_reason {
 public:
  // Values go on the wire where a layer serialises reasons: append, never renumber.
  enum class kind : std::uint8_t { normal, killed, error, custom, kill, noproc, noconnection, shutdown };

  exit_reason() = default;
  exit_reason(const exit_reason& other) : kind_(other.kind_), text_(copy_of(other.text_)) {}
  exit_reason(exit_reason&&) noexcept = default;
  exit_reason& operator=(const exit_reason& other) {
    if (this != &other) {
      text_ = copy_of(other.text_);
      kind_ = other.kind_;
    }
    return *this;
  }
  exit_reason& operator=(exit_reason&&) noexcept = default;
  ~exit_reason() = default;
  static exit_reason normal() { return {}; }
  static exit_reason killed() { return exit_reason(kind::killed, {}); }
  static exit_reason crashed(std::string what) { return exit_reason(kind::error, std::move(what)); }
  static exit_reason custom(std::string text) { return exit_reason(kind::custom, std::move(text)); }
  /// As the reason of `exit(ref, ...)`: an untrappable kill; the target dies with `killed`.
  static exit_reason kill() { return exit_reason(kind::kill, {}); }
  /// The actor did not exist (any more) when it was watched or linked.
  static exit_reason noproc() { return exit_reason(kind::noproc, {}); }
  /// The actor's node went away (a remote actor's watchers and links see this, as in Erlang).
  static exit_reason noconnection() { return exit_reason(kind::noconnection, {}); }
  /// Stopped from above: by its supervisor, or because its parent ended (Erlang's `shutdown`).
  /// Abnormal, as in Erlang: actors linked to it end too unless they trap exits, and a
  /// transient child is not restarted for it (supervisor.hpp).
  static exit_reason shutdown() { return exit_reason(kind::shutdown, {}); }
  /// A reason rebuilt from its parts (a wire format); text is kept for error and custom.
  static exit_reason of(kind k, std::string text) { return exit_reason(k, std::move(text)); }

  [[nodiscard]] kind type() const noexcept { return kind_; }
  [[nodiscard]] bool is_normal() const noexcept { return kind_ == kind::normal; }
  /// Neither normal nor shutdown: an end Erlang counts as a failure (a transient child is
  /// restarted for it; a shutdown is how supervisors stop children, so it is not one).
  [[nodiscard]] bool is_failure() const noexcept { return kind_ != kind::normal && kind_ != kind::shutdown; }
  /// The crash message or custom text; empty for normal and killed.
  [[nodiscard]] const std::string& text() const noexcept { return text_ ? *text_ : no_text(); }
  /// "normal", "killed", "shutdown", "error: <what>" or the custom text.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const exit_reason& a, const exit_reason& b) noexcept {
    return a.kind_ == b.kind_ && a.text() == b.text();
  }

 private:
  exit_reason(kind k, std::string text)
      : kind_(k), text_(text.empty() ? nullptr : std::make_unique<const std::string>(std::move(text))) {}
  static std::unique_ptr<const std::string> copy_of(const std::unique_ptr<const std::string>& text) {
    return text ? std::make_unique<const std::string>(*text) : nullptr;
  }
  static const std::string& no_text() noexcept;
  kind kind_ = kind::normal;
  std::unique_ptr<const std::string> text_;  // null when empty
};

}  // namespace eam
