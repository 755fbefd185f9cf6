#include <eam/cluster/membership.hpp>

#include <algorithm>

namespace eam::cluster {

std::string_view to_string(member_status s) noexcept {
  switch (s) {
    case member_status::alive: return "alive";
    case member_status::suspect: return "suspect";
    case member_status::dead: return "dead";
    case member_status::left: return "left";
  }
  return "unknown";
}

std::string_view to_string(member_event_kind k) noexcept {
  switch (k) {
    case member_event_kind::join: return "join";
    case member_event_kind::leave: return "leave";
    case member_event_kind::suspect: return "suspect";
    case member_event_kind::alive: return "alive";
    case member_event_kind::update: return "update";
  }
  return "unknown";
}

bool member::has_role(std::string_view role) const noexcept {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace eam::cluster
