#include <eam/engine/context.hpp>

#include "actor_cell.hpp"
#include "system_state.hpp"

namespace eam {

actor_ref actor_context::self() const noexcept {
  cell_->add_ref();
  return actor_ref(cell_, detail::adopt_t{});
}

actor_system& actor_context::system() const noexcept { return *cell_->system().handle; }

actor_ref actor_context::parent() const noexcept {
  detail::actor_cell* p = cell_->parent();
  if (p == nullptr) return {};
  p->add_ref();
  return actor_ref(p, detail::adopt_t{});
}

detail::system_state& actor_context::state() const noexcept { return cell_->system(); }

std::vector<actor_ref> actor_context::children() const { return cell_->children(); }

void actor_context::stop() noexcept { cell_->request_stop(); }

void actor_context::stop(const actor_ref& other) noexcept {
  if (other.cell() == cell_) {
    cell_->request_stop();
    return;
  }
  if (other) other.cell()->deliver_stop();
}

watch_ref actor_context::watch(const actor_ref& target) { return cell_->watch(target, nullptr); }
watch_ref actor_context::watch(const actor_ref& target, std::function<void(const down&)> on_down) {
  return cell_->watch(target, std::move(on_down));
}
void actor_context::unwatch(watch_ref ref) { cell_->unwatch(ref); }
link_ref actor_context::link(const actor_ref& other) {
  cell_->link(other);
  return link_ref::between(cell_->id(), other.id());
}
void actor_context::unlink(const actor_ref& other) { cell_->unlink(other); }
void actor_context::set_trap_exit(bool trap) noexcept { cell_->set_trap_exit(trap); }
bool actor_context::traps_exits() const noexcept { return cell_->traps_exits(); }
std::chrono::milliseconds actor_context::idle_timeout() const noexcept { return cell_->idle_timeout(); }
void actor_context::on_terminate(std::function<void(const exit_reason&)> handler) {
  cell_->set_terminate_handler(std::move(handler));
}
void actor_context::exit(const actor_ref& target, exit_reason reason) {
  if (!target) return;
  target.cell()->deliver_system(detail::make_envelope<internal::exit_request>(
      detail::envelope_kind::exit, internal::exit_request{self(), std::move(reason), false}));
}

bool actor_context::cancel_timer(timer_ref timer) noexcept { return cell_->cancel_timer(timer.id); }
void actor_context::cancel_all_timers() noexcept { cell_->cancel_all_timers(); }
void actor_context::set_idle_timeout(std::chrono::milliseconds idle) { cell_->set_idle_timeout(idle); }

void actor_context::on_child_init(std::function<void(const actor_ref&)> on_init) {
  cell_->set_child_init_handler(std::move(on_init));
}
void actor_context::continue_with(std::function<void()> next) { cell_->continue_with(std::move(next)); }
bool actor_context::stash() noexcept { return cell_->stash(); }
reply_handle actor_context::take_reply() noexcept { return reply_handle(cell_->take_reply()); }
bool actor_context::unstash() noexcept { return cell_->unstash(); }
void actor_context::unstash_all() noexcept { cell_->unstash_all(); }
void actor_context::clear_stash() noexcept { cell_->clear_stash(); }

void actor_context::adopt_state(std::unique_ptr<state_base> s) { cell_->adopt_state(std::move(s)); }

}  // namespace eam
