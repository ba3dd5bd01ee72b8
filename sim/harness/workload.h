// Workload: a named piece of simulated activity the harness runs under the nemesis and checks
// (DESIGN.md, "Workloads"; FoundationDB's workloads are the model). A workload has three
// phases:
//
//   Setup  adds its nodes to the World (servers, clients), says which are servers (crashable,
//          with disks that matter) and how many of them storage corruption may strike;
//   run    the harness starts every node, lets the nemesis strike until the chaos ends, heals
//          every fault and runs the healed phase; the workload's clients record what they did
//          in the history;
//   Check  the invariants over what happened (it may run the World further: a final power
//          loss, a read of everything).
//
// Everything else — seeds, knobs, buggify, faults, tapes, shrinking, sweeps, canaries, the
// trace hash, the summary — is the harness's and the same for every workload. A workload made
// of several systems is one workload whose Setup builds all of them.
//
// Tapes: a client asks the context for its next operation (NextOp) after drawing its own
// choice; replaying a tape the tape's operation replaces it, so a shrunk tape runs the same
// clients with fewer operations.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fault/nemesis.h"
#include "sim/check/history.h"
#include "sim/check/linearizability.h"
#include "sim/check/register_checker.h"
#include "sim/core/world.h"
#include "sim/harness/scenario.h"
#include "src/runtime/runtime.h"
#include "src/runtime/task.h"

namespace cairn::sim {

// A setting of a workload, given as `--set name=value` or under [workload] in a scenario file.
struct WorkloadOption {
  enum class Kind { kInteger, kBoolean };
  std::string name;
  Kind kind = Kind::kInteger;
  std::string default_value;
  int64_t min = 0, max = 0;  // kInteger
  std::string help;
};

// A planted bug the workload's checks must catch.
struct CanaryInfo {
  std::string name;
  std::string bug;  // what it breaks, in a phrase
  // The faults that expose it, when the workload's default mix rarely does; empty: the default.
  std::vector<fault::FaultKind> fault_kinds = {};
  Duration fault_pace{0};
};

// A number a run reports (acknowledged writes, repairs, ...): the summary prints each, and a
// sweep prints their totals, so a change to a workload shows what it did to them.
struct Figure {
  std::string name;
  uint64_t value = 0;
};

class WorkloadContext;

class Workload {
 public:
  virtual ~Workload() = default;
  virtual void Setup(WorkloadContext& ctx) = 0;
  // Called once the nemesis has healed every fault (before the healed phase runs).
  virtual void Healed(WorkloadContext&) {}
  // The workload's checks, liveness included (CheckResult::liveness).
  virtual std::vector<CheckResult> Check(WorkloadContext& ctx) = 0;
  virtual std::vector<Figure> Figures() const { return {}; }
};

struct WorkloadInfo {
  std::string name;
  std::string title;        // "demo register (ABD quorum)", for the summary's first line
  std::string description;  // a few lines for --help
  std::vector<WorkloadOption> options;
  std::vector<CanaryInfo> canaries;
  // The source folders whose Sometimes probes a sweep of this workload should see hold
  // ("src/demo", "src/rpc"): a probe elsewhere cannot be reached by it.
  std::vector<std::string> probe_dirs;
  // The knobs its systems read, by name prefix ("rpc_", "raft_"): the summary lists the seed's
  // values of these only (every knob is drawn either way).
  std::vector<std::string> knob_prefixes;
  // Defaults of a scenario of this workload.
  Duration chaos = std::chrono::seconds(20);
  Duration heal = std::chrono::seconds(10);
  std::vector<fault::FaultKind> fault_kinds;  // empty: the swarm over swarm_kinds
  std::vector<fault::FaultKind> swarm_kinds;  // empty: every kind
  Duration fault_pace{0};
  std::function<std::unique_ptr<Workload>(const Scenario&)> make;
};

// Every workload, in the order `cairn sim` lists them.
const std::vector<const WorkloadInfo*>& Workloads();
const WorkloadInfo* FindWorkload(std::string_view name);

// What a workload sees of the run.
class WorkloadContext {
 public:
  WorkloadContext(World& world, const Scenario& scenario, Instant chaos_end, Instant end);

  World& world;
  const Scenario& scenario;
  const Instant chaos_end;  // the faults heal here
  const Instant end;        // the run ends here
  History history;          // every client operation

  // Declared by Setup. The harness starts `nodes` in this order.
  std::vector<NodeId> servers;  // crashable, with disks that matter
  std::vector<NodeId> nodes;    // every node, servers first
  size_t corruptible_servers_max = 0;
  std::vector<NodeId> corruptible_candidates;  // the servers it is chosen among; empty: all
  std::string nodes_description;  // "3 replicas + 3 clients"

  bool Planted(std::string_view canary) const { return scenario.Planted(canary); }
  // An integer or boolean option of the workload (declared, so always present).
  int64_t Integer(std::string_view option) const;
  bool Boolean(std::string_view option) const;

  // A client's next operation. It draws its own `kind` and `key` first (so a replay keeps
  // every random stream where the recorded run had it); replaying a tape, the tape's next
  // operation for `process` replaces them and the client waits until its recorded time.
  // False when the tape has no more for `process`: the client stops, excused from liveness.
  Task<bool> NextOp(Runtime& rt, int process, OpKind& kind, std::string& key);
  // The processes that take their operations through NextOp (a tape records only theirs).
  const std::set<int>& scripted_processes() const { return scripted_processes_; }

  // Liveness bookkeeping: a process completed an operation now.
  void Completed(int process);
  // Every process of `processes` completed an operation after `since` (or ran out of tape).
  CheckResult Liveness(const std::vector<std::pair<int, std::string>>& processes, Instant since) const;

 private:
  std::map<int, std::vector<ScriptedOp>> script_;  // per process, in order
  std::map<int, size_t> script_next_;
  std::set<int> scripted_processes_;
  std::map<int, Instant> last_ok_;
  std::set<int> out_of_tape_;
};

// The check `linearizable`: the history against `model` (sim/check/linearizability.h). A search
// that spends its budget passes, marked undecided: it found no violation, and proved none absent.
CheckResult LinearizabilityCheck(const History& history, const Model& model, const CheckOptions& options);

}  // namespace cairn::sim
