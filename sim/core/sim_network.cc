#include "sim/core/sim_network.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sim/core/node_runtime.h"
#include "sim/core/world.h"
#include "src/base/hash.h"

namespace cairn::sim {

absl::Status SimNetwork::Send(NodeId from, NodeId to, std::string payload) {
  if (to >= world_.node_count()) {
    return absl::NotFoundError(absl::StrCat("no node ", to, " in this world"));
  }
  ++stats_.sent;
  Random& r = world_.random();
  if (r.Chance(faults_.loss_probability)) {
    ++stats_.lost;
    return absl::OkStatus();
  }
  if (r.Chance(faults_.duplicate_probability)) {
    ++stats_.duplicated;
    Duration held{0};
    if (r.Chance(0.5)) held = r.UniformDuration(Duration(0), faults_.stale_duplicate_delay_max);
    ScheduleDelivery(from, to, payload, held);
  }
  ScheduleDelivery(from, to, std::move(payload));
  return absl::OkStatus();
}

void SimNetwork::Clog(NodeId from, NodeId to, Instant until) {
  Instant& held = clogged_[{from, to}];
  held = std::max(held, until);
}

void SimNetwork::ClogNode(NodeId node, Instant until) {
  Instant& held = clogged_nodes_[node];
  held = std::max(held, until);
}

void SimNetwork::ScheduleDelivery(NodeId from, NodeId to, std::string payload, Duration held) {
  Random& r = world_.random();
  if (IsCut(from, to)) {
    ++stats_.cut;
    return;
  }
  Duration latency = held + faults_.latency_min + r.Exponential(faults_.latency_tail_mean);
  if (r.Chance(faults_.slow_probability)) {
    ++stats_.slow;
    latency += r.Exponential(faults_.slow_tail_mean);
  }
  // A clogged link holds the message until the clog clears.
  Instant arrival = world_.Now() + latency;
  Instant held_until{};
  if (auto it = clogged_.find({from, to}); it != clogged_.end()) held_until = it->second;
  for (NodeId n : {from, to}) {
    if (auto it = clogged_nodes_.find(n); it != clogged_nodes_.end()) held_until = std::max(held_until, it->second);
  }
  if (held_until > world_.Now()) {
    ++stats_.clogged;
    arrival = std::max(arrival, held_until + r.Exponential(faults_.latency_tail_mean));
  }
  const uint64_t detail = HashCombine(HashCombine(from, to), HashBytes(payload));
  // A world event: the receiver's incarnation is decided on arrival, not at sending.
  world_.Schedule(arrival, kNoNode, "net.deliver", detail,
                  [this, from, to, payload = std::move(payload)]() mutable {
                    if (IsCut(from, to)) {  // the link went down while the message flew
                      ++stats_.cut;
                      return;
                    }
                    NodeRuntime* receiver = world_.runtime_of(to);
                    if (receiver == nullptr) {
                      ++stats_.to_down_node;
                      return;
                    }
                    if (!receiver->DeliverMessage(Message{from, std::move(payload)})) {
                      ++stats_.inbox_full;
                      return;
                    }
                    ++stats_.delivered;
                  });
}

}  // namespace cairn::sim
