#pragma once
/// Structured logging: levels, component loggers carrying context, a pluggable sink, fmt
/// formatting. Opt-in header (it includes fmt); `<eam/eam.hpp>` does not include it.
///
///   eam::log::logger log("billing", {{"shard", "3"}});
///   log.info("charged {} cents to {}", cents, account);
///   eam::log::set_sink([](const eam::log::record& r) { ... });   // default: stderr
///   eam::log::set_level(eam::log::level::debug);                  // default: EAM_LOG_LEVEL or info

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eam::log {

enum class level : std::uint8_t { debug, info, warn, error, none };

using fields = std::vector<std::pair<std::string, std::string>>;

/// One log line, as a sink receives it.
struct record {
  level severity;
  std::string_view component;
  const fields& context;
  std::string_view message;
  std::chrono::system_clock::time_point time;
};

using sink = std::function<void(const record&)>;

/// Replaces where records go (any thread may log concurrently; the sink is called under a
/// lock, one record at a time). An empty sink restores the default: one line on stderr. A
/// record logged from inside the sink (by it, or by anything it calls) goes to stderr; a sink
/// may set another sink; a sink that throws has that record written to stderr instead.
void set_sink(sink s);
/// The lowest level written; `none` silences everything. Read from EAM_LOG_LEVEL (debug,
/// info, warn, error, none) at start-up, info when unset.
void set_level(level l) noexcept;
[[nodiscard]] level current_level() noexcept;
/// "debug", "info", "warn", "error", "none" (case-insensitive); nullopt otherwise.
[[nodiscard]] std::optional<level> parse_level(std::string_view text) noexcept;
[[nodiscard]] std::string_view to_string(level l) noexcept;

/// Writes one record (the loggers' common path).
void write(level l, std::string_view component, const fields& context, std::string_view message);

/// A logger for one component, with key/value context added to every record.
class logger {
 public:
  explicit logger(std::string component, fields context = {})
      : component_(std::move(component)), context_(std::move(context)) {}

  /// A logger for the same component with one more context field.
  [[nodiscard]] logger with(std::string key, std::string value) const {
    logger child = *this;
    child.context_.emplace_back(std::move(key), std::move(value));
    return child;
  }
  [[nodiscard]] bool enabled(level l) const noexcept { return l >= current_level() && l != level::none; }

  template <class... A>
  void debug(fmt::format_string<A...> f, A&&... args) const {
    emit(level::debug, f, std::forward<A>(args)...);
  }
  template <class... A>
  void info(fmt::format_string<A...> f, A&&... args) const {
    emit(level::info, f, std::forward<A>(args)...);
  }
  template <class... A>
  void warn(fmt::format_string<A...> f, A&&... args) const {
    emit(level::warn, f, std::forward<A>(args)...);
  }
  template <class... A>
  void error(fmt::format_string<A...> f, A&&... args) const {
    emit(level::error, f, std::forward<A>(args)...);
  }

  [[nodiscard]] const std::string& component() const noexcept { return component_; }
  [[nodiscard]] const fields& context() const noexcept { return context_; }

 private:
  template <class... A>
  void emit(level l, fmt::format_string<A...> f, A&&... args) const {
    if (!enabled(l)) return;  // formatting costs nothing below the level
    write(l, component_, context_, fmt::format(f, std::forward<A>(args)...));
  }

  std::string component_;
  fields context_;
};

}  // namespace eam::log
