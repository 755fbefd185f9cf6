// The handler table is copy-on-write: attach and detach build a new table under a mutex and
// publish it with a new version number. An emitting thread keeps the table it last read (a
// counted reference in a thread-local cache) and reads the version, a line written only by
// attach and detach, to see whether it must take the new one, so an emit takes no lock and
// writes no shared memory (a worker per core emitting per message would otherwise contend on
// one mutex and one reference count). A table's handler lists are shared with the tables
// built from it: attach and detach copy the map of lists and rebuild only the lists they
// change. detail::any_attached mirrors "the table is not empty", and each event_gate "one of
// my events has a handler", for the emitters' one-load checks (telemetry.hpp).
#include <eam/engine/telemetry.hpp>

#include <eam/engine/error.hpp>
#include <eam/engine/log.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>

namespace eam::telemetry {

namespace detail {
struct gate_access {
  static const std::vector<std::string>& events(const event_gate& g) noexcept { return g.events_; }
  static void set(event_gate& g, bool listened) noexcept { g.listened_.store(listened, std::memory_order_relaxed); }
};
}  // namespace detail

namespace {
struct entry {
  std::string id;
  handler h;
};
using handler_list = std::vector<std::shared_ptr<const entry>>;  // shared: a list's copy allocates once
using table = std::map<std::string, std::shared_ptr<const handler_list>, std::less<>>;

struct registry {
  std::mutex m;
  std::shared_ptr<const table> current = std::make_shared<const table>();  // under m
  std::map<std::string, std::vector<std::string>, std::less<>> events_of;  // handler id -> its events; under m
  std::vector<event_gate*> gates;                                          // under m
  // Raised after each publish, under m. Read relaxed by emitters: it only tells a thread to take
  // the table under m, which orders the table's contents. An execute begun after a detach
  // returned (ordered after it by whatever told that thread so) reads this publish's number or
  // a later one by coherence, so it never calls the detached handler.
  std::atomic<std::uint64_t> version{1};
};
registry& reg() {
  static registry r;
  return r;
}

// The table this thread last read. An execute whose handler attaches or detaches and then emits
// again refreshes the cache while the outer execute still walks the old table: the old one is
// kept in `retired` until the outermost execute ends.
struct table_cache {
  std::uint64_t version = 0;  // registry versions start at 1: the first read takes the table
  std::shared_ptr<const table> held;
  unsigned depth = 0;  // executes running on this thread
  std::vector<std::shared_ptr<const table>> retired;
};
// The cache sits behind a trivially destructible pointer, freed by a thread-local owner at the
// thread's end. An emit after that (a static actor_system shut down after main returns, on the
// main thread, whose thread-locals are destroyed before its statics) finds it gone and reads
// the table under the lock, where a thread-local cache object would be read after its end.
thread_local table_cache* tls_cache = nullptr;
thread_local bool tls_cache_gone = false;
struct cache_owner {
  bool armed = false;
  cache_owner() = default;
  cache_owner(const cache_owner&) = delete;
  cache_owner& operator=(const cache_owner&) = delete;
  ~cache_owner() {
    delete tls_cache;
    tls_cache = nullptr;
    tls_cache_gone = true;
  }
};
thread_local cache_owner tls_cache_owner;

// This thread's cache, made at its first emit; null once the thread is ending (or when it could
// not be allocated): the caller then reads the table under the lock.
table_cache* this_thread_cache() noexcept {
  if (tls_cache == nullptr) [[unlikely]] {
    if (tls_cache_gone) return nullptr;
    tls_cache_owner.armed = true;  // constructs the owner on this thread: its destructor runs at the thread's end
    tls_cache = new (std::nothrow) table_cache;
  }
  return tls_cache;
}

std::shared_ptr<const table> locked_table() {
  std::lock_guard l(reg().m);
  return reg().current;
}

const table& cached_table(table_cache& c) {
  if (reg().version.load(std::memory_order_relaxed) != c.version) [[unlikely]] {
    std::shared_ptr<const table> fresh;
    std::uint64_t version;
    {
      std::lock_guard l(reg().m);
      fresh = reg().current;
      version = reg().version.load(std::memory_order_relaxed);
    }
    if (c.depth > 0 && c.held) c.retired.push_back(std::move(c.held));  // if this throws, the cache stays as it was
    c.held = std::move(fresh);
    c.version = version;
  }
  return *c.held;
}

// With nothing attached, execute returns at once; it lets go of this thread's table then, so
// that detached handlers (and what they captured) do not live on until the thread ends.
void let_go_of_old_table() noexcept {
  table_cache* c = tls_cache;
  if (c == nullptr || !c->held || c->depth > 0) return;
  c->held.reset();
  c->version = 0;
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

void set_gate(event_gate& g, const table& t) {
  const auto& events = detail::gate_access::events(g);
  detail::gate_access::set(
      g, std::any_of(events.begin(), events.end(), [&](const std::string& e) { return t.contains(e); }));
}
void publish(std::shared_ptr<const table> t) {  // under reg().m
  registry& r = reg();
  detail::any_attached.store(!t->empty(), std::memory_order_relaxed);
  for (event_gate* g : r.gates) set_gate(*g, *t);
  r.current = std::move(t);
  r.version.store(r.version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer: under m
}
// `t` with handler `id` taken out of `events`' lists (an emptied list leaves the table).
table without(const table& t, std::string_view id, const std::vector<std::string>& events) {
  table out = t;
  for (const std::string& event : events) {
    auto it = out.find(event);
    if (it == out.end()) continue;
    auto kept = std::make_shared<handler_list>();
    for (const auto& e : *it->second)
      if (e->id != id) kept->push_back(e);
    if (kept->empty())
      out.erase(it);
    else
      it->second = std::move(kept);
  }
  return out;
}
}  // namespace

std::string attach(std::string id, const std::vector<std::string_view>& event_names, handler h) {
  registry& r = reg();
  std::lock_guard l(r.m);
  if (r.events_of.contains(id)) throw error(errc::handler_already_attached, id);
  auto next = std::make_shared<table>(*r.current);
  const auto added = std::make_shared<const entry>(entry{id, std::move(h)});
  std::vector<std::string> events;
  for (std::string_view name : event_names) {
    if (std::find(events.begin(), events.end(), name) != events.end()) continue;  // listed twice: called once
    auto& list = (*next)[std::string(name)];
    auto grown = list ? std::make_shared<handler_list>(*list) : std::make_shared<handler_list>();
    grown->push_back(added);
    list = std::move(grown);
    events.emplace_back(name);
  }
  r.events_of.emplace(id, std::move(events));
  publish(std::move(next));
  return id;
}

bool detach(std::string_view id) {
  registry& r = reg();
  std::lock_guard l(r.m);
  forget_failures(id);
  auto it = r.events_of.find(id);
  if (it == r.events_of.end()) return false;
  publish(std::make_shared<const table>(without(*r.current, id, it->second)));
  r.events_of.erase(it);
  return true;
}

namespace {
void call_handlers(const table& t, std::string_view event, const measurements& m, const metadata& md) {
  const auto it = t.find(event);
  if (it == t.end()) return;
  for (const auto& e : *it->second) {
    try {
      e->h(event, m, md);
    } catch (...) {
      report_failure(e->id, event, std::current_exception());
    }
  }
}
}  // namespace

void execute(std::string_view event, const measurements& m, const metadata& md) {
  if (!any_handlers()) {
    let_go_of_old_table();
    return;
  }
  table_cache* c = this_thread_cache();
  if (c == nullptr) [[unlikely]] {
    call_handlers(*locked_table(), event, m, md);
    return;
  }
  const table& t = cached_table(*c);  // kept alive, held or retired, until the outermost execute ends
  ++c->depth;
  call_handlers(t, event, m, md);
  if (--c->depth == 0 && !c->retired.empty()) c->retired.clear();
}

std::vector<handler_info> list_handlers() {
  std::lock_guard l(reg().m);
  std::vector<handler_info> out;
  for (const auto& [id, events] : reg().events_of) {
    handler_info info{id, events};
    std::sort(info.events.begin(), info.events.end());
    out.push_back(std::move(info));
  }
  return out;
}

bool has_handlers(std::string_view event) {
  if (!any_handlers()) return false;
  table_cache* c = this_thread_cache();
  if (c == nullptr) [[unlikely]]
    return locked_table()->contains(event);
  return cached_table(*c).contains(event);
}

void reset() {
  {
    std::lock_guard l(failed().m);
    failed().reported.clear();
  }
  registry& r = reg();
  std::lock_guard l(r.m);
  r.events_of.clear();
  publish(std::make_shared<const table>());
}

event_gate::event_gate(std::initializer_list<std::string_view> events) noexcept {
  try {
    events_.assign(events.begin(), events.end());
    registry& r = reg();
    std::lock_guard l(r.m);
    r.gates.push_back(this);
    set_gate(*this, *r.current);
    registered_ = true;
  } catch (...) {  // out of memory: a gate kept out of the registry reads as listened, so no event is missed
    listened_.store(true, std::memory_order_relaxed);
  }
}

event_gate::~event_gate() {
  if (!registered_) return;
  registry& r = reg();
  std::lock_guard l(r.m);
  std::erase(r.gates, this);
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
