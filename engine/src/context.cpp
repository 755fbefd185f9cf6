#include <eam/engine/context.hpp>

#include "actor_cell.hpp"
#include "system_state.hpp"

namespace eam {

actor_ref actor_context::self() const noexcept {
  cell_->add_ref();
  return actor_ref(cell_, detail::adopt_t{});
}

actor_system& actor_context::system() const noexcept { return *cell_->system().handle; }

detail::system_state& actor_context::state() const noexcept { return cell_->system(); }

std::vector<actor_ref> actor_context::children() const { return cell_->children(); }

void actor_context::stop() noexcept { cell_->request_stop(); }

void actor_context::stop(const actor_ref& other) noexcept {
  if (other.cell() == cell_) {
    cell_->request_stop();
    return;
  }
  if (other) other.cell()->deliver_system(detail::make_envelope<exit_reason>(detail::envelope_kind::stop, exit_reason::normal()));
}

void actor_context::adopt_state(std::unique_ptr<state_base> s) { cell_->adopt_state(std::move(s)); }

}  // namespace eam
