#include "mute_table.hpp"

#include "actor_cell.hpp"
#include "invariant.hpp"

namespace eam::internal {

bool mute_table::mute(actor_cell* sender, actor_cell* receiver) noexcept {
  if (sender == receiver) return false;
  std::lock_guard lock(lock_);
  if (parked_.count(sender) != 0) return false;  // others wait on it: parking it could close a cycle
  // Under the lock, the receiver's flag only goes from true to false in release(): a sender
  // parked after seeing it true is let go by that release.
  if (!receiver->overloaded()) return false;
  try {
    parked_[receiver].push_back(sender);
  } catch (...) {
    return false;  // out of memory: the sender runs on, unmuted
  }
  return true;
}

void mute_table::release(actor_cell* receiver, std::vector<actor_cell*>& out) noexcept {
  std::lock_guard lock(lock_);
  receiver->clear_overloaded();
  const auto it = parked_.find(receiver);
  if (it == parked_.end()) return;
  out = std::move(it->second);
  parked_.erase(it);
}

mute_table::~mute_table() {
  EAM_ASSERT(parked_.empty(), "every muted actor is let go before the system is gone");
}

}  // namespace eam::internal
