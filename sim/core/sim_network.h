// SimNetwork: the simulated wire between the World's nodes.
//
// Each message is, independently and as the current NetworkFaults say: lost; delivered after a
// latency drawn from a base plus an exponential tail, with an occasional much slower path
// (which also reorders); and possibly duplicated. Links can be cut one way or both ways
// (partitions: messages are lost) or clogged until some instant (messages are held, then
// delivered, as on a congested or flapping link). A message to a node that is down when it
// arrives is lost, as is one that arrives to a full inbox. Every choice draws from the
// World's seeded Random.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "src/runtime/network.h"
#include "src/base/time.h"

namespace cairn::sim {

class World;

struct NetworkFaults {
  double loss_probability = 0;
  double duplicate_probability = 0;
  Duration latency_min = std::chrono::microseconds(50);
  Duration latency_tail_mean = std::chrono::microseconds(300);  // exponential, added to min
  double slow_probability = 0;                                 // a message takes the slow path
  Duration slow_tail_mean = std::chrono::milliseconds(50);
  // Half the duplicates are stale: held up to this long before they arrive, long after the
  // world moved on (what an RPC resent over a link that held its first copy looks like). A
  // protocol must refuse what such a message says; Raft's term check is what does.
  Duration stale_duplicate_delay_max = std::chrono::seconds(3);
};

struct NetworkStats {
  uint64_t sent = 0, delivered = 0, lost = 0, duplicated = 0, cut = 0, to_down_node = 0,
           inbox_full = 0, slow = 0, clogged = 0;

  // Sums over runs.
  NetworkStats& operator+=(const NetworkStats& o) {
    for (auto [mine, theirs] : {std::pair{&sent, o.sent}, {&delivered, o.delivered}, {&lost, o.lost},
                                {&duplicated, o.duplicated}, {&cut, o.cut}, {&to_down_node, o.to_down_node},
                                {&inbox_full, o.inbox_full}, {&slow, o.slow}, {&clogged, o.clogged}}) {
      *mine += theirs;
    }
    return *this;
  }
};

class SimNetwork {
 public:
  explicit SimNetwork(World& world) : world_(world) {}

  NetworkFaults& faults() { return faults_; }
  const NetworkStats& stats() const { return stats_; }

  absl::Status Send(NodeId from, NodeId to, std::string payload);

  // Cuts the link from `from` to `to` (one way). Cut both directions for a symmetric partition.
  void Cut(NodeId from, NodeId to) { cut_.insert({from, to}); }
  void Restore(NodeId from, NodeId to) { cut_.erase({from, to}); }
  void RestoreAll() { cut_.clear(); }
  bool IsCut(NodeId from, NodeId to) const { return cut_.contains({from, to}); }
  size_t cut_links() const { return cut_.size(); }

  // Holds messages from `from` to `to` sent before `until` until then (one way).
  void Clog(NodeId from, NodeId to, Instant until);
  // Clogs every link into and out of `node`.
  void ClogNode(NodeId node, Instant until);
  void UnclogAll() {
    clogged_.clear();
    clogged_nodes_.clear();
  }

 private:
  void ScheduleDelivery(NodeId from, NodeId to, std::string payload, Duration held = Duration(0));

  World& world_;
  NetworkFaults faults_;
  NetworkStats stats_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::map<std::pair<NodeId, NodeId>, Instant> clogged_;  // link → held until
  std::map<NodeId, Instant> clogged_nodes_;
};

}  // namespace cairn::sim
