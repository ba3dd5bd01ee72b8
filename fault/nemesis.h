// Nemesis: the seeded source of faults in a simulation.
//
// At construction it draws its fault mix from the seed (swarm testing): each kind of fault is
// on or off for the whole run, and the pace of faults ranges from calm to brutal, so that
// different seeds stress different combinations. During the chaos phase it acts at random
// intervals; HealAll ends every fault; Supervise restarts servers whose program exited.
//
// The fault atlas keeps the run within what the system promises to survive: storage
// corruption (bit flips at rest and on read, misdirected writes) strikes at most
// `corruptible_servers_max` servers per run, chosen up front, and crash-stop keeps fewer than
// half of the servers stopped. docs/simulation.md lists every fault and its parameters.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fault/fault_action.h"
#include "sim/core/world.h"

namespace cairn::fault {

using sim::World;

// Every kind of fault, for the swarm mix and the run summary.
enum class FaultKind {
  kCrashRestart,   // crash a server's process or machine, restart it after a while
  kCrashStop,      // crash a server, leave it down until the faults heal
  kPowerLoss,      // crash every server at once, restart each after a while
  kPause,          // stall a node (a long GC pause), then resume it
  kPartition,      // split the nodes in two, symmetric or one-way, or isolate one
  kClog,           // hold the messages of a link or a node for a while (clog)
  kSwizzle,        // clog a subset of nodes, unclog them in a different order
  kDegrade,        // message loss, duplication and slow, reordering paths for a while
  kClock,          // skew, drift or jump a node's wall clock
  kDiskErrors,     // failing fsyncs and reads, and a slow disk, for a while
  kDiskFull,       // a server's disk fills up for a while
  kCorruption,     // bit flips at rest and on read, misdirected writes (atlas-bounded)
  // Kinds from here on draw their swarm choice from a stream of their own (kFirstDrawKinds).
  kPeerStall,      // hold one server's messages to the other servers (it still hears, and
                   // clients still reach it): a leader that appends but cannot replicate
  kCount,
};
// The kinds whose swarm choice comes from the nemesis's own stream, crash-restart through
// corruption. Kinds added after them draw from a forked stream, so that adding one leaves
// every existing seed's schedule as it was.
inline constexpr int kFirstDrawKinds = static_cast<int>(FaultKind::kCorruption) + 1;
const char* FaultKindName(FaultKind kind);
// The kind named `name` ("crash-restart", ...), if any.
std::optional<FaultKind> FaultKindFromName(std::string_view name);

struct NemesisOptions {
  std::vector<NodeId> servers;  // crashable, with disks that matter
  std::vector<NodeId> nodes;    // every node (servers and clients), for network faults
  size_t corruptible_servers_max = 1;
  // The servers corruption may be chosen among; empty: every server.
  std::vector<NodeId> corruptible_candidates;
  // The bound on how far a node's clocks may run fast or slow (parts per million). Leases
  // must allow for it (their margin assumes this bound).
  int64_t clock_drift_ppm_max = 50'000;
  bool enabled = true;  // false: a quiet run (no faults at all)
  std::optional<std::vector<FaultKind>> kinds;  // exactly these; unset: the seed picks (swarm)
  // The kinds the swarm picks among (a workload of one node has no use for partitions); unset: all.
  std::optional<std::vector<FaultKind>> swarm_kinds;
  Duration mean_gap{0};                         // between faults; 0: the seed picks
  // Replay: apply exactly these actions (at their times) instead of deciding any.
  std::optional<std::vector<FaultAction>> script;
  // Record: every action applied is appended here.
  std::vector<FaultAction>* record = nullptr;
};

struct FaultCounts {
  uint64_t by_kind[static_cast<int>(FaultKind::kCount)] = {};
  uint64_t exits_restarted = 0;
  std::vector<std::string> mix;  // the kinds this seed enabled, and its pace
  uint64_t count(FaultKind k) const { return by_kind[static_cast<int>(k)]; }
};

class Nemesis {
 public:
  Nemesis(World& world, NemesisOptions options, FaultCounts& counts);

  // Acts at random intervals until `until`.
  void Start(Instant until);
  // Ends every fault: links restored, clogs and disk faults cleared, every server running.
  void HealAll();
  // Restarts, every 500 ms until `until`, any server whose program exited.
  void Supervise(Instant until);

 private:
  void ScheduleNext();
  void ScheduleScripted(size_t next);
  void After(Duration d, const char* what, std::function<void()> fn);
  static uint64_t Tiebreak(const char* what, Instant at);
  NodeId AnyServer();
  NodeId AnyNode();
  Duration FaultLength();
  Duration MaybeRestartDuring(Duration fault_length);  // a restart time, or -1: none

  // Draws one action of `kind` from the seeded stream (no effect on the world).
  FaultAction Decide(FaultKind kind);
  // Applies an action, decided now or read from a tape.
  void Apply(const FaultAction& action);
  void RestartUnlessStopped(NodeId n);

  World& world_;
  NemesisOptions options_;
  FaultCounts& counts_;
  Random random_;
  bool enabled_[static_cast<int>(FaultKind::kCount)] = {};
  std::vector<NodeId> corruptible_;  // the atlas: the only servers whose storage may rot
  std::vector<NodeId> stopped_;      // crash-stopped servers, restarted by HealAll
  sim::DiskFaults base_disk_;        // this seed's disk: what crashes do to unsynced writes
  Duration mean_gap_{};
  Instant until_{};
};

}  // namespace cairn::fault
