#include <eam/engine/log.hpp>

#include <fmt/chrono.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace eam::log {

namespace {
level level_from_environment() noexcept {
  const char* env = std::getenv("EAM_LOG_LEVEL");
  if (env == nullptr) return level::info;
  const std::optional<level> l = parse_level(env);
  if (!l)  // said once, at start-up: a typo otherwise looks like a level that logs too much
    std::fprintf(stderr, "eam: EAM_LOG_LEVEL=%.40s is not a level (debug, info, warn, error, none): info\n", env);
  return l.value_or(level::info);
}

std::atomic<level>& threshold() noexcept {
  static std::atomic<level> l{level_from_environment()};
  return l;
}

// Two locks: `calls` keeps sink calls one at a time (a sink need not be thread-safe), and
// `swap` guards which sink is current, so a sink that sets another one does not wait for
// itself. A record logged from inside the sink, on the same thread, goes to stderr: sent back
// into the sink, it waited for the lock its own call held, for ever.
struct sink_holder {
  std::mutex calls;
  std::mutex swap;
  std::shared_ptr<const sink> s;
};
thread_local bool inside_sink = false;
sink_holder& holder() {
  static sink_holder h;
  return h;
}

void write_stderr(const record& r) {
  std::string line = fmt::format("{:%Y-%m-%dT%H:%M:%S} [{}] {}", fmt::gmtime(std::chrono::system_clock::to_time_t(r.time)),
                                 to_string(r.severity), r.component);
  for (const auto& [k, v] : r.context) line += fmt::format(" {}={}", k, v);
  line += ": ";
  line += r.message;
  line += '\n';
  std::fputs(line.c_str(), stderr);
}
}  // namespace

void set_sink(sink s) {
  auto next = s ? std::make_shared<const sink>(std::move(s)) : nullptr;
  std::lock_guard l(holder().swap);
  holder().s = std::move(next);
}

void set_level(level l) noexcept { threshold().store(l, std::memory_order_relaxed); }
level current_level() noexcept { return threshold().load(std::memory_order_relaxed); }

std::optional<level> parse_level(std::string_view text) noexcept {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "debug") return level::debug;
  if (lower == "info") return level::info;
  if (lower == "warn" || lower == "warning") return level::warn;
  if (lower == "error") return level::error;
  if (lower == "none" || lower == "off") return level::none;
  return std::nullopt;
}

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::none: return "none";
  }
  return "none";
}

void write(level l, std::string_view component, const fields& context, std::string_view message) {
  if (l < current_level() || l == level::none) return;
  const record r{l, component, context, message, std::chrono::system_clock::now()};
  if (inside_sink) {
    write_stderr(r);
    return;
  }
  std::lock_guard calls(holder().calls);
  std::shared_ptr<const sink> s;
  {
    std::lock_guard swap(holder().swap);
    s = holder().s;
  }
  if (!s) {
    write_stderr(r);
    return;
  }
  inside_sink = true;
  try {
    (*s)(r);
  } catch (...) {  // the sink's failure is not the logging caller's: the line goes to stderr
    write_stderr(r);
  }
  inside_sink = false;
}

}  // namespace eam::log
