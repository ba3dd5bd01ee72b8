// The demo scenario: the replicated register (src/demo) under chaos, checked.
//
// N replicas and C clients in one World. During the chaos phase clients read and write a few
// keys while a seeded nemesis crashes replicas (one at a time, or all at once as in a power
// loss), partitions the network (symmetric, one-way, isolating a node), degrades it (loss,
// duplication, slow messages), skews clocks and fails fsyncs. Which of those a seed uses, and
// how hard, is itself drawn from the seed (swarm testing). Then every fault heals and the
// clients go on: each must complete operations again (liveness). Finally the register checks
// run over the whole history. `cairn sim run` prints the summary; the seed replays it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include <string>
#include <vector>

#include "fault/nemesis.h"
#include "sim/history.h"
#include "sim/register_checker.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/trace.h"
#include "sim/world.h"
#include "src/runtime/time.h"

namespace cairn::sim {

// An explicit schedule: the faults to apply and the operations each client performs, in
// place of the seeded choices (a tape, sim/tape.h). `at` of an operation is when the recorded
// run invoked it; replay keeps only the order.
struct ScriptedOp {
  int client = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  Instant at{};
};
struct DemoScript {
  std::vector<fault::FaultAction> faults;
  std::vector<ScriptedOp> ops;
};

struct DemoScenario {
  uint64_t seed = 1;
  int replicas = 3;
  int clients = 3;
  int keys = 4;
  Duration chaos = std::chrono::seconds(20);
  Duration heal = std::chrono::seconds(10);
  bool faults = true;           // run the nemesis at all
  std::vector<fault::FaultKind> fault_kinds;  // the faults to use; empty: the seed picks (swarm)
  Duration fault_pace{0};       // mean time between faults; 0: the seed picks
  std::vector<std::string> knob_settings;     // "name=value", applied after randomization
  bool randomize_knobs = true;  // draw knobs within their simulation ranges
  bool buggify = true;          // switch fault points on
  // Planted bugs (canaries) the checks must catch.
  bool canary_ack_before_replicate = false;
  bool canary_ack_before_fsync = false;
  bool canary_ignore_checksum = false;
  bool canary_drop_retry = false;
  bool canary_lease_without_drift_margin = false;
  bool canary_no_lease_check = false;
  // Clients 0 and 1 read key k0 under leases (docs/demo.md, "Leases").
  bool leases = true;
  size_t trace_records_max = 0;
  bool echo_logs = false;

  std::string scenario_file;  // where it was read from, if from a file
  std::shared_ptr<const DemoScript> script;  // a tape's schedule; null: the seed decides
  std::string tape_file;      // where the script was read from

  // The command line that replays this scenario exactly: the seed, the scenario file if any,
  // and every setting that differs from `base` (the file's, or the defaults).
  std::string ReplayCommand(const DemoScenario& base) const;
  std::string ReplayCommand() const { return ReplayCommand(DemoScenario()); }
};

struct DemoResult {
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  Duration simulated{0};
  uint64_t events = 0;
  uint64_t trace_items = 0;
  int nodes = 0;
  fault::FaultCounts faults;
  NetworkStats network;
  DiskStats disk;  // summed over replicas
  std::string knobs;  // knobs that differ from the defaults
  uint64_t buggify_sites_reached = 0, buggify_sites_enabled = 0, buggify_fired = 0;
  History history;
  std::vector<CheckResult> checks;
  bool live = true;  // every client completed an operation after the faults healed
  std::string liveness_detail;
  std::vector<TraceRecord> trace;
  std::vector<fault::FaultAction> faults_applied;  // what the nemesis did, for a tape
  AssertionStats assertions;  // what the Always and Sometimes sites saw
  bool passed() const;
};

DemoResult RunDemoScenario(const DemoScenario& scenario);

// The planted bugs, by the name `--canary` and scenario files use.
struct Canary {
  const char* name;
  bool DemoScenario::*flag;
  const char* bug;  // what it breaks, in a phrase
  // The faults that expose it, when the swarm's mix rarely does (sim/scenarios/clocks.scenario
  // for a lease that ignores drift); empty: the default swarm.
  std::vector<fault::FaultKind> fault_kinds = {};
  Duration fault_pace{0};
};
// The scenario that hunts `canary`: the defaults, the canary planted, its faults.
DemoScenario CanaryHunt(const Canary& canary, uint64_t seed);
const std::vector<Canary>& Canaries();
// Plants the named canary; InvalidArgument (listing the names) for an unknown one.
absl::Status PlantCanary(DemoScenario& scenario, std::string_view name);

// The readable summary of one run.
// `base` is what the replay command is relative to (the scenario file's settings).
std::string FormatDemoSummary(const DemoScenario& scenario, const DemoResult& result,
                              double wall_seconds, const DemoScenario& base = DemoScenario());

}  // namespace cairn::sim
