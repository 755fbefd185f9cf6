// The control service's wire types (control.hpp), apart from the service so that the frame
// fuzzer decodes them without a node.
#include <eam/cluster/control.hpp>

namespace eam::cluster::control {

void register_control_messages() {
  register_message<info_request>("eam.control.info_request");
  register_message<node_info>("eam.control.node_info");
  register_message<actors_request>("eam.control.actors_request");
  register_message<actor_list>("eam.control.actor_list");
  register_message<drain_request>("eam.control.drain_request");
  register_message<drain_reply>("eam.control.drain_reply");
  register_message<migrate_request>("eam.control.migrate_request");
  register_message<migrate_reply>("eam.control.migrate_reply");
  register_message<migrate_all_request>("eam.control.migrate_all_request");
  register_message<migrate_all_reply>("eam.control.migrate_all_reply");
  register_message<stop_request>("eam.control.stop_request");
  register_message<stop_reply>("eam.control.stop_reply");
  register_message<members_request>("eam.control.members_request");
  register_message<member_list>("eam.control.member_list");
}

}  // namespace eam::cluster::control
