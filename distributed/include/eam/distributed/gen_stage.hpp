#pragma once
/// GenStage across nodes: a consumer (or producer-consumer) on one node subscribes to a
/// producer on another, through the same calls as locally. The stages' protocol is plain
/// messages (eam/otp/gen_stage/protocol.hpp): this header teaches the wire to carry it for one
/// event type. Register it on every node, with the event type itself:
///
///   eam::cluster::register_message<order>("app.order");
///   eam::distributed::register_gen_stage<order>("app.order");
///   auto producer = node->whereis<eam::otp::source_ref<order>>("b", "orders").value();
///   consumer.subscribe(producer, {.max_demand = 1000});
///
/// Demand travels over the wire as asks and events come back in batches of at most what was
/// asked, so back-pressure holds end to end: a slow consumer bounds its remote producer. A
/// producer's node that goes away ends the proxy with `noconnection`, which the consumer's
/// cancel mode acts on like any other producer end.
///
/// This header sits above both the OTP and the cluster layers (neither knows the other).
#include <eam/cluster/wire.hpp>
#include <eam/otp/gen_stage/protocol.hpp>
#include <eam/otp/otp_errc.hpp>

#include <optional>
#include <string>

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <class T>
struct pack<eam::otp::detail::stage_subscribe<T>> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::otp::detail::stage_subscribe<T>& v) const {
    if (v.selector)
      throw eam::error(eam::otp::otp_errc::invalid_subscription,
                       "a selector cannot cross nodes: filter the events in the consumer");
    o.pack_array(5);
    o.pack(v.consumer);
    o.pack(v.tag);
    o.pack(static_cast<std::uint64_t>(v.initial_demand));
    if (v.partition)
      o.pack(static_cast<std::uint64_t>(*v.partition));
    else
      o.pack_nil();
    o.pack(static_cast<std::uint64_t>(v.min_demand));
    return o;
  }
};
template <class T>
struct convert<eam::otp::detail::stage_subscribe<T>> {
  const msgpack::object& operator()(const msgpack::object& o, eam::otp::detail::stage_subscribe<T>& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 5) throw msgpack::type_error();
    const msgpack::object* f = o.via.array.ptr;
    f[0].convert(v.consumer);
    f[1].convert(v.tag);
    v.initial_demand = static_cast<std::size_t>(f[2].as<std::uint64_t>());
    v.partition = f[3].is_nil() ? std::nullopt : std::optional<std::size_t>(f[3].as<std::uint64_t>());
    v.min_demand = static_cast<std::size_t>(f[4].as<std::uint64_t>());
    return o;
  }
};

template <>
struct pack<eam::otp::detail::stage_ask> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::otp::detail::stage_ask& v) const {
    o.pack_array(2);
    o.pack(v.tag);
    o.pack(static_cast<std::uint64_t>(v.count));
    return o;
  }
};
template <>
struct convert<eam::otp::detail::stage_ask> {
  const msgpack::object& operator()(const msgpack::object& o, eam::otp::detail::stage_ask& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    o.via.array.ptr[0].convert(v.tag);
    v.count = static_cast<std::size_t>(o.via.array.ptr[1].as<std::uint64_t>());
    return o;
  }
};

template <>
struct pack<eam::otp::detail::stage_cancel> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::otp::detail::stage_cancel& v) const {
    o.pack_array(1);
    o.pack(v.tag);
    return o;
  }
};
template <>
struct convert<eam::otp::detail::stage_cancel> {
  const msgpack::object& operator()(const msgpack::object& o, eam::otp::detail::stage_cancel& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 1) throw msgpack::type_error();
    o.via.array.ptr[0].convert(v.tag);
    return o;
  }
};

template <class T>
struct pack<eam::otp::detail::stage_events<T>> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::otp::detail::stage_events<T>& v) const {
    o.pack_array(2);
    o.pack(v.tag);
    o.pack(v.events);
    return o;
  }
};
template <class T>
struct convert<eam::otp::detail::stage_events<T>> {
  const msgpack::object& operator()(const msgpack::object& o, eam::otp::detail::stage_events<T>& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    o.via.array.ptr[0].convert(v.tag);
    o.via.array.ptr[1].convert(v.events);
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack

namespace eam::distributed {

/// Registers the stage protocol for events of type T under names derived from `event_name`
/// (T itself is registered separately, with cluster::register_message, when it needs to be).
template <class T>
void register_gen_stage(const std::string& event_name) {
  namespace d = eam::otp::detail;
  cluster::register_message<d::stage_subscribe<T>>(event_name + ".stage_subscribe");
  cluster::register_message<d::stage_events<T>>(event_name + ".stage_events");
  cluster::register_message<d::stage_ask>("eam.gen_stage.ask");
  cluster::register_message<d::stage_cancel>("eam.gen_stage.cancel");
  cluster::register_message<std::optional<eam::error>>("eam.gen_stage.subscribe_reply");
}

}  // namespace eam::distributed
