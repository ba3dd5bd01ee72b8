// Scenario files: a simulation spec a person can read and write.
//
//   # Lines are `key = value` under a [section]; `#` starts a comment.
//   [workload]
//   name = register              # which workload (`cairn sim workloads` lists them)
//   keys = 4                     # any option of that workload (its defaults otherwise)
//   [cluster]
//   replicas = 3                 # options that size the cluster may stand here instead
//   [time]
//   chaos_ms = 20000             # operations under faults
//   heal_ms = 10000              # then every fault heals; clients go on (liveness)
//   [faults]
//   kinds = default              # default (the workload's), swarm (the seed picks), none,
//                                # or a list: partition, clog, ...
//   pace_ms = 0                  # mean time between faults; 0: the seed picks
//   [knobs]
//   randomize = true             # draw knobs within their simulation ranges per seed
//   rpc_attempts_max = 3         # any knob: a fixed value (after randomization)
//   [buggify]
//   enabled = true
//   [canaries]
//   plant = ack-before-fsync     # the workload's planted bugs, comma-separated
//
// Every key is optional; unknown sections, keys and values are errors that name the line.
// The checks are always all of the workload's (docs/simulation.md). Reading the file is the caller's
// business (sim/ does no IO): this parses its text.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "sim/harness/scenario.h"

namespace cairn::sim {

absl::StatusOr<Scenario> ParseScenario(std::string_view text, std::string_view source_name);

// The scenario as file text that ParseScenario reads back to the same settings.
std::string FormatScenario(const Scenario& scenario);

}  // namespace cairn::sim
