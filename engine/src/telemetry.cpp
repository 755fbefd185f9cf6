// The handler table is copy-on-write: attach and detach build a new table under a mutex and
// swap it in; execute takes a counted snapshot and calls handlers without holding any lock, so
// a handler may attach or detach. detail::any_attached mirrors "the table is not empty" for the
// hot paths' one-load gate (telemetry.hpp).
#include <eam/engine/telemetry.hpp>

#include <eam/engine/error.hpp>
#include <eam/engine/log.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace eam::telemetry {

namespace {
struct entry {
  std::string id;
  handler h;
};
using table = std::map<std::string, std::vector<entry>, std::less<>>;

struct registry {
  std::mutex m;
  std::shared_ptr<const table> current = std::make_shared<const table>();
};
registry& reg() {
  static registry r;
  return r;
}
// A handler that throws is logged once per id (a handler failing on every event would flood
// the log), then swallowed: the emitter is an actor, which must not crash for a tool's bug.
struct failures {
  std::mutex m;
  std::set<std::string, std::less<>> reported;  // handler ids already logged
};
failures& failed() {
  static failures f;
  return f;
}
void forget_failures(std::string_view id) {  // a handler attached again is logged again
  std::lock_guard l(failed().m);
  if (auto it = failed().reported.find(id); it != failed().reported.end()) failed().reported.erase(it);
}
void report_failure(const std::string& id, std::string_view event, std::exception_ptr ex) noexcept {
  try {
    {
      std::lock_guard l(failed().m);
      if (!failed().reported.insert(id).second) return;
    }
    static const log::logger logger("eam.telemetry");
    logger.error("telemetry handler {} failed on {}: {} (further failures of it are not logged)", id, event,
                 detail::what_of(ex));
  } catch (...) {
  }
}

std::shared_ptr<const table> snapshot() {
  std::lock_guard l(reg().m);
  return reg().current;
}
void publish(std::shared_ptr<const table> t) {  // under reg().m
  detail::any_attached.store(!t->empty(), std::memory_order_relaxed);
  reg().current = std::move(t);
}
table without(const table& t, std::string_view id, bool& found) {
  table out;
  for (const auto& [event, entries] : t) {
    std::vector<entry> kept;
    for (const auto& e : entries) {
      if (e.id == id)
        found = true;
      else
        kept.push_back(e);
    }
    if (!kept.empty()) out.emplace(event, std::move(kept));
  }
  return out;
}
}  // namespace

std::string attach(std::string id, const std::vector<std::string_view>& event_names, handler h) {
  std::lock_guard l(reg().m);
  bool taken = false;
  auto next = std::make_shared<table>(without(*reg().current, id, taken));
  if (taken) throw error(errc::handler_already_attached, id);
  for (std::string_view name : event_names) (*next)[std::string(name)].push_back({id, h});
  publish(std::move(next));
  return id;
}

bool detach(std::string_view id) {
  std::lock_guard l(reg().m);
  bool found = false;
  auto next = std::make_shared<table>(without(*reg().current, id, found));
  if (found) publish(std::move(next));
  forget_failures(id);
  return found;
}

void execute(std::string_view event, const measurements& m, const metadata& md) {
  if (!any_handlers()) return;
  const auto t = snapshot();
  auto it = t->find(event);
  if (it == t->end()) return;
  for (const auto& e : it->second) {
    try {
      e.h(event, m, md);
    } catch (...) {
      report_failure(e.id, event, std::current_exception());
    }
  }
}

std::vector<handler_info> list_handlers() {
  const auto t = snapshot();
  std::map<std::string, std::vector<std::string>, std::less<>> by_id;
  for (const auto& [event, entries] : *t)
    for (const auto& e : entries) by_id[e.id].push_back(event);
  std::vector<handler_info> out;
  for (auto& [id, events] : by_id) out.push_back({id, std::move(events)});
  return out;
}

bool has_handlers(std::string_view event) {
  if (!any_handlers()) return false;
  const auto t = snapshot();
  return t->find(event) != t->end();
}

void reset() {
  {
    std::lock_guard l(failed().m);
    failed().reported.clear();
  }
  std::lock_guard l(reg().m);
  publish(std::make_shared<const table>());
}

namespace detail {
constinit std::atomic<bool> any_attached{false};

double now_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
double elapsed_ms(double start_seconds) noexcept { return (now_seconds() - start_seconds) * 1000.0; }
std::string what_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}
}  // namespace detail

}  // namespace eam::telemetry
