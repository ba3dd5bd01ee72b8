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
#include <string>
#include <vector>

#include "sim/history.h"
#include "sim/register_checker.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/trace.h"
#include "src/runtime/time.h"

namespace cairn::sim {

struct DemoScenario {
  uint64_t seed = 1;
  int replicas = 3;
  int clients = 3;
  int keys = 4;
  Duration chaos = std::chrono::seconds(20);
  Duration heal = std::chrono::seconds(10);
  bool faults = true;           // run the nemesis at all
  bool randomize_knobs = true;  // draw knobs within their simulation ranges
  bool buggify = true;          // switch fault points on
  // Planted bugs (canaries) the checks must catch.
  bool canary_ack_before_replicate = false;
  bool canary_ack_before_fsync = false;
  size_t trace_records_max = 0;
  bool echo_logs = false;

  // The command line that replays this scenario exactly.
  std::string ReplayCommand() const;
};

struct FaultCounts {
  uint64_t crashes = 0, power_losses = 0, partitions = 0, one_way_partitions = 0,
           isolations = 0, degradations = 0, clock_skews = 0, disk_fault_periods = 0,
           exits_restarted = 0;
  std::vector<std::string> mix;  // the kinds of fault this seed enabled (swarm testing)
};

struct DemoResult {
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  Duration simulated{0};
  uint64_t events = 0;
  uint64_t trace_items = 0;
  int nodes = 0;
  FaultCounts faults;
  NetworkStats network;
  DiskStats disk;  // summed over replicas
  std::string knobs;  // knobs that differ from the defaults
  uint64_t buggify_sites_reached = 0, buggify_sites_enabled = 0, buggify_fired = 0;
  History history;
  std::vector<CheckResult> checks;
  bool live = true;  // every client completed an operation after the faults healed
  std::string liveness_detail;
  std::vector<TraceRecord> trace;
  bool passed() const;
};

DemoResult RunDemoScenario(const DemoScenario& scenario);

// The readable summary of one run.
std::string FormatDemoSummary(const DemoScenario& scenario, const DemoResult& result,
                              double wall_seconds);

}  // namespace cairn::sim
