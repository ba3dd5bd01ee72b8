// RunScenario: one simulated run of any workload, the same way for all of them.
//
// Builds the World from the scenario (seed, knobs drawn within their simulation ranges,
// buggify), lets the workload set up its nodes, starts them, runs the nemesis through the chaos
// phase (its mix the workload's default, the seed's swarm or the scenario's; a tape's exact
// actions when replaying), heals every fault, runs the healed phase, and checks: the
// workload's checks and the code's own Always assertions. The result carries what a summary,
// a sweep, a tape and the shrinker need. `cairn sim run` prints it with FormatSummary.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "fault/nemesis.h"
#include "sim/check/history.h"
#include "sim/check/register_checker.h"
#include "sim/core/sim_disk.h"
#include "sim/core/sim_network.h"
#include "sim/core/trace.h"
#include "sim/core/world.h"
#include "sim/harness/scenario.h"
#include "sim/harness/workload.h"

namespace cairn::sim {

struct RunResult {
  std::string workload;
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  Duration simulated{0};
  uint64_t events = 0;
  uint64_t trace_items = 0;
  int nodes = 0;
  std::string nodes_description;
  fault::FaultCounts faults;
  NetworkStats network;
  DiskStats disk;  // summed over the servers
  std::string knobs;  // knobs that differ from the defaults
  uint64_t buggify_sites_reached = 0, buggify_sites_enabled = 0, buggify_fired = 0;
  History history;
  std::set<int> scripted_processes;  // whose operations a tape records
  std::vector<CheckResult> checks;   // the workload's, then always-assertions
  std::vector<Figure> figures;
  std::vector<TraceRecord> trace;
  std::vector<fault::FaultAction> faults_applied;  // what the nemesis did, for a tape
  AssertionStats assertions;  // what the Always and Sometimes sites saw

  bool passed() const;
  bool safe() const;  // every check that is not a liveness check passed
  // The names of the checks that failed, in order.
  std::vector<std::string> FailedChecks() const;
};

RunResult RunScenario(const Scenario& scenario);

// The readable summary of one run. `base` is what the replay command is relative to (the
// scenario file's settings, or the workload's defaults).
std::string FormatSummary(const Scenario& scenario, const RunResult& result, double wall_seconds,
                          const Scenario& base);

// The scenario that hunts `canary` of `workload`: the defaults, the canary planted, its faults.
Scenario CanaryHunt(const WorkloadInfo& workload, const CanaryInfo& canary, uint64_t seed);

}  // namespace cairn::sim
